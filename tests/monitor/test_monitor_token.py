"""The token monitor in price terms: VaR, volatility, alerts, batched and tick paths (riskcore.monitor.token)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskcore.errors import InputError
from riskcore.monitor.review import review_series
from riskcore.monitor.token import (
    RiskLevel,
    TokenMonitor,
)
from riskcore.var import measures


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
