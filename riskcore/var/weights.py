"""Ensemble weights from out-of-sample VaR forecasts (SPEC §2): quantile loss with a coverage gate.

One function, :func:`method_weights`, turns a block of out-of-sample forecasts into weights; the
rolling backtest (for each day, from the days before it) and :class:`riskcore.var.EnsembleVaR` (from
all of its out-of-sample days) both call it, so the two never disagree on the same forecasts.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
from scipy import special

__all__ = ["WeightScheme", "COVERAGE_GATE_P", "pinball_loss", "seed_score", "method_weights",
           "expanding_weights"]

#: a method whose conditional-coverage test rejects at this level gets weight 0 (unless all are rejected)
COVERAGE_GATE_P = 0.05


class WeightScheme(StrEnum):
    """How the ensemble weighs its methods (compare equal to their string values)."""

    #: SPEC §2 default: w ∝ 1 / mean pinball loss, weight 0 where Christoffersen's LR_cc rejects at 5 %
    QUANTILE_LOSS = "quantile_loss"
    #: the seed's score 1 / (1 + |violations − expected| / n), normalised (near-equal on long samples)
    SEED_SCORE = "seed_score"


def pinball_loss(r: np.ndarray, var: np.ndarray, cs: np.ndarray) -> np.ndarray:
    """Daily quantile (pinball) loss of VaR forecasts, ``((1 - c) - 1{r < -VaR}) (r + VaR)`` (non-negative).

    Parameters
    ----------
    r : ndarray, shape (T,)
        Realised returns of the forecast days.
    var : ndarray, shape (T, M, C)
        VaR forecasts (positive losses) of M methods at C levels.
    cs : ndarray, shape (C,)

    Returns
    -------
    ndarray, shape (T, M, C)

    Notes
    -----
    The loss of the return quantile :math:`q = -\\mathrm{VaR}` at level :math:`p = 1-c`,
    :math:`\\rho_p(r - q) = (p - 1\\{r < q\\})(r - q)`, is the strictly consistent scoring function of a
    quantile (Gneiting 2011): its expectation is smallest for the true quantile. Unlike a violation count
    it rewards a forecast for being close, not only for being crossed at the right rate.
    """
    u = r[:, None, None] + var
    return ((1.0 - cs)[None, None, :] - (u < 0.0)) * u


def seed_score(violations: np.ndarray, n: np.ndarray, rate: float | np.ndarray) -> np.ndarray:
    """The seed's backtest accuracy score ``1 / (1 + |violations - expected| / n)``; 1 where ``n = 0``."""
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = 1.0 / (1.0 + np.abs(np.asarray(violations, dtype=float) - n * rate) / n)
    return np.where(n > 0, s, 1.0)


