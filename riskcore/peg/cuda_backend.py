"""CUDA backend of the peg Monte Carlo: one fused kernel, one thread per path.

Design
------
**One kernel per chunk of paths.** Each CUDA thread runs one whole path through all
steps with its state (price, minimum, counters, jump clock) in registers; the only
global-memory traffic per step is the broadcast read of the step's coefficients
(the scenario inputs -- decay, support, vol sqrt(dt), shock factor per step -- are
device arrays) and, for the first ``n_record`` paths only, the recorded price. Per
path the kernel writes the terminal price, minimum, steps below 0.98, first breach and
first recovery (as the Numba kernel does); per step it reduces the price and its
square over the block's paths on the chip (below); only those outputs, the recorded
sample paths and two rows of per-step sums are copied back.

**The model step is the Numba kernel's.** The kernel calls
:func:`riskcore.peg.kernels.diffuse_src`, :func:`~riskcore.peg.kernels.floor_shock_src`,
:func:`~riskcore.peg.kernels.track_src` and :func:`~riskcore.peg.kernels.jump_gap_src`
compiled here as device functions (``numba.cuda.jit(device=True)``) from the very
Python functions that :mod:`riskcore.peg.kernels` compiles with ``numba.njit``: the
step exists once. The levels (peg, bands, floor) are kernel arguments in the kernel's
precision, so a disk-cached kernel never holds stale constants.

**Random numbers: counter-based.** Philox4x32-10 (:mod:`riskcore.peg.philox`) keyed by
the seed (``k0, k1`` = its low and high 32 bits), with counter ``(i, path_lo, path_hi,
stream)``: stream 0 gives the diffusion normals (Box-Muller; call ``i`` covers steps
``2i, 2i + 1`` in float64 and ``4i .. 4i + 3`` in float32; one seed in both precisions
reads the same words, so compare precisions on different seeds), stream 1 the uniform of
the ``i``-th jump gap, stream 2 the normal of the ``i``-th jump size. Every number is
a pure function of (seed, global path index, step or jump index), so any split of the
paths into launches, blocks or threads gives the same numbers. Jumps are drawn as in
the Numba kernel: geometric gaps ``ceil(-ln u / (lambda dt))`` between jump steps, at
most one jump per step (SPEC §1). The numbers differ from the Numba kernel's
(xoroshiro + ziggurat); the distribution is the same (tested by KS and moments).

**Per-step sums, deterministic.** A block of :data:`TPB` threads stores its prices for
:data:`TILE` steps in shared memory (padded rows: no bank conflicts), then sums each
step's column in a fixed order (float64, whatever the kernel's precision) into one row
of a run-wide ``(n_paths / TPB, n_steps + 1)`` array. A tree of fixed-order group sums
(:data:`GROUP` rows at a time) then reduces the rows on the device to one. The tree
depends only on the number of paths, so the sums -- like every per-path number -- are
bit-identical for any chunking (chunks are whole blocks of :data:`TPB` paths).

**Precision.** float64 by default. ``dtype="float32"`` runs the price, the
coefficients, the Philox-to-uniform conversion (23 bits) and Box-Muller in float32
(normals truncated at 5.8 sigma, probability 8e-9 per draw) and keeps the per-step
sums in float64. Measured effect on the statistics (float32 spacing near 1.0 is 1.2e-7,
against daily increments of ~1e-3):

- arithmetic alone, by common random numbers on the CPU with this same step
  (``bench/bench_peg_float32.py``, 200,000 paths x 365, default parameters):
  terminal prices differ by 4.5e-7 on average (max 4.3e-6; terminal sd 0.021), the
  de-peg or recovery step moved in 50 of 200,000 paths (baseline) and 0 (``combined``),
  and no statistic moved by more than 0.03 of its standard error (VaR 99 % equal to
  5 digits);
- arithmetic and generator together, under the simulator (1,024 paths x 30 steps,
  frequent jumps, mixed stress): float32 against numba KS p = 0.85, against float64
  KS p = 0.36, every statistic within 1.2 standard errors; on a GPU,
  ``bench/gpu_check.py`` repeats this on 10,000,000 and 100,000 paths.

float32 is therefore a throughput option with no visible effect at any Monte Carlo
error reachable in practice; float64 stays the default because it costs little on
data-centre GPUs and keeps the numbers comparable with the CPU backends.

Availability
------------
:func:`cuda_status` says whether a CUDA device (or Numba's CUDA simulator,
``NUMBA_ENABLE_CUDASIM=1``, read by Numba at import) is usable; :func:`simulate_cuda`
raises :class:`~riskcore.errors.InputError` naming the reason when it is not.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable

import numba
import numpy as np
from numba import cuda

from riskcore.errors import InputError
from riskcore.peg import kernels, philox
from riskcore.peg.gpu import cuda_possible
from riskcore.peg.model import PathStats, StepCoefficients

__all__ = ["simulate_cuda", "cuda_status", "DTYPES", "TPB", "TILE", "GROUP", "DEFAULT_CHUNK_PATHS"]

#: threads (paths) per CUDA block; chunks of paths are whole blocks
TPB = 128
#: steps per shared-memory reduction tile
TILE = 16
#: rows per fixed-order group sum in the reduction tree of the per-step sums
GROUP = 32
#: paths per launch (progress granularity), a multiple of TPB: 10,000,000 paths are one launch (about
#: 280 MB of per-path output on the device, 4 waves of 16 blocks per SM on a 132-SM chip)
DEFAULT_CHUNK_PATHS = 1 << 24
#: supported precisions
DTYPES = ("float64", "float32")
#: Philox rounds
ROUNDS = 10
STREAM_DIFFUSION = np.uint64(0)
STREAM_GAP = np.uint64(1)
STREAM_JUMP = np.uint64(2)

_BUF_COLS = TILE + 1         # padded tile row: conflict-free banks (a plain constant: shared shapes must be)
_NGROUP = TPB // TILE        # row groups of the first reduction phase
_ROWS = TPB // _NGROUP       # rows (paths) per group
_MASK32 = philox.MASK32
_S32 = np.uint64(32)
_F64 = np.float64
_M2_64, _TWOPI_64 = np.float64(-2.0), np.float64(2.0 * math.pi)
_M2_32, _TWOPI_32 = np.float32(-2.0), np.float32(2.0 * math.pi)


@functools.lru_cache(maxsize=1)
def cuda_status() -> tuple[bool, str]:
    """``(usable, description)``: a CUDA GPU, Numba's CUDA simulator, or why neither is there."""
    if numba.config.ENABLE_CUDASIM:
        return True, "Numba CUDA simulator (NUMBA_ENABLE_CUDASIM=1)"
    maybe, why = cuda_possible()
    if not maybe:
        return False, why
    try:
        if not cuda.is_available():
            return False, "no CUDA GPU or driver was found (numba.cuda.is_available() is False)"
        name = cuda.get_current_device().name
        return True, name.decode() if isinstance(name, bytes) else str(name)
    except Exception as exc:  # driver present but broken: say so instead of a traceback
        return False, f"the CUDA driver is not usable ({type(exc).__name__}: {exc})"


