"""Benchmark of the peg Monte Carlo backends (issue 3). Run: ``python bench/bench_peg.py [--quick]``.

Measures, in one run, path-steps per second of the full model (default parameters,
jumps on, 365 daily steps) for: the Numba kernel (all threads and one thread), the
NumPy reference, PyTorch on CPU (or CUDA), the fused CUDA kernel in float64 and float32
(issue 15; skipped with a message without a GPU -- ``bench/gpu_check.py`` is the full GPU
check), the Dask backend on a LocalCluster, and a
per-path pure-Python loop like the source document's ``simulate_cpu``; then the time
of a 100,000-path one-year run end to end, and the peak memory of 10,000,000 paths.
Every ratio is against a reference measured in this same run.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np

from riskcore.params import ModelParameters
from riskcore.peg.montecarlo import simulate

PARAMS = ModelParameters()
N_STEPS = 365


def _rate(n_paths: int, seconds: float, n_steps: int = N_STEPS) -> float:
    return n_paths * n_steps / seconds


def _best(fn, repeat: int = 2) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def python_loop(n_paths: int, n_steps: int = N_STEPS, seed: int = 0) -> np.ndarray:
    """Per-path, per-step pure Python/NumPy-scalar loop, as in the source document's CPU engine."""
    p = PARAMS
    rng = np.random.default_rng(seed)
    dt = 1 / 365
    out = np.empty(n_paths)
    for i in range(n_paths):
        price = 1.0
        for _ in range(n_steps):
            state = np.array([price, 1_000_000.0, 1.0, 0.5])
            liquidity, health, fiat = state[1], state[2], state[3]
            decay = 0.0
            if price > 1.02:
                decay = p.beta * 0.001 / max(0.1, liquidity / 1e6)
                decay *= p.fiat_discount if fiat > p.fiat_threshold else 1.0
                decay *= p.fiat_penalty if fiat < 0.1 else 1.0
            support = p.gamma * 0.002 * min(2.0, 2 * fiat) if price < 0.98 else 0.0
            vol = p.sigma_base * (2.0 if health < 0.8 else 1.0)
            shock = rng.normal(0.0, vol * math.sqrt(dt))
            jump = rng.normal(p.jump_size_mu, p.jump_size_sigma) if rng.random() < -math.expm1(-p.jump_intensity * dt) \
                else 0.0
            price = max(0.01, price + (-p.alpha * (price - 1) - decay + support) * dt + shock + jump)
        out[i] = price
    return out


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, skip the 10M-path memory run")
    args = ap.parse_args([] if argv is None else argv)  # main() from run_all.py: full run
    q = args.quick
    import numba

    res: dict[str, float] = {}
    print(f"peg Monte Carlo benchmark — {os.cpu_count()} CPUs, numba {numba.__version__}, "
          f"{numba.get_num_threads()} threads, "
          f"{N_STEPS} steps, default parameters (jumps on)")

    simulate(PARAMS, 5_000, seed=0)  # compile / load the kernels outside the timings
    n = 300_000 if q else 1_000_000
    t = _best(lambda: simulate(PARAMS, n, seed=1))
    res["numba"] = _rate(n, t)
    print(f"numba (parallel, {numba.get_num_threads()} threads): {n:,} paths in {t:.2f} s -> "
          f"{res['numba'] / 1e6:,.1f} M path-steps/s (target >= 100)")

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        t = _best(lambda: simulate(PARAMS, n // 2, seed=1))
    finally:
        numba.set_num_threads(before)
    res["numba_1_thread"] = _rate(n // 2, t)
    print(f"numba (1 thread): {res['numba_1_thread'] / 1e6:,.1f} M path-steps/s; parallel speed-up "
          f"{res['numba'] / res['numba_1_thread']:.2f}x")

    m = 50_000 if q else 200_000
    t = _best(lambda: simulate(PARAMS, m, seed=1, backend="numpy"), repeat=1)
    res["numpy"] = _rate(m, t)
    print(f"numpy reference: {m:,} paths in {t:.2f} s -> {res['numpy'] / 1e6:,.1f} M path-steps/s; "
          f"numba / numpy = {res['numba'] / res['numpy']:.1f}x (target >= 5)")

    from riskcore.peg.torch_backend import default_device

    k = 20_000 if q else 100_000
    t = _best(lambda: simulate(PARAMS, k, seed=1, backend="torch"), repeat=1)
    res["torch"] = _rate(k, t)
    print(f"torch ({default_device()}): {k:,} paths in {t:.2f} s -> {res['torch'] / 1e6:,.1f} M path-steps/s; "
          f"numba / torch = {res['numba'] / res['torch']:.1f}x")

    res.update(cuda_rates(q, res))

    from riskcore.distributed import close_clients, get_client

    get_client()
    simulate(PARAMS, 2_048, seed=0, backend="dask")
    t = _best(lambda: simulate(PARAMS, n, seed=1, backend="dask"), repeat=1)
    res["dask"] = _rate(n, t)
    same = np.array_equal(simulate(PARAMS, 20_000, seed=5, backend="dask", chunk_paths=3_000).terminal,
                          simulate(PARAMS, 20_000, seed=5).terminal)
    close_clients()
    print(f"dask (LocalCluster, threads, numba kernel on workers): {res['dask'] / 1e6:,.1f} M path-steps/s; "
          f"bit-identical to numba: {same}")

    j = 100 if q else 300
    t0 = time.perf_counter()
    python_loop(j)
    res["python_loop"] = _rate(j, time.perf_counter() - t0)
    print(f"per-path Python loop (source document style): {res['python_loop'] / 1e6:,.2f} M path-steps/s; "
          f"numba / loop = {res['numba'] / res['python_loop']:,.0f}x")

    t0 = time.perf_counter()
    r = simulate(PARAMS, 100_000, seed=2, keep_paths=20)
    res["run_100k_s"] = time.perf_counter() - t0
    print(f"100,000 paths x 1 year end to end (bands, statistics): {res['run_100k_s']:.2f} s (target < ~2 s); "
          f"P(terminal < 0.98) = {r.stats['p_terminal_below_0.98']:.4f}")

    if not q:
        res.update(big_run())
    return res


def cuda_rates(quick: bool, res: dict[str, float]) -> dict[str, float]:
    """The fused CUDA kernel (issue 15), float64 and float32, against numba and torch from this run."""
    from riskcore.peg.gpu import cuda_possible, simulator_requested

    maybe, why = cuda_possible()
    if maybe and simulator_requested():
        maybe, why = False, "NUMBA_ENABLE_CUDASIM is set (the simulator is not a GPU)"
    if maybe:
        from riskcore.peg.cuda_backend import cuda_status

        maybe, why = cuda_status()
    if not maybe:
        print(f"cuda (fused kernel): skipped -- {why}")
        return {}
    out: dict[str, float] = {}
    n = 1_000_000 if quick else 10_000_000
    for dtype in ("float64", "float32"):
        simulate(PARAMS, 4_096, seed=0, backend="cuda", dtype=dtype)  # compile outside the timing
        t = _best(lambda dtype=dtype: simulate(PARAMS, n, seed=1, backend="cuda", dtype=dtype))
        out[f"cuda_{dtype}"] = _rate(n, t)
        print(f"cuda ({dtype}, {why}): {n:,} paths in {t:.2f} s end to end -> {out[f'cuda_{dtype}'] / 1e9:,.1f} G "
              f"path-steps/s; cuda / numba = {out[f'cuda_{dtype}'] / res['numba']:,.0f}x, cuda / torch = "
              f"{out[f'cuda_{dtype}'] / res['torch']:,.0f}x (goals: {'5e10' if dtype == 'float64' else '1e11'} "
              f"path-steps/s in the kernel, >= 20x torch on the same GPU; see bench/gpu_check.py)")
    return out


_BIG = """
import resource, time, tracemalloc
from riskcore.peg.montecarlo import simulate
simulate(None, 5_000, seed=0)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
t0 = time.perf_counter()
r = simulate(None, 10_000_000, seed=3)
t = time.perf_counter() - t0
print(t, tracemalloc.get_traced_memory()[1], base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def big_run() -> dict[str, float]:
    """10,000,000 paths x 365 in a fresh process: time, traced peak and max RSS (KiB from getrusage)."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", _BIG], capture_output=True, text=True, check=True).stdout.split()
    t, peak, base, rss = float(out[0]), float(out[1]), float(out[2]) / 1024, float(out[3]) / 1024
    big = 10_000_000
    print(f"10,000,000 paths x 365 (fresh process): {t:.1f} s ({_rate(big, t) / 1e6:,.0f} M path-steps/s), peak "
          f"traced allocations {peak / 1e6:,.0f} MB, max RSS {rss:,.0f} MB of which {base:,.0f} MB before the run "
          f"(the path matrix would be {big * (N_STEPS + 1) * 8 / 1e9:,.1f} GB; target well under 2 GB)")
    return {"big_s": t, "big_peak_mb": peak / 1e6, "big_rss_mb": rss}


if __name__ == "__main__":
    main(sys.argv[1:])
