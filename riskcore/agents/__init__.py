"""Risk agents: the Policy interface, rule-based policies, a critic and :class:`RiskSystem`."""

from __future__ import annotations

from riskcore._lazy import lazy_exports, lazy_table

#: public name -> module that defines it (imported on first use, the policy of every riskcore package)
_LAZY: dict[str, str] = lazy_table({
    "riskcore.agents.critic": "RuleCritic",
    "riskcore.agents.policy": "ACTION_SPACES OBS_DIM AgentDecision AgentName Box Critic Discrete Observation Policy "
                              "RiskAction",
    "riskcore.agents.rules": "PortfolioOptimizerRule PositionSizingRule RiskMonitorRule StopTargetRule",
    "riskcore.agents.system": "DecisionType RiskDecision RiskSystem",
    "riskcore.agents.limits": "RiskLimits",
})

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