def simulator_active() -> bool:
    """True when Numba runs CUDA kernels in its Python simulator (no GPU involved)."""
    return bool(numba.config.ENABLE_CUDASIM)


# ---- device functions: the shared step (riskcore.peg.kernels) and the generator ------------

_DEV_KW: dict = {"device": True} if simulator_active() else {"device": True, "forceinline": True}
_diffuse = cuda.jit(**_DEV_KW)(kernels.diffuse_src)
_floor_shock = cuda.jit(**_DEV_KW)(kernels.floor_shock_src)
_track = cuda.jit(**_DEV_KW)(kernels.track_src)
_jump_gap = cuda.jit(**_DEV_KW)(kernels.jump_gap_src)
_philox = cuda.jit(**_DEV_KW)(philox.philox_rounds_src)
_uniform52 = cuda.jit(**_DEV_KW)(philox.uniform52_src)
_uniform23 = cuda.jit(**_DEV_KW)(philox.uniform23_src)
_box_muller = cuda.jit(**_DEV_KW)(philox.box_muller_src)


@cuda.jit(**_DEV_KW)
def _normals64(k0, k1, lo, hi, i):
    """Diffusion normals of steps 2i, 2i + 1 (float64)."""
    w0, w1, w2, w3 = _philox(np.uint64(i), lo, hi, STREAM_DIFFUSION, k0, k1, ROUNDS)
    a, b = _box_muller(_uniform52(w0, w1), _uniform52(w2, w3), _M2_64, _TWOPI_64)
    return a, b, a, b


