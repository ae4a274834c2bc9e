"""Portfolio context: positions, account figures and market conditions, with presets.

Units: money in the account currency; ``current_drawdown_pct`` and ``margin_usage_pct``
in **percent** (1.5 means 1.5 %), as the PRD's emergency rules read them;
``volatility_regime``, ``time_of_day_risk``, ``market_stress_level`` and
``liquidity_risk`` in [0, 1] (higher is riskier). A position's ``quantity`` is signed
(negative = short) and its value is ``quantity × current_price × multiplier``.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.validate import integer, real, text

__all__ = ["Position", "PortfolioContext", "TradeRequest", "Preset", "preset", "N_STRATEGIES", "POSITION_COLUMNS"]

#: strategies the portfolio optimizer allocates over (PRD §2.3.1, agent 4)
N_STRATEGIES = 5
#: columns of :meth:`PortfolioContext.positions_frame`
POSITION_COLUMNS = ("position_id", "symbol", "quantity", "entry_price", "current_price", "multiplier",
                    "atr", "time_in_trade_hours", "strategy")


@dataclass(frozen=True)
class Position:
    """One open position.

    Parameters
    ----------
    position_id, symbol : str
    quantity : float
        Signed number of contracts (negative = short), non-zero.
    entry_price, current_price : float
        Prices, > 0.
    multiplier : float, default 1.0
        Currency value of one price point of one contract.
    atr : float, optional
        Average true range in price units; 1 % of the current price when omitted.
    time_in_trade_hours : float, default 0.0
    strategy : int, default 0
        Index of the strategy (0 .. 4) that opened it.
    """

    position_id: str
    symbol: str
    quantity: float
    entry_price: float
    current_price: float
    multiplier: float = 1.0
    atr: float | None = None
    time_in_trade_hours: float = 0.0
    strategy: int = 0

    def __post_init__(self) -> None:
        text("position_id", self.position_id)
        text("symbol", self.symbol)
        q = real("quantity", self.quantity)
        if q == 0:
            raise InputError("quantity", "must be non-zero (negative for a short)", value=self.quantity)
        real("entry_price", self.entry_price, lo=0.0, lo_open=True)
        real("current_price", self.current_price, lo=0.0, lo_open=True)
        real("multiplier", self.multiplier, lo=0.0, lo_open=True)
        if self.atr is not None:
            real("atr", self.atr, lo=0.0)
        real("time_in_trade_hours", self.time_in_trade_hours, lo=0.0)
        integer("strategy", self.strategy, lo=0, hi=N_STRATEGIES - 1)

    @property
    def direction(self) -> int:
        return 1 if self.quantity > 0 else -1

    @property
    def value(self) -> float:
        """Signed market value ``quantity × current_price × multiplier``."""
        return self.quantity * self.current_price * self.multiplier

    @property
    def price_move(self) -> float:
        """Favourable price move per unit since entry (what the stop formula calls unrealised P&L)."""
        return (self.current_price - self.entry_price) * self.direction

    @property
    def unrealized_pnl(self) -> float:
        """Unrealised P&L in currency."""
        return (self.current_price - self.entry_price) * self.quantity * self.multiplier

    @property
    def effective_atr(self) -> float:
        return float(self.atr) if self.atr is not None else 0.01 * self.current_price

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], row: int | None = None) -> Position:
        try:
            kwargs = {k: d[k] for k in ("position_id", "symbol", "quantity", "entry_price", "current_price")}
        except KeyError as exc:
            raise InputError(str(exc.args[0]), "is required for a position", row=row) from None
        for k in ("multiplier", "atr", "time_in_trade_hours", "strategy"):
            v = d.get(k)
            if v is not None and not (isinstance(v, float) and np.isnan(v) and k == "atr"):
                kwargs[k] = v
        try:
            return cls(**kwargs)
        except InputError as exc:
            if row is None:
                raise
            raise InputError(exc.field, exc.detail, value=exc.value, row=row) from None


@dataclass(frozen=True)
class PortfolioContext:
    """Account, positions and market conditions the risk system decides on.

    Parameters
    ----------
    account_equity, initial_capital : float
        Currency, > 0.
    positions : tuple of Position
    current_drawdown_pct, margin_usage_pct : float
        Percent, in [0, 100].
    volatility_regime : float
        Current volatility percentile in [0, 1].
    time_of_day_risk, market_stress_level, liquidity_risk : float
        In [0, 1]; ``liquidity_risk`` is the liquidity assessment score (higher is worse).
    current_volatility, base_volatility : float
        Annualised volatility now and its baseline (the sizing's volatility adjustment).
    price_history : DataFrame, optional
        One column of prices per symbol (for VaR and correlation).
    strategy_volatility, strategy_sharpe : tuple of 5 floats, optional
        Per-strategy annual volatility (> 0) and Sharpe ratio, for the portfolio optimizer.
    """

    account_equity: float = 100_000.0
    initial_capital: float = 100_000.0
    positions: tuple[Position, ...] = ()
    current_drawdown_pct: float = 0.0
    margin_usage_pct: float = 0.0
    volatility_regime: float = 0.5
    time_of_day_risk: float = 0.2
    market_stress_level: float = 0.2
    liquidity_risk: float = 0.0
    current_volatility: float = 0.15
    base_volatility: float = 0.15
    price_history: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    strategy_volatility: tuple[float, ...] | None = None
    strategy_sharpe: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        real("account_equity", self.account_equity, lo=0.0, lo_open=True)
        real("initial_capital", self.initial_capital, lo=0.0, lo_open=True)
        real("current_drawdown_pct", self.current_drawdown_pct, lo=0.0, hi=100.0)
        real("margin_usage_pct", self.margin_usage_pct, lo=0.0, hi=100.0)
        for name in ("volatility_regime", "time_of_day_risk", "market_stress_level", "liquidity_risk"):
            real(name, getattr(self, name), lo=0.0, hi=1.0)
        real("current_volatility", self.current_volatility, lo=0.0, lo_open=True)
        real("base_volatility", self.base_volatility, lo=0.0, lo_open=True)
        if not isinstance(self.positions, tuple):
            object.__setattr__(self, "positions", tuple(self.positions))
        ids = set()
        for i, p in enumerate(self.positions):
            if not isinstance(p, Position):
                raise InputError(f"positions[{i}]", "must be a Position", value=type(p).__name__)
            if p.position_id in ids:
                raise InputError(f"positions[{i}].position_id", "is duplicated", value=p.position_id)
            ids.add(p.position_id)
        for name, lo in (("strategy_volatility", 0.0), ("strategy_sharpe", None)):
            v = getattr(self, name)
            if v is None:
                continue
            v = tuple(v)
            if len(v) != N_STRATEGIES:
                raise InputError(name, f"must have {N_STRATEGIES} values", value=len(v))
            for i, x in enumerate(v):
                real(f"{name}[{i}]", x, lo=lo, lo_open=lo is not None)
            object.__setattr__(self, name, tuple(float(x) for x in v))
        ph = self.price_history
        if ph is not None:
            if not isinstance(ph, pd.DataFrame):
                raise InputError("price_history", "must be a DataFrame with a column per symbol",
                                 value=type(ph).__name__)
            missing = sorted({p.symbol for p in self.positions} - set(map(str, ph.columns)))
            if missing:
                raise InputError("price_history", f"has no column for position symbol {missing[0]!r}",
                                 value=missing[0])

    # -- views ---------------------------------------------------------------------
    @property
    def open_positions(self) -> tuple[Position, ...]:
        return self.positions

    @property
    def symbols(self) -> list[str]:
        """Symbols of the open positions, in first-seen order."""
        return list(dict.fromkeys(p.symbol for p in self.positions))

    def concentration(self) -> float:
        """Largest position's share of gross exposure ``max|v_i| / sum|v_i|`` (0 with no positions)."""
        gross = [abs(p.value) for p in self.positions]
        total = sum(gross)
        return max(gross) / total if total > 0 else 0.0

    def positions_frame(self) -> pd.DataFrame:
        """Positions as a table with :data:`POSITION_COLUMNS` (for editing on a page)."""
        rows = [[getattr(p, c) for c in POSITION_COLUMNS] for p in self.positions]
        df = pd.DataFrame(rows, columns=list(POSITION_COLUMNS))
        return df.astype({"quantity": float, "entry_price": float, "current_price": float, "multiplier": float,
                          "atr": float, "time_in_trade_hours": float, "strategy": int})

    def replace(self, **changes: Any) -> PortfolioContext:
        return dataclasses.replace(self, **changes)

    def summary(self) -> pd.DataFrame:
        """Account figures and market conditions, one row each (positions: :meth:`positions_frame`)."""
        keys = ("account_equity", "initial_capital", "current_drawdown_pct", "margin_usage_pct", "volatility_regime",
                "time_of_day_risk", "market_stress_level", "liquidity_risk", "current_volatility", "base_volatility")
        rows = {k: float(getattr(self, k)) for k in keys}
        rows["open_positions"] = float(len(self.positions))
        rows["gross_exposure"] = float(sum(abs(p.value) for p in self.positions))
        return pd.DataFrame({"value": rows}).rename_axis("field")

    def with_positions_frame(self, frame: pd.DataFrame) -> PortfolioContext:
        """A copy whose positions come from an edited table (blank rows skipped; errors name the row)."""
        positions = []
        for i, rec in enumerate(frame.to_dict("records"), start=1):
            if all(v is None or (isinstance(v, float) and np.isnan(v)) or v == "" for v in rec.values()):
                continue
            clean = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in rec.items()}
            positions.append(Position.from_dict(clean, row=i))
        return self.replace(positions=tuple(positions))

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "price_history"}
        d["positions"] = [p.to_dict() for p in self.positions]
        d["strategy_volatility"] = None if self.strategy_volatility is None else list(self.strategy_volatility)
        d["strategy_sharpe"] = None if self.strategy_sharpe is None else list(self.strategy_sharpe)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], price_history: pd.DataFrame | None = None) -> PortfolioContext:
        if not isinstance(d, Mapping):
            raise InputError("portfolio_context", "must be a PortfolioContext or a mapping", value=type(d).__name__)
        kwargs = {k: v for k, v in d.items() if k in {f.name for f in dataclasses.fields(cls)}}
        raw = kwargs.pop("positions", None) or d.get("open_positions") or ()
        if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)):
            raise InputError("positions", "must be a list of positions", value=type(raw).__name__)
        positions = tuple(p if isinstance(p, Position) else Position.from_dict(p, row=i + 1)
                          for i, p in enumerate(raw))
        if price_history is not None:
            kwargs["price_history"] = price_history
        return cls(positions=positions, **kwargs)


