"""Plain-data state of the portfolio monitor and its alert engine, for snapshots.

The monitor classes keep their state in public attributes (``active``, ``history``,
``decisions``, the counters) plus the not-yet-persisted alerts; these functions read and
rebuild exactly that, so a restored monitor continues every open episode (same ``alert_id``,
so clearing it later overwrites the stored row), raises nothing twice and still flushes what
had not been persisted. A custom ``level_of`` callable is not data: the restored engine uses
the default routing levels (each saved alert keeps the level it was given).
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Mapping
from typing import Any

import pandas as pd

from riskcore.monitor.alerts import Alert, AlertEngine, AlertStatus, Direction, ResponsePolicy, Severity, Threshold
from riskcore.monitor.portfolio import PortfolioMonitor, PortfolioSnapshot

__all__ = ["alert_to_state", "alert_from_state", "engine_to_state", "engine_from_state", "monitor_to_state",
           "monitor_from_state"]

_ALERT_FIELDS = tuple(f.name for f in dataclasses.fields(Alert))
_TIMES = ("created_at", "cleared_at", "acknowledged_at")


def alert_to_state(a: Alert) -> dict[str, Any]:
    return {k: (str(v) if k in ("severity", "status", "direction") else v)
            for k, v in ((k, getattr(a, k)) for k in _ALERT_FIELDS)}


def alert_from_state(d: Mapping[str, Any]) -> Alert:
    kw = {k: d.get(k) for k in _ALERT_FIELDS}
    kw["severity"], kw["status"] = Severity(kw["severity"]), AlertStatus(kw["status"])
    kw["direction"] = Direction(kw["direction"])
    for k in _TIMES:
        kw[k] = None if kw[k] is None else pd.Timestamp(kw[k])
    for k in ("seq", "cleared_seq"):
        kw[k] = None if kw[k] is None else int(kw[k])
    return Alert(**kw)


def _threshold_state(t: Threshold) -> dict[str, Any]:
    return {f.name: (None if getattr(t, f.name) is None else str(getattr(t, f.name)))
            if f.name in ("direction", "severity") else getattr(t, f.name) for f in dataclasses.fields(Threshold)}


def engine_to_state(engine: AlertEngine) -> dict[str, Any]:
    """Thresholds, response policy, open alerts, history, recorded responses, unflushed rows, counters."""
    pending, pending_decisions = engine.pending()
    r = engine.responses
    return {
        "source": engine.source, "history_size": engine.history.maxlen,
        "thresholds": [_threshold_state(t) for t in engine.thresholds],
        "responses": {"critical": {k: dict(v) for k, v in r.critical.items()}, "critical_default": r.critical_default,
                      "high_action": r.high_action},
        "active": {m: alert_to_state(a) for m, a in engine.active.items()},
        "history": [alert_to_state(a) for a in engine.history],
        "decisions": [dict(d) for d in engine.decisions],
        "pending": [alert_to_state(a) for a in pending], "pending_decisions": [dict(d) for d in pending_decisions],
        "n_raised": engine.n_raised, "n_cleared": engine.n_cleared,
    }


def engine_from_state(state: Mapping[str, Any]) -> AlertEngine:
    r = state["responses"]
    engine = AlertEngine([Threshold(**t) for t in state["thresholds"]], source=state["source"],
                         responses=ResponsePolicy(dict(r["critical"]), r["critical_default"], r["high_action"]),
                         history_size=int(state["history_size"]))
    engine.active = {str(m): alert_from_state(a) for m, a in state["active"].items()}
    engine.history = deque((alert_from_state(a) for a in state["history"]), maxlen=engine.history.maxlen)
    engine.decisions = [dict(d) for d in state["decisions"]]
    # the engine's unflushed rows (no public setter: the engine fills them only as alerts change)
    engine._pending = {a.alert_id: a for a in map(alert_from_state, state["pending"])}
    engine._pending_decisions = [dict(d) for d in state["pending_decisions"]]
    engine.n_raised, engine.n_cleared = int(state["n_raised"]), int(state["n_cleared"])
    return engine


def monitor_to_state(monitor: PortfolioMonitor) -> dict[str, Any]:
    """The engine's state plus the simulation settings, the update counter and the kept updates."""
    return {
        "engine": engine_to_state(monitor.engine), "n_simulations": monitor.n_simulations, "seed": monitor.seed,
        "seq": monitor._seq, "history": monitor.snapshots.maxlen,
        "snapshots": [{"seq": s.seq, "ts": s.ts, "metrics": dict(s.metrics), "overall_risk_score": s.overall_risk_score,
                       "new_alerts": [alert_to_state(a) for a in s.new_alerts], "latency_ms": s.latency_ms}
                      for s in monitor.snapshots],
    }


def monitor_from_state(state: Mapping[str, Any]) -> PortfolioMonitor:
    engine = engine_from_state(state["engine"])
    mon = PortfolioMonitor(engine.thresholds, responses=engine.responses, n_simulations=int(state["n_simulations"]),
                           seed=int(state["seed"]), source=engine.source, history=int(state["history"]))
    mon.engine = engine
    mon._seq = int(state["seq"])  # update k draws its VaR with seed + k: the counter continues
    mon.snapshots = deque((PortfolioSnapshot(int(s["seq"]), pd.Timestamp(s["ts"]),
                                             {k: float(v) for k, v in s["metrics"].items()},
                                             float(s["overall_risk_score"]),
                                             tuple(alert_from_state(a) for a in s["new_alerts"]),
                                             float(s["latency_ms"])) for s in state["snapshots"]),
                          maxlen=mon.snapshots.maxlen)
    return mon