@cuda.jit(**_DEV_KW)
def _normals32(k0, k1, lo, hi, i):
    """Diffusion normals of steps 4i .. 4i + 3 (float32)."""
    w0, w1, w2, w3 = _philox(np.uint64(i), lo, hi, STREAM_DIFFUSION, k0, k1, ROUNDS)
    a, b = _box_muller(_uniform23(w0), _uniform23(w1), _M2_32, _TWOPI_32)
    c, d = _box_muller(_uniform23(w2), _uniform23(w3), _M2_32, _TWOPI_32)
    return a, b, c, d


@cuda.jit(**_DEV_KW)
def _gap_uniform64(k0, k1, lo, hi, i):
    w0, w1, w2, w3 = _philox(np.uint64(i), lo, hi, STREAM_GAP, k0, k1, ROUNDS)
    return _uniform52(w0, w1)


@cuda.jit(**_DEV_KW)
def _gap_uniform32(k0, k1, lo, hi, i):
    w0, w1, w2, w3 = _philox(np.uint64(i), lo, hi, STREAM_GAP, k0, k1, ROUNDS)
    return _uniform23(w0)


@cuda.jit(**_DEV_KW)
def _jump_normal64(k0, k1, lo, hi, i):
    w0, w1, w2, w3 = _philox(np.uint64(i), lo, hi, STREAM_JUMP, k0, k1, ROUNDS)
    a, b = _box_muller(_uniform52(w0, w1), _uniform52(w2, w3), _M2_64, _TWOPI_64)
    return a


@cuda.jit(**_DEV_KW)
def _jump_normal32(k0, k1, lo, hi, i):
    w0, w1, w2, w3 = _philox(np.uint64(i), lo, hi, STREAM_JUMP, k0, k1, ROUNDS)
    a, b = _box_muller(_uniform23(w0), _uniform23(w1), _M2_32, _TWOPI_32)
    return a