# -- presets ---------------------------------------------------------------------------
class Preset(enum.StrEnum):
    CALM = "calm"
    VOLATILE = "volatile"
    CORRELATED_CRASH = "correlated crash"
    MARGIN_SQUEEZE = "margin squeeze"


#: micro futures: (symbol, last price, multiplier, calm daily volatility, asset group)
_INSTRUMENTS = (("MES", 5000.0, 5.0, 0.008, "equity"), ("MNQ", 17500.0, 2.0, 0.010, "equity"),
                ("M2K", 2000.0, 5.0, 0.012, "equity"), ("MGC", 2000.0, 10.0, 0.009, "metal"),
                ("MCL", 80.0, 100.0, 0.018, "energy"))

#: per preset: volatility scale, correlation (same group, other), account figures, positions
_PRESETS: dict[Preset, dict[str, Any]] = {
    # calm is calm: a diversified, partly hedged book within every PRD alert limit (VaR 0.85 % of equity,
    # largest position 28 % of gross exposure, correlation score 0.44); two positions could never be, their
    # larger one is at least half the gross exposure, beyond the 30 % concentration limit.
    Preset.CALM: dict(vol_scale=1.0, rho=(0.75, 0.10), drawdown=0.2, margin=30.0, regime=0.35, tod=0.2,
                      stress=0.15, liq=0.05, equity=101_000.0, cur_vol=0.12,
                      book=(("p1", "MES", 1, -0.004), ("p2", "MGC", 1, 0.003), ("p3", "MCL", 3, 0.002),
                            ("p4", "M2K", -2, -0.002))),
    Preset.VOLATILE: dict(vol_scale=2.5, rho=(0.80, 0.30), drawdown=0.9, margin=55.0, regime=0.85, tod=0.5,
                          stress=0.6, liq=0.35, equity=99_100.0, cur_vol=0.30,
                          book=(("p1", "MES", 2, 0.01), ("p2", "MCL", -1, -0.02))),
    Preset.CORRELATED_CRASH: dict(vol_scale=3.0, rho=(0.96, 0.85), drawdown=1.2, margin=70.0, regime=0.97,
                                  tod=0.6, stress=0.9, liq=0.55, equity=98_800.0, cur_vol=0.45,
                                  book=(("p1", "MES", 1, 0.03), ("p2", "MNQ", 1, 0.035), ("p3", "M2K", 1, 0.04))),
    Preset.MARGIN_SQUEEZE: dict(vol_scale=1.1, rho=(0.75, 0.20), drawdown=1.0, margin=93.0, regime=0.7, tod=0.4,
                                stress=0.5, liq=0.2, equity=99_000.0, cur_vol=0.22,
                                book=(("p1", "MES", 2, 0.005), ("p2", "MGC", 2, -0.006), ("p3", "MCL", 1, 0.01))),
}


