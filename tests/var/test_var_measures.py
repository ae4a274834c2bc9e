"""Known answers for the five VaR/ES methods and their input contract."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special, stats

from riskcore.errors import InputError
from riskcore.var import (
    VaRMethod,
    as_returns,
    cornish_fisher_es,
    cornish_fisher_var,
    evt_es,
    evt_fallback_reason,
    evt_fit,
    evt_var,
    fhs_es,
    fhs_fit,
    fhs_var,
    gpd_fit,
    historical_es,
    historical_var,
    parametric_es,
    parametric_var,
)
from riskcore.var.garch import GarchParams
from riskcore.var.measures import pot_var_es

LEVELS = (0.9, 0.95, 0.99, 0.997)


@pytest.fixture(scope="module")
def t_returns() -> np.ndarray:
    """Fat-tailed daily-like returns: Student t(4) scaled to 1 % volatility."""
    rng = np.random.default_rng(7)
    return 0.01 * rng.standard_t(4, 1000) / math.sqrt(2.0)


@pytest.mark.parametrize("c", LEVELS)
def test_historical_equals_numpy_percentile(t_returns, c):
    assert historical_var(t_returns, c) == pytest.approx(-np.percentile(t_returns, (1 - c) * 100), rel=1e-14)
    q = np.quantile(t_returns, 1 - c)
    assert historical_es(t_returns, c) == pytest.approx(-t_returns[t_returns <= q].mean(), rel=1e-14)


def test_historical_on_a_known_grid():
    r = np.linspace(-0.05, 0.05, 101)  # quantile 0.05 of 101 evenly spaced points = -0.045
    assert historical_var(r, 0.95) == pytest.approx(0.045, abs=1e-15)
    assert historical_es(r, 0.95) == pytest.approx(-np.mean(r[:6]), abs=1e-15)  # -0.05 ... -0.045


def test_parametric_normal_data_is_2326_sigma():
    # n = 200,000 N(0, 1%): se(VaR) = sigma * sqrt((1 + z^2/2) / n) = 0.0043 sigma; tolerance 4 se
    sigma, n = 0.01, 200_000
    r = np.random.default_rng(1).normal(0.0, sigma, n)
    z = 2.3263478740408408
    se = sigma * math.sqrt((1 + z**2 / 2) / n)
    assert abs(parametric_var(r, 0.99) - z * sigma) < 4 * se
    # ES of a normal = sigma * phi(z) / 0.01 = 2.665 sigma
    assert parametric_es(r, 0.99) == pytest.approx(sigma * stats.norm.pdf(z) / 0.01, rel=0.01)


@pytest.mark.parametrize("c", LEVELS)
def test_parametric_formula_uses_ddof1(t_returns, c):
    expected = -(t_returns.mean() + special.ndtri(1 - c) * t_returns.std(ddof=1))
    assert parametric_var(t_returns, c) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("c", LEVELS)
def test_cornish_fisher_matches_seed_expansion(t_returns, c):
    s, k = stats.skew(t_returns), stats.kurtosis(t_returns)  # sample skewness, excess kurtosis
    z = stats.norm.ppf(1 - c)
    zcf = z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36
    expected = -(t_returns.mean() + zcf * t_returns.std(ddof=1))
    assert cornish_fisher_var(t_returns, c) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("c", (0.95, 0.99))
def test_cornish_fisher_es_is_tail_average_of_cf_quantile(t_returns, c):
    s, k = stats.skew(t_returns), stats.kurtosis(t_returns)
    mu, sd, p = t_returns.mean(), t_returns.std(ddof=1), 1 - c

    def q(u):
        z = stats.norm.ppf(u)
        return mu + sd * (z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36)

    integral, _ = integrate.quad(q, 0, p, limit=200)
    assert cornish_fisher_es(t_returns, c) == pytest.approx(-integral / p, rel=1e-6)


def test_cornish_fisher_reduces_to_normal_without_skew_and_kurtosis():
    # a symmetric sample whose excess kurtosis is zero: +-a with weights chosen so m4/m2^2 = 3 is not
    # trivial; instead compare the ES formula with S = K = 0 through the normal ES on the same mu, sd
    r = np.random.default_rng(3).normal(0, 0.01, 100_000)
    s, k = stats.skew(r), stats.kurtosis(r)
    assert abs(s) < 0.03 and abs(k) < 0.06  # 4 standard errors: sqrt(6/n), sqrt(24/n)
    assert cornish_fisher_var(r, 0.99) == pytest.approx(parametric_var(r, 0.99), rel=0.01)
    assert cornish_fisher_es(r, 0.99) == pytest.approx(parametric_es(r, 0.99), rel=0.02)


def test_gpd_fit_recovers_parameters_and_beats_scipy():
    # xi = 0.2, beta = 1, n = 20,000: se(xi) ~ (1 + xi)/sqrt(n) = 0.0085, se(beta)/beta ~ 0.012; tolerance 4 se
    y = stats.genpareto.rvs(0.2, scale=1.0, size=20_000, random_state=np.random.default_rng(11))
    xi, beta = gpd_fit(y)
    assert abs(xi - 0.2) < 4 * 0.0085 and abs(beta - 1.0) < 4 * 0.012
    # on a small sample our likelihood maximum is at least scipy's
    small = y[:40]
    sx, _, sb = stats.genpareto.fit(small, floc=0)
    xi, beta = gpd_fit(small)
    ll = lambda a, b: stats.genpareto.logpdf(small, a, 0, b).sum()  # noqa: E731
    assert ll(xi, beta) >= ll(sx, sb) - 1e-6


def test_evt_var_follows_the_spec_formula(t_returns):
    fit, var, es = evt_fit(t_returns, (0.99, 0.997))
    assert fit.fallback == {} and fit.exceedances_fitted
    u = np.quantile(t_returns, 0.05)
    n_u = int(np.sum(t_returns < u))
    assert fit.n_exceed == n_u and fit.threshold == pytest.approx(u)
    y = u - t_returns[t_returns < u]
    sx, _, sb = stats.genpareto.fit(y, floc=0)
    for c, v, e in zip((0.99, 0.997), var, es, strict=True):
        ratio = len(t_returns) / n_u * (1 - c)
        expected = -u + sb / sx * (ratio ** (-sx) - 1)
        assert v == pytest.approx(expected, rel=2e-3)  # scipy's optimiser stops ~1e-4 from the optimum
        assert e == pytest.approx((expected + sb - sx * -u) / (1 - sx), rel=2e-3)
    assert evt_var(t_returns, 0.99) == pytest.approx(var[0], rel=1e-14)
    assert evt_es(t_returns, 0.99) == pytest.approx(es[0], rel=1e-14)


def test_pot_xi_zero_limit_is_continuous():
    u, beta, ratio = 0.02, 0.006, 0.2
    v0, e0 = pot_var_es(u, 0.0, beta, ratio)
    assert v0 == pytest.approx(u - beta * math.log(ratio), rel=1e-15)
    assert e0 == pytest.approx(v0 + beta, rel=1e-15)  # exponential tail: mean excess = beta
    v1, e1 = pot_var_es(u, 1e-4, beta, ratio)
    assert v1 == pytest.approx(v0, rel=1e-4) and e1 == pytest.approx(e0, rel=1e-4)


def test_evt_falls_back_to_historical_with_few_exceedances():
    r = np.random.default_rng(5).normal(0, 0.01, 40)  # 5 % of 40 -> 2 exceedances < 10
    fit, var, es = evt_fit(r, (0.95, 0.99))
    assert set(fit.fallback) == {0.95, 0.99} and "exceedances" in fit.fallback[0.99]
    assert not fit.exceedances_fitted
    assert var[1] == pytest.approx(historical_var(r, 0.99), rel=1e-14)
    assert es[1] == pytest.approx(historical_es(r, 0.99), rel=1e-14)


def test_evt_falls_back_when_ties_leave_no_exceedances():
    r = np.r_[np.full(100, -0.05), np.random.default_rng(2).normal(0, 0.01, 900)]
    fit, var, _ = evt_fit(r, 0.99)
    assert fit.n_exceed == 0 and 0.99 in fit.fallback
    assert var[0] == pytest.approx(historical_var(r, 0.99))


def test_evt_level_inside_the_body_falls_back(t_returns):
    fit, var, _ = evt_fit(t_returns, (0.9, 0.99))
    assert 0.9 in fit.fallback and "threshold" in fit.fallback[0.9] and 0.99 not in fit.fallback
    assert var[0] == pytest.approx(historical_var(t_returns, 0.9))


def _garch_returns(n: int = 1000, seed: int = 3) -> np.ndarray:
    """GARCH(1,1) percent-scale process (omega 0.05, alpha 0.1, beta 0.85) as simple returns."""
    rng = np.random.default_rng(seed)
    s2, e, out = 1.0, 0.0, np.empty(n)
    for t in range(n):
        s2 = 0.05 + 0.1 * e * e + 0.85 * s2
        e = math.sqrt(s2) * rng.standard_normal()
        out[t] = 0.03 + e
    return out / 100


def test_fhs_uses_archs_one_step_forecast():
    from arch import arch_model

    t_returns = _garch_returns()
    res = arch_model(t_returns * 100, mean="Constant", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
    f = res.forecast(horizon=1, reindex=False)
    mean1, sd1 = float(f.mean.values[-1, 0]), math.sqrt(float(f.variance.values[-1, 0]))
    z = np.asarray(res.std_resid)
    fit, var, es = fhs_fit(t_returns, (0.95, 0.99), garch="arch")  # arch's own fit: the forecast is what is tested
    assert fit.sigma_next == pytest.approx(sd1, rel=1e-6) and fit.mean_next == pytest.approx(mean1, rel=1e-6)
    # the one-step forecast, not the last in-sample volatility (SPEC §4.8)
    assert abs(fit.sigma_next - float(res.conditional_volatility[-1])) > 1e-4
    for c, v, e in zip((0.95, 0.99), var, es, strict=True):
        qz = np.quantile(z, 1 - c)
        assert v == pytest.approx(-(mean1 + sd1 * qz) / 100, rel=1e-6)
        assert e == pytest.approx(-(mean1 + sd1 * z[z <= qz].mean()) / 100, rel=1e-6)
    # fhs_var/fhs_es use the compiled solver of the same estimation problem (issue 10): same optimum
    assert fhs_var(t_returns, 0.99) == pytest.approx(var[1], rel=1e-4)
    assert fhs_es(t_returns, 0.99) == pytest.approx(es[1], rel=1e-4)


@pytest.mark.parametrize("fn", [historical_var, parametric_var, cornish_fisher_var, evt_var, fhs_var,
                                historical_es, parametric_es, cornish_fisher_es, evt_es, fhs_es])
def test_bad_inputs_raise_input_error(fn, t_returns):
    with pytest.raises(InputError, match="at least 30"):
        fn(t_returns[:29], 0.99)
    bad = t_returns.copy()
    bad[17] = np.nan
    with pytest.raises(InputError, match="row 18"):
        fn(bad, 0.99)
    bad[17] = np.inf
    with pytest.raises(InputError, match="finite"):
        fn(bad, 0.99)
    with pytest.raises(InputError, match="constant"):
        fn(np.full(100, 0.001), 0.99)
    for c in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(InputError, match="confidence"):
            fn(t_returns, c)


def test_as_returns_accepts_series_frames_and_price_objects():
    idx = pd.bdate_range("2020-01-01", periods=60)
    prices = pd.Series(100 * np.cumprod(1 + np.random.default_rng(0).normal(0, 0.01, 60)), index=idx)
    expected = prices.pct_change().iloc[1:]

    class Prices:  # duck-typed PriceSeries
        def __init__(self, p):
            self.prices = p

    for obj in (Prices(prices), pd.DataFrame({"price": prices})):
        got = as_returns(obj)
        pd.testing.assert_index_equal(got.index, expected.index)
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-14)
    with pytest.raises(InputError, match="price"):
        as_returns(pd.DataFrame({"x": prices}))
    with pytest.raises(InputError, match="one-dimensional"):
        as_returns(np.zeros((40, 2)))
    bad = prices.copy()
    bad.iloc[3] = -1.0
    with pytest.raises(InputError, match="row 4"):
        as_returns(Prices(bad))


def test_real_price_series_is_accepted():
    from riskcore.data import PriceSeries

    idx = pd.bdate_range("2020-01-01", periods=80)
    p = pd.Series(50 * np.cumprod(1 + np.random.default_rng(4).normal(0, 0.02, 80)), index=idx)
    ps = PriceSeries.from_series(p, name="x")
    assert historical_var(ps, 0.95) == pytest.approx(historical_var(ps.returns("simple"), 0.95))


def test_method_enum_compares_with_strings():
    assert VaRMethod("evt") is VaRMethod.EVT and VaRMethod.FHS == "fhs"
    assert {"cornish_fisher": 1}[VaRMethod.CORNISH_FISHER] == 1


def test_fhs_degenerate_filter_falls_back_to_historical():
    # zero GARCH parameters give a zero conditional variance: no standardised residuals exist, so FHS
    # reports the fallback and uses historical simulation (not a ZeroDivisionError)
    r = _garch_returns(300)
    fit, var, es = fhs_fit(r, (0.95, 0.99), params=GarchParams(0.0, 0.0, 0.0, 0.0))
    assert fit.fallback is not None and "historical" in fit.fallback and math.isnan(fit.sigma_next)
    assert var[1] == pytest.approx(historical_var(r, 0.99), rel=1e-14)
    assert es[1] == pytest.approx(historical_es(r, 0.99), rel=1e-14)
    ok, _, _ = fhs_fit(r, 0.99)
    assert ok.fallback is None and ok.to_dict()["fallback"] is None


def test_evt_fallback_reason_is_public_and_names_the_cause():
    assert "only 3 exceedances" in evt_fallback_reason(3, 60, 0.99)
    assert "not beyond the threshold" in evt_fallback_reason(50, 1000, 0.9)


def test_cornish_fisher_uses_moment_skewness_not_the_adjusted_one(t_returns):
    # "sample skewness / excess kurtosis" = the moment estimators g1, g2 (scipy's defaults, as the seed);
    # the bias-adjusted G1, G2 (pandas .skew()/.kurt()) give a different VaR on the same data
    z = stats.norm.ppf(0.01)
    mu, sd = t_returns.mean(), t_returns.std(ddof=1)
    for s, k, same in ((stats.skew(t_returns), stats.kurtosis(t_returns), True),
                       (stats.skew(t_returns, bias=False), stats.kurtosis(t_returns, bias=False), False)):
        zcf = z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36
        assert bool(cornish_fisher_var(t_returns, 0.99) == pytest.approx(-(mu + zcf * sd), rel=1e-12)) is same


def test_dates_out_of_order_are_rejected(t_returns):
    idx = pd.bdate_range("2020-01-01", periods=100)
    r = pd.Series(t_returns[:100], index=idx)
    with pytest.raises(InputError, match="row 52.*strictly increasing"):  # 1-based row of the first date out of order
        as_returns(r.iloc[np.r_[0:50, 51, 50, 52:100]])
    with pytest.raises(InputError, match="row 11"):
        historical_var(pd.Series(t_returns[:100], index=idx[np.r_[0:10, 9, 11:100]]), 0.99)  # duplicate date
    assert historical_var(r, 0.99) == pytest.approx(historical_var(t_returns[:100], 0.99))
