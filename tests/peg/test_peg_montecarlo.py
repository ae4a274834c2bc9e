"""simulate(): backends agree, seeds reproduce, OU closed form, floor, extremes, errors, storage, memory."""

from __future__ import annotations

import math
import time
import tracemalloc

import numba
import numpy as np
import pytest
import torch
from scipy import stats

from riskcore.errors import InputError
from riskcore.params import ModelParameters
from riskcore.peg.montecarlo import BAND_PATHS, Backend, SimulationResult, simulate
from riskcore.peg.scenarios import PRESETS, Scenario

STRESS = Scenario(name="mixed", liquidity_pool={0: 1e6, 30: 1e5}, network_health={0: 0.6, 40: 1.0},
                  fiat_activity=0.3, shocks={15: -0.1})


@pytest.fixture(scope="module")
def dask_client():
    from riskcore.distributed import local_cluster_client

    client = local_cluster_client(n_workers=1, threads_per_worker=2)
    yield client
    cluster = client.cluster
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def numba_run():
    return simulate(None, 20_000, n_steps=100, seed=7, scenario=STRESS, keep_paths=10)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_backends_agree(numba_run, backend):
    """Two-sample KS on terminal prices; means, sds and probabilities within 4 combined standard errors."""
    other = simulate(None, 20_000, n_steps=100, seed=8, scenario=STRESS, backend=backend)
    assert other.backend is Backend(backend)
    a, b = numba_run.terminal, other.terminal
    assert stats.ks_2samp(a, b).pvalue > 1e-3
    assert abs(a.mean() - b.mean()) < 4 * math.sqrt(a.var() / a.size + b.var() / b.size)
    # sd: SE of a sample sd ~ sd / sqrt(2n) (normal approximation, loose for the jump tail: factor 6)
    assert abs(a.std() - b.std()) < 6 * math.sqrt(a.var() / (2 * a.size) + b.var() / (2 * b.size))
    for key in ("p_terminal_below_0.98", "p_min_below_0.95", "p_depeg"):
        se = math.hypot(numba_run.std_errors[key], other.std_errors[key])
        assert abs(numba_run.stats[key] - other.stats[key]) < 4 * se + 1e-12, key
    se = math.hypot(numba_run.std_errors["expected_days_below_0.98"], other.std_errors["expected_days_below_0.98"])
    assert abs(numba_run.stats["expected_days_below_0.98"] - other.stats["expected_days_below_0.98"]) < 4 * se


def test_backends_agree_with_frequent_jumps():
    """Jumps in one step of five (lambda = 70 per year) under the combined scenario: the kernel's geometric jump
    gaps against the reference's Bernoulli draw per step. KS, and means within 4 combined standard errors."""
    params = ModelParameters(jump_intensity=70.0, jump_size_mu=-0.01, jump_size_sigma=0.02, sigma_base=0.05)
    a = simulate(params, 20_000, n_steps=100, seed=1, scenario="combined")
    b = simulate(params, 20_000, n_steps=100, seed=2, scenario="combined", backend="numpy")
    assert stats.ks_2samp(a.terminal, b.terminal).pvalue > 1e-3
    for key in ("mean_terminal", "expected_days_below_0.98", "mean_drawdown", "p_unrecovered"):
        se = math.hypot(a.std_errors[key], b.std_errors[key])
        assert abs(a.stats[key] - b.stats[key]) < 4 * se + 1e-12, key


def test_numba_and_dask_bit_identical_whatever_the_chunking(numba_run, dask_client, monkeypatch):
    import riskcore.distributed as dist

    monkeypatch.setattr(dist, "get_client", lambda address=None: dask_client)
    for chunk in (1_000, 7_000, 20_000):
        d = simulate(None, 20_000, n_steps=100, seed=7, scenario=STRESS, keep_paths=10, backend="dask",
                     chunk_paths=chunk)
        assert np.array_equal(d.terminal, numba_run.terminal)
        assert np.array_equal(d.paths, numba_run.paths)
        assert np.array_equal(d.bands.to_numpy(), numba_run.bands.to_numpy())
        np.testing.assert_equal(d.stats, numba_run.stats)


