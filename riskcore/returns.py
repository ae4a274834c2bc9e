"""Simple returns, written once for every caller (VaR inputs, portfolio risk, the VaR Lab).

A leaf module (NumPy and pandas only) so each layer can use it without importing another.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["simple_returns"]


def simple_returns(prices: Any) -> Any:
    """Simple returns ``p_t / p_{t-1} - 1`` along the first axis.

    Parameters
    ----------
    prices : ndarray, Series or DataFrame
        Prices in rows (one column per symbol for 2-D input); not validated here (callers
        check finiteness and positivity where the input comes from a user).

    Returns
    -------
    ndarray, Series or DataFrame
        One row fewer. A Series or DataFrame keeps its name / columns and is indexed by the
        later row of each pair.

    Examples
    --------
    >>> simple_returns(np.array([100.0, 110.0, 99.0]))
    array([ 0.1, -0.1])
    """
    if isinstance(prices, pd.Series):
        return pd.Series(simple_returns(prices.to_numpy(dtype="float64")), index=prices.index[1:], name=prices.name)
    if isinstance(prices, pd.DataFrame):
        return pd.DataFrame(simple_returns(prices.to_numpy(dtype="float64")), index=prices.index[1:],
                            columns=prices.columns)
    p = np.asarray(prices, dtype="float64")
    return p[1:] / p[:-1] - 1.0
