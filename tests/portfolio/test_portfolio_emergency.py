"""Emergency rules at and just past their thresholds; risk-score size adjustment (PRD §2.5.1)."""

import pytest

from riskcore.portfolio.emergency import (
    EMERGENCY_RULES,
    EmergencyAction,
    apply_risk_adjustment,
    check_emergency,
)

CALM_SCORES = {"portfolio": 0.2, "position": 0.2, "correlation": 0.2, "liquidity": 0.1}
CALM_METRICS = {"current_drawdown_pct": 0.5, "margin_usage_pct": 40.0}
EPS = 1e-6


@pytest.mark.parametrize("rule", EMERGENCY_RULES, ids=lambda r: r.condition)
def test_each_rule_at_and_just_past_threshold(rule):
    scores, metrics = dict(CALM_SCORES), dict(CALM_METRICS)
    target = scores if rule.metric in scores else metrics
    target[rule.metric] = rule.threshold
    at = check_emergency(scores, metrics, n_open_positions=3)
    assert not at.required and at.recommended_action is EmergencyAction.MONITOR and at.severity == "NORMAL"
    target[rule.metric] = rule.threshold + EPS
    past = check_emergency(scores, metrics, n_open_positions=3)
    assert past.required and past.conditions == (rule.condition,)
    assert past.recommended_action is rule.action and past.severity == "CRITICAL"


def test_thresholds_are_the_prd_values():
    table = {r.condition: (r.metric, r.threshold, r.action.value) for r in EMERGENCY_RULES}
    assert table == {
        "CRITICAL_PORTFOLIO_RISK": ("portfolio", 0.9, "REDUCE_ALL_POSITIONS"),
        "EXCESSIVE_DRAWDOWN": ("current_drawdown_pct", 1.5, "CLOSE_LOSING_POSITIONS"),
        "MARGIN_CRITICAL": ("margin_usage_pct", 90.0, "IMMEDIATE_POSITION_REDUCTION"),
        "DANGEROUS_CORRELATION": ("correlation", 0.8, "CLOSE_CORRELATED_POSITIONS"),
    }


def test_correlation_rule_needs_more_than_two_positions():
    scores = {**CALM_SCORES, "correlation": 0.95}
    assert not check_emergency(scores, CALM_METRICS, 2).required
    assert check_emergency(scores, CALM_METRICS, 3).required


def test_last_fired_rule_sets_the_action_as_in_prd():
    scores = {**CALM_SCORES, "portfolio": 0.95}
    metrics = {"current_drawdown_pct": 2.0, "margin_usage_pct": 95.0}
    e = check_emergency(scores, metrics, 1)
    assert e.conditions == ("CRITICAL_PORTFOLIO_RISK", "EXCESSIVE_DRAWDOWN", "MARGIN_CRITICAL")
    assert e.recommended_action is EmergencyAction.IMMEDIATE_POSITION_REDUCTION


@pytest.mark.parametrize("values,expected", [
    ({}, 5),
    ({"portfolio": 0.7}, 5),                        # at threshold: no cut
    ({"portfolio": 0.85}, 3),                       # 1 - 0.5*0.5 = 0.75 → int(3.75)
    ({"correlation": 0.8}, 4),                      # 1 - 0.5*0.3 = 0.85 → int(4.25)
    ({"liquidity": 0.75}, 4),                       # 1 - 0.5*0.4 = 0.8 → 4
    ({"volatility_regime": 0.8}, 5),                # at threshold
    ({"volatility_regime": 0.81}, 3),               # flat 0.7 → int(3.5)
    ({"portfolio": 1.0, "correlation": 1.0, "liquidity": 1.0, "volatility_regime": 1.0}, 1),  # floor 1
])
def test_size_adjustment_table(values, expected):
    assert apply_risk_adjustment(5, values) == expected


def test_size_adjustment_zero_and_cap():
    assert apply_risk_adjustment(0, {}) == 0
    assert apply_risk_adjustment(9, {}, max_contracts=5) == 5
    # sequential truncation: 5 → portfolio 0.85 → 3 → correlation 0.8 → int(2.55) = 2
    assert apply_risk_adjustment(5, {"portfolio": 0.85, "correlation": 0.8}) == 2
