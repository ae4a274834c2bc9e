"""GPU check of the fused CUDA peg backend (issue 15). Run once on a GPU machine: ``python bench/gpu_check.py``.

Goals (issue 15, on an H100 / H200)
-----------------------------------
- >= 5e10 path-steps/s in float64 and >= 1e11 in float32 (a fused kernel with
  in-kernel Philox is bound near 2e11 by integer throughput);
- >= 20x the PyTorch backend on the same GPU, in the same run;
- the same distribution as the numba backend (two-sample KS, moments within their
  standard errors) on 100,000 paths.

What it measures (one JSON line per measurement on stdout)
----------------------------------------------------------
``device``: the GPU, numba / numba-cuda / torch versions. ``compile``: first-call time
and registers per thread of each precision's kernel. ``throughput``: 10,000,000 paths x
365 steps, default parameters, the ``baseline`` and the stressed ``combined`` preset, in
float64 and float32: path-steps/s of the kernel alone (synchronised around the launch)
and of the backend (kernel + copies of the per-path outputs and the 20,000 band paths +
the on-device per-step sum tree), best of 3; then once end to end through
``simulate()`` (host statistics and bands included). ``torch``: the PyTorch backend on the
same GPU, same sizes, same precision (backend time, no host statistics), and the ratio.
``float32_effect``: float32 against float64 statistics of the 10,000,000-path runs, in
units of their standard errors. ``agreement``: numba against cuda (both precisions) on
100,000 paths x 365 steps under ``combined``: KS statistics and p-values of the
terminal and minimum prices, and each statistic's difference over its combined standard
error. ``summary``: the goals and whether each was met.

Requirements: numpy, scipy, pandas, numba, numba-cuda with the CUDA toolkit's NVVM
(``pip install numba-cuda[cu12]`` or a system toolkit), a CUDA driver; PyTorch built with
CUDA for the comparison (skipped with a message otherwise). About 1-3 minutes on an H200.
Without a usable GPU it stops at once with exit status 2 and says why. ``--quick`` runs
1,000,000 paths instead of 10,000,000 (for a first look).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

GOAL_F64 = 5e10
GOAL_F32 = 1e11
GOAL_TORCH_RATIO = 20.0
N_STEPS = 365
AGREE_PATHS = 100_000


def emit(**fields) -> None:
    print(json.dumps(fields, default=float), flush=True)


def fail(reason: str, code: int) -> None:
    emit(check="device", ok=False, reason=reason)
    print(f"gpu_check: {reason}", file=sys.stderr)
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1,000,000 paths instead of 10,000,000")
    ap.add_argument("--dry-run", action="store_true",
                    help="tiny sizes, simulator allowed: checks this script's logic, measures nothing")
    args = ap.parse_args(argv)
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0") and not args.dry_run:
        fail("NUMBA_ENABLE_CUDASIM is set: the simulator is not a GPU; unset it", 2)
    from riskcore.peg.gpu import cuda_possible

    maybe, why = cuda_possible()
    if not maybe:
        fail(why, 2)
    import numba
    from numba import cuda
    from scipy import stats

    from riskcore.params import ModelParameters
    from riskcore.peg import cuda_backend
    from riskcore.peg.model import step_coefficients
    from riskcore.peg.montecarlo import BAND_PATHS, simulate
    from riskcore.peg.scenarios import preset

    ok, why = cuda_backend.cuda_status()
    if not ok:
        fail(why, 2)
    dev = cuda.get_current_device()
    try:
        import torch

        torch_info = {"torch": torch.__version__, "torch_cuda": bool(torch.cuda.is_available())}
    except ImportError:
        torch, torch_info = None, {"torch": None, "torch_cuda": False}
    emit(check="device", ok=True, name=why, dry_run=args.dry_run,
         compute_capability=".".join(map(str, getattr(dev, "compute_capability", ()))),
         sms=getattr(dev, "MULTIPROCESSOR_COUNT", None), numba=numba.__version__,
         numba_cuda=getattr(sys.modules.get("numba_cuda"), "__version__", None), **torch_info)

    params = ModelParameters()
    n_big = 1_000_000 if args.quick else 10_000_000
    n_steps, agree_paths, band_paths = N_STEPS, AGREE_PATHS, BAND_PATHS
    if args.dry_run:
        n_big, n_steps, agree_paths, band_paths = 256, 20, 512, 64
    scenarios = {"baseline": preset("baseline"), "combined": preset("combined")}
    coef = {k: step_coefficients(params, sc.resolve(n_steps), 1 / 365) for k, sc in scenarios.items()}

    for dtype in ("float64", "float32"):
        t0 = time.perf_counter()
        try:
            simulate(params, 256 if args.dry_run else 4_096, n_steps=n_steps, seed=0, backend="cuda", dtype=dtype)
        except Exception as exc:  # typically no NVVM / toolkit: say so and stop
            fail(f"the CUDA kernel did not compile or run ({type(exc).__name__}: {exc})", 3)
        regs = None
        try:
            regs = cuda_backend._path_kernel(dtype).get_regs_per_thread()
        except Exception:  # older numba-cuda or several signatures: informational only
            pass
        emit(check="compile", dtype=dtype, seconds=time.perf_counter() - t0, regs_per_thread=regs)

    rates: dict[tuple[str, str], float] = {}
    kernel_rates: dict[tuple[str, str], float] = {}
    results = {}
    for name, c in coef.items():
        for dtype in ("float64", "float32"):
            best_kernel, best_backend = math.inf, math.inf
            for _ in range(3):
                tm: dict[str, float] = {}
                t0 = time.perf_counter()
                cuda_backend.simulate_cuda(c, n_big, 1.0, 1, band_paths, dtype=dtype, timings=tm)
                best_backend = min(best_backend, time.perf_counter() - t0)
                best_kernel = min(best_kernel, tm["kernel_s"])
            ps = n_big * n_steps
            t0 = time.perf_counter()
            # independent seeds per precision: with one seed, both would draw from the same Philox words
            r = simulate(params, n_big, n_steps=n_steps, seed=2 if dtype == "float64" else 3, backend="cuda",
                         scenario=scenarios[name], dtype=dtype)
            e2e = time.perf_counter() - t0
            results[(name, dtype)] = r
            rates[(name, dtype)] = ps / best_backend
            kernel_rates[(name, dtype)] = ps / best_kernel
            goal = GOAL_F64 if dtype == "float64" else GOAL_F32
            emit(check="throughput", scenario=name, dtype=dtype, n_paths=n_big, n_steps=n_steps,
                 kernel_s=best_kernel, kernel_path_steps_per_s=ps / best_kernel,
                 backend_s=best_backend, backend_path_steps_per_s=ps / best_backend,
                 end_to_end_s=e2e, end_to_end_path_steps_per_s=ps / e2e, goal=goal,
                 kernel_meets_goal=ps / best_kernel >= goal, mean_terminal=r.stats["mean_terminal"],
                 p_terminal_below_098=r.stats["p_terminal_below_0.98"])

    torch_ratios = {}
    if torch is None or not torch.cuda.is_available():
        emit(check="torch", skipped="PyTorch with CUDA is not installed here: no comparison on the same GPU")
    else:
        from riskcore.peg.torch_backend import simulate_torch

        for name, c in coef.items():
            for dtype in ("float64", "float32"):
                simulate_torch(c, 1_000 if args.dry_run else 100_000, 1.0, 0, 0, device="cuda", dtype=dtype)  # warm-up
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                simulate_torch(c, n_big, 1.0, 1, band_paths, device="cuda", dtype=dtype)
                torch.cuda.synchronize()
                t = time.perf_counter() - t0
                ratio = rates[(name, dtype)] / (n_big * n_steps / t)
                torch_ratios[(name, dtype)] = ratio
                emit(check="torch", scenario=name, dtype=dtype, n_paths=n_big, seconds=t,
                     path_steps_per_s=n_big * n_steps / t, cuda_over_torch=ratio, goal=GOAL_TORCH_RATIO,
                     meets_goal=ratio >= GOAL_TORCH_RATIO)

    keys = ("mean_terminal", "p_terminal_below_0.98", "p_min_below_0.95", "p_depeg", "expected_days_below_0.98",
            "mean_drawdown", "mean_days_to_recover")
    for name in coef:
        a, b = results[(name, "float64")], results[(name, "float32")]
        z = {k: (b.stats[k] - a.stats[k]) / math.hypot(a.std_errors[k], b.std_errors[k]) for k in keys
             if math.hypot(a.std_errors[k], b.std_errors[k]) > 0}
        emit(check="float32_effect", scenario=name, n_paths=n_big, ks_terminal=stats.ks_2samp(a.terminal, b.terminal)
             .statistic, diff_over_se=z, var_99_f64=a.stats["var_99"], var_99_f32=b.stats["var_99"],
             max_abs_diff_over_se=max(abs(v) for v in z.values()))

    agree_ok = True
    ref = simulate(params, agree_paths, n_steps=n_steps, seed=11, scenario=scenarios["combined"])
    for dtype in ("float64", "float32"):
        r = simulate(params, agree_paths, n_steps=n_steps, seed=12, scenario=scenarios["combined"], backend="cuda",
                     dtype=dtype)
        ks_t = stats.ks_2samp(ref.terminal, r.terminal)
        ks_m = stats.ks_2samp(ref.min_price, r.min_price)
        z = {k: (r.stats[k] - ref.stats[k]) / math.hypot(ref.std_errors[k], r.std_errors[k]) for k in keys
             if math.hypot(ref.std_errors[k], r.std_errors[k]) > 0}
        ok = ks_t.pvalue > 1e-3 and ks_m.pvalue > 1e-3 and all(abs(v) < 4 for v in z.values())
        agree_ok &= ok
        emit(check="agreement", versus="numba", scenario="combined", dtype=dtype, n_paths=agree_paths,
             ks_terminal=ks_t.statistic, ks_terminal_p=ks_t.pvalue, ks_min=ks_m.statistic, ks_min_p=ks_m.pvalue,
             diff_over_se=z, ok=ok)

    emit(check="summary", n_paths=n_big,
         float64_backend_path_steps_per_s=min(rates[(n, "float64")] for n in coef),
         float32_backend_path_steps_per_s=min(rates[(n, "float32")] for n in coef),
         goal_float64=GOAL_F64, goal_float32=GOAL_F32,
         float64_meets_goal=all(rates[(n, "float64")] >= GOAL_F64 for n in coef),
         float32_meets_goal=all(rates[(n, "float32")] >= GOAL_F32 for n in coef),
         torch_ratio_min=min(torch_ratios.values()) if torch_ratios else None,
         torch_meets_goal=all(v >= GOAL_TORCH_RATIO for v in torch_ratios.values()) if torch_ratios else None,
         float64_kernel_path_steps_per_s=min(kernel_rates[(n, "float64")] for n in coef),
         float32_kernel_path_steps_per_s=min(kernel_rates[(n, "float32")] for n in coef),
         agreement_ok=agree_ok)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
