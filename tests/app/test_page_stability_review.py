"""AppTest of the Stability Review page: first load on the sample, a saved session, save and reload."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskcore.monitor.feeds import ReplayFeed
from riskcore.monitor.routing import AlertRouter
from riskcore.monitor.session import MonitorSession
from riskcore.monitor.token import TokenMonitor


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_stability_review_sample_then_save_and_reload(app_test, tmp_store):
    at = app_test("stability_review", timeout=180)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert _metric(at, "Ticks") == "3,651"                      # the shipped stable-token sample
    assert len(at.get("plotly_chart")) == 1
    assert any("Worst 5 periods" in s.value for s in at.subheader)
    assert len(at.get("download_button")) == 4                  # timeline, worst periods, alerts (CSV) and HTML
    at.button(key="sr_save").click().run()
    assert not at.error, [e.value for e in at.error]
    assert len(tmp_store.list_runs("monitor")) == 1
    at.radio(key="sr_source").set_value("Saved monitoring session").run()
    assert not at.error, [e.value for e in at.error]
    assert _metric(at, "Ticks") == "3,651"


def test_stability_review_of_a_saved_live_session(app_test, tmp_store):
    s = pd.Series(np.r_[np.ones(40), np.full(20, 0.8)], index=pd.date_range("2024-01-01", periods=60))
    sess = MonitorSession(ReplayFeed(s, name="drop"), TokenMonitor(ensemble=False), AlertRouter({}), tmp_store)
    sess.run(60)
    raised = sess.monitor.engine.n_raised
    sess.save("drop session")
    at = app_test("stability_review", timeout=180)
    at.radio(key="sr_source").set_value("Saved monitoring session").run()
    assert not at.error, [e.value for e in at.error]
    assert _metric(at, "Ticks") == "60" and _metric(at, "Alerts raised") == str(raised)
    assert raised >= 1
    # the worst periods are those after the drop, and the alerts raised then are listed with their period
    worst = next(d.value for d in at.dataframe if "mean_score" in d.value.columns)
    assert worst["n_alerts"].sum() >= 1
    inside = next(d.value for d in at.dataframe if "period" in d.value.columns)
    assert set(inside["period"]) <= set(worst["rank"])
    assert (inside["status"] == "ACTIVE").sum() == worst["n_alerts"].sum()


def test_stability_review_of_a_monte_carlo_path(app_test, tmp_store):
    from riskcore.peg.montecarlo import simulate

    simulate(None, n_paths=3, n_steps=80, seed=4, scenario="crash", keep_paths=2).save(tmp_store, name="crash mc")
    at = app_test("stability_review", timeout=180)
    at.checkbox(key="sr_ensemble").uncheck().run()
    at.radio(key="sr_source").set_value("Saved Monte Carlo run").run()
    assert not at.error, [e.value for e in at.error]
    assert _metric(at, "Ticks") == "81"
    at.number_input(key="sr_path").set_value(5).run()           # only paths 0 and 1 were kept
    assert at.error and "path" in at.error[0].value
