"""Live monitoring and alerting: feeds, the token and portfolio monitors, alerts, routing and webhooks.

Modules
-------
levels     severities, routing levels, the escalation table (shared by alerts and routing)
alerts     thresholds as data, the alert life cycle (:class:`AlertEngine`)
stability  stability score, risk levels, risk factors and recommendations (tables)
token      stable-token monitor: price-terms rolling ensemble VaR, stability score, risk level
portfolio  portfolio monitor with the PRD's thresholds and responses
feeds      replay of a stored dataset and a live simulated token market
routing    INFO / WARNING / CRITICAL / EMERGENCY escalation to channels
webhooks   HTTP webhook and Slack channels (retries, backoff, time budget; never raise)
session    feed → monitor → alerts → router and store, for the Live Monitor page and notebooks
review     stability review of a run or dataset for managers

The names below are imported on first use (:mod:`riskcore._lazy`, the policy of every riskcore
package): ``import riskcore.monitor`` imports no submodule, and the HTTP webhook code is loaded only
by what sends alerts.
"""

from __future__ import annotations

from riskcore._lazy import lazy_exports

#: public name -> module that defines it
_LAZY: dict[str, str] = {
    "Severity": "riskcore.monitor.levels",
    "SEVERITY_ORDER": "riskcore.monitor.levels",
    "SEVERITY_COLOURS": "riskcore.monitor.levels",
    "AlertLevel": "riskcore.monitor.levels",
    "ChannelKind": "riskcore.monitor.levels",
    "ESCALATION": "riskcore.monitor.levels",
    "EMERGENCY_METRICS": "riskcore.monitor.levels",
    "level_for": "riskcore.monitor.levels",
    "Alert": "riskcore.monitor.alerts",
    "AlertEngine": "riskcore.monitor.alerts",
    "AlertStatus": "riskcore.monitor.alerts",
    "Direction": "riskcore.monitor.alerts",
    "ResponsePolicy": "riskcore.monitor.alerts",
    "Threshold": "riskcore.monitor.alerts",
    "alert_severity": "riskcore.monitor.alerts",
    "excess_ratio": "riskcore.monitor.alerts",
    "ReplayFeed": "riskcore.monitor.feeds",
    "SimulatedFeed": "riskcore.monitor.feeds",
    "Tick": "riskcore.monitor.feeds",
    "PRD_RESPONSES": "riskcore.monitor.portfolio",
    "PRD_THRESHOLDS": "riskcore.monitor.portfolio",
    "PortfolioMonitor": "riskcore.monitor.portfolio",
    "PortfolioSnapshot": "riskcore.monitor.portfolio",
    "overall_risk_score": "riskcore.monitor.portfolio",
    "portfolio_metrics": "riskcore.monitor.portfolio",
    "StabilityReview": "riskcore.monitor.review",
    "review_dataset": "riskcore.monitor.review",
    "review_run": "riskcore.monitor.review",
    "review_series": "riskcore.monitor.review",
    "worst_periods": "riskcore.monitor.review",
    "AlertRouter": "riskcore.monitor.routing",
    "Delivery": "riskcore.monitor.routing",
    "DeliveryStatus": "riskcore.monitor.routing",
    "MonitorSession": "riskcore.monitor.session",
    "StepResult": "riskcore.monitor.session",
    "RiskLevel": "riskcore.monitor.stability",
    "recommendations": "riskcore.monitor.stability",
    "risk_factors": "riskcore.monitor.stability",
    "risk_level": "riskcore.monitor.stability",
    "stability_score": "riskcore.monitor.stability",
    "TOKEN_THRESHOLDS": "riskcore.monitor.token",
    "TokenMonitor": "riskcore.monitor.token",
    "TokenRiskReport": "riskcore.monitor.token",
    "TokenSnapshot": "riskcore.monitor.token",
    "SlackWebhookChannel": "riskcore.monitor.webhooks",
    "WebhookChannel": "riskcore.monitor.webhooks",
    "configured_webhooks": "riskcore.monitor.webhooks",
    "parse_webhook_urls": "riskcore.monitor.webhooks",
    "validate_webhook_url": "riskcore.monitor.webhooks",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
