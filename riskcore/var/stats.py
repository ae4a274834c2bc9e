"""Statistical backtests of VaR forecasts: Kupiec, Christoffersen, Basel traffic light.

All functions take a sequence of violation indicators (``True`` on a day with ``r_t < -VaR_t``) in
time order and the expected violation rate ``p = 1 - c``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import numpy as np
from scipy import special

from riskcore.errors import InputError

__all__ = ["TrafficLight", "kupiec_test", "christoffersen_test", "traffic_light", "traffic_light_zone",
           "coverage_stats", "BASEL_DAYS"]

#: observation window of the Basel traffic light
BASEL_DAYS = 250


class TrafficLight(StrEnum):
    """Basel zone of a VaR model (compares equal to ``"green"``, ``"yellow"``, ``"red"``)."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def _violations(violations: Any) -> np.ndarray:
    v = np.asarray(violations)
    if v.ndim != 1 or v.size == 0:
        raise InputError("violations", "must be a non-empty 1-D sequence of booleans", value=v.shape)
    if v.dtype != bool:
        if not np.all(np.isin(v, (0, 1))):
            raise InputError("violations", "must contain only True/False (or 1/0)")
        v = v.astype(bool)
    return v


def _rate(expected_rate: float) -> float:
    p = float(expected_rate)
    if not (0.0 < p < 1.0):
        raise InputError("expected_rate", "must be in (0, 1), e.g. 0.01 for 99% VaR", value=expected_rate)
    return p


def _bernoulli_ll(k: float, n: float, p: float) -> float:
    """log of p^k (1-p)^(n-k) with 0·log 0 = 0."""
    return float(special.xlogy(k, p) + special.xlog1py(n - k, -p))


def kupiec_test(violations: Any, expected_rate: float) -> tuple[float, float]:
    """Kupiec (1995) proportion-of-failures test of unconditional coverage.

    Parameters
    ----------
    violations : sequence of bool
        Violation indicators, one per forecast day.
    expected_rate : float
        ``1 - confidence``.

    Returns
    -------
    lr : float
        Likelihood-ratio statistic.
    p_value : float
        ``P(chi2_1 > lr)``.

    Notes
    -----
    With :math:`x` violations in :math:`n` days and :math:`\\hat p = x/n`,

    .. math:: LR_{pof} = -2\\left[x\\log p + (n-x)\\log(1-p)\\right]
                         + 2\\left[x\\log\\hat p + (n-x)\\log(1-\\hat p)\\right],

    with :math:`0\\log 0 = 0`. So zero violations give :math:`-2n\\log(1-p)` and ``n`` violations
    :math:`-2n\\log p` — not the shortcut ``p = 1`` of the seed (SPEC §4.9).
    """
    v = _violations(violations)
    p = _rate(expected_rate)
    n, x = v.size, int(v.sum())
    lr = -2.0 * (_bernoulli_ll(x, n, p) - _bernoulli_ll(x, n, x / n))
    lr = max(lr, 0.0) + 0.0  # + 0.0 turns a -0.0 (rounding of an exact fit) into 0.0
    return lr, float(special.chdtrc(1, lr))


def christoffersen_test(violations: Any, expected_rate: float) -> tuple[float, float, float, float]:
    """Christoffersen (1998) independence and conditional-coverage tests.

    Returns
    -------
    lr_ind, p_ind : float
        Independence LR (first-order Markov alternative) and its ``chi2_1`` p-value.
    lr_cc, p_cc : float
        Conditional coverage ``LR_cc = LR_pof + LR_ind`` and its ``chi2_2`` p-value.

    Notes
    -----
    With :math:`n_{ij}` the number of days in state *i* followed by state *j* (1 = violation),
    :math:`\\pi_{01} = n_{01}/(n_{00}+n_{01})`, :math:`\\pi_{11} = n_{11}/(n_{10}+n_{11})` and
    :math:`\\pi = (n_{01}+n_{11})/(n_{00}+n_{01}+n_{10}+n_{11})`:

    .. math:: LR_{ind} = -2\\log\\frac{(1-\\pi)^{n_{00}+n_{10}}\\pi^{n_{01}+n_{11}}}
              {(1-\\pi_{01})^{n_{00}}\\pi_{01}^{n_{01}}(1-\\pi_{11})^{n_{10}}\\pi_{11}^{n_{11}}}

    with :math:`0^0 = 1` (a state never visited contributes nothing). ``LR_pof`` is Kupiec's statistic on
    all ``n`` days (SPEC §2); some texts use the ``n-1`` transitions instead, a difference of one day.
    """
    v = _violations(violations)
    p = _rate(expected_rate)
    lr_pof, _ = kupiec_test(v, p)
    a, b = v[:-1], v[1:]
    n00 = int(np.sum(~a & ~b))
    n01 = int(np.sum(~a & b))
    n10 = int(np.sum(a & ~b))
    n11 = int(np.sum(a & b))
    tot = n00 + n01 + n10 + n11
    if tot == 0:
        lr_ind = 0.0
    else:
        pi = (n01 + n11) / tot
        pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
        pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
        l0 = _bernoulli_ll(n01 + n11, tot, pi)
        l1 = _bernoulli_ll(n01, n00 + n01, pi01) + _bernoulli_ll(n11, n10 + n11, pi11)
        lr_ind = max(-2.0 * (l0 - l1), 0.0) + 0.0  # never -0.0 (max(-0.0, 0.0) is -0.0)
    lr_cc = lr_pof + lr_ind
    return lr_ind, float(special.chdtrc(1, lr_ind)), lr_cc, float(special.chdtrc(2, lr_cc))


