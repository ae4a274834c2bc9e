"""A monitoring session: a feed, the token monitor, alert routing and batched persistence, together.

This is what the Live Monitor page keeps in its session state and what a notebook drives by hand:

* :meth:`MonitorSession.step` processes the ticks the feed's clock says are due (a Streamlit fragment
  calls it every run; no background thread is needed for the feed);
* :meth:`MonitorSession.run` processes the next ``n`` ticks at once (replays, notebooks, tests);
* new alerts go to the :class:`~riskcore.monitor.routing.AlertRouter` (a background sender; a failing
  channel never blocks or raises here) and are persisted with the ticks, the recorded responses and
  the channel-health records by :meth:`flush`, at most every ``flush_every_s`` seconds — never one
  write per tick;
* :meth:`save` stores the session's timeline as a run of kind ``"monitor"`` that the Stability Review
  page reloads.

Alert episodes across visits and sessions
-----------------------------------------
The token monitor's alert source is the feed's :attr:`~riskcore.monitor.feeds.Feed.source_key` (the
market, not the feed instance). A session with a store first **restores** the open episodes of that
source from the store (:meth:`AlertEngine.restore`), so reopening the page continues them instead of
raising duplicates. :meth:`prime` fills a new feed's window silently: the primed ticks are history,
alerts are not evaluated on them; the state at the end of priming is evaluated once, its alerts are
stored but **never notified** (nobody pressed Start). When a tick raises an alert whose metric another
session of the same source has meanwhile stored as open, that stored episode is adopted instead
(one store read, only on ticks that raise something) and nothing is sent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.kinds import RunKind
from riskcore.monitor.alerts import Alert, AlertStatus, open_alerts
from riskcore.monitor.feeds import Feed
from riskcore.monitor.routing import AlertRouter
from riskcore.monitor.token import TokenMonitor, TokenSnapshot
from riskcore.monitor.webhooks import configured_webhooks
from riskcore.validate import integer

__all__ = ["MonitorSession", "StepResult", "RUN_KIND"]

#: store kind of a saved monitoring session
RUN_KIND = RunKind.MONITOR


@dataclass(frozen=True)
class StepResult:
    """What one :meth:`MonitorSession.step` or :meth:`MonitorSession.run` did."""

    n_ticks: int
    new_alerts: tuple[Alert, ...]
    elapsed_ms: float
    flushed: int
    last: TokenSnapshot | None

    def to_dict(self) -> dict[str, Any]:
        return {"n_ticks": self.n_ticks, "n_new_alerts": len(self.new_alerts), "elapsed_ms": self.elapsed_ms,
                "flushed": self.flushed}


class MonitorSession:
    """Feed → :class:`TokenMonitor` → alerts → router and store.

    Parameters
    ----------
    feed : Feed
        A :class:`~riskcore.monitor.feeds.ReplayFeed` or :class:`~riskcore.monitor.feeds.SimulatedFeed`.
    monitor : TokenMonitor, optional
        Default: a new one whose alert source is the feed id.
    router : AlertRouter, optional
        Default: channels from ``$RISKCORE_WEBHOOK_URLS`` and the store's settings (none: nothing is
        sent, deliveries are recorded as ``not_configured``).
    store : Store, optional
        Where ticks, alerts, responses and channel health go. ``None``: nothing is persisted.
    flush_every_s : float, default 1.0
        Least time between two automatic flushes during :meth:`step`.
    restore : bool, default True
        Seed the monitor's open alert episodes from the store's open alerts of its source.
    """

    def __init__(self, feed: Feed, monitor: TokenMonitor | None = None, router: AlertRouter | None = None,
                 store: Any = None, *, flush_every_s: float = 1.0, restore: bool = True):
        if not isinstance(feed, Feed):
            raise InputError("feed", "must be a ReplayFeed or a SimulatedFeed", value=type(feed).__name__)
        self.feed = feed
        self.monitor = monitor if monitor is not None else TokenMonitor(source=feed.source_key)
        self.store = store
        self._config_router = router is None
        self._channels_key = self._config_key() if self._config_router else None
        self.router = router if router is not None else AlertRouter.from_config(store)
        self.flush_every_s = float(flush_every_s)
        self._last_flush = time.monotonic()
        self.n_ticks = 0
        self.store_error: str | None = None
        self.step_ms: list[float] = []
        self.n_restored = 0
        self.n_notified = 0
        if restore and store is not None:
            self.restore_episodes()

    def restore_episodes(self) -> int:
        """Seed the open episodes of the monitor's source from the store; returns how many.

        A store error is kept in :attr:`store_error`: monitoring starts without the stored episodes.
        """
        try:
            self.n_restored = self.monitor.engine.restore(open_alerts(self.store, self.monitor.source))
        except Exception as exc:  # a busy or broken store must not stop the monitor
            self.store_error = f"{type(exc).__name__}: {exc}"
        return self.n_restored

    def _config_key(self) -> tuple:
        return tuple((c.kind, c.url) for c in configured_webhooks(self.store))

    def reload_channels(self) -> bool:
        """Pick up webhooks added or removed on the Settings page since the router was built.

        Only for a session whose router came from the configuration; returns True when it changed.
        """
        if not self._config_router:
            return False
        key = self._config_key()
        if key == self._channels_key:
            return False
        old, self.router, self._channels_key = self.router, AlertRouter.from_config(self.store), key
        old.close()
        return True

    # -- processing -------------------------------------------------------------------------------
    def _adopt_stored(self, new: list[Alert]) -> list[Alert]:
        """Drop from ``new`` the alerts whose metric another session already stored as open (and adopt
        that stored episode); returns the alerts that really open an episode."""
        if self.store is None or not new:
            return new
        try:
            stored = open_alerts(self.store, self.monitor.source)
        except Exception as exc:
            self.store_error = f"{type(exc).__name__}: {exc}"
            return new
        if stored.empty:
            return new
        engine = self.monitor.engine
        # this engine's own alerts (a cleared one may not be flushed yet) are not another session's
        known = {a.alert_id for a in engine.history} | {a.alert_id for a in engine.pending()[0]}
        others = stored[~stored["alert_id"].isin(known)]
        if others.empty:
            return new
        kept = []
        for a in new:
            rows = others[others["metric"] == a.metric]
            if rows.empty or engine.active.get(a.metric) is not a:
                kept.append(a)
                continue
            probe = type(engine)(engine.thresholds, source=engine.source, responses=engine.responses)
            probe.restore(rows)
            engine.adopt(a, probe.active[a.metric])
        return kept

    def _process(self, ticks: list[Any], *, notify: bool = True) -> tuple[list[Alert], TokenSnapshot | None]:
        if not ticks:
            return [], None
        snaps = self.monitor.process(np.fromiter((t.price for t in ticks), float, len(ticks)),
                                     np.fromiter((t.liquidity_pool for t in ticks), float, len(ticks)),
                                     np.fromiter((t.network_health for t in ticks), float, len(ticks)),
                                     ts=[t.ts for t in ticks], seq0=ticks[0].seq)
        new = self._adopt_stored([a for s in snaps for a in s.new_alerts])
        if new and notify:
            self.router.dispatch(new)
            self.n_notified += len(new)
        self.n_ticks += len(ticks)
        return new, snaps[-1]

    def prime(self, n: int) -> StepResult:
        """Process the first ``n`` ticks of a new feed as history: no alert is evaluated on them and
        nothing is sent to any channel.

        Only the state after the last primed tick is evaluated, once: restored episodes whose metric
        is back within its limit are cleared, breaches with no open episode are raised and stored
        (not sent), and everything is flushed. Opening or reloading a page that primes
        a feed therefore never notifies, and reopening it on the same market raises no duplicate.
        """
        t0 = time.perf_counter()
        engine = self.monitor.engine
        with engine.paused():
            res = self.run(n, flush=False, notify=False)
        new: list[Alert] = []
        last = self.monitor.last
        if last is not None:
            new = self._adopt_stored(engine.evaluate(last.metrics(), ts=last.ts, seq=last.seq))
        flushed = self.flush()
        return StepResult(res.n_ticks, tuple(new), (time.perf_counter() - t0) * 1e3, flushed, last)

    def acknowledge(self, alert: str, by: str | None = None) -> Alert:
        """Acknowledge an open alert (id or metric) and write it to the store at once."""
        acked = self.monitor.engine.acknowledge(alert, by=by)
        self.flush()
        return acked

    @property
    def open_alerts(self) -> list[Alert]:
        """Open alerts (ACTIVE or ACKNOWLEDGED), most severe first."""
        return sorted(self.monitor.engine.active.values(),
                      key=lambda a: (-a.severity.rank, a.status is AlertStatus.ACKNOWLEDGED, a.metric))

    def step(self, now: float | None = None, *, max_ticks: int = 2000) -> StepResult:
        """Process the ticks due by the feed's clock; flush when ``flush_every_s`` has passed."""
        t0 = time.perf_counter()
        ticks = self.feed.pump(now, max_ticks=max_ticks)
        new, last = self._process(ticks)
        flushed = 0
        if time.monotonic() - self._last_flush >= self.flush_every_s or self.feed.exhausted:
            flushed = self.flush()
        ms = (time.perf_counter() - t0) * 1e3
        if ticks:
            self.step_ms.append(ms)
        return StepResult(len(ticks), tuple(new), ms, flushed, last)

    def run(self, n: int, *, batch: int = 256, flush: bool = True, notify: bool = True) -> StepResult:
        """Process the next ``n`` ticks now (ignoring the clock), in batches; flush at the end.

        ``notify=False`` sends nothing to the channels (alerts are still raised and stored)."""
        n = integer("n", n, 0)
        t0 = time.perf_counter()
        new_all: list[Alert] = []
        last = None
        done = 0
        while done < n and not self.feed.exhausted:
            ticks = self.feed.next_ticks(min(batch, n - done))
            if not ticks:
                break
            new, last = self._process(ticks, notify=notify)
            new_all.extend(new)
            done += len(ticks)
        flushed = self.flush() if flush else 0
        return StepResult(done, tuple(new_all), (time.perf_counter() - t0) * 1e3, flushed, last)

    # -- persistence --------------------------------------------------------------------------------
    def flush(self) -> int:
        """Write buffered ticks, alerts, responses and channel-health records; returns alert rows written.

        A store error is kept in :attr:`store_error` (shown by the page) and the rows stay buffered for
        the next flush; monitoring goes on.
        """
        self._last_flush = time.monotonic()
        if self.store is None:
            return 0
        try:
            self.feed.flush(self.store)
            n = self.monitor.engine.flush(self.store)
            reports = self.router.drain_reports()
            if reports:
                self.store.save_alerts(reports)
            self.store_error = None
            return n + len(reports)
        except Exception as exc:  # a busy or broken store must not stop the monitor
            self.store_error = f"{type(exc).__name__}: {exc}"
            return 0

    # -- views ----------------------------------------------------------------------------------------
    @property
    def last(self) -> TokenSnapshot | None:
        return self.monitor.last

    def frame(self) -> pd.DataFrame:
        return self.monitor.frame()

    def status(self) -> dict[str, Any]:
        """Feed state, counts and timing, for the page's status line."""
        ms = np.asarray(self.step_ms[-200:], dtype=float)
        lat = self.monitor.latencies_us()[-500:]
        return {**self.feed.describe(), "n_ticks": self.n_ticks, "active_alerts": len(self.monitor.engine.active),
                "alerts_raised": self.monitor.engine.n_raised, "channels": self.router.n_channels,
                "store_error": self.store_error,
                "step_ms_p50": float(np.median(ms)) if ms.size else float("nan"),
                "tick_us_p50": float(np.median(lat)) if lat.size else float("nan"),
                "tick_us_p99": float(np.percentile(lat, 99)) if lat.size else float("nan")}

    def save(self, name: str | None = None) -> str:
        """Save the session's timeline (kind ``"monitor"``) with its alerts; returns the run id."""
        if self.store is None:
            raise InputError("store", "this session has no store to save to")
        self.flush()
        frame = self.frame()
        alerts = self.monitor.engine.history_frame()
        params = getattr(self.feed, "params", None)
        seed = getattr(self.feed, "seed", None)
        extra = {"feed": self.feed.describe(), "alerts": alerts, "decisions": list(self.monitor.engine.decisions),
                 "thresholds": [t.to_dict() for t in self.monitor.engine.thresholds]}
        scenario = getattr(self.feed, "scenario", None)
        if scenario is not None:
            extra["scenario"] = scenario.to_dict()
        if hasattr(self.feed, "name"):
            extra["dataset"] = self.feed.name
        return self.store.save_run(RUN_KIND, params, seed, frame, name=name or f"monitor {self.feed.feed_id}",
                                   **extra)

    def close(self) -> None:
        """Flush and stop the router's sender."""
        self.flush()
        self.router.close()
