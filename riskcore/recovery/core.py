"""Risk-state snapshots: save the running risk state in the store and rebuild it after a crash.

A snapshot (PRD §5.2, "emergency recovery") holds, in sections:

==============  ==========================================================================
section         content
==============  ==========================================================================
team            the active team: ``(name, version)`` of a registry entry, or ``None`` (rules)
critic          the rule critic's parameters and thresholds and its last scores (a learned
                critic is the team's: referenced through ``team``); the hard limits
risk_metrics    the state vector, VaR (currency), concentration, the monitor's last metrics
portfolio       positions, account figures (equity, drawdown, margin), P&L
var_engine      Monte Carlo paths and the random stream of the VaR simulation
correlation     the correlation matrix of the held symbols (or ``None``)
alerts          thresholds, response policy, active alerts, history, unflushed rows
history         price history and its array window, volume and spread windows
volatility      volatility regime and levels, the rolling z-score window of the state
processor       the trading halt of an emergency signal, log settings
extra           the caller's bookkeeping (e.g. the position in a feed)
==============  ==========================================================================

Numbers go as lossless JSON (:mod:`riskcore.store.codec`), arrays as ``.npy`` blobs read with
``allow_pickle=False``; a SHA-256 over both detects a damaged snapshot. One snapshot is one
store transaction (:mod:`riskcore.store.snapshots`): a crash while writing leaves the previous
snapshots and nothing else.

Snapshots are taken on demand (:func:`snapshot`), on a schedule (:class:`SnapshotScheduler`,
hourly keeping the newest 24 as the PRD asks) and as emergency backups with a reason
(:func:`emergency_backup`); :func:`restore` rebuilds a :class:`RiskRuntime` from the newest one or
from an id, and warns when it is older than 24 hours.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import logging
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from riskcore.agents.critic import RuleCritic
from riskcore.agents.system import RiskLimits, RiskSystem
from riskcore.errors import InputError
from riskcore.monitor.portfolio import PortfolioMonitor, metrics_from_state
from riskcore.portfolio.emergency import CRITIC_THRESHOLDS
from riskcore.portfolio.events import EventType, RiskEventProcessor
from riskcore.portfolio.state import RISK_FEATURES
from riskcore.recovery.monitor_state import monitor_from_state, monitor_to_state
from riskcore.store import codec
from riskcore.store import snapshots as _db

__all__ = ["FORMAT_VERSION", "STALE_AFTER", "SnapshotKind", "TeamRef", "RiskRuntime", "SnapshotInfo",
           "RestoreResult", "RecoveryWarning", "snapshot", "emergency_backup", "restore", "list_snapshots",
           "delete_snapshot", "SnapshotScheduler", "SCHEDULE_EVERY_S", "SCHEDULE_KEEP"]

_LOG = logging.getLogger(__name__)

#: version of the snapshot layout; a snapshot with a higher one was written by a newer riskcore
FORMAT_VERSION = 1
#: a restored snapshot older than this is restored with a warning
STALE_AFTER = timedelta(hours=24)
#: the PRD's schedule: hourly, the newest 24 kept
SCHEDULE_EVERY_S = 3600.0
SCHEDULE_KEEP = 24

_ARRAY = "__array__"


class SnapshotKind(enum.StrEnum):
    ON_DEMAND = "on_demand"
    SCHEDULED = "scheduled"
    EMERGENCY = "emergency"


class RecoveryWarning(UserWarning):
    """A restore that worked but deserves attention (an old snapshot, a team not loaded)."""


@dataclass(frozen=True)
class TeamRef:
    """The active team: a registry entry's name and version (``None`` in a runtime means the rules)."""

    name: str
    version: int

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError("team.name", "must be a non-empty string", value=self.name)
        if isinstance(self.version, bool) or not isinstance(self.version, (int, np.integer)) or self.version < 1:
            raise InputError("team.version", "must be an integer >= 1", value=self.version)
        object.__setattr__(self, "version", int(self.version))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version}


