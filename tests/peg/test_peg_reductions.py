"""The compiled reductions give NumPy's numbers to the last bit (issue 17).

A saved run re-run must reproduce its statistics exactly, including runs saved when the
statistics were NumPy expressions, so every comparison here is ``==`` / ``array_equal``.
"""

from __future__ import annotations

import numpy as np
import pytest

import riskcore.peg.montecarlo as mc
from riskcore.params import ModelParameters
from riskcore.peg import reductions
from riskcore.peg.model import BAND_QUANTILES

# every block boundary of NumPy's pairwise sum (8-value unroll, 128-value leaves, halving above)
SIZES = [*range(1, 300), 1000, 1023, 1024, 1025, 4095, 8192, 8193, 20_000, 65_537, 250_001]
PROBS = np.array([0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0 - 0.997, 1.0 - 0.95, 1.0])


def _sample(rng: np.random.Generator, n: int, kind: int) -> np.ndarray:
    if kind == 0:   # wide dynamic range: any change of summation order shows
        return rng.standard_normal(n) * 10.0 ** rng.uniform(-6, 6, n) + 0.9
    if kind == 1:   # many ties
        return rng.integers(0, 4, n).astype(np.float64)
    return np.round(1.0 + 0.01 * rng.standard_normal(n), 3)  # prices on a grid


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_mean_and_std_are_numpys_bit_for_bit(kind):
    rng = np.random.default_rng(kind)
    for n in SIZES:
        a = _sample(rng, n, kind)
        mean, std = reductions.mean_std(a, n)
        assert mean == a.mean(), n
        assert (std == a.std(ddof=1)) if n > 1 else np.isnan(std), n


def test_integer_counts_are_summed_as_their_float64_copy():
    rng = np.random.default_rng(7)
    for n in (1, 9, 129, 1000, 100_001):
        a = rng.integers(0, 366, n).astype(np.int32)
        mean, std = reductions.mean_std(a, n)
        assert mean == a.astype(np.float64).mean()
        assert n == 1 or std == a.astype(np.float64).std(ddof=1)


def test_pairwise_sum_is_numpys_sum():
    rng = np.random.default_rng(3)
    for n in SIZES:
        a = _sample(rng, n, 0)
        assert 0.0 + reductions.pairwise_sum(a, 0, n, 0.0, False) == np.sum(a), n


def test_empty_and_single_value_means():
    mean, std = reductions.mean_std(np.empty(0), 0)
    assert np.isnan(mean) and np.isnan(std)
    mean, std = reductions.mean_std(np.array([0.25]), 1)
    assert mean == 0.25 and np.isnan(std)


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_linear_quantiles_are_np_quantile(kind):
    rng = np.random.default_rng(10 + kind)
    for n in [*range(1, 80), 1000, 20_000, 100_001]:
        a = _sample(rng, n, kind)
        got = reductions.linear_quantiles(a, PROBS, np.empty(n))
        assert np.array_equal(got, np.quantile(a, PROBS)), n


def test_quantiles_of_sorted_reversed_and_constant_samples():
    for a in (np.arange(5000.0), np.arange(5000.0)[::-1].copy(), np.full(5000, 0.97),
              np.r_[np.zeros(2500), np.ones(2500)]):
        assert np.array_equal(reductions.linear_quantiles(a, PROBS, np.empty(a.size)), np.quantile(a, PROBS))


def test_column_quantiles_are_np_quantile_by_column():
    rng = np.random.default_rng(5)
    rec = 1.0 + np.cumsum(0.01 * rng.standard_normal((3001, 37)), axis=1)
    rec[:, 0] = 1.0   # step 0: every path at the initial price
    rec[:, 5] = np.round(rec[:, 5], 2)
    probs = np.array(BAND_QUANTILES)
    out = np.full((len(probs), 37), np.nan)
    reductions.column_quantiles(rec, 3, 30, probs, out)
    assert np.array_equal(out[:, 3:30], np.quantile(rec[:, 3:30], probs, axis=0))
    assert np.isnan(out[:, :3]).all() and np.isnan(out[:, 30:]).all()  # only the asked columns


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_step_quantiles_whatever_the_threads(threads):
    import numba

    rng = np.random.default_rng(threads)
    rec = 1.0 + np.cumsum(0.01 * rng.standard_normal((2500, 366)), axis=1)
    old = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        got = mc._step_quantiles(rec)
    finally:
        numba.set_num_threads(old)
    assert np.array_equal(got, np.quantile(rec, BAND_QUANTILES, axis=0))


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # NumPy's own, on the NaN
def test_non_finite_paths_get_numpys_quantiles():
    rec = np.ones((50, 4))
    rec[3, 1], rec[7, 2] = np.nan, np.inf
    assert np.array_equal(mc._step_quantiles(rec), np.quantile(rec, BAND_QUANTILES, axis=0), equal_nan=True)


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


@pytest.mark.parametrize("scenario", [None, "bank_run", "crash", "combined"])
@pytest.mark.parametrize("n_paths", [1, 2, 37, 5_000])
def test_peg_statistics_are_the_numpy_expressions_bit_for_bit(scenario, n_paths):
    r = mc.simulate(ModelParameters(), n_paths, n_steps=120, seed=n_paths, scenario=scenario)
    args = (r.terminal, r.min_price, r.steps_below, r.first_breach, r.recovery, r.initial_price, r.dt)
    stats, se = mc.peg_statistics(*args)
    ref_stats, ref_se = mc._peg_statistics_numpy(*args)
    assert _same(stats, ref_stats) and _same(se, ref_se)
    assert _same(r.stats, ref_stats)


def test_peg_statistics_edge_cases_match_numpy():
    n = 1000
    rng = np.random.default_rng(0)
    terminal = 1.0 + 0.001 * rng.standard_normal(n)
    cases = {
        "no breach": (np.full(n, 0.99), np.zeros(n, np.int32), np.full(n, -1, np.int32), np.full(n, -1, np.int32)),
        "all breached, none recovered": (np.full(n, 0.5), np.full(n, 30, np.int32), np.full(n, 3, np.int32),
                                         np.full(n, -1, np.int32)),
        "one recovered": (np.full(n, 0.9), np.full(n, 2, np.int32), np.full(n, 1, np.int32),
                          np.r_[np.full(n - 1, -1), 9].astype(np.int32)),
        "above the peg": (np.full(n, 1.2), np.zeros(n, np.int32), np.full(n, -1, np.int32), np.full(n, -1, np.int32)),
    }
    for name, (min_price, below, breach, recov) in cases.items():
        args = (terminal, min_price, below, breach, recov, 1.0, 1 / 365)
        (stats, se), (ref_stats, ref_se) = mc.peg_statistics(*args), mc._peg_statistics_numpy(*args)
        assert _same(stats, ref_stats) and _same(se, ref_se), name


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's own, on the NaN
def test_non_finite_prices_take_the_numpy_path():
    n = 100
    terminal = np.ones(n)
    terminal[4] = np.nan
    args = (terminal, np.ones(n), np.zeros(n, np.int32), np.full(n, -1, np.int32), np.full(n, -1, np.int32), 1.0,
            1 / 365)
    stats, _ = mc.peg_statistics(*args)
    assert _same(stats, mc._peg_statistics_numpy(*args)[0])
    assert np.isnan(stats["mean_terminal"])
