"""PyTorch adapters: a learned policy or centralised critic behind the same interfaces.

Nothing here is trained; these adapters show (and test) the contract a MARL implementation
plugs into. A network maps the observation vector (:data:`~riskcore.agents.policy.OBS_DIM`
floats, see :meth:`~riskcore.agents.policy.Observation.as_array`) to raw outputs that are
turned into an action of the agent's space:

- ``Discrete(n)`` → ``argmax`` over ``n`` logits;
- ``Box(low, high)`` → ``low + (high - low) * sigmoid(x)`` per dimension;
- simplex ``Box`` (allocation) → ``softmax`` over the outputs.

The critic network sees the observation plus :func:`decisions_vector` of the four agents'
actions (:data:`DECISION_DIM` floats) and returns four logits, squashed by a sigmoid into
[portfolio, position, correlation, liquidity] risk scores (PRD §2.3.3).

Persistence is by ``state_dict`` only: :func:`save_state_dict` writes tensors with
``torch.save`` and :func:`load_state_dict` reads them with ``torch.load(weights_only=True)``
(SPEC §4 item 12: no pickled objects are ever loaded).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import nn

from riskcore.agents.policy import (
    ACTION_SPACES,
    OBS_DIM,
    AgentDecision,
    AgentName,
    Box,
    Discrete,
    Observation,
    RiskAction,
)

__all__ = ["TorchPolicy", "TorchCritic", "decisions_vector", "DECISION_DIM", "output_dim", "save_state_dict",
           "load_state_dict"]

#: size of :func:`decisions_vector`: contracts/5, stop/3, target/3, risk action one-hot (4), weights (5)
DECISION_DIM = 1 + 2 + 4 + 5


def output_dim(agent: AgentName) -> int:
    """Number of raw network outputs the agent's action space needs."""
    space = ACTION_SPACES[agent]
    return space.n if isinstance(space, Discrete) else int(np.prod(space.shape))


def decisions_vector(decisions: Mapping[AgentName, AgentDecision]) -> np.ndarray:
    """The four agents' actions as :data:`DECISION_DIM` floats (zeros for an absent agent)."""
    out = np.zeros(DECISION_DIM, dtype=np.float32)
    if (d := decisions.get(AgentName.POSITION_SIZING)) is not None:
        out[0] = float(d.action) / 5.0
    if (d := decisions.get(AgentName.STOP_TARGET)) is not None:
        out[1:3] = np.asarray(d.action, dtype=float) / 3.0
    if (d := decisions.get(AgentName.RISK_MONITOR)) is not None:
        out[3 + int(d.action)] = 1.0
    if (d := decisions.get(AgentName.PORTFOLIO_OPTIMIZER)) is not None:
        out[7:12] = np.asarray(d.action, dtype=float)
    return out


class TorchPolicy:
    """A :class:`~riskcore.agents.policy.Policy` backed by ``module: (batch, OBS_DIM) -> (batch, output_dim)``."""

    def __init__(self, agent: AgentName | str, module: nn.Module):
        self.agent = AgentName(agent)
        self.module = module.eval()
        self.space = ACTION_SPACES[self.agent]

    @torch.no_grad()
    def act(self, observation: Observation) -> AgentDecision:
        x = torch.from_numpy(observation.as_array()).unsqueeze(0)
        out = self.module(x).squeeze(0).double()
        if isinstance(self.space, Discrete):
            a = self.space.start + int(torch.argmax(out))
            action = RiskAction(a) if self.agent is AgentName.RISK_MONITOR else a
        elif isinstance(self.space, Box) and self.space.simplex:
            action = tuple(torch.softmax(out, 0).tolist())
        else:
            lo, hi = self.space.low, self.space.high
            action = tuple((lo + (hi - lo) * torch.sigmoid(out)).tolist())
        return AgentDecision(self.agent, action, f"learned policy ({type(self.module).__name__})")

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.module.state_dict()

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        self.module.load_state_dict(state)


class TorchCritic:
    """A :class:`~riskcore.agents.policy.Critic` backed by ``module: (batch, OBS_DIM + DECISION_DIM) -> (batch, 4)``."""

    input_dim = OBS_DIM + DECISION_DIM

    def __init__(self, module: nn.Module):
        self.module = module.eval()

    @torch.no_grad()
    def evaluate(self, observation: Observation, decisions: Mapping[AgentName, AgentDecision]) -> np.ndarray:
        x = np.concatenate([observation.as_array(), decisions_vector(decisions)])
        logits = self.module(torch.from_numpy(x).unsqueeze(0)).squeeze(0)
        return torch.sigmoid(logits).double().numpy()

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.module.state_dict()

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        self.module.load_state_dict(state)


def save_state_dict(obj: TorchPolicy | TorchCritic | nn.Module, path: str | Path) -> Path:
    """Write ``obj.state_dict()`` (tensors only) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(obj.state_dict()), path)
    return path


def load_state_dict(obj: TorchPolicy | TorchCritic | nn.Module, path: str | Path) -> None:
    """Load tensors saved by :func:`save_state_dict` with ``torch.load(weights_only=True)``."""
    file = Path(path)
    obj.load_state_dict(torch.load(file, map_location="cpu", weights_only=True))
