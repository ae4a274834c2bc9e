"""The CUDA backend (issue 15): Philox known answers, the exact step, distribution vs numba, chunk splits.

The kernel runs in a fresh process (``tests/peg/_cuda_runs.py``): on a GPU when one is
usable, else under Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, which Numba reads
at import, hence the subprocess) on small sizes. Every assertion is made here. The CUDA
generator (Philox4x32-10 + Box-Muller) is not the Numba kernel's, so agreement with numba
is distributional: two-sample KS and moments within their standard errors.
"""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest
from scipy import stats

from riskcore.errors import InputError
from riskcore.peg import cuda_backend, kernels, philox
from riskcore.peg.model import jump_probability, reference_step, step_coefficients
from riskcore.peg.montecarlo import Backend, SimulationResult, available_backends, simulate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
_spec = importlib.util.spec_from_file_location("_cuda_runs_constants", HERE / "_cuda_runs.py")
RUNS = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(RUNS)  # constants only; its kernel is never launched in this process

ON_GPU = cuda_backend.cuda_status()[0] and not cuda_backend.simulator_active()
SIZE = "large" if ON_GPU else "small"
Z = RUNS.SIZES[SIZE]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Arrays of the CUDA runs (device or simulator), computed once in a subprocess."""
    out = tmp_path_factory.mktemp("cuda") / "runs.npz"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if not ON_GPU:
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    proc = subprocess.run([sys.executable, str(HERE / "_cuda_runs.py"), str(out), SIZE], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=540)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with np.load(out) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def numba_ref():
    """The numba backend on the same model, other seed, 20,000 paths."""
    return simulate(RUNS.JUMPY, 20_000, n_steps=Z["steps"], seed=5, scenario=RUNS.STRESS)


# ---- Philox ------------------------------------------------------------------------------------

KAT = {  # Random123 kat_vectors, philox4x32 R: counter (4 words), key (2 words) -> output (4 words)
    10: [[0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8], [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD],
         [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]],
    7: [[0x5F6FB709, 0x0D893F64, 0x4F121F81, 0x4F730A48], [0x5207DDC2, 0x45165E59, 0x4D8EE751, 0x8C52F662],
        [0x4DFCCABA, 0x190A87F0, 0xC47362BA, 0xB6B5242A]],
}


@pytest.mark.parametrize("rounds", [10, 7])
def test_philox_known_answers_cpu(rounds):
    out = philox.philox4x32(RUNS.KAT_COUNTERS, RUNS.KAT_KEYS, rounds)
    assert out.tolist() == KAT[rounds]


def test_philox_known_answers_device(runs):
    """The device compilation of the same source (simulator or GPU) gives the published vectors."""
    assert runs["kat10"].tolist() == KAT[10]
    assert runs["kat7"].tolist() == KAT[7]


def test_philox_counter_and_key_matter():
    base = philox.philox4x32([[1, 2, 3, 4]], [[5, 6]])
    for ctr, key in (([[0, 2, 3, 4]], [[5, 6]]), ([[1, 2, 3, 5]], [[5, 6]]), ([[1, 2, 3, 4]], [[5, 7]])):
        assert not np.array_equal(philox.philox4x32(ctr, key), base)


_uniform52 = numba.njit(philox.uniform52_src)
_uniform23 = numba.njit(philox.uniform23_src)
_box_muller = numba.njit(philox.box_muller_src)


@numba.njit
def _normals(words, f32):
    n = words.shape[0]
    out = np.empty(2 * n) if not f32 else np.empty(4 * n)
    for i in range(n):
        w = words[i]
        if f32:
            a, b = _box_muller(_uniform23(w[0]), _uniform23(w[1]), np.float32(-2.0), np.float32(2 * np.pi))
            c, d = _box_muller(_uniform23(w[2]), _uniform23(w[3]), np.float32(-2.0), np.float32(2 * np.pi))
            out[4 * i], out[4 * i + 1], out[4 * i + 2], out[4 * i + 3] = a, b, c, d
        else:
            a, b = _box_muller(_uniform52(w[0], w[1]), _uniform52(w[2], w[3]), -2.0, 2 * np.pi)
            out[2 * i], out[2 * i + 1] = a, b
    return out


@pytest.mark.parametrize("f32", [False, True])
def test_philox_box_muller_normals_are_standard_normal(f32):
    """400k normals from the kernel's uniform and Box-Muller sources: KS, mean, variance, pair correlation."""
    n_calls = 100_000 if f32 else 200_000
    ctr = np.zeros((n_calls, 4), dtype=np.uint64)
    ctr[:, 0] = np.arange(n_calls)
    ctr[:, 1] = 17  # a path index
    words = philox.philox4x32(ctr, [[123, 0]]).astype(np.uint64)
    z = _normals(words, f32)
    assert z.size == 400_000
    assert abs(z.mean()) < 4 / math.sqrt(z.size)
    assert abs(z.var() - 1) < 4 * math.sqrt(2 / z.size)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert abs(np.corrcoef(z[0::2], z[1::2])[0, 1]) < 4 / math.sqrt(z.size / 2)
    assert np.all(np.isfinite(z)) and np.abs(z).max() < (5.8 if f32 else 8.6)


