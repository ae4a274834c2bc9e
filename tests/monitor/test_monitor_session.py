"""The monitor session: feed -> monitor -> alerts -> store (riskcore.monitor.session)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskcore.monitor.feeds import ReplayFeed
from riskcore.monitor.review import review_run
from riskcore.monitor.routing import AlertRouter
from riskcore.monitor.session import MonitorSession
from riskcore.monitor.token import (
    TokenMonitor,
)


def test_session_persists_ticks_alerts_and_saves_a_reviewable_run(tmp_store):
    s = pd.Series(np.r_[np.ones(40) + 0.001 * np.sin(np.arange(40)), np.full(30, 0.8)],
                  index=pd.date_range("2024-01-01", periods=70), name="price")
    sess = MonitorSession(ReplayFeed(s, name="crash"), TokenMonitor(ensemble=False),
                          AlertRouter({}, background=False), tmp_store)
    res = sess.run(1000)
    assert res.n_ticks == 70 and len(res.new_alerts) >= 1
    assert len(tmp_store.load_ticks(sess.feed.feed_id)) == 70
    assert len(tmp_store.list_alerts(source=sess.monitor.source)) == len(res.new_alerts)
    run_id = sess.save("crash session")
    review = review_run(tmp_store, run_id)
    assert len(review.frame) == 70 and review.summary().loc["alerts_raised", "value"] == len(res.new_alerts)
    worst = review.worst_periods(n=2, window=10)
    assert worst["mean_score"].is_monotonic_increasing and worst["start_seq"].iloc[0] >= 30


def test_session_step_follows_the_clock_and_flushes(tmp_store):
    s = pd.Series(np.linspace(1.0, 0.9, 100), index=pd.date_range("2024-01-01", periods=100))
    sess = MonitorSession(ReplayFeed(s, speed=10.0), TokenMonitor(ensemble=False), AlertRouter({}), tmp_store,
                          flush_every_s=3600)
    assert sess.step(now=0.0).n_ticks == 0                  # not started: nothing due
    sess.feed.start(now=10.0)
    r = sess.step(now=10.95)
    assert r.n_ticks == 9 and r.flushed == 0 and sess.feed.n_unsaved == 9   # flush waits for its interval
    r = sess.step(now=1000.0, max_ticks=20)                  # far behind: capped, the clock skips ahead
    assert r.n_ticks == 20 and sess.feed.due(now=1000.0) == 0
    r = sess.step(now=1001.0)
    assert r.n_ticks == 10
    sess.flush()
    assert len(tmp_store.load_ticks(sess.feed.feed_id)) == 39 and sess.store_error is None
    sess.run(1000)                                           # to the end of the data
    assert sess.feed.exhausted and sess.n_ticks == 100 and not sess.feed.running
