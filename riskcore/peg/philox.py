"""Philox4x32-10, a counter-based random number generator, written once for CPU and GPU.

Philox4x32-R (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2,
3", SC'11; the Random123 library) maps a 128-bit counter ``(c0, c1, c2, c3)`` and a
64-bit key ``(k0, k1)`` to four 32-bit words by ``R`` rounds of

``(c0, c1, c2, c3) <- (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1, lo(M0 c0))``

with ``M0 = 0xD2511F53``, ``M1 = 0xCD9E8D57`` and the key bumped by the Weyl constants
``(0x9E3779B9, 0xBB67AE85)`` between rounds. It has no state: any output is a pure
function of (counter, key), so a GPU thread can draw the numbers of any path and step
directly, and any split of the paths over threads, blocks or launches gives the same
numbers. Ten rounds pass BigCrush with a safety margin (seven are enough); this module
is checked against the published known-answer vectors of Random123 (``kat_vectors``).

Single source
-------------
The functions whose names end in ``_src`` are plain Python written in the subset that
both Numba targets compile: ``numba.njit`` (CPU; the ``philox4x32`` array API and the
tests) and ``numba.cuda.jit(device=True)`` (the GPU kernel of
:mod:`riskcore.peg.cuda_backend`). They also run unchanged as Python under Numba's CUDA
simulator. All integer arithmetic is on ``uint64`` values holding 32-bit words, with
explicit masks: NumPy scalars and Numba then agree bit for bit (a 32 x 32-bit product
fits in 64 bits, so nothing overflows in either), and the GPU compiler narrows the masked
64-bit operations to ``mul.wide.u32`` and 32-bit logic.

Uniforms and normals
--------------------
``uniform52_src(a, b)`` = ``((a << 20 | b >> 12) + 1/2) 2**-52``, a uniform in
``[2**-53, 1 - 2**-53]`` from two words (exact: never 0 or 1, so logarithms are finite);
``uniform23_src(a)`` the same with 23 bits for float32. Normals come in pairs by
Box-Muller, ``r = sqrt(-2 ln u1)``, ``(r cos 2 pi u2, r sin 2 pi u2)``: exact N(0, 1)
pairs up to the resolution of ``u1``, which truncates the tail at ``|z| = 8.6`` in
float64 and ``5.8`` in float32 (probabilities 1e-17 and 8e-9 per draw).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["philox4x32", "philox_rounds_src", "uniform52_src", "uniform23_src", "box_muller_src",
           "split_key", "MASK32"]

_U = np.uint64
MASK32 = _U(0xFFFFFFFF)
_M0 = _U(0xD2511F53)
_M1 = _U(0xCD9E8D57)
_W0 = _U(0x9E3779B9)
_W1 = _U(0xBB67AE85)
_S32 = _U(32)
_S20 = _U(20)
_S12 = _U(12)
_S9 = _U(9)
_TWO_M52 = 2.0 ** -52
_TWO_M23 = np.float32(2.0 ** -23)


def philox_rounds_src(c0, c1, c2, c3, k0, k1, rounds):
    """Philox4x32 with ``rounds`` rounds: four uint64 words < 2**32 from counter and key words."""
    for _ in range(rounds):
        # zero-extended 32-bit words times 32-bit constants: the GPU compiler emits mul.wide.u32
        p0 = _U(np.uint32(c0)) * _M0
        p1 = _U(np.uint32(c2)) * _M1
        c0 = ((p1 >> _S32) ^ c1 ^ k0) & MASK32
        c1 = p1 & MASK32
        c2 = ((p0 >> _S32) ^ c3 ^ k1) & MASK32
        c3 = p0 & MASK32
        k0 = (k0 + _W0) & MASK32
        k1 = (k1 + _W1) & MASK32
    return c0, c1, c2, c3


def uniform52_src(a, b):
    """float64 uniform in [2**-53, 1 - 2**-53] from two 32-bit words (52 bits)."""
    x = ((a << _S20) | (b >> _S12)) & _U(0xFFFFFFFFFFFFF)
    return (float(x) + 0.5) * _TWO_M52


def uniform23_src(a):
    """float32 uniform in [2**-24, 1 - 2**-24] from one 32-bit word (23 bits)."""
    return (np.float32(a >> _S9) + np.float32(0.5)) * _TWO_M23


def box_muller_src(u1, u2, minus_two, two_pi):
    """Two independent standard normals from two uniforms in (0, 1) (in the uniforms' precision)."""
    r = math.sqrt(minus_two * math.log(u1))
    a = two_pi * u2
    return r * math.cos(a), r * math.sin(a)


_philox_nb = numba.njit(cache=True)(philox_rounds_src)


@numba.njit(cache=True)
def _philox_many(ctr, key, rounds, out):
    for i in range(ctr.shape[0]):
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = _philox_nb(ctr[i, 0], ctr[i, 1], ctr[i, 2], ctr[i, 3],
                                                                key[i, 0], key[i, 1], rounds)


def philox4x32(counter, key, rounds: int = 10) -> np.ndarray:
    """Philox4x32-``rounds`` of each row of ``counter`` (n, 4) and ``key`` (n, 2) 32-bit words: (n, 4) uint32."""
    ctr = np.atleast_2d(np.asarray(counter, dtype=np.uint64))
    k = np.broadcast_to(np.atleast_2d(np.asarray(key, dtype=np.uint64)), (ctr.shape[0], 2))
    if ctr.shape[1] != 4 or np.any(ctr > 0xFFFFFFFF) or np.any(k > 0xFFFFFFFF):
        raise ValueError("counter must be (n, 4) and key (n, 2) words below 2**32")
    out = np.empty((ctr.shape[0], 4), dtype=np.uint64)
    _philox_many(np.ascontiguousarray(ctr), np.ascontiguousarray(k), np.int64(rounds), out)
    return out.astype(np.uint32)


def split_key(seed: int) -> tuple[np.uint64, np.uint64]:
    """The Philox key words of a run seed: low and high 32 bits of ``seed mod 2**64``."""
    s = int(seed) % (1 << 64)
    return _U(s & 0xFFFFFFFF), _U(s >> 32)
