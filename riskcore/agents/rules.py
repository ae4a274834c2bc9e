"""Rule-based policies for the four risk agents, from the PRD's formulas.

- :class:`PositionSizingRule` — quarter-Kelly sizing with volatility adjustment
  (:func:`riskcore.portfolio.sizing.position_size`).
- :class:`StopTargetRule` — the PRD §2.2.2 stop distance in ATR multiples
  (``1.5 (1 + 0.5 v) max(0.7, 1 - 0.3 t/24)``) and a target ``reward_risk`` times the stop,
  both clipped to [0.5, 3.0].
- :class:`RiskMonitorRule` — the PRD §3.2.1 alert thresholds as a table
  (:data:`MONITOR_RULES`); the most severe action that fires wins
  (close all > reduce > hedge > none).
- :class:`PortfolioOptimizerRule` — inverse-volatility (risk-parity) weights over the five
  strategies, tilted by positive Sharpe ratios (PRD phase 3: "portfolio optimisation
  with risk-parity"); equal weights without strategy data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskcore.agents.policy import RISK_ACTION_SEVERITY, AgentDecision, AgentName, Observation, RiskAction
from riskcore.portfolio.context import N_STRATEGIES
from riskcore.portfolio.sizing import (
    KELLY_MULTIPLIER,
    MAX_CONTRACTS,
    RISK_PER_CONTRACT,
    VOLATILITY_ADJUSTMENT_CAP,
    kelly_fraction,
    position_size,
)
from riskcore.portfolio.state import FEATURE_INDEX
from riskcore.portfolio.stops import MULTIPLIER_BOUNDS

__all__ = ["PositionSizingRule", "StopTargetRule", "RiskMonitorRule", "PortfolioOptimizerRule", "MonitorRule",
           "MONITOR_RULES", "rule_policies"]


@dataclass(frozen=True)
class PositionSizingRule:
    """Contracts for a new trade by quarter Kelly (PRD §2.2.1, SPEC §3: 0 with no edge)."""

    max_risk_per_trade: float = 0.02
    risk_per_contract: float = RISK_PER_CONTRACT
    max_contracts: int = MAX_CONTRACTS
    agent: AgentName = AgentName.POSITION_SIZING

    def act(self, observation: Observation) -> AgentDecision:
        t = observation.trade
        if t is None:
            return AgentDecision(self.agent, 0, "no trade request")
        ctx = observation.context
        cur = t.current_volatility or ctx.current_volatility
        base = t.base_volatility or ctx.base_volatility
        n = position_size(t.p_win, t.avg_win, t.avg_loss, cur, base, ctx.account_equity, self.max_risk_per_trade,
                          self.risk_per_contract, self.max_contracts)
        f = kelly_fraction(t.p_win, t.avg_win, t.avg_loss)
        if n == 0:
            return AgentDecision(self.agent, 0, f"no edge: Kelly f* = {f:.3f} <= 0 (p = {t.p_win:.2f})")
        adj = min(base / cur, VOLATILITY_ADJUSTMENT_CAP)
        risk = min(f * adj * KELLY_MULTIPLIER, self.max_risk_per_trade) * ctx.account_equity
        return AgentDecision(self.agent, n, f"Kelly f* = {f:.3f}, volatility adj. {adj:.2f}, quarter-Kelly risk "
                                            f"budget {risk:,.0f} at {self.risk_per_contract:g} per contract, "
                                            f"cap {self.max_contracts} → {n}")


@dataclass(frozen=True)
class StopTargetRule:
    """Stop and target in ATR multiples from volatility regime and time in trade (PRD §2.2.2)."""

    reward_risk: float = 1.5
    agent: AgentName = AgentName.STOP_TARGET

    def act(self, observation: Observation) -> AgentDecision:
        v = float(observation.state[FEATURE_INDEX["volatility_regime"]])
        v = min(max(v, 0.0), 1.0)
        hours = observation.position.time_in_trade_hours if observation.position is not None else 0.0
        time_factor = max(0.7, 1.0 - (hours / 24.0) * 0.3)
        k_stop = 1.5 * (1.0 + v * 0.5) * time_factor
        lo, hi = MULTIPLIER_BOUNDS
        k_stop = min(max(k_stop, lo), hi)
        k_target = min(max(k_stop * self.reward_risk, lo), hi)
        return AgentDecision(self.agent, (k_stop, k_target),
                             f"stop {k_stop:.2f}×ATR (vol. percentile {v:.2f}, time factor {time_factor:.2f}), "
                             f"target {k_target:.2f}×ATR")


@dataclass(frozen=True)
class MonitorRule:
    """Fire ``action`` when state feature ``feature`` exceeds ``threshold`` (strictly)."""

    feature: str
    threshold: float
    action: RiskAction
    label: str


#: PRD §3.2.1 alert thresholds (VaR 1 % of equity, drawdown 1.5 %, margin 80 %, correlation 0.7),
#: plus market stress and liquidity (PRD §2.3.1 decision factors of the risk monitor)
MONITOR_RULES: tuple[MonitorRule, ...] = (
    MonitorRule("var_estimate_5pct", 0.01, RiskAction.REDUCE_POSITION, "VaR above 1 % of equity"),
    MonitorRule("current_drawdown_pct", 1.5, RiskAction.CLOSE_ALL, "drawdown above 1.5 %"),
    MonitorRule("margin_usage_pct", 80.0, RiskAction.REDUCE_POSITION, "margin usage above 80 %"),
    MonitorRule("correlation_risk", 0.7, RiskAction.HEDGE, "correlation risk above 0.7"),
    MonitorRule("market_stress_level", 0.8, RiskAction.HEDGE, "market stress above 0.8"),
    MonitorRule("liquidity_conditions", 0.8, RiskAction.REDUCE_POSITION, "liquidity risk above 0.8"),
)


@dataclass(frozen=True)
class RiskMonitorRule:
    """Most severe action among the :data:`MONITOR_RULES` that fire."""

    rules: tuple[MonitorRule, ...] = MONITOR_RULES
    agent: AgentName = AgentName.RISK_MONITOR

    def act(self, observation: Observation) -> AgentDecision:
        s = observation.state
        fired = [r for r in self.rules if s[FEATURE_INDEX[r.feature]] > r.threshold]
        if not fired:
            return AgentDecision(self.agent, RiskAction.NO_ACTION, "all monitored measures within limits")
        action = max((r.action for r in fired), key=RISK_ACTION_SEVERITY.__getitem__)
        return AgentDecision(self.agent, action, "; ".join(r.label for r in fired))


@dataclass(frozen=True)
class PortfolioOptimizerRule:
    """Inverse-volatility weights tilted by positive Sharpe ratios; equal weights without data."""

    agent: AgentName = AgentName.PORTFOLIO_OPTIMIZER

    def act(self, observation: Observation) -> AgentDecision:
        ctx = observation.context
        if ctx.strategy_volatility is None:
            w = np.full(N_STRATEGIES, 1.0 / N_STRATEGIES)
            return AgentDecision(self.agent, tuple(w.tolist()), "no strategy statistics: equal weights")
        w = 1.0 / np.asarray(ctx.strategy_volatility)
        reason = "inverse-volatility (risk-parity) weights"
        if ctx.strategy_sharpe is not None:
            tilt = np.maximum(np.asarray(ctx.strategy_sharpe), 0.0)
            if tilt.sum() > 0:
                w = w * tilt
                reason += " tilted by positive Sharpe ratios"
        w = w / w.sum()
        return AgentDecision(self.agent, tuple(float(x) for x in w), reason)


def rule_policies(max_risk_per_trade: float = 0.02, risk_per_contract: float = RISK_PER_CONTRACT,
                  max_contracts: int = MAX_CONTRACTS) -> dict[AgentName, object]:
    """The four rule-based policies keyed by agent."""
    return {
        AgentName.POSITION_SIZING: PositionSizingRule(max_risk_per_trade, risk_per_contract, max_contracts),
        AgentName.STOP_TARGET: StopTargetRule(),
        AgentName.RISK_MONITOR: RiskMonitorRule(),
        AgentName.PORTFOLIO_OPTIMIZER: PortfolioOptimizerRule(),
    }
