"""Rule-based centralised critic: four risk scores [portfolio, position, correlation, liquidity].

Notes
-----
Each score is in [0, 1] (higher is riskier), computed from measures rather than learned:

- portfolio   = min(1, VaR / equity / 2 %)        (PRD dashboard: 0 % → 0, 2 % → 1)
- position    = min(1, max_i |value_i| / equity / ``position_limit``) — the largest single
  position's notional as a share of equity, relative to a single-position limit
  (100 % of equity by default). Share-of-book concentration alone would call every
  one-position book maximally risky, so it is measured against equity here.
- correlation = the PRD correlation risk score (state feature 3)
- liquidity   = the liquidity risk score (state feature 9)

A learned critic implements :class:`riskcore.agents.policy.Critic` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from riskcore.agents.policy import AgentDecision, AgentName, Observation
from riskcore.portfolio.state import FEATURE_INDEX

__all__ = ["RuleCritic"]


@dataclass(frozen=True)
class RuleCritic:
    """Risk scores from VaR over equity, position size over equity, correlation and liquidity."""

    var_full_scale: float = 0.02
    position_limit: float = 1.0

    def evaluate(self, observation: Observation, decisions: Mapping[AgentName, AgentDecision] | None = None
                 ) -> np.ndarray:
        s = observation.state
        ctx = observation.context
        largest = max((abs(p.value) for p in ctx.positions), default=0.0)
        scores = np.array([
            s[FEATURE_INDEX["var_estimate_5pct"]] / self.var_full_scale,
            largest / ctx.account_equity / self.position_limit,
            s[FEATURE_INDEX["correlation_risk"]],
            s[FEATURE_INDEX["liquidity_conditions"]],
        ])
        return np.clip(scores, 0.0, 1.0)
