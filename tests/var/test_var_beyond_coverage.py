"""Duration, DQ, Z2 and McNeil–Frey backtests: independent references, published values, size and power."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import optimize, stats

from riskcore.errors import InputError
from riskcore.var import backtest
from riskcore.var.beyond_coverage import (
    BEYOND_COLUMNS,
    dq_test,
    duration_test,
    hit_durations,
    mcneil_frey_test,
    z2_statistic,
    z2_test,
)

R = 300  # replications of the size checks
LEVEL = 0.05
#: 3.5 binomial standard errors of a rejection rate of 5 % over R replications
SIZE_TOL = 3.5 * math.sqrt(LEVEL * (1 - LEVEL) / R)


def _normal_forecasts(sig: np.ndarray, p: float) -> tuple[np.ndarray, np.ndarray]:
    q = stats.norm.ppf(p)
    return -q * sig, sig * stats.norm.pdf(q) / p


def _garch_like(rng: np.random.Generator, T: int) -> np.ndarray:
    return np.exp(0.3 * np.sin(np.arange(T) / 50.0) + 0.1 * rng.standard_normal(T))


# ---- duration ----------------------------------------------------------------------------------
def test_hit_durations_censoring_as_in_the_paper():
    d, c = hit_durations([0, 0, 1, 0, 1, 0, 0])
    np.testing.assert_array_equal(d, [3, 2, 2])
    np.testing.assert_array_equal(c, [True, False, True])
    d, c = hit_durations([1, 0, 0, 1])  # starts and ends with a hit: nothing censored
    np.testing.assert_array_equal(d, [3])
    np.testing.assert_array_equal(c, [False])


def _duration_reference(v: np.ndarray) -> tuple[float, float]:
    """Independent: both likelihoods maximised over (a, b) directly with scipy.optimize."""
    t = np.flatnonzero(v) + 1
    T = v.size
    d, c = [], []
    if t[0] > 1:
        d.append(t[0])
        c.append(1)
    d += list(np.diff(t))
    c += [0] * (t.size - 1)
    if t[-1] < T:
        d.append(T - t[-1])
        c.append(1)
    d, c = np.asarray(d, float), np.asarray(c, float)

    def nll(theta: np.ndarray, fix_b: bool) -> float:
        a = math.exp(theta[0])
        b = 1.0 if fix_b else math.exp(theta[1])
        log_s = -(a * d) ** b
        log_f = b * math.log(a) + math.log(b) + (b - 1) * np.log(d) + log_s
        return -float(np.sum(c * log_s + (1 - c) * log_f))

    x0 = [math.log(v.mean()), 0.0]
    r1 = optimize.minimize(nll, x0, args=(False,), method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12,
                                                                                  "maxiter": 20000})
    r0 = optimize.minimize(nll, x0[:1], args=(True,), method="Nelder-Mead", options={"xatol": 1e-10,
                                                                                     "fatol": 1e-12})
    return 2 * (r0.fun - r1.fun), math.exp(r1.x[1])


@pytest.mark.parametrize("seed,clustered", [(1, False), (2, True), (3, False)])
def test_duration_lr_matches_a_direct_two_parameter_likelihood(seed, clustered):
    rng = np.random.default_rng(seed)
    T, p = 1500, 0.03
    if clustered:  # a Markov chain: violations follow violations
        v = np.zeros(T, bool)
        for t in range(1, T):
            v[t] = rng.random() < (0.25 if v[t - 1] else 0.02)
    else:
        v = rng.random(T) < p
    res = duration_test(v, p)
    lr_ref, b_ref = _duration_reference(v)
    assert res.statistic == pytest.approx(lr_ref, abs=1e-6, rel=1e-6)
    assert res.details["b"] == pytest.approx(b_ref, rel=1e-4)
    assert res.p_value == pytest.approx(stats.chi2.sf(lr_ref, 1), abs=1e-6)


def test_duration_size_with_monte_carlo_p_values_and_asymptotic_oversize():
    rng = np.random.default_rng(11)
    T, p = 1000, 0.05
    rej_mc = rej_asym = 0
    for i in range(R):
        res = duration_test(rng.random(T) < p, p, n_mc=99, seed=i)
        rej_mc += res.p_value < LEVEL
        rej_asym += res.details["p_asymptotic"] < LEVEL
    assert abs(rej_mc / R - LEVEL) < SIZE_TOL
    # the chi-square approximation rejects too often in samples of this size (documented, and why the
    # Monte Carlo p-value is the default of the backtest summary); it is still a test, not noise
    assert LEVEL - SIZE_TOL < rej_asym / R < 0.2


def test_duration_detects_clustered_violations():
    rng = np.random.default_rng(5)
    T = 2000
    v = np.zeros(T, bool)
    for t in range(1, T):
        v[t] = rng.random() < (0.3 if v[t - 1] else 0.03)
    res = duration_test(v, 0.04, n_mc=199, seed=1)
    assert res.rejects() and res.details["b"] < 1  # decreasing hazard: clusters


def test_duration_without_complete_durations_is_nan_with_reason():
    res = duration_test(np.r_[np.zeros(50, bool), True, np.zeros(50, bool)], 0.01)
    assert math.isnan(res.statistic) and "complete duration" in res.details["reason"]


# ---- DQ --------------------------------------------------------------------------------------
def test_dq_matches_statsmodels_ols():
    rng = np.random.default_rng(3)
    T, p, K = 800, 0.05, 4
    sig = _garch_like(rng, T)
    var, _ = _normal_forecasts(sig, p)
    r = sig * rng.standard_t(5, T) / math.sqrt(5 / 3)
    v = r < -var
    hit = v - p
    X = np.column_stack([np.ones(T - K)] + [hit[K - k:T - k] for k in range(1, K + 1)] + [var[K:]])
    ols = sm.OLS(hit[K:], X).fit()
    dq_ref = float(ols.params @ X.T @ X @ ols.params) / (p * (1 - p))
    res = dq_test(v, var, p)
    assert res.df == 6
    assert res.statistic == pytest.approx(dq_ref, rel=1e-8)
    assert res.p_value == pytest.approx(stats.chi2.sf(dq_ref, 6), rel=1e-7)


def test_dq_constant_var_drops_the_collinear_regressor():
    rng = np.random.default_rng(4)
    v = rng.random(500) < 0.05
    res = dq_test(v, np.full(500, 1.64), 0.05)
    assert res.df == 5 and np.isfinite(res.statistic)


def test_dq_size_and_power():
    rng = np.random.default_rng(7)
    T, p = 1000, 0.05
    rej = 0
    for _ in range(R):
        sig = _garch_like(rng, T)
        var, _ = _normal_forecasts(sig, p)
        rej += dq_test(rng.standard_normal(T) * sig < -var, var, p).rejects()
    assert abs(rej / R - LEVEL) < SIZE_TOL
    # a VaR that follows the wrong volatility (the true one reversed in time): violations are predictable
    # from the VaR itself, although their overall rate is about right
    sig = np.exp(0.8 * np.sin(np.arange(T) / 40.0))
    r = sig * rng.standard_normal(T)
    wrong, _ = _normal_forecasts(sig[::-1], p)
    assert dq_test(r < -wrong, wrong, p).rejects(0.01)


# ---- Z2 --------------------------------------------------------------------------------------
def test_z2_statistic_by_hand():
    r = np.array([-0.03, 0.01, -0.05, 0.0])
    var = np.full(4, 0.02)
    es = np.array([0.025, 0.03, 0.04, 0.03])
    # violations on days 0 and 2: 1 - (0.03/0.025 + 0.05/0.04) / (4 * 0.5)
    assert z2_statistic(r, var, es, 0.5) == pytest.approx(1 - (1.2 + 1.25) / 2.0)


def test_z2_critical_value_matches_acerbi_szekely_and_a_direct_simulation():
    # Acerbi & Szekely (2014): for T = 250 at 2.5 % the 5 % critical value of Z2 is about -0.70
    T, p = 250, 0.025
    var, es = _normal_forecasts(np.ones(T), p)
    res = z2_test(np.zeros(T), var, es, p, n_sim=40_000, seed=1)
    # independent: simulate every day of every sample from the normal law itself
    rng = np.random.default_rng(2)
    x = rng.standard_normal((40_000, T))
    direct = 1 - np.sum(np.where(x < -var, -x / es, 0.0), axis=1) / (T * p)
    q_direct = float(np.quantile(direct, 0.05))
    # standard error of a sample 5 % quantile: sqrt(q (1 - q) / n) / density at the quantile
    dens = stats.gaussian_kde(direct)(q_direct)[0]
    se = math.sqrt(0.05 * 0.95 / 40_000) / dens
    assert abs(res.details["crit_5"] - q_direct) < 4 * math.sqrt(2) * se
    assert res.details["crit_5"] == pytest.approx(-0.70, abs=0.03)


def test_z2_size_and_power():
    rng = np.random.default_rng(9)
    T, p = 500, 0.025
    rej = 0
    for i in range(R):
        sig = _garch_like(rng, T)
        var, es = _normal_forecasts(sig, p)
        rej += z2_test(sig * rng.standard_normal(T), var, es, p, n_sim=200, seed=i).rejects()
    assert abs(rej / R - LEVEL) < SIZE_TOL
    # the risk is 30 % larger than forecast: more and larger tail losses than the ES allows
    r = 1.3 * rng.standard_normal(2000)
    var, es = _normal_forecasts(np.ones(2000), p)
    assert z2_test(r, var, es, p, seed=3).rejects(0.01)


def test_z2_t_distribution_simulation_reproduces_its_var_and_es():
    from riskcore.var.beyond_coverage import _location_scale

    p, df = 0.01, 4.0
    var, es = np.array([0.05]), np.array([0.08])
    m, s, _ = _location_scale(var, es, p, "t", df)
    y = stats.t.rvs(df, size=2_000_000, random_state=np.random.default_rng(0))
    x = m[0] + s[0] * y
    q = np.quantile(x, p)
    assert -q == pytest.approx(0.05, rel=0.01)
    assert -x[x <= q].mean() == pytest.approx(0.08, rel=0.02)


# ---- McNeil-Frey ---------------------------------------------------------------------------
def _mf_reference(r, var, es, B, rng):
    hit = r < -var
    e = (-r[hit] - es[hit]) / (es[hit] - var[hit])
    n = e.size
    t_obs = e.mean() / (e.std(ddof=1) / math.sqrt(n))
    c = e - e.mean()
    count = 0
    for _ in range(B):
        b = c[rng.integers(0, n, n)]
        count += b.mean() / (b.std(ddof=1) / math.sqrt(n)) >= t_obs
    return t_obs, (1 + count) / (B + 1)


def test_mcneil_frey_matches_a_loop_bootstrap_and_a_t_test():
    rng = np.random.default_rng(12)
    T, p = 3000, 0.05
    sig = _garch_like(rng, T)
    var, es = _normal_forecasts(sig, p)
    r = 1.1 * sig * rng.standard_normal(T)  # slightly too little ES
    res = mcneil_frey_test(r, var, es, n_boot=4000, seed=1)
    t_ref, p_ref = _mf_reference(r, var, es, 4000, np.random.default_rng(99))
    assert res.statistic == pytest.approx(t_ref, rel=1e-10)
    # two independent bootstraps of 4000: p-values within 4 standard errors of their difference
    assert abs(res.p_value - p_ref) < 4 * math.sqrt(2 * p_ref * (1 - p_ref) / 4000) + 1e-3
    # and close to the one-sided t-test for this sample size
    assert res.p_value == pytest.approx(stats.t.sf(t_ref, res.details["n_exceedances"] - 1), abs=0.05)


def test_mcneil_frey_size_and_power():
    rng = np.random.default_rng(13)
    T, p = 1000, 0.05
    rej = 0
    for i in range(R):
        sig = _garch_like(rng, T)
        var, es = _normal_forecasts(sig, p)
        rej += mcneil_frey_test(sig * rng.standard_normal(T), var, es, n_boot=200, seed=i).rejects()
    assert abs(rej / R - LEVEL) < SIZE_TOL
    var, es = _normal_forecasts(np.ones(2000), p)
    assert mcneil_frey_test(rng.standard_t(3, 2000), var, es, seed=2).rejects(0.01)


# ---- bad input and the backtest summary -------------------------------------------------------
@pytest.mark.parametrize("call,field", [
    (lambda: duration_test([0, 1, 2], 0.05), "violations"),
    (lambda: duration_test([0, 1, 1], 1.5), "expected_rate"),
    (lambda: duration_test([0, 1, 1, 0], None, n_mc=500), "expected_rate"),
    (lambda: dq_test([0, 1] * 20, [1.0] * 39, 0.05), "var_forecasts"),
    (lambda: dq_test([0, 1] * 20, [1.0] * 40, 0.05, lags=30), "lags"),
    (lambda: z2_test([0.1] * 10, [0.1] * 10, [0.0] * 10, 0.05), "es_forecasts"),
    (lambda: z2_test([0.1] * 10, [0.1] * 10, [0.2] * 10, 0.05, n_sim=5), "n_sim"),
    (lambda: z2_test([0.1] * 10, [0.1] * 10, [0.2] * 10, 0.05, dist="t", df=2), "df"),
    (lambda: mcneil_frey_test([np.nan] * 10, [0.1] * 10, [0.2] * 10), "returns"),
])
def test_bad_input_names_the_field(call, field):
    with pytest.raises(InputError) as exc:
        call()
    assert exc.value.field == field


def test_backtest_summary_has_the_new_columns():
    rng = np.random.default_rng(21)
    r = 0.01 * rng.standard_t(4, 700)
    res = backtest(r, methods=["historical", "parametric"], confidences=(0.95, 0.99), window=250)
    summ = res.summary()
    assert set(BEYOND_COLUMNS) <= set(summ.columns)
    row = summ.loc[("historical", 0.95)]
    col = ("historical", 0.95)
    realized = res.realized.to_numpy()
    v = realized < -res.forecasts[col].to_numpy()
    assert row["dq_stat"] == pytest.approx(dq_test(v, res.forecasts[col].to_numpy(), 0.05).statistic)
    assert row["dur_lr"] == pytest.approx(duration_test(v, 0.05).statistic)
    assert row["z2"] == pytest.approx(z2_statistic(realized, res.forecasts[col].to_numpy(),
                                                   res.es_forecasts[col].to_numpy(), 0.05))
    assert 0 < row["z2_p"] <= 1 and 0 < row["mf_p"] <= 1 and 0 < row["dur_p"] <= 1
    pd_again = res.summary()  # reproducible (fixed seed), and cached
    assert pd_again.equals(summ)


def test_summary_survives_windows_of_equal_returns():
    # a token stuck at its floor: VaR = ES = 0 on flat windows; the new columns are NaN or finite, never an error
    import warnings

    rng = np.random.default_rng(8)
    r = np.r_[rng.normal(0, 0.01, 120), np.zeros(150), rng.normal(0, 0.01, 60)]
    res = backtest(r, methods=["historical", "parametric"], confidences=(0.95, 0.99), window=60)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        summ = res.summary()
    vals = summ[list(BEYOND_COLUMNS)].to_numpy(float)
    assert not np.isinf(vals).any()
    assert summ["dq_p"].notna().all()
