"""Correlation matrix of returns and the PRD's correlation risk score (§2.4.1).

Notes
-----
The score over the off-diagonal absolute correlations ``|rho_ij|`` (i < j) is

.. math:: s = \\min(1,\\; 0.6\\, \\overline{|\\rho|} + 0.4 \\max |\\rho|),

0 for fewer than two instruments. Pairs with ``|rho| > 0.8`` raise an alert, HIGH above
0.9 and MEDIUM otherwise (PRD thresholds, held in :data:`CORRELATION_ALERT_LEVELS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.returns import simple_returns
from riskcore.validate import integer

__all__ = ["correlation_matrix", "correlation_risk_score", "correlation_alerts", "CORRELATION_ALERT_LEVELS"]

#: (threshold on |rho|, severity), checked from the top; strict ">" as in the PRD
CORRELATION_ALERT_LEVELS: tuple[tuple[float, str], ...] = ((0.9, "HIGH"), (0.8, "MEDIUM"))


def correlation_matrix(price_history: pd.DataFrame, symbols: Sequence[str] | None = None,
                       lookback: int = 252, min_observations: int = 30) -> pd.DataFrame:
    """Pearson correlation of simple returns over the last ``lookback`` prices.

    Parameters
    ----------
    price_history : DataFrame
        One column of prices per symbol.
    symbols : sequence of str, optional
        Columns to use (default all), duplicates removed in order.
    lookback : int, default 252
        Number of most recent prices used (the PRD's one year of daily data).
    min_observations : int, default 30
        Fewer prices than this raises :class:`InputError` (the PRD skips such symbols).

    Returns
    -------
    DataFrame
        Symmetric matrix with unit diagonal, indexed by symbol. A constant series has
        zero correlation with everything (not NaN), a decision of this library.
    """
    if not isinstance(price_history, pd.DataFrame):
        raise InputError("price_history", "must be a DataFrame with a column per symbol",
                         value=type(price_history).__name__)
    lookback = integer("lookback", lookback, lo=3)
    min_observations = integer("min_observations", min_observations, lo=3)
    syms = list(dict.fromkeys(symbols if symbols is not None else map(str, price_history.columns)))
    for s in syms:
        if s not in price_history.columns:
            raise InputError("symbols", f"{s!r} is not a column of price_history", value=s)
    prices = price_history[syms].to_numpy(dtype=float)[-lookback:]
    if prices.shape[0] < min_observations:
        raise InputError("price_history", f"needs at least {min_observations} prices", value=prices.shape[0])
    if not np.isfinite(prices).all() or (prices <= 0).any():
        raise InputError("price_history", "prices must be finite and > 0")
    return pd.DataFrame(_corr(simple_returns(prices)), index=syms, columns=syms)


def _corr(returns: np.ndarray) -> np.ndarray:
    x = returns - returns.mean(axis=0)
    sd = np.sqrt((x * x).sum(axis=0))
    safe = np.where(sd > 0, sd, 1.0)
    c = (x.T @ x) / np.outer(safe, safe)
    c[sd == 0, :] = 0.0
    c[:, sd == 0] = 0.0
    np.fill_diagonal(c, 1.0)
    return np.clip(c, -1.0, 1.0)


def correlation_risk_score(corr: Any) -> float:
    """``min(1, 0.6 mean|rho_ij| + 0.4 max|rho_ij|)`` over i < j; 0 for one instrument."""
    c = np.asarray(corr, dtype=float)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise InputError("corr", "must be a square matrix", value=c.shape)
    n = c.shape[0]
    if n < 2:
        return 0.0
    off = np.abs(c[np.triu_indices(n, 1)])
    if not np.isfinite(off).all():
        raise InputError("corr", "must be finite")
    return float(min(0.6 * off.mean() + 0.4 * off.max(), 1.0))


def correlation_alerts(corr: pd.DataFrame) -> list[dict[str, Any]]:
    """Pairs whose ``|rho|`` exceeds the PRD's alert thresholds, most correlated first."""
    syms = list(corr.index)
    c = corr.to_numpy(dtype=float)
    out = []
    for i in range(len(syms)):
        for j in range(i + 1, len(syms)):
            rho = abs(c[i, j])
            for threshold, severity in CORRELATION_ALERT_LEVELS:
                if rho > threshold:
                    out.append({"symbol_1": syms[i], "symbol_2": syms[j], "correlation": float(rho),
                                "severity": severity,
                                "recommendation": "Consider reducing position size or closing one position"})
                    break
    return sorted(out, key=lambda a: -a["correlation"])
