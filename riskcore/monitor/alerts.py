"""Alert severities, thresholds as data, and the alert life cycle.

The rules are those of the portfolio PRD (seed 004, §3.2.1 ``_check_alert_conditions`` and
``_determine_alert_severity``) as SPEC.md §3 adopts them:

* a metric **breaches** its threshold when it is strictly beyond it (``value > limit`` for an upper
  limit, ``value < limit`` for a lower one);
* a breach of a metric that has no active alert raises exactly **one** new alert; while the metric
  stays beyond its limit nothing new is raised;
* when the metric comes back within its limit the active alert is **cleared**: a copy with status
  ``CLEARED`` and the clearing time goes to the history and the metric has no active alert;
* a user may **acknowledge** an active alert (:meth:`AlertEngine.acknowledge`): status
  ``ACKNOWLEDGED`` with who and when. It is still the open episode of its metric (nothing new is raised
  while the metric stays beyond its limit) and it is cleared like an active alert, keeping who
  acknowledged it. Life cycle: ``ACTIVE → (ACKNOWLEDGED →) CLEARED``;
* an episode outlives the process: :meth:`AlertEngine.restore` seeds the open alerts of a source
  from the store, so a new session of the same source continues (or clears) the stored episode
  instead of raising a duplicate;
* severity by excess ratio: ``>= 1.5`` CRITICAL, ``>= 1.25`` HIGH, ``>= 1.1`` MEDIUM, else LOW;
* CRITICAL and HIGH alerts trigger the PRD's automatic responses, which riskcore only **records**
  as decisions (it never trades).

Thresholds are a table of :class:`Threshold` rows, never ``if`` chains, so a page or a notebook can
show and change them.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.monitor.levels import ESCALATION, SEVERITY_COLOURS, SEVERITY_ORDER, AlertLevel, Severity, level_for
from riskcore.validate import finite

__all__ = [
    "Severity",
    "AlertStatus",
    "OPEN_STATUSES",
    "open_alerts",
    "with_channels",
    "Direction",
    "Threshold",
    "Alert",
    "ResponsePolicy",
    "AlertEngine",
    "alert_severity",
    "excess_ratio",
    "SEVERITY_ORDER",
    "SEVERITY_COLOURS",
]

#: Relative tolerance on the severity boundaries: a value typed as exactly 110 % of its threshold
#: (e.g. 0.33 against 0.3, whose floating-point ratio is 1.0999999999999999) reaches MEDIUM.
_BOUNDARY_RTOL = 1e-12


class AlertStatus(StrEnum):
    """Life-cycle state of an alert."""

    ACTIVE = "ACTIVE"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    CLEARED = "CLEARED"

    @property
    def is_open(self) -> bool:
        """ACTIVE or ACKNOWLEDGED: the metric's episode is not over."""
        return self is not AlertStatus.CLEARED


#: statuses of an episode that is not over (what :meth:`AlertEngine.restore` reads back)
OPEN_STATUSES: tuple[AlertStatus, ...] = (AlertStatus.ACTIVE, AlertStatus.ACKNOWLEDGED)


class Direction(StrEnum):
    """Which side of the limit is a breach."""

    ABOVE = "above"  # breach when value > limit (VaR %, drawdown, volatility …)
    BELOW = "below"  # breach when value < limit (liquidity, network health, VaR price level …)


_SEVERITY_BOUNDS: tuple[tuple[float, Severity], ...] = (
    (1.5, Severity.CRITICAL),
    (1.25, Severity.HIGH),
    (1.1, Severity.MEDIUM),
)


def _direction(x: Any, field: str = "direction") -> Direction:
    try:
        return Direction(x)
    except ValueError:
        raise InputError(field, f"must be one of {', '.join(d.value for d in Direction)}", value=x) from None


