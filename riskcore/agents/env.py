"""PettingZoo ``ParallelEnv`` of the four risk agents: one trading session per episode.

:class:`RiskTeamEnv` is a one-environment view of :class:`riskcore.agents.vec_env.VecRiskEnv`
(same code, same random numbers), so for a seed and a sequence of actions the two give the
same trajectory bit for bit. See :mod:`riskcore.agents.vec_env` for the market, the agents'
spaces, the rules every action passes through and the exact team reward.

Spaces (gymnasium): ``position_sizing`` ``Discrete(6)`` (0–5 contracts, 0 = no trade);
``stop_target`` ``Box(0.5, 3.0, (2,))`` (stop and target in ATR multiples);
``risk_monitor`` ``Discrete(4)`` (none, reduce, close all, hedge); ``portfolio_optimizer``
``Box(0, 1, (5,))`` (risk weights over the five strategies, normalised onto the simplex).
Observations are ``Box(-inf, inf, (OBS_DIM,), float32)``: the z-scored risk state, the agent's
context and the regime-filter block (:data:`~riskcore.agents.vec_env.FILTER_NAMES`);
:meth:`RiskTeamEnv.state` is the critic's global state.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from riskcore.agents.policy import AgentName
from riskcore.agents.vec_env import AGENTS, N_STRATEGIES, OBS_DIM, STATE_DIM, EnvConfig, VecRiskEnv
from riskcore.errors import InputError

__all__ = ["RiskTeamEnv", "action_spaces", "observation_space", "state_space"]


def action_spaces() -> dict[str, spaces.Space]:
    """The four agents' gymnasium action spaces, keyed by agent name."""
    return {AgentName.POSITION_SIZING.value: spaces.Discrete(6),
            AgentName.STOP_TARGET.value: spaces.Box(0.5, 3.0, (2,), np.float32),
            AgentName.RISK_MONITOR.value: spaces.Discrete(4),
            AgentName.PORTFOLIO_OPTIMIZER.value: spaces.Box(0.0, 1.0, (N_STRATEGIES,), np.float32)}


def observation_space() -> spaces.Box:
    return spaces.Box(-np.inf, np.inf, (OBS_DIM,), np.float32)


def state_space() -> spaces.Box:
    return spaces.Box(-np.inf, np.inf, (STATE_DIM,), np.float32)


class RiskTeamEnv(ParallelEnv):
    """The four risk agents trading one session (see the module notes).

    Parameters
    ----------
    config : EnvConfig, optional
    seed : int, optional
        Default seed of :meth:`reset`.
    """

    metadata = {"name": "riskcore_risk_team_v0", "render_modes": []}

    def __init__(self, config: EnvConfig | None = None, seed: int | None = None):
        self.config = config if config is not None else EnvConfig()
        self._seed = seed
        self.possible_agents = [a.value for a in AGENTS]
        self.agents: list[str] = []
        self._obs_space = {a: observation_space() for a in self.possible_agents}
        self._act_space = action_spaces()
        self.state_space = state_space()
        self._vec = VecRiskEnv(self.config, 1, seed, autoreset=False)
        self.render_mode = None

    def observation_space(self, agent: str) -> spaces.Space:
        return self._obs_space[self._name(agent)]

    def action_space(self, agent: str) -> spaces.Space:
        return self._act_space[self._name(agent)]

    def _name(self, agent: Any) -> str:
        name = agent.value if isinstance(agent, AgentName) else agent
        if name not in self._act_space:
            raise InputError("agent", f"must be one of {self.possible_agents}", value=agent)
        return name

    @property
    def vector_env(self) -> VecRiskEnv:
        """The one-environment :class:`VecRiskEnv` this wraps."""
        return self._vec

    def _obs(self, obs: dict[AgentName, np.ndarray]) -> dict[str, np.ndarray]:
        return {a.value: obs[a][0] for a in AGENTS}

    def reset(self, seed: int | None = None, options: dict | None = None
              ) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        obs = self._vec.reset(seed=seed if seed is not None else self._seed)
        self._seed = None  # later resets continue the generator's stream
        self.agents = list(self.possible_agents)
        return self._obs(obs), {a: {} for a in self.agents}

    def step(self, actions: dict[str, Any]):
        if not self.agents:
            raise InputError("actions", "the session is over: call reset()")
        if not isinstance(actions, dict):
            raise InputError("actions", "must be a dict from agent name to action", value=type(actions).__name__)
        arr = {}
        for a in AGENTS:
            if a.value not in actions:
                raise InputError(f"actions[{a.value}]", "is missing")
            arr[a] = np.asarray(actions[a.value], dtype=float)[None]
        obs, rew, term, trunc, info = self._vec.step(arr)
        o = self._obs(info["final_observations"] if "final_observations" in info else obs)
        keys = ("kelly_size", "has_signal", "chosen_size", "executed_size", "breaches", "interventions", "equity")
        shared = {k: info[k][0].item() for k in keys}
        agents = list(self.agents)
        out = (o, {a: float(rew[0]) for a in agents}, {a: bool(term[0]) for a in agents},
               {a: bool(trunc[0]) for a in agents}, {a: dict(shared) for a in agents})
        if term[0] or trunc[0]:
            self.agents = []
        return out

    def state(self) -> np.ndarray:
        return self._vec.state()[0]

    def render(self) -> None:
        return None

    def close(self) -> None:
        return None
