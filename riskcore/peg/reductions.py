"""Compiled reductions of a Monte Carlo run, bit-identical to NumPy's, in one ``nogil`` call each.

Why compiled (issue 17): in the app the engine of a run shares the interpreter with the other
sessions' script threads. A phase made of many short NumPy calls lets go of the GIL at each
call and then waits up to a switch interval (5 ms) to get it back: the peg statistics, a few
dozen NumPy calls taking 8 ms alone, took 0.35 s next to one busy Python thread
(``bench/bench_peg_gil.py``). The functions here do the same passes in one call that holds
no GIL, so they wait for it once.

Why bit-identical: a saved run re-run on the same backend must give the same statistics to
the last bit (``SimulationResult.same_numbers``), including runs saved before this module
existed. So:

- sums are NumPy's pairwise summation (:func:`pairwise_sum`: eight accumulators up to 128
  values, halves rounded down to a multiple of 8 above, started at 0.0 like
  ``np.add.reduce`` of a contiguous float64 array), so a mean is ``x.mean()`` and a
  standard deviation ``x.std(ddof=1)`` (the squared deviations from the mean, summed the
  same way);
- quantiles are NumPy's ``"linear"`` method: the order statistics at ``floor((n - 1) q)``
  and the next index (unique values, whatever the selection algorithm), combined with
  ``np.quantile``'s ``_lerp`` (``a + (b - a) g`` below ``g = 0.5``, ``b - (b - a)(1 - g)``
  from it).

Inputs must be finite; callers check (:func:`all_finite`) and use NumPy otherwise, where
NaN and infinity have NumPy's own meaning. The tests compare every output with NumPy bit
for bit, on random data, ties, and sizes around every block boundary.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["pairwise_sum", "mean_std", "all_finite", "linear_quantiles", "column_quantiles", "peg_reductions"]

#: below this many values a range is insertion-sorted (selection's base case)
_SMALL = 16
#: frames of the pairwise-sum walk: about 2 per halving, 50 halvings reach 2**50 values
_STACK = 128


@numba.njit(cache=True, nogil=True, inline="always")
def _term(a, i, center, square):
    v = np.float64(a[i])
    if square:
        v = (v - center) * (v - center)
    return v


@numba.njit(cache=True, nogil=True)
def _leaf_sum(a, lo, n, center, square):
    """NumPy's pairwise sum of at most 128 values: eight accumulators, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += _term(a, i, center, square)
        return res
    r0, r1 = _term(a, lo, center, square), _term(a, lo + 1, center, square)
    r2, r3 = _term(a, lo + 2, center, square), _term(a, lo + 3, center, square)
    r4, r5 = _term(a, lo + 4, center, square), _term(a, lo + 5, center, square)
    r6, r7 = _term(a, lo + 6, center, square), _term(a, lo + 7, center, square)
    end = lo + n - n % 8
    i = lo + 8
    while i < end:
        r0 += _term(a, i, center, square)
        r1 += _term(a, i + 1, center, square)
        r2 += _term(a, i + 2, center, square)
        r3 += _term(a, i + 3, center, square)
        r4 += _term(a, i + 4, center, square)
        r5 += _term(a, i + 5, center, square)
        r6 += _term(a, i + 6, center, square)
        r7 += _term(a, i + 7, center, square)
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < lo + n:
        res += _term(a, i, center, square)
        i += 1
    return res


@numba.njit(cache=True, nogil=True)
def pairwise_sum(a, lo, n, center, square):
    """Sum of ``a[lo:lo + n]`` (each value ``v`` taken as ``(v - center) ** 2`` when ``square``)
    in NumPy's pairwise order, without the initial 0.0 (see the module docstring).

    NumPy recurses: above 128 values, the sum of the first ``n // 2`` rounded down to a
    multiple of 8, plus the sum of the rest. The same tree is walked here with an explicit
    stack (a cached recursive Numba function can crash when loaded from the cache,
    numba/numba#6061); each node's two halves are added as NumPy adds them.
    """
    if n <= 128:
        return _leaf_sum(a, lo, n, center, square)
    # frames (lo, n, halves done); results of finished nodes on their own stack
    f_lo = np.empty(_STACK, np.int64)
    f_n = np.empty(_STACK, np.int64)
    f_done = np.empty(_STACK, np.bool_)
    vals = np.empty(_STACK)
    top, nv = 0, 0
    f_lo[0], f_n[0], f_done[0] = lo, n, False
    top = 1
    while top:
        top -= 1
        lo_, n_, done = f_lo[top], f_n[top], f_done[top]
        if n_ <= 128:
            vals[nv] = _leaf_sum(a, lo_, n_, center, square)
            nv += 1
        elif done:
            nv -= 1
            vals[nv - 1] = vals[nv - 1] + vals[nv]
        else:
            half = n_ // 2
            half -= half % 8
            f_lo[top], f_n[top], f_done[top] = lo_, n_, True
            f_lo[top + 1], f_n[top + 1], f_done[top + 1] = lo_ + half, n_ - half, False
            f_lo[top + 2], f_n[top + 2], f_done[top + 2] = lo_, half, False
            top += 3
    return vals[0]