def excess_ratio(value: float, threshold: float, direction: Direction | str = Direction.ABOVE) -> float:
    """How far ``value`` is beyond ``threshold``, as a ratio (1 = at the limit).

    Parameters
    ----------
    value : float
        Current value of the metric (may be 0; ``inf`` ratio for a lower limit then).
    threshold : float
        The limit, > 0.
    direction : Direction or str, default ``"above"``
        ``"above"``: ratio ``value / threshold`` (the PRD's). ``"below"``: ratio ``threshold / value``
        (for lower limits such as liquidity; the PRD has none, this is the symmetric choice).

    Returns
    -------
    float

    Raises
    ------
    InputError
        If ``threshold`` is not a finite number > 0 or ``value`` is not finite.
    """
    v = finite("value", value)
    t = finite("threshold", threshold)
    if t <= 0:
        raise InputError("threshold", "must be > 0 for an excess ratio", value=threshold)
    if _direction(direction) is Direction.ABOVE:
        return v / t
    return math.inf if v <= 0 else t / v


def alert_severity(value: float, threshold: float, direction: Direction | str = Direction.ABOVE) -> Severity:
    """Severity of a breach by its excess ratio (PRD §3.2.1, SPEC.md §3).

    Parameters
    ----------
    value, threshold : float
        Metric value and its limit (> 0).
    direction : Direction or str, default ``"above"``
        See :func:`excess_ratio`.

    Returns
    -------
    Severity
        A ``StrEnum``: compares equal to ``"CRITICAL"``, ``"HIGH"``, ``"MEDIUM"`` or ``"LOW"``.

    Notes
    -----
    With :math:`r` the excess ratio: CRITICAL if :math:`r \\ge 1.5`, HIGH if :math:`r \\ge 1.25`,
    MEDIUM if :math:`r \\ge 1.1`, else LOW. Boundaries are inclusive with a relative tolerance of
    1e-12, so ``alert_severity(0.33, 0.3)`` is MEDIUM although ``0.33 / 0.3`` rounds below 1.1.

    Examples
    --------
    >>> alert_severity(1.5, 1.0)
    <Severity.CRITICAL: 'CRITICAL'>
    >>> alert_severity(88.0, 80.0) == "MEDIUM"
    True
    """
    r = excess_ratio(value, threshold, direction)
    for bound, sev in _SEVERITY_BOUNDS:
        if r >= bound * (1 - _BOUNDARY_RTOL):
            return sev
    return Severity.LOW


@dataclass(frozen=True)
class Threshold:
    """One row of an alert-threshold table.

    Parameters
    ----------
    metric : str
        Key of the metric in the mapping given to :meth:`AlertEngine.evaluate`.
    limit : float
        The limit (> 0 when severity is by excess ratio).
    direction : Direction, default ABOVE
        Breach when the value is above (or below) the limit.
    severity : Severity, optional
        Fixed severity (the token monitor's seed table gives one per alert type); ``None`` means
        by excess ratio (:func:`alert_severity`, the PRD's rule).
    alert_type : str, optional
        Name of the alert kind (e.g. ``"var_breach"``); defaults to the metric.
    label, unit : str
        For messages: ``"Portfolio VaR"``, ``"%"``.
    fmt : str
        Format spec of the value in messages.
    """

    metric: str
    limit: float
    direction: Direction = Direction.ABOVE
    severity: Severity | None = None
    alert_type: str | None = None
    label: str = ""
    unit: str = ""
    fmt: str = ".3f"

    def __post_init__(self) -> None:
        if not isinstance(self.metric, str) or not self.metric:
            raise InputError("metric", "must be a non-empty string", value=self.metric)
        object.__setattr__(self, "limit", finite(f"{self.metric}.limit", self.limit))
        object.__setattr__(self, "direction", _direction(self.direction, f"{self.metric}.direction"))
        if self.severity is not None:
            try:
                object.__setattr__(self, "severity", Severity(self.severity))
            except ValueError:
                raise InputError(f"{self.metric}.severity", "must be one of LOW, MEDIUM, HIGH, CRITICAL",
                                 value=self.severity) from None
        elif self.limit <= 0:
            raise InputError(f"{self.metric}.limit", "must be > 0 when severity is by excess ratio",
                             value=self.limit)

    def breached(self, value: float) -> bool:
        """Strictly beyond the limit (the PRD's ``current_value > threshold``)."""
        return value > self.limit if self.direction is Direction.ABOVE else value < self.limit

    def severity_of(self, value: float) -> Severity:
        return self.severity if self.severity is not None else alert_severity(value, self.limit, self.direction)

    def message(self, value: float) -> str:
        op = ">" if self.direction is Direction.ABOVE else "<"
        name = self.label or self.metric
        return f"{name} {value:{self.fmt}}{self.unit} {op} {self.limit:{self.fmt}}{self.unit}"

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "limit": self.limit, "direction": str(self.direction),
                "severity": None if self.severity is None else str(self.severity),
                "alert_type": self.alert_type or self.metric, "label": self.label, "unit": self.unit}


