"""Kelly position sizing (PRD §2.2.1, with SPEC.md §3's no-edge change).

Notes
-----
The Kelly fraction for a bet that wins ``b`` times the stake with probability ``p``
and loses the stake with probability ``q = 1 - p`` maximises ``E[log wealth]``:

.. math:: f^* = \\frac{p\\,b - q}{b}, \\qquad b = \\left|\\frac{\\text{avg\\_win}}{\\text{avg\\_loss}}\\right| .

The PRD's sizing then scales it by a volatility adjustment
``min(base_volatility / current_volatility, 2)`` and by one quarter (quarter Kelly),
turns it into a currency risk budget capped at ``max_risk_per_trade`` of equity and
divides by the risk of one contract (``risk_per_contract``, the stop distance in
currency, 50 by default), capped at ``max_contracts`` (5).

SPEC.md §3 changes one thing: with ``f* <= 0`` or inputs that carry no measurable edge
(``avg_win`` or ``avg_loss`` equal to 0, so ``b`` is 0 or undefined) the size is **0**
(no trade), not the PRD's floor of one contract. With a positive edge the PRD's floor
of one contract is kept, as SPEC asks for the PRD's sizing otherwise.
"""

from __future__ import annotations

import math

from riskcore.validate import integer, real

__all__ = ["kelly_fraction", "position_size", "MAX_CONTRACTS", "RISK_PER_CONTRACT"]

#: PRD hard limit on contracts per trade
MAX_CONTRACTS = 5
#: PRD default currency risk of one contract (its stop distance)
RISK_PER_CONTRACT = 50.0
#: PRD cap on the volatility adjustment and the Kelly multiplier (quarter Kelly)
VOLATILITY_ADJUSTMENT_CAP = 2.0
KELLY_MULTIPLIER = 0.25


def kelly_fraction(win_probability: float, avg_win: float, avg_loss: float) -> float:
    """Full Kelly fraction ``f* = (p b - q) / b`` with ``b = |avg_win / avg_loss|``.

    Parameters
    ----------
    win_probability : float
        Probability ``p`` of a winning trade, in [0, 1].
    avg_win, avg_loss : float
        Average win and average loss in currency. Only magnitudes matter (a loss may be
        given as a negative number, as :func:`riskcore.portfolio.analytics.average_loss`
        returns it).

    Returns
    -------
    float
        ``f*``; negative when the bet has negative edge. 0.0 when either average is 0
        (no measurable edge: ``b`` is 0 or undefined), a decision of this library.

    Examples
    --------
    >>> kelly_fraction(0.6, 200, 100)
    0.4
    """
    p = real("win_probability", win_probability, lo=0.0, hi=1.0)
    w = abs(real("avg_win", avg_win))
    lo = abs(real("avg_loss", avg_loss))
    if w == 0.0 or lo == 0.0:
        return 0.0
    # (p b - q) / b = (p W - q L) / W (PRD Appendix A.1), written without b so that a tiny loss
    # (b -> inf) cannot overflow to inf / inf. It also keeps decimal inputs exact: (0.6, 200, 100) gives
    # 0.4 where the PRD's order gives 0.39999999999999997, which would floor a budget lying exactly on a
    # contract boundary one contract down.
    return (p * w - (1.0 - p) * lo) / w


def position_size(
    win_probability: float,
    avg_win: float,
    avg_loss: float,
    current_volatility: float,
    base_volatility: float,
    account_equity: float,
    max_risk_per_trade: float = 0.02,
    risk_per_contract: float = RISK_PER_CONTRACT,
    max_contracts: int = MAX_CONTRACTS,
) -> int:
    """Number of contracts by quarter Kelly with volatility adjustment (PRD §2.2.1, SPEC §3).

    Parameters
    ----------
    win_probability : float
        Historical win rate in [0, 1].
    avg_win, avg_loss : float
        Average winning and losing trade in currency (magnitudes are used).
    current_volatility, base_volatility : float
        Current and baseline volatility (same units, both > 0).
    account_equity : float
        Account equity in currency, > 0.
    max_risk_per_trade : float, default 0.02
        Largest fraction of equity put at risk by one trade, in (0, 1].
    risk_per_contract : float, default 50.0
        Currency risk of one contract (stop distance × multiplier), > 0.
    max_contracts : int, default 5
        Hard cap on the result, >= 1.

    Returns
    -------
    int
        Contracts in ``0 .. max_contracts``; 0 when ``f* <= 0`` or there is no edge.

    Notes
    -----
    .. math::

        a = \\min(\\sigma_{base}/\\sigma_{cur}, 2), \\quad
        R = \\min(0.25\\, f^* a\\, E,\\; m E), \\quad
        n = \\min(\\max(1, \\lfloor R / r_c \\rfloor), n_{max})

    with ``n = 0`` when ``f* <= 0``.

    Examples
    --------
    >>> position_size(0.6, 200, 100, 0.15, 0.15, 100_000)
    5
    >>> position_size(0.5, 100, 100, 0.15, 0.15, 100_000)
    0
    """
    f = kelly_fraction(win_probability, avg_win, avg_loss)
    cur = real("current_volatility", current_volatility, lo=0.0, lo_open=True)
    base = real("base_volatility", base_volatility, lo=0.0, lo_open=True)
    equity = real("account_equity", account_equity, lo=0.0, lo_open=True)
    m = real("max_risk_per_trade", max_risk_per_trade, lo=0.0, hi=1.0, lo_open=True)
    rc = real("risk_per_contract", risk_per_contract, lo=0.0, lo_open=True)
    cap = integer("max_contracts", max_contracts, lo=1)
    if f <= 0.0:
        return 0
    vol_adj = min(base / cur, VOLATILITY_ADJUSTMENT_CAP)
    risk_amount = min(f * vol_adj * KELLY_MULTIPLIER * equity, m * equity)
    n = math.floor(risk_amount / rc)
    return min(max(1, n), cap)
