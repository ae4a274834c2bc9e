"""Liquidity assessment (PRD §2.4.2): volume ratio, spread ratio and depth to a score.

Notes
-----
With ``v`` = current / average volume, ``s`` = current / average spread and depth ``D``:

.. math::

    L = \\min\\Big(1,\\; 0.4 (1 - v)\\,[v < 0.5] + 0.4 \\min\\big(\\tfrac{s - 1}{2}, 1\\big)[s > 2]
          + 0.2 (1 - D / 100\\,000)[D < 100\\,000]\\Big).

Averages come from the last 20 observations when at least 20 are given, otherwise the
ratio is taken as normal (1.0), as in the PRD. The recommendation is looked up in
:data:`LIQUIDITY_RECOMMENDATIONS` (upper bounds, first match).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from riskcore.validate import real

__all__ = ["LiquidityThresholds", "LiquidityAssessment", "Recommendation", "assess_liquidity",
           "LIQUIDITY_RECOMMENDATIONS"]


class Recommendation(enum.StrEnum):
    NORMAL_TRADING = "NORMAL_TRADING"
    REDUCE_SIZE = "REDUCE_SIZE"
    LIMIT_ORDERS_ONLY = "LIMIT_ORDERS_ONLY"
    AVOID_TRADING = "AVOID_TRADING"


#: (score strictly below, recommendation); the last row catches the rest
LIQUIDITY_RECOMMENDATIONS: tuple[tuple[float, Recommendation], ...] = (
    (0.3, Recommendation.NORMAL_TRADING),
    (0.6, Recommendation.REDUCE_SIZE),
    (0.8, Recommendation.LIMIT_ORDERS_ONLY),
    (float("inf"), Recommendation.AVOID_TRADING),
)


@dataclass(frozen=True)
class LiquidityThresholds:
    """PRD thresholds: volume below 50 % of average, spread above 2x, depth below 100k."""

    min_volume_ratio: float = 0.5
    max_spread_ratio: float = 2.0
    min_market_depth: float = 100_000.0
    history_length: int = 20


@dataclass(frozen=True)
class LiquidityAssessment:
    """Result of :func:`assess_liquidity`; ``score`` in [0, 1], higher is worse."""

    score: float
    volume_ratio: float
    spread_ratio: float
    market_depth: float
    risk_factors: tuple[str, ...]
    recommendation: Recommendation
    thresholds: LiquidityThresholds = field(default_factory=LiquidityThresholds)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["risk_factors"] = list(self.risk_factors)
        d["recommendation"] = self.recommendation.value
        return d

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame({"value": [self.score, self.volume_ratio, self.spread_ratio, self.market_depth,
                                       self.recommendation.value]},
                            index=["liquidity_risk_score", "volume_ratio", "spread_ratio", "market_depth",
                                   "trading_recommendation"])


def _ratio(field_name: str, current: float, history: Sequence[float] | None, n: int, empty: float) -> float:
    if history is None:
        return 1.0
    h = np.asarray(history, dtype=float)
    if h.ndim != 1 or h.shape[0] < n:
        return 1.0
    avg = float(h[-n:].mean())
    if not np.isfinite(avg):
        real(f"{field_name}_history", avg)
    return current / avg if avg > 0 else empty


def assess_liquidity(
    current_volume: float,
    current_spread: float,
    market_depth: float,
    volume_history: Sequence[float] | None = None,
    spread_history: Sequence[float] | None = None,
    thresholds: LiquidityThresholds | None = None,
) -> LiquidityAssessment:
    """Score current liquidity against recent history (PRD §2.4.2).

    Parameters
    ----------
    current_volume, current_spread, market_depth : float
        Volume (>= 0), bid-ask spread (>= 0) and market depth in currency (>= 0).
    volume_history, spread_history : sequence of float, optional
        Recent observations; the last 20 give the averages (ratio 1.0 with fewer).
    thresholds : LiquidityThresholds, optional

    Returns
    -------
    LiquidityAssessment
    """
    t = thresholds or LiquidityThresholds()
    vol = real("current_volume", current_volume, lo=0.0)
    spr = real("current_spread", current_spread, lo=0.0)
    depth = real("market_depth", market_depth, lo=0.0)
    v = _ratio("volume", vol, volume_history, t.history_length, 0.0)
    s = _ratio("spread", spr, spread_history, t.history_length, 1.0)
    score = 0.0
    factors = []
    if v < t.min_volume_ratio:
        score += (1.0 - v) * 0.4
        factors.append(f"Low volume: {v:.2f}x normal")
    if s > t.max_spread_ratio:
        score += min((s - 1.0) / 2.0, 1.0) * 0.4
        factors.append(f"Wide spreads: {s:.2f}x normal")
    if depth < t.min_market_depth:
        score += (1.0 - depth / t.min_market_depth) * 0.2
        factors.append(f"Shallow market depth: ${depth:,.0f}")
    score = min(score, 1.0)
    rec = next(r for bound, r in LIQUIDITY_RECOMMENDATIONS if score < bound)
    return LiquidityAssessment(score, v, s, depth, tuple(factors), rec, t)