@numba.njit(cache=True, nogil=True)
def mean_std(a, n):
    """``(a[:n].mean(), a[:n].std(ddof=1))`` as NumPy computes them; NaN where undefined (n < 1, n < 2)."""
    if n < 1:
        return np.nan, np.nan
    mean = (0.0 + pairwise_sum(a, 0, n, 0.0, False)) / n
    if n < 2:
        return mean, np.nan
    return mean, np.sqrt((0.0 + pairwise_sum(a, 0, n, mean, True)) / (n - 1))


@numba.njit(cache=True, nogil=True)
def all_finite(a):
    """True when no value of ``a`` (any shape) is NaN or infinite."""
    for v in a.ravel():
        if not np.isfinite(v):
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _insertion_sort(buf, lo, hi):
    for i in range(lo + 1, hi):
        v = buf[i]
        j = i - 1
        while j >= lo and buf[j] > v:
            buf[j + 1] = buf[j]
            j -= 1
        buf[j + 1] = v


@numba.njit(cache=True, nogil=True)
def _select(buf, lo, hi, ks):
    """Rearrange ``buf[lo:hi]`` so that each index in ``ks`` (sorted, distinct, inside ``[lo, hi)``)
    holds the value it would hold if the range were sorted.

    Quickselect on every wanted index at once: a median-of-three pivot, Hoare's partition
    (it splits runs of equal values evenly, so ties cost no more than distinct values),
    then each side keeps the indices that fall in it. Expected work is about
    ``n (1 + log2(len(ks)))``. Pending ranges sit on an explicit stack (each holds at least
    one wanted index, so ``len(ks)`` frames suffice): no recursion, see :func:`pairwise_sum`.
    """
    m = ks.shape[0]
    s_lo = np.empty(m + 1, np.int64)
    s_hi = np.empty(m + 1, np.int64)
    s_klo = np.empty(m + 1, np.int64)
    s_khi = np.empty(m + 1, np.int64)
    s_lo[0], s_hi[0], s_klo[0], s_khi[0] = lo, hi, 0, m
    top = 1
    while top:
        top -= 1
        lo, hi, k_lo, k_hi = s_lo[top], s_hi[top], s_klo[top], s_khi[top]
        while k_lo < k_hi:
            if hi - lo <= _SMALL:
                _insertion_sort(buf, lo, hi)
                break
            mid = lo + (hi - lo) // 2
            a, b, c = buf[lo], buf[mid], buf[hi - 1]
            if a > b:
                a, b = b, a
            if b > c:
                b = c
                if a > b:
                    b = a
            pivot = b
            i, j = lo - 1, hi
            while True:
                i += 1
                while buf[i] < pivot:
                    i += 1
                j -= 1
                while buf[j] > pivot:
                    j -= 1
                if i >= j:
                    break
                buf[i], buf[j] = buf[j], buf[i]
            # now buf[lo:j + 1] <= pivot <= buf[j + 1:hi]
            split = k_lo
            while split < k_hi and ks[split] <= j:
                split += 1
            if split > k_lo and split < k_hi:
                s_lo[top], s_hi[top], s_klo[top], s_khi[top] = j + 1, hi, split, k_hi
                top += 1
                hi, k_hi = j + 1, split
            elif split > k_lo:
                hi = j + 1
            else:
                lo = j + 1


@numba.njit(cache=True, nogil=True)
def _lerp(a, b, g):
    diff = b - a
    if g >= 0.5:
        return b - diff * (1.0 - g)
    return a + diff * g


@numba.njit(cache=True, nogil=True)
def _quantile_plan(n, probs):
    """NumPy's "linear" virtual indices: (lower index, upper index, gamma) per level, and the
    sorted distinct lower indices, the ones to select."""
    m = probs.shape[0]
    lower = np.empty(m, np.int64)
    upper = np.empty(m, np.int64)
    gamma = np.empty(m)
    for q in range(m):
        virtual = (n - 1) * probs[q]
        if virtual >= n - 1:
            # NumPy sets both indices to -1 (the maximum) before it takes gamma from them
            lower[q] = upper[q] = n - 1
            gamma[q] = virtual + 1.0
        else:
            below = np.floor(virtual)
            lower[q] = np.int64(below)
            upper[q] = lower[q] + 1
            gamma[q] = virtual - below
    return lower, upper, gamma, np.unique(lower)


