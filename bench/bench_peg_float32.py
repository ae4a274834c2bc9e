"""Effect of float32 arithmetic on the peg statistics (issue 15). Run: ``python bench/bench_peg_float32.py``.

The CUDA backend's float32 mode changes two things: the arithmetic of the step and the
random-number conversion (23-bit uniforms, Box-Muller normals truncated at 5.8 sigma,
probability 8e-9 per draw; see :mod:`riskcore.peg.philox`). This measures the first
exactly, on the CPU, by common random numbers: the single-source step of
:mod:`riskcore.peg.kernels` (the very functions the CUDA kernel compiles) is compiled
here for float32 and float64 and driven by the *same* normals and jump draws, path by
path, so every difference is rounding. Printed: per-path terminal differences, paths
whose de-peg / recovery step changed, and each statistic's float32 - float64 difference
in units of its Monte Carlo standard error (what a user would compare it against).
``bench/gpu_check.py`` measures the whole effect (arithmetic and generator) on a GPU.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from riskcore.params import ModelParameters  # noqa: E402
from riskcore.peg import kernels  # noqa: E402
from riskcore.peg.model import step_coefficients  # noqa: E402
from riskcore.peg.montecarlo import peg_statistics  # noqa: E402
from riskcore.peg.scenarios import preset  # noqa: E402

_diffuse = numba.njit(kernels.diffuse_src)
_floor_shock = numba.njit(kernels.floor_shock_src)
_track = numba.njit(kernels.track_src)


@numba.njit
def _paths(seed, p0, decay, support, vol, shock, alpha, dt, q, jump_mu, jump_sigma, levels, scratch, terminal,
           minp_out, below_out, breach_out, recov_out):
    np.random.seed(seed)
    n_steps = decay.shape[0]
    for k in range(terminal.shape[0]):
        p = p0
        minp = p0
        below = 0
        breach = -1
        recov = -1
        for t in range(n_steps):
            z = np.random.standard_normal()
            u = np.random.random()
            zj = np.random.standard_normal()  # always drawn: both precisions read the same stream
            scratch[0] = z  # rounded to the run's precision, as the kernel's own normals are
            scratch[1] = zj
            pn = _diffuse(p, scratch[0], decay[t], support[t], vol[t], alpha, dt, levels)
            if u < q:
                pn += jump_mu + jump_sigma * scratch[1]
            p = _floor_shock(pn, shock[t], levels)
            minp, below, breach, recov = _track(p, t + 1, minp, below, breach, recov, levels[2])
        terminal[k] = p
        minp_out[k] = minp
        below_out[k] = below
        breach_out[k] = breach
        recov_out[k] = recov


def run(c, n: int, dtype, seed: int = 7) -> tuple[np.ndarray, ...]:
    f = dtype
    out = (np.empty(n, f), np.empty(n, f), np.empty(n, np.int32), np.empty(n, np.int32), np.empty(n, np.int32))
    _paths(seed, f(1.0), c.decay.astype(f), c.support.astype(f), c.vol_sqrt_dt.astype(f), c.shock_factor.astype(f),
           f(c.alpha), f(c.dt), c.p_jump, f(c.jump_mu), f(c.jump_sigma), tuple(f(v) for v in kernels.LEVELS),
           np.empty(2, f), *out)
    return tuple(o.astype(np.float64) if o.dtype.kind == "f" else o for o in out)


def main(argv: list[str] | None = None) -> dict[str, float]:
    n = 20_000 if argv and "--quick" in argv else 200_000
    params = ModelParameters()
    res: dict[str, float] = {}
    print(f"float32 vs float64 arithmetic of the single-source step, {n:,} paths x 365 steps, common random numbers")
    for name in ("baseline", "combined"):
        c = step_coefficients(params, preset(name).resolve(365), 1 / 365)
        t0 = time.perf_counter()
        a = run(c, n, np.float64)
        b = run(c, n, np.float32)
        elapsed = time.perf_counter() - t0
        d = np.abs(b[0] - a[0])
        sa, ea = peg_statistics(*a, 1.0, 1 / 365)
        sb, eb = peg_statistics(*b, 1.0, 1 / 365)
        z = {k: (sb[k] - sa[k]) / ea[k] for k in sa if isinstance(ea[k], float) and ea[k] > 0 and math.isfinite(ea[k])}
        worst = max(z, key=lambda k: abs(z[k]))
        changed = int(np.count_nonzero((a[3] != b[3]) | (a[4] != b[4])))
        res[f"{name}_max_abs_z"] = abs(z[worst])
        res[f"{name}_mean_abs_dterminal"] = float(d.mean())
        print(f"{name}: |p_T(f32) - p_T(f64)| mean {d.mean():.2e}, 99.9 % {np.quantile(d, 0.999):.2e}, "
              f"max {d.max():.2e}"
              f" (terminal sd {a[0].std():.4f}); de-peg or recovery step changed in {changed} of {n:,} paths; "
              f"largest statistic difference {worst} = {z[worst]:+.2e} SE; "
              f"VaR 99 % {sa['var_99']:.5f} vs {sb['var_99']:.5f} ({elapsed:.1f} s)")
        for k in ("mean_terminal", "p_terminal_below_0.98", "p_depeg", "expected_days_below_0.98", "mean_drawdown"):
            print(f"    {k}: float64 {sa[k]:.6f}, float32 {sb[k]:.6f}, difference {z.get(k, math.nan):+.2e} SE")
    return res


if __name__ == "__main__":
    main(sys.argv[1:])
