"""Alert severities, the alert life cycle, recorded responses, routing levels."""

from __future__ import annotations

import pytest

from riskcore.errors import InputError
from riskcore.monitor.alerts import (
    AlertEngine,
    AlertStatus,
    Direction,
    Severity,
    Threshold,
    alert_severity,
)
from riskcore.monitor.levels import ESCALATION, AlertLevel, level_for
from riskcore.monitor.portfolio import PRD_RESPONSES, PRD_THRESHOLDS
from riskcore.monitor.routing import AlertRouter


@pytest.mark.parametrize(("value", "threshold", "expected"), [
    (1.0, 1.0, "LOW"),
    (1.0999, 1.0, "LOW"),
    (1.1, 1.0, "MEDIUM"),          # exactly 110 %
    (88.0, 80.0, "MEDIUM"),        # exactly 110 % of the margin limit
    (0.33, 0.3, "MEDIUM"),         # 0.33 / 0.3 rounds to 1.0999999999999999: still the boundary
    (1.2499, 1.0, "MEDIUM"),
    (1.25, 1.0, "HIGH"),           # exactly 125 %
    (1.875, 1.5, "HIGH"),          # drawdown 1.875 % vs 1.5 %: exactly 125 %
    (1.4999, 1.0, "HIGH"),
    (1.5, 1.0, "CRITICAL"),        # exactly 150 %
    (120.0, 80.0, "CRITICAL"),
    (10.0, 1.0, "CRITICAL"),
])
def test_severity_boundaries(value, threshold, expected):
    sev = alert_severity(value, threshold)
    assert sev == expected
    assert isinstance(sev, Severity)


def test_severity_below_direction_and_bad_threshold():
    # lower limit: liquidity 50k against 100k is a ratio of 2
    assert alert_severity(50_000, 100_000, Direction.BELOW) == "CRITICAL"
    assert alert_severity(100_000 / 1.1, 100_000, "below") == "MEDIUM"
    assert alert_severity(0.0, 0.8, "below") == "CRITICAL"
    with pytest.raises(InputError, match="threshold"):
        alert_severity(1.0, 0.0)
    with pytest.raises(InputError, match="value"):
        alert_severity(float("nan"), 1.0)


def test_crossing_raises_exactly_one_alert_and_return_clears_it():
    eng = AlertEngine({"current_drawdown_pct": 1.5})
    assert eng.evaluate({"current_drawdown_pct": 1.0}) == []
    new = eng.evaluate({"current_drawdown_pct": 2.0})
    assert len(new) == 1 and new[0].severity == "HIGH" and new[0].status is AlertStatus.ACTIVE
    # still beyond the limit (even worse): nothing new
    assert eng.evaluate({"current_drawdown_pct": 2.5}) == []
    assert eng.evaluate({"current_drawdown_pct": 3.0}) == []
    assert list(eng.active) == ["current_drawdown_pct"]
    # exactly at the limit is within it: cleared
    assert eng.evaluate({"current_drawdown_pct": 1.5}) == []
    assert eng.active == {}
    assert [a.status for a in eng.history] == [AlertStatus.ACTIVE, AlertStatus.CLEARED]
    cleared = eng.history[-1]
    assert cleared.alert_id == new[0].alert_id and cleared.cleared_value == 1.5 and cleared.cleared_at is not None
    # a second crossing is a new alert with a new id
    again = eng.evaluate({"current_drawdown_pct": 1.6})
    assert len(again) == 1 and again[0].alert_id != new[0].alert_id


def test_missing_or_nan_metric_neither_raises_nor_clears():
    eng = AlertEngine({"x": 1.0})
    eng.evaluate({"x": 2.0})
    assert eng.evaluate({}) == [] and "x" in eng.active
    assert eng.evaluate({"x": float("nan")}) == [] and "x" in eng.active


def test_prd_thresholds_fire_on_the_prd_metric_names():
    eng = AlertEngine(PRD_THRESHOLDS)
    metrics = {"portfolio_var_pct": 1.6, "position_concentration": 0.2, "correlation_risk": 0.9,
               "current_drawdown_pct": 0.5, "margin_usage_pct": 95.0}
    new = {a.metric: a.severity for a in eng.evaluate(metrics)}
    # 1.6/1.0 = 1.6 critical; 0.9/0.7 = 1.286 high; 95/80 = 1.1875 medium
    assert new == {"portfolio_var_pct": "CRITICAL", "correlation_risk": "HIGH", "margin_usage_pct": "MEDIUM"}


