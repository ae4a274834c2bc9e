"""Alert routing and escalation (PRD §5.3.1 ``CriticalRiskAlerting``).

Levels, the escalation table and :func:`level_for` live in :mod:`riskcore.monitor.levels` (shared
with :mod:`riskcore.monitor.alerts`); they are re-exported here.

riskcore delivers over HTTP only (generic webhook and Slack). E-mail and SMS gateways are not part
of it: a level that escalates to them records the delivery as ``not_configured`` so the gap is
visible rather than silent.

Delivery never blocks monitoring, and one channel never delays another: :class:`AlertRouter`
gives each channel its own bounded queue and sender thread (the oldest payload is dropped, and
counted, when a queue is full), and each delivery has a hard total deadline (the channel's
``timeout``: DNS, connect, every read, retries and backoff). An endpoint that never answers or
drips its reply only backs up its own queue. Failures are reported as channel-health records
(:meth:`AlertRouter.drain_reports`), which the monitor session persists as alerts of source
``"channel"``.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pandas as pd

from riskcore.monitor.alerts import Alert, AlertStatus
from riskcore.monitor.levels import EMERGENCY_METRICS, ESCALATION, AlertLevel, ChannelKind, Severity, level_for
from riskcore.monitor.webhooks import WebhookChannel, configured_webhooks, make_channel, redact_text

__all__ = [
    "AlertLevel",
    "ChannelKind",
    "DeliveryStatus",
    "ESCALATION",
    "EMERGENCY_METRICS",
    "level_for",
    "alert_payload",
    "Delivery",
    "AlertRouter",
]


class DeliveryStatus(StrEnum):
    """Outcome of one alert on one channel."""

    DELIVERED = "delivered"
    FAILED = "failed"
    NOT_CONFIGURED = "not_configured"   # the level escalates to a kind with no channel (e-mail, SMS …)
    DROPPED = "dropped"                 # the channel's queue was full; the oldest payload went


def alert_payload(alert: Alert, *, system: str = "riskcore") -> dict[str, Any]:
    """The PRD's alert message (``timestamp, level, title, message, context, system, source``)."""
    level = alert.level or str(level_for(alert.metric, alert.severity))
    return {
        "timestamp": pd.Timestamp(alert.created_at).isoformat(),
        "level": level,
        "title": f"{alert.severity} {alert.alert_type.replace('_', ' ')}",
        "message": alert.message,
        "context": {"alert_id": alert.alert_id, "metric": alert.metric, "value": alert.value,
                    "threshold": alert.threshold, "severity": str(alert.severity), "status": str(alert.status),
                    "source": alert.source},
        "system": system,
        "source": alert.source,
    }


@dataclass(frozen=True)
class Delivery:
    """Outcome of one alert on one channel (a :class:`DeliveryStatus`)."""

    alert_id: str
    level: str
    channel_kind: str
    channel: str
    outcome: DeliveryStatus
    at: datetime
    latency_ms: float | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        # plain strings in tables and the store, whatever enum the fields hold
        return {**self.__dict__, "channel_kind": str(self.channel_kind), "outcome": str(self.outcome)}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


_STOP = object()


