"""The stability score, risk levels, risk factors and recommendations (riskcore.monitor.stability)."""

from __future__ import annotations

import pytest

from riskcore.errors import InputError
from riskcore.monitor.stability import (
    RiskLevel,
    recommendations,
    risk_factors,
    risk_level,
    stability_score,
)


@pytest.mark.parametrize(("args", "expected"), [
    ((1.0, 1_000_000, 1.0, 0.95), 100.0),     # every component at its maximum
    ((1.0, 1_000_000, 1.0, 1.10), 100.0),     # VaR component clipped at 1 (the seed's would give 103)
    ((1.05, 500_000, 0.9, 0.875), 58.0),      # 0.4*0.5 + 0.3*0.5 + 0.2*0.9 + 0.1*0.5
    ((0.90, 0, 0.0, 0.70), 0.0),              # 10 % off peg, no liquidity, dead network, VaR below 0.80
    ((1.0, 2_000_000, 1.0, 0.80), 90.0),      # liquidity capped at 1; VaR exactly 0.80 -> 0
    ((0.98, 250_000, 0.75, 0.86), 58.5),      # 0.4*0.8 + 0.3*0.25 + 0.2*0.75 + 0.1*0.4 = 0.585
])
def test_stability_score_known_values(args, expected):
    assert stability_score(*args) == expected


def test_stability_score_rounding_warmup_and_errors():
    s = stability_score(1.0123, 654_321, 0.937, 0.9)
    assert s == round(s, 1) and 0 <= s <= 100
    # NaN VaR (warming up) uses the seed's conservative 0.90: component (0.90-0.80)/0.15
    assert stability_score(1.0, 1e6, 1.0, float("nan")) == round(100 * (0.9 + 0.1 * (0.1 / 0.15)), 1)
    with pytest.raises(InputError, match="price"):
        stability_score(0.0, 1e6, 1.0, 0.9)
    with pytest.raises(InputError, match="liquidity_pool"):
        stability_score(1.0, -1.0, 1.0, 0.9)


def test_risk_level_bounds():
    assert [risk_level(x) for x in (100, 90.0, 89.9, 75.0, 74.9, 60.0, 59.9, 0)] == [
        RiskLevel.LOW, RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.HIGH,
        RiskLevel.CRITICAL, RiskLevel.CRITICAL]


def test_risk_factors_and_recommendations():
    f = risk_factors({"var_997_price": 0.84, "volatility": 0.04, "liquidity_pool": 150_000, "price_deviation": 0.06,
                      "network_health": 0.84})
    assert f == ["Extreme tail risk elevated", "High price volatility", "Low liquidity reserves",
                 "Significant peg deviation", "Network health concerns"]
    recs = recommendations(f)
    assert "Immediate liquidity injection required" in recs and len(recs) == 8
    assert risk_factors({"volatility": float("nan")}) == []


def test_level_bands_are_the_risk_level_table():
    from riskcore.monitor.stability import level_bands

    bands = level_bands()
    assert [(lo, hi) for lo, hi, _ in bands] == [(0.0, 60.0), (60.0, 75.0), (75.0, 90.0), (90.0, 100.0)]
    for lo, hi, level in bands:                  # each band's level is what risk_level gives inside it
        assert risk_level(lo) is level and risk_level(hi - 0.1) is level
