"""The contract between the risk system and its agents: observations, actions, policies.

A policy maps an :class:`Observation` to an :class:`AgentDecision` (an action in its
agent's action space plus a human-readable reason). The rule-based policies in
:mod:`riskcore.agents.rules` implement the PRD's formulas; a learned (e.g. PyTorch MARL)
policy plugs in by implementing the same :class:`Policy` protocol.

Observation contract (for learned policies)
-------------------------------------------
``Observation.as_array()`` is a ``float32`` vector of length :data:`OBS_DIM` = 18:

- ``[0:10]`` the risk state in :data:`~riskcore.portfolio.state.RISK_FEATURES` order,
  rolling z-scored when the caller supplies ``normalized`` (the event processor does),
  raw otherwise;
- ``[10:18]`` the agent context :data:`CONTEXT_FEATURES` of the trade (or, for the
  stop/target agent on an open position, of that position); zeros when there is none.

Action spaces (PRD §2.3.1; :data:`ACTION_SPACES`)
-------------------------------------------------
- position sizing: ``Discrete(6)`` → contracts 0..5 (0 = no trade: SPEC §3's no-edge
  change extends the PRD's {1..5});
- stop/target: ``Box(0.5, 3.0, (2,))`` → ``(stop_multiplier, target_multiplier)`` × ATR;
- risk monitor: ``Discrete(4)`` → :class:`RiskAction` (none, reduce, close all, hedge);
- portfolio optimizer: ``Box(0, 1, (5,))`` → weights over 5 strategies, summing to 1.

:class:`~riskcore.agents.system.RiskSystem` checks every action against its space and
projects an out-of-space action into it (noting so in the reason), so a faulty learned
policy can never widen a limit. A centralised critic implements :class:`Critic`: it sees
the observation and all four decisions and returns four risk scores in [0, 1].

Persistence of learned policies is by ``state_dict`` only, loaded with
``torch.load(path, weights_only=True)`` (SPEC §4 item 12); nothing here is pickled.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from riskcore.portfolio.context import N_STRATEGIES, PortfolioContext, Position, TradeRequest
from riskcore.portfolio.state import N_FEATURES

__all__ = ["AgentName", "RiskAction", "Discrete", "Box", "ACTION_SPACES", "Observation", "AgentDecision", "Policy",
           "Critic", "OBS_DIM", "CONTEXT_FEATURES", "project"]


class AgentName(enum.StrEnum):
    POSITION_SIZING = "position_sizing"
    STOP_TARGET = "stop_target"
    RISK_MONITOR = "risk_monitor"
    PORTFOLIO_OPTIMIZER = "portfolio_optimizer"


class RiskAction(enum.IntEnum):
    """Risk monitor actions (PRD: 0 No_action, 1 Reduce_position, 2 Close_all, 3 Hedge)."""

    NO_ACTION = 0
    REDUCE_POSITION = 1
    CLOSE_ALL = 2
    HEDGE = 3


#: how drastic each risk action is (the monitor keeps the most severe one that fires)
RISK_ACTION_SEVERITY = {RiskAction.NO_ACTION: 0, RiskAction.HEDGE: 1, RiskAction.REDUCE_POSITION: 2,
                        RiskAction.CLOSE_ALL: 3}


@dataclass(frozen=True)
class Discrete:
    """Integers ``start .. start + n - 1``."""

    n: int
    start: int = 0

    def contains(self, a: Any) -> bool:
        return (isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                and self.start <= int(a) < self.start + self.n)

    def project(self, a: Any) -> int:
        try:
            x = float(a)
        except (TypeError, ValueError):
            return self.start
        if not math.isfinite(x):
            return self.start
        return int(min(max(math.floor(x), self.start), self.start + self.n - 1))


@dataclass(frozen=True)
class Box:
    """Real vectors of ``shape`` within ``[low, high]``; ``simplex`` also requires a sum of 1."""

    low: float
    high: float
    shape: tuple[int, ...]
    simplex: bool = False

    def contains(self, a: Any) -> bool:
        x = np.asarray(a, dtype=float)
        ok = x.shape == self.shape and bool(np.isfinite(x).all()) and bool(((x >= self.low) & (x <= self.high)).all())
        if ok and self.simplex:
            ok = abs(float(x.sum()) - 1.0) <= 1e-9
        return ok

    def project(self, a: Any) -> tuple[float, ...]:
        try:
            x = np.asarray(a, dtype=float).reshape(self.shape)
        except (TypeError, ValueError):
            x = np.full(self.shape, (self.low + self.high) / 2)
        x = np.where(np.isfinite(x), x, self.low)
        x = np.clip(x, self.low, self.high)
        if self.simplex:
            s = x.sum()
            x = x / s if s > 0 else np.full(self.shape, 1.0 / x.size)
        return tuple(float(v) for v in x.ravel())


ACTION_SPACES: dict[AgentName, Discrete | Box] = {
    AgentName.POSITION_SIZING: Discrete(6, 0),
    AgentName.STOP_TARGET: Box(0.5, 3.0, (2,)),
    AgentName.RISK_MONITOR: Discrete(4, 0),
    AgentName.PORTFOLIO_OPTIMIZER: Box(0.0, 1.0, (N_STRATEGIES,), simplex=True),
}

#: agent-context block of the observation vector
CONTEXT_FEATURES = ("has_subject", "direction", "quantity_over_5", "win_probability", "log_reward_risk",
                    "volatility_ratio", "atr_over_price", "hours_in_trade_over_24")
OBS_DIM = N_FEATURES + len(CONTEXT_FEATURES)


@dataclass(frozen=True)
class Observation:
    """What an agent sees: the risk state, the portfolio and the trade or position at hand."""

    state: np.ndarray
    context: PortfolioContext
    trade: TradeRequest | None = None
    position: Position | None = None
    normalized: np.ndarray | None = None

    def context_vector(self) -> np.ndarray:
        out = np.zeros(len(CONTEXT_FEATURES))
        ctx = self.context
        if self.position is not None:
            p = self.position
            out[:] = (1.0, p.direction, abs(p.quantity) / 5.0, 0.0, 0.0,
                      ctx.base_volatility / ctx.current_volatility, p.effective_atr / p.current_price,
                      p.time_in_trade_hours / 24.0)
        elif self.trade is not None:
            t = self.trade
            # log b = log|W| - log|L|: finite for any finite non-zero averages (the ratio itself can overflow)
            log_b = math.log(abs(t.avg_win)) - math.log(abs(t.avg_loss)) if t.avg_loss and t.avg_win else 0.0
            cur = t.current_volatility or ctx.current_volatility
            base = t.base_volatility or ctx.base_volatility
            out[:] = (1.0, t.direction, t.base_quantity / 5.0, t.p_win, log_b, base / cur,
                      t.effective_atr / t.entry_price, 0.0)
        return out

    def as_array(self) -> np.ndarray:
        """The ``float32`` observation vector of length :data:`OBS_DIM` (see module notes)."""
        s = self.normalized if self.normalized is not None else self.state
        return np.concatenate([s, self.context_vector()]).astype(np.float32)


@dataclass(frozen=True)
class AgentDecision:
    """One agent's action with the reason for it."""

    agent: AgentName
    action: Any
    reason: str

    def action_json(self) -> Any:
        a = self.action
        if isinstance(a, RiskAction):
            return a.name
        if isinstance(a, tuple):
            return [float(x) for x in a]
        return a

    def to_dict(self) -> dict[str, Any]:
        return {"agent": self.agent.value, "action": self.action_json(), "reason": self.reason}