def _history(cfg: dict[str, Any], n_days: int, rng: np.random.Generator) -> pd.DataFrame:
    k = len(_INSTRUMENTS)
    same, other = cfg["rho"]
    groups = [g for *_, g in _INSTRUMENTS]
    corr = np.array([[1.0 if i == j else (same if groups[i] == groups[j] else other) for j in range(k)]
                     for i in range(k)])
    vols = np.array([v for *_, v, _ in _INSTRUMENTS]) * cfg["vol_scale"]
    cov = corr * np.outer(vols, vols)
    r = rng.multivariate_normal(np.zeros(k), cov, size=n_days - 1)
    path = np.vstack([np.ones(k), np.cumprod(1.0 + r, axis=0)])
    last = np.array([p for _, p, *_ in _INSTRUMENTS])
    prices = np.round(path / path[-1] * last, 2)
    idx = pd.bdate_range(end="2026-06-30", periods=n_days, name="date")
    return pd.DataFrame(prices, index=idx, columns=[s for s, *_ in _INSTRUMENTS])


def preset(name: Preset | str = Preset.CALM, seed: int | np.random.Generator = 7,
           n_days: int = 260) -> PortfolioContext:
    """A ready-made context: ``calm``, ``volatile``, ``correlated crash`` or ``margin squeeze``.

    Five micro futures (MES, MNQ, M2K, MGC, MCL) with a seeded correlated price history of
    ``n_days`` business days; the preset sets volatility, correlation, drawdown, margin and
    the open book. ``correlated crash`` and ``margin squeeze`` trip emergency rules.
    """
    try:
        key = Preset(name)
    except ValueError:
        raise InputError("preset", f"must be one of {[p.value for p in Preset]}", value=name) from None
    n_days = integer("n_days", n_days, lo=40)
    cfg = _PRESETS[key]
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    hist = _history(cfg, n_days, rng)
    spec = {s: (p, m, v) for s, p, m, v, _ in _INSTRUMENTS}
    positions = []
    for j, (pid, sym, qty, move) in enumerate(cfg["book"]):
        price = float(hist[sym].iloc[-1])
        entry = round(price / (1.0 + move * (1 if qty > 0 else -1)), 2)
        atr = round(price * spec[sym][2] * cfg["vol_scale"] * 1.2, 2)
        positions.append(Position(pid, sym, float(qty), entry, price, spec[sym][1], atr, 4.0 + 6.0 * j, j))
    sv = tuple(0.10 + 0.03 * i for i in range(N_STRATEGIES))
    return PortfolioContext(
        account_equity=cfg["equity"], initial_capital=100_000.0, positions=tuple(positions),
        current_drawdown_pct=cfg["drawdown"], margin_usage_pct=cfg["margin"], volatility_regime=cfg["regime"],
        time_of_day_risk=cfg["tod"], market_stress_level=cfg["stress"], liquidity_risk=cfg["liq"],
        current_volatility=cfg["cur_vol"], base_volatility=0.15, price_history=hist,
        strategy_volatility=sv, strategy_sharpe=(1.2, 0.8, 1.5, 0.3, 1.0))


