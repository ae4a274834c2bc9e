"""Emergency conditions and the risk-score size adjustment (PRD §2.5.1), as data tables.

Emergency rules (:data:`EMERGENCY_RULES`), each a strict ``value > threshold``:

==========================  ==========================  =========  ==============================
condition                   metric                      threshold  recommended action
==========================  ==========================  =========  ==============================
CRITICAL_PORTFOLIO_RISK     critic portfolio score      0.9        REDUCE_ALL_POSITIONS
EXCESSIVE_DRAWDOWN          current_drawdown_pct        1.5 (%)    CLOSE_LOSING_POSITIONS
MARGIN_CRITICAL             margin_usage_pct            90 (%)     IMMEDIATE_POSITION_REDUCTION
DANGEROUS_CORRELATION       critic correlation score    0.8        CLOSE_CORRELATED_POSITIONS
                            (only with > 2 positions)
==========================  ==========================  =========  ==============================

As in the PRD, when several fire the recommended action is that of the **last** row that
fired (the table is also the priority order).

Size adjustment (:data:`SIZE_ADJUSTMENTS`), applied in order, each truncating to an int:
a linear cut ``size × (1 - (x - t) / span × max_cut)`` for ``x > t``, or a flat factor.
The result is floored at 1 contract (PRD) unless the base size is 0 (no edge, SPEC §3)
and capped at ``max_contracts``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["EmergencyAction", "EmergencyRule", "EMERGENCY_RULES", "EmergencyAssessment", "check_emergency",
           "SizeAdjustment", "SIZE_ADJUSTMENTS", "apply_risk_adjustment", "RISK_SCORE_NAMES", "CRITIC_THRESHOLDS"]

#: order of the critic's scores
RISK_SCORE_NAMES = ("portfolio", "position", "correlation", "liquidity")
#: PRD §2.3.3 alert thresholds of the critic's scores (WARNING above, CRITICAL above 0.9)
CRITIC_THRESHOLDS = {"portfolio": 0.7, "position": 0.8, "correlation": 0.6, "liquidity": 0.75}


class EmergencyAction(enum.StrEnum):
    MONITOR = "MONITOR"
    REDUCE_ALL_POSITIONS = "REDUCE_ALL_POSITIONS"
    CLOSE_LOSING_POSITIONS = "CLOSE_LOSING_POSITIONS"
    IMMEDIATE_POSITION_REDUCTION = "IMMEDIATE_POSITION_REDUCTION"
    CLOSE_CORRELATED_POSITIONS = "CLOSE_CORRELATED_POSITIONS"


@dataclass(frozen=True)
class EmergencyRule:
    condition: str
    metric: str
    threshold: float
    action: EmergencyAction
    min_open_positions: int = 0


EMERGENCY_RULES: tuple[EmergencyRule, ...] = (
    EmergencyRule("CRITICAL_PORTFOLIO_RISK", "portfolio", 0.9, EmergencyAction.REDUCE_ALL_POSITIONS),
    EmergencyRule("EXCESSIVE_DRAWDOWN", "current_drawdown_pct", 1.5, EmergencyAction.CLOSE_LOSING_POSITIONS),
    EmergencyRule("MARGIN_CRITICAL", "margin_usage_pct", 90.0, EmergencyAction.IMMEDIATE_POSITION_REDUCTION),
    EmergencyRule("DANGEROUS_CORRELATION", "correlation", 0.8, EmergencyAction.CLOSE_CORRELATED_POSITIONS,
                  min_open_positions=3),
)


@dataclass(frozen=True)
class EmergencyAssessment:
    required: bool
    conditions: tuple[str, ...]
    recommended_action: EmergencyAction
    severity: str

    def to_dict(self) -> dict[str, Any]:
        return {"required": self.required, "conditions": list(self.conditions),
                "recommended_action": self.recommended_action.value, "severity": self.severity}

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])


def check_emergency(risk_scores: Mapping[str, float], metrics: Mapping[str, float], n_open_positions: int,
                    rules: tuple[EmergencyRule, ...] = EMERGENCY_RULES) -> EmergencyAssessment:
    """Evaluate the emergency table on critic scores (by name) and account metrics (percent).

    A metric is looked up in ``risk_scores`` first, then in ``metrics`` (missing → 0).
    """
    fired = []
    action = EmergencyAction.MONITOR
    for rule in rules:
        value = risk_scores.get(rule.metric, metrics.get(rule.metric, 0.0))
        if value > rule.threshold and n_open_positions >= rule.min_open_positions:
            fired.append(rule.condition)
            action = rule.action
    return EmergencyAssessment(bool(fired), tuple(fired), action, "CRITICAL" if fired else "NORMAL")


@dataclass(frozen=True)
class SizeAdjustment:
    """Cut the size when ``metric > threshold``: linearly up to ``max_cut`` at ``threshold + span``,
    or by the flat fraction ``max_cut`` when ``span`` is None."""

    metric: str
    threshold: float
    max_cut: float
    span: float | None = None

    def factor(self, value: float) -> float:
        if not value > self.threshold:
            return 1.0
        if self.span is None:
            return 1.0 - self.max_cut
        return 1.0 - (value - self.threshold) / self.span * self.max_cut


SIZE_ADJUSTMENTS: tuple[SizeAdjustment, ...] = (
    SizeAdjustment("portfolio", 0.7, 0.5, span=0.3),
    SizeAdjustment("correlation", 0.6, 0.3, span=0.4),
    SizeAdjustment("liquidity", 0.5, 0.4, span=0.5),
    SizeAdjustment("volatility_regime", 0.8, 0.3),
)


def apply_risk_adjustment(base_size: int, values: Mapping[str, float], max_contracts: int = 5,
                          table: tuple[SizeAdjustment, ...] = SIZE_ADJUSTMENTS) -> int:
    """PRD ``_apply_risk_adjustment``: cut ``base_size`` by the table, floor 1, cap ``max_contracts``.

    ``values`` holds the critic's scores by name and ``volatility_regime``. A base size of
    0 (no edge) stays 0.
    """
    if base_size <= 0:
        return 0
    size = int(base_size)
    for adj in table:
        size = int(size * adj.factor(values.get(adj.metric, 0.0)))
    return min(max(1, size), max_contracts)
