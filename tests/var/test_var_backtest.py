"""Rolling backtest: shapes, agreement with the single-window functions, no look-ahead, persistence."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from riskcore.errors import InputError
from riskcore.var import (
    ALL_METHODS,
    ENSEMBLE,
    BacktestResult,
    backtest,
    cornish_fisher_es,
    cornish_fisher_var,
    evt_es,
    evt_var,
    fhs_fit,
    historical_es,
    historical_var,
    parametric_es,
    parametric_var,
)
from riskcore.var.garch import GarchParams

W, N, REFIT = 100, 400, 50
CS = (0.95, 0.99)


@pytest.fixture(scope="module")
def returns() -> pd.Series:
    rng = np.random.default_rng(42)
    idx = pd.bdate_range("2015-01-01", periods=N, name="date")
    return pd.Series(0.01 * rng.standard_t(4, N) / math.sqrt(2.0), index=idx, name="r")


@pytest.fixture(scope="module")
def result(returns) -> BacktestResult:
    return backtest(returns, confidences=CS, window=W, refit_every=REFIT)


def test_shapes_and_violations(result, returns):
    T = N - W
    labels = [m.value for m in ALL_METHODS] + [ENSEMBLE]
    assert result.forecasts.shape == (T, len(labels) * len(CS))
    assert result.es_forecasts.shape == result.forecasts.shape == result.violations.shape
    assert list(result.forecasts.columns) == [(m, c) for m in labels for c in CS]
    pd.testing.assert_index_equal(result.forecasts.index, returns.index[W:])
    assert result.violations.dtypes.eq(bool).all()
    r = returns.to_numpy()[W:]
    for col in result.forecasts.columns:
        np.testing.assert_array_equal(result.violations[col].to_numpy(), r < -result.forecasts[col].to_numpy())
    assert (result.es_forecasts.to_numpy() >= result.forecasts.to_numpy() - 1e-12).all()
    assert np.allclose(result.weights.T.groupby(level="confidence").sum().T, 1.0)


@pytest.mark.parametrize("k", [0, 37, 299])
def test_rolling_equals_single_window_functions(result, returns, k):
    win = returns.iloc[k:k + W]
    day = returns.index[W + k]
    for c in CS:
        for m, fv, fe in (("historical", historical_var, historical_es), ("parametric", parametric_var, parametric_es),
                          ("cornish_fisher", cornish_fisher_var, cornish_fisher_es), ("evt", evt_var, evt_es)):
            assert result.forecasts.loc[day, (m, c)] == pytest.approx(fv(win, c), rel=1e-12), m
            assert result.es_forecasts.loc[day, (m, c)] == pytest.approx(fe(win, c), rel=1e-12), m


def test_fhs_refits_and_filters_with_last_parameters(result, returns):
    fits = result.info["fhs"]["fits"]
    assert [f[0] for f in fits] == list(range(0, N - W, REFIT))
    # day 0 is a refit from arch's own starting values: the same as fhs_fit on that window
    _, v0, _ = fhs_fit(returns.iloc[:W], CS)
    np.testing.assert_allclose(result.forecasts.iloc[0].loc["fhs"].to_numpy(), v0, rtol=1e-6)
    # day 60 is filtered with the parameters fitted on day 50
    k = 60
    p = GarchParams(*fits[1][1:5])
    _, v, e = fhs_fit(returns.iloc[k:k + W], CS, params=p)
    np.testing.assert_allclose(result.forecasts.iloc[k].loc["fhs"].to_numpy(), v, rtol=1e-12)
    np.testing.assert_allclose(result.es_forecasts.iloc[k].loc["fhs"].to_numpy(), e, rtol=1e-12)


def test_no_look_ahead(result, returns):
    t0 = 250  # change every return from position 250 on
    changed = returns.copy()
    changed.iloc[t0:] = changed.iloc[t0:] * 3 + 0.01
    other = backtest(changed, confidences=CS, window=W, refit_every=REFIT)
    upto = returns.index[t0]  # the forecast for day t0 uses returns before t0 only
    a, b = result.forecasts.loc[:upto], other.forecasts.loc[:upto]
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    np.testing.assert_array_equal(result.es_forecasts.loc[:upto].to_numpy(), other.es_forecasts.loc[:upto].to_numpy())
    after = returns.index[t0 + 1]
    assert not np.allclose(result.forecasts.loc[after:].to_numpy(), other.forecasts.loc[after:].to_numpy())


def test_summary_columns_and_values(result):
    s = result.summary()
    assert s.index.names == ["method", "confidence"] and len(s) == len(result.forecasts.columns)
    for col in ("violations", "expected", "rate", "kupiec_p", "ind_p", "cc_p", "traffic_light", "mean_var",
                "mean_es"):
        assert col in s.columns
    row = s.loc[("historical", 0.99)]
    assert row["violations"] == int(result.violations[("historical", 0.99)].sum())
    assert row["expected"] == pytest.approx((N - W) * 0.01)
    assert row["mean_var"] == pytest.approx(result.forecasts[("historical", 0.99)].mean())
    assert set(s["traffic_light"]) <= {"green", "yellow", "red"}


def test_save_and_load_round_trip(result, tmp_store):
    rid = result.save(tmp_store, "t")
    assert tmp_store.list_runs("var_backtest").run_id.tolist() == [rid]
    back = BacktestResult.load(tmp_store, rid)
    pd.testing.assert_frame_equal(back.forecasts, result.forecasts, check_freq=False)
    pd.testing.assert_frame_equal(back.es_forecasts, result.es_forecasts, check_freq=False)
    pd.testing.assert_frame_equal(back.violations, result.violations, check_freq=False)
    pd.testing.assert_frame_equal(back.weights, result.weights, check_freq=False)
    pd.testing.assert_frame_equal(back.summary(), result.summary())
    assert back.methods == result.methods and back.window == W and back.refit_every == REFIT
    # the store keeps values, labels and order (it drops MultiIndex level names)
    pd.testing.assert_frame_equal(tmp_store.load_run(rid).summary, result.summary(), check_names=False)


def test_progress_and_subset_of_methods(returns):
    seen = []
    res = backtest(returns, methods=["historical", "fhs"], confidences=(0.99,), window=W, refit_every=100,
                   progress=lambda f, msg: seen.append(f))
    assert res.labels == ["historical", "fhs", ENSEMBLE]
    assert seen[-1] == 1.0 and all(b >= a for a, b in zip(seen, seen[1:], strict=False))
    single = backtest(returns.to_numpy(), methods="parametric", confidences=(0.99,), window=W)
    assert single.labels == ["parametric"] and single.weights is None
    assert isinstance(single.forecasts.index, pd.RangeIndex) and single.forecasts.index[0] == W


def test_backtest_input_errors(returns):
    with pytest.raises(InputError, match="window"):
        backtest(returns, window=N)
    with pytest.raises(InputError, match="window"):
        backtest(returns, window=10)
    with pytest.raises(InputError, match="refit_every"):
        backtest(returns, window=W, refit_every=0)
    with pytest.raises(InputError, match="methods"):
        backtest(returns, methods=["montecarlo"], window=W)
    with pytest.raises(InputError, match="confidence"):
        backtest(returns, confidences=(0.99, 1.0), window=W)
    bad = returns.copy()
    bad.iloc[5] = np.nan
    with pytest.raises(InputError, match="row 6"):
        backtest(bad, window=W)


def test_dask_chunks_match_the_serial_backtest(result, returns):
    from riskcore.distributed import local_cluster_client

    client = local_cluster_client(n_workers=1, threads_per_worker=2)
    try:
        dist = backtest(returns, confidences=CS, window=W, refit_every=REFIT, distributed=True, client=client,
                        chunk_days=120)  # rounded up to 150 = 3 refit blocks -> 2 chunks
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
    assert dist.info["dask_chunks"] == 2
    assert [f[0] for f in dist.info["fhs"]["fits"]] == [f[0] for f in result.info["fhs"]["fits"]]
    # every GARCH fit depends on its window only, so the chunked backtest is the serial one exactly
    pd.testing.assert_frame_equal(dist.forecasts, result.forecasts)
    pd.testing.assert_frame_equal(dist.es_forecasts, result.es_forecasts)


def test_windows_of_equal_returns_do_not_break_the_backtest():
    # a simulated token stuck at its price floor returns 0 for months: windows with no variance give
    # VaR 0 for the closed-form methods, and FHS falls back to historical there (counted), no ZeroDivisionError
    rng = np.random.default_rng(8)
    r = np.r_[rng.normal(0, 0.01, 120), np.zeros(150), rng.normal(0, 0.01, 60)]
    res = backtest(r, confidences=CS, window=W, refit_every=REFIT)
    assert np.isfinite(res.forecasts.to_numpy()).all() and np.isfinite(res.es_forecasts.to_numpy()).all()
    flat = [k for k in range(len(res.forecasts)) if np.ptp(r[k:k + W]) == 0]  # windows of zeros only
    assert len(flat) == 150 - W + 1
    for m in ("historical", "parametric", "cornish_fisher", "evt"):
        np.testing.assert_array_equal(res.forecasts[(m, 0.99)].to_numpy()[flat], 0.0)
    fhs = res.forecasts.xs("fhs", axis=1, level="method").to_numpy()
    np.testing.assert_allclose(fhs[flat], 0.0, atol=1e-9)
    # the fit on a window of zeros is skipped (counted as failed) and collapsed filters fall back to historical:
    # before, the next non-zero return got a "standardised" residual of ~1e4 and a VaR of ~1e12
    assert res.info["fhs"]["failed"] >= 1 and res.info["fhs"]["fallback_days"] >= 1
    assert fhs.max() < 0.2  # a 1 %-volatility series: no FHS VaR near or above the whole value
    assert set(res.summary()["traffic_light"]) <= {"green", "yellow", "red"}


def test_price_series_input_keeps_the_dates(returns):
    from riskcore.data import PriceSeries

    prices = pd.Series(100 * np.cumprod(1 + returns.to_numpy()), index=returns.index)
    res = backtest(PriceSeries.from_series(prices, name="p"), methods=["historical", "evt"], confidences=(0.99,),
                   window=W)
    expected = prices.pct_change().iloc[1:]
    assert isinstance(res.forecasts.index, pd.DatetimeIndex)
    assert len(res.forecasts) == len(expected) - W and (res.forecasts.index == expected.index[W:]).all()
    k = 10
    assert res.forecasts.iloc[k][("historical", 0.99)] == pytest.approx(historical_var(expected.iloc[k:k + W], 0.99))


@pytest.mark.parametrize("bad", ["short", "constant", "inf"])
def test_backtest_rejects_short_constant_and_infinite_series(bad):
    r = {"short": np.full(29, 0.01) * np.arange(29), "constant": np.full(100, 0.002),
         "inf": np.r_[np.zeros(50), np.inf, np.linspace(-0.01, 0.01, 49)]}[bad]
    with pytest.raises(InputError, match={"short": "at least 30", "constant": "constant", "inf": "row 51"}[bad]):
        backtest(r, window=30)