def traffic_light(exceptions_in_250_days_at_99: int) -> TrafficLight:
    """Basel traffic light for the exceptions of a 99 % VaR over 250 days.

    Green 0–4, yellow 5–9, red 10 or more (Basel Committee, 1996).

    Examples
    --------
    >>> traffic_light(4), traffic_light(5), traffic_light(10)
    (<TrafficLight.GREEN: 'green'>, <TrafficLight.YELLOW: 'yellow'>, <TrafficLight.RED: 'red'>)
    """
    x = exceptions_in_250_days_at_99
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 0 or x > BASEL_DAYS:
        raise InputError("exceptions", f"must be an integer count in 0..{BASEL_DAYS}", value=x)
    if x <= 4:
        return TrafficLight.GREEN
    if x <= 9:
        return TrafficLight.YELLOW
    return TrafficLight.RED


def traffic_light_zone(exceptions: int, n_days: int, expected_rate: float) -> TrafficLight:
    """Traffic-light zone for any window and level, by the Basel cumulative-probability rule.

    Notes
    -----
    Basel's zones are where the binomial probability :math:`P(X \\le x)` of the observed count under
    the nominal rate reaches 95 % (yellow) and 99.99 % (red). For 250 days at 99 % this gives exactly
    green 0–4, yellow 5–9, red ≥ 10 (:func:`traffic_light`); the same rule grades other levels and
    windows (e.g. the 95 % and 99.7 % VaR in a backtest summary).
    """
    p = _rate(expected_rate)
    if n_days < 1 or exceptions < 0 or exceptions > n_days:
        raise InputError("exceptions", "must be a count in 0..n_days", value=exceptions)
    cdf = float(special.bdtr(int(exceptions), int(n_days), p))  # binomial P(X <= exceptions)
    if cdf >= 0.9999 - 1e-12:
        return TrafficLight.RED
    if cdf >= 0.95:
        return TrafficLight.YELLOW
    return TrafficLight.GREEN


def coverage_stats(violations: Any, expected_rate: float, last: int = BASEL_DAYS) -> dict[str, Any]:
    """Everything a backtest table shows for one violation series.

    Returns
    -------
    dict
        ``n``, ``violations``, ``expected`` (``n p``), ``rate``, ``expected_rate``, ``kupiec_lr``,
        ``kupiec_p``, ``ind_lr``, ``ind_p``, ``cc_lr``, ``cc_p``, ``tl_days`` (the last ``min(last, n)``
        days), ``tl_exceptions`` and ``traffic_light`` (:func:`traffic_light_zone` on those days).
    """
    v = _violations(violations)
    p = _rate(expected_rate)
    lr, pv = kupiec_test(v, p)
    li, pi, lc, pc = christoffersen_test(v, p)
    tail = v[-min(last, v.size):]
    x_tl = int(tail.sum())
    return {
        "n": int(v.size), "violations": int(v.sum()), "expected": v.size * p, "rate": float(v.mean()),
        "expected_rate": p, "kupiec_lr": lr, "kupiec_p": pv, "ind_lr": li, "ind_p": pi, "cc_lr": lc, "cc_p": pc,
        "tl_days": int(tail.size), "tl_exceptions": x_tl,
        "traffic_light": traffic_light_zone(x_tl, int(tail.size), p),
    }
