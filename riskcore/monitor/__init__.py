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

from riskcore._lazy import lazy_exports, lazy_table

#: public name -> module that defines it
_LAZY: dict[str, str] = lazy_table({
    "riskcore.monitor.levels": "Severity SEVERITY_ORDER SEVERITY_COLOURS AlertLevel ChannelKind ESCALATION "
                               "EMERGENCY_METRICS level_for",
    "riskcore.monitor.alerts": "Alert AlertEngine AlertStatus Direction ResponsePolicy Threshold alert_severity "
                               "excess_ratio",
    "riskcore.monitor.feeds": "ReplayFeed SimulatedFeed Tick",
    "riskcore.monitor.portfolio": "PRD_RESPONSES PRD_THRESHOLDS PortfolioMonitor PortfolioSnapshot overall_risk_score "
                                  "portfolio_metrics",
    "riskcore.monitor.review": "StabilityReview review_dataset review_run review_series worst_periods",
    "riskcore.monitor.routing": "AlertRouter Delivery DeliveryStatus",
    "riskcore.monitor.session": "MonitorSession StepResult",
    "riskcore.monitor.stability": "RiskLevel recommendations risk_factors risk_level stability_score",
    "riskcore.monitor.token": "TOKEN_THRESHOLDS TokenMonitor TokenRiskReport TokenSnapshot",
    "riskcore.monitor.webhooks": "SlackWebhookChannel WebhookChannel configured_webhooks parse_webhook_urls "
                                 "validate_webhook_url",
})

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
