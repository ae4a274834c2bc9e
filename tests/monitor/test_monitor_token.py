"""Stability score, risk levels, the token monitor in price terms, feeds, sessions and reviews."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskcore.errors import InputError
from riskcore.monitor.feeds import ReplayFeed, SimulatedFeed
from riskcore.monitor.review import StabilityReview, review_dataset, review_run, review_series, worst_periods
from riskcore.monitor.routing import AlertRouter
from riskcore.monitor.session import MonitorSession
from riskcore.monitor.token import (
    RiskLevel,
    TokenMonitor,
    recommendations,
    risk_factors,
    risk_level,
    stability_score,
)
from riskcore.reports import stability_review_html
from riskcore.var import measures


@pytest.mark.parametrize(("args", "expected"), [
    ((1.0, 1_000_000, 1.0, 0.95), 100.0),     # every component at its maximum
    ((1.0, 1_000_000, 1.0, 1.10), 100.0),     # VaR component clipped at 1 (the seed's would give 103)
    ((1.05, 500_000, 0.9, 0.875), 58.0),      # 0.4*0.5 + 0.3*0.5 + 0.2*0.9 + 0.1*0.5
    ((0.90, 0, 0.0, 0.70), 0.0),              # 10 % off peg, no liquidity, dead network, VaR below 0.80
    ((1.0, 2_000_000, 1.0, 0.80), 90.0),      # liquidity capped at 1; VaR exactly 0.80 -> 0
    ((0.98, 250_000, 0.75, 0.86), 58.5),      # 0.4*0.8 + 0.3*0.25 + 0.2*0.75 + 0.1*0.4 = 0.585
])
def test_stability_score_known_values(args, expected):
    assert stability_score(*args) == expected


def test_stability_score_rounding_warmup_and_errors():
    s = stability_score(1.0123, 654_321, 0.937, 0.9)
    assert s == round(s, 1) and 0 <= s <= 100
    # NaN VaR (warming up) uses the seed's conservative 0.90: component (0.90-0.80)/0.15
    assert stability_score(1.0, 1e6, 1.0, float("nan")) == round(100 * (0.9 + 0.1 * (0.1 / 0.15)), 1)
    with pytest.raises(InputError, match="price"):
        stability_score(0.0, 1e6, 1.0, 0.9)
    with pytest.raises(InputError, match="liquidity_pool"):
        stability_score(1.0, -1.0, 1.0, 0.9)


def test_risk_level_bounds():
    assert [risk_level(x) for x in (100, 90.0, 89.9, 75.0, 74.9, 60.0, 59.9, 0)] == [
        RiskLevel.LOW, RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.HIGH,
        RiskLevel.CRITICAL, RiskLevel.CRITICAL]


def test_risk_factors_and_recommendations():
    f = risk_factors({"var_997_price": 0.84, "volatility": 0.04, "liquidity_pool": 150_000, "price_deviation": 0.06,
                      "network_health": 0.84})
    assert f == ["Extreme tail risk elevated", "High price volatility", "Low liquidity reserves",
                 "Significant peg deviation", "Network health concerns"]
    recs = recommendations(f)
    assert "Immediate liquidity injection required" in recs and len(recs) == 8
    assert risk_factors({"volatility": float("nan")}) == []


def _prices(n=400, seed=1, sd=0.002):
    rng = np.random.default_rng(seed)
    return np.cumprod(1 + rng.standard_t(5, n) * sd)


def test_var_is_in_price_terms_and_matches_the_var_kernels():
    p = _prices()
    mon = TokenMonitor(ensemble=False, window=250)
    mon.update_many(p)
    snap = mon.last
    r = p[1:] / p[:-1] - 1
    w = r[-250:][None, :]
    cs = np.array([0.95, 0.99, 0.997])
    expected = np.mean([measures.historical_batch(w, cs)[0][0], measures.parametric_batch(w, cs)[0][0],
                        measures.cornish_fisher_batch(w, cs)[0][0], measures.evt_batch(w, cs)[0][0]], axis=0)
    np.testing.assert_allclose([snap.var_95, snap.var_99, snap.var_997], expected, rtol=1e-12)
    np.testing.assert_allclose(snap.var_99_price, p[-1] * (1 - snap.var_99), rtol=1e-14)
    assert snap.var_95 > 0 and snap.var_95 < snap.var_99 < snap.var_997
    assert snap.volatility == pytest.approx(np.std(r[-10:], ddof=1), rel=1e-12)


def test_batched_processing_equals_tick_by_tick():
    p = _prices(600, seed=3)
    a, b = TokenMonitor(ensemble=False), TokenMonitor(ensemble=False)
    for x in p:
        a.update(x)
    b.update_many(p, batch=97)
    fa, fb = a.frame().drop(columns=["latency_us", "ts"]), b.frame().drop(columns=["latency_us", "ts"])
    pd.testing.assert_frame_equal(fa, fb)


def test_warm_up_and_price_terms_alerts():
    mon = TokenMonitor(ensemble=False)
    first = mon.update(1.0)
    assert np.isnan(first.var_99) and np.isnan(first.volatility) and first.n_returns == 0
    # a calm token then a crash to 0.7: the VaR price levels fall below the seed's limits
    p = np.r_[1 + 0.001 * np.sin(np.arange(60)), 0.7 * (1 + 0.001 * np.sin(np.arange(30)))]
    raised = mon.update_many(p)
    kinds = {(a.metric, str(a.severity)) for a in raised}
    assert ("var_95_price", "MEDIUM") in kinds and ("var_997_price", "HIGH") in kinds
    assert ("volatility", "MEDIUM") in kinds
    assert mon.last.risk_level is RiskLevel.CRITICAL
    rep = mon.report()
    assert "Significant peg deviation" in rep.risk_factors
    assert rep.alert_counts["HIGH"] >= 1 and not rep.summary().empty


def test_liquidity_and_network_alerts_follow_the_seed_severities(tmp_store):
    mon = TokenMonitor(ensemble=False)
    n = 50
    liq = np.r_[np.full(20, 1e6), np.full(20, 50_000.0), np.full(10, 1e6)]
    health = np.r_[np.full(30, 1.0), np.full(20, 0.7)]
    mon.update_many(np.ones(n), liq, health)
    hist = mon.engine.history_frame()
    raised = hist[hist["status"] == "ACTIVE"].set_index("metric")
    assert raised.loc["liquidity_pool", "severity"] == "CRITICAL"
    assert raised.loc["liquidity_pool", "level"] == "EMERGENCY"
    assert raised.loc["network_health", "severity"] == "HIGH"
    cleared = hist[hist["status"] == "CLEARED"]
    assert list(cleared["metric"]) == ["liquidity_pool"]        # liquidity came back at tick 40
    assert [d["action"] for d in mon.engine.decisions] == ["ACTIVATE_EMERGENCY_LIQUIDITY_PROTOCOLS",
                                                           "INCREASE_MONITORING"]


def test_ensemble_refresh_uses_out_of_sample_weights():
    mon = TokenMonitor(refresh_every=100, window=120)
    mon.update_many(_prices(260, seed=5))
    assert mon.var.refresh_error is None and mon.var.refreshed_at is not None
    w = mon.var.weights
    np.testing.assert_allclose(w.sum(axis=0), 1.0)
    assert w[-1].min() > 0   # FHS joined the ensemble after the first refit


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


def test_refit_schedule_while_the_window_fills_is_the_same_batched_or_not():
    p = _prices(420, seed=8)
    a, b = TokenMonitor(window=200, refresh_every=150), TokenMonitor(window=200, refresh_every=150)
    for x in p:
        a.update(x)
    b.update_many(p, batch=64)
    # refits at 30, 60, 120 returns (doubling), then 150 ticks after the last: same in both paths
    assert a.var.refreshed_len == b.var.refreshed_len == 200
    np.testing.assert_allclose(a.var.weights, b.var.weights, rtol=1e-12)
    np.testing.assert_allclose(a.frame()["var_99"], b.frame()["var_99"], rtol=1e-9)


@pytest.mark.parametrize(("call", "field"), [
    (lambda: TokenMonitor().update("abc"), "price"),
    (lambda: TokenMonitor().update(1.0, None), "liquidity_pool"),
    (lambda: TokenMonitor().update(1.0, 1e6, "x"), "network_health"),
    (lambda: TokenMonitor().process(["a", 1.0]), "prices"),
    (lambda: TokenMonitor().process([1.0, 1.0, 1.0], [1.0, 2.0]), "liquidity_pool"),
    (lambda: TokenMonitor().update_many([1.0, 1.0, 1.0], 1e6, [1.0, 0.5]), "network_health"),
    (lambda: review_series(["a", "b"]), "prices"),
])
def test_bad_inputs_are_input_errors_naming_the_field(call, field):
    with pytest.raises(InputError) as err:
        call()
    assert err.value.field == field


def test_a_bad_metric_changes_no_alert_state():
    from riskcore.monitor.alerts import AlertEngine, Threshold, alert_severity

    eng = AlertEngine({"a": 1.0, "b": 1.0})
    with pytest.raises(InputError, match="b"):
        eng.evaluate({"a": 5.0, "b": "oops"})
    assert eng.active == {} and len(eng.history) == 0      # "a" was not raised half-way
    with pytest.raises(InputError, match="direction"):
        Threshold("c", 1.0, direction="sideways")
    with pytest.raises(InputError, match="direction"):
        alert_severity(2.0, 1.0, "up")
