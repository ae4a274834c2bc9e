"""Real-time portfolio risk monitor (PRD §3.2.1 ``RealTimeRiskMonitor`` and §4.1.2 dashboard scores).

Each :meth:`PortfolioMonitor.update` takes a :class:`riskcore.portfolio.context.PortfolioContext`,
computes the PRD's risk metrics with the portfolio library (:func:`riskcore.portfolio.state.compute_risk_state`:
1-day Monte Carlo VaR at the 5 % tail, concentration, correlation score) and runs the PRD's threshold
table (:data:`PRD_THRESHOLDS`, defined here with its responses :data:`PRD_RESPONSES`) through an
:class:`~riskcore.monitor.alerts.AlertEngine`, whose CRITICAL and HIGH alerts record the PRD's
automatic responses as decisions (never executed).

Metrics (PRD ``_calculate_risk_metrics``)
-----------------------------------------
``portfolio_var_pct``        VaR / account equity × 100 (percent)
``position_concentration``   largest position's share of gross exposure, [0, 1]
``correlation_risk``         PRD correlation risk score of the open symbols, [0, 1]
``current_drawdown_pct``     percent, from the context
``margin_usage_pct``         percent, from the context
``num_positions``, ``total_exposure`` (signed, currency), ``unrealized_pnl`` (currency)

:func:`overall_risk_score` is the PRD dashboard's 0–100 score (weights 0.3 / 0.2 / 0.2 / 0.2 / 0.1).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.monitor.alerts import Alert, AlertEngine, ResponsePolicy, Threshold
from riskcore.validate import integer

__all__ = ["PortfolioMonitor", "PortfolioSnapshot", "portfolio_metrics", "metrics_from_state",
           "overall_risk_score",
           "OVERALL_SCORE_WEIGHTS", "ALERT_METRICS", "PRD_THRESHOLDS", "PRD_RESPONSES"]

#: The PRD's thresholds (§3.2.1 ``alert_thresholds``). The PRD keys three of them by names that its
#: metrics never carry (``correlation_limit``, ``drawdown_limit``, ``margin_limit`` against metrics
#: ``correlation_risk``, ``current_drawdown_pct``, ``margin_usage_pct``), so those three could never
#: fire there; here each limit is keyed by the metric it limits.
PRD_THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("portfolio_var_pct", 1.0, label="Portfolio VaR", unit="%", fmt=".2f"),
    Threshold("position_concentration", 0.3, label="Position concentration", fmt=".2f"),
    Threshold("correlation_risk", 0.7, label="Correlation", fmt=".2f"),
    Threshold("current_drawdown_pct", 1.5, label="Drawdown", unit="%", fmt=".2f"),
    Threshold("margin_usage_pct", 80.0, label="Margin usage", unit="%", fmt=".1f"),
)

#: The PRD's critical responses (§3.2.1), keyed by the metric names used here.
PRD_RESPONSES = ResponsePolicy(
    critical={
        "portfolio_var_pct": {"action": "REDUCE_ALL_POSITIONS", "reduction_pct": 30},
        "current_drawdown_pct": {"action": "CLOSE_LOSING_POSITIONS"},
        "margin_usage_pct": {"action": "EMERGENCY_MARGIN_REDUCTION", "target_margin_pct": 60},
    },
)

#: the metrics the PRD thresholds read
ALERT_METRICS = ("portfolio_var_pct", "position_concentration", "correlation_risk", "current_drawdown_pct",
                 "margin_usage_pct")

#: PRD §4.1.2 ``_calculate_overall_risk_score``: metric → (weight, value that counts as 100 % risk)
OVERALL_SCORE_WEIGHTS: dict[str, tuple[float, float]] = {
    "portfolio_var_pct": (0.3, 2.0),
    "position_concentration": (0.2, 0.5),
    "correlation_risk": (0.2, 1.0),
    "current_drawdown_pct": (0.2, 3.0),
    "margin_usage_pct": (0.1, 100.0),
}


def overall_risk_score(metrics: Mapping[str, float]) -> float:
    """The PRD dashboard's overall risk score, 0–100 (higher is riskier).

    Notes
    -----
    :math:`\\sum_m w_m \\cdot 100 \\min(x_m / s_m, 1)` with (w, s) = VaR % (0.3, 2 %), concentration
    (0.2, 0.5), correlation (0.2, 1), drawdown (0.2, 3 %), margin (0.1, 100 %); a missing metric
    counts 0; negative values are floored at 0 (the PRD's margin term is not capped, here it is).

    Examples
    --------
    >>> overall_risk_score({"portfolio_var_pct": 1.0, "margin_usage_pct": 50.0})
    20.0
    """
    total = 0.0
    for metric, (weight, scale) in OVERALL_SCORE_WEIGHTS.items():
        v = metrics.get(metric, 0.0)
        v = 0.0 if v is None or v != v else float(v)
        total += weight * 100.0 * min(max(v, 0.0) / scale, 1.0)
    return min(round(total, 6), 100.0)


def portfolio_metrics(context: Any, *, n_simulations: int = 2000, seed: int | np.random.Generator | None = 0,
                      lookback: int = 252) -> dict[str, float]:
    """The PRD's risk metrics of a portfolio context (see the module table).

    Parameters
    ----------
    context : PortfolioContext or mapping
        A mapping is read with ``PortfolioContext.from_dict``.
    n_simulations, seed, lookback
        Passed to :func:`riskcore.portfolio.state.compute_risk_state` (Monte Carlo VaR).
    """
    from riskcore.portfolio.context import PortfolioContext
    from riskcore.portfolio.state import compute_risk_state

    if isinstance(context, Mapping):
        context = PortfolioContext.from_dict(context)
    if not isinstance(context, PortfolioContext):
        raise InputError("portfolio_context", "must be a PortfolioContext or a mapping", value=type(context).__name__)
    state = compute_risk_state(context, n_simulations=n_simulations, seed=seed, lookback=lookback)
    return metrics_from_state(context, state)


def metrics_from_state(context: Any, state: Any) -> dict[str, float]:
    """The metrics of :func:`portfolio_metrics` from a context and its already computed risk state
    (e.g. a :class:`~riskcore.portfolio.events.RiskEventProcessor`'s, without a second simulation)."""
    from riskcore.portfolio.state import FEATURE_INDEX

    return {
        "portfolio_var_pct": 100.0 * state.var_currency / context.account_equity,
        "position_concentration": float(state.concentration),
        "correlation_risk": float(state.vector[FEATURE_INDEX["correlation_risk"]]),
        "current_drawdown_pct": float(context.current_drawdown_pct),
        "margin_usage_pct": float(context.margin_usage_pct),
        "num_positions": float(len(context.positions)),
        "total_exposure": float(sum(p.value for p in context.positions)),
        "unrealized_pnl": float(sum(p.unrealized_pnl for p in context.positions)),
        "var_currency": float(state.var_currency),
        "account_equity": float(context.account_equity),
    }


@dataclass(frozen=True)
class PortfolioSnapshot:
    """Metrics, overall score and new alerts of one portfolio update."""

    seq: int
    ts: pd.Timestamp
    metrics: dict[str, float]
    overall_risk_score: float
    new_alerts: tuple[Alert, ...]
    latency_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, **self.metrics, "overall_risk_score": self.overall_risk_score,
                "n_new_alerts": len(self.new_alerts), "latency_ms": self.latency_ms}

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame({"value": pd.Series(self.to_dict(), dtype=object)})


class PortfolioMonitor:
    """Portfolio risk monitor with the PRD's alert thresholds and life cycle.

    Parameters
    ----------
    thresholds : sequence of Threshold or mapping, default :data:`PRD_THRESHOLDS`
    responses : ResponsePolicy, default :data:`PRD_RESPONSES`
    n_simulations : int, default 2000
        Monte Carlo paths of the VaR per update.
    seed : int, default 0
        Seed of the VaR simulation; update *k* uses ``seed + k`` so updates are reproducible and
        independent.
    source : str, default ``"portfolio"``
    history : int, default 2000
        Snapshots kept for :meth:`frame`.

    Examples
    --------
    >>> from riskcore.portfolio.context import preset            # doctest: +SKIP
    >>> mon = PortfolioMonitor()                                  # doctest: +SKIP
    >>> snap = mon.update(preset("margin squeeze"))               # doctest: +SKIP
    >>> [a.metric for a in snap.new_alerts]                       # doctest: +SKIP
    ['margin_usage_pct']
    """

    def __init__(self, thresholds: Sequence[Threshold] | Mapping[str, float] | None = None, *,
                 responses: ResponsePolicy | None = None, n_simulations: int = 2000, seed: int = 0,
                 source: str = "portfolio", history: int = 2000):
        self.engine = AlertEngine(PRD_THRESHOLDS if thresholds is None else thresholds, source=source,
                                  responses=PRD_RESPONSES if responses is None else responses)
        n_simulations, seed = integer("n_simulations", n_simulations, 100), integer("seed", seed, 0)
        self.n_simulations = int(n_simulations)
        self.seed = int(seed)
        self._seq = 0
        self.snapshots: deque[PortfolioSnapshot] = deque(maxlen=int(history))

    def update(self, context: Any, *, ts: Any = None, metrics: Mapping[str, float] | None = None) -> PortfolioSnapshot:
        """Compute the metrics of ``context`` (or take ``metrics`` as given) and evaluate the alerts."""
        t0 = time.perf_counter()
        if metrics is None:
            metrics = portfolio_metrics(context, n_simulations=self.n_simulations, seed=self.seed + self._seq)
        metrics = {k: float(v) for k, v in metrics.items()}
        ts = pd.Timestamp.now("UTC").tz_localize(None) if ts is None else pd.Timestamp(ts)
        new = self.engine.evaluate(metrics, ts=ts, seq=self._seq)
        snap = PortfolioSnapshot(self._seq, ts, metrics, overall_risk_score(metrics), tuple(new),
                                 (time.perf_counter() - t0) * 1e3)
        self._seq += 1
        self.snapshots.append(snap)
        return snap

    def frame(self) -> pd.DataFrame:
        """Snapshots so far, one row per update."""
        return pd.DataFrame([s.to_dict() for s in self.snapshots])

    def flush(self, store: Any) -> int:
        """Persist alerts and recorded responses (see :meth:`AlertEngine.flush`)."""
        return self.engine.flush(store)
