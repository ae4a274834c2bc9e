"""Stability score, risk levels, risk factors and recommendations of a stable token (seed 000), as tables.

The token monitor (:mod:`riskcore.monitor.token`) applies them every tick; the stability review and the
figures read the same tables, so each rule is written once.

* :func:`stability_score` — price 40 %, liquidity 30 %, network 20 %, VaR 10 % (:data:`STABILITY_WEIGHTS`);
* :func:`risk_level` — the score's level by :data:`RISK_LEVEL_BOUNDS` (the only copy of the bounds);
* :func:`risk_factors` — :data:`RISK_FACTOR_RULES`, one :class:`RiskFactorRule` per factor;
* :func:`recommendations` — :data:`RECOMMENDATIONS` per factor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import NamedTuple

from riskcore.errors import InputError
from riskcore.monitor.alerts import Direction
from riskcore.validate import finite

__all__ = [
    "RiskLevel",
    "RISK_LEVEL_BOUNDS",
    "STABILITY_WEIGHTS",
    "WARMUP_VAR_99_PRICE",
    "stability_components",
    "stability_score",
    "weighted_score",
    "level_of_score",
    "level_bands",
    "risk_level",
    "RiskFactorRule",
    "RISK_FACTOR_RULES",
    "RECOMMENDATIONS",
    "risk_factors",
    "recommendations",
]

#: the seed's conservative default VaR price level (99 %) used while the VaR is warming up
WARMUP_VAR_99_PRICE = 0.90


class RiskLevel(StrEnum):
    """Overall risk level from the stability score (seed ``_assess_overall_risk_level``)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


#: score lower bounds: >= 90 low, >= 75 medium, >= 60 high, else critical
RISK_LEVEL_BOUNDS: tuple[tuple[float, RiskLevel], ...] = (
    (90.0, RiskLevel.LOW), (75.0, RiskLevel.MEDIUM), (60.0, RiskLevel.HIGH))

#: stability-score weights (seed: price 40 %, liquidity 30 %, network 20 %, VaR 10 %)
STABILITY_WEIGHTS = {"price": 0.40, "liquidity": 0.30, "network": 0.20, "var": 0.10}


def _clip01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def stability_components(price: float, liquidity_pool: float, network_health: float,
                         var_99_price: float) -> dict[str, float]:
    """The four [0, 1] components of :func:`stability_score` (no validation; NaN VaR → warm-up default)."""
    v = WARMUP_VAR_99_PRICE if var_99_price != var_99_price else var_99_price
    return {
        "price": _clip01(1.0 - abs(price - 1.0) / 0.1),
        "liquidity": _clip01(liquidity_pool / 1_000_000.0),
        "network": _clip01(network_health),
        "var": _clip01((v - 0.80) / 0.15),
    }


def stability_score(price: float, liquidity_pool: float, network_health: float, var_99_price: float) -> float:
    """Stability score of a stable token, 0–100 with one decimal (seed 000 ``_calculate_stability_score``).

    Parameters
    ----------
    price : float
        Token price (peg 1.0), > 0.
    liquidity_pool : float
        Liquidity pool in currency, >= 0.
    network_health : float
        In [0, 1] (values outside are clipped).
    var_99_price : float
        99 % VaR in **price terms**, ``price × (1 − VaR_99)``. NaN means "not yet known" and uses the
        seed's conservative default 0.90.

    Returns
    -------
    float
        ``round(100 × (0.4 P + 0.3 L + 0.2 H + 0.1 V), 1)``.

    Notes
    -----
    .. math::
        P = \\max(0, 1 - |p - 1| / 0.1),\\quad L = \\min(1, \\text{pool} / 10^6),\\quad
        H = \\text{health},\\quad V = (\\text{VaR}_{99}^{\\text{price}} - 0.80) / 0.15,

    each clipped to [0, 1] (the seed does not clip V, whose values above 1 would give scores above
    100).

    Examples
    --------
    >>> stability_score(1.0, 1_000_000, 1.0, 0.95)
    100.0
    >>> stability_score(1.05, 500_000, 0.9, 0.875)
    58.0
    """
    p = finite("price", price)
    if p <= 0:
        raise InputError("price", "must be > 0", value=price)
    liq = finite("liquidity_pool", liquidity_pool)
    if liq < 0:
        raise InputError("liquidity_pool", "must be >= 0", value=liquidity_pool)
    h = finite("network_health", network_health)
    v = math.nan if _is_nan(var_99_price) else finite("var_99_price", var_99_price)  # NaN: warming up
    return weighted_score(stability_components(p, liq, h, v))


