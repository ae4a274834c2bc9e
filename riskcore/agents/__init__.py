"""Risk agents: the Policy interface, rule-based policies, a critic and :class:`RiskSystem`."""

from __future__ import annotations

from riskcore._lazy import lazy_exports

#: public name -> module that defines it (imported on first use, the policy of every riskcore package)
_LAZY: dict[str, str] = {
    "RuleCritic": "riskcore.agents.critic",
    "ACTION_SPACES": "riskcore.agents.policy",
    "OBS_DIM": "riskcore.agents.policy",
    "AgentDecision": "riskcore.agents.policy",
    "AgentName": "riskcore.agents.policy",
    "Box": "riskcore.agents.policy",
    "Critic": "riskcore.agents.policy",
    "Discrete": "riskcore.agents.policy",
    "Observation": "riskcore.agents.policy",
    "Policy": "riskcore.agents.policy",
    "RiskAction": "riskcore.agents.policy",
    "PortfolioOptimizerRule": "riskcore.agents.rules",
    "PositionSizingRule": "riskcore.agents.rules",
    "RiskMonitorRule": "riskcore.agents.rules",
    "StopTargetRule": "riskcore.agents.rules",
    "DecisionType": "riskcore.agents.system",
    "RiskDecision": "riskcore.agents.system",
    "RiskLimits": "riskcore.agents.system",
    "RiskSystem": "riskcore.agents.system",
}

__all__ = [
    "RiskSystem", "RiskDecision", "RiskLimits", "DecisionType", "Policy", "Critic", "Observation",
    "AgentDecision", "AgentName", "RiskAction", "Discrete", "Box", "ACTION_SPACES", "OBS_DIM", "RuleCritic",
    "PositionSizingRule", "StopTargetRule", "RiskMonitorRule", "PortfolioOptimizerRule",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
