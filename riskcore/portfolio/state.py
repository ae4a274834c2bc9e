"""The 10-feature risk state vector (PRD §2.1.2) and its rolling z-score normaliser.

Features, in this order (float64):

====  ==========================  ====================================================
idx   name                        definition here
====  ==========================  ====================================================
0     account_equity_normalized   account equity / initial capital
1     open_positions_count        number of open positions
2     volatility_regime           current volatility percentile, [0, 1]
3     correlation_risk            PRD correlation risk score of the open symbols, [0, 1]
4     var_estimate_5pct           1-day Monte Carlo VaR at the 5 % tail / equity (fraction)
5     current_drawdown_pct        percent
6     margin_usage_pct            percent
7     time_of_day_risk            [0, 1]
8     market_stress_level         [0, 1]
9     liquidity_conditions        liquidity risk score, [0, 1] (higher is worse)
====  ==========================  ====================================================

The PRD gives feature 4 as "5 % VaR estimate" without a unit; it is a fraction of equity
here so that the vector does not scale with account size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.portfolio.context import PortfolioContext
from riskcore.portfolio.correlation import correlation_matrix, correlation_risk_score
from riskcore.portfolio.var import exposures, fit_return_model, quantile_linear
from riskcore.validate import integer, real

__all__ = ["RISK_FEATURES", "N_FEATURES", "RiskState", "compute_risk_state", "RollingZScore", "FEATURE_INDEX"]

RISK_FEATURES: tuple[str, ...] = (
    "account_equity_normalized", "open_positions_count", "volatility_regime", "correlation_risk",
    "var_estimate_5pct", "current_drawdown_pct", "margin_usage_pct", "time_of_day_risk",
    "market_stress_level", "liquidity_conditions",
)
N_FEATURES = len(RISK_FEATURES)
FEATURE_INDEX = {name: i for i, name in enumerate(RISK_FEATURES)}


@dataclass(frozen=True)
class RiskState:
    """A risk state vector with the measures behind it."""

    vector: np.ndarray
    var_currency: float
    concentration: float
    correlation: pd.DataFrame | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"vector": dict(zip(RISK_FEATURES, map(float, self.vector), strict=True)),
                "var_currency": self.var_currency, "concentration": self.concentration}

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame({"value": self.vector}, index=pd.Index(RISK_FEATURES, name="feature"))


def compute_risk_state(context: PortfolioContext, *, n_simulations: int = 2000,
                       seed: int | np.random.Generator | None = 0, lookback: int = 252) -> RiskState:
    """Risk state vector of a :class:`PortfolioContext`.

    VaR (1 day, 5 % tail) and the correlation score use ``context.price_history`` over the
    last ``lookback`` prices; without a history (or with no positions) both are 0.
    """
    if not isinstance(context, PortfolioContext):
        raise InputError("portfolio_context", "must be a PortfolioContext", value=type(context).__name__)
    n_simulations = integer("n_simulations", n_simulations, lo=100)
    lookback = integer("lookback", lookback, lo=31)
    var, corr, corr_df = 0.0, 0.0, None
    ph = context.price_history
    if context.positions and ph is not None:
        with np.errstate(all="ignore"):  # overflow from absurd prices is caught by the finiteness check below
            var, corr, corr_df = _var_and_correlation(context, ph, n_simulations, seed, lookback)
    return state_from_measures(context, var, corr, corr_df)


def state_from_measures(context: PortfolioContext, var: float, corr: float,
                        corr_df: pd.DataFrame | None) -> RiskState:
    """The :class:`RiskState` of ``context`` given its VaR (currency) and correlation score."""
    vec = np.array([
        context.account_equity / context.initial_capital, float(len(context.positions)), context.volatility_regime,
        corr, var / context.account_equity, context.current_drawdown_pct, context.margin_usage_pct,
        context.time_of_day_risk, context.market_stress_level, context.liquidity_risk,
    ], dtype=np.float64)
    if not np.isfinite(vec).all():
        bad = RISK_FEATURES[int(np.flatnonzero(~np.isfinite(vec))[0])]
        raise InputError("price_history", f"gives a non-finite {bad} (absurd prices or exposures?)")
    return RiskState(vec, var, context.concentration(), corr_df)


def _var_and_correlation(context: PortfolioContext, ph: pd.DataFrame, n_simulations: int,
                         seed: int | np.random.Generator | None, lookback: int
                         ) -> tuple[float, float, pd.DataFrame | None]:
    corr_df = None
    corr = 0.0
    symbols, e = exposures(context.positions, one_instrument=False)
    hist = ph[symbols].dropna().iloc[-lookback:]  # rows where every held symbol has a price
    model = fit_return_model(hist, symbols)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    var = max(-quantile_linear(model.simulate_pnl(e, 1, n_simulations, rng), 0.05), 0.0)
    if len(symbols) > 1 and len(hist) >= 30:
        corr_df = correlation_matrix(hist, symbols, lookback=lookback)
        corr = correlation_risk_score(corr_df.to_numpy())
    return var, corr, corr_df


def check_state_vector(risk_state: Any, field: str = "risk_state") -> np.ndarray:
    """``risk_state`` as a finite float64 vector of length 10, else :class:`InputError`."""
    try:
        v = np.asarray(risk_state, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(field, "must be 10 numbers", value=type(risk_state).__name__) from None
    if v.shape != (N_FEATURES,):
        raise InputError(field, f"must have shape ({N_FEATURES},)", value=v.shape)
    if not np.isfinite(v).all():
        i = int(np.flatnonzero(~np.isfinite(v))[0])
        raise InputError(f"{field}[{RISK_FEATURES[i]}]", "must be finite", value=float(v[i]))
    return v


class RollingZScore:
    """Rolling z-score normaliser of state vectors (PRD §2.1.1: "Z-score with rolling statistics").

    ``update(x)`` returns ``clip((x - mean) / std, -clip, clip)`` with the mean and sample
    standard deviation (ddof = 1) of the **previous** ``window`` vectors, then adds ``x``
    to the window; so a jump shows up at once rather than being diluted by itself. Until
    ``min_periods`` vectors have been seen it returns zeros (the neutral input of a learned
    policy). Features whose window is constant use a standard deviation of 1e-12 → z = 0
    when unchanged.

    Parameters
    ----------
    window : int, default 252
    min_periods : int, default 20
    clip : float, default 5.0
    n_features : int, default 10
    """

    def __init__(self, window: int = 252, min_periods: int = 20, clip: float = 5.0, n_features: int = N_FEATURES):
        self.window = integer("window", window, lo=2)
        self.min_periods = integer("min_periods", min_periods, lo=2, hi=self.window)
        self.clip = real("clip", clip, lo=0.0, lo_open=True)
        self.n_features = integer("n_features", n_features, lo=1)
        self._buf = np.zeros((self.window, self.n_features))
        self._count = 0

    @property
    def count(self) -> int:
        return min(self._count, self.window)

    def transform(self, x: Any) -> np.ndarray:
        """z-score of ``x`` against the current window, without adding it."""
        v = np.asarray(x, dtype=np.float64)
        if v.shape != (self.n_features,):
            raise InputError("x", f"must have shape ({self.n_features},)", value=v.shape)
        n = self.count
        if n < self.min_periods:
            return np.zeros(self.n_features)
        w = self._buf[:n]
        mean = w.mean(axis=0)
        sd = np.maximum(w.std(axis=0, ddof=1), 1e-12)
        z = (v - mean) / sd
        z[np.abs(v - mean) <= 1e-12 * np.maximum(1.0, np.abs(mean))] = 0.0
        return np.clip(z, -self.clip, self.clip)

    def update(self, x: Any) -> np.ndarray:
        """z-score of ``x`` against the previous window, then add ``x`` to the window."""
        z = self.transform(x)
        self._buf[self._count % self.window] = np.asarray(x, dtype=np.float64)
        self._count += 1
        return z

    def state_dict(self) -> dict[str, Any]:
        """Plain data (arrays and numbers) to save and restore the normaliser."""
        return {"window": self.window, "min_periods": self.min_periods, "clip": self.clip,
                "n_features": self.n_features, "buffer": self._buf.copy(), "count": self._count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        buf = np.asarray(state["buffer"], dtype=np.float64)
        if buf.shape != self._buf.shape:
            raise InputError("buffer", f"must have shape {self._buf.shape}", value=buf.shape)
        self._buf = buf.copy()
        self._count = integer("count", state["count"], lo=0)
