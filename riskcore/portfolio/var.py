"""Monte Carlo portfolio Value at Risk (PRD §2.2.3, extended to several correlated assets).

Notes
-----
Simple daily returns ``r_t = P_t / P_{t-1} - 1`` of each instrument give a mean vector
``mu`` and a sample covariance ``Sigma`` (ddof = 1). With ``Sigma = L L^T`` (Cholesky;
a symmetric square root from the eigen-decomposition when ``Sigma`` is singular, e.g. two
identical columns) each simulation draws ``r = mu + L z`` per day, ``z ~ N(0, I)``,
compounds over ``time_horizon`` days and values the book:

.. math:: \\Delta V = \\sum_i e_i \\Big(\\prod_{d=1}^{h} (1 + r_{i,d}) - 1\\Big),
          \\qquad e_i = \\sum_{\\text{positions on } i} q\\, P\\, m ,

with signed quantity ``q`` (negative = short), current price ``P`` and contract
multiplier ``m``. VaR is the loss at the ``confidence_level`` tail of ``Delta V``:
``VaR = max(0, -quantile(Delta V, confidence_level))`` (NumPy's linear interpolation).

**Convention.** As in the PRD, ``confidence_level`` is the *tail probability*: 0.05 is the
5 % tail, i.e. the 95 % VaR. Values above 0.5 are rejected (0.95 is almost surely meant
as 0.05). The result is a positive currency amount; the PRD's ``abs()`` would turn a
tail *gain* into a loss, so a tail quantile above zero gives 0 here.

The PRD re-seeds NumPy's global generator (defect 10 of SPEC §4); here randomness comes
only from ``seed`` (an int or a ``numpy.random.Generator``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from riskcore.errors import InputError
from riskcore.returns import simple_returns
from riskcore.validate import integer, real

__all__ = ["portfolio_var", "quantile_linear", "parametric_portfolio_var", "ReturnModel", "fit_return_model",
           "exposures"]


def _get(pos: Any, name: str, i: int, default: Any = None) -> Any:
    if isinstance(pos, Mapping):
        value = pos.get(name, default)
    else:
        value = getattr(pos, name, default)
    if value is None and default is None:
        raise InputError(f"positions[{i}].{name}", "is required", value=None)
    return value


def exposures(positions: Sequence[Any], one_instrument: bool) -> tuple[list[str], np.ndarray]:
    """Signed currency exposure ``q P m`` per instrument (symbols in first-seen order).

    ``positions`` are :class:`~riskcore.portfolio.context.Position` objects or mappings with
    ``quantity``, ``current_price`` and, unless ``one_instrument``, ``symbol``; ``multiplier``
    defaults to 1.
    """
    if isinstance(positions, (str, bytes, Mapping)) or not isinstance(positions, Sequence):
        raise InputError("positions", "must be a list of positions", value=type(positions).__name__)
    symbols: list[str] = []
    values: dict[str, float] = {}
    named: set[str] = set()
    for i, pos in enumerate(positions):
        q = real(f"positions[{i}].quantity", _get(pos, "quantity", i))
        p = real(f"positions[{i}].current_price", _get(pos, "current_price", i), lo=0.0, lo_open=True)
        m = real(f"positions[{i}].multiplier", _get(pos, "multiplier", i, 1.0), lo=0.0, lo_open=True)
        if one_instrument:
            given = pos.get("symbol") if isinstance(pos, Mapping) else getattr(pos, "symbol", None)
            if given is not None:
                named.add(str(given))
            if len(named) > 1:
                raise InputError("price_history", "is a single series but the positions are on several symbols "
                                 f"({sorted(named)}); pass a DataFrame with a column per symbol", value=len(named))
        sym = "_" if one_instrument else _get(pos, "symbol", i)
        if not isinstance(sym, str) or not sym:
            raise InputError(f"positions[{i}].symbol", "must be a non-empty string", value=sym)
        if sym not in values:
            symbols.append(sym)
            values[sym] = 0.0
        values[sym] += q * p * m
    return symbols, np.array([values[s] for s in symbols], dtype=float)


@dataclass(frozen=True)
class ReturnModel:
    """Mean vector and covariance square root of daily simple returns (one column per symbol)."""

    symbols: tuple[str, ...]
    mean: np.ndarray
    cov: np.ndarray
    chol: np.ndarray
    n_obs: int

    def simulate_pnl(self, exposure: np.ndarray, time_horizon: int, n_simulations: int,
                     rng: np.random.Generator) -> np.ndarray:
        """Simulated P&L of a book with ``exposure`` (currency per symbol), shape ``(n_simulations,)``."""
        k = self.mean.shape[0]
        if time_horizon == 1:
            r = rng.standard_normal((n_simulations, k)) @ self.chol.T
            r += self.mean
            return r @ exposure
        z = rng.standard_normal((n_simulations, time_horizon, k))
        r = z @ self.chol.T + self.mean
        growth = np.prod(1.0 + r, axis=1) - 1.0
        return growth @ exposure

    def to_dict(self) -> dict[str, Any]:
        return {"symbols": list(self.symbols), "mean": self.mean.tolist(), "cov": self.cov.tolist(),
                "n_obs": self.n_obs}


def _sqrt_psd(cov: np.ndarray) -> np.ndarray:
    """A square root ``S`` with ``S @ S.T == cov`` for a covariance that may be singular.

    Cholesky when the matrix is numerically positive definite; otherwise (a column that is a
    linear combination of others, e.g. the same instrument twice) the eigen square root with
    eigenvalues below ``k * eps * max(eigenvalue)`` set to zero. Cholesky of a singular matrix can
    succeed on round-off and leave a pivot of order ``sqrt(eps)``, which would give an exactly
    hedged book a spurious non-zero VaR, so a pivot below ``1e-6`` of its variable's standard
    deviation (a multiple correlation above ``1 - 1e-12``) counts as singular too.
    """
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    try:
        chol = np.linalg.cholesky(cov)
        if np.all(np.diag(chol) > 1e-6 * sd):
            return chol
    except np.linalg.LinAlgError:
        pass
    w, v = np.linalg.eigh(cov)
    tol = cov.shape[0] * np.finfo(float).eps * max(float(w.max()), 0.0)
    return v * np.sqrt(np.where(w > tol, w, 0.0))


def _returns_matrix(price_history: Any, symbols: list[str], one_instrument: bool) -> np.ndarray:
    if isinstance(price_history, pd.DataFrame):
        # positional selection on one float array: pandas' label indexing costs more than the simulation
        where = {str(c): i for i, c in enumerate(price_history.columns)}
        missing = [s for s in symbols if s not in where]
        if missing:
            raise InputError("price_history", f"has no column for symbol {missing[0]!r}; "
                             f"columns are {list(where)}", value=missing[0])
        try:
            prices = price_history.to_numpy(dtype=float)[:, [where[s] for s in symbols]]
        except (TypeError, ValueError):
            raise InputError("price_history", "prices must be numbers") from None
    else:
        if isinstance(price_history, pd.Series):
            price_history = price_history.to_numpy()
        try:
            prices = np.asarray(price_history, dtype=float)
        except (TypeError, ValueError) as exc:
            raise InputError("price_history", "must be a 1-D array of prices or a DataFrame "
                             "with a column per symbol", value=type(price_history).__name__) from exc
        if prices.ndim != 1:
            raise InputError("price_history", "a plain array must be 1-D (one instrument); "
                             "pass a DataFrame with a column per symbol for several", value=prices.shape)
        prices = prices[:, None]
    if prices.shape[0] < 3:
        raise InputError("price_history", "needs at least 3 prices (2 returns)", value=prices.shape[0])
    bad = ~np.isfinite(prices) | (prices <= 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError("price_history", f"prices must be finite and > 0 (column {symbols[col]!r})",
                         value=prices[row, col], row=int(row) + 1)
    return simple_returns(prices)


def fit_return_model(price_history: Any, symbols: Sequence[str] | None = None) -> ReturnModel:
    """Fit :class:`ReturnModel` to a 1-D price array or a DataFrame (``symbols``: columns to use)."""
    one = not isinstance(price_history, pd.DataFrame)
    syms = ["_"] if one else list(symbols if symbols is not None else map(str, price_history.columns))
    r = _returns_matrix(price_history, syms, one)
    mean = r.mean(axis=0)
    cov = np.atleast_2d(np.cov(r, rowvar=False, ddof=1))
    return ReturnModel(tuple(syms), mean, cov, _sqrt_psd(cov), r.shape[0])


def _check_common(confidence_level: float, time_horizon: int, n_simulations: int) -> tuple[float, int, int]:
    alpha = real("confidence_level", confidence_level, lo=0.0, hi=0.5, lo_open=True)
    h = integer("time_horizon", time_horizon, lo=1, hi=252)
    n = integer("n_simulations", n_simulations, lo=100, hi=10_000_000)
    return alpha, h, n


def portfolio_var(
    positions: Sequence[Any],
    price_history: Any,
    confidence_level: float = 0.05,
    time_horizon: int = 1,
    n_simulations: int = 10_000,
    seed: int | np.random.Generator | None = None,
) -> float:
    """Monte Carlo VaR of a book of positions, in currency (a positive loss).

    Parameters
    ----------
    positions : sequence of Position or mapping
        Each with ``quantity`` (signed contracts), ``current_price``, optional
        ``multiplier`` (default 1) and, for a DataFrame history, ``symbol``.
    price_history : 1-D array or DataFrame
        A 1-D array when every position is on one instrument (as in the PRD), or a
        DataFrame with one column of prices per symbol (rows aligned in time).
    confidence_level : float, default 0.05
        Tail probability in (0, 0.5]: 0.05 is the 5 % tail (95 % VaR), as in the PRD.
    time_horizon : int, default 1
        Days, compounded day by day.
    n_simulations : int, default 10000
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    float
        VaR in currency, >= 0. An empty book has VaR 0.

    Examples
    --------
    >>> import numpy as np
    >>> prices = 100 * np.cumprod(1 + np.random.default_rng(0).normal(0, 0.02, 500))
    >>> round(portfolio_var([{"quantity": 1, "current_price": 100}], prices, seed=1) / 100, 3)
    0.034
    """
    alpha, h, n = _check_common(confidence_level, time_horizon, n_simulations)
    one = not isinstance(price_history, pd.DataFrame)
    symbols, e = exposures(positions, one)
    if not symbols:
        return 0.0
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    model = fit_return_model(price_history, None if one else symbols)
    pnl = model.simulate_pnl(e, h, n, rng)
    return max(-quantile_linear(pnl, alpha), 0.0)


def quantile_linear(x: np.ndarray, q: float) -> float:
    """``numpy.quantile(x, q)`` (linear interpolation) by partial sort: the same number, faster."""
    n = x.shape[0]
    h = (n - 1) * q
    lo = int(np.floor(h))
    hi = min(lo + 1, n - 1)
    part = np.partition(x, (lo, hi))
    return float(part[lo] + (h - lo) * (part[hi] - part[lo]))


def parametric_portfolio_var(positions: Sequence[Any], price_history: Any, confidence_level: float = 0.05,
                             time_horizon: int = 1) -> float:
    """Analytical normal VaR ``-(h e·mu + z_alpha sqrt(h e'Σe))`` of the same return model.

    The reference for :func:`portfolio_var` (PRD Appendix A.2): the Monte Carlo estimate
    converges to it for a one-day horizon, where the simulated P&L is exactly normal.
    """
    alpha, h, _ = _check_common(confidence_level, time_horizon, 100)
    one = not isinstance(price_history, pd.DataFrame)
    symbols, e = exposures(positions, one)
    if not symbols:
        return 0.0
    model = fit_return_model(price_history, None if one else symbols)
    mu = h * float(e @ model.mean)
    sd = float(np.sqrt(h * (e @ model.cov @ e)))
    return max(-(mu + norm.ppf(alpha) * sd), 0.0)