def _bern(k: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    return special.xlogy(k, p) + special.xlog1py(n - k, -p)


def _cc_pvalue(x: np.ndarray, n: np.ndarray, n00: np.ndarray, n01: np.ndarray, n10: np.ndarray,
               n11: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Christoffersen's conditional-coverage p-value from counts (same statistic as ``christoffersen_test``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        phat = np.where(n > 0, x / np.maximum(n, 1), 0.0)
        lr_pof = np.maximum(-2.0 * (_bern(x, n, p) - _bern(x, n, phat)), 0.0)
        tot = n00 + n01 + n10 + n11
        pi = np.where(tot > 0, (n01 + n11) / np.maximum(tot, 1), 0.0)
        a0, a1 = n00 + n01, n10 + n11
        pi01 = np.where(a0 > 0, n01 / np.maximum(a0, 1), 0.0)
        pi11 = np.where(a1 > 0, n11 / np.maximum(a1, 1), 0.0)
        l0 = _bern(n01 + n11, tot, pi)
        l1 = _bern(n01, a0, pi01) + _bern(n11, a1, pi11)
        lr_ind = np.where(tot > 0, np.maximum(-2.0 * (l0 - l1), 0.0), 0.0)
    return special.chdtrc(2, lr_pof + lr_ind)


def _normalise(raw: np.ndarray, keep: np.ndarray, axis: int) -> np.ndarray:
    """Weights ∝ ``raw`` over the methods in ``keep`` (all of them where none is kept); equal where degenerate."""
    keep = np.where(keep.any(axis=axis, keepdims=True), keep, True)
    w = np.where(keep, raw, 0.0)
    tot = w.sum(axis=axis, keepdims=True)
    m = raw.shape[axis]
    ok = np.isfinite(tot) & (tot > 0)
    return np.where(ok, w / np.where(ok, tot, 1.0), 1.0 / m)


def _inverse_loss(loss: np.ndarray, axis: int) -> np.ndarray:
    """1 / loss, with a method of zero loss (a perfect forecast) taking everything among the zeros."""
    zero = loss <= 0.0
    with np.errstate(divide="ignore"):
        inv = 1.0 / loss
    return np.where(zero.any(axis=axis, keepdims=True), zero.astype(float), inv)


def _weights(x: np.ndarray, n: np.ndarray, counts: tuple[np.ndarray, ...], loss_sum: np.ndarray, p: np.ndarray,
             scheme: WeightScheme) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Weights over the methods axis (-2) from cumulative counts; any leading axes broadcast."""
    nn = np.maximum(n, 1.0)
    loss = loss_sum / nn
    cc = _cc_pvalue(x, n, *counts, p)
    seed = seed_score(x, n, p)
    if scheme is WeightScheme.SEED_SCORE:
        raw = seed
        rejected = np.zeros(raw.shape, dtype=bool)
    else:
        raw = _inverse_loss(loss, axis=-2)
        rejected = (cc < COVERAGE_GATE_P) & (n > 0)
    gated = rejected & ~rejected.all(axis=-2, keepdims=True)
    w = _normalise(raw, ~gated, axis=-2)
    w = np.where(n > 0, w, 1.0 / raw.shape[-2])  # no past day: equal weights
    return w, {"pinball_loss": np.where(n > 0, loss, np.nan), "cc_p": cc, "gated": gated, "seed_score": seed,
               "raw": raw}


def method_weights(r: np.ndarray, var: np.ndarray, cs: np.ndarray,
                   scheme: WeightScheme | str = WeightScheme.QUANTILE_LOSS,
                   ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Ensemble weights of M methods from their out-of-sample forecasts.

    Parameters
    ----------
    r : ndarray, shape (T,)
        Realised returns of the forecast days (T >= 0).
    var : ndarray, shape (T, M, C)
    cs : ndarray, shape (C,)
    scheme : WeightScheme

    Returns
    -------
    weights : ndarray, shape (M, C)
        Non-negative, each column sums to 1; equal when ``T == 0``.
    scores : dict of (M, C) arrays
        ``pinball_loss`` (mean over the days), ``cc_p`` (conditional-coverage p-value), ``gated``
        (True where the coverage gate set the weight to 0), ``seed_score`` and ``raw`` (the
        un-normalised weight of the scheme: 1/loss or the seed score).

    Notes
    -----
    ``QUANTILE_LOSS`` (SPEC §2): :math:`w_m \\propto 1/L_m` with :math:`L_m` the mean pinball loss
    (:func:`pinball_loss`), per level; a method whose Christoffersen conditional-coverage test
    (:math:`LR_{cc}`, :math:`\\chi^2_2`) rejects at 5 % gets weight 0 unless every method is rejected, in
    which case all keep their :math:`1/L` weights. A method with zero loss (a perfect forecast) shares
    the weight with the other perfect ones only. ``SEED_SCORE``: the seed's :math:`1/(1 + |x - np|/n)`,
    normalised.
    """
    scheme = WeightScheme(scheme)
    T = var.shape[0]
    viol = r[:, None, None] < -var
    a, b = viol[:-1], viol[1:]
    counts = tuple(m.sum(axis=0).astype(float) for m in (~a & ~b, ~a & b, a & ~b, a & b))
    return _weights(viol.sum(axis=0).astype(float), np.full(var.shape[1:], float(T)), counts,
                    pinball_loss(r, var, cs).sum(axis=0), (1.0 - cs)[None, :], scheme)


def _transition_counts(viol: np.ndarray) -> tuple[np.ndarray, ...]:
    """Christoffersen counts n00, n01, n10, n11 of the transitions among days ``0 … k-1``, for k = 0 … T."""
    a, b = viol[:-1], viol[1:]
    zeros = np.zeros((2,) + viol.shape[1:])
    # transition (j, j+1) is among days < k when j <= k - 2: index k holds the cumulative sum up to k - 2
    return tuple(np.concatenate([zeros, np.cumsum(m, axis=0)], axis=0)[: viol.shape[0] + 1]
                 for m in (~a & ~b, ~a & b, a & ~b, a & b))


def expanding_weights(r: np.ndarray, var: np.ndarray, cs: np.ndarray,
                      scheme: WeightScheme | str = WeightScheme.QUANTILE_LOSS) -> np.ndarray:
    """Weights for each forecast day from the forecasts of the days before it (:func:`method_weights`'s rule).

    Parameters
    ----------
    r : ndarray, shape (T,)
    var : ndarray, shape (T, M, C)
    cs : ndarray, shape (C,)
    scheme : WeightScheme

    Returns
    -------
    ndarray, shape (T, M, C)
        Day ``k`` uses forecasts ``0 … k-1`` only (all realised when day ``k`` is forecast), exactly as
        :func:`method_weights` on those days would; day 0 has equal weights.
    """
    scheme = WeightScheme(scheme)
    T = var.shape[0]
    if T == 0:
        return np.empty(var.shape)
    viol = r[:, None, None] < -var
    pad = np.zeros((1,) + var.shape[1:])
    x = np.concatenate([pad, np.cumsum(viol, axis=0)], axis=0)[:T]
    loss = np.concatenate([pad, np.cumsum(pinball_loss(r, var, cs), axis=0)], axis=0)[:T]
    n = np.broadcast_to(np.arange(T, dtype=float)[:, None, None], x.shape)
    counts = tuple(c[:T] for c in _transition_counts(viol))
    w, _ = _weights(x, n, counts, loss, (1.0 - cs)[None, None, :], scheme)
    return w
