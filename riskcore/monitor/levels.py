"""Severities and routing levels: the vocabulary that alerts and routing share.

:mod:`riskcore.monitor.alerts` rates a breach with a :class:`Severity`; :mod:`riskcore.monitor.routing`
sends it to the channels its :class:`AlertLevel` escalates to. Both import this module and neither
imports the other for these names, so the two stay free of an import cycle.

Levels and the channels each one reaches, as the PRD escalates them (§5.3.1):

========== ==========================================
INFO       webhook
WARNING    webhook, slack
CRITICAL   webhook, slack, email
EMERGENCY  webhook, slack, email, sms
========== ==========================================

Severity → level (riskcore's decision; the PRD leaves the mapping implicit): LOW → INFO,
MEDIUM → WARNING, HIGH → CRITICAL, CRITICAL → CRITICAL, except a CRITICAL breach of drawdown,
margin usage or token liquidity, which is EMERGENCY — the PRD's own EMERGENCY examples are the
drawdown breach and the margin call (``emergency_drawdown_alert``, ``margin_call_alert``), and its
correlation spike is CRITICAL.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Severity",
    "SEVERITY_ORDER",
    "SEVERITY_COLOURS",
    "AlertLevel",
    "ChannelKind",
    "ESCALATION",
    "EMERGENCY_METRICS",
    "level_for",
]


class Severity(StrEnum):
    """Alert severity (PRD §3.2.1), ordered LOW < MEDIUM < HIGH < CRITICAL."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        """0 for LOW … 3 for CRITICAL."""
        return SEVERITY_ORDER.index(self)


SEVERITY_ORDER: tuple[Severity, ...] = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)

#: Colours of the PRD dashboard (§4.1.2 ``.alert-critical`` …), LOW in grey-blue.
SEVERITY_COLOURS: dict[Severity, str] = {
    Severity.CRITICAL: "#ff4444",
    Severity.HIGH: "#ff8800",
    Severity.MEDIUM: "#ffdd00",
    Severity.LOW: "#8ea6c9",
}


class AlertLevel(StrEnum):
    """Notification level (PRD §5.3.1)."""

    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"
    EMERGENCY = "EMERGENCY"


class ChannelKind(StrEnum):
    """Kind of a delivery channel. riskcore delivers over HTTP only (webhook, Slack); a level that
    escalates to e-mail or SMS records the delivery as not configured."""

    WEBHOOK = "webhook"
    SLACK = "slack"
    EMAIL = "email"
    SMS = "sms"


#: Channels per level, as the PRD escalates them.
ESCALATION: dict[AlertLevel, tuple[ChannelKind, ...]] = {
    AlertLevel.INFO: (ChannelKind.WEBHOOK,),
    AlertLevel.WARNING: (ChannelKind.WEBHOOK, ChannelKind.SLACK),
    AlertLevel.CRITICAL: (ChannelKind.WEBHOOK, ChannelKind.SLACK, ChannelKind.EMAIL),
    AlertLevel.EMERGENCY: (ChannelKind.WEBHOOK, ChannelKind.SLACK, ChannelKind.EMAIL, ChannelKind.SMS),
}

#: Metrics whose CRITICAL alerts are emergencies.
EMERGENCY_METRICS: frozenset[str] = frozenset({"current_drawdown_pct", "margin_usage_pct", "liquidity_pool"})

_SEVERITY_LEVEL = {Severity.LOW: AlertLevel.INFO, Severity.MEDIUM: AlertLevel.WARNING,
                   Severity.HIGH: AlertLevel.CRITICAL, Severity.CRITICAL: AlertLevel.CRITICAL}


def level_for(metric: str, severity: Severity | str) -> AlertLevel:
    """Routing level of an alert of ``metric`` with ``severity`` (see the module notes).

    Examples
    --------
    >>> level_for("portfolio_var_pct", "MEDIUM")
    <AlertLevel.WARNING: 'WARNING'>
    >>> level_for("margin_usage_pct", "CRITICAL")
    <AlertLevel.EMERGENCY: 'EMERGENCY'>
    """
    sev = Severity(severity)
    if sev is Severity.CRITICAL and metric in EMERGENCY_METRICS:
        return AlertLevel.EMERGENCY
    return _SEVERITY_LEVEL[sev]