@dataclass(frozen=True)
class Alert:
    """One alert; immutable, so a cleared alert is a new object with the same ``alert_id``.

    ``value`` is the value when the alert was raised, ``seq`` the tick that raised it; a cleared copy
    adds ``cleared_at``, ``cleared_value`` and ``cleared_seq`` (the tick back within the limit).
    """

    alert_id: str
    source: str
    metric: str
    alert_type: str
    severity: Severity
    status: AlertStatus
    value: float
    threshold: float
    direction: Direction
    message: str
    created_at: pd.Timestamp
    seq: int | None = None
    cleared_at: pd.Timestamp | None = None
    cleared_value: float | None = None
    level: str | None = None
    cleared_seq: int | None = None
    acknowledged_at: pd.Timestamp | None = None
    acknowledged_by: str | None = None

    def to_record(self) -> dict[str, Any]:
        """A flat dict for :meth:`riskcore.store.Store.save_alerts` and tables."""
        return {
            "alert_id": self.alert_id, "source": self.source, "metric": self.metric,
            "alert_type": self.alert_type, "severity": str(self.severity), "level": self.level,
            "status": str(self.status), "value": self.value, "threshold": self.threshold,
            "direction": str(self.direction), "message": self.message,
            "created_at": _naive(self.created_at), "cleared_at": _naive(self.cleared_at),
            "cleared_value": self.cleared_value, "seq": self.seq, "cleared_seq": self.cleared_seq,
            "acknowledged_at": _naive(self.acknowledged_at), "acknowledged_by": self.acknowledged_by,
        }

    def to_dict(self) -> dict[str, Any]:
        return self.to_record()


def _naive(ts: pd.Timestamp | None) -> datetime | None:
    if ts is None or pd.isna(ts):
        return None
    t = pd.Timestamp(ts)
    if t.tzinfo is not None:
        t = t.tz_convert("UTC").tz_localize(None)
    return t.to_pydatetime()


@dataclass(frozen=True)
class ResponsePolicy:
    """Automatic responses to new alerts, as data (PRD §3.2.1 ``_execute_critical_risk_response``).

    Parameters
    ----------
    critical : mapping of metric to response dict
        Response to a CRITICAL alert of that metric (``action`` plus fields such as
        ``reduction_pct``).
    critical_default : str
        Action for a CRITICAL alert of any other metric (PRD: ``HALT_NEW_TRADES``).
    high_action : str or None
        Action for a HIGH alert. The PRD calls ``_execute_high_risk_response`` without defining it;
        riskcore records ``INCREASE_MONITORING`` (escalate and watch, change nothing).

    Notes
    -----
    Responses are **recorded** (``status="RECORDED"``, never executed): riskcore has no execution
    system and does not trade.
    """

    critical: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    critical_default: str = "HALT_NEW_TRADES"
    high_action: str | None = "INCREASE_MONITORING"

    def respond(self, alert: Alert) -> dict[str, Any] | None:
        """The response record for a new alert, or ``None`` for MEDIUM and LOW."""
        if alert.severity is Severity.CRITICAL:
            spec = dict(self.critical.get(alert.metric, {"action": self.critical_default}))
        elif alert.severity is Severity.HIGH and self.high_action:
            spec = {"action": self.high_action}
        else:
            return None
        spec.setdefault("reason", f"{alert.severity.title()} {alert.alert_type}: {alert.message}")
        return {"event_type": "RISK_RESPONSE", **spec, "alert_id": alert.alert_id, "metric": alert.metric,
                "severity": str(alert.severity), "value": alert.value, "threshold": alert.threshold,
                "source": alert.source, "timestamp": _naive(alert.created_at),
                "execution_priority": "CRITICAL" if alert.severity is Severity.CRITICAL else "HIGH",
                "executed": False}