# ---- the kernel ----------------------------------------------------------------------------------


def _philox_normals(seed: int, path: int, n_steps: int) -> np.ndarray:
    """The float64 diffusion normals of one path, computed on the CPU as the module docstring defines them."""
    k0, k1 = philox.split_key(seed)
    calls = -(-n_steps // 2)
    ctr = np.zeros((calls, 4), dtype=np.uint64)
    ctr[:, 0] = np.arange(calls)
    ctr[:, 1] = path & 0xFFFFFFFF
    ctr[:, 2] = path >> 32
    ctr[:, 3] = int(cuda_backend.STREAM_DIFFUSION)
    w = philox.philox4x32(ctr, [[int(k0), int(k1)]]).astype(np.uint64)
    u1 = ((((w[:, 0] << np.uint64(20)) | (w[:, 1] >> np.uint64(12))).astype(np.float64)) + 0.5) * 2.0 ** -52
    u2 = ((((w[:, 2] << np.uint64(20)) | (w[:, 3] >> np.uint64(12))).astype(np.float64)) + 0.5) * 2.0 ** -52
    r = np.sqrt(-2.0 * np.log(u1))
    return np.column_stack([r * np.cos(2 * np.pi * u2), r * np.sin(2 * np.pi * u2)]).ravel()[:n_steps]


def test_cuda_kernel_equals_reference_step_on_philox_normals(runs):
    """Jumps off: path i of the CUDA kernel is the SPEC step driven by the Philox normals of counter (t // 2, i)."""
    e = RUNS.EXACT
    c = step_coefficients(e["params"], e["scenario"].resolve(e["steps"]), 1 / 365)
    for j, p0 in enumerate(e["p0"]):
        got = runs[f"exact{j}_paths"]
        for i in range(e["n"]):
            z = _philox_normals(e["seed"], i, e["steps"])
            path = [np.array([p0])]
            for t in range(e["steps"]):
                path.append(reference_step(path[-1], t, c, z[t:t + 1], np.zeros(1)))
            np.testing.assert_allclose(got[i], np.concatenate(path), rtol=1e-12, atol=1e-14)


def _agree(a_terminal, a_stats, a_se, b, label):
    """KS on terminal prices, mean and sd within their standard errors, probabilities within 4 combined SE."""
    ta, tb = a_terminal, b.terminal
    ks = stats.ks_2samp(ta, tb)
    assert ks.pvalue > 1e-3, (label, ks)
    assert abs(ta.mean() - tb.mean()) < 4 * math.sqrt(ta.var() / ta.size + tb.var() / tb.size), label
    assert abs(ta.std() - tb.std()) < 6 * math.sqrt(ta.var() / (2 * ta.size) + tb.var() / (2 * tb.size)), label
    na, nb = ta.size, tb.size
    for key in ("p_terminal_below_0.98", "p_min_below_0.95", "p_depeg"):  # two-sample test of proportions
        pooled = (a_stats[key] * na + b.stats[key] * nb) / (na + nb)
        se = math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
        assert 0.02 < pooled < 0.98, (label, key, pooled)  # informative, not a degenerate 0 or 1
        assert abs(a_stats[key] - b.stats[key]) < 4 * se, (label, key)
    for key in ("expected_days_below_0.98", "mean_drawdown"):
        se = math.hypot(a_se[key], b.std_errors[key])
        assert abs(a_stats[key] - b.stats[key]) < 4 * se, (label, key)
    return ks.pvalue


def _stats_of(runs, tag):
    keys = runs["stat_keys"].tolist()
    values, errors = runs[f"r{tag}_stats"].tolist(), runs[f"r{tag}_se"].tolist()
    return dict(zip(keys, values, strict=True)), dict(zip(keys, errors, strict=True))


@pytest.mark.parametrize("tag", ["64", "32"])
def test_cuda_same_distribution_as_numba(runs, numba_ref, tag):
    """Frequent jumps (30 a year) under a mixed stress scenario: CUDA (float64 / float32) against numba."""
    s, se = _stats_of(runs, tag)
    _agree(runs[f"r{tag}_terminal"], s, se, numba_ref, f"float{tag}")
    ks_min = stats.ks_2samp(runs[f"r{tag}_min_price"], numba_ref.min_price)
    assert ks_min.pvalue > 1e-3, ks_min


def test_cuda_float32_matches_float64(runs):
    """float32 against float64 (independent seeds): same distribution, per-step means within their errors."""
    a, b = runs["r64_terminal"], runs["r32_terminal"]
    assert stats.ks_2samp(a, b).pvalue > 1e-3
    assert abs(a.mean() - b.mean()) < 4 * math.sqrt(a.var() / a.size + b.var() / b.size)
    # the step sums are float64 in both: the per-step means agree to the Monte Carlo error of the mean
    se = runs["r64_step_std"] / math.sqrt(a.size)
    assert np.all(np.abs(runs["r64_mean"] - runs["r32_mean"]) < 5 * np.sqrt(2) * se + 1e-12)


def test_cuda_bit_reproducible_across_chunk_splits(runs):
    """One launch against launches of one block (128 paths): every output bit-identical, step sums included."""
    for k in ("terminal", "min_price", "steps_below", "first_breach", "recovery", "paths", "step_std", "mean"):
        assert np.array_equal(runs[f"whole_{k}"], runs[f"split_{k}"]), k
    # a path's numbers do not depend on how many paths the run has either
    m = Z["split_n"]
    for k in ("terminal", "min_price", "steps_below", "first_breach", "recovery"):
        assert np.array_equal(runs[f"whole_{k}"], runs[f"r64_{k}"][:m]), k


def test_cuda_outputs_are_consistent_with_the_paths(runs):
    """Per-path statistics, band means and step sds computed on the device match the recorded paths."""
    paths = runs["whole_paths"]
    body = paths[:, 1:]
    assert np.array_equal(runs["whole_terminal"], paths[:, -1])
    assert np.array_equal(runs["whole_min_price"], paths.min(axis=1))
    assert np.array_equal(runs["whole_steps_below"], (body < 0.98).sum(axis=1))
    below = body < 0.98
    first = np.where(below.any(axis=1), below.argmax(axis=1) + 1, -1)
    assert np.array_equal(runs["whole_first_breach"], first)
    for i in np.flatnonzero(first > 0):
        back = np.flatnonzero(~below[i, first[i] - 1:])  # from the breach step on
        assert runs["whole_recovery"][i] == (first[i] + back[0] if back.size else -1)
    np.testing.assert_allclose(runs["whole_mean"], paths.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(runs["whole_step_std"], paths.std(axis=0, ddof=1), rtol=1e-9, atol=1e-13)
    assert runs["whole_first_breach"].max() > 0 and (runs["whole_recovery"] > 0).any()  # the test has teeth


def test_cuda_jumps_bernoulli_per_step_at_most_one(runs):
    """No diffusion or drift: each increment is 0 or one N(mu, sigma) jump; counts have the Binomial(n, q) mean."""
    j = RUNS.JUMP_LAW
    inc = np.diff(runs["jumps_paths"], axis=1)
    hit = np.abs(inc) > 1e-6
    sizes = inc[hit]
    assert np.all(np.abs(sizes - j["mu"]) < 6 * j["sigma"])  # one jump, never two, in a step
    q = jump_probability(j["lam"], 1 / 365)
    counts = hit.sum(axis=1)
    n_steps = inc.shape[1]
    expected, var = n_steps * q, n_steps * q * (1 - q)
    assert abs(counts.mean() - expected) < 4 * math.sqrt(var / counts.size)
    assert abs(counts.var() - var) < 6 * math.sqrt(2 * var * var / counts.size + var / counts.size)
    assert abs(sizes.mean() - j["mu"]) < 4 * j["sigma"] / math.sqrt(sizes.size)


# ---- availability and arguments -------------------------------------------------------------------


def test_cuda_without_a_device_is_an_input_error(monkeypatch):
    if cuda_backend.cuda_status()[0]:  # a GPU here: pretend there is none
        monkeypatch.setattr(cuda_backend, "cuda_status", lambda: (False, "no CUDA GPU or driver was found"))
    with pytest.raises(InputError) as info:
        simulate(None, 100, n_steps=5, backend="cuda")
    assert info.value.field == "backend" and "CUDA" in str(info.value)


def test_available_backends(runs):
    names = [b.value for b in available_backends()]
    assert names[:2] == ["numba", "numpy"] and "dask" in names
    assert ("cuda" in names) == ON_GPU
    # under the simulator, cuda is usable but not offered to users
    if not ON_GPU:
        assert "cuda" not in runs["backends"].tolist() and "cuda" in runs["backends_sim"].tolist()


@pytest.mark.parametrize("backend", ["numba", "numpy", "dask"])
def test_float32_only_on_gpu_backends(backend):
    with pytest.raises(InputError) as info:
        simulate(None, 100, n_steps=5, backend=backend, dtype="float32")
    assert info.value.field == "dtype"
    with pytest.raises(InputError):
        simulate(None, 100, n_steps=5, backend="torch", dtype="float16")


def test_torch_float32_agrees_and_round_trips(numba_ref, tmp_store):
    """The PyTorch fallback in float32: same distribution as numba; saved and re-run as float32, same numbers."""
    r = simulate(RUNS.JUMPY, 20_000, n_steps=Z["steps"], seed=9, scenario=RUNS.STRESS, backend="torch",
                 dtype="float32", keep_paths=3)
    assert r.dtype == "float32" and r.terminal.dtype == np.float64
    _agree(r.terminal, r.stats, r.std_errors, numba_ref, "torch float32")
    back = SimulationResult.load(tmp_store, r.save(tmp_store))
    assert back.dtype == "float32" and back.backend is Backend.TORCH and back.same_numbers(r)
    assert back.rerun().same_numbers(r)


_CACHE_PROBE = """
from riskcore.peg import kernels
from riskcore.peg.montecarlo import simulate
simulate(None, 64, n_steps=3, seed=1)
st = kernels.simulate_paths_serial.stats
print(sum(st.cache_hits.values()), sum(st.cache_misses.values()))
"""


def test_numba_kernels_load_from_the_disk_cache():
    """cache=True: a second process loads the compiled kernel instead of compiling it again."""
    simulate(None, 64, n_steps=3, seed=1)  # this process compiled (and wrote the cache) or loaded it
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("NUMBA_DISABLE_JIT", None)
    proc = subprocess.run([sys.executable, "-c", _CACHE_PROBE], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    hits, misses = (int(x) for x in proc.stdout.split())
    assert hits >= 1 and misses == 0, (hits, misses)
    assert kernels._baked_levels() == kernels.LEVELS
