"""The risk system: four agents, a centralised critic and the PRD §2.5.1 aggregation.

Decision hierarchy (PRD §2.5.1):

1. **Emergency** (:data:`riskcore.portfolio.emergency.EMERGENCY_RULES` on the critic's
   scores, drawdown and margin) overrides everything: no new trade is approved and the
   execution priority is IMMEDIATE.
2. Portfolio level: the risk monitor's action; a non-trivial one raises the priority to
   HIGH. ``CLOSE_ALL`` also blocks new trades (a decision of this library: approving a
   trade while the monitor asks to flatten the book would contradict the hierarchy).
3. Position adjustments: stop/target updates of every open position.
4. New position sizing: the sizing agent's contracts, cut by the risk-score table
   (:data:`riskcore.portfolio.emergency.SIZE_ADJUSTMENTS`), floored at 1 unless the agent
   said 0, capped at ``max_contracts`` and at the requested quantity.

Stops and targets are ``entry ∓ multiplier × ATR`` rounded to cents, with the PRD's trailing
rule for open positions; with the rule policy this is the PRD's dynamic stop.

Policy source: the agents are the rules by default, or a trained team
(:class:`~riskcore.agents.learned.PolicySource`: a registry entry or a team in memory). The
hierarchy above applies unchanged after the policy. Each decision carries its source
(:attr:`RiskDecision.policy_source`) and, for learned agents, their action distributions
(:attr:`RiskDecision.distributions`), both in :meth:`RiskDecision.to_dict` (the decision log).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskcore.agents.critic import RuleCritic
from riskcore.agents.limits import RiskLimits
from riskcore.agents.policy import AgentDecision, AgentName, Critic, Observation, Policy, RiskAction, project
from riskcore.agents.rules import rule_policies
from riskcore.errors import InputError
from riskcore.portfolio.context import PortfolioContext, Position, TradeRequest
from riskcore.portfolio.emergency import (
    CRITIC_THRESHOLDS,
    RISK_SCORE_NAMES,
    EmergencyAssessment,
    apply_risk_adjustment,
    check_emergency,
)
from riskcore.portfolio.state import RISK_FEATURES, check_state_vector

__all__ = ["RiskSystem", "RiskDecision", "DecisionType", "RiskLimits", "stop_target_prices"]


class DecisionType(enum.StrEnum):
    NORMAL = "NORMAL"
    EMERGENCY = "EMERGENCY"


def stop_target_prices(entry_price: float, direction: int, atr: float, stop_multiplier: float,
                       target_multiplier: float, volatility_regime: float = 0.0, price_move: float = 0.0
                       ) -> tuple[float, float]:
    """Stop and target from ATR multiples, with the PRD's trailing rule; rounded to cents.

    Trailing (PRD §2.2.2): when ``price_move`` (favourable move per unit) exceeds the
    volatility-adjusted distance ``1.5 (1 + 0.5 v) ATR`` the stop moves to
    ``entry + direction × price_move / 2`` if that is tighter.
    """
    d = 1 if direction > 0 else -1
    stop = entry_price - d * atr * stop_multiplier
    if price_move > atr * 1.5 * (1.0 + volatility_regime * 0.5):
        trail = entry_price + d * price_move * 0.5
        stop = max(stop, trail) if d > 0 else min(stop, trail)
    return round(stop, 2), round(entry_price + d * atr * target_multiplier, 2)


@dataclass(frozen=True)
class RiskDecision:
    """Outcome of :meth:`RiskSystem.process_risk_decision`."""

    action_type: DecisionType
    execution_priority: str
    risk_scores: dict[str, float]
    emergency: EmergencyAssessment
    agents: tuple[AgentDecision, ...]
    state: np.ndarray
    risk_action: RiskAction
    portfolio_allocation: tuple[float, ...]
    stop_target_updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    base_size: int | None = None
    position_size: int | None = None
    stop_loss_price: float | None = None
    take_profit_price: float | None = None
    size_reason: str = ""
    alerts: tuple[str, ...] = ()
    policy_source: dict[str, Any] = field(default_factory=lambda: {"kind": "rules", "label": "rules"})
    distributions: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def is_emergency(self) -> bool:
        return self.action_type is DecisionType.EMERGENCY

    def agent(self, name: AgentName | str) -> AgentDecision | None:
        name = AgentName(name)
        return next((a for a in self.agents if a.agent is name), None)

    def to_dict(self) -> dict[str, Any]:
        """The PRD's decision dict, plus the state vector and each agent's action and reason."""
        out: dict[str, Any] = {
            "action_type": self.action_type.value,
            "execution_priority": self.execution_priority,
            "risk_scores": dict(self.risk_scores),
            "state": dict(zip(RISK_FEATURES, map(float, self.state), strict=True)),
            "agents": [a.to_dict() for a in self.agents],
            "alerts": list(self.alerts),
            "policy_source": dict(self.policy_source),
        }
        if self.distributions:
            out["distributions"] = {k: dict(v) for k, v in self.distributions.items()}
        if self.is_emergency:
            out["emergency_action"] = self.emergency.to_dict()
            return out
        decisions: dict[str, Any] = {"stop_target_updates": self.stop_target_updates,
                                     "portfolio_allocation": list(self.portfolio_allocation)}
        if self.position_size is not None:
            decisions["position_size"] = self.position_size
            decisions["base_size"] = self.base_size
            decisions["stop_loss_price"] = self.stop_loss_price
            decisions["take_profit_price"] = self.take_profit_price
            decisions["size_reason"] = self.size_reason
        if self.risk_action is not RiskAction.NO_ACTION:
            decisions["risk_action"] = self.risk_action.name
        out["decisions"] = decisions
        return out

    def summary(self) -> pd.DataFrame:
        """One row per agent (action and reason) plus the aggregated decision."""
        def fmt(a: AgentDecision) -> str:
            x = a.action_json()
            return "[" + ", ".join(f"{v:.3f}" for v in x) + "]" if isinstance(x, list) else str(x)

        rows = [{"agent": a.agent.value, "action": fmt(a), "reason": a.reason} for a in self.agents]
        final = (f"EMERGENCY: {self.emergency.recommended_action.value} ({', '.join(self.emergency.conditions)})"
                 if self.is_emergency else f"NORMAL, priority {self.execution_priority}")
        rows.append({"agent": "decision", "action": final,
                     "reason": self.size_reason or ", ".join(f"{k} {v:.2f}" for k, v in self.risk_scores.items())})
        return pd.DataFrame(rows)


class RiskSystem:
    """Four risk agents behind :class:`~riskcore.agents.policy.Policy`, a critic and the aggregation.

    Parameters
    ----------
    policies : mapping of AgentName to Policy, optional
        Defaults to the rule-based policies of :mod:`riskcore.agents.rules`; replace any of
        them (e.g. by a learned policy) by passing it under its agent name.
    critic : Critic, optional
        Defaults to :class:`~riskcore.agents.critic.RuleCritic`.
    limits : RiskLimits, optional
    policy_source : PolicySource, LoadedTeam, Team or "rules", optional
        Where the four agents come from (:class:`~riskcore.agents.learned.PolicySource`); default the
        rules. ``policies`` given as well replace single agents of that source.

    Examples
    --------
    >>> from riskcore.portfolio.context import preset
    >>> from riskcore.portfolio.state import compute_risk_state
    >>> ctx = preset("calm")
    >>> d = RiskSystem().process_risk_decision(compute_risk_state(ctx).vector, ctx,
    ...     {"symbol": "MES", "direction": 1, "base_quantity": 3, "entry_price": 5000.0,
    ...      "strategy_confidence": 0.6})
    >>> d.action_type.value, d.position_size
    ('NORMAL', 3)
    """

    def __init__(self, policies: Mapping[AgentName | str, Policy] | None = None, critic: Critic | None = None,
                 limits: RiskLimits | None = None, policy_source: Any = None):
        from riskcore.agents.learned import as_policy_source

        self.limits = limits or RiskLimits()
        self.policy_source = as_policy_source(policy_source)
        self._source_record = self.policy_source.to_dict()
        base = rule_policies(self.limits.max_risk_per_trade, self.limits.risk_per_contract, self.limits.max_contracts)
        base.update(self.policy_source.policies(self.limits))
        for name, pol in (policies or {}).items():
            if not isinstance(pol, Policy):
                raise InputError(f"policies[{name}]", "must implement act(observation) -> AgentDecision",
                                 value=type(pol).__name__)
            base[AgentName(name)] = pol
        self.policies: dict[AgentName, Policy] = base
        self.critic: Critic = critic if critic is not None else RuleCritic()

    def _act(self, name: AgentName, obs: Observation, dists: dict[str, dict[str, Any]] | None = None
             ) -> AgentDecision:
        d = self.policies[name].act(obs)
        dist = getattr(d, "distribution", None)
        if dists is not None and isinstance(dist, dict):  # a learned agent's action distribution, for the log
            dists[name.value] = dist
        if not isinstance(d, AgentDecision) or d.agent is not name:
            d = AgentDecision(name, getattr(d, "action", None), str(getattr(d, "reason", "")))
        return project(d)

    def process_risk_decision(
        self,
        risk_state: Any,
        portfolio_context: PortfolioContext | Mapping[str, Any],
        new_trade_request: TradeRequest | Mapping[str, Any] | None = None,
        *,
        normalized_state: np.ndarray | None = None,
    ) -> RiskDecision:
        """Run the agents and the critic on a state and aggregate (PRD §2.5.1).

        Parameters
        ----------
        risk_state : array of 10 floats
            Raw risk state vector (:data:`~riskcore.portfolio.state.RISK_FEATURES` order).
        portfolio_context : PortfolioContext or mapping
        new_trade_request : TradeRequest or mapping, optional
            A NEW_TRADE_REQUEST payload.
        normalized_state : array of 10 floats, optional
            Its rolling z-score, handed to learned policies through the observation.

        Raises
        ------
        InputError
            On a malformed state, context or trade request.
        """
        state = check_state_vector(risk_state)
        ctx = (portfolio_context if isinstance(portfolio_context, PortfolioContext)
               else PortfolioContext.from_dict(portfolio_context))
        trade = None if new_trade_request is None else TradeRequest.from_event(new_trade_request)
        obs = Observation(state, ctx, trade, None, normalized_state)

        agents: dict[AgentName, AgentDecision] = {}
        dists: dict[str, dict[str, Any]] = {}
        if trade is not None:
            agents[AgentName.POSITION_SIZING] = self._act(AgentName.POSITION_SIZING, obs, dists)
        stop_trade = self._act(AgentName.STOP_TARGET, obs, dists) if trade is not None else None
        updates = {p.position_id: self._position_update(p, obs) for p in ctx.positions}
        if stop_trade is not None:
            agents[AgentName.STOP_TARGET] = stop_trade
        elif updates:
            first = next(iter(updates.values()))
            agents[AgentName.STOP_TARGET] = AgentDecision(
                AgentName.STOP_TARGET, (first["stop_multiplier"], first["target_multiplier"]),
                f"{len(updates)} open position(s); first: {first['reason']}")
        agents[AgentName.RISK_MONITOR] = self._act(AgentName.RISK_MONITOR, obs, dists)
        agents[AgentName.PORTFOLIO_OPTIMIZER] = self._act(AgentName.PORTFOLIO_OPTIMIZER, obs, dists)

        raw = np.asarray(self.critic.evaluate(obs, agents), dtype=float).reshape(-1)
        if raw.shape != (4,):
            raise InputError("critic", "must return 4 scores", value=raw.shape)
        scores_arr = np.where(np.isfinite(raw), np.clip(raw, 0.0, 1.0), 1.0)  # a NaN score counts as worst
        scores = dict(zip(RISK_SCORE_NAMES, map(float, scores_arr), strict=True))
        alerts = tuple(f"{'CRITICAL' if scores[k] > 0.9 else 'WARNING'}: {k}_risk = {scores[k]:.3f} "
                       f"(threshold: {t})" for k, t in CRITIC_THRESHOLDS.items() if scores[k] > t)
        emergency = check_emergency(scores, {"current_drawdown_pct": ctx.current_drawdown_pct,
                                             "margin_usage_pct": ctx.margin_usage_pct}, len(ctx.positions))
        risk_action = agents[AgentName.RISK_MONITOR].action
        allocation = agents[AgentName.PORTFOLIO_OPTIMIZER].action
        ordered = tuple(agents[a] for a in AgentName if a in agents)
        common = dict(risk_scores=scores, emergency=emergency, agents=ordered, state=state, risk_action=risk_action,
                      portfolio_allocation=allocation, stop_target_updates=updates, alerts=alerts,
                      policy_source=self._source_record, distributions=dists)
        if emergency.required:
            return RiskDecision(DecisionType.EMERGENCY, "IMMEDIATE", position_size=0 if trade else None,
                                base_size=agents[AgentName.POSITION_SIZING].action if trade else None,
                                size_reason="rejected: emergency " + ", ".join(emergency.conditions) if trade else "",
                                **common)
        priority = "HIGH" if risk_action is not RiskAction.NO_ACTION else "NORMAL"
        if trade is None:
            return RiskDecision(DecisionType.NORMAL, priority, **common)
        base = int(agents[AgentName.POSITION_SIZING].action)
        values = {**scores, "volatility_regime": ctx.volatility_regime}
        adjusted = apply_risk_adjustment(base, values, self.limits.max_contracts)
        size = min(adjusted, trade.base_quantity, self.limits.max_contracts)
        if base == 0:
            why = "no trade: " + agents[AgentName.POSITION_SIZING].reason
        elif risk_action is RiskAction.CLOSE_ALL:
            size, why = 0, "no trade: risk monitor asks to close all positions"
        else:
            why = f"agent {base}, risk-adjusted {adjusted}, requested {trade.base_quantity} → {size}"
        k_stop, k_target = stop_trade.action
        stop, target = stop_target_prices(trade.entry_price, trade.direction, trade.effective_atr, k_stop, k_target)
        if not (math.isfinite(stop) and math.isfinite(target)):  # absurd ATR or price: never approve without a stop
            raise InputError("atr" if trade.atr is not None else "entry_price",
                             "gives a non-finite stop or target price", value=trade.effective_atr)
        return RiskDecision(DecisionType.NORMAL, priority, base_size=base, position_size=size, stop_loss_price=stop,
                            take_profit_price=target, size_reason=why, **common)

    def _position_update(self, p: Position, obs: Observation) -> dict[str, Any]:
        d = self._act(AgentName.STOP_TARGET, Observation(obs.state, obs.context, None, p, obs.normalized))
        k_stop, k_target = d.action
        v = min(max(float(obs.state[2]), 0.0), 1.0)
        stop, target = stop_target_prices(p.entry_price, p.direction, p.effective_atr, k_stop, k_target, v,
                                          p.price_move)
        return {"stop_loss": stop, "take_profit": target, "stop_multiplier": k_stop, "target_multiplier": k_target,
                "reason": d.reason}
