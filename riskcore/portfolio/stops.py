"""Dynamic stop-loss (PRD §2.2.2, exactly) and ATR-multiple targets.

Notes
-----
With ATR ``A``, volatility percentile ``v`` in [0, 1], hours in trade ``t`` and
direction ``d`` (+1 long, -1 short):

.. math::

    D_{adj} = 1.5 A (1 + 0.5 v), \\qquad
    D = D_{adj} \\max(0.7,\\; 1 - 0.3\\, t / 24), \\qquad
    S = P_{entry} - d\\, D .

Trailing: when the unrealised profit ``u`` exceeds ``D_adj`` (the PRD compares with the
volatility-adjusted distance, before time decay) the stop moves to
``P_entry + d u / 2`` if that is tighter. The PRD compares ``u`` with a price distance,
so ``u`` is the favourable **price move per unit** since entry (price points), not the
position's currency P&L. The result is rounded to cents with Python's ``round``.
"""

from __future__ import annotations

from riskcore.validate import direction as _direction
from riskcore.validate import real

__all__ = ["dynamic_stop_loss", "stop_multiplier", "take_profit_price", "MULTIPLIER_BOUNDS"]

#: action space of the stop/target agent, in ATR multiples (PRD §2.3.1)
MULTIPLIER_BOUNDS = (0.5, 3.0)


def stop_multiplier(volatility_percentile: float, time_in_trade: float) -> float:
    """Stop distance in ATR multiples before trailing: ``1.5 (1 + 0.5 v) max(0.7, 1 - 0.3 t/24)``.

    Always inside [1.05, 2.25], hence inside the stop agent's action space [0.5, 3.0].
    """
    v = real("volatility_percentile", volatility_percentile, lo=0.0, hi=1.0)
    t = real("time_in_trade", time_in_trade, lo=0.0)
    return 1.5 * (1.0 + 0.5 * v) * max(0.7, 1.0 - (t / 24.0) * 0.3)


def dynamic_stop_loss(
    entry_price: float,
    direction: int,
    current_atr: float,
    volatility_percentile: float,
    time_in_trade: float,
    unrealized_pnl: float,
) -> float:
    """Stop price from ATR, volatility regime, time decay and trailing (PRD §2.2.2).

    Parameters
    ----------
    entry_price : float
        Entry price, > 0.
    direction : int
        1 for long, -1 for short.
    current_atr : float
        Average true range in price units, >= 0.
    volatility_percentile : float
        Current volatility percentile in [0, 1].
    time_in_trade : float
        Hours since entry, >= 0.
    unrealized_pnl : float
        Favourable price move per unit since entry (price points; negative when losing).

    Returns
    -------
    float
        Stop price rounded to cents.

    Examples
    --------
    >>> dynamic_stop_loss(100.0, 1, 2.0, 0.5, 0.0, 0.0)
    96.25
    >>> dynamic_stop_loss(100.0, -1, 2.0, 0.5, 0.0, 0.0)
    103.75
    """
    entry = real("entry_price", entry_price, lo=0.0, lo_open=True)
    d = _direction("direction", direction)
    atr = real("current_atr", current_atr, lo=0.0)
    v = real("volatility_percentile", volatility_percentile, lo=0.0, hi=1.0)
    t = real("time_in_trade", time_in_trade, lo=0.0)
    u = real("unrealized_pnl", unrealized_pnl)
    adjusted = atr * 1.5 * (1.0 + v * 0.5)
    # ATR times one multiplier, the same association as the stop agent's ``atr × k_stop`` (a different
    # order of the products rounds a half cent the other way on some inputs)
    distance = atr * (1.5 * (1.0 + v * 0.5) * max(0.7, 1.0 - (t / 24.0) * 0.3))
    if d > 0:
        stop = entry - distance
        if u > adjusted:
            stop = max(stop, entry + u * 0.5)
    else:
        stop = entry + distance
        if u > adjusted:
            stop = min(stop, entry - u * 0.5)
    return round(stop, 2)


def take_profit_price(entry_price: float, direction: int, current_atr: float, target_multiplier: float) -> float:
    """Target ``entry + direction × target_multiplier × ATR``, rounded to cents.

    The PRD gives the target only as an ATR multiple in [0.5, 3.0] (§2.3.1, agent 2).
    """
    entry = real("entry_price", entry_price, lo=0.0, lo_open=True)
    d = _direction("direction", direction)
    atr = real("current_atr", current_atr, lo=0.0)
    k = real("target_multiplier", target_multiplier, lo=MULTIPLIER_BOUNDS[0], hi=MULTIPLIER_BOUNDS[1])
    return round(entry + d * k * atr, 2)