@dataclass
class RiskRuntime:
    """The running risk state: the event processor, the portfolio monitor and the active team.

    Parameters
    ----------
    processor : RiskEventProcessor
        Portfolio, risk state, VaR engine, histories (see its ``to_state``).
    monitor : PortfolioMonitor, optional
        Alert thresholds and active alerts; :meth:`process` updates it from the processor's state.
    team : TeamRef, optional
        The registry entry whose agents decide (``None``: the rules).
    extra : dict
        The caller's bookkeeping, saved with the snapshot (plain data: numbers, strings, lists).
    """

    processor: RiskEventProcessor
    monitor: PortfolioMonitor | None = None
    team: TeamRef | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        """The PRD monitor metrics of the processor's current state (no new simulation)."""
        return metrics_from_state(self.processor.context, self.processor.risk_state)

    def process(self, event_type: EventType | str, event_data: Mapping[str, Any] | None, *,
                ts: Any = None) -> dict[str, Any]:
        """One event through the processor; a state change also updates the monitor (at ``ts``)."""
        response = self.processor.process_risk_event(event_type, event_data)
        if self.monitor is not None and response.get("status") in ("state_updated", "position_closed",
                                                                    "update_required", "no_update_required"):
            self.monitor.update(self.processor.context, ts=ts, metrics=self.metrics())
        return response

    def active_alerts(self) -> dict[str, str]:
        """Metric → alert id of the monitor's open alerts."""
        return {} if self.monitor is None else {m: a.alert_id for m, a in self.monitor.engine.active.items()}


@dataclass(frozen=True)
class SnapshotInfo:
    """A stored snapshot's listing row."""

    snapshot_id: str
    created_at: pd.Timestamp
    kind: SnapshotKind
    reason: str | None
    format_version: int
    n_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {"snapshot_id": self.snapshot_id, "created_at": self.created_at, "kind": self.kind.value,
                "reason": self.reason, "format_version": self.format_version, "n_bytes": self.n_bytes}


@dataclass(frozen=True)
class RestoreResult:
    """What :func:`restore` rebuilt and what to look at."""

    info: SnapshotInfo
    runtime: RiskRuntime
    age: timedelta
    stale: bool
    team_loaded: bool
    messages: tuple[str, ...]
    seconds: float

    @property
    def message(self) -> str:
        return " ".join(self.messages)

    def summary(self) -> pd.DataFrame:
        rt = self.runtime
        ctx = rt.processor.context
        rows = {
            "snapshot": self.info.snapshot_id, "taken at (UTC)": str(self.info.created_at),
            "kind": self.info.kind.value,
            "reason": self.info.reason or "", "age": str(self.age).split(".")[0], "stale (> 24 h)": self.stale,
            "active team": "rules" if rt.team is None else f"{rt.team.name} v{rt.team.version}",
            "team loaded": self.team_loaded, "open positions": len(ctx.positions),
            "account equity": ctx.account_equity, "unrealized P&L": sum(p.unrealized_pnl for p in ctx.positions),
            "active alerts": ", ".join(sorted(rt.active_alerts())) or "none",
            "trading halted": "no" if rt.processor.halted is None else rt.processor.halted.value,
            "restore time (s)": round(self.seconds, 4),
        }
        return pd.DataFrame({"value": pd.Series(rows, dtype=object)}).rename_axis("field")


# -- encoding ------------------------------------------------------------------------------------
def _split(obj: Any, arrays: dict[str, np.ndarray], path: str) -> Any:
    """``obj`` with every ndarray replaced by a named reference; the arrays collected in ``arrays``."""
    if isinstance(obj, np.ndarray):
        arrays[path] = obj
        return {_ARRAY: path}
    if isinstance(obj, Mapping):
        return {str(k): _split(v, arrays, f"{path}.{k}") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split(v, arrays, f"{path}[{i}]") for i, v in enumerate(obj)]
    return obj


