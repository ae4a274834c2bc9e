"""The Numba path kernel: the production implementation of the SPEC §1 step.

Design
------
**Parallelism.** Paths are independent. They are grouped in fixed blocks of
:data:`BLOCK` consecutive paths, and each block owns one row of the per-step sum
arrays. The kernel :func:`simulate_paths_serial` is compiled ``nogil``: callers run
block-aligned chunks of paths on several threads at once (the ``numba`` backend gives
each of ``numba.get_num_threads()`` threads one range, so a thread returns to Python
once; Dask workers use their own threads or processes), and no two chunks ever write
the same memory, so no atomics or reductions across threads are needed. Progress and
cancellation go through two small arrays the kernel writes and reads after each block.
A ``prange`` version of the same loop was measured slower on this kind of machine (148
vs 255 M path-steps/s on 2 cores in one run) and was dropped. The step exists once.

**Single source with the GPU.** The model step is :func:`diffuse_src` (drift and
diffusion), the jump added by the caller, then :func:`floor_shock_src` (floor and
scheduled shock); :func:`track_src` updates the per-path statistics and
:func:`jump_gap_src` turns a uniform into the steps to the next jump. They are plain
Python compiled twice: here with ``numba.njit`` (inlined into the kernel, bit-identical
to the former hand-written loop and as fast), and by :mod:`riskcore.peg.cuda_backend` as
CUDA device functions. The levels 1.0 / 1.02 / 0.98 / 0.01 are
:mod:`riskcore.peg.model`'s constants (:data:`LEVELS`); no literal copy is left here.

**Disk cache.** Every function here is ``cache=True``: a new process (a server start, a
Dask worker) loads the machine code from ``__pycache__`` instead of compiling (tested in
``tests/peg/test_peg_cuda.py``); :func:`_check_cache` drops the cache if it was built
against other levels.

**Random numbers: one stream per path.** Path ``i`` (global index, counted from the
first path of the whole run, not of the chunk) draws from its own xoroshiro128++
generator whose 128-bit state is produced by SplitMix64 from ``(seed, i)``:
``k = splitmix64(seed)``, ``s0 = splitmix64(k + (i + 1) * phi)``,
``s1 = splitmix64(s0 ^ k ^ phi2)``, where ``phi``, ``phi2`` are odd 64-bit constants
(SplitMix64 is a bijective avalanche mixer, so distinct paths get unrelated
states). A path's numbers therefore depend only on the seed and its index: any
chunking of the paths into Dask tasks, any thread count and any block schedule
give bit-identical prices. xoroshiro128++ (Blackman & Vigna 2019) passes BigCrush
and costs about a nanosecond per 64-bit draw; the chance that two of 1e7 streams of
~1e3 draws overlap in a period of 2**128 - 1 is below 1e-25.

**Normals** come from a 256-layer ziggurat (Marsaglia & Tsang 2000, in Doornik's
2005 form, which uses a fresh uniform for the wedge test and so avoids the
correlation defect of the original): one 64-bit draw gives the layer (low 8 bits)
and a signed 53-bit uniform (high bits); about 99 % of normals cost one draw, one
compare and one multiply. The tail beyond ``r`` uses Marsaglia's exact exponential
method. The result is an exact N(0, 1) sampler (tested by KS and moments).

**Jumps.** A jump happens in a step with probability ``q = 1 - exp(-lambda dt)``,
independently per step and at most once per step (SPEC §1). Instead of one uniform
per step, the kernel draws the gap to the next jump step, ``G = ceil(E / (lambda
dt))`` with ``E ~ Exp(1)``: ``P(G > k) = exp(-k lambda dt) = (1 - q)^k``, which is
exactly the geometric law of the waiting time of the Bernoulli steps. The step only
compares a counter; a jump costs one exponential and one normal.

**Memory.** Nothing of size ``n_paths x n_steps`` exists. The kernel keeps the price
in a register and writes per path: terminal price, minimum, steps below 0.98, first
breach and first recovery step (28 bytes); per block and step: sum and sum of
squares of the price; and the full path only for the first ``n_record`` paths
(quantile bands and sample paths). 10 million paths x 365 steps need about 280 MB of
per-path output plus 57 MB of block sums.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from riskcore.peg.model import LOWER_BAND, PEG, PRICE_FLOOR, UPPER_BAND

__all__ = ["BLOCK", "LEVELS", "simulate_paths_serial", "seed_key", "normal_samples", "diffuse_src", "floor_shock_src",
           "track_src",
           "jump_gap_src", "ZIG_X", "ZIG_RATIO"]

#: the price levels of SPEC §1 passed to every kernel: (peg, upper band, lower band = de-peg level, floor)
LEVELS: tuple[float, float, float, float] = (PEG, UPPER_BAND, LOWER_BAND, PRICE_FLOOR)

#: paths per block (unit of parallel work and of the per-step partial sums)
BLOCK = 1024

_U = np.uint64
_PHI = _U(0x9E3779B97F4A7C15)
_PHI2 = _U(0xD1B54A32D192ED03)
_M1 = _U(0xBF58476D1CE4E5B9)
_M2 = _U(0x94D049BB133111EB)
_S30, _S27, _S31 = _U(30), _U(27), _U(31)
_S11 = _U(11)
_MASK8 = _U(0xFF)
_R17, _L17 = _U(17), _U(47)
_R49, _L49 = _U(49), _U(15)
_R28, _L28 = _U(28), _U(36)
_S21 = _U(21)
_I10 = np.int64(10)
_TWO53_INV = 1.0 / 9007199254740992.0

# ---- ziggurat tables (256 layers) ------------------------------------------------------
_ZIG_N = 256
ZIG_R = 3.6541528853610088
_ZIG_V = 0.00492867323399


def _zig_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.empty(_ZIG_N + 1)
    f = np.exp(-0.5 * ZIG_R * ZIG_R)
    x[0] = _ZIG_V / f
    x[1] = ZIG_R
    for i in range(2, _ZIG_N):
        x[i] = math.sqrt(-2.0 * math.log(_ZIG_V / x[i - 1] + math.exp(-0.5 * x[i - 1] * x[i - 1])))
    x[_ZIG_N] = 0.0
    ratio = x[1:] / x[:-1]
    fx = np.exp(-0.5 * x * x)
    return x, ratio, fx


ZIG_X, ZIG_RATIO, ZIG_F = _zig_tables()


@numba.njit(cache=True, inline="always")
def _splitmix64(x):
    z = x + _PHI
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@numba.njit(cache=True, inline="always")
def _next(s0, s1):
    """xoroshiro128++: returns (output, s0, s1)."""
    a = s0 + s1
    out = ((a << _R17) | (a >> _L17)) + s0
    s1 = s1 ^ s0
    s0 = ((s0 << _R49) | (s0 >> _L49)) ^ s1 ^ (s1 << _S21)
    s1 = (s1 << _R28) | (s1 >> _L28)
    return out, s0, s1


@numba.njit(cache=True, inline="always")
def _uniform_pos(s0, s1):
    """Uniform on (0, 1] with 53 bits."""
    r, s0, s1 = _next(s0, s1)
    return (float(np.int64(r >> _S11)) + 1.0) * _TWO53_INV, s0, s1


@numba.njit(cache=True)
def _normal_slow(i, u, s0, s1):
    """Rest of the ziggurat after the rectangle test failed for layer ``i`` and signed uniform ``u``."""
    while True:
        if i == 0:  # tail beyond r (Marsaglia 1964)
            while True:
                u1, s0, s1 = _uniform_pos(s0, s1)
                u2, s0, s1 = _uniform_pos(s0, s1)
                a = -math.log(u1) / ZIG_R
                b = -math.log(u2)
                if b + b > a * a:
                    return (ZIG_R + a) if u > 0.0 else -(ZIG_R + a), s0, s1
        xx = u * ZIG_X[i]
        v, s0, s1 = _uniform_pos(s0, s1)
        if ZIG_F[i] + v * (ZIG_F[i + 1] - ZIG_F[i]) < math.exp(-0.5 * xx * xx):
            return xx, s0, s1
        # rejected: a fresh ziggurat draw
        r, s0, s1 = _next(s0, s1)
        i = np.int64(r & _MASK8)
        u = float(np.int64(r) >> _I10) * _TWO53_INV
        if abs(u) < ZIG_RATIO[i]:
            return u * ZIG_X[i], s0, s1


@numba.njit(cache=True, inline="always")
def _normal(s0, s1):
    """Standard normal by the 256-layer ziggurat: returns (z, s0, s1).

    One 64-bit draw: layer ``i`` = low 8 bits, signed uniform ``u`` in [-1, 1) = the top
    54 bits as a signed integer times 2**-53 (disjoint bits, so independent).
    """
    r, s0, s1 = _next(s0, s1)
    i = np.int64(r & _MASK8)
    u = float(np.int64(r) >> _I10) * _TWO53_INV
    if abs(u) < ZIG_RATIO[i]:
        return u * ZIG_X[i], s0, s1
    return _normal_slow(i, u, s0, s1)


@numba.njit(cache=True, inline="always")
def _path_state(key, index):
    s0 = _splitmix64(key + (_U(index) + _U(1)) * _PHI)
    s1 = _splitmix64(s0 ^ key ^ _PHI2)
    if s0 == _U(0) and s1 == _U(0):  # the one forbidden state of xoroshiro
        s1 = _PHI
    return s0, s1


# ---- the model step: single source for the CPU kernel and the CUDA kernel -----------------
# The functions ending in _src are plain Python in the subset that both numba.njit and
# numba.cuda.jit(device=True) compile: riskcore.peg.cuda_backend compiles these very
# functions as device functions, this module as inlined CPU functions. No float literal
# appears in them: the levels come in ``levels`` and the same source types as float32
# or float64 from its inputs. One step of SPEC §1 is
#     p' = floor_shock_src(diffuse_src(p, z, ...) + jump, shock_t, levels)
# with the jump added by the caller between the two: each backend draws it its own way,
# and keeping the (rare) jump branch out of the step keeps the CPU loop as fast as the
# hand-written one (a combined step(p, z, jump) measured 15-30 % slower on the CPU).


def diffuse_src(p, z, decay_t, support_t, vol_t, alpha, dt, levels):
    """Drift and diffusion of one step from price ``p`` (before the jump, floor and shock).

    ``z`` is the step's standard normal; ``decay_t``, ``support_t`` and ``vol_t``
    (= vol sqrt(dt)) the step's coefficients (:func:`riskcore.peg.model.step_coefficients`);
    ``levels = (peg, upper band, lower band, floor)`` (:data:`LEVELS`). Returns
    ``p + drift dt + vol_t z`` with ``drift = -alpha (p - peg) - decay_t [p > upper] + support_t [p < lower]``.
    """
    peg, upper, lower, floor = levels
    drift = -alpha * (p - peg)
    if p > upper:
        drift -= decay_t
    elif p < lower:
        drift += support_t
    return p + drift * dt + vol_t * z


def floor_shock_src(pn, shock_t, levels):
    """End of the step: ``max(floor, pn)``, then the shock ``max(floor, pn * shock_t)`` if ``shock_t != 1``."""
    floor = levels[3]
    if pn < floor:
        pn = floor
    if shock_t != 1:
        pn = max(floor, pn * shock_t)
    return pn


def track_src(p, step, minp, below, breach, recov, depeg):
    """Per-path statistics after step ``step`` (>= 1) at price ``p``: (min, steps below, first breach, recovery)."""
    if p < minp:
        minp = p
    if p < depeg:
        below += 1
        if breach < 0:
            breach = step
    elif breach >= 0 and recov < 0:
        recov = step
    return minp, below, breach, recov


def jump_gap_src(u, rate_dt, n_steps):
    """Steps to the next jump from a uniform ``u`` in (0, 1]: ceil(-ln(u) / rate_dt); n_steps + 1 means never."""
    x = -math.log(u) / rate_dt
    if x > n_steps + 1:
        return n_steps + 1
    return max(1, int(math.ceil(x)))


_diffuse = numba.njit(cache=True, inline="always")(diffuse_src)
_floor_shock = numba.njit(cache=True, inline="always")(floor_shock_src)
_track = numba.njit(cache=True, inline="always")(track_src)
_jump_gap = numba.njit(cache=True, inline="always")(jump_gap_src)


@numba.njit(cache=True, inline="always")
def _gap(rate_dt, n_steps, s0, s1):
    """Steps to the next jump: ceil(E / rate_dt), E ~ Exp(1); n_steps + 1 means never."""
    if rate_dt <= 0.0:
        return n_steps + 1, s0, s1
    u, s0, s1 = _uniform_pos(s0, s1)
    return np.int64(_jump_gap(u, rate_dt, n_steps)), s0, s1


def seed_key(seed: int) -> np.uint64:
    """The 64-bit key of a run seed (any Python int; reduced modulo 2**64)."""
    return np.uint64(int(seed) % (1 << 64))


def _paths_impl(key, path_offset, p0, decay, support, vol_sqrt_dt, shock_factor, alpha, dt, rate_dt,
                jump_mu, jump_sigma, n_record, terminal, min_price, steps_below, first_breach, recovery,
                block_sum, block_sumsq, recorded, done, cancel):
    """Simulate ``terminal.shape[0]`` paths; paths ``path_offset + k`` of the run.

    Inputs: ``key`` (uint64 from :func:`seed_key`), initial price ``p0``, per-step
    coefficient arrays (length ``n_steps``, see :func:`riskcore.peg.model.step_coefficients`),
    scalars. The step is :func:`diffuse_src`, the jump, :func:`floor_shock_src`; the levels are
    :data:`LEVELS`, frozen into the compiled code (as arguments they cost ~20 % here: the
    loop runs out of x86 registers), with :func:`_check_cache` guarding the disk cache.
    Outputs are written into the preallocated arrays: per path ``terminal``,
    ``min_price``, ``steps_below``, ``first_breach``, ``recovery`` (length n); per block
    ``block_sum``/``block_sumsq`` (n_blocks, n_steps + 1); ``recorded`` (n_record, n_steps + 1)
    for the local paths ``k < n_record``.

    Progress and cancellation without the GIL: after each block the kernel writes the
    number of blocks it has finished into ``done[0]`` (read by the caller's thread while
    it waits) and returns early when ``cancel[0]`` is non-zero (set by that thread on a
    cancel). Both are int64 arrays of length 1; a caller that wants neither passes zeros.
    """
    n = terminal.shape[0]
    n_steps = decay.shape[0]
    n_blocks = (n + BLOCK - 1) // BLOCK
    for b in range(n_blocks):
        start = b * BLOCK
        stop = min(start + BLOCK, n)
        for k in range(start, stop):
            s0, s1 = _path_state(key, path_offset + k)
            next_jump, s0, s1 = _gap(rate_dt, n_steps, s0, s1)
            p = p0
            minp = p0
            below = 0
            breach = -1
            recov = -1
            block_sum[b, 0] += p
            block_sumsq[b, 0] += p * p
            if k < n_record:
                recorded[k, 0] = p
            for t in range(n_steps):
                z, s0, s1 = _normal(s0, s1)
                pn = _diffuse(p, z, decay[t], support[t], vol_sqrt_dt[t], alpha, dt, LEVELS)
                step = t + 1
                if step == next_jump:
                    zj, s0, s1 = _normal(s0, s1)
                    pn += jump_mu + jump_sigma * zj
                    g, s0, s1 = _gap(rate_dt, n_steps, s0, s1)
                    next_jump += g
                p = _floor_shock(pn, shock_factor[t], LEVELS)
                minp, below, breach, recov = _track(p, step, minp, below, breach, recov, LEVELS[2])
                block_sum[b, step] += p
                block_sumsq[b, step] += p * p
                if k < n_record:
                    recorded[k, step] = p
            terminal[k] = p
            min_price[k] = minp
            steps_below[k] = below
            first_breach[k] = breach
            recovery[k] = recov
        done[0] = b + 1
        if cancel[0] != 0:
            return


simulate_paths_serial = numba.njit(cache=True, nogil=True)(_paths_impl)


@numba.njit(cache=True)
def _baked_levels():
    return LEVELS


def _check_cache() -> bool:
    """Drop the on-disk cache of the kernels if it was compiled against other :data:`LEVELS`.

    Numba's cache is keyed on this file's time stamp only, while the levels are defined in
    :mod:`riskcore.peg.model` and frozen into the machine code: an edit there would
    otherwise leave stale kernels in ``__pycache__``. Runs once at import (one cached
    call); returns True when the cache was flushed.
    """
    if _baked_levels() == LEVELS:
        return False
    for fn in (simulate_paths_serial, _baked_levels):
        fn._cache.flush()  # next compile misses the cache and writes a fresh entry
    _baked_levels.recompile()
    return True


_check_cache()


@numba.njit(cache=True)
def _normal_samples(key, index, n):
    s0, s1 = _path_state(key, index)
    out = np.empty(n)
    for i in range(n):
        out[i], s0, s1 = _normal(s0, s1)
    return out


def normal_samples(seed: int, n: int, stream: int = 0) -> np.ndarray:
    """``n`` draws of the kernel's normal generator from stream ``stream`` (for tests)."""
    return _normal_samples(seed_key(seed), int(stream), int(n))
