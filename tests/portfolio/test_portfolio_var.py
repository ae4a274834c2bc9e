"""Monte Carlo portfolio VaR against the analytical normal VaR (PRD Appendix A.2), correlation, seeding."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from riskcore.errors import InputError
from riskcore.portfolio.var import parametric_portfolio_var, portfolio_var


def _mc_se(alpha: float, n: int, sd: float) -> float:
    # standard error of a Monte Carlo alpha-quantile of N(mu, sd^2): sqrt(a(1-a)/n) / phi(z_a) * sd
    return np.sqrt(alpha * (1 - alpha) / n) / norm.pdf(norm.ppf(alpha)) * sd


def test_appendix_a2_within_10pct_of_analytical():
    returns = np.random.default_rng(42).normal(0, 0.02, 1000)
    prices = 100 * (1 + returns).cumprod()
    analytical = -norm.ppf(0.05) * 0.02
    mc = portfolio_var([{"quantity": 1, "current_price": 100}], prices, confidence_level=0.05, seed=1)
    assert abs(mc / 100 - analytical) / analytical < 0.10


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_appendix_a2_on_the_prds_own_data(seed):
    # the PRD's np.random.seed(42) stream, drawn from a private legacy generator (global state untouched)
    returns = np.random.RandomState(42).normal(0, 0.02, 1000)
    prices = 100 * (1 + returns).cumprod()
    analytical = -norm.ppf(0.05) * 0.02
    mc = portfolio_var([{"quantity": 1, "current_price": 100}], prices, confidence_level=0.05, seed=seed)
    assert abs(mc / 100 - analytical) / analytical < 0.10


def test_matches_parametric_of_same_model_within_4_se():
    returns = np.random.default_rng(3).normal(0.0005, 0.015, 500)
    prices = 50 * (1 + returns).cumprod()
    pos = [{"quantity": 3, "current_price": 50.0}, {"quantity": -1, "current_price": 50.0}]
    n = 20_000
    mc = portfolio_var(pos, prices, n_simulations=n, seed=11)
    ref = parametric_portfolio_var(pos, prices)
    sd = 100.0 * returns.std(ddof=1)
    assert abs(mc - ref) < 4 * _mc_se(0.05, n, sd)


def _correlated_history(rho: float, n: int = 400, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    vols = np.array([0.01, 0.02, 0.015])
    corr = np.array([[1, rho, 0.2], [rho, 1, 0.1], [0.2, 0.1, 1]])
    r = rng.multivariate_normal(np.zeros(3), corr * np.outer(vols, vols), size=n)
    return pd.DataFrame(100 * np.cumprod(1 + r, axis=0), columns=["A", "B", "C"])


def test_multi_asset_matches_parametric_and_uses_correlation():
    hist = _correlated_history(0.9)
    pos = [{"symbol": "A", "quantity": 10, "current_price": 100.0},
           {"symbol": "B", "quantity": 5, "current_price": 80.0},
           {"symbol": "C", "quantity": -4, "current_price": 120.0}]
    n = 40_000
    mc = portfolio_var(pos, hist, n_simulations=n, seed=2)
    ref = parametric_portfolio_var(pos, hist)
    r = hist.pct_change().dropna().to_numpy()
    e = np.array([1000.0, 400.0, -480.0])
    sd = float(np.sqrt(e @ np.cov(r, rowvar=False) @ e))
    assert abs(mc - ref) < 4 * _mc_se(0.05, n, sd)
    # a long/short pair on highly correlated assets is far less risky than the sum of its legs
    pair = [{"symbol": "A", "quantity": 10, "current_price": 100.0},
            {"symbol": "B", "quantity": -5, "current_price": 100.0}]
    legs = sum(portfolio_var([p], hist, seed=3) for p in pair)
    assert portfolio_var(pair, hist, seed=3) < 0.6 * legs


def test_perfect_hedge_on_duplicated_column_is_zero_and_singular_cov_ok():
    hist = _correlated_history(0.5)
    hist["A2"] = hist["A"]
    pos = [{"symbol": "A", "quantity": 1, "current_price": 100.0},
           {"symbol": "A2", "quantity": -1, "current_price": 100.0}]
    assert portfolio_var(pos, hist, seed=0) == pytest.approx(0.0, abs=1e-9)


def test_seed_reproducible_and_global_rng_untouched():
    hist = _correlated_history(0.3)
    pos = [{"symbol": "A", "quantity": 2, "current_price": 100.0},
           {"symbol": "C", "quantity": 1, "current_price": 99.0}]
    state = np.random.get_state()[1].copy()
    a = portfolio_var(pos, hist, seed=7)
    b = portfolio_var(pos, hist, seed=np.random.default_rng(7))
    assert a == b
    assert np.array_equal(np.random.get_state()[1], state)
    assert portfolio_var(pos, hist, seed=8) != a


def test_horizon_scales_roughly_with_sqrt_time():
    hist = _correlated_history(0.3)
    pos = [{"symbol": "A", "quantity": 10, "current_price": 100.0}]
    v1 = portfolio_var(pos, hist, n_simulations=20_000, seed=1)
    v10 = portfolio_var(pos, hist, time_horizon=10, n_simulations=20_000, seed=1)
    assert v10 / v1 == pytest.approx(np.sqrt(10), rel=0.1)


def test_empty_book_is_zero():
    assert portfolio_var([], np.linspace(100, 110, 50)) == 0.0


@pytest.mark.parametrize("kwargs,field", [
    ({"confidence_level": 0.95}, "confidence_level"), ({"confidence_level": 0}, "confidence_level"),
    ({"time_horizon": 0}, "time_horizon"), ({"n_simulations": 10}, "n_simulations"),
    ({"price_history": [100.0, float("nan"), 101.0, 102.0]}, "price_history"),
    ({"price_history": [100.0, 101.0]}, "price_history"),
    ({"positions": [{"quantity": float("nan"), "current_price": 100}]}, "positions[0].quantity"),
    ({"positions": [{"quantity": 1}]}, "positions[0].current_price"),
    ({"positions": {"quantity": 1}}, "positions"),
])
def test_bad_inputs(kwargs, field):
    args = dict(positions=[{"quantity": 1, "current_price": 100.0}], price_history=np.linspace(100, 110, 50))
    args.update(kwargs)
    with pytest.raises(InputError) as e:
        portfolio_var(**args)
    assert e.value.field == field


def test_dataframe_needs_symbol_columns():
    hist = _correlated_history(0.3)
    with pytest.raises(InputError, match="no column for symbol 'Z'"):
        portfolio_var([{"symbol": "Z", "quantity": 1, "current_price": 1.0}], hist)
    with pytest.raises(InputError, match="several symbols"):
        portfolio_var([{"symbol": "A", "quantity": 1, "current_price": 1.0},
                       {"symbol": "B", "quantity": 1, "current_price": 1.0}], hist["A"].to_numpy(), seed=0)
    with pytest.raises(InputError, match="must be 1-D"):
        portfolio_var([{"symbol": "A", "quantity": 1, "current_price": 1.0}], hist.to_numpy(), seed=0)


def test_quantile_linear_equals_numpy():
    from riskcore.portfolio.var import quantile_linear

    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 1000, 1001):
        x = rng.normal(size=n)
        for q in (0.0, 0.05, 0.5, 0.999, 1.0):
            assert quantile_linear(x, q) == pytest.approx(float(np.quantile(x, q)), rel=1e-12, abs=1e-15)
