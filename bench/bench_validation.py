"""Validation benchmarks (issue 14): a 10 x 10 sweep, the full validation, the new VaR backtests.

Targets: a 10 x 10 parameter sweep of 100,000 paths x 365 steps per point in <= 60 s with numba; the
full :func:`riskcore.validation.validate` with its default sizes in <= 2 minutes; each new backtest
(duration with Monte Carlo p-value, DQ, Z2 with simulated critical values, McNeil-Frey bootstrap) on
5,000 days in <= 1 s. Each line prints the measurement, the target and the ratio to a reference
measured in the same run (the machine is shared: only same-run ratios mean much).

Usage: ``python bench/bench_validation.py [--quick]`` (``--quick``: 10,000 paths per sweep point).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
from scipy import stats


def _line(label: str, seconds: float, target: float, ref_label: str, ref: float, cpu: float | None = None) -> None:
    extra = "" if cpu is None else f"  [process CPU {cpu:.1f} s]"
    print(f"{label:<44} {seconds:8.3f} s  (target <= {target:g} s: {'ok' if seconds <= target else 'OVER'})"
          f"  ratio to {ref_label}: {seconds / ref:.2f}{extra}", flush=True)


def _load() -> str:
    try:
        with open("/proc/loadavg") as fh:
            return fh.read().split()[0]
    except OSError:
        return "?"


def bench_sweep(n_paths: int) -> None:
    from riskcore.peg.montecarlo import simulate
    from riskcore.peg.sweep import sweep

    simulate(None, 2048, n_steps=10)  # compile / load the cached kernel
    t = time.perf_counter()
    simulate(None, n_paths, n_steps=365, seed=0)
    single = time.perf_counter() - t
    grid = {"alpha": list(np.linspace(0.25, 5.0, 10)), "sigma_base": list(np.linspace(0.01, 0.1, 10))}
    t, c = time.perf_counter(), time.process_time()
    res = sweep(grid=grid, n_paths=n_paths, n_steps=365, seed=0, backend="numba")
    el, cpu = time.perf_counter() - t, time.process_time() - c
    print(f"load average {_load()} on {os.cpu_count()} cores; the sweep's process CPU time / cores is its wall time "
          "on an idle machine")
    print(f"sweep: {len(res.table)} points x {n_paths:,} paths x 365 steps = {len(res.table) * n_paths * 365 / 1e9:.2f}"
          f" G path-steps, {len(res.table) * n_paths * 365 / el / 1e6:.0f} M path-steps/s")
    _line("10 x 10 sweep (numba)", el, 60.0, "100 x one simulate()", 100 * single, cpu)


def bench_validate() -> None:
    from riskcore.validation import validate

    t, c = time.perf_counter(), time.process_time()
    rep = validate()
    el, cpu = time.perf_counter() - t, time.process_time() - c
    counts = rep.counts()
    print(f"validate(): {len(rep.checks)} checks, {counts}; slowest part: see the page's progress bar")
    from riskcore.peg.montecarlo import simulate

    t = time.perf_counter()
    simulate(None, 100_000, n_steps=365, seed=0, initial_price=1.05)
    one = time.perf_counter() - t
    _line("full validation, default sizes", el, 120.0, "one 100k x 365 simulate()", one, cpu)


def bench_backtests() -> None:
    from riskcore.var.beyond_coverage import dq_test, duration_test, mcneil_frey_test, z2_test
    from riskcore.var.stats import christoffersen_test, kupiec_test

    rng = np.random.default_rng(0)
    T, p = 5000, 0.01
    sig = np.exp(0.3 * np.sin(np.arange(T) / 50.0))
    r = sig * rng.standard_t(5, T) / np.sqrt(5 / 3)
    q = stats.norm.ppf(p)
    var, es = -q * sig, sig * stats.norm.pdf(q) / p
    v = r < -var
    t = time.perf_counter()
    kupiec_test(v, p)
    christoffersen_test(v, p)
    ref = time.perf_counter() - t
    for name, fn in [("duration (1,000 MC p-value draws)", lambda: duration_test(v, p, n_mc=1000)),
                     ("duration (asymptotic)", lambda: duration_test(v, p)),
                     ("DQ (4 lags)", lambda: dq_test(v, var, p)),
                     ("Z2 (2,000 simulations)", lambda: z2_test(r, var, es, p)),
                     ("McNeil-Frey (2,000 bootstraps)", lambda: mcneil_frey_test(r, var, es))]:
        fn()
        t = time.perf_counter()
        fn()
        _line(f"{name}, 5,000 days", time.perf_counter() - t, 1.0, "Kupiec + Christoffersen", ref)


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    bench_backtests()
    bench_sweep(10_000 if quick else 100_000)
    if not quick:
        bench_validate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