class AlertRouter:
    """Send alerts to the channels their level escalates to.

    Parameters
    ----------
    channels : mapping of kind to sequence of WebhookChannel, optional
        e.g. ``{"webhook": [WebhookChannel(url)], "slack": [SlackWebhookChannel(url)]}``.
        ``None`` or empty: no delivery (every route is recorded as ``not_configured``).
    escalation : mapping, optional
        Level → channel kinds; default :data:`ESCALATION`.
    background : bool, default True
        Deliver on one daemon thread per channel (the monitor never waits, channels never wait
        for each other). ``False`` delivers inline, for scripts and tests.
    min_level : AlertLevel, default INFO
        Alerts below this level are not sent.
    queue_size : int, default 1000
        Bound of each channel's queue; the oldest payload is dropped when full.

    Notes
    -----
    :meth:`dispatch` is cheap (it enqueues). A channel that fails produces a channel-health record
    (:meth:`drain_reports`) the first time it fails and again when it recovers, never an exception.
    """

    def __init__(self, channels: Mapping[str, Sequence[WebhookChannel]] | None = None, *,
                 escalation: Mapping[AlertLevel, Sequence[str]] | None = None, background: bool = True,
                 min_level: AlertLevel | str = AlertLevel.INFO, queue_size: int = 1000):
        self.channels: dict[str, list[WebhookChannel]] = {k: list(v) for k, v in (channels or {}).items()}
        self.escalation = {AlertLevel(k): tuple(v) for k, v in (escalation or ESCALATION).items()}
        self.background = bool(background)
        self.min_level = AlertLevel(min_level)
        self.deliveries: deque[Delivery] = deque(maxlen=2000)
        self.n_dropped = 0
        self._reports: list[dict[str, Any]] = []
        self._failing: set[str] = set()
        self._lock = threading.Lock()
        self._queue_size = max(1, int(queue_size))
        # one queue and one sender thread per channel (keyed by the channel object's id)
        self._queues: dict[int, queue.Queue[Any]] = {}
        self._threads: dict[int, threading.Thread] = {}

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def from_config(cls, store: Any = None, env: Mapping[str, str] | None = None, *, timeout: float = 5.0,
                    retries: int = 2, backoff: float = 0.25, **kwargs: Any) -> AlertRouter:
        """Channels from ``$RISKCORE_WEBHOOK_URLS`` and the store's ``webhook_urls`` setting."""
        channels: dict[str, list[WebhookChannel]] = {}
        for cfg in configured_webhooks(store, env):
            channels.setdefault(cfg.kind, []).append(
                make_channel(cfg, timeout=timeout, retries=retries, backoff=backoff))
        return cls(channels, **kwargs)

    @property
    def n_channels(self) -> int:
        return sum(len(v) for v in self.channels.values())

    # -- routing -----------------------------------------------------------------------------
    def route(self, alert: Alert) -> tuple[AlertLevel, tuple[str, ...]]:
        """The level of ``alert`` and the channel kinds it escalates to."""
        level = AlertLevel(alert.level) if alert.level else level_for(alert.metric, alert.severity)
        return level, self.escalation.get(level, (ChannelKind.WEBHOOK,))

    def dispatch(self, alerts: Iterable[Alert]) -> int:
        """Queue (or, inline mode, send) each alert to its channels; returns how many were accepted."""
        n = 0
        for alert in alerts:
            level, kinds = self.route(alert)
            if list(AlertLevel).index(level) < list(AlertLevel).index(self.min_level):
                continue
            job = (alert.alert_id, str(level), kinds, alert_payload(alert))
            n += 1
            if not self.background:
                self._deliver(job)
                continue
            alert_id, lvl, _, payload = job
            for kind in kinds:
                chans = self.channels.get(kind) or []
                if not chans:
                    self._not_configured(alert_id, lvl, kind)
                    continue
                for ch in chans:
                    self._enqueue(kind, ch, (alert_id, lvl, kind, payload))
        return n

    def _enqueue(self, kind: str, ch: WebhookChannel, job: tuple[str, str, str, dict[str, Any]]) -> None:
        q = self._ensure_worker(kind, ch)
        while True:
            try:
                q.put_nowait(job)
                return
            except queue.Full:
                try:
                    dropped = q.get_nowait()
                    q.task_done()
                    self._record_drop(dropped, ch)
                except queue.Empty:
                    pass

    def send_test(self, *, title: str = "riskcore test alert") -> list[Delivery]:
        """Send a test message to every configured channel, inline; returns one Delivery each."""
        payload = {"timestamp": _now().isoformat(), "level": "INFO", "title": title,
                   "message": "Test message from the riskcore Settings page.", "context": {"test": True},
                   "system": "riskcore", "source": "settings"}
        pairs = [(kind, ch) for kind, chans in self.channels.items() for ch in chans]
        out: list[Delivery | None] = [None] * len(pairs)

        def one(i: int) -> None:
            kind, ch = pairs[i]
            out[i] = self._send_one("test", "INFO", kind, ch, payload)

        # all channels at once: the test takes as long as the slowest channel's deadline, not their sum
        threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(pairs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return [d for d in out if d is not None]

    def _ensure_worker(self, kind: str, ch: WebhookChannel) -> queue.Queue[Any]:
        key = id(ch)
        with self._lock:
            q = self._queues.get(key)
            if q is None:
                q = self._queues[key] = queue.Queue(maxsize=self._queue_size)
            t = self._threads.get(key)
            if t is None or not t.is_alive():
                t = threading.Thread(target=self._worker, args=(kind, ch, q), daemon=True,
                                     name=f"riskcore-alert-{kind}-{len(self._threads)}")
                self._threads[key] = t
                t.start()
        return q

    def _worker(self, kind: str, ch: WebhookChannel, q: queue.Queue[Any]) -> None:
        while True:
            job = q.get()
            try:
                if job is _STOP:
                    return
                alert_id, level, _, payload = job
                self._send_one(alert_id, level, kind, ch, payload)
            except Exception:  # a sender must never die on one bad job
                pass
            finally:
                q.task_done()

    def _not_configured(self, alert_id: str, level: str, kind: str) -> None:
        with self._lock:
            self.deliveries.append(Delivery(alert_id, level, kind, "-", DeliveryStatus.NOT_CONFIGURED, _now()))

    def _record_drop(self, job: Any, ch: WebhookChannel) -> None:
        with self._lock:
            self.n_dropped += 1
            if job is not _STOP:
                self.deliveries.append(Delivery(job[0], job[1], job[2], ch.name, DeliveryStatus.DROPPED, _now(),
                                                error="queue full"))

    def _deliver(self, job: tuple[str, str, tuple[str, ...], dict[str, Any]]) -> None:
        alert_id, level, kinds, payload = job
        for kind in kinds:
            chans = self.channels.get(kind) or []
            if not chans:
                self._not_configured(alert_id, level, kind)
                continue
            for ch in chans:
                self._send_one(alert_id, level, kind, ch, payload)

    def _send_one(self, alert_id: str, level: str, kind: str, ch: WebhookChannel,
                  payload: Mapping[str, Any]) -> Delivery:
        t0 = time.monotonic()
        try:
            ok = ch.send(payload)
            error = None if ok else ch.last_error
        except Exception as exc:  # a custom channel may raise; the monitor must not see it
            ok, error = False, f"{type(exc).__name__}: {exc}"
        error = None if error is None else redact_text(error)  # never a secret in the log or the app
        d = Delivery(alert_id, level, kind, ch.name, DeliveryStatus.DELIVERED if ok else DeliveryStatus.FAILED, _now(),
                     (time.monotonic() - t0) * 1e3, error)
        with self._lock:
            self.deliveries.append(d)
            key = f"{kind}:{ch.name}"
            if not ok and key not in self._failing:
                self._failing.add(key)
                self._reports.append(self._health_record(kind, ch, d, failing=True))
            elif ok and key in self._failing:
                self._failing.discard(key)
                self._reports.append(self._health_record(kind, ch, d, failing=False))
        return d

    @staticmethod
    def _health_record(kind: str, ch: WebhookChannel, d: Delivery, *, failing: bool) -> dict[str, Any]:
        """An alert-table row describing a channel's health (source ``"channel"``)."""
        return {
            "alert_id": f"channel:{kind}:{ch.name}",
            "source": "channel",
            "metric": f"channel_{kind}",
            "severity": str(Severity.HIGH),
            "level": str(AlertLevel.WARNING),
            "status": str(AlertStatus.ACTIVE if failing else AlertStatus.CLEARED),
            "value": None,
            "threshold": None,
            "message": (f"{kind} channel {ch.name} failed: {d.error}" if failing
                        else f"{kind} channel {ch.name} delivers again"),
            "created_at": d.at,
            "cleared_at": None if failing else d.at,
        }

    # -- reporting ---------------------------------------------------------------------------
    def drain_reports(self) -> list[dict[str, Any]]:
        """Channel-health records produced since the last call (failing / recovered channels)."""
        with self._lock:
            out, self._reports = self._reports, []
        return out

    def health(self) -> pd.DataFrame:
        """One row per channel: kind, name, ok, counts, last status and error."""
        rows = [ch.health().to_dict() for chans in self.channels.values() for ch in chans]
        cols = ["name", "kind", "url", "ok", "n_sent", "n_failed", "consecutive_failures", "last_status",
                "last_error", "last_attempt_at", "last_latency_ms"]
        return pd.DataFrame(rows, columns=cols)

    def deliveries_frame(self) -> pd.DataFrame:
        with self._lock:
            rows = [d.to_dict() for d in self.deliveries]
        return pd.DataFrame(rows, columns=["alert_id", "level", "channel_kind", "channel", "outcome", "at",
                                           "latency_ms", "error"])

    def pending(self) -> dict[str, int]:
        """Payloads queued or being sent, per channel name."""
        names = {id(ch): ch.name for chans in self.channels.values() for ch in chans}
        with self._lock:
            return {names.get(k, str(k)): q.unfinished_tasks for k, q in self._queues.items()}

    def join(self, timeout: float = 10.0) -> bool:
        """Wait until every channel's queue is empty (for scripts and tests); ``True`` if they emptied."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                busy = any(q.unfinished_tasks for q in self._queues.values())
            if not busy:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)

    def close(self) -> None:
        """Stop the background senders after their queued payloads (waits at most 1 s)."""
        with self._lock:
            workers = [(self._queues[k], t) for k, t in self._threads.items() if t.is_alive()]
        for q, _ in workers:
            try:
                q.put_nowait(_STOP)
            except queue.Full:
                pass
        end = time.monotonic() + 1.0
        for _, t in workers:
            t.join(timeout=max(end - time.monotonic(), 0.0))
