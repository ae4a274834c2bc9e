"""Stability reviews of a series, a dataset and saved runs (riskcore.monitor.review)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskcore.errors import InputError
from riskcore.monitor.review import StabilityReview, review_dataset, review_run, review_series, worst_periods
from riskcore.reports import stability_review_html


def _prices(n=400, seed=1, sd=0.002):
    rng = np.random.default_rng(seed)
    return np.cumprod(1 + rng.standard_t(5, n) * sd)


def test_review_series_dataset_and_simulation_run(tmp_store):
    s = pd.Series(_prices(300, seed=9), index=pd.date_range("2023-01-01", periods=300))
    rev = review_series(s, ensemble=False, name="x")
    assert len(rev.frame) == 300 and rev.level_counts()["ticks"].sum() == 300
    html = stability_review_html(rev)
    assert "<h1>Stability review: x</h1>" in html and "Worst periods" in html
    # standalone (opens offline): plotly.js inline, nothing loaded from a CDN
    assert 'src="https://cdn.plot.ly' not in html and "Plotly.newPlot" in html
    assert len(html) > 1_000_000                             # the inline plotly.js bundle (~4.5 MB)
    tmp_store.save_dataset("x", s.rename("price").to_frame())
    assert len(review_dataset(tmp_store, "x", ensemble=False).frame) == 300
    from riskcore.peg.montecarlo import simulate
    from riskcore.peg.scenarios import Scenario

    drain = Scenario(name="drain", liquidity_pool={0: 1e6, 30: 5e4})
    sim = simulate(None, n_paths=4, n_steps=60, seed=2, scenario=drain, keep_paths=2)
    rid = sim.save(tmp_store, name="drain")
    rev2 = review_run(tmp_store, rid, path=1, ensemble=False)
    assert len(rev2.frame) == 61 and rev2.frame["liquidity_pool"].iloc[-1] == pytest.approx(5e4)
    np.testing.assert_array_equal(rev2.frame["price"], sim.paths[1])
    liq = rev2.alerts[rev2.alerts["metric"] == "liquidity_pool"]
    # L_t = 1e6 - t * 950000/30 < 1e5 first for transition t = 29, which produces the price of step 30
    assert len(liq) == 1 and liq["severity"].iloc[0] == "CRITICAL" and liq["seq"].iloc[0] == 30
    with pytest.raises(InputError, match="path"):
        review_run(tmp_store, rid, path=5)


def test_worst_periods_known_answer():
    f = pd.DataFrame({"seq": range(10), "ts": pd.date_range("2024", periods=10),
                      "stability_score": [90, 90, 50, 40, 90, 90, 90, 70, 60, 90.0],
                      "risk_level": ["low"] * 10})
    w = worst_periods(f, None, n=2, window=2)
    assert list(w["start_seq"]) == [2, 7] and list(w["mean_score"]) == [45.0, 65.0]
    # one alert raised at tick 3 and cleared at tick 5, another raised at tick 8 (still active)
    t = pd.Timestamp("2024-01-01")
    alerts = pd.DataFrame({
        "alert_id": ["a", "a", "b"], "status": ["ACTIVE", "CLEARED", "ACTIVE"], "severity": ["HIGH"] * 3,
        "alert_type": ["var_breach"] * 3, "seq": [3, 3, 8], "cleared_seq": [None, 5, None],
        "created_at": [t, t, t], "cleared_at": [None, t, None]})
    rev = StabilityReview("k", f, alerts)
    w = rev.worst_periods(n=2, window=2)
    assert list(w["n_alerts"]) == [1, 1]
    inside = rev.alerts_in_periods(w)
    assert list(zip(inside["period"], inside["alert_id"], inside["status"], inside["tick"], strict=True)) == [
        (1, "a", "ACTIVE", 3), (2, "b", "ACTIVE", 8)]
    # window 3: ticks 1-3 (mean 60, the first of two ties) hold the raise at tick 3, not the clearing at 5
    assert list(rev.alerts_in_periods(rev.worst_periods(n=1, window=3))["tick"]) == [3]
    assert rev.alerts_in_periods(w.iloc[:0]).empty


def test_review_save_and_load_round_trip(tmp_store):
    rev = review_series(pd.Series(_prices(120, seed=4), index=pd.date_range("2023-01-01", periods=120)),
                        ensemble=False, name="round trip")
    rid = rev.save(tmp_store)
    back = StabilityReview.load(tmp_store, rid)
    assert back.name == "review round trip" and back.source == {"kind": "monitor", "run_id": rid}
    pd.testing.assert_frame_equal(back.frame.drop(columns="ts"), rev.frame.drop(columns="ts"), check_dtype=False)
    assert list(back.alerts["alert_id"]) == list(rev.alerts["alert_id"])          # oldest first, as saved
    assert back.decisions == rev.decisions
    pd.testing.assert_frame_equal(back.summary(), rev.summary())
    assert review_run(tmp_store, rid).frame.shape == rev.frame.shape                # the page's way back
    other = tmp_store.save_run("peg_stress_report", None, 0, pd.DataFrame({"x": [1.0]}))
    with pytest.raises(InputError, match="run_id"):
        StabilityReview.load(tmp_store, other)