def test_automatic_responses_are_recorded_not_executed(tmp_store):
    eng = AlertEngine(PRD_THRESHOLDS, responses=PRD_RESPONSES)
    eng.evaluate({"portfolio_var_pct": 2.0, "margin_usage_pct": 130.0, "correlation_risk": 0.9})
    actions = {d["metric"]: d["action"] for d in eng.decisions}
    assert actions == {"portfolio_var_pct": "REDUCE_ALL_POSITIONS", "margin_usage_pct": "EMERGENCY_MARGIN_REDUCTION",
                       "correlation_risk": "INCREASE_MONITORING"}
    assert all(d["executed"] is False for d in eng.decisions)
    assert next(d for d in eng.decisions if d["metric"] == "portfolio_var_pct")["reduction_pct"] == 30
    assert eng.flush(tmp_store) == 3
    eng.evaluate({"portfolio_var_pct": 0.5, "margin_usage_pct": 130.0, "correlation_risk": 0.9})
    assert eng.flush(tmp_store) == 1  # only the cleared one changed
    stored = tmp_store.list_alerts(source="portfolio")
    assert len(stored) == 3
    assert stored.set_index("metric").loc["portfolio_var_pct", "status"] == "CLEARED"
    dec = tmp_store.list_decisions(event_type="RISK_RESPONSE")
    assert len(dec) == 3 and set(dec["status"]) == {"RECORDED"}
    assert eng.flush(tmp_store) == 0


def test_thresholds_validation():
    with pytest.raises(InputError, match="limit"):
        Threshold("x", 0.0)
    with pytest.raises(InputError, match="one threshold per metric"):
        AlertEngine([Threshold("x", 1.0), Threshold("x", 2.0)])
    with pytest.raises(InputError, match="at least one"):
        AlertEngine({})
    # a fixed severity allows a zero limit
    assert Threshold("y", 0.0, severity=Severity.HIGH).severity_of(1.0) == "HIGH"


def test_routing_levels_follow_the_prd_escalation():
    assert level_for("portfolio_var_pct", "LOW") is AlertLevel.INFO
    assert level_for("portfolio_var_pct", "MEDIUM") is AlertLevel.WARNING
    assert level_for("portfolio_var_pct", "HIGH") is AlertLevel.CRITICAL
    assert level_for("correlation_risk", "CRITICAL") is AlertLevel.CRITICAL
    assert level_for("current_drawdown_pct", "CRITICAL") is AlertLevel.EMERGENCY
    assert level_for("margin_usage_pct", "CRITICAL") is AlertLevel.EMERGENCY
    assert ESCALATION[AlertLevel.INFO] == ("webhook",)
    assert ESCALATION[AlertLevel.EMERGENCY] == ("webhook", "slack", "email", "sms")
    eng = AlertEngine({"margin_usage_pct": 80.0})
    alert = eng.evaluate({"margin_usage_pct": 130.0})[0]
    assert alert.level == "EMERGENCY"
    router = AlertRouter({}, background=False)
    assert router.route(alert) == (AlertLevel.EMERGENCY, ("webhook", "slack", "email", "sms"))
    router.dispatch([alert])
    # nothing configured: every escalation target is recorded as not configured
    out = router.deliveries_frame()
    assert list(out["channel_kind"]) == ["webhook", "slack", "email", "sms"]
    assert set(out["outcome"]) == {"not_configured"}


def test_a_bad_metric_changes_no_alert_state():
    eng = AlertEngine({"a": 1.0, "b": 1.0})
    with pytest.raises(InputError, match="b"):
        eng.evaluate({"a": 5.0, "b": "oops"})
    assert eng.active == {} and len(eng.history) == 0      # "a" was not raised half-way
    with pytest.raises(InputError, match="direction"):
        Threshold("c", 1.0, direction="sideways")
    with pytest.raises(InputError, match="direction"):
        alert_severity(2.0, 1.0, "up")
