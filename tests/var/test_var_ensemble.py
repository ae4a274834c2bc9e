"""EnsembleVaR: out-of-sample weights, the ensemble sum, diagnostics, persistence."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from riskcore.errors import InputError
from riskcore.var import (
    ENSEMBLE,
    EnsembleVaR,
    VaRReport,
    backtest,
    cornish_fisher_var,
    evt_var,
    fhs_var,
    historical_var,
    parametric_var,
)

CS = (0.95, 0.99, 0.997)


@pytest.fixture(scope="module")
def returns() -> pd.Series:
    rng = np.random.default_rng(9)
    idx = pd.bdate_range("2018-01-01", periods=600, name="date")
    return pd.Series(0.01 * rng.standard_t(4, 600) / math.sqrt(2.0), index=idx)


@pytest.fixture(scope="module")
def report(returns) -> VaRReport:
    return EnsembleVaR(CS).fit(returns)


def test_seed_score_weights_are_normalised_scores(returns):
    # issue 10 item 3: the seed's score is an option now (the default is SPEC §2's quantile loss)
    report = EnsembleVaR(CS, weights="seed_score").fit(returns)
    w = report.weights
    assert list(w.columns) == list(CS) and list(w.index) == ["historical", "parametric", "cornish_fisher", "evt", "fhs"]
    np.testing.assert_allclose(w.sum(axis=0).to_numpy(), 1.0, rtol=1e-12)
    d = report.diagnostics
    for c in CS:
        scores = np.array([d.loc[(m, c), "score"] for m in w.index])
        x = np.array([d.loc[(m, c), "violations"] for m in w.index])
        n = d.loc[("historical", c), "n"]
        np.testing.assert_allclose(scores, 1 / (1 + np.abs(x - n * (1 - c)) / n), rtol=1e-12)
        np.testing.assert_allclose(w[c].to_numpy(), scores / scores.sum(), rtol=1e-12)


def test_weights_come_from_the_out_of_sample_backtest(report, returns):
    oos = report.info["oos"]
    assert oos["window"] == 252 and oos["n_days"] == 600 - 252
    bt = backtest(returns, confidences=CS, window=oos["window"], refit_every=oos["garch_refit_every"], ensemble=False)
    for (m, c), row in report.diagnostics.drop(index=ENSEMBLE, level=0).iterrows():
        assert row["violations"] == int(bt.violations[(m, c)].sum())
        assert row["n"] == oos["n_days"]


def test_the_ensemble_is_the_weighted_sum_of_full_sample_estimates(report, returns):
    for c in CS:
        assert report.var.loc["historical", c] == pytest.approx(historical_var(returns, c), rel=1e-12)
        assert report.var.loc["parametric", c] == pytest.approx(parametric_var(returns, c), rel=1e-12)
        assert report.var.loc["cornish_fisher", c] == pytest.approx(cornish_fisher_var(returns, c), rel=1e-12)
        assert report.var.loc["evt", c] == pytest.approx(evt_var(returns, c), rel=1e-12)
        assert report.var.loc["fhs", c] == pytest.approx(fhs_var(returns, c), rel=1e-6)
        w = report.weights[c]
        assert report.ensemble_var(c) == pytest.approx(float((w * report.var.loc[w.index, c]).sum()), rel=1e-12)
        assert report.ensemble_es(c) == pytest.approx(float((w * report.es.loc[w.index, c]).sum()), rel=1e-12)
        assert report.ensemble_es(c) >= report.ensemble_var(c)


def test_summary_and_diagnostics(report):
    s = report.summary()
    assert len(s) == 6 * len(CS)
    for col in ("var", "es", "weight", "oos_violations", "oos_expected", "kupiec_p", "christoffersen_cc_p",
                "traffic_light"):
        assert col in s.columns
    assert s.loc[(ENSEMBLE, 0.99), "var"] == pytest.approx(report.ensemble_var(0.99))
    assert ((report.diagnostics["kupiec_p"] >= 0) & (report.diagnostics["kupiec_p"] <= 1)).all()


def test_evt_fallback_is_reported_and_short_samples_use_equal_weights():
    r = np.random.default_rng(1).normal(0, 0.01, 30)
    rep = EnsembleVaR((0.95, 0.99)).fit(r)
    assert set(rep.evt_fallback) == {"0.95", "0.99"} and "exceedances" in rep.evt_fallback["0.99"]
    assert rep.var.loc["evt", 0.99] == pytest.approx(historical_var(r, 0.99))
    assert "equal weights" in rep.info["oos"]["note"]
    np.testing.assert_allclose(rep.weights.to_numpy(), 0.2)


def test_save_and_load(report, tmp_store):
    rid = report.save(tmp_store, "ens")
    back = VaRReport.load(tmp_store, rid)
    pd.testing.assert_frame_equal(back.var, report.var)
    pd.testing.assert_frame_equal(back.weights, report.weights)
    pd.testing.assert_frame_equal(back.summary(), report.summary(), check_names=False)
    assert back.methods == report.methods and back.info["oos"] == report.info["oos"]
    with pytest.raises(InputError, match="run_id"):
        VaRReport.load(tmp_store, "nope")


def test_ensemble_input_errors(returns):
    with pytest.raises(InputError, match="confidences"):
        EnsembleVaR((0.99, 0.99))
    with pytest.raises(InputError, match="methods"):
        EnsembleVaR(methods=["garch"])
    with pytest.raises(InputError, match="at least 30"):
        EnsembleVaR().fit(returns.iloc[:20])
    with pytest.raises(InputError, match="oos_window"):
        EnsembleVaR(oos_window=10).fit(returns)


def test_refit_and_window_arguments_are_validated():
    for kw in ({"refit_every": 0}, {"refit_every": -5}, {"refit_every": 2.5}, {"oos_window": True},
               {"oos_window": 10}):
        with pytest.raises(InputError, match=next(iter(kw))):
            EnsembleVaR(**kw)


def test_flat_stretches_fall_back_and_are_reported():
    # returns that stop moving (a token at its price floor): FHS's filter is degenerate in the
    # out-of-sample windows of zeros; the fit still works and every number is finite
    rng = np.random.default_rng(4)
    r = np.r_[rng.normal(0, 0.01, 60), np.zeros(200), rng.normal(0, 0.01, 20)]
    rep = EnsembleVaR((0.95, 0.99)).fit(r)
    assert np.isfinite(rep.var.to_numpy()).all() and np.isfinite(rep.es.to_numpy()).all()
    assert all(isinstance(s, str) for s in rep.fallbacks())
    np.testing.assert_allclose(rep.weights.sum(axis=0).to_numpy(), 1.0)


def test_report_with_fallbacks_saves_and_loads(tmp_store):
    r = np.random.default_rng(1).normal(0, 0.01, 30)
    rep = EnsembleVaR((0.95, 0.99)).fit(r)
    assert rep.fallbacks() and rep.fallbacks()[0].startswith("EVT at 0.95")
    back = VaRReport.load(tmp_store, rep.save(tmp_store))
    pd.testing.assert_frame_equal(back.var, rep.var)
    assert back.evt_fallback == rep.evt_fallback and back.fallbacks() == rep.fallbacks()
