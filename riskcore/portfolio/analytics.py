"""Risk-adjusted performance analytics of a return series (SPEC.md §3, PRD §4.1.1).

Conventions: ``returns`` are simple per-period returns; annualisation uses
``periods_per_year`` (252 by default); standard deviations are sample ones (ddof = 1);
the risk-free rate ``rf`` is annual (default 0) and converted per period as ``rf / periods``.

Notes
-----
- Sharpe: ``(mean(r) - rf/P) / std(r) × sqrt(P)``.
- Sortino: ``(mean(r) - target) / DD × sqrt(P)`` with downside deviation
  ``DD = sqrt(mean(min(r - target, 0)^2))`` over **all** periods, ``target = rf/P``.
- Maximum drawdown: largest fall of the compounded wealth ``prod(1 + r)`` from its running
  peak (the starting wealth 1 counts as a peak), a positive fraction.
- Calmar: annualised geometric return ``prod(1 + r)^(P/n) - 1`` over maximum drawdown.
- VaR / CVaR at confidence ``c``: ``-quantile(r, 1 - c)`` (linear interpolation, SPEC §2)
  and minus the mean of the returns at or below that quantile; positive losses.
- Ratios with a zero denominator are ``inf`` (sign of the numerator) or ``nan`` for 0/0. A standard
  or downside deviation counts as zero when the series is constant or the deviation is below
  :data:`ZERO_VARIANCE_RTOL` times the largest absolute return: the sample standard deviation of a
  constant series is rounding noise (about 1e-18 for 0.01, which made a "Sharpe" of 7e16), not risk.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.validate import integer, real

__all__ = ["sharpe_ratio", "sortino_ratio", "calmar_ratio", "max_drawdown", "annual_volatility",
           "annual_return", "value_at_risk", "conditional_var", "win_rate", "average_win", "average_loss",
           "performance_summary", "TRADING_DAYS", "ZERO_VARIANCE_RTOL"]

TRADING_DAYS = 252
#: a deviation below this fraction of max |r| is rounding noise, i.e. zero (see the module Notes)
ZERO_VARIANCE_RTOL = 1e-12


def _returns(returns: Any, min_len: int = 1) -> np.ndarray:
    if isinstance(returns, (pd.Series, pd.DataFrame)):
        returns = returns.to_numpy()
    try:
        r = np.asarray(returns, dtype=float)
    except (TypeError, ValueError):
        raise InputError("returns", "must be a 1-D sequence of numbers", value=type(returns).__name__) from None
    if r.ndim != 1:
        raise InputError("returns", "must be 1-D", value=r.shape)
    if r.shape[0] < min_len:
        raise InputError("returns", f"needs at least {min_len} values", value=r.shape[0])
    bad = np.flatnonzero(~np.isfinite(r))
    if bad.size:
        raise InputError("returns", "must be finite", value=float(r[bad[0]]), row=int(bad[0]) + 1)
    if (r <= -1).any():
        i = int(np.flatnonzero(r <= -1)[0])
        raise InputError("returns", "must be > -1 (a return of -100 % or worse)", value=float(r[i]), row=i + 1)
    return r


def _div(num: float, den: float) -> float:
    if den > 0:
        return num / den
    if num == 0:
        return float("nan")
    return float("inf") if num > 0 else float("-inf")


def _deviation(dev: float, r: np.ndarray) -> float:
    """``dev`` (a standard or downside deviation of ``r``), or 0.0 where it is only rounding noise."""
    scale = float(np.max(np.abs(r))) if r.size else 0.0
    if np.ptp(r) == 0.0 or dev <= ZERO_VARIANCE_RTOL * scale:
        return 0.0
    return float(dev)


def _periods(periods_per_year: int) -> int:
    return integer("periods_per_year", periods_per_year, lo=1)


def annual_volatility(returns: Any, periods_per_year: int = TRADING_DAYS) -> float:
    """``std(r, ddof=1) × sqrt(P)``."""
    r = _returns(returns, 2)
    return float(_deviation(r.std(ddof=1), r) * np.sqrt(_periods(periods_per_year)))


def annual_return(returns: Any, periods_per_year: int = TRADING_DAYS) -> float:
    """Geometric annualised return ``prod(1 + r)^(P/n) - 1``."""
    r = _returns(returns)
    return float(np.exp(np.log1p(r).sum() * _periods(periods_per_year) / r.shape[0]) - 1.0)


def sharpe_ratio(returns: Any, rf: float = 0.0, periods_per_year: int = TRADING_DAYS) -> float:
    """Annualised Sharpe ratio ``(mean(r) - rf/P) / std(r, ddof=1) × sqrt(P)``."""
    r = _returns(returns, 2)
    p = _periods(periods_per_year)
    ex = r.mean() - real("rf", rf) / p
    return float(_div(ex, _deviation(r.std(ddof=1), r)) * np.sqrt(p))


def sortino_ratio(returns: Any, rf: float = 0.0, periods_per_year: int = TRADING_DAYS) -> float:
    """Annualised Sortino ratio with downside deviation ``sqrt(mean(min(r - target, 0)^2))``."""
    r = _returns(returns)
    p = _periods(periods_per_year)
    target = real("rf", rf) / p
    dd = _deviation(float(np.sqrt(np.mean(np.minimum(r - target, 0.0) ** 2))), r)
    return float(_div(r.mean() - target, dd) * np.sqrt(p))


def max_drawdown(returns: Any) -> float:
    """Largest peak-to-trough fall of ``prod(1 + r)`` as a positive fraction (start counts as a peak)."""
    r = _returns(returns)
    wealth = np.concatenate([[1.0], np.cumprod(1.0 + r)])
    peak = np.maximum.accumulate(wealth)
    return float(np.max(1.0 - wealth / peak))


def calmar_ratio(returns: Any, periods_per_year: int = TRADING_DAYS) -> float:
    """Annualised geometric return / maximum drawdown."""
    return _div(annual_return(returns, periods_per_year), max_drawdown(returns))


def value_at_risk(returns: Any, confidence: float = 0.95) -> float:
    """Historical VaR ``-quantile(r, 1 - c)`` (positive loss fraction)."""
    r = _returns(returns)
    c = real("confidence", confidence, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    return float(-np.quantile(r, 1.0 - c))


def conditional_var(returns: Any, confidence: float = 0.95) -> float:
    """Historical CVaR (expected shortfall): minus the mean return at or below the ``1 - c`` quantile."""
    r = _returns(returns)
    c = real("confidence", confidence, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    q = np.quantile(r, 1.0 - c)
    return float(-r[r <= q].mean())


def win_rate(pnl: Any) -> float:
    """Fraction of trades (or periods) with P&L > 0."""
    x = _returns_like(pnl)
    return float((x > 0).mean())


def average_win(pnl: Any) -> float:
    """Mean of the positive P&Ls (0.0 when there are none)."""
    x = _returns_like(pnl)
    w = x[x > 0]
    return float(w.mean()) if w.size else 0.0


def average_loss(pnl: Any) -> float:
    """Mean of the negative P&Ls, a negative number (0.0 when there are none)."""
    x = _returns_like(pnl)
    lo = x[x < 0]
    return float(lo.mean()) if lo.size else 0.0


def _returns_like(pnl: Any) -> np.ndarray:
    if isinstance(pnl, (pd.Series, pd.DataFrame)):
        pnl = pnl.to_numpy()
    try:
        x = np.asarray(pnl, dtype=float)
    except (TypeError, ValueError):
        raise InputError("pnl", "must be a 1-D sequence of numbers", value=type(pnl).__name__) from None
    if x.ndim != 1 or x.shape[0] == 0:
        raise InputError("pnl", "must be a non-empty 1-D sequence", value=x.shape)
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise InputError("pnl", "must be finite", value=float(x[bad[0]]), row=int(bad[0]) + 1)
    return x


def performance_summary(returns: Any, rf: float = 0.0, periods_per_year: int = TRADING_DAYS,
                        confidence: float = 0.95) -> pd.DataFrame:
    """All the measures above in one table (column ``value``)."""
    r = _returns(returns, 2)
    rows = {
        "annual_return": annual_return(r, periods_per_year),
        "annual_volatility": annual_volatility(r, periods_per_year),
        "sharpe_ratio": sharpe_ratio(r, rf, periods_per_year),
        "sortino_ratio": sortino_ratio(r, rf, periods_per_year),
        "max_drawdown": max_drawdown(r),
        "calmar_ratio": calmar_ratio(r, periods_per_year),
        f"var_{confidence:g}": value_at_risk(r, confidence),
        f"cvar_{confidence:g}": conditional_var(r, confidence),
        "win_rate": win_rate(r),
        "average_win": average_win(r),
        "average_loss": average_loss(r),
    }
    return pd.DataFrame({"value": rows}).rename_axis("measure")
