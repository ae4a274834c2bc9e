"""Issue 10 items 1-6: Cornish-Fisher domain of validity and ES, ensemble weights shared with the backtest."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import special

from riskcore.var import (
    ENSEMBLE,
    EnsembleVaR,
    WeightScheme,
    backtest,
    christoffersen_test,
    cornish_fisher_es,
    cornish_fisher_fit,
    cornish_fisher_var,
    historical_es,
    historical_var,
    kupiec_test,
    method_weights,
    pinball_loss,
)
from riskcore.var import measures as M
from riskcore.var import stats as S

CS = (0.95, 0.99, 0.997)


def _one_big_gain() -> np.ndarray:
    r = np.random.default_rng(0).normal(0, 0.003, 250)
    r[200] = 0.08  # a token jumping back to its peg
    return r


# -- item 1: Cornish-Fisher outside its domain of validity ------------------------------------------
def test_cornish_fisher_falls_back_to_historical_outside_its_domain():
    r = _one_big_gain()
    # the reproduction: -0.0846 before
    assert cornish_fisher_var(r, 0.997) == pytest.approx(historical_var(r, 0.997), rel=1e-12)
    assert cornish_fisher_es(r, 0.997) == pytest.approx(historical_es(r, 0.997), rel=1e-12)
    fb, var, es = cornish_fisher_fit(r, CS)
    assert set(fb) == set(CS) and "domain of validity" in fb[0.99]
    assert (var > 0).all() and (es >= var).all()


def test_cornish_fisher_domain_is_monotonicity_on_the_tail_interval():
    s, k = np.array([0.0, 0.3, 3.0, -1.0]), np.array([0.0, 1.0, 5.0, 20.0])
    cs = np.array(CS)
    valid = M.cornish_fisher_valid(s, k, cs)
    z = np.linspace(special.ndtri(1 - cs), 0.0, 4001, axis=-1)  # (C, G)
    for i in range(s.size):
        g = M._cf_g(z, s[i], k[i])
        expected = (np.diff(g, axis=-1) > 0).all(axis=-1)
        np.testing.assert_array_equal(valid[i], expected)
    assert valid[0].all() and not valid[2].any()


def test_ensemble_with_one_large_gain_is_a_positive_loss_and_says_why():
    rep = EnsembleVaR().fit(_one_big_gain())
    assert rep.ensemble_var(0.99) > 0  # -0.0017 before
    assert (rep.var.to_numpy() > 0).all()
    assert any(s.startswith("Cornish-Fisher at 0.99") for s in rep.fallbacks())
    assert rep.cornish_fisher_fallback


# -- item 2: Cornish-Fisher ES is the tail average of its quantile function ------------------------
def test_cornish_fisher_es_not_below_var_student_t():
    # Student-t df = 3, n = 30: the cubic turns down below z_(1-c); before, ES 0.013938 < VaR 0.013987
    r = np.random.default_rng(51).standard_t(3, 30) * 0.005
    fb, var, es = cornish_fisher_fit(r, CS)
    assert not fb  # inside the domain: the expansion itself is used
    assert var[2] == pytest.approx(0.013986601430046772, rel=1e-9)
    assert es[2] >= var[2]


def test_cornish_fisher_tail_mean_is_the_running_minimum_quadrature():
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(400):
        s, k, c = rng.uniform(-2.5, 2.5), rng.uniform(-1.5, 25), rng.choice(CS)
        if not M.cornish_fisher_valid(np.array([s]), np.array([k]), np.array([c]))[0, 0]:
            continue
        z = special.ndtri(1 - c)
        zz = z + np.linspace(-14, 0, 40001)
        g = M._cf_g(zz, s, k)
        q = np.minimum.accumulate(g[::-1])[::-1]  # the largest non-decreasing function below g
        w = M._norm_pdf(zz)
        w[[0, -1]] *= 0.5
        got = M._cf_tail_mean(np.array([[z]]), np.array([[s]]), np.array([[k]]))[0, 0]
        assert got == pytest.approx((q * w).sum() / w.sum(), abs=2e-6)
        assert got <= M._cf_g(z, s, k) + 1e-12
        checked += 1
    assert checked > 100


samples = st.builds(
    lambda seed, n, df, scale, jump: _sample(seed, n, df, scale, jump),
    st.integers(0, 2**31 - 1), st.integers(30, 260), st.sampled_from([2.5, 3.0, 5.0, 30.0]),
    st.floats(0.001, 0.05), st.floats(-0.3, 0.3))


def _sample(seed: int, n: int, df: float, scale: float, jump: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = scale * rng.standard_t(df, n)
    r[rng.integers(0, n)] += jump  # one large move of either sign, sometimes
    return np.clip(r, -0.95, None)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples)
def test_property_es_not_below_var_and_ensemble_within_its_members(r):
    rep = EnsembleVaR(CS).fit(r)
    var, es = rep.var, rep.es
    assert np.isfinite(var.to_numpy()).all() and np.isfinite(es.to_numpy()).all()
    for c in CS:
        for m in var.index:
            assert es.loc[m, c] >= var.loc[m, c] - 1e-12, (m, c)
        members = var.loc[[m for m in var.index if m != ENSEMBLE], c]
        assert members.min() - 1e-12 <= rep.ensemble_var(c) <= members.max() + 1e-12
        e_members = es.loc[members.index, c]
        assert e_members.min() - 1e-12 <= rep.ensemble_es(c) <= e_members.max() + 1e-12
        w = rep.weights[c]
        assert (w >= 0).all() and w.sum() == pytest.approx(1.0)


# -- item 3: quantile-loss weights with the coverage gate --------------------------------------------
@pytest.fixture(scope="module")
def clustered() -> pd.Series:
    """GARCH-like returns: volatility clusters, so the unconditional methods violate in runs."""
    rng = np.random.default_rng(11)
    n = 900
    s2, out = 1e-4, np.empty(n)
    for t in range(n):
        out[t] = math.sqrt(s2) * rng.standard_normal()
        s2 = 2e-6 + 0.12 * out[t] ** 2 + 0.86 * s2
    return pd.Series(out, index=pd.bdate_range("2015-01-01", periods=n))


def test_quantile_loss_weights_by_hand(clustered):
    rep = EnsembleVaR(CS).fit(clustered)
    W = rep.info["oos"]["window"]
    bt = backtest(clustered, confidences=CS, window=W, ensemble=False)
    r = bt.realized.to_numpy()
    for c in CS:
        v = np.stack([bt.forecasts[(m.value, c)].to_numpy() for m in rep.methods], axis=1)
        loss = np.mean(((1 - c) - (r[:, None] < -v)) * (r[:, None] + v), axis=0)
        assert (loss >= 0).all()
        cc_p = np.array([christoffersen_test(bt.violations[(m.value, c)].to_numpy(), 1 - c)[3] for m in rep.methods])
        keep = cc_p >= 0.05
        if not keep.any():
            keep[:] = True
        expected = np.where(keep, 1 / loss, 0.0)
        np.testing.assert_allclose(rep.weights[c].to_numpy(), expected / expected.sum(), rtol=1e-10)
        sc = rep.scores.xs(c, level="confidence")
        np.testing.assert_allclose(sc["pinball_loss"].to_numpy(), loss, rtol=1e-10)
        np.testing.assert_allclose(sc["cc_p"].to_numpy(), cc_p, rtol=1e-9)
        assert list(sc["gated"]) == list(~keep)


def test_coverage_gate_zeroes_a_rejected_method_unless_all_are():
    rng = np.random.default_rng(2)
    r = rng.normal(0, 0.01, 2000)
    good = np.full(2000, 0.01 * 2.326)           # calibrated 99 % VaR
    bad = np.full(2000, 0.01 * 1.0)               # far too small: rejected
    var = np.stack([good, bad], axis=1)[:, :, None]
    w, sc = method_weights(r, var, np.array([0.99]))
    assert sc["cc_p"][1, 0] < 0.05 <= sc["cc_p"][0, 0]
    np.testing.assert_allclose(w[:, 0], [1.0, 0.0])
    both_bad = np.stack([bad, bad * 0.9], axis=1)[:, :, None]
    w2, sc2 = method_weights(r, both_bad, np.array([0.99]))
    assert not sc2["gated"].any()
    loss = pinball_loss(r, both_bad, np.array([0.99])).mean(axis=0)[:, 0]
    np.testing.assert_allclose(w2[:, 0], (1 / loss) / (1 / loss).sum())


def test_seed_score_is_an_option_and_the_default_is_quantile_loss(clustered):
    a = EnsembleVaR(CS).fit(clustered)
    b = EnsembleVaR(CS, weights=WeightScheme.SEED_SCORE).fit(clustered)
    assert a.weight_scheme is WeightScheme.QUANTILE_LOSS and b.weight_scheme is WeightScheme.SEED_SCORE
    assert not np.allclose(a.weights.to_numpy(), b.weights.to_numpy())
    with pytest.raises(ValueError, match="weights"):
        EnsembleVaR(weights="equal")


def test_scores_are_saved_and_loaded(clustered, tmp_store):
    rep = EnsembleVaR(CS).fit(clustered)
    back = type(rep).load(tmp_store, rep.save(tmp_store, "w"))
    pd.testing.assert_frame_equal(back.scores, rep.scores, check_names=False)


# -- item 4: the ensemble's out-of-sample forecasts are the backtest's --------------------------------
def test_ensemble_and_backtest_agree_exactly(clustered):
    rep = EnsembleVaR(CS).fit(clustered)
    oos = rep.info["oos"]
    bt = backtest(clustered, confidences=CS, window=oos["window"])  # defaults: same refit schedule
    assert oos["garch_refit_every"] == bt.refit_every == 21
    summ = bt.summary()
    for lab in [*(m.value for m in rep.methods), ENSEMBLE]:
        for c in CS:
            assert rep.diagnostics.loc[(lab, c), "violations"] == summ.loc[(lab, c), "violations"], (lab, c)
    w, scores = bt.method_weights()
    pd.testing.assert_frame_equal(w, rep.weights, check_exact=True)
    pd.testing.assert_frame_equal(scores, rep.scores)
    # the ensemble column of the backtest uses each day's weights from the days before it
    last = bt.weights.iloc[-1].unstack("confidence")
    assert (last >= 0).all().all()


# -- item 5: a GARCH failure on the whole sample falls back, as documented ---------------------------
def test_full_sample_garch_failure_falls_back_to_historical(monkeypatch, clustered):
    import riskcore.var.ensemble as ens

    def boom(*a, **k):
        raise RuntimeError("optimiser blew up")

    monkeypatch.setattr(ens, "fit_garch", boom)
    monkeypatch.setattr(ens, "fit_garch_compiled", boom, raising=False)
    r = clustered.iloc[:300]
    rep = EnsembleVaR(CS).fit(r)  # AttributeError on gp.mu before
    for c in CS:
        assert rep.var.loc["fhs", c] == pytest.approx(historical_var(r, c), rel=1e-12)
    assert "GARCH fit failed" in rep.fhs_fallback and "historical" in rep.fhs_fallback
    assert any(s.startswith("FHS:") for s in rep.fallbacks())


# -- item 6: small ones ------------------------------------------------------------------------------
def test_christoffersen_and_kupiec_never_return_negative_zero():
    v = np.zeros(100, dtype=bool)
    lr_ind, p_ind, lr_cc, _ = christoffersen_test(v, 0.01)
    assert math.copysign(1.0, lr_ind) == 1.0 and p_ind == 1.0
    lr, _ = kupiec_test(np.r_[np.ones(1, bool), np.zeros(99, bool)], 0.01)
    assert math.copysign(1.0, lr) == 1.0
    assert S.christoffersen_test(v, 0.01)[0] == 0.0
