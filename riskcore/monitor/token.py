"""Real-time risk monitor of a stable token (seed 000 ``RealTimeRiskMonitor``, SPEC.md §3).

Per tick the monitor takes the price and the token's state (liquidity pool, network health), and

1. appends the simple return to a fixed window (a ring buffer, ``window`` returns);
2. computes the ensemble VaR of the window at 95 / 99 / 99.7 % with the :mod:`riskcore.var` measure
   kernels, and converts it to **price terms**, ``price × (1 − VaR)`` (SPEC §3: a price level is
   compared with a price level, never with a return quantile — defect 7 of SPEC §4);
3. computes the 10-tick volatility, the :func:`stability_score` and the :class:`RiskLevel`;
4. runs the seed's alert table through an :class:`~riskcore.monitor.alerts.AlertEngine` (new alerts
   only, cleared when back within the limit).

Decisions where the seed and SPEC are silent
--------------------------------------------
* **Ensemble per tick.** The historical, parametric, Cornish–Fisher and EVT VaRs are recomputed every
  tick on the window (vectorised/Numba kernels, tens of microseconds). The filtered historical
  simulation (a GARCH fit, tens of milliseconds) and the ensemble weights (out-of-sample backtest
  accuracy, :class:`riskcore.var.EnsembleVaR`) are refreshed every ``refresh_every`` ticks, and while
  the window fills each time it has doubled (30, 60, 120 … returns); between refreshes the FHS value is
  held and the weights are fixed. Until the first refresh succeeds (or
  when it cannot run, e.g. too short a window) the four per-tick methods are weighted equally.
* **Warm-up.** With fewer than ``min_obs`` (30, the seed's minimum) returns the VaR is unknown (NaN):
  VaR alerts are not evaluated and the stability score's VaR component uses the seed's conservative
  default VaR price level of 0.90. The volatility needs ``vol_window`` (10) returns; before that it is
  NaN and the volatility alert is not evaluated (the seed's invented default of 2 % is not used).
* **Volatility** is the sample standard deviation (ddof = 1) of the last 10 simple returns, per tick
  (not annualised), as the seed's 5 % threshold reads it.
* **Stability score** components are clipped to [0, 1] (the seed's VaR component can exceed 1, which
  would give scores above 100); the seed's score also read the *previous* tick's VaR, here it takes
  the current one explicitly.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from operator import attrgetter
from typing import Any

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.monitor.alerts import Alert, AlertEngine, Direction, ResponsePolicy, Severity, Threshold
from riskcore.monitor.stability import (
    RECOMMENDATIONS,
    RISK_FACTOR_RULES,
    RISK_LEVEL_BOUNDS,
    WARMUP_VAR_99_PRICE,
    RiskLevel,
    level_of_score,
    recommendations,
    risk_factors,
    risk_level,
    stability_components,
    stability_score,
    weighted_score,
)
from riskcore.validate import finite, float_array, integer
from riskcore.var.rolling import RollingEnsembleVaR

__all__ = [
    "RiskLevel",
    "stability_score",
    "risk_level",
    "risk_factors",
    "recommendations",
    "TOKEN_THRESHOLDS",
    "TOKEN_RESPONSES",
    "RISK_FACTOR_RULES",
    "RECOMMENDATIONS",
    "CONFIDENCES",
    "TokenSnapshot",
    "TokenRiskReport",
    "TokenMonitor",
    "WARMUP_VAR_99_PRICE",
    "RISK_LEVEL_BOUNDS",
    "sample_std",
]

#: VaR confidence levels of the seed's monitor
CONFIDENCES: tuple[float, ...] = (0.95, 0.99, 0.997)


def sample_std(windows: np.ndarray) -> np.ndarray:
    """Sample standard deviation (ddof = 1) of each row of ``windows`` (T, W) → (T,).

    The one volatility formula of the monitor: the tick path passes one row, the batch path the
    stacked windows of its ticks, so both give the same number to the last bit.
    """
    d = windows - windows.mean(axis=1, keepdims=True)
    return np.sqrt((d * d).sum(axis=1) / (windows.shape[1] - 1))

#: The seed's alert table in price terms (``alert_thresholds`` and ``_check_alert_conditions``),
#: with its fixed severities.
TOKEN_THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("var_95_price", 0.90, Direction.BELOW, Severity.MEDIUM, "var_breach", "VaR 95 % price", fmt=".3f"),
    Threshold("var_99_price", 0.85, Direction.BELOW, Severity.MEDIUM, "var_breach", "VaR 99 % price", fmt=".3f"),
    Threshold("var_997_price", 0.80, Direction.BELOW, Severity.HIGH, "var_breach", "VaR 99.7 % price", fmt=".3f"),
    Threshold("volatility", 0.05, Direction.ABOVE, Severity.MEDIUM, "high_volatility", "Volatility", fmt=".2%"),
    Threshold("liquidity_pool", 100_000.0, Direction.BELOW, Severity.CRITICAL, "low_liquidity", "Liquidity",
              fmt=",.0f"),
    Threshold("network_health", 0.8, Direction.BELOW, Severity.HIGH, "network_degradation", "Network health",
              fmt=".1%"),
)

#: Automatic responses of the token monitor, recorded only. The seed has no automatic responses, only
#: recommendations; the critical one (low liquidity) records its first recommendation as the action.
TOKEN_RESPONSES = ResponsePolicy(
    critical={"liquidity_pool": {"action": "ACTIVATE_EMERGENCY_LIQUIDITY_PROTOCOLS"}},
    critical_default="ESCALATE_TO_RISK_COMMITTEE",
    high_action="INCREASE_MONITORING",
)

@dataclass(frozen=True)
class TokenSnapshot:
    """The monitor's state after one tick (the record the monitor keeps per tick, :meth:`TokenMonitor.frame`).

    VaR fields ``var_95`` … are positive loss fractions; ``var_95_price`` … the price levels
    ``price × (1 − VaR)``. NaN while warming up.
    """

    seq: int
    ts: pd.Timestamp
    price: float
    ret: float
    var_95: float
    var_99: float
    var_997: float
    var_95_price: float
    var_99_price: float
    var_997_price: float
    volatility: float
    liquidity_pool: float
    network_health: float
    price_deviation: float
    stability_score: float
    risk_level: RiskLevel
    n_returns: int
    new_alerts: tuple[Alert, ...] = ()
    latency_us: float = float("nan")

    def metrics(self) -> dict[str, float]:
        """The metrics the alert table and the risk factors read."""
        return {"var_95_price": self.var_95_price, "var_99_price": self.var_99_price,
                "var_997_price": self.var_997_price, "volatility": self.volatility,
                "liquidity_pool": self.liquidity_pool, "network_health": self.network_health,
                "price_deviation": self.price_deviation}

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in ROW_FIELDS}
        d["risk_level"] = str(self.risk_level)
        d["n_new_alerts"] = len(self.new_alerts)
        return d


#: the columns of :meth:`TokenMonitor.frame`: every field of a snapshot but its alerts
ROW_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(TokenSnapshot) if f.name != "new_alerts")
_row_values = attrgetter(*ROW_FIELDS)


@dataclass(frozen=True)
class TokenRiskReport:
    """The seed's ``get_risk_report``: current metrics, alerts, level, factors and recommendations."""

    snapshot: TokenSnapshot | None
    active_alerts: tuple[Alert, ...]
    alert_counts: dict[str, int]
    risk_level: RiskLevel
    risk_factors: tuple[str, ...]
    recommendations: tuple[str, ...]
    ensemble_weights: dict[str, dict[str, float]] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """One column ``value`` indexed by item (metrics, level, counts)."""
        rows: dict[str, Any] = {}
        if self.snapshot is not None:
            rows.update({k: v for k, v in self.snapshot.to_dict().items() if k not in ("ts",)})
        rows["risk_level"] = str(self.risk_level)
        rows.update({f"alerts_{k.lower()}": v for k, v in self.alert_counts.items()})
        rows["risk_factors"] = "; ".join(self.risk_factors)
        rows["recommendations"] = "; ".join(self.recommendations)
        return pd.DataFrame({"value": pd.Series(rows, dtype=object)})

    def to_dict(self) -> dict[str, Any]:
        return {"snapshot": None if self.snapshot is None else self.snapshot.to_dict(),
                "active_alerts": [a.to_record() for a in self.active_alerts],
                "alert_counts": dict(self.alert_counts), "risk_level": str(self.risk_level),
                "risk_factors": list(self.risk_factors), "recommendations": list(self.recommendations),
                "ensemble_weights": self.ensemble_weights}