_ids = itertools.count()
_PID = os.getpid()


def _alert_id(source: str, metric: str) -> str:
    # Unique across processes and restarts: pid, a monotonic counter and the wall clock in µs.
    return f"{source}:{metric}:{time.time_ns() // 1000:x}{_PID:x}{next(_ids):x}"


class AlertEngine:
    """Raise, track and clear threshold alerts (the PRD's life cycle).

    Parameters
    ----------
    thresholds : sequence of Threshold or mapping of metric to limit
        The table, always given by the caller (the portfolio monitor owns the PRD's table,
        :data:`riskcore.monitor.portfolio.PRD_THRESHOLDS`; the token monitor its own). A mapping
        ``{"portfolio_var_pct": 1.0}`` means upper limits with severity by excess ratio.
    source : str, default ``"portfolio"``
        Written on every alert (``"token"``, ``"portfolio"``, a feed id …).
    responses : ResponsePolicy, optional
        Automatic responses (recorded only). Default ``ResponsePolicy()``: the PRD's generic rule
        (CRITICAL halts new trades, HIGH increases monitoring) with no per-metric responses; the
        portfolio monitor passes :data:`riskcore.monitor.portfolio.PRD_RESPONSES`.
    history_size : int, default 1000
        Length of :attr:`history` (the PRD's ``deque(maxlen=1000)``).
    level_of : callable, optional
        ``(metric, severity) -> level`` naming the routing level of each alert (INFO … EMERGENCY);
        default :func:`riskcore.monitor.levels.level_for`.

    Attributes
    ----------
    active : dict of str to Alert
        Active alert per metric.
    history : collections.deque of Alert
        Every raised alert (status ACTIVE as raised) and every clearing (status CLEARED), in order.
    decisions : list of dict
        Automatic responses recorded so far (kept until :meth:`flush` persists them).

    Notes
    -----
    :meth:`evaluate` is the hot path: a loop over a handful of table rows, no I/O. Persistence is
    batched in :meth:`flush` (``store.save_alerts`` and ``store.log_decisions``), which the caller
    runs off the per-tick path. A metric that is missing or NaN in a call is *not observed*: it
    neither raises nor clears.

    Examples
    --------
    >>> eng = AlertEngine({"drawdown": 1.5})
    >>> [a.severity for a in eng.evaluate({"drawdown": 2.0})]
    [<Severity.HIGH: 'HIGH'>]
    >>> eng.evaluate({"drawdown": 2.1}), list(eng.active)
    ([], ['drawdown'])
    >>> eng.evaluate({"drawdown": 1.0}), eng.history[-1].status
    ([], <AlertStatus.CLEARED: 'CLEARED'>)
    """

    def __init__(self, thresholds: Sequence[Threshold] | Mapping[str, float], *,
                 source: str = "portfolio", responses: ResponsePolicy | None = None,
                 history_size: int = 1000, level_of: Callable[[str, Severity], str] = level_for):
        self._level_of = level_of
        self.thresholds: tuple[Threshold, ...] = self._table(thresholds)
        self.source = str(source)
        self.responses = ResponsePolicy() if responses is None else responses
        if int(history_size) < 1:
            raise InputError("history_size", "must be >= 1", value=history_size)
        self.active: dict[str, Alert] = {}
        self.history: deque[Alert] = deque(maxlen=int(history_size))
        self.decisions: list[dict[str, Any]] = []
        self._pending: dict[str, Alert] = {}   # alert_id -> latest state, not yet persisted
        self._pending_decisions: list[dict[str, Any]] = []
        self.n_raised = 0
        self.n_cleared = 0
        self._paused = False

    @staticmethod
    def _table(thresholds: Sequence[Threshold] | Mapping[str, float]) -> tuple[Threshold, ...]:
        if isinstance(thresholds, Mapping):
            rows = tuple(Threshold(str(k), v) for k, v in thresholds.items())
        else:
            rows = tuple(thresholds)
            for i, t in enumerate(rows):
                if not isinstance(t, Threshold):
                    raise InputError("thresholds", "rows must be Threshold objects", value=t, row=i + 1)
        if not rows:
            raise InputError("thresholds", "needs at least one threshold", value=thresholds)
        seen = [t.metric for t in rows]
        dup = {m for m in seen if seen.count(m) > 1}
        if dup:
            raise InputError("thresholds", "one threshold per metric", value=sorted(dup))
        return rows

    # -- the hot path -------------------------------------------------------------------
    def evaluate(self, metrics: Mapping[str, float], *, ts: Any = None, seq: int | None = None) -> list[Alert]:
        """Check every threshold once; return the **new** alerts only.

        Parameters
        ----------
        metrics : mapping of str to float
            Current values. Missing or NaN metrics are skipped (not observed).
        ts : timestamp-like, optional
            Time of the observation (default, or when ``ts`` is a plain number: now, UTC). Feeds pass
            the tick time.
        seq : int, optional
            Tick number, kept on the alert.

        Returns
        -------
        list of Alert
            Alerts raised by this call (metrics that were not already active).
        """
        if self._paused:
            return []
        if isinstance(ts, (pd.Timestamp, datetime, np.datetime64, str)):
            now = pd.Timestamp(ts)
        else:  # no time, or a tick number: the alert is stamped with the wall clock, ``seq`` keeps the tick
            now = pd.Timestamp.now("UTC").tz_localize(None)
        observed: list[tuple[Threshold, float]] = []
        for th in self.thresholds:  # read every value first: a bad one changes nothing
            value = metrics.get(th.metric)
            if value is None:
                continue
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise InputError(th.metric, "must be a number", value=value) from None
            if value == value:  # NaN: not observed
                observed.append((th, value))
        new: list[Alert] = []
        for th, value in observed:
            current = self.active.get(th.metric)
            if th.breached(value):
                if current is None:
                    sev = th.severity_of(value)
                    alert = Alert(
                        alert_id=_alert_id(self.source, th.metric), source=self.source, metric=th.metric,
                        alert_type=th.alert_type or th.metric, severity=sev,
                        status=AlertStatus.ACTIVE, value=value, threshold=th.limit, direction=th.direction,
                        message=th.message(value), created_at=now, seq=seq,
                        level=str(self._level_of(th.metric, sev)))
                    self.active[th.metric] = alert
                    self.history.append(alert)
                    self._pending[alert.alert_id] = alert
                    new.append(alert)
                    self.n_raised += 1
                    response = self.responses.respond(alert)
                    if response is not None:
                        self.decisions.append(response)
                        self._pending_decisions.append(response)
            elif current is not None:
                cleared = replace(current, status=AlertStatus.CLEARED, cleared_at=now, cleared_value=value,
                                  cleared_seq=seq)
                del self.active[th.metric]
                self.history.append(cleared)
                self._pending[cleared.alert_id] = cleared
                self.n_cleared += 1
        return new

    # -- episodes across sessions, acknowledgement ------------------------------------------
    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Within the block :meth:`evaluate` observes nothing (neither raises nor clears).

        The monitor session primes a new feed's window this way: the primed ticks are history, and
        only the state at the end of priming is evaluated (once, without notification).
        """
        was, self._paused = self._paused, True
        try:
            yield
        finally:
            self._paused = was

    def restore(self, records: pd.DataFrame | Iterable[Mapping[str, Any]]) -> int:
        """Seed the open episodes of this source from stored alerts; returns how many were restored.

        Parameters
        ----------
        records : DataFrame or iterable of mappings
            Rows as :meth:`riskcore.store.Store.list_alerts` returns them (or :meth:`Alert.to_record`
            dicts). Rows of another source, of a metric without a threshold here, or not open
            (``CLEARED``) are ignored; for a metric with several open rows the newest wins.

        Notes
        -----
        A restored alert keeps its ``alert_id``, so clearing it later overwrites the stored row
        (the store upserts by ``alert_id``) and the episode has one row from raise to clear. A metric
        that already has an active alert in this engine keeps it. Restoring changes nothing in the
        store and raises no response.
        """
        rows = records.to_dict("records") if isinstance(records, pd.DataFrame) else [dict(r) for r in records]
        by_metric = {t.metric: t for t in self.thresholds}
        chosen: dict[str, dict[str, Any]] = {}
        for r in rows:
            metric = r.get("metric")
            try:
                status = AlertStatus(str(r.get("status")))
            except ValueError:
                continue
            if r.get("source") != self.source or metric not in by_metric or not status.is_open:
                continue
            if metric in self.active:
                continue
            prev = chosen.get(metric)
            if prev is None or pd.Timestamp(r.get("created_at")) > pd.Timestamp(prev.get("created_at")):
                chosen[metric] = r
        for metric, r in chosen.items():
            th = by_metric[metric]
            sev = Severity(str(r.get("severity") or th.severity_of(float(r.get("value")))))
            ack_at = r.get("acknowledged_at")
            alert = Alert(
                alert_id=str(r["alert_id"]), source=self.source, metric=metric,
                alert_type=str(r.get("alert_type") or th.alert_type or metric), severity=sev,
                status=AlertStatus(str(r["status"])), value=float(r.get("value")), threshold=float(r.get("threshold")),
                direction=th.direction, message=str(r.get("message") or th.message(float(r.get("value")))),
                created_at=pd.Timestamp(r.get("created_at")), seq=_opt_int(r.get("seq")),
                level=r.get("level") or str(self._level_of(metric, sev)),
                acknowledged_at=None if ack_at is None or pd.isna(ack_at) else pd.Timestamp(ack_at),
                acknowledged_by=r.get("acknowledged_by"))
            self.active[metric] = alert
            self.history.append(alert)
        return len(chosen)

    def adopt(self, alert: Alert, existing: Alert) -> None:
        """Replace the just-raised ``alert`` by ``existing``, the same metric's open episode stored by
        another session of the source: the raise is undone (no history row, no pending write, no
        recorded response) and ``existing`` becomes the active alert."""
        if self.active.get(alert.metric) is not alert:
            raise InputError("alert", "is not the active alert of its metric", value=alert.alert_id)
        self.active[alert.metric] = existing
        self._pending.pop(alert.alert_id, None)
        self.history = deque((existing if a is alert else a for a in self.history), maxlen=self.history.maxlen)
        self.decisions = [d for d in self.decisions if d.get("alert_id") != alert.alert_id]
        self._pending_decisions = [d for d in self._pending_decisions if d.get("alert_id") != alert.alert_id]
        self.n_raised -= 1

    def acknowledge(self, alert: str, *, by: str | None = None, at: Any = None) -> Alert:
        """Mark an open alert ACKNOWLEDGED (by ``alert_id`` or metric); returns the new state.

        Parameters
        ----------
        alert : str
            ``alert_id`` or metric of an active alert of this engine.
        by : str, optional
            Who acknowledged (free text, at most 100 characters; blank: unknown).
        at : timestamp-like, optional
            When (default: now, UTC wall clock — an acknowledgement is a human act, never simulated time).

        Raises
        ------
        InputError
            If no open alert has that id or metric.
        """
        current = self.active.get(alert) or next((a for a in self.active.values() if a.alert_id == alert), None)
        if current is None:
            raise InputError("alert", "no active alert with this id or metric", value=alert)
        who = None if by is None or not str(by).strip() else str(by).strip()
        if who is not None and len(who) > 100:
            raise InputError("acknowledged_by", "must be at most 100 characters", value=len(who))
        when = pd.Timestamp.now("UTC").tz_localize(None) if at is None else pd.Timestamp(at)
        acked = replace(current, status=AlertStatus.ACKNOWLEDGED, acknowledged_at=when, acknowledged_by=who)
        self.active[current.metric] = acked
        self.history.append(acked)
        self._pending[acked.alert_id] = acked
        return acked

    # -- persistence, off the hot path ----------------------------------------------------
    def pending(self) -> tuple[list[Alert], list[dict[str, Any]]]:
        """Alerts (latest state) and decisions not yet persisted."""
        return list(self._pending.values()), list(self._pending_decisions)

    def flush(self, store: Any) -> int:
        """Persist new and changed alerts and the recorded responses in two batched writes.

        Alerts are upserted by ``alert_id`` (a cleared alert overwrites its active row); responses
        go to the decision log with ``event_type="RISK_RESPONSE"`` and ``status="RECORDED"``.
        Returns the number of alert rows written. Nothing is lost when the store raises: the
        pending rows stay pending for the next flush.
        """
        alerts, decisions = self.pending()
        if alerts:
            store.save_alerts([a.to_record() for a in alerts])
        if decisions:
            store.log_decisions([("RISK_RESPONSE", d, "RECORDED", None) for d in decisions])
        for a in alerts:
            if self._pending.get(a.alert_id) is a:
                del self._pending[a.alert_id]
        del self._pending_decisions[:len(decisions)]
        return len(alerts)

    # -- views ------------------------------------------------------------------------------
    def active_frame(self) -> pd.DataFrame:
        """Active alerts, most severe first."""
        return _frame(sorted(self.active.values(), key=lambda a: (-a.severity.rank, a.metric)))

    def history_frame(self) -> pd.DataFrame:
        """The history, newest first."""
        return _frame(list(reversed(self.history)))

    def summary(self) -> pd.DataFrame:
        """Counts by severity: active now and raised in the history."""
        raised = [a for a in self.history if a.status is AlertStatus.ACTIVE]
        return pd.DataFrame(
            {"active": [sum(a.severity is s for a in self.active.values()) for s in SEVERITY_ORDER],
             "raised": [sum(a.severity is s for a in raised) for s in SEVERITY_ORDER]},
            index=pd.Index([str(s) for s in SEVERITY_ORDER], name="severity"))

    def reset(self) -> None:
        """Forget active alerts and history (pending persistence is kept)."""
        self.active.clear()
        self.history.clear()


_FRAME_COLUMNS = ["alert_id", "created_at", "source", "metric", "alert_type", "severity", "level", "status",
                  "value", "threshold", "direction", "message", "cleared_at", "cleared_value", "seq", "cleared_seq",
                  "acknowledged_at", "acknowledged_by"]


def _opt_int(x: Any) -> int | None:
    if x is None:
        return None
    try:
        return None if pd.isna(x) else int(x)
    except (TypeError, ValueError):
        return None


def open_alerts(store: Any, source: str) -> pd.DataFrame:
    """The stored alerts of ``source`` whose episode is open (ACTIVE or ACKNOWLEDGED), newest first,
    with the acknowledgement fields when the store keeps them (for :meth:`AlertEngine.restore`)."""
    reader = getattr(store, "list_alert_records", None)
    if reader is not None:
        return reader(source=source, statuses=[str(s) for s in OPEN_STATUSES])
    frames = [store.list_alerts(source=source, status=str(s)) for s in OPEN_STATUSES]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _frame(alerts: Iterable[Alert]) -> pd.DataFrame:
    rows = [a.to_record() for a in alerts]
    return pd.DataFrame(rows, columns=_FRAME_COLUMNS)


def with_channels(frame: pd.DataFrame) -> pd.DataFrame:
    """An alert table with its ``level`` column replaced by ``notified via`` (the channels it reaches).

    Notes
    -----
    riskcore shows **one** rating per alert, its :class:`Severity`. The PRD's notification level
    (INFO, WARNING, CRITICAL, EMERGENCY; :func:`riskcore.monitor.levels.level_for`) is a routing
    attribute derived from the severity (LOW → INFO, MEDIUM → WARNING, HIGH and CRITICAL → CRITICAL,
    CRITICAL drawdown / margin / liquidity → EMERGENCY); shown next to the severity it reads as a
    contradiction ("HIGH", "CRITICAL"), so tables show the channels it escalates to instead.
    """
    if frame.empty or "level" not in frame:
        return frame
    def channels(level: Any) -> str:
        try:
            return ", ".join(ESCALATION[AlertLevel(str(level))])
        except ValueError:
            return ""

    out = frame.copy()
    out.insert(list(out.columns).index("level"), "notified via", [channels(v) for v in out.pop("level")])
    return out
