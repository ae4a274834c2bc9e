"""Live monitoring and alerting: feeds, the token and portfolio monitors, alerts, routing and webhooks.

Modules
-------
alerts     severities, thresholds as data, the alert life cycle (:class:`AlertEngine`)
token      stable-token monitor: price-terms ensemble VaR, stability score, risk level
portfolio  portfolio monitor with the PRD's thresholds
feeds      replay of a stored dataset and a live simulated token market
routing    INFO / WARNING / CRITICAL / EMERGENCY escalation to channels
webhooks   HTTP webhook and Slack channels (retries, backoff, time budget; never raise)
session    feed → monitor → alerts → router and store, for the Live Monitor page and notebooks
review     stability review of a run or dataset for managers
"""

from __future__ import annotations

from riskcore.monitor.alerts import (
    PRD_RESPONSES,
    PRD_THRESHOLDS,
    Alert,
    AlertEngine,
    AlertStatus,
    Direction,
    ResponsePolicy,
    Severity,
    Threshold,
    alert_severity,
    excess_ratio,
)
from riskcore.monitor.feeds import ReplayFeed, SimulatedFeed, Tick
from riskcore.monitor.portfolio import PortfolioMonitor, PortfolioSnapshot, overall_risk_score, portfolio_metrics
from riskcore.monitor.review import StabilityReview, review_dataset, review_run, review_series, worst_periods
from riskcore.monitor.routing import ESCALATION, AlertLevel, AlertRouter, level_for
from riskcore.monitor.session import MonitorSession, StepResult
from riskcore.monitor.token import (
    TOKEN_THRESHOLDS,
    RiskLevel,
    TokenMonitor,
    TokenRiskReport,
    TokenSnapshot,
    recommendations,
    risk_factors,
    risk_level,
    stability_score,
)
from riskcore.monitor.webhooks import (
    SlackWebhookChannel,
    WebhookChannel,
    configured_webhooks,
    parse_webhook_urls,
    validate_webhook_url,
)

__all__ = [
    "Alert", "AlertEngine", "AlertLevel", "AlertRouter", "AlertStatus", "Direction", "ESCALATION",
    "MonitorSession", "PRD_RESPONSES", "PRD_THRESHOLDS", "PortfolioMonitor", "PortfolioSnapshot", "ReplayFeed",
    "ResponsePolicy", "RiskLevel", "Severity", "SimulatedFeed", "SlackWebhookChannel", "StabilityReview",
    "StepResult", "TOKEN_THRESHOLDS", "Threshold", "Tick", "TokenMonitor", "TokenRiskReport", "TokenSnapshot",
    "WebhookChannel", "alert_severity", "configured_webhooks", "excess_ratio", "level_for", "overall_risk_score",
    "parse_webhook_urls", "portfolio_metrics", "recommendations", "review_dataset", "review_run", "review_series",
    "risk_factors", "risk_level", "stability_score", "validate_webhook_url", "worst_periods",
]