class TokenMonitor:
    """Tick-by-tick risk monitor of a stable token.

    Parameters
    ----------
    window : int, default 250
        Returns kept for the VaR (a rolling window; at least 30).
    min_obs : int, default 30
        Returns needed before VaR is computed (the seed's minimum).
    vol_window : int, default 10
        Returns in the volatility (the seed's 10-period volatility).
    refresh_every : int, default 250
        Ticks between refits of the ensemble weights and the FHS VaR.
    ensemble : bool, default True
        ``False`` keeps equal weights over the per-tick methods (no refits; used by tests and benches).
    thresholds : sequence of Threshold, default :data:`TOKEN_THRESHOLDS`
    source : str, default ``"token"``
        Source written on the alerts (a feed id, for instance).
    history : int, default 2000
        Snapshots kept for :meth:`frame`.

    Examples
    --------
    >>> mon = TokenMonitor(ensemble=False)
    >>> snap = mon.update(1.0)
    >>> snap.stability_score, snap.risk_level   # VaR still warming up: its component uses 0.90
    (96.7, <RiskLevel.LOW: 'low'>)
    """

    def __init__(self, *, window: int = 250, min_obs: int = 30, vol_window: int = 10, refresh_every: int = 250,
                 ensemble: bool = True, thresholds: Sequence[Threshold] = TOKEN_THRESHOLDS,
                 source: str = "token", responses: ResponsePolicy = TOKEN_RESPONSES, history: int = 2000):
        window, history = integer("window", window, 30), integer("history", history, 1)
        refresh_every = integer("refresh_every", refresh_every, 1)
        min_obs, vol_window = integer("min_obs", min_obs, 30), integer("vol_window", vol_window, 2)
        if min_obs > window:
            raise InputError("min_obs", f"must be <= window ({window})", value=min_obs)
        if vol_window > window:
            raise InputError("vol_window", f"must be <= window ({window})", value=vol_window)
        self.window, self.min_obs, self.vol_window = window, min_obs, vol_window
        self.engine = AlertEngine(thresholds, source=source, responses=responses)
        self.var = RollingEnsembleVaR(CONFIDENCES, refresh_every=refresh_every, ensemble=ensemble)
        self._r = np.empty(4 * self.window)  # time-ordered returns; valid part is [0, self._len)
        self._len = 0
        self._n = 0          # returns seen (all time)
        self._last_price: float | None = None
        self._seq = 0
        self.rows: deque[TokenSnapshot] = deque(maxlen=history)
        self.last: TokenSnapshot | None = None

    @property
    def source(self) -> str:
        return self.engine.source

    @property
    def n_returns(self) -> int:
        """Returns seen so far (all time)."""
        return self._n

    def window_returns(self) -> np.ndarray:
        """The current VaR window, oldest first (a copy)."""
        k = min(self._n, self.window)
        return self._r[self._len - k:self._len].copy()

    def _push(self, rets: np.ndarray) -> int:
        """Append returns, keeping at least the last ``window`` old ones; returns the start offset."""
        keep = min(self._len, self.window)
        if self._len + rets.size > self._r.size:
            cap = max(self._r.size, keep + rets.size)
            buf = np.empty(cap)
            buf[:keep] = self._r[self._len - keep:self._len]
            self._r, self._len = buf, keep
        start = self._len
        self._r[start:start + rets.size] = rets
        self._len += rets.size
        return start

    def update(self, price: float, liquidity_pool: float = 1_000_000.0, network_health: float = 1.0, *,
               ts: Any = None, seq: int | None = None) -> TokenSnapshot:
        """Process one tick and return the snapshot (with the alerts it raised).

        Raises
        ------
        InputError
            If ``price`` is not finite and > 0, ``liquidity_pool`` < 0 or ``network_health`` not finite.
        """
        t0 = time.perf_counter()
        try:
            p, li, hi = float(price), float(liquidity_pool), float(network_health)
        except (TypeError, ValueError):
            for name, v in (("price", price), ("liquidity_pool", liquidity_pool), ("network_health", network_health)):
                finite(name, v)
            raise
        if not (p > 0.0 and p < math.inf):
            raise InputError("price", "must be a finite number > 0", value=price)
        if not (li >= 0.0 and li < math.inf):
            raise InputError("liquidity_pool", "must be a finite number >= 0", value=liquidity_pool)
        if not math.isfinite(hi):
            raise InputError("network_health", "must be finite", value=network_health)
        sq = self._seq if seq is None else int(seq)
        ret = math.nan
        if self._last_price is not None:
            ret = p / self._last_price - 1.0
            self._push_one(ret)
        self._last_price = p
        k = min(self._n, self.window)
        end = self._len
        if k >= self.min_obs:
            if self.var.ticks_to_refresh() == 0 or self.var.growth_due(k):
                self.var.refresh(self._r[end - k:end].copy())
            v = self.var(self._r[end - k:end][None, :])[0]
            v95, v99, v997 = float(v[0]), float(v[1]), float(v[2])
        else:
            v95 = v99 = v997 = math.nan
        vol = math.nan
        if self._n >= self.vol_window:
            vol = float(sample_std(self._r[end - self.vol_window:end][None, :])[0])
        tsi = pd.Timestamp.now("UTC").tz_localize(None) if ts is None else ts
        snap = self._finish_tick(sq, tsi, p, ret, v95, v99, v997, vol, li, hi, k, t0=t0)
        self.rows.append(snap)
        self._seq = sq + 1
        self.last = snap
        return snap

    def _push_one(self, ret: float) -> None:
        if self._len == self._r.size:
            keep = min(self._len, self.window)
            self._r[:keep] = self._r[self._len - keep:self._len].copy()
            self._len = keep
        self._r[self._len] = ret
        self._len += 1
        self._n += 1

    def _finish_tick(self, seq: int, ts: Any, p: float, ret: float, v95: float, v99: float, v997: float,
                     vol: float, li: float, hi: float, k: int, t0: float | None = None,
                     latency_us: float = math.nan) -> TokenSnapshot:
        """Price-terms VaR, stability, level and alerts of one tick (shared by both paths).

        ``t0`` (the tick path's start time) sets the latency to the time until the alerts are evaluated;
        the batch path passes its per-tick share as ``latency_us`` instead.
        """
        v95p, v99p, v997p = p * (1.0 - v95), p * (1.0 - v99), p * (1.0 - v997)
        score = weighted_score(stability_components(p, li, hi, v99p))
        level = level_of_score(score)
        new = self.engine.evaluate({"var_95_price": v95p, "var_99_price": v99p, "var_997_price": v997p,
                                    "volatility": vol, "liquidity_pool": li, "network_health": hi}, ts=ts, seq=seq)
        if t0 is not None:
            latency_us = (time.perf_counter() - t0) * 1e6
        return TokenSnapshot(seq, ts, p, ret, v95, v99, v997, v95p, v99p, v997p, vol, li, hi, abs(p - 1.0), score,
                             level, k, tuple(new), latency_us)

    def process(self, prices: Sequence[float] | np.ndarray, liquidity_pool: Any = 1_000_000.0,
                network_health: Any = 1.0, ts: Sequence[Any] | None = None,
                seq0: int | None = None) -> list[TokenSnapshot]:
        """Process consecutive ticks; one snapshot per tick, exactly as ``update`` one by one would give.

        The VaR kernels run once per batch on the stacked windows (the windows of consecutive ticks
        overlap, so a batch of *k* ticks costs little more than one), split where an ensemble refresh
        falls due. Alerts are evaluated tick by tick, in order. ``liquidity_pool`` and
        ``network_health`` are scalars or one value per tick; ``latency_us`` of each snapshot is the
        batch's time divided by its size.
        """
        t0 = time.perf_counter()
        p = np.atleast_1d(float_array("prices", prices))
        k = p.size
        if p.ndim != 1:
            raise InputError("prices", "must be one-dimensional", value=p.shape)
        bad = np.flatnonzero(~(np.isfinite(p) & (p > 0)))
        if bad.size:
            raise InputError("price", "must be a finite number > 0", value=float(p[bad[0]]), row=int(bad[0]) + 1)
        liq = float_array("liquidity_pool", liquidity_pool, k)
        bad = np.flatnonzero(~(np.isfinite(liq) & (liq >= 0)))
        if bad.size:
            raise InputError("liquidity_pool", "must be a finite number >= 0", value=float(liq[bad[0]]),
                             row=int(bad[0]) + 1)
        health = float_array("network_health", network_health, k)
        bad = np.flatnonzero(~np.isfinite(health))
        if bad.size:
            raise InputError("network_health", "must be finite", value=float(health[bad[0]]), row=int(bad[0]) + 1)
        if ts is not None and len(ts) != k:
            raise InputError("ts", f"needs one time per price ({k})", value=len(ts))
        if k == 0:
            return []
        seq0 = self._seq if seq0 is None else int(seq0)

        # returns: the first tick ever has none
        prev = np.concatenate([[np.nan if self._last_price is None else self._last_price], p[:-1]])
        rets = p / prev - 1.0
        has = np.isfinite(rets)
        new_rets = rets[has]
        start = self._push(new_rets)
        n_after = self._n + np.cumsum(has)          # returns seen after each tick
        end = start + np.cumsum(has)                # end offset (exclusive) of each tick's returns in _r
        self._n += int(has.sum())
        self._last_price = float(p[-1])
        kk = np.minimum(n_after, self.window)       # window size per tick

        var = np.full((k, 3), np.nan)
        idx = np.flatnonzero(kk >= self.min_obs)
        pos = 0
        while pos < idx.size:
            if self.var.ticks_to_refresh() == 0:
                i = idx[pos]
                self.var.refresh(self._r[end[i] - kk[i]:end[i]].copy())
            span = min(max(self.var.ticks_to_refresh(), 1), idx.size - pos)
            seg = idx[pos:pos + span]
            full = seg[kk[seg] == self.window]
            for i in seg[kk[seg] < self.window]:    # warm-up: growing windows, one at a time
                if self.var.growth_due(int(kk[i])):
                    self.var.refresh(self._r[end[i] - kk[i]:end[i]].copy())
                var[i] = self.var(self._r[end[i] - kk[i]:end[i]][None, :])[0]
            if full.size and self.var.growth_due(self.window):
                i = full[0]
                self.var.refresh(self._r[end[i] - self.window:end[i]].copy())
            if full.size == 1:
                e1 = end[full[0]]
                var[full[0]] = self.var(self._r[e1 - self.window:e1][None, :])[0]
            elif full.size:                          # consecutive ticks: consecutive end offsets
                e0, e1 = end[full[0]], end[full[-1]]
                wins = np.lib.stride_tricks.sliding_window_view(self._r[e0 - self.window:e1], self.window)
                var[full] = self.var(wins)
            pos += span

        vol = np.full(k, np.nan)
        vidx = np.flatnonzero(n_after >= self.vol_window)
        if vidx.size:                               # consecutive ticks: consecutive end offsets
            e0, e1 = end[vidx[0]], end[vidx[-1]]
            vol[vidx] = sample_std(np.lib.stride_tricks.sliding_window_view(
                self._r[e0 - self.vol_window:e1], self.vol_window))

        now = pd.Timestamp.now("UTC").tz_localize(None) if ts is None else None
        snaps = [self._finish_tick(seq0 + i, now if ts is None else ts[i], float(p[i]), float(rets[i]),
                                   float(var[i, 0]), float(var[i, 1]), float(var[i, 2]), float(vol[i]),
                                   float(liq[i]), float(health[i]), int(kk[i])) for i in range(k)]
        lat = (time.perf_counter() - t0) * 1e6 / k   # the batch's cost per tick, alerts included
        out = [replace(snap, latency_us=lat) for snap in snaps]
        self.rows.extend(out)
        self._seq = seq0 + k
        self.last = out[-1]
        return out

    def update_many(self, prices: Sequence[float] | np.ndarray, liquidity_pool: Any = 1_000_000.0,
                    network_health: Any = 1.0, ts: Sequence[Any] | None = None, seq0: int | None = None,
                    batch: int = 512) -> list[Alert]:
        """Feed a whole series in batches of ``batch`` ticks; returns every alert raised, in order."""
        prices = np.atleast_1d(float_array("prices", prices))
        if prices.ndim != 1:
            raise InputError("prices", "must be one-dimensional", value=prices.shape)
        n = prices.size
        liq = float_array("liquidity_pool", liquidity_pool, n)
        health = float_array("network_health", network_health, n)
        raised: list[Alert] = []
        start = self._seq if seq0 is None else int(seq0)
        for a in range(0, n, batch):
            b = min(n, a + batch)
            for snap in self.process(prices[a:b], liq[a:b], health[a:b], None if ts is None else list(ts[a:b]),
                                     start + a):
                raised.extend(snap.new_alerts)
        return raised

    # -- views -----------------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """Snapshots kept so far (oldest first), one row per tick."""
        frame = pd.DataFrame([_row_values(snap) for snap in self.rows], columns=list(ROW_FIELDS))
        frame["risk_level"] = frame["risk_level"].astype(str) if len(frame) else frame["risk_level"]
        return frame

    def report(self) -> TokenRiskReport:
        """The seed's risk report for the latest tick."""
        snap = self.last
        metrics = snap.metrics() if snap is not None else {}
        factors = risk_factors(metrics)
        counts = {str(s): 0 for s in (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)}
        for a in self.engine.active.values():
            counts[str(a.severity)] += 1
        return TokenRiskReport(
            snapshot=snap, active_alerts=tuple(self.engine.active.values()), alert_counts=counts,
            risk_level=snap.risk_level if snap is not None else RiskLevel.LOW, risk_factors=tuple(factors),
            recommendations=tuple(recommendations(factors)), ensemble_weights=self.var.weights_dict())

    def latencies_us(self) -> np.ndarray:
        """Per-tick processing time (µs) of the kept snapshots."""
        return np.array([r.latency_us for r in self.rows], dtype=float)