@numba.njit(cache=True, nogil=True)
def _quantiles_of(buf, n, lower, upper, gamma, ks, out):
    """Select the lower order statistics; each upper one (the next index) is then the least
    value between its lower index and the next selected one, a short scan instead of a
    second selection."""
    _select(buf, 0, n, ks)
    for q in range(lower.shape[0]):
        lo = lower[q]
        b = buf[lo]
        if upper[q] != lo:
            stop = n
            for k in ks:
                if k > lo:
                    stop = k + 1
                    break
            b = buf[lo + 1]
            for i in range(lo + 2, stop):
                b = min(b, buf[i])
        out[q] = _lerp(buf[lo], b, gamma[q])


@numba.njit(cache=True, nogil=True)
def linear_quantiles(a, probs, buf):
    """``np.quantile(a, probs)`` of a finite 1-D ``a`` (n >= 1), using ``buf`` (n floats) as scratch."""
    n = a.shape[0]
    for i in range(n):
        buf[i] = a[i]
    lower, upper, gamma, ks = _quantile_plan(n, probs)
    out = np.empty(probs.shape[0])
    _quantiles_of(buf, n, lower, upper, gamma, ks, out)
    return out


@numba.njit(cache=True, nogil=True)
def column_quantiles(rec, c0, c1, probs, out):
    """``out[:, c0:c1] = np.quantile(rec[:, c0:c1], probs, axis=0)`` for a finite C-ordered ``rec``.

    Eight columns at a time are copied out row by row (one cache line of each row), then
    each is selected in place: no copy of the whole sample.
    """
    n = rec.shape[0]
    lower, upper, gamma, ks = _quantile_plan(n, probs)
    group = 8
    buf = np.empty((group, n))
    col = np.empty(probs.shape[0])
    for g0 in range(c0, c1, group):
        g1 = min(g0 + group, c1)
        for i in range(n):
            for j in range(g0, g1):
                buf[j - g0, i] = rec[i, j]
        for j in range(g0, g1):
            _quantiles_of(buf[j - g0], n, lower, upper, gamma, ks, col)
            for q in range(probs.shape[0]):
                out[q, j] = col[q]


@numba.njit(cache=True, nogil=True)
def peg_reductions(terminal, min_price, steps_below, first_breach, recovery, depeg_level, min_levels, peg,
                   var_probs):
    """The reductions behind :func:`riskcore.peg.montecarlo.peg_statistics`, in one pass per quantity.

    Returns ``(mean_t, std_t, n_terminal_below, n_min_below[levels], n_breached, mean_below, std_below,
    mean_dd, std_dd, max_dd, n_recovered, mean_recover, std_recover, n_unrecovered, q_price[levels],
    tail_mean[levels])``: counts as floats, means and standard deviations as NumPy's, days in steps.
    """
    n = terminal.shape[0]
    scratch = np.empty(n)
    mean_t, std_t = mean_std(terminal, n)
    n_terminal_below = 0
    n_min_below = np.zeros(min_levels.shape[0])
    n_breached = 0
    n_recovered = 0
    n_unrecovered = 0
    for i in range(n):
        if terminal[i] < depeg_level:
            n_terminal_below += 1
        for k in range(min_levels.shape[0]):
            if min_price[i] < min_levels[k]:
                n_min_below[k] += 1
        if first_breach[i] >= 0:
            n_breached += 1
            if recovery[i] >= 0:
                scratch[n_recovered] = recovery[i] - first_breach[i]
                n_recovered += 1
            else:
                n_unrecovered += 1
    mean_rec, std_rec = mean_std(scratch, n_recovered)
    mean_below, std_below = mean_std(steps_below, n)
    max_dd = -np.inf
    for i in range(n):
        dd = max(0.0, peg - min_price[i]) / peg
        scratch[i] = dd
        max_dd = max(max_dd, dd)
    mean_dd, std_dd = mean_std(scratch, n)
    q_price = linear_quantiles(terminal, var_probs, scratch)
    tail_mean = np.empty(var_probs.shape[0])
    for k in range(var_probs.shape[0]):
        m = 0
        for i in range(n):
            if terminal[i] <= q_price[k]:
                scratch[m] = terminal[i]
                m += 1
        tail_mean[k] = (0.0 + pairwise_sum(scratch, 0, m, 0.0, False)) / m
    return (mean_t, std_t, float(n_terminal_below), n_min_below, float(n_breached), mean_below, std_below,
            mean_dd, std_dd, max_dd, float(n_recovered), mean_rec, std_rec, float(n_unrecovered), q_price,
            tail_mean)
