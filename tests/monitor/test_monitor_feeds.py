"""Replay and simulated feeds (riskcore.monitor.feeds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskcore.errors import InputError
from riskcore.monitor.feeds import ReplayFeed, SimulatedFeed


def test_replay_feed_clock_and_store(tmp_store):
    s = pd.Series(np.linspace(1, 1.1, 50), index=pd.date_range("2024-01-01", periods=50))
    feed = ReplayFeed(s, speed=10.0)
    assert feed.pump(now=0.0) == []                 # not started
    feed.start(now=100.0)
    assert len(feed.pump(now=100.05)) == 0
    assert len(feed.pump(now=100.55)) == 5          # 10 ticks/s for 0.55 s
    feed.set_speed(20.0, now=100.55)
    assert len(feed.pump(now=101.05)) == 10
    feed.stop()
    assert feed.pump(now=200.0) == []
    assert feed.flush(tmp_store) == 15
    ticks = tmp_store.load_ticks(feed.feed_id)
    assert list(ticks["seq"]) == list(range(15)) and ticks["price"].iloc[0] == 1.0
    rest = feed.next_ticks(100)
    assert len(rest) == 35 and feed.exhausted
    with pytest.raises(InputError, match="speed"):
        ReplayFeed(s, speed=0)
    with pytest.raises(InputError, match="price"):
        ReplayFeed(pd.Series([1.0, -1.0], index=pd.date_range("2024", periods=2)))


def test_simulated_feed_streams_the_model_under_a_scenario():
    from riskcore.peg.scenarios import Scenario

    sc = Scenario(name="t", liquidity_pool={0: 1e6, 10: 1e5}, shocks={7: -0.3})
    a = SimulatedFeed(scenario=sc, seed=11, block=4)
    b = SimulatedFeed(scenario=sc, seed=11, block=4)
    ta, tb = a.next_ticks(20), b.next_ticks(20)
    assert [t.price for t in ta] == [t.price for t in tb]              # reproducible
    assert [t.seq for t in ta] == list(range(20)) and ta[0].price == 1.0
    assert ta[7].price / ta[6].price < 0.75                             # the -30 % shock at step 7
    assert ta[15].liquidity_pool == pytest.approx(1e5)
    assert ta[1].ts - ta[0].ts == pd.Timedelta("1D")
    assert a.n_steps_simulated == 20