def test_numba_bit_identical_across_thread_counts(numba_run):
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = simulate(None, 20_000, n_steps=100, seed=7, scenario=STRESS, keep_paths=10)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one.terminal, numba_run.terminal)
    assert np.array_equal(one.bands.to_numpy(), numba_run.bands.to_numpy())
    other_seed = simulate(None, 20_000, n_steps=100, seed=8, scenario=STRESS)
    assert not np.array_equal(other_seed.terminal, numba_run.terminal)
    # the first paths of a bigger run are the paths of a smaller one (one stream per path)
    small = simulate(None, 500, n_steps=100, seed=7, scenario=STRESS)
    assert np.array_equal(small.terminal, numba_run.terminal[:500])


def test_generator_seed_is_recorded_and_reproducible():
    r = simulate(None, 200, n_steps=20, seed=np.random.default_rng(3))
    again = simulate(None, 200, n_steps=20, seed=r.seed)
    assert np.array_equal(r.terminal, again.terminal)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_ornstein_uhlenbeck_inside_the_band(backend):
    """No jumps and a price that never leaves [0.98, 1.02]: p - 1 is a discretised OU (AR(1)) process.

    Exact moments of the Euler scheme: E[x_n] = (1 - a dt)^n x_0,
    Var[x_n] = s^2 dt (1 - (1 - a dt)^(2n)) / (1 - (1 - a dt)^2).
    Tolerances: 4 standard errors of the sample mean (sd / sqrt(n)) and variance (var sqrt(2 / (n - 1))).
    The continuous OU closed form differs from these by O(dt) (checked with the bias added).
    """
    a, s, x0, n_steps, dt, n = 0.5, 0.003, 0.01, 365, 1 / 365, 40_000
    params = ModelParameters(alpha=a, sigma_base=s, jump_intensity=0.0)
    r = simulate(params, n, n_steps=n_steps, dt=dt, seed=21, initial_price=1 + x0, backend=backend)
    assert r.min_price.min() > 0.98 and r.bands[0.99].max() < 1.02 and r.terminal.max() < 1.02
    phi = 1 - a * dt
    mean = 1 + phi**n_steps * x0
    var = s**2 * dt * (1 - phi ** (2 * n_steps)) / (1 - phi**2)
    x = r.terminal
    assert abs(x.mean() - mean) < 4 * math.sqrt(var / n)
    assert abs(x.var(ddof=1) - var) < 4 * var * math.sqrt(2 / (n - 1))
    T = n_steps * dt
    cont_mean = 1 + math.exp(-a * T) * x0
    cont_var = s**2 / (2 * a) * (1 - math.exp(-2 * a * T))
    assert abs(x.mean() - cont_mean) < 4 * math.sqrt(var / n) + abs(mean - cont_mean)
    assert abs(x.var(ddof=1) - cont_var) < 4 * var * math.sqrt(2 / (n - 1)) + abs(var - cont_var)
    # the streamed mean band is the mean over all paths
    assert r.bands["mean"].iloc[-1] == pytest.approx(x.mean(), rel=1e-12)


@pytest.mark.parametrize("backend", ["numba", "numpy", "torch"])
def test_price_floor_holds(backend):
    params = ModelParameters(jump_intensity=50.0, jump_size_mu=-0.5, jump_size_sigma=0.2)
    r = simulate(params, 500, n_steps=100, seed=2, backend=backend, scenario=Scenario(shocks={50: -0.99}),
                 keep_paths=50)
    assert r.min_price.min() == 0.01 and r.terminal.min() >= 0.01 and r.paths.min() >= 0.01
    assert np.all(r.paths[:, 50] <= r.paths[:, 49] * 0.02 + 0.02)


@pytest.mark.parametrize("initial_price, liquidity", [(0.001, 1e6), (100.0, 1e6), (1.0, 1.0), (1.0, 1e9),
                                                      (100.0, 1.0)])
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_extreme_cases_stay_finite(initial_price, liquidity, backend):
    """The source document's stability cases, with hourly steps as in its test."""
    r = simulate(None, 300, n_steps=100, dt=1 / (24 * 365), seed=4, initial_price=initial_price,
                 scenario=Scenario(liquidity_pool=liquidity, network_health=0.5), keep_paths=20, backend=backend)
    for arr in (r.terminal, r.paths, r.bands.to_numpy(), r.min_price, r.step_std):
        assert np.isfinite(arr).all()
    assert r.paths[:, 1:].min() >= 0.01
    assert np.isfinite([r.stats[k] for k in ("mean_terminal", "var_99", "es_99.7", "mean_drawdown")]).all()


