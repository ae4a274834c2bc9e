"""The hard limits no decision may exceed, shared by the decision path and the training environment.

A module of its own so that the environment (:mod:`riskcore.agents.vec_env`) and the decision path
(:mod:`riskcore.agents.system`, which can run learned policies trained in that environment) both
depend on it without depending on each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from riskcore.portfolio.sizing import MAX_CONTRACTS, RISK_PER_CONTRACT
from riskcore.validate import integer, real

__all__ = ["RiskLimits"]


@dataclass(frozen=True)
class RiskLimits:
    """Hard limits no decision may exceed."""

    max_contracts: int = MAX_CONTRACTS
    max_risk_per_trade: float = 0.02
    risk_per_contract: float = RISK_PER_CONTRACT

    def __post_init__(self) -> None:
        integer("max_contracts", self.max_contracts, lo=1, hi=MAX_CONTRACTS)
        real("max_risk_per_trade", self.max_risk_per_trade, lo=0.0, hi=1.0, lo_open=True)
        real("risk_per_contract", self.risk_per_contract, lo=0.0, lo_open=True)
