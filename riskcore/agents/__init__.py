"""Risk agents: the Policy interface, rule-based policies, a critic and :class:`RiskSystem`."""

from riskcore.agents.critic import RuleCritic
from riskcore.agents.policy import (
    ACTION_SPACES,
    OBS_DIM,
    AgentDecision,
    AgentName,
    Box,
    Critic,
    Discrete,
    Observation,
    Policy,
    RiskAction,
)
from riskcore.agents.rules import PortfolioOptimizerRule, PositionSizingRule, RiskMonitorRule, StopTargetRule
from riskcore.agents.system import DecisionType, RiskDecision, RiskLimits, RiskSystem

__all__ = ["RiskSystem", "RiskDecision", "RiskLimits", "DecisionType", "Policy", "Critic", "Observation",
           "AgentDecision", "AgentName", "RiskAction", "Discrete", "Box", "ACTION_SPACES", "OBS_DIM", "RuleCritic",
           "PositionSizingRule", "StopTargetRule", "RiskMonitorRule", "PortfolioOptimizerRule"]
