"""The live price figure keeps one structure (same traces, same order) whatever the data, so a refresh is an
in-place update of the plot and never a rebuild (which is what left the chart blank between refreshes)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskcore.monitor.feeds import ReplayFeed
from riskcore.monitor.session import MonitorSession
from riskcore.monitor.token import TokenMonitor
from riskcore.plots.monitor import price_var_figure


def _structure(fig):
    return [(t.type, t.name, t.mode) for t in fig.data], fig.layout.uirevision


def test_price_figure_has_the_same_traces_from_empty_to_alerts():
    n = 80
    price = np.r_[1.0 + 0.002 * np.sin(np.arange(40)), 0.7 + 0.05 * np.sin(np.arange(n - 40))]   # a crash at 40
    feed = ReplayFeed(pd.Series(price, index=pd.date_range("2026-01-01", periods=n, freq="D")), name="crash")
    sess = MonitorSession(feed, TokenMonitor(source=feed.source_key, ensemble=False))
    empty = price_var_figure(sess.frame())
    sess.run(12)                                                  # VaR still warming up, no alert yet
    warming = price_var_figure(sess.frame(), sess.monitor.engine.history_frame())
    sess.run(68)                                                  # the crash has raised alerts
    history = sess.monitor.engine.history_frame()
    assert (history.status == "ACTIVE").any()
    live = price_var_figure(sess.frame(), history, last=300, simulated_time=True)
    assert _structure(empty) == _structure(warming) == _structure(live)
    assert len(live.data) == 8
    marked = sum(len(t.x) for t in live.data[4:])
    assert marked == int(history.status.eq("ACTIVE").sum())      # every raise in view is marked
    assert "simulated" in live.layout.xaxis.title.text
