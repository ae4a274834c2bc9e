"""Alert episodes: priming never notifies, one alert per episode across visits and sessions, acknowledgement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskcore.errors import InputError
from riskcore.monitor.alerts import AlertEngine, AlertStatus, open_alerts
from riskcore.monitor.feeds import ReplayFeed, SimulatedFeed
from riskcore.monitor.routing import AlertRouter
from riskcore.monitor.session import MonitorSession
from riskcore.monitor.token import TokenMonitor

START = "2026-01-01"


class CountingRouter(AlertRouter):
    """A router without channels that counts what it is asked to send."""

    def __init__(self):
        super().__init__({})
        self.sent: list[str] = []

    def dispatch(self, alerts):
        alerts = list(alerts)
        self.sent.extend(a.alert_id for a in alerts)
        return super().dispatch(alerts)


def _crash_session(store, router=None):
    feed = SimulatedFeed(scenario="crash", seed=7, start=START)
    return MonitorSession(feed, TokenMonitor(source=feed.source_key, ensemble=False), router or CountingRouter(),
                          store)


def _liquidity_frame(n_calm=45, n_dry=10, n_back=10):
    n = n_calm + n_dry + n_back
    liq = np.r_[np.full(n_calm, 1e6), np.full(n_dry, 5e4), np.full(n_back, 1e6)]
    return pd.DataFrame({"price": 1.0 + 0.001 * np.sin(np.arange(n)), "liquidity_pool": liq},
                        index=pd.date_range(START, periods=n, freq="D"))


def _replay_session(store, frame, router=None):
    feed = ReplayFeed(frame, name="liq")
    return MonitorSession(feed, TokenMonitor(source=feed.source_key, ensemble=False), router or CountingRouter(),
                          store)


def test_source_key_identifies_the_market_not_the_instance():
    a = SimulatedFeed(scenario="crash", seed=7, start=START)
    b = SimulatedFeed(scenario="crash", seed=7, start=START)
    assert a.feed_id != b.feed_id and a.source_key == b.source_key
    assert SimulatedFeed(scenario="crash", seed=8, start=START).source_key != a.source_key
    assert SimulatedFeed(scenario="baseline", seed=7, start=START).source_key != a.source_key
    frame = _liquidity_frame()
    assert ReplayFeed(frame, name="x").source_key == ReplayFeed(frame.copy(), name="x").source_key
    assert ReplayFeed(frame * 1.01, name="x").source_key != ReplayFeed(frame, name="x").source_key


def test_priming_notifies_nothing_and_stores_the_state_once(tmp_store):
    router = CountingRouter()
    sess = _crash_session(tmp_store, router)
    res = sess.prime(40)
    assert res.n_ticks == 40 and sess.n_ticks == 40
    assert router.sent == [] and sess.n_notified == 0            # nobody pressed Start
    stored = tmp_store.list_alerts(source=sess.monitor.source)
    assert len(stored) >= 1 and set(stored.status) == {"ACTIVE"}   # the crash breaches the VaR levels
    # only the end state was evaluated: one alert per breached metric, all stamped with the last tick
    assert stored.metric.is_unique
    assert {a.seq for a in sess.monitor.engine.active.values()} == {39}


def test_reopening_the_same_market_raises_no_duplicate(tmp_store):
    first = _crash_session(tmp_store)
    first.prime(40)
    before = tmp_store.list_alerts(source=first.monitor.source).sort_values("alert_id").reset_index(drop=True)
    for _ in range(3):                                            # three more page visits
        again = _crash_session(tmp_store)
        assert again.n_restored == len(before)
        res = again.prime(40)
        assert res.new_alerts == ()
        assert again.router.sent == []
    after = tmp_store.list_alerts(source=first.monitor.source).sort_values("alert_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(before[["alert_id", "metric", "status"]], after[["alert_id", "metric", "status"]])


def test_episode_raised_once_and_cleared_across_sessions(tmp_store):
    frame = _liquidity_frame()
    a = _replay_session(tmp_store, frame)
    a.prime(40)
    a.run(10)                                                     # liquidity dries up at tick 45
    assert list(a.monitor.engine.active) == ["liquidity_pool"]
    assert len(a.router.sent) == 1                                # a live tick raised it: sent once
    rows = tmp_store.list_alerts(source=a.monitor.source)
    alert_id = rows.alert_id.iloc[0]
    # a second session of the same market (a page reload) resumes that episode, then sees it end
    b = _replay_session(tmp_store, frame)
    assert b.n_restored == 1 and b.monitor.engine.active["liquidity_pool"].alert_id == alert_id
    b.feed.next_ticks(50)                                         # skip to the end of the dry spell
    b.run(15)
    assert b.router.sent == [] and not b.monitor.engine.active
    rows = tmp_store.list_alerts(source=a.monitor.source)
    assert list(rows.alert_id) == [alert_id] and rows.status.iloc[0] == "CLEARED"


def test_concurrent_session_adopts_the_stored_episode(tmp_store):
    frame = _liquidity_frame()
    a, b = _replay_session(tmp_store, frame), _replay_session(tmp_store, frame)   # both open before any alert
    a.prime(40)
    b.prime(40)
    a.run(10)
    b.run(10)                                                     # b raises the same breach: it is a's episode
    assert len(a.router.sent) == 1 and b.router.sent == []
    assert b.monitor.engine.active["liquidity_pool"].alert_id == a.monitor.engine.active["liquidity_pool"].alert_id
    b.flush()
    open_rows = open_alerts(tmp_store, a.monitor.source)
    assert len(open_rows) == 1
    assert len(tmp_store.list_decisions(event_type="RISK_RESPONSE")) == 1   # the response is recorded once


def test_acknowledge_is_stored_restored_and_kept_when_cleared(tmp_store):
    eng = AlertEngine({"drawdown": 1.5}, source="desk")
    (alert,) = eng.evaluate({"drawdown": 2.0})
    acked = eng.acknowledge("drawdown", by="alice", at="2026-01-02 09:30")
    assert acked.status is AlertStatus.ACKNOWLEDGED and acked.alert_id == alert.alert_id
    assert eng.evaluate({"drawdown": 2.2}) == []                 # still the same episode
    eng.flush(tmp_store)
    assert tmp_store.list_alerts(source="desk").status.tolist() == ["ACKNOWLEDGED"]
    other = AlertEngine({"drawdown": 1.5}, source="desk")
    assert other.restore(open_alerts(tmp_store, "desk")) == 1
    restored = other.active["drawdown"]
    assert restored.acknowledged_by == "alice" and restored.acknowledged_at == pd.Timestamp("2026-01-02 09:30")
    assert other.evaluate({"drawdown": 1.0}) == []
    other.flush(tmp_store)
    rec = tmp_store.list_alert_records("desk").iloc[0]
    assert rec["status"] == "CLEARED" and rec["acknowledged_by"] == "alice"
    with pytest.raises(InputError, match="alert"):
        other.acknowledge("drawdown")                             # nothing open any more


def test_restore_ignores_other_sources_cleared_rows_and_unknown_metrics():
    eng = AlertEngine({"drawdown": 1.5}, source="desk")
    rows = [{"alert_id": "1", "source": "other", "metric": "drawdown", "status": "ACTIVE", "value": 2.0,
             "threshold": 1.5, "created_at": "2026-01-01"},
            {"alert_id": "2", "source": "desk", "metric": "drawdown", "status": "CLEARED", "value": 2.0,
             "threshold": 1.5, "created_at": "2026-01-01"},
            {"alert_id": "3", "source": "desk", "metric": "margin", "status": "ACTIVE", "value": 90.0,
             "threshold": 80.0, "created_at": "2026-01-01"}]
    assert eng.restore(rows) == 0 and not eng.active
    (new,) = eng.evaluate({"drawdown": 2.0})
    assert new.status is AlertStatus.ACTIVE


def test_paused_engine_observes_nothing():
    eng = AlertEngine({"drawdown": 1.5})
    with eng.paused():
        assert eng.evaluate({"drawdown": 9.0}) == []
    assert not eng.active and len(eng.evaluate({"drawdown": 9.0})) == 1


def test_tables_show_one_rating_and_the_channels():
    from riskcore.monitor.alerts import with_channels

    eng = AlertEngine({"x": 1.0})
    eng.evaluate({"x": 1.3})                                      # ratio 1.3: HIGH, routed at level CRITICAL
    raw = eng.active_frame()
    assert raw.level.iloc[0] == "CRITICAL" and raw.severity.iloc[0] == "HIGH"
    shown = with_channels(raw)
    assert "level" not in shown and shown["notified via"].iloc[0] == "webhook, slack, email"
    assert list(shown.columns).index("notified via") == list(raw.columns).index("level")