@runtime_checkable
class Policy(Protocol):
    """An agent's policy: ``act(observation) -> AgentDecision`` with an action in ``space``."""

    agent: AgentName

    def act(self, observation: Observation) -> AgentDecision: ...


@runtime_checkable
class Critic(Protocol):
    """Centralised critic: four risk scores [portfolio, position, correlation, liquidity] in [0, 1]."""

    def evaluate(self, observation: Observation, decisions: Mapping[AgentName, AgentDecision]) -> np.ndarray: ...


def project(decision: AgentDecision) -> AgentDecision:
    """``decision`` unchanged when its action is in the agent's space, else projected into it."""
    space = ACTION_SPACES[decision.agent]
    a = decision.action
    if decision.agent is AgentName.RISK_MONITOR:
        if isinstance(a, RiskAction):
            return decision
        if space.contains(a):
            return AgentDecision(decision.agent, RiskAction(int(a)), decision.reason)
        return AgentDecision(decision.agent, RiskAction(space.project(a)),
                             decision.reason + " [action projected into the action space]")
    if isinstance(space, Box) and space.contains(a):
        return AgentDecision(decision.agent, tuple(float(v) for v in np.asarray(a, dtype=float).ravel()),
                             decision.reason)
    if isinstance(space, Discrete) and space.contains(a):
        return AgentDecision(decision.agent, int(a), decision.reason)
    return AgentDecision(decision.agent, space.project(a),
                         decision.reason + " [action projected into the action space]")