def _join(obj: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {_ARRAY}:
            name = obj[_ARRAY]
            if name not in arrays:
                raise ValueError(f"array {name!r} is missing")
            return arrays[name]
        return {k: _join(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join(v, arrays) for v in obj]
    return obj


def _checksum(state_json: str, blobs: Mapping[str, bytes]) -> str:
    h = hashlib.sha256(state_json.encode("utf-8"))
    for name in sorted(blobs):
        h.update(b"\0" + name.encode("utf-8") + b"\0" + blobs[name])
    return h.hexdigest()


def _critic_state(system: RiskSystem, team: TeamRef | None, processor: RiskEventProcessor) -> dict[str, Any]:
    critic = system.critic
    last = processor.last_decision
    out: dict[str, Any] = {"thresholds": dict(CRITIC_THRESHOLDS),
                           "last_scores": None if last is None else dict(last.risk_scores),
                           "policies": {str(k): type(v).__name__ for k, v in system.policies.items()}}
    if isinstance(critic, RuleCritic):
        out.update(kind="rule", params=dataclasses.asdict(critic))
    else:  # a learned critic is part of the team: the snapshot names the team
        out.update(kind="team" if team is not None else "other", params=None, type=type(critic).__name__)
    return out


def _sections(runtime: RiskRuntime) -> dict[str, Any]:
    if not isinstance(runtime, RiskRuntime):
        raise InputError("runtime", "must be a RiskRuntime", value=type(runtime).__name__)
    proc = runtime.processor
    p = proc.to_state()
    ctx = proc.context
    mon = runtime.monitor
    last = mon.snapshots[-1] if mon is not None and mon.snapshots else None
    return {
        "team": None if runtime.team is None else runtime.team.to_dict(),
        "critic": {**_critic_state(proc.system, runtime.team, proc), "limits": dataclasses.asdict(proc.system.limits)},
        "risk_metrics": {"features": list(RISK_FEATURES), "state": p["risk_state"]["vector"],
                         "var_currency": p["risk_state"]["var_currency"],
                         "concentration": p["risk_state"]["concentration"],
                         "monitor": None if last is None else {"metrics": dict(last.metrics),
                                                               "overall_risk_score": last.overall_risk_score}},
        "portfolio": {"context": p["context"], "account_equity": ctx.account_equity,
                      "unrealized_pnl": float(sum(q.unrealized_pnl for q in ctx.positions)),
                      "total_exposure": float(sum(q.value for q in ctx.positions))},
        "var_engine": {"n_simulations": p["n_simulations"], "rng": p["rng"]},
        "correlation": p["risk_state"]["correlation"],
        "alerts": None if mon is None else monitor_to_state(mon),
        "history": {"price_history": p["price_history"], "price_buffer": p["price_buffer"], "volume": p["volume"],
                    "spread": p["spread"]},
        "volatility": {"volatility_regime": ctx.volatility_regime, "current_volatility": ctx.current_volatility,
                       "base_volatility": ctx.base_volatility, "normalizer": p["normalizer"],
                       "normalized": p["normalized"]},
        "processor": {"halted": p["halted"], "flush_every": p["flush_every"], "max_buffer": p["max_buffer"]},
        "extra": dict(runtime.extra),
    }


def _processor_state(s: Mapping[str, Any]) -> dict[str, Any]:
    """The processor's ``to_state`` dict from the sections (the inverse of :func:`_sections`)."""
    rm = s["risk_metrics"]
    return {
        "context": s["portfolio"]["context"], "price_history": s["history"]["price_history"],
        "price_buffer": s["history"]["price_buffer"],
        "risk_state": {"vector": rm["state"], "var_currency": rm["var_currency"],
                       "concentration": rm["concentration"], "correlation": s["correlation"]},
        "normalizer": s["volatility"]["normalizer"], "normalized": s["volatility"]["normalized"],
        "rng": s["var_engine"]["rng"], "n_simulations": s["var_engine"]["n_simulations"],
        "flush_every": s["processor"]["flush_every"], "max_buffer": s["processor"]["max_buffer"],
        "halted": s["processor"]["halted"], "volume": s["history"]["volume"], "spread": s["history"]["spread"],
    }


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _save(store: Any, runtime: RiskRuntime, kind: SnapshotKind, reason: str | None, keep: int | None,
          at: datetime | None) -> SnapshotInfo:
    arrays: dict[str, np.ndarray] = {}
    state = _split(_sections(runtime), arrays, "s")
    state_json = codec.dumps({"format_version": FORMAT_VERSION, "sections": state})
    blobs = {name: codec.array_to_bytes(name, a) for name, a in arrays.items()}
    sid = uuid.uuid4().hex[:16]
    created = _now() if at is None else pd.Timestamp(at).to_pydatetime().replace(tzinfo=None)
    _db.save_snapshot(store, snapshot_id=sid, created_at=created, kind=kind.value, reason=reason,
                      format_version=FORMAT_VERSION, checksum=_checksum(state_json, blobs), state_json=state_json,
                      blobs=blobs, keep=keep)
    n = len(state_json.encode("utf-8")) + sum(map(len, blobs.values()))
    return SnapshotInfo(sid, pd.Timestamp(created), kind, reason, FORMAT_VERSION, n)


def _reason(reason: Any, required: bool) -> str | None:
    if reason is None or (isinstance(reason, str) and not reason.strip()):
        if required:
            raise InputError("reason", "an emergency backup needs a reason (what happened)", value=reason)
        return None
    if not isinstance(reason, str) or len(reason) > 500:
        raise InputError("reason", "must be text of at most 500 characters", value=str(reason)[:50])
    return reason.strip()


def snapshot(store: Any, runtime: RiskRuntime, *, reason: str | None = None,
             kind: SnapshotKind | str = SnapshotKind.ON_DEMAND, keep: int | None = None,
             at: datetime | None = None) -> SnapshotInfo:
    """Save ``runtime`` as one snapshot (one transaction) and return its listing row.

    Parameters
    ----------
    store : Store
    runtime : RiskRuntime
    reason : str, optional
        Why (required for an emergency backup).
    kind : SnapshotKind, default ON_DEMAND
    keep : int, optional
        Keep at most this many snapshots of ``kind`` (older ones are deleted in the same transaction).
    at : datetime, optional
        Time stamp (UTC); default now. The scheduler passes its clock.

    Raises
    ------
    InputError
        For a bad kind or reason, or state that cannot be stored (e.g. a price history with
        non-float columns).
    """
    try:
        kind = SnapshotKind(kind)
    except ValueError:
        raise InputError("kind", f"must be one of {[k.value for k in SnapshotKind]}", value=kind) from None
    return _save(store, runtime, kind, _reason(reason, kind is SnapshotKind.EMERGENCY), keep, at)


def emergency_backup(store: Any, runtime: RiskRuntime, reason: str) -> SnapshotInfo:
    """An emergency snapshot with a reason (kept until deleted, never pruned by the schedule)."""
    return snapshot(store, runtime, reason=reason, kind=SnapshotKind.EMERGENCY)


def list_snapshots(store: Any, kind: SnapshotKind | str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Snapshots, newest first: snapshot_id, created_at, kind, reason, format_version, n_bytes."""
    if kind is not None:
        try:
            kind = SnapshotKind(kind).value
        except ValueError:
            raise InputError("kind", f"must be one of {[k.value for k in SnapshotKind]}", value=kind) from None
    return _db.list_snapshots(store, kind, limit)


def delete_snapshot(store: Any, snapshot_id: str) -> None:
    _db.delete_snapshot(store, str(snapshot_id))


def _corrupt(sid: str, what: str) -> InputError:
    return InputError("snapshot", f"{sid} is damaged ({what}): restore another snapshot (list_snapshots shows "
                                  "them) and delete this one", value=sid)


def restore(store: Any, which: str = "latest", *, system: RiskSystem | Callable[[TeamRef], RiskSystem] | None = None,
            decision_store: Any = None, now: datetime | None = None,
            stale_after: timedelta = STALE_AFTER) -> RestoreResult:
    """Rebuild the risk state saved in a snapshot.

    Parameters
    ----------
    store : Store
    which : str, default ``"latest"``
        ``"latest"`` or a snapshot id.
    system : RiskSystem or callable, optional
        The decision system of the restored processor, or a function of the snapshot's
        :class:`TeamRef` that builds it (e.g. from the model registry). Default: the rule agents
        with the saved critic parameters and limits; a snapshot that names a team then says
        that the team still has to be loaded.
    decision_store : Store, optional
        Where the restored processor logs decisions (none by default).
    now : datetime, optional
        For the age check (default: now, UTC).
    stale_after : timedelta, default 24 h

    Returns
    -------
    RestoreResult
        ``stale`` is true (and a :class:`RecoveryWarning` is issued) when the snapshot is older
        than ``stale_after``.

    Raises
    ------
    InputError
        No snapshot, an unknown id, a snapshot from a newer riskcore, or a damaged one; each says
        what to do.
    """
    t0 = time.perf_counter()
    if not isinstance(which, str) or not which:
        raise InputError("snapshot_id", "must be 'latest' or a snapshot id", value=which)
    row, blobs = _db.load_snapshot_rows(store, None if which == "latest" else which)
    if row is None:
        if which == "latest":
            raise InputError("snapshot", "the store has no snapshot yet: take one with "
                                         "riskcore.recovery.snapshot(store, runtime)")
        raise InputError("snapshot_id", "no snapshot has this id: pick one from list_snapshots(store) or "
                                        "restore 'latest'", value=which)
    sid, created, kind, reason, version, n_bytes, checksum, state_json = row
    if int(version) > FORMAT_VERSION:
        raise InputError("format_version", f"snapshot {sid} was written by a newer riskcore (snapshot format "
                         f"{version}, this one reads up to {FORMAT_VERSION}): upgrade riskcore to restore it, or "
                         "restore an older snapshot", value=int(version))
    blob_map = dict(blobs)
    if _checksum(state_json, blob_map) != checksum:
        raise _corrupt(sid, "checksum mismatch")
    try:
        arrays = {name: codec.bytes_to_array(b) for name, b in blob_map.items()}
        doc = codec.loads(state_json)
        if int(doc.get("format_version", -1)) != int(version):
            raise ValueError("format version of the content and the row differ")
        s = _join(doc["sections"], arrays)
        team = None if s["team"] is None else TeamRef(s["team"]["name"], s["team"]["version"])
        critic = s["critic"]
    except (InputError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _corrupt(sid, f"{type(exc).__name__}: {exc}") from exc
    # the caller's system (or builder) outside the damage check: its own errors are its own
    try:
        system, team_loaded, messages = _system_for(team, critic, system)
    except InputError as exc:
        if system is None:  # built from the snapshot's critic section alone: the snapshot is at fault
            raise _corrupt(sid, str(exc)) from exc
        raise
    try:
        runtime = _runtime(s, team, system, decision_store)
    except InputError as exc:
        raise _corrupt(sid, f"its content does not rebuild: {exc}") from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _corrupt(sid, f"{type(exc).__name__}: {exc}") from exc
    info = SnapshotInfo(sid, pd.Timestamp(created), SnapshotKind(kind), reason, int(version), int(n_bytes))
    age = (now or _now()) - pd.Timestamp(created).to_pydatetime()
    stale = age > stale_after
    msgs = list(messages)
    if stale:
        msgs.insert(0, f"Snapshot {sid} is {age.total_seconds() / 3600:.1f} h old (more than "
                       f"{stale_after.total_seconds() / 3600:g} h): positions, prices and alerts may have moved "
                       "since; check them before trading on this state.")
    for m in msgs:
        warnings.warn(m, RecoveryWarning, stacklevel=2)
    return RestoreResult(info, runtime, age, stale, team_loaded, tuple(msgs), time.perf_counter() - t0)


def _system_for(team: TeamRef | None, critic: Mapping[str, Any], system: Any) -> tuple[RiskSystem, bool, list[str]]:
    """The decision system of the restored processor, whether the team is in it, and what to tell."""
    if isinstance(system, RiskSystem):
        return system, True, []
    if callable(system):
        if team is None:
            raise InputError("system", "a builder needs a snapshot with a team; pass a RiskSystem or nothing")
        built = system(team)
        if not isinstance(built, RiskSystem):
            raise InputError("system", "the builder must return a RiskSystem", value=type(built).__name__)
        return built, True, []
    if system is not None:
        raise InputError("system", "must be a RiskSystem, a function of the team, or None",
                         value=type(system).__name__)
    try:
        rule_critic = RuleCritic(**critic["params"]) if critic["kind"] == "rule" else None
        built = RiskSystem(critic=rule_critic, limits=RiskLimits(**critic["limits"]))
    except (KeyError, TypeError) as exc:
        raise InputError("snapshot.critic", f"does not rebuild ({type(exc).__name__}: {exc})") from None
    if team is None:
        return built, True, []
    return built, False, [f"The snapshot's active team is {team.name} v{team.version}; it was not loaded, so the "
                          "rule agents decide: pass system= (a RiskSystem or a function of the team) to use it."]


def _runtime(s: Mapping[str, Any], team: TeamRef | None, system: RiskSystem, decision_store: Any) -> RiskRuntime:
    processor = RiskEventProcessor.from_state(_processor_state(s), system=system, store=decision_store)
    monitor = None if s["alerts"] is None else monitor_from_state(s["alerts"])
    return RiskRuntime(processor, monitor, team, dict(s.get("extra") or {}))


class SnapshotScheduler:
    """Snapshots on a schedule (PRD: hourly, the newest 24 kept) and emergency backups.

    No thread: whoever drives the runtime calls :meth:`tick` (after each event, or from a page
    run); a snapshot is taken when ``every_s`` seconds of ``clock`` have passed since the last
    one (or since the scheduler was made). A failed write is logged and retried at the next
    tick; it never raises into event processing.

    Parameters
    ----------
    store : Store
    runtime : RiskRuntime
    every_s : float, default 3600
    keep : int, default 24
        Scheduled snapshots kept (older ones are deleted in the writing transaction).
    clock : callable, default ``time.time``
        Seconds since the epoch (a test passes a fake clock).
    emergency_on_signal : bool, default True
        :meth:`tick` given an ``EMERGENCY_SIGNAL`` response writes an emergency backup at once.

    Examples
    --------
    >>> sched = SnapshotScheduler(store, runtime)                 # doctest: +SKIP
    >>> for event_type, data in stream:                           # doctest: +SKIP
    ...     sched.tick(runtime.process(event_type, data))
    """

    def __init__(self, store: Any, runtime: RiskRuntime, *, every_s: float = SCHEDULE_EVERY_S,
                 keep: int = SCHEDULE_KEEP, clock: Callable[[], float] = time.time, emergency_on_signal: bool = True):
        if not (isinstance(every_s, (int, float)) and every_s > 0):
            raise InputError("every_s", "must be a number of seconds > 0", value=every_s)
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise InputError("keep", "must be an integer >= 1", value=keep)
        self.store, self.runtime = store, runtime
        self.every_s, self.keep, self.clock = float(every_s), keep, clock
        self.emergency_on_signal = bool(emergency_on_signal)
        self.last_at = float(clock())
        self.last_error: str | None = None
        self.taken: list[SnapshotInfo] = []

    def due(self) -> bool:
        return self.clock() - self.last_at >= self.every_s

    def _take(self, kind: SnapshotKind, reason: str | None) -> SnapshotInfo | None:
        now = float(self.clock())
        try:
            info = snapshot(self.store, self.runtime, kind=kind, reason=reason,
                            keep=self.keep if kind is SnapshotKind.SCHEDULED else None,
                            at=datetime.fromtimestamp(now, UTC).replace(tzinfo=None))
        except Exception as exc:  # the risk system keeps running; the next tick tries again
            self.last_error = f"{type(exc).__name__}: {exc}"
            _LOG.warning("snapshot (%s) failed: %s", kind.value, self.last_error)
            return None
        self.last_at, self.last_error = now, None
        self.taken.append(info)
        return info

    def tick(self, response: Mapping[str, Any] | None = None) -> SnapshotInfo | None:
        """Take the snapshot that is due, if any (an emergency backup for an emergency response)."""
        if self.emergency_on_signal and response is not None and response.get("status") == "emergency_response":
            return self._take(SnapshotKind.EMERGENCY, f"EMERGENCY_SIGNAL {response.get('emergency_type')}: "
                                                       f"{response.get('action')}")
        return self._take(SnapshotKind.SCHEDULED, None) if self.due() else None

    def emergency(self, reason: str) -> SnapshotInfo:
        """An emergency backup now (raises on a missing reason or a failed write: the caller asked)."""
        info = emergency_backup(self.store, self.runtime, reason)
        self.taken.append(info)
        return info