@pytest.mark.parametrize("kwargs, field", [
    ({"n_paths": 0}, "n_paths"),
    ({"n_paths": -5}, "n_paths"),
    ({"n_paths": 2.5}, "n_paths"),
    ({"n_steps": 0}, "n_steps"),
    ({"dt": 0.0}, "dt"),
    ({"dt": -1 / 365}, "dt"),
    ({"dt": math.nan}, "dt"),
    ({"initial_price": math.nan}, "initial_price"),
    ({"initial_price": 0.0}, "initial_price"),
    ({"keep_paths": 11}, "keep_paths"),
    ({"seed": -1}, "seed"),
    ({"backend": "cuda"}, "backend"),
    ({"scenario": Scenario(fiat_activity=[0.5] * 3)}, "fiat_activity"),
    ({"scenario": "nope"}, "scenario"),
])
def test_invalid_input_raises_input_error(kwargs, field):
    args = {"n_paths": 10, "n_steps": 5} | kwargs
    with pytest.raises(InputError) as info:
        simulate(None, **args)
    assert info.value.field == field


def test_bands_are_exact_quantiles_when_all_paths_are_kept():
    r = simulate(None, 2_000, n_steps=30, seed=5, keep_paths=2_000, scenario="crash")
    assert r.band_paths == 2_000 <= BAND_PATHS
    q = np.quantile(r.paths, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99], axis=0).T
    np.testing.assert_array_equal(r.bands.iloc[:, :7].to_numpy(), q)
    np.testing.assert_allclose(r.bands["mean"], r.paths.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(r.step_std, r.paths.std(axis=0, ddof=1), rtol=1e-8, atol=1e-14)
    assert list(r.bands.columns) == [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, "mean"]
    assert r.paths.shape == (2_000, 31) and r.bands.index.tolist() == list(range(31))
    empty = simulate(None, 10, n_steps=30, seed=5)
    assert empty.paths.shape == (0, 31)


def test_statistics_match_their_definitions():
    r = simulate(None, 5_000, n_steps=365, seed=9, scenario="network_degradation", keep_paths=5_000)
    p, s = r.paths, r.stats
    assert s["p_terminal_below_0.98"] == np.mean(p[:, -1] < 0.98)
    assert s["p_min_below_0.95"] == np.mean(p.min(axis=1) < 0.95)
    assert s["p_min_below_0.90"] == np.mean(p.min(axis=1) < 0.90)
    assert s["expected_days_below_0.98"] == pytest.approx(np.mean((p[:, 1:] < 0.98).sum(axis=1)))
    dd = np.maximum(0, 1 - p.min(axis=1))
    assert s["mean_drawdown"] == pytest.approx(dd.mean()) and s["worst_drawdown"] == dd.max()
    ret = p[:, -1] - 1
    assert s["var_99"] == pytest.approx(-np.quantile(ret, 0.01))
    assert s["es_99"] == pytest.approx(-ret[ret <= np.quantile(ret, 0.01)].mean())
    assert s["es_99.7"] >= s["var_99.7"] >= s["var_99"] >= s["var_95"] > 0
    assert 0 <= s["p_unrecovered"] <= s["p_depeg"]
    summary = r.summary()
    assert list(summary.columns) == ["value", "std_error", "description"]
    assert summary.loc["p_depeg", "std_error"] == pytest.approx(math.sqrt(s["p_depeg"] * (1 - s["p_depeg"]) / 5000))


def test_save_load_and_rerun(tmp_store):
    r = simulate(None, 3_000, n_steps=50, seed=12, scenario=PRESETS["combined"], keep_paths=5)
    run_id = r.save(tmp_store, name="combined test")
    rec = tmp_store.load_run(run_id)
    assert rec.kind == "peg_simulation" and rec.seed == 12 and rec.extra["backend"] == "numba"
    assert rec.extra["scenario"]["name"] == "combined" and rec.extra["elapsed_s"] > 0
    back = SimulationResult.load(tmp_store, run_id)
    assert back.run_id == run_id and back.scenario == r.scenario and back.params == r.params
    assert back.same_numbers(r) and np.array_equal(back.paths, r.paths)
    assert back.bands.equals(r.bands)
    assert back.rerun().same_numbers(r)
    np.testing.assert_equal(back.to_dict()["stats"], r.stats)
    with pytest.raises(InputError, match="run_id"):
        SimulationResult.load(tmp_store, tmp_store.save_run("other", None, None, {}))


def test_progress_is_reported_to_one(monkeypatch):
    import riskcore.peg.montecarlo as mc

    monkeypatch.setattr(mc, "PROGRESS_POLL_S", 0.002)  # the kernels' block counters, read while they run
    seen: list[float] = []
    simulate(None, 200_000, n_steps=365, seed=1, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert any(0.0 < f < 1.0 for f in seen), seen


def test_a_cancel_stops_the_kernels_within_a_block():
    """A progress callback that raises (the app's cancel) sets the kernels' stop flag: a run of
    1.1 billion path-steps (over 4 s at the fastest rate measured on 2 cores) ends at the first
    report instead of running to the end in the background."""
    simulate(None, 20_000, n_steps=365, seed=1)  # compiled outside the measurement

    def cancel(fraction: float) -> None:
        raise KeyboardInterrupt

    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        simulate(None, 3_000_000, n_steps=365, seed=1, progress=cancel)
    assert time.perf_counter() - t0 < 2.0


def test_statistics_are_streamed_not_materialised():
    """300,000 x 365 paths would be 877 MB as a matrix; the run must stay far below that."""
    simulate(None, 2_000, n_steps=365, seed=1)  # compile outside the measurement
    tracemalloc.start()
    try:
        r = simulate(None, 300_000, n_steps=365, seed=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.terminal.shape == (300_000,)
    # per-path outputs 28 B x 3e5 = 8.4 MB, band sample 20,000 x 366 x 8 = 59 MB, block sums 0.5 MB
    assert peak < 150e6, peak


def test_torch_device_selection():
    """CUDA when PyTorch sees a GPU, else CPU; an unusable device is an InputError on ``device``."""
    from riskcore.peg.torch_backend import default_device

    assert default_device() == ("cuda" if torch.cuda.is_available() else "cpu")
    bad = ["no-such-device"] + ([] if torch.cuda.is_available() else ["cuda"])
    for device in bad:
        with pytest.raises(InputError) as info:
            simulate(None, 10, n_steps=5, backend="torch", device=device)
        assert info.value.field == "device"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_torch_cuda_agrees_with_numba(numba_run):
    """Same tolerances as test_backends_agree, on the GPU (the default device when present)."""
    other = simulate(None, 20_000, n_steps=100, seed=8, scenario=STRESS, backend="torch")
    a, b = numba_run.terminal, other.terminal
    assert stats.ks_2samp(a, b).pvalue > 1e-3
    assert abs(a.mean() - b.mean()) < 4 * math.sqrt(a.var() / a.size + b.var() / b.size)
    for key in ("p_terminal_below_0.98", "p_min_below_0.95", "p_depeg"):
        se = math.hypot(numba_run.std_errors[key], other.std_errors[key])
        assert abs(numba_run.stats[key] - other.stats[key]) < 4 * se + 1e-12, key
    again = simulate(None, 20_000, n_steps=100, seed=8, scenario=STRESS, backend="torch", device="cuda")
    assert np.array_equal(again.terminal, other.terminal)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_other_backends_rerun_to_the_same_numbers(backend, tmp_store):
    """A saved numpy/torch run reloads and re-runs bit for bit (their own generators, seeded by the run seed)."""
    r = simulate(None, 1_000, n_steps=40, seed=5, scenario="combined", backend=backend, keep_paths=3)
    back = SimulationResult.load(tmp_store, r.save(tmp_store))
    assert back.backend is Backend(backend) and back.same_numbers(r)
    assert back.rerun().same_numbers(r)
    assert not simulate(None, 1_000, n_steps=40, seed=6, scenario="combined", backend=backend).same_numbers(r)


def test_each_thread_calls_the_kernel_once(monkeypatch):
    """The kernel returns to Python (and waits for the GIL behind other sessions' threads, issue 17)
    once per thread, not once per chunk of work."""
    from riskcore.peg import kernels

    calls: list[int] = []
    inner = kernels.simulate_paths_serial

    def counted(*args):
        calls.append(args[1])
        return inner(*args)

    monkeypatch.setattr(kernels, "simulate_paths_serial", counted)
    r = simulate(None, 200_000, n_steps=365, seed=3, progress=lambda f: None)
    assert len(calls) == numba.get_num_threads()
    monkeypatch.undo()
    assert np.array_equal(r.terminal, simulate(None, 200_000, n_steps=365, seed=3).terminal)
