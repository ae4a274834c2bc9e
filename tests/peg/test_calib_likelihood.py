"""Calibration: likelihood known answers, dt inference, input checks, held parameters, store round trip."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from riskcore.data import PriceSeries, load_sample
from riskcore.errors import InputError
from riskcore.params import ModelParameters
from riskcore.peg.calibration import (
    DEFAULT_FIT,
    CalibrationResult,
    calibrate,
    infer_dt,
    is_trading_days,
    log_likelihood,
)
from riskcore.peg.scenarios import Scenario


def _series(prices, start="2024-01-01", freq="D") -> pd.Series:
    return pd.Series(np.asarray(prices, dtype=float), index=pd.date_range(start, periods=len(prices), freq=freq))


def _brute_force_loglik(p: np.ndarray, th: ModelParameters, dt: float, F: float = 0.5, L=1e6, H=1.0) -> float:
    """SPEC §1 written out term by term with scipy.stats (independent of the vectorised code).

    ``L`` and ``H`` are constants or one value per step.
    """
    total = 0.0
    for t in range(len(p) - 1):
        x = p[t + 1] - p[t]
        L_t = float(np.broadcast_to(L, len(p) - 1)[t])
        H_t = float(np.broadcast_to(H, len(p) - 1)[t])
        decay = th.beta * 0.001 / max(0.1, L_t / 1e6) * (th.fiat_discount if F > th.fiat_threshold else 1.0) * (
            th.fiat_penalty if F < 0.1 else 1.0) if p[t] > 1.02 else 0.0
        support = th.gamma * 0.002 * min(2.0, 2.0 * F) if p[t] < 0.98 else 0.0
        drift = -th.alpha * (p[t] - 1.0) - decay + support
        q = 1 - math.exp(-th.jump_intensity * dt)
        sd0 = th.sigma_base * (2.0 if H_t < 0.8 else 1.0) * math.sqrt(dt)
        sd1 = math.sqrt(sd0 ** 2 + th.jump_size_sigma ** 2)
        dens = (1 - q) * stats.norm.pdf(x, drift * dt, sd0) + q * stats.norm.pdf(x, drift * dt + th.jump_size_mu, sd1)
        total += math.log(dens)
    return total


@pytest.mark.parametrize("fiat", [None, 0.05, 0.9])
def test_loglik_matches_brute_force_across_bands(fiat):
    rng = np.random.default_rng(3)
    p = np.concatenate([np.linspace(0.95, 1.05, 20), 1.0 + 0.03 * rng.standard_normal(30)])
    th = ModelParameters(alpha=3.0, beta=2.0, gamma=5.0, sigma_base=0.2, jump_intensity=30.0, jump_size_mu=-0.02,
                         jump_size_sigma=0.01)
    s = _series(p)
    if fiat is None:
        got, F = log_likelihood(s, th), 0.5
    else:
        ps = PriceSeries.from_series(s, fiat_flow=pd.Series(fiat, index=s.index))
        got, F = log_likelihood(ps, th), fiat
    assert got == pytest.approx(_brute_force_loglik(p, th, 1 / 365, F), rel=1e-10)


def test_loglik_uses_state_liquidity_and_volatility_doubling_below_health_08():
    """L and H enter exactly as in the simulation: decay / max(0.1, L/1e6), vol doubled while H < 0.8."""
    rng = np.random.default_rng(5)
    p = np.concatenate([np.linspace(1.05, 0.95, 25), 1.0 + 0.03 * rng.standard_normal(35)])
    th = ModelParameters(alpha=3.0, beta=20.0, gamma=5.0, sigma_base=0.2, jump_intensity=30.0, jump_size_mu=-0.02,
                         jump_size_sigma=0.01)
    H = np.where(np.arange(len(p) - 1) % 3 == 0, 0.5, 0.95)
    L = np.linspace(5e4, 3e6, len(p) - 1)
    state = Scenario(name="obs", network_health=tuple(H), liquidity_pool=tuple(L))
    got = log_likelihood(_series(p), th, state=state)
    want = _brute_force_loglik(p, th, 1 / 365, L=L, H=H)
    assert got == pytest.approx(want, rel=1e-10)
    assert abs(got - log_likelihood(_series(p), th)) > 1.0  # the state matters
    with pytest.raises(InputError, match="shocks"):
        log_likelihood(_series(p), th, state=Scenario(shocks={3: -0.1}))
    with pytest.raises(InputError, match="network_health"):
        log_likelihood(_series(p), th, state=Scenario(network_health=(0.5, 0.6)))  # not one value per step


def test_dt_inferred_from_median_spacing():
    assert infer_dt(pd.date_range("2024-01-01", periods=40, freq="D")) == pytest.approx(1 / 365)
    # trading-day data: one step per trading day, 252 a year (was 1/365: that inflates the annualised
    # sigma_base of business-daily data by sqrt(365/252), see the module's Decisions)
    assert is_trading_days(pd.bdate_range("2024-01-01", periods=40))
    assert infer_dt(pd.bdate_range("2024-01-01", periods=40)) == pytest.approx(1 / 252)
    assert infer_dt(pd.bdate_range("2024-01-01", periods=40).delete([7, 20])) == pytest.approx(1 / 252)  # holidays
    assert not is_trading_days(pd.date_range("2024-01-01", periods=40, freq="D"))
    assert infer_dt(pd.date_range("2024-01-01", periods=40, freq="7D")) == pytest.approx(7 / 365)
    assert infer_dt(pd.date_range("2024-01-01", periods=40, freq="h")) == pytest.approx(1 / (24 * 365))


def test_input_checks():
    s = _series(1 + 0.01 * np.sin(np.arange(40)))
    with pytest.raises(InputError, match="fit"):
        calibrate(s, fit=("alpha", "liquidity_minimum"))
    with pytest.raises(InputError, match="fit"):
        calibrate(s, fit=())
    with pytest.raises(InputError, match="dt"):
        calibrate(s, dt=0.0)
    with pytest.raises(InputError, match="dt"):
        calibrate(s, dt=2.0)
    with pytest.raises(InputError, match="prices"):
        calibrate(np.ones(40))
    with pytest.raises(InputError, match="at least 30"):
        calibrate(_series(np.ones(10)))
    with pytest.raises(InputError, match="base"):
        calibrate(s, base="defaults")
    bad_fiat = PriceSeries.from_series(s, fiat_flow=pd.Series(3.0, index=s.index))
    with pytest.raises(InputError, match="fiat_flow"):
        calibrate(bad_fiat)


def test_held_parameters_keep_base_and_sample_fit_is_sane(tmp_store):
    series = load_sample("stable_token")
    base = ModelParameters(beta=0.7, gamma=1.3, speculation_penalty=0.05)
    calls = []
    res = calibrate(series, base=base, progress=lambda f, m: calls.append(f))
    assert res.fit == DEFAULT_FIT and set(res.held) == {"beta", "gamma"}
    assert res.params.beta == 0.7 and res.params.gamma == 1.3 and res.params.speculation_penalty == 0.05
    sm = res.summary()
    assert bool(sm.loc["beta", "held"]) and math.isnan(sm.loc["beta", "std_err"])
    assert not sm.loc["alpha", "held"] and sm.loc[list(DEFAULT_FIT), "std_err"].gt(0).all()
    # 95 % intervals on the optimiser's scale: log scale for positive parameters (never below 0)
    est, se = sm.loc["jump_intensity", "estimate"], sm.loc["jump_intensity", "std_err"]
    assert sm.loc["jump_intensity", "ci95_low"] == pytest.approx(est * math.exp(-1.959964 * se / est))
    assert sm.loc["jump_intensity", "ci95_high"] == pytest.approx(est * math.exp(1.959964 * se / est))
    assert (sm.loc[list(DEFAULT_FIT), "ci95_low"] < sm.loc[list(DEFAULT_FIT), "estimate"]).all()
    assert sm.loc["jump_size_mu", "ci95_high"] == pytest.approx(sm.loc["jump_size_mu", "estimate"]
                                                                + 1.959964 * sm.loc["jump_size_mu", "std_err"])
    assert res.dt_inferred and res.dt == pytest.approx(1 / 365) and res.n_obs == len(series) - 1
    assert res.aic == pytest.approx(2 * 5 - 2 * res.loglik) and res.bic == pytest.approx(
        5 * math.log(res.n_obs) - 2 * res.loglik)
    assert res.loglik == pytest.approx(log_likelihood(series, res.params), rel=1e-12)
    assert calls and calls[-1] == 1.0 and all(0 <= c <= 1 for c in calls)
    # the maximum: moving any fitted parameter by 1 % lowers the likelihood
    for name in DEFAULT_FIT:
        v = getattr(res.params, name)
        for f in (0.99, 1.01):
            assert log_likelihood(series, res.params.replace(**{name: v * f})) < res.loglik
    # diagnostics: residuals ~ N(0,1) for data simulated by the model itself
    assert res.ks_pvalue > 0.01 and not res.warnings
    z = res.std_residuals
    assert abs(z.mean()) < 4 / math.sqrt(len(z)) and abs(z.std() - 1) < 0.05
    grid = np.linspace(res.increments.min(), res.increments.max(), 2001)
    assert np.trapezoid(res.increment_density(grid), grid) == pytest.approx(1.0, abs=0.01)
    # store round trip
    run_id = res.save(tmp_store, "sample fit")
    back = CalibrationResult.load(tmp_store, run_id)
    assert back.params == res.params and back.loglik == res.loglik and back.fit == res.fit
    np.testing.assert_array_equal(back.std_residuals, res.std_residuals)
    pd.testing.assert_frame_equal(back.summary(), res.summary())
    assert (back.dates == res.dates).all()
    assert tmp_store.load_run(run_id).kind == "calibration"


def test_parameter_the_data_cannot_identify_is_held_and_reported():
    """beta acts only above 1.02: on a series that never gets there it is held at base, reported as held."""
    rng = np.random.default_rng(8)
    p = np.empty(400)
    p[0] = 1.0
    for t in range(399):  # alpha = 5, sigma = 0.02 a year: never near the bands
        p[t + 1] = p[t] - 5.0 * (p[t] - 1.0) / 365 + 0.02 * math.sqrt(1 / 365) * rng.standard_normal()
    assert p.max() < 1.02
    base = ModelParameters(beta=0.7)
    res = calibrate(_series(p), fit=("alpha", "sigma_base", "beta"), base=base)
    assert res.not_identified == ("beta",) and "beta" in res.held and res.fit == ("alpha", "sigma_base")
    assert res.params.beta == 0.7 and math.isnan(res.std_errors["beta"])
    assert any("not identified" in w and "beta" in w for w in res.warnings)
    assert res.aic == pytest.approx(2 * 2 - 2 * res.loglik)
    sm = res.summary()
    assert bool(sm.loc["beta", "held"]) and bool(sm.loc["beta", "not_identified"])
    assert res.std_errors["sigma_base"] > 0 and abs(res.estimates["sigma_base"] - 0.02) < 4 * res.std_errors[
        "sigma_base"]


def test_fitting_beta_gamma_is_allowed_and_reported_weak():
    # the sample never exceeds 1.02 (its jumps are negative), so beta cannot be identified and is held;
    # it spends most steps below 0.98, so gamma is estimated
    res = calibrate(load_sample("stable_token"), fit=("alpha", "sigma_base", "beta", "gamma"))
    assert "gamma" in res.fit and "beta" in res.held and res.not_identified == ("beta",)
    assert any("beta" in w for w in res.warnings)
    assert res.std_errors["gamma"] > 0


def test_real_index_runs_finite_with_poor_fit_warning():
    res = calibrate(load_sample("sp500"))
    assert math.isfinite(res.loglik) and all(math.isfinite(res.estimates[n]) for n in DEFAULT_FIT)
    assert np.isfinite(res.std_residuals).all()
    text = " ".join(res.warnings)
    assert "poor fit" in text and "far from the 1.0 peg" in text
    assert isinstance(res.params, ModelParameters)


def test_optimum_does_not_depend_on_the_start_where_plain_lbfgsb_stalls():
    """Several starts on transformed parameters reach the same maximum from a far-off base; a plain
    single-start L-BFGS-B on the raw parameters from that base stops hundreds of log-likelihood units short."""
    from scipy import optimize

    from riskcore.peg.calibration import _loglik_terms, _prepare

    series = load_sample("stable_token")
    ref = calibrate(series)
    far = ModelParameters(alpha=0.001, sigma_base=0.0001, jump_intensity=300.0, jump_size_mu=-0.3,
                          jump_size_sigma=0.0001)
    res = calibrate(series, base=far)
    assert res.loglik == pytest.approx(ref.loglik, abs=1e-3)
    for name in DEFAULT_FIT:  # same point, well inside one standard error
        assert abs(res.estimates[name] - ref.estimates[name]) < 0.05 * ref.std_errors[name]
    d, _ = _prepare(series, ref.dt, far, True)
    held = far.to_dict()

    def nll(x: np.ndarray) -> float:
        v = -float(np.sum(_loglik_terms({**held, **dict(zip(DEFAULT_FIT, x, strict=True))}, d)))
        return v if math.isfinite(v) else 1e300

    plain = optimize.minimize(nll, np.array([held[n] for n in DEFAULT_FIT]), method="L-BFGS-B",
                              bounds=[(0, None), (1e-8, None), (0, None), (None, None), (1e-8, None)])
    assert -plain.fun < ref.loglik - 100
