"""Event-driven risk processing (PRD §3.1.1): :class:`RiskEventProcessor`.

Every event gets a response dict, never an exception: a malformed event (missing fields,
wrong types, NaN, None, unknown event type) is answered with ``status = "error"``,
``approved_quantity = 0`` and the field at fault. The dict is an :class:`EventResponse`
(typed accessors; statuses :class:`TradeStatus` / :class:`ResponseStatus`). Responses follow the PRD:

- ``NEW_TRADE_REQUEST`` → ``status`` (``approved`` / ``approved_reduced`` / ``rejected``),
  ``reason``, ``approved_quantity``, ``risk_scores``, ``stop_loss_price``,
  ``take_profit_price``, ``action_type``;
- ``POSITION_UPDATE`` → ``update_required`` with ``new_stop_loss`` / ``new_take_profit``,
  ``no_update_required`` or ``position_closed`` (quantity 0);
- ``MARKET_DATA_UPDATE`` / ``ACCOUNT_UPDATE`` → ``state_updated`` with the risk state,
  scores, the monitor's ``risk_action`` and ``action_type`` (EMERGENCY when a rule fires);
- ``EMERGENCY_SIGNAL`` → ``emergency_response`` with the PRD's action per emergency type
  (:data:`EMERGENCY_RESPONSES`). An emergency signal also **halts new trades** until
  :meth:`RiskEventProcessor.clear_emergency` (a decision of this library: "emergencies
  override everything").

All responses carry ``processing_time_ms``. The risk state (VaR, correlation) is
recomputed when a state-changing event arrives, so a trade request works on the cached
state and stays within the latency target (a trade's own marginal VaR is not added: the
PRD does not either). The recomputation works on an array copy of the price history
(:class:`~riskcore.portfolio._price_buffer.PriceBuffer`): appending a bar and refitting
the return model no longer goes through pandas, which cost a market-data update 2-30 ms;
the numbers are those of :func:`~riskcore.portfolio.state.compute_risk_state`.

Market data: an update carries ``symbol`` and ``price`` or ``prices`` ({symbol: price});
each update appends one row to the price history, carrying the other symbols' last
prices forward, so send one update per bar for correlation estimates to be meaningful.

Decision log: when a ``store`` is given, each event is buffered as ``(event_type, record,
status, latency_ms)`` and written with ``store.log_decisions`` once ``flush_every``
events have accumulated (after the response is timed), on :meth:`flush` and on leaving a
``with`` block. A failed write keeps the rows for the next flush and is reported in
:attr:`last_flush_error`, never raised into event processing. What is logged of an
event is bounded (:func:`_loggable`: depth, items, string length, values per record;
cycles marked), built when the event arrives; a row that still cannot be serialised is
quarantined or dropped with a ``logging`` warning and counted in ``quarantined_log_rows``,
so one hostile event cannot block the log.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import math
import time
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from riskcore.agents.system import RiskDecision, RiskSystem
from riskcore.errors import InputError
from riskcore.portfolio._price_buffer import PriceBuffer, frame_from_state, frame_to_state, var_and_correlation
from riskcore.portfolio.context import PortfolioContext, Position, TradeRequest, preset
from riskcore.portfolio.liquidity import assess_liquidity
from riskcore.portfolio.state import RISK_FEATURES, RiskState, RollingZScore, compute_risk_state, state_from_measures
from riskcore.validate import integer, real, text

_LOG = logging.getLogger(__name__)

__all__ = ["EventType", "EmergencyType", "EMERGENCY_RESPONSES", "RiskEventProcessor", "EventResponse", "TradeStatus",
           "ResponseStatus"]


class EventType(enum.StrEnum):
    NEW_TRADE_REQUEST = "NEW_TRADE_REQUEST"
    POSITION_UPDATE = "POSITION_UPDATE"
    MARKET_DATA_UPDATE = "MARKET_DATA_UPDATE"
    ACCOUNT_UPDATE = "ACCOUNT_UPDATE"
    EMERGENCY_SIGNAL = "EMERGENCY_SIGNAL"


class EmergencyType(enum.StrEnum):
    MARKET_CRASH = "MARKET_CRASH"
    LIQUIDITY_CRISIS = "LIQUIDITY_CRISIS"
    TECHNICAL_FAILURE = "TECHNICAL_FAILURE"
    MARGIN_CALL = "MARGIN_CALL"
    UNKNOWN = "UNKNOWN"


class TradeStatus(enum.StrEnum):
    """Decision on a NEW_TRADE_REQUEST (``response["status"]``)."""

    APPROVED = "approved"
    APPROVED_REDUCED = "approved_reduced"
    REJECTED = "rejected"


class ResponseStatus(enum.StrEnum):
    """``response["status"]`` of the other events, and of an event that could not be processed."""

    UPDATE_REQUIRED = "update_required"
    NO_UPDATE_REQUIRED = "no_update_required"
    POSITION_CLOSED = "position_closed"
    STATE_UPDATED = "state_updated"
    EMERGENCY_RESPONSE = "emergency_response"
    ERROR = "error"


class EventResponse(dict):
    """The answer to one event: the documented response dict, with typed accessors.

    It *is* that dict (a ``dict`` subclass: indexing, ``json.dumps``, ``==`` with a plain
    dict and the decision log see exactly the PRD's keys, module docstring), so callers that
    read ``r["status"]`` keep working; new code reads :attr:`status`,
    :attr:`approved_quantity` and the other properties. The status values are plain
    strings in the dict, the members of :class:`TradeStatus` / :class:`ResponseStatus`
    through :attr:`status`.
    """

    __slots__ = ()

    @property
    def status(self) -> TradeStatus | ResponseStatus:
        raw = self["status"]
        return TradeStatus(raw) if raw in TradeStatus._value2member_map_ else ResponseStatus(raw)

    @property
    def is_error(self) -> bool:
        """True when the event was malformed (``field`` and ``error`` say why); nothing was approved."""
        return self["status"] == ResponseStatus.ERROR

    @property
    def approved_quantity(self) -> int:
        """Contracts approved (0 for every response but an approved trade)."""
        return int(self.get("approved_quantity") or 0)

    @property
    def reason(self) -> str | None:
        return self.get("reason")

    @property
    def action_type(self) -> str | None:
        return self.get("action_type")

    @property
    def processing_time_ms(self) -> float:
        return float(self["processing_time_ms"])

    def to_dict(self) -> dict[str, Any]:
        """The response as a plain dict (equal to ``self``)."""
        return dict(self)


#: PRD §3.1.1 responses: emergency type → (action, reason). Others → HALT_ALL_TRADING.
EMERGENCY_RESPONSES: dict[EmergencyType, tuple[str, str]] = {
    EmergencyType.MARKET_CRASH: ("CLOSE_ALL_POSITIONS", "Market crash protection activated"),
    EmergencyType.LIQUIDITY_CRISIS: ("HALT_NEW_TRADES", "Liquidity crisis detected"),
    EmergencyType.MARGIN_CALL: ("REDUCE_POSITIONS_BY_50PCT", "Margin call response"),
}
#: largest factor between a symbol's new and last price accepted from market data
MAX_TICK_RATIO = 10.0
#: prices of history the risk state's VaR and correlation use (compute_risk_state's default)
LOOKBACK = 252
#: prices of history an instrument needs before a position on it is accepted (VaR, correlation)
MIN_HISTORY = 30
#: bit generators a snapshot's random stream may name (riskcore.recovery)
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")
_ACCOUNT_FIELDS = ("account_equity", "initial_capital", "current_drawdown_pct", "margin_usage_pct")
_MARKET_FIELDS = ("volatility_percentile", "market_stress_level", "time_of_day_risk", "current_volatility")


#: bounds on what one event contributes to the decision log (see :func:`_loggable`)
LOG_MAX_DEPTH = 12
LOG_MAX_ITEMS = 200
LOG_MAX_STR = 1_000
LOG_MAX_NODES = 4_000


class _Budget:
    __slots__ = ("nodes",)

    def __init__(self, nodes: int):
        self.nodes = nodes


def _short(x: Any, limit: int = 200) -> str:
    """``repr(x)`` cut to ``limit`` characters; a placeholder when repr itself fails."""
    try:
        r = repr(x)
    except Exception:  # a hostile __repr__ (or one that recurses) must not break the log
        return f"<unrepresentable {type(x).__name__}>"
    return _text(r if len(r) <= limit else r[:limit] + f"... [{len(r) - limit} more characters]")


def _text(x: str) -> str:
    """``x`` cut to :data:`LOG_MAX_STR` characters and made UTF-8 encodable (lone surrogates escaped)."""
    t = str(x) if len(x) <= LOG_MAX_STR else x[:LOG_MAX_STR] + f"... [{len(x) - LOG_MAX_STR} more characters]"
    try:
        t.encode("utf-8")
    except UnicodeEncodeError:
        t = t.encode("utf-8", "backslashreplace").decode("utf-8")
    return t


def _loggable(x: Any, depth: int = 0, budget: _Budget | None = None, path: set[int] | None = None) -> Any:
    """Event payloads as bounded plain data for the decision log.

    Rules (each keeps one hostile event from poisoning the log or the store): containers
    deeper than :data:`LOG_MAX_DEPTH` become ``"<truncated: nested deeper than N>"``; a
    container that contains itself becomes ``"<cycle>"``; a container keeps its first
    :data:`LOG_MAX_ITEMS` items plus a count of the rest; a string keeps
    :data:`LOG_MAX_STR` characters; a record has at most :data:`LOG_MAX_NODES` values
    (then ``"<truncated>"``); non-finite floats and anything unusual become their
    (bounded) ``repr``; integers too large for JSON become a note of their size.
    """
    budget = _Budget(LOG_MAX_NODES) if budget is None else budget
    path = set() if path is None else path
    budget.nodes -= 1
    if budget.nodes < 0:
        return "<truncated>"
    if x is None or isinstance(x, bool):
        return x
    if isinstance(x, int):
        return int(x) if x.bit_length() <= 63 else f"<int of {x.bit_length()} bits>"
    if isinstance(x, float):
        return float(x) if math.isfinite(x) else repr(float(x))
    if isinstance(x, str):
        return _text(x)
    if isinstance(x, enum.Enum):
        return _loggable(x.value, depth, budget, path)
    if isinstance(x, np.generic):
        return _loggable(x.item(), depth, budget, path)
    if isinstance(x, np.ndarray) and x.ndim <= 2 and x.size <= LOG_MAX_ITEMS:
        return _loggable(x.tolist(), depth, budget, path)
    container = isinstance(x, (Mapping, list, tuple, set, frozenset))
    if container or (hasattr(x, "to_dict") and not isinstance(x, (pd.DataFrame, pd.Series))):
        if id(x) in path:
            return "<cycle>"
        if depth >= LOG_MAX_DEPTH:
            return f"<truncated: nested deeper than {LOG_MAX_DEPTH}>"
        path.add(id(x))
        try:
            if not container:
                return _loggable(x.to_dict(), depth, budget, path)
            items = list(x.items()) if isinstance(x, Mapping) else list(x)
            extra = len(items) - LOG_MAX_ITEMS
            if isinstance(x, Mapping):
                out: Any = {_text(k if isinstance(k, str) else _short(k, 100)):
                            _loggable(v, depth + 1, budget, path) for k, v in items[:LOG_MAX_ITEMS]}
                if extra > 0:
                    out["<truncated>"] = f"{extra} more items"
            else:
                out = [_loggable(v, depth + 1, budget, path) for v in items[:LOG_MAX_ITEMS]]
                if extra > 0:
                    out.append(f"<truncated: {extra} more items>")
            return out
        finally:
            path.discard(id(x))
    return _short(x)


def _error_text(exc: BaseException) -> str:
    try:
        text = str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"
    except Exception:  # an exception whose __str__ fails (or recurses)
        text = type(exc).__name__
    return text if len(text) <= LOG_MAX_STR else text[:LOG_MAX_STR] + "..."


def _error_response(exc: BaseException) -> dict[str, Any]:
    field = exc.field if isinstance(exc, InputError) and isinstance(exc.field, str) else None
    return {"status": ResponseStatus.ERROR.value, "action": "reject_event", "approved_quantity": 0,
            "error": _error_text(exc), "field": field}


class RiskEventProcessor:
    """Route risk events to the risk system and answer within milliseconds (PRD §3.1.1).

    Parameters
    ----------
    system : RiskSystem, optional
        Default: rule-based agents and critic with the default limits.
    context : PortfolioContext, optional
        Starting portfolio; default the ``calm`` preset.
    store : riskcore.store.Store, optional
        Where decisions are logged (none when omitted).
    n_simulations : int, default 1000
        Monte Carlo paths of the state's VaR on each state update.
    seed : int or Generator, default 0
    flush_every : int, default 100
        Buffered log rows that trigger a write.
    normalizer : RollingZScore, optional
        Rolling z-score of the state handed to learned policies (a fresh one by default).
    max_buffer : int, default 100000
        Most log rows held while the store is failing (the oldest are dropped and counted).
    policy_source : PolicySource, LoadedTeam, Team or "rules", optional
        Where the agents of the default system come from (the rules unless given; see
        :class:`~riskcore.agents.learned.PolicySource`); with ``system`` given, it must be omitted.
        Each logged decision records the source (``policy``) and, for learned agents, their
        action distributions.
    incremental : bool, default True
        Keep the price history as an array and compute the risk state from it (the fast
        path, :mod:`riskcore.portfolio._price_buffer`); ``False`` recomputes everything
        from the history DataFrame on each event, the straightforward reference the fast
        path is tested to match number for number. A history whose columns are not unique
        strings or not all float64 always takes the reference path.

    Examples
    --------
    >>> p = RiskEventProcessor()
    >>> r = p.process_risk_event("NEW_TRADE_REQUEST", {"symbol": "MES", "direction": 1, "base_quantity": 2,
    ...                                                "entry_price": 5000.0, "strategy_confidence": 0.6})
    >>> r["status"], r["approved_quantity"]
    ('approved', 2)
    """

    def __init__(self, system: RiskSystem | None = None, context: PortfolioContext | None = None, store: Any = None,
                 *, n_simulations: int = 1000, seed: int | np.random.Generator = 0, flush_every: int = 100,
                 normalizer: RollingZScore | None = None, max_buffer: int = 100_000, incremental: bool = True,
                 policy_source: Any = None):
        if system is not None and policy_source is not None:
            raise InputError("policy_source", "give either a system or a policy source (the system has its own)")
        self.system = system or RiskSystem(policy_source=policy_source)
        ctx = context if context is not None else preset("calm")
        if not isinstance(ctx, PortfolioContext):
            ctx = PortfolioContext.from_dict(ctx)
        self.store = store
        self.n_simulations = integer("n_simulations", n_simulations, lo=100)
        self.flush_every = integer("flush_every", flush_every, lo=1)
        self._rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.normalizer = normalizer or RollingZScore()
        self.processing_times: deque[float] = deque(maxlen=10_000)
        self._buffer: deque[tuple[str, dict[str, Any], str | None, float]] = deque(maxlen=max_buffer)
        self.dropped_log_rows = 0
        self.quarantined_log_rows = 0
        self.last_flush_error: str | None = None
        self.halted: EmergencyType | None = None
        self.last_decision: RiskDecision | None = None
        self._volume: dict[str, list[float]] = {}
        self._spread: dict[str, list[float]] = {}
        self._handlers = {
            EventType.NEW_TRADE_REQUEST: self._on_trade,
            EventType.POSITION_UPDATE: self._on_position,
            EventType.MARKET_DATA_UPDATE: self._on_market,
            EventType.ACCOUNT_UPDATE: self._on_account,
            EventType.EMERGENCY_SIGNAL: self._on_emergency,
        }
        # the array history behind the fast path (None: recompute from the DataFrame, the reference)
        self._prices = PriceBuffer.from_frame(ctx.price_history) if incremental else None
        self._set_context(ctx)

    # -- state -------------------------------------------------------------------------
    @property
    def context(self) -> PortfolioContext:
        return self._context

    @property
    def risk_state(self) -> RiskState:
        return self._state

    def _set_context(self, ctx: PortfolioContext, prices: PriceBuffer | None = None) -> None:
        """Make ``ctx`` current with its risk state; on an error nothing changes (``prices``: its new history)."""
        prices = self._prices if prices is None else prices
        if prices is None:
            state = compute_risk_state(ctx, n_simulations=self.n_simulations, seed=self._rng)  # may raise
        else:  # the same numbers from the array history, without pandas on the hot path
            var, corr, corr_df = 0.0, 0.0, None
            if ctx.positions and ctx.price_history is not None:
                with np.errstate(all="ignore"):  # overflow is caught by the finiteness check
                    var, corr, corr_df = var_and_correlation(ctx.positions, prices, self.n_simulations, self._rng,
                                                             LOOKBACK)
            state = state_from_measures(ctx, var, corr, corr_df)  # may raise: nothing set
        self._context, self._state, self._prices = ctx, state, prices
        with np.errstate(all="ignore"):  # extreme but finite states clip at ±clip
            self._normalized = self.normalizer.update(state.vector)

    def clear_emergency(self) -> None:
        """Lift the trading halt set by an EMERGENCY_SIGNAL."""
        self.halted = None

    # -- snapshot (riskcore.recovery) -------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        """What later events depend on, as plain data and arrays (:mod:`riskcore.recovery` stores it).

        The portfolio context, its price history and the array window, the cached risk state
        (vector, VaR, concentration, correlation matrix), the normaliser's window, the random
        stream of the VaR simulation, the trading halt and the liquidity windows. Not included:
        the policies and critic (the snapshot names them), the unflushed decision-log rows
        (:meth:`flush` first), latency statistics and the last decision object.
        """
        st, corr = self._state, self._state.correlation
        return {
            "context": self._context.to_dict(),
            "price_history": frame_to_state(self._context.price_history),
            "price_buffer": None if self._prices is None else self._prices.to_state(),
            "risk_state": {"vector": st.vector.copy(), "var_currency": float(st.var_currency),
                           "concentration": float(st.concentration),
                           "correlation": None if corr is None else {
                               "symbols": [str(c) for c in corr.columns], "matrix": corr.to_numpy(dtype=float)}},
            "normalizer": self.normalizer.state_dict(),
            "normalized": np.asarray(self._normalized, dtype=np.float64).copy(),
            "rng": self._rng.bit_generator.state,
            "n_simulations": self.n_simulations, "flush_every": self.flush_every, "max_buffer": self._buffer.maxlen,
            "halted": None if self.halted is None else self.halted.value,
            "volume": {k: list(v) for k, v in self._volume.items()},
            "spread": {k: list(v) for k, v in self._spread.items()},
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], *, system: RiskSystem | None = None,
                   store: Any = None) -> RiskEventProcessor:
        """A processor that continues where the one that wrote ``state`` (:meth:`to_state`) stopped."""
        ctx = PortfolioContext.from_dict(state["context"], price_history=frame_from_state(state["price_history"]))
        rs = state["risk_state"]
        norm = state["normalizer"]
        normalizer = RollingZScore(norm["window"], norm["min_periods"], norm["clip"], norm["n_features"])
        normalizer.load_state_dict(norm)
        out = cls(system, ctx, store, n_simulations=state["n_simulations"], flush_every=state["flush_every"],
                  max_buffer=state["max_buffer"], incremental=state["price_buffer"] is not None)
        rng = state["rng"]
        if rng.get("bit_generator") not in _BIT_GENERATORS:
            raise InputError("rng.bit_generator", f"must be one of {list(_BIT_GENERATORS)}",
                             value=rng.get("bit_generator"))
        bits = getattr(np.random, rng["bit_generator"])()
        bits.state = rng
        corr = rs["correlation"]
        corr_df = None if corr is None else pd.DataFrame(np.asarray(corr["matrix"], dtype=np.float64),
                                                         index=pd.Index(corr["symbols"]),
                                                         columns=pd.Index(corr["symbols"]))
        # what the constructor computed is replaced by the saved state, which includes the random stream
        out._rng = np.random.Generator(bits)
        out._prices = None if state["price_buffer"] is None else PriceBuffer.from_state(state["price_buffer"])
        out._state = RiskState(np.asarray(rs["vector"], dtype=np.float64), float(rs["var_currency"]),
                               float(rs["concentration"]), corr_df)
        out.normalizer = normalizer
        out._normalized = np.asarray(state["normalized"], dtype=np.float64)
        out.halted = None if state["halted"] is None else EmergencyType(state["halted"])
        out._volume = {str(k): [float(x) for x in v] for k, v in state["volume"].items()}
        out._spread = {str(k): [float(x) for x in v] for k, v in state["spread"].items()}
        return out

    # -- entry point ---------------------------------------------------------------------
    def process_risk_event(self, event_type: EventType | str, event_data: Mapping[str, Any] | None) -> EventResponse:
        """Handle one event and return the response (never raises): an :class:`EventResponse`, the response dict.

        Whatever the payload (self-referencing, nested thousands deep, hostile ``repr``),
        the answer is a response dict and the decision log keeps working: the row logged for
        the event is bounded by :func:`_loggable`, and a row that cannot be made loggable is
        quarantined with its reason (:attr:`quarantined_log_rows`, ``logging`` warning).
        """
        start = time.perf_counter()
        decision = None
        etype_name: Any = event_type
        try:
            etype_name = getattr(event_type, "value", event_type)
            try:
                etype = EventType(event_type)
            except (ValueError, TypeError):
                raise InputError("event_type", f"must be one of {[e.value for e in EventType]}",
                                 value=_short(event_type, 100)) from None
            etype_name = etype.value
            if not isinstance(event_data, Mapping):
                raise InputError("event_data", "must be a mapping", value=type(event_data).__name__)
            response, decision = self._handlers[etype](event_data)
        except Exception as exc:  # never raise into the event loop; never approve on failure
            response = _error_response(exc)
        response = EventResponse(response)
        elapsed = (time.perf_counter() - start) * 1000.0
        self.processing_times.append(elapsed)
        response["processing_time_ms"] = elapsed
        if decision is not None:
            self.last_decision = decision
        if self.store is not None:
            self._log(etype_name, event_data, response, decision, elapsed)
        return response

    # -- handlers --------------------------------------------------------------------------
    def _decide(self, trade: TradeRequest | None = None) -> RiskDecision:
        return self.system.process_risk_decision(self._state.vector, self._context, trade,
                                                 normalized_state=self._normalized)

    def _on_trade(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], RiskDecision | None]:
        trade = TradeRequest.from_event(data)
        if self.halted is not None:
            return {"status": TradeStatus.REJECTED.value,
                    "reason": f"trading halted by emergency signal {self.halted.value}",
                    "approved_quantity": 0, "action_type": "EMERGENCY", "stop_loss_price": None,
                    "take_profit_price": None, "risk_scores": None}, None
        d = self._decide(trade)
        base = {"risk_scores": d.risk_scores, "action_type": d.action_type.value}
        if d.is_emergency:
            return {"status": TradeStatus.REJECTED.value,
                    "reason": "emergency_risk_conditions: " + ", ".join(d.emergency.conditions),
                    "approved_quantity": 0, "stop_loss_price": None, "take_profit_price": None,
                    "emergency_action": d.emergency.recommended_action.value, **base}, d
        n = int(d.position_size or 0)
        if n == 0:
            status, reason = TradeStatus.REJECTED, d.size_reason
        elif n < trade.base_quantity:
            status, reason = TradeStatus.APPROVED_REDUCED, f"Risk-adjusted from {trade.base_quantity} to {n} contracts"
        else:
            status, reason = TradeStatus.APPROVED, "Risk assessment passed"
        return {"status": status.value, "reason": reason, "approved_quantity": n,
                "stop_loss_price": d.stop_loss_price if n else None,
                "take_profit_price": d.take_profit_price if n else None,
                "risk_action": d.risk_action.name, **base}, d

    def _on_position(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], RiskDecision | None]:
        pid = text("position_id", data.get("position_id"))
        for key in ("symbol", "quantity", "current_price"):
            if key not in data:
                raise InputError(key, "is required for a POSITION_UPDATE")
        symbol = text("symbol", data["symbol"])
        qty = real("quantity", data["quantity"])
        price = real("current_price", data["current_price"], lo=0.0, lo_open=True)
        existing = {p.position_id: p for p in self._context.positions}
        old = existing.get(pid)
        if qty == 0:
            if old is None:
                raise InputError("position_id", "is not an open position", value=pid)
            self._set_context(self._context.replace(positions=tuple(p for p in existing.values() if p is not old)))
            return {"status": ResponseStatus.POSITION_CLOSED.value, "position_id": pid}, self._decide()
        if old is None and "entry_price" not in data:
            raise InputError("entry_price", "is required for a new position", value=None)
        fields = {"position_id": pid, "symbol": symbol, "quantity": qty, "current_price": price,
                  "entry_price": data["entry_price"] if "entry_price" in data else old.entry_price,
                  "multiplier": data.get("multiplier", old.multiplier if old else 1.0),
                  "atr": data.get("atr", old.atr if old else None),
                  "time_in_trade_hours": data.get("time_in_trade_hours", old.time_in_trade_hours if old else 0.0),
                  "strategy": data.get("strategy", old.strategy if old else 0)}
        for k in ("multiplier", "time_in_trade_hours", "strategy"):
            if fields[k] is None:
                raise InputError(k, "must not be None", value=None)
        pos = Position(**fields)
        ph = self._context.price_history
        if ph is not None and self._history_count(symbol) < MIN_HISTORY:
            raise InputError("symbol", f"needs at least {MIN_HISTORY} prices of history before a position is "
                             "opened (send MARKET_DATA_UPDATE bars first)", value=symbol)
        new = dict(existing)
        new[pid] = pos
        self._set_context(self._context.replace(positions=tuple(new.values())))
        d = self._decide()
        upd = d.stop_target_updates[pid]
        cur_stop, cur_target = data.get("current_stop"), data.get("current_target")
        if cur_stop is not None:
            real("current_stop", cur_stop)
        if cur_target is not None:
            real("current_target", cur_target)
        if cur_stop == upd["stop_loss"] and cur_target == upd["take_profit"]:
            return {"status": ResponseStatus.NO_UPDATE_REQUIRED.value, "position_id": pid,
                    "action_type": d.action_type.value}, d
        return {"status": ResponseStatus.UPDATE_REQUIRED.value, "position_id": pid, "new_stop_loss": upd["stop_loss"],
                "new_take_profit": upd["take_profit"], "reason": upd["reason"],
                "action_type": d.action_type.value}, d

    def _state_response(self, d: RiskDecision) -> dict[str, Any]:
        out = {"status": ResponseStatus.STATE_UPDATED.value, "action_type": d.action_type.value,
               "risk_scores": d.risk_scores,
               "risk_action": d.risk_action.name, "execution_priority": d.execution_priority,
               "risk_state": dict(zip(RISK_FEATURES, map(float, d.state), strict=True))}
        if d.is_emergency:
            out["emergency_action"] = d.emergency.recommended_action.value
            out["conditions"] = list(d.emergency.conditions)
        return out

    def _on_market(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], RiskDecision | None]:
        if "prices" in data:
            prices = data["prices"]
            if not isinstance(prices, Mapping) or not prices:
                raise InputError("prices", "must be a non-empty mapping of symbol to price", value=prices)
        elif "symbol" in data and "price" in data:
            prices = {data["symbol"]: data["price"]}
        else:
            raise InputError("price", "a MARKET_DATA_UPDATE needs symbol and price, or prices")
        clean = {text("symbol", s): real(f"prices[{s}]", p, lo=0.0, lo_open=True) for s, p in prices.items()}
        ph = self._context.price_history
        if ph is not None:  # data-integrity check (PRD §6.2.2): a bad tick must not poison VaR and correlation
            for s, p in clean.items():
                last = self._last_price(s)
                if last is not None and not (1.0 / MAX_TICK_RATIO <= p / last <= MAX_TICK_RATIO):
                    raise InputError(f"prices[{s}]", f"moves from {last:g} by more than a factor "
                                     f"{MAX_TICK_RATIO:g}: rejected as a bad tick", value=p)
        changes: dict[str, Any] = {}
        for key in _MARKET_FIELDS:
            if key in data:
                v = real(key, data[key], lo=0.0, hi=None if key == "current_volatility" else 1.0,
                         lo_open=key == "current_volatility")
                changes["volatility_regime" if key == "volatility_percentile" else key] = v
        if any(k in data for k in ("volume", "spread", "market_depth")):
            sym = next(iter(clean))
            vol = real("volume", data.get("volume", 0.0), lo=0.0)
            spr = real("spread", data.get("spread", 0.0), lo=0.0)
            # without a depth figure the depth term is neutral (depth at the PRD's minimum)
            depth = real("market_depth", data["market_depth"], lo=0.0) if "market_depth" in data else 100_000.0
            vh, sh = self._volume.setdefault(sym, []), self._spread.setdefault(sym, [])
            liq = assess_liquidity(vol, spr, depth, vh or None, sh or None)
            vh.append(vol)
            sh.append(spr)
            del vh[:-20], sh[:-20]
            changes["liquidity_risk"] = liq.score
        prices = None
        if self._prices is not None:  # one row written into a copy of the array history (kept only on success)
            prices = self._prices.copy()
            prices.append(clean)
            ph = prices.frame()
        elif ph is None:
            ph = pd.DataFrame({s: [p] for s, p in clean.items()})
        else:
            last = ph.iloc[-1].to_dict()
            last.update(clean)
            row = pd.DataFrame([last], columns=list(dict.fromkeys([*map(str, ph.columns), *clean])))
            ph = pd.concat([ph.iloc[-500:], row], ignore_index=True)
        # dataclasses.replace re-validates like Position(**...) without the deep copy of asdict()
        positions = tuple(dataclasses.replace(p, current_price=clean[p.symbol]) if p.symbol in clean else p
                          for p in self._context.positions)
        self._set_context(self._context.replace(price_history=ph, positions=positions, **changes), prices)
        d = self._decide()
        return self._state_response(d), d

    def _history_count(self, symbol: str) -> int:
        if self._prices is not None:
            return self._prices.count(symbol)
        ph = self._context.price_history
        return int(ph[symbol].notna().sum()) if symbol in ph.columns else 0

    def _last_price(self, symbol: str) -> float | None:
        if self._prices is not None:
            return self._prices.last(symbol)
        ph = self._context.price_history
        return ph[symbol].dropna().iloc[-1] if symbol in ph.columns and ph[symbol].notna().any() else None

    def _on_account(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], RiskDecision | None]:
        changes = {k: data[k] for k in _ACCOUNT_FIELDS if k in data}
        if not changes:
            raise InputError("event_data", f"an ACCOUNT_UPDATE needs at least one of {list(_ACCOUNT_FIELDS)}")
        for k, v in changes.items():
            if v is None:
                raise InputError(k, "must be a number, not None", value=None)
        self._set_context(self._context.replace(**changes))
        d = self._decide()
        return self._state_response(d), d

    def _on_emergency(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], RiskDecision | None]:
        raw = data.get("emergency_type", "UNKNOWN")
        if not isinstance(raw, str):
            raise InputError("emergency_type", f"must be one of {[e.value for e in EmergencyType]}", value=raw)
        try:
            etype = EmergencyType(raw.upper())
        except ValueError:
            etype = EmergencyType.UNKNOWN
        severity = data.get("severity", "HIGH")
        action, reason = EMERGENCY_RESPONSES.get(etype, ("HALT_ALL_TRADING", f"Unknown emergency: {raw}"))
        if etype is EmergencyType.TECHNICAL_FAILURE:
            reason = "Technical failure: all trading halted"
        self.halted = etype
        return {"status": ResponseStatus.EMERGENCY_RESPONSE.value, "action": action, "reason": reason,
                "emergency_type": etype.value,
                "severity": str(severity), "execution_priority": "IMMEDIATE", "approved_quantity": 0,
                "action_type": "EMERGENCY"}, None

    # -- decision log -------------------------------------------------------------------------
    def _log(self, event_type: Any, data: Any, response: dict[str, Any], decision: RiskDecision | None,
             latency: float) -> None:
        """Buffer the event's log row in its stored form, then flush when due (never raises).

        The event and response are made loggable here, at once (a later change to the
        caller's dict cannot alter what is logged, and a hostile payload is bounded before
        it reaches the buffer); the decision is our own frozen object, serialised at flush.
        """
        status = response.get("status")
        etype = event_type if isinstance(event_type, str) and len(event_type) <= 64 else _short(event_type, 64)
        try:
            rec: dict[str, Any] = {"received_at": time.time(), "event": _loggable(data),
                                   "response": _loggable(response), "decision": decision}
        except Exception as exc:  # e.g. a to_dict() that raises: keep that the event happened, not its payload
            reason = _error_text(exc)
            self.quarantined_log_rows += 1
            _LOG.warning("decision log: %s payload quarantined (%s)", etype, reason)
            rec = {"received_at": time.time(), "event": {"_quarantined": f"payload not loggable: {reason}"},
                   "response": {"status": str(status)}, "decision": None}
        if len(self._buffer) == self._buffer.maxlen:
            self.dropped_log_rows += 1
        self._buffer.append((etype, rec, status, latency))
        if len(self._buffer) >= self.flush_every:
            self.flush()

    @staticmethod
    def _stored_form(rec: dict[str, Any]) -> dict[str, Any]:
        record = {"received_at": datetime.fromtimestamp(rec["received_at"], UTC).isoformat(),
                  "event": rec["event"], "response": rec["response"]}
        d: RiskDecision | None = rec["decision"]
        if d is not None:
            dd = _loggable(d.to_dict())
            record.update(state=dd["state"], agents=dd["agents"], critic_scores=dd["risk_scores"],
                          policy=dd.get("policy_source"), agent_distributions=dd.get("distributions", {}),
                          final_decision={k: v for k, v in dd.items()
                                          if k not in ("state", "agents", "policy_source", "distributions")})
        return record

    def flush(self) -> int:
        """Write buffered decisions to the store; returns the number written (0 on failure, never raises).

        A row that cannot be serialised is dropped with a logged reason (counted in
        :attr:`quarantined_log_rows`) so that it cannot block the others; a failed write
        keeps the rows for the next flush (:attr:`last_flush_error`).
        """
        if self.store is None or not self._buffer:
            return 0
        rows, kept = [], []
        for item in list(self._buffer):
            etype, rec, status, lat = item
            try:
                record = self._stored_form(rec)
                # what the store does with it (plain data only, so its codec adds nothing): fail here, not there
                json.dumps(record, allow_nan=True, ensure_ascii=False).encode("utf-8")
            except Exception as exc:
                self.quarantined_log_rows += 1
                _LOG.warning("decision log: %s row dropped, not serialisable (%s)", etype, _error_text(exc))
                continue
            rows.append((etype, record, status, lat))
            kept.append(item)
        try:
            if rows:
                self.store.log_decisions(rows)
        except Exception as exc:  # keep the (good) rows; report, never raise into event processing
            self._buffer = deque(kept, maxlen=self._buffer.maxlen)
            self.last_flush_error = _error_text(exc)
            return 0
        self._buffer.clear()
        self.last_flush_error = None
        return len(rows)

    def __enter__(self) -> RiskEventProcessor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()

    # -- latency ------------------------------------------------------------------------------
    def latency_summary(self) -> pd.DataFrame:
        """Count, mean, p50, p95, p99 and max of ``processing_time_ms`` so far."""
        t = np.asarray(self.processing_times, dtype=float)
        if t.size == 0:
            return pd.DataFrame({"value": {"count": 0}})
        return pd.DataFrame({"value": {"count": t.size, "mean_ms": t.mean(), "p50_ms": np.percentile(t, 50),
                                       "p95_ms": np.percentile(t, 95), "p99_ms": np.percentile(t, 99),
                                       "max_ms": t.max()}})
