"""The Live Monitor's Vega-Lite price chart: a spec that never depends on the ticks (so a refresh only swaps the
data in the drawn view, issue 11 item 3) and data carrying the price, the VaR band and every raised alert."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from riskcore.monitor.alerts import SEVERITY_COLOURS
from riskcore.monitor.feeds import ReplayFeed
from riskcore.monitor.session import MonitorSession
from riskcore.monitor.token import TOKEN_THRESHOLDS, TokenMonitor
from riskcore.plots.monitor import live_price_data, live_price_spec


def _session():
    n = 80
    price = np.r_[1.0 + 0.002 * np.sin(np.arange(40)), 0.7 + 0.05 * np.sin(np.arange(n - 40))]   # a crash at 40
    feed = ReplayFeed(pd.Series(price, index=pd.date_range("2026-01-01", periods=n, freq="D")), name="crash")
    return MonitorSession(feed, TokenMonitor(source=feed.source_key, ensemble=False))


def test_spec_is_data_free_and_shows_band_peg_limits_and_alert_markers():
    spec = live_price_spec(simulated_time=True)
    assert json.dumps(spec) == json.dumps(live_price_spec(simulated_time=True))   # the same on every refresh
    assert "data" not in spec and "datasets" not in spec                          # the ticks come separately
    text = json.dumps(spec)
    for col in ("price", "var_95_price", "var_99_price", "var_997_price", "alert_severity", "alert_message"):
        assert col in text
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks.count("area") == 2 and "line" in marks and "point" in marks and "rule" in marks
    assert all("data" not in layer for layer in spec["layer"])   # one dataset: the ticks (rules derive from it)
    rule = next(la for la in spec["layer"] if la["mark"]["type"] == "rule")
    levels = [float(t["calculate"]) for t in rule["transform"] if str(t.get("as", "")).startswith("r")
              and str(t["as"])[1:].isdigit()]
    limits = [th.limit for th in TOKEN_THRESHOLDS if th.metric.startswith("var_") and th.metric.endswith("_price")]
    assert levels == [1.0, *limits] and limits                  # the peg and every VaR price limit
    point = next(la for la in spec["layer"] if la["mark"]["type"] == "point")
    fill = point["encoding"]["fill"]["scale"]
    assert dict(zip(fill["domain"], fill["range"], strict=True)) == {str(k): v for k, v in SEVERITY_COLOURS.items()}
    assert "simulated" in spec["encoding"]["x"]["title"]
    assert live_price_spec(simulated_time=False)["encoding"]["x"]["title"] is None


def test_data_has_one_row_per_tick_in_view_and_marks_every_raise():
    sess = _session()
    empty = live_price_data(sess.frame())
    assert empty.empty and list(empty.columns) == ["ts", "price", "var_95_price", "var_99_price", "var_997_price",
                                                   "alert_severity", "alert_message"]
    sess.run(12)                                                  # VaR warming up: NaN band, no alert
    warming = live_price_data(sess.frame(), sess.monitor.engine.history_frame())
    assert len(warming) == 12 and warming["alert_severity"].isna().all()
    assert warming["var_99_price"].isna().any()
    sess.run(68)                                                  # the crash raises alerts
    frame, history = sess.frame(), sess.monitor.engine.history_frame()
    raised = history[history.status == "ACTIVE"]
    assert not raised.empty
    data = live_price_data(frame, history, last=300)
    assert list(data.columns) == list(empty.columns) and len(data) == 80
    np.testing.assert_allclose(data["price"], frame["price"])
    marked = data[data["alert_severity"].notna()]
    assert len(marked) == raised["seq"].nunique()                # every tick with a raise is marked …
    assert sum(m.count(";") + 1 for m in marked["alert_message"]) == len(raised)   # … with all its messages
    worst = {"LOW": 0, "MEDIUM": 1, "HIGH": 2, "CRITICAL": 3}
    for seq, grp in raised.groupby("seq"):
        row = data.iloc[int(np.flatnonzero(frame["seq"].to_numpy() == seq)[0])]
        assert row["alert_severity"] == max(grp["severity"].astype(str), key=worst.get)
    # a short window keeps only the ticks (and the alerts) in view
    tail = live_price_data(frame, history, last=30)
    assert len(tail) == 30
    assert tail["alert_severity"].notna().sum() == raised[raised["seq"].isin(frame["seq"].iloc[-30:])]["seq"].nunique()