def _is_nan(x: object) -> bool:
    try:
        return not isinstance(x, (bool, str)) and math.isnan(x)  # type: ignore[arg-type]
    except TypeError:
        return False


def weighted_score(c: Mapping[str, float]) -> float:
    w = STABILITY_WEIGHTS
    return round(100.0 * (w["price"] * c["price"] + w["liquidity"] * c["liquidity"] + w["network"] * c["network"]
                          + w["var"] * c["var"]), 1)


def level_bands() -> list[tuple[float, float, RiskLevel]]:
    """``(low, high, level)`` score bands of :data:`RISK_LEVEL_BOUNDS` from 0 to 100, critical first (for charts)."""
    lows = [0.0] + sorted(b for b, _ in RISK_LEVEL_BOUNDS)
    highs = lows[1:] + [100.0]
    levels = [RiskLevel.CRITICAL] + [lv for _, lv in sorted(RISK_LEVEL_BOUNDS, key=lambda t: t[0])]
    return list(zip(lows, highs, levels, strict=True))


def level_of_score(score: float) -> RiskLevel:
    """The level of a score known to be a number (the per-tick path; :func:`risk_level` validates)."""
    for bound, level in RISK_LEVEL_BOUNDS:
        if score >= bound:
            return level
    return RiskLevel.CRITICAL


def risk_level(score: float) -> RiskLevel:
    """``low`` (>= 90), ``medium`` (>= 75), ``high`` (>= 60), else ``critical`` (:data:`RISK_LEVEL_BOUNDS`).

    Examples
    --------
    >>> risk_level(90.0), risk_level(59.9)
    (<RiskLevel.LOW: 'low'>, <RiskLevel.CRITICAL: 'critical'>)
    """
    return level_of_score(finite("score", score))


class RiskFactorRule(NamedTuple):
    """One key risk factor (seed ``_identify_key_risk_factors``): present when ``metric`` is beyond ``limit``."""

    factor: str
    metric: str
    direction: Direction
    limit: float

    def present(self, value: float | None) -> bool:
        """Strictly beyond the limit; a missing or NaN value is no factor."""
        if value is None or value != value:
            return False
        return value > self.limit if self.direction is Direction.ABOVE else value < self.limit


#: seed ``_identify_key_risk_factors``
RISK_FACTOR_RULES: tuple[RiskFactorRule, ...] = (
    RiskFactorRule("Extreme tail risk elevated", "var_997_price", Direction.BELOW, 0.85),
    RiskFactorRule("High price volatility", "volatility", Direction.ABOVE, 0.03),
    RiskFactorRule("Low liquidity reserves", "liquidity_pool", Direction.BELOW, 200_000.0),
    RiskFactorRule("Significant peg deviation", "price_deviation", Direction.ABOVE, 0.05),
    RiskFactorRule("Network health concerns", "network_health", Direction.BELOW, 0.85),
)

#: seed ``_generate_recommendations`` (the seed gives none for network health)
RECOMMENDATIONS: dict[str, tuple[str, ...]] = {
    "Extreme tail risk elevated": ("Consider increasing stability pool reserves",
                                   "Enhance anti-speculation mechanisms"),
    "High price volatility": ("Monitor market conditions closely", "Prepare volatility dampening measures"),
    "Low liquidity reserves": ("Immediate liquidity injection required", "Activate emergency liquidity protocols"),
    "Significant peg deviation": ("Review and adjust stabilization mechanisms",
                                  "Consider market intervention if necessary"),
}


def risk_factors(metrics: Mapping[str, float]) -> list[str]:
    """Key risk factors present in ``metrics`` (missing or NaN metrics are not factors)."""
    return [rule.factor for rule in RISK_FACTOR_RULES if rule.present(metrics.get(rule.metric))]


def recommendations(factors: Sequence[str]) -> list[str]:
    """The seed's recommendations for the given risk factors, in order, without duplicates."""
    out: list[str] = []
    for f in factors:
        for r in RECOMMENDATIONS.get(f, ()):
            if r not in out:
                out.append(r)
    return out