# -- trade requests ----------------------------------------------------------------------
def _opt_real(d: Mapping[str, Any], key: str, default: Any, **bounds: Any) -> Any:
    if key not in d:
        return default
    v = d[key]
    if v is None:
        raise InputError(key, "must be a number, not None (leave the field out for the default)", value=None)
    return real(key, v, **bounds)


@dataclass(frozen=True)
class TradeRequest:
    """A new trade asking for risk approval (the PRD's NEW_TRADE_REQUEST payload).

    Parameters
    ----------
    symbol : str
    direction : int
        1 long, -1 short.
    base_quantity : int
        Contracts requested, 1 .. 1000. The approval never exceeds it.
    entry_price : float
        > 0.
    strategy_confidence : float, default 0.5
        In [0, 1]; the win probability when ``win_probability`` is not given.
    win_probability : float, optional
    avg_win, avg_loss : float, default 200, 100
        Trade statistics of the strategy in currency (the PRD's Appendix A 2:1 example).
    atr : float, optional
        ATR in price units; 1 % of ``entry_price`` when omitted.
    current_volatility, base_volatility : float, optional
        Default to the portfolio context's.
    multiplier : float, default 1.0
    strategy : int, default 0
    """

    symbol: str
    direction: int
    base_quantity: int
    entry_price: float
    strategy_confidence: float = 0.5
    win_probability: float | None = None
    avg_win: float = 200.0
    avg_loss: float = 100.0
    atr: float | None = None
    current_volatility: float | None = None
    base_volatility: float | None = None
    multiplier: float = 1.0
    strategy: int = 0

    @property
    def p_win(self) -> float:
        return self.strategy_confidence if self.win_probability is None else self.win_probability

    @property
    def effective_atr(self) -> float:
        return float(self.atr) if self.atr is not None else 0.01 * self.entry_price

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_event(cls, data: Any) -> TradeRequest:
        """Validate an event payload (missing fields, wrong types, NaN and None raise InputError)."""
        from riskcore.validate import direction as _direction

        if isinstance(data, TradeRequest):
            return data
        if not isinstance(data, Mapping):
            raise InputError("event_data", "must be a mapping of trade fields", value=type(data).__name__)
        for key in ("symbol", "direction", "base_quantity", "entry_price"):
            if key not in data:
                raise InputError(key, "is required for a NEW_TRADE_REQUEST")
        return cls(
            symbol=text("symbol", data["symbol"]),
            direction=_direction("direction", data["direction"]),
            base_quantity=integer("base_quantity", data["base_quantity"], lo=1, hi=1000),
            entry_price=real("entry_price", data["entry_price"], lo=0.0, lo_open=True),
            strategy_confidence=_opt_real(data, "strategy_confidence", 0.5, lo=0.0, hi=1.0),
            win_probability=_opt_real(data, "win_probability", None, lo=0.0, hi=1.0),
            avg_win=_opt_real(data, "avg_win", 200.0),
            avg_loss=_opt_real(data, "avg_loss", 100.0),
            atr=_opt_real(data, "atr", None, lo=0.0),
            current_volatility=_opt_real(data, "current_volatility", None, lo=0.0, lo_open=True),
            base_volatility=_opt_real(data, "base_volatility", None, lo=0.0, lo_open=True),
            multiplier=_opt_real(data, "multiplier", 1.0, lo=0.0, lo_open=True),
            strategy=integer("strategy", data.get("strategy", 0), lo=0, hi=N_STRATEGIES - 1),
        )