def _make_path_kernel(fdtype, npc, normals, gap_uniform, jump_normal):
    """The path kernel for one precision (``npc`` diffusion normals per Philox call)."""

    def paths(k0, k1, path0, n_local, n_rec, p0, decay, support, vol, shock, alpha, dt, rate_dt, jump_mu,
              jump_sigma, levels, terminal, min_price, steps_below, first_breach, recovery, part_sum, part_sumsq,
              rec_t):
        tid = cuda.threadIdx.x
        k = cuda.blockIdx.x * TPB + tid          # path within the chunk
        row = path0 // TPB + cuda.blockIdx.x     # run-wide block row of the per-step sums
        g = np.uint64(path0 + k)                 # run-wide path index: the Philox counter
        lo = g & _MASK32
        hi = g >> _S32
        active = k < n_local
        buf = cuda.shared.array((TPB, _BUF_COLS), fdtype)
        psum = cuda.shared.array((_NGROUP, TILE), _F64)
        psq = cuda.shared.array((_NGROUP, TILE), _F64)
        n_steps = decay.shape[0]
        zero = p0 - p0
        depeg = levels[2]
        n_jumps = 0
        next_jump = n_steps + 1
        if rate_dt > zero:
            next_jump = _jump_gap(gap_uniform(k0, k1, lo, hi, 0), rate_dt, n_steps)
        p = p0
        minp = p0
        below = 0
        breach = -1
        recov = -1
        z0 = zero
        z1 = zero
        z2 = zero
        z3 = zero
        for step in range(n_steps + 1):
            if step > 0:
                t = step - 1
                j = t % npc
                if j == 0:
                    z0, z1, z2, z3 = normals(k0, k1, lo, hi, t // npc)
                z = z0 if j == 0 else (z1 if j == 1 else (z2 if j == 2 else z3))
                pn = _diffuse(p, z, decay[t], support[t], vol[t], alpha, dt, levels)
                if step == next_jump:
                    pn += jump_mu + jump_sigma * jump_normal(k0, k1, lo, hi, n_jumps)
                    n_jumps += 1
                    next_jump += _jump_gap(gap_uniform(k0, k1, lo, hi, n_jumps), rate_dt, n_steps)
                p = _floor_shock(pn, shock[t], levels)
                minp, below, breach, recov = _track(p, step, minp, below, breach, recov, depeg)
            slot = step % TILE
            buf[tid, slot] = p if active else zero
            if k < n_rec:
                rec_t[step, k] = p
            if slot == TILE - 1 or step == n_steps:  # same for every thread of the block: no divergent barrier
                cuda.syncthreads()
                c = tid % TILE
                grp = tid // TILE
                s = 0.0
                q = 0.0
                for r in range(grp * _ROWS, grp * _ROWS + _ROWS):
                    v = np.float64(buf[r, c])
                    s += v
                    q += v * v
                psum[grp, c] = s
                psq[grp, c] = q
                cuda.syncthreads()
                col = step - slot + tid
                if tid < TILE and col <= n_steps:
                    s = 0.0
                    q = 0.0
                    for r in range(_NGROUP):
                        s += psum[r, tid]
                        q += psq[r, tid]
                    part_sum[row, col] = s
                    part_sumsq[row, col] = q
                # no third barrier: buf is next written after every thread passed the second one, and psum is
                # next written after the next tile's first barrier, which the summing threads reach last
        if active:
            terminal[k] = p
            min_price[k] = minp
            steps_below[k] = below
            first_breach[k] = breach
            recovery[k] = recov

    # not disk-cached: two precisions share this closure's qualified name; compiling takes seconds per process
    return cuda.jit(paths)


@cuda.jit
def _group_sum(src, dst, group):
    """dst[r, c] = sum of src[r * group + i, c], i = 0 .. group - 1, in that order."""
    c, r = cuda.grid(2)
    if r < dst.shape[0] and c < dst.shape[1]:
        s = 0.0
        stop = min(r * group + group, src.shape[0])
        for i in range(r * group, stop):
            s += src[i, c]
        dst[r, c] = s


@functools.cache
def _path_kernel(dtype: str):
    if dtype == "float32":
        return _make_path_kernel(np.float32, 4, _normals32, _gap_uniform32, _jump_normal32)
    return _make_path_kernel(np.float64, 2, _normals64, _gap_uniform64, _jump_normal64)


def _reduce_rows(d_src):
    """Fixed-order tree of :data:`GROUP`-row sums on the device down to one row; returns it on the host."""
    cur = d_src
    while cur.shape[0] > 1:
        rows = -(-cur.shape[0] // GROUP)
        nxt = cuda.device_array((rows, cur.shape[1]), dtype=np.float64)
        threads = (32, 8)
        blocks = (-(-cur.shape[1] // threads[0]), -(-rows // threads[1]))
        _group_sum[blocks, threads](cur, nxt, np.int64(GROUP))
        cur = nxt
    return cur.copy_to_host()[0]


def check_dtype(dtype: object) -> str:
    """Normalise a precision argument to ``"float64"`` or ``"float32"``."""
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = str(dtype)
    if name not in DTYPES:
        raise InputError("dtype", f"must be one of {', '.join(DTYPES)}", value=dtype)
    return name


def simulate_cuda(c: StepCoefficients, n_paths: int, p0: float, seed: int, n_record: int,
                  progress: Callable[[float], None] | None = None, dtype: str = "float64",
                  chunk_paths: int | None = None, timings: dict[str, float] | None = None) -> PathStats:
    """Simulate ``n_paths`` paths with the fused CUDA kernel (see the module docstring).

    Parameters
    ----------
    c : StepCoefficients
    n_paths : int
    p0 : float
        Initial price.
    seed : int
        Run seed (the Philox key).
    n_record : int
        The first ``n_record`` paths are returned in full.
    progress : callable, optional
        Called with the fraction done after each launch.
    dtype : {"float64", "float32"}
        Precision of the price and the random numbers (per-step sums are always float64).
    chunk_paths : int, optional
        Paths per launch, rounded up to whole blocks of :data:`TPB`; default
        :data:`DEFAULT_CHUNK_PATHS`. The numbers do not depend on it.
    timings : dict, optional
        When given, receives ``kernel_s`` (the path kernels alone, synchronised around each
        launch), ``copy_s`` (device-to-host copies) and ``reduce_s`` (the per-step sum tree):
        for benchmarks; costs one synchronisation per launch.

    Returns
    -------
    PathStats
        float64 arrays whatever ``dtype``.

    Raises
    ------
    InputError
        When no CUDA device (nor the simulator) is usable, or ``dtype`` is not supported.
    """
    ok, why = cuda_status()
    if not ok:
        raise InputError("backend", f"'cuda' needs a CUDA GPU: {why}; use 'numba' or 'torch'", value="cuda")
    dtype = check_dtype(dtype)
    fdt = np.float32 if dtype == "float32" else np.float64
    kernel = _path_kernel(dtype)
    n_steps = c.n_steps
    per = DEFAULT_CHUNK_PATHS if chunk_paths is None else max(1, int(chunk_paths))
    per = -(-per // TPB) * TPB
    k0, k1 = philox.split_key(seed)
    levels = tuple(fdt(v) for v in kernels.LEVELS)
    d_coef = [cuda.to_device(np.ascontiguousarray(a, dtype=fdt)) for a in (c.decay, c.support, c.vol_sqrt_dt,
                                                                           c.shock_factor)]
    scalars = [fdt(v) for v in (p0, c.alpha, c.dt, c.jump_rate_dt, c.jump_mu, c.jump_sigma)]
    n_rows = -(-n_paths // TPB)
    d_sum = cuda.device_array((n_rows, n_steps + 1), dtype=np.float64)
    d_sumsq = cuda.device_array((n_rows, n_steps + 1), dtype=np.float64)

    terminal = np.empty(n_paths)
    min_price = np.empty(n_paths)
    steps_below = np.empty(n_paths, np.int32)
    first_breach = np.empty(n_paths, np.int32)
    recovery = np.empty(n_paths, np.int32)
    recorded = np.empty((n_record, n_steps + 1))
    chunks = [(s, min(s + per, n_paths)) for s in range(0, n_paths, per)]
    dev_out: dict[int, tuple] = {}
    for ci, (start, stop) in enumerate(chunks):
        m = stop - start
        rec = max(0, min(n_record - start, m))
        if m not in dev_out:  # reuse the buffers of equal-sized chunks
            dev_out[m] = (cuda.device_array(m, dtype=fdt), cuda.device_array(m, dtype=fdt),
                          cuda.device_array(m, dtype=np.int32), cuda.device_array(m, dtype=np.int32),
                          cuda.device_array(m, dtype=np.int32))
        d_term, d_min, d_below, d_breach, d_recov = dev_out[m]
        d_rec = cuda.device_array((n_steps + 1, max(rec, 1)), dtype=fdt)
        blocks = -(-m // TPB)
        if timings is not None:
            cuda.synchronize()
            t0 = time.perf_counter()
        kernel[blocks, TPB](k0, k1, np.int64(start), np.int64(m), np.int64(rec), scalars[0], *d_coef, *scalars[1:],
                            levels, d_term, d_min, d_below, d_breach, d_recov, d_sum, d_sumsq, d_rec)
        if timings is not None:
            cuda.synchronize()
            t1 = time.perf_counter()
            timings["kernel_s"] = timings.get("kernel_s", 0.0) + t1 - t0
        terminal[start:stop] = d_term.copy_to_host()
        min_price[start:stop] = d_min.copy_to_host()
        steps_below[start:stop] = d_below.copy_to_host()
        first_breach[start:stop] = d_breach.copy_to_host()
        recovery[start:stop] = d_recov.copy_to_host()
        if rec:
            recorded[start:start + rec] = d_rec.copy_to_host()[:, :rec].T
        if timings is not None:
            timings["copy_s"] = timings.get("copy_s", 0.0) + time.perf_counter() - t1
        if progress is not None:
            progress((ci + 1) / len(chunks))
    t2 = time.perf_counter()
    step_sum = _reduce_rows(d_sum)
    step_sumsq = _reduce_rows(d_sumsq)
    if timings is not None:
        timings["reduce_s"] = time.perf_counter() - t2
    return PathStats(terminal, min_price, steps_below, first_breach, recovery, step_sum, step_sumsq, recorded)
