"""MAPPO for the four risk agents, in plain PyTorch, with a centralised critic and a risk head.

Design
------
- **Actors: separate, one network per agent.** The four agents have different action spaces
  (``Discrete(6)``, a bounded ``Box(2)``, ``Discrete(4)``, a 5-simplex) and observations whose
  context blocks mean different things; parameter sharing with an agent id pays off for
  homogeneous agents, here it would only force one trunk to serve four unrelated heads. Each
  actor is a plain :class:`torch.nn.Module` (``team.actors[name]``) whose state dict can be
  saved with safetensors (:meth:`TrainingResult.save_weights`).
- **Distributions:** categorical for the sizing and monitor agents (sampled by Gumbel-max from
  an explicit generator); a **logit-normal** on ``[0.5, 3.0]²`` for stop/target
  (``a = lo + (hi - lo) sigmoid(u)``, ``u ~ N(μ, σ²)``); an **additive logistic-normal** on the
  simplex for the weights (``w = softmax([u, 0])``, ``u ~ N(μ, σ²)`` in R⁴). The log-probability
  ratio of PPO is taken in ``u``-space, where the fixed squashing's Jacobian cancels; the entropy
  bonus is the Gaussian's. Deterministic actions (evaluation) are the mode / ``squash(μ)``.
- **Initial policies:** small final layers (near-uniform categorical, means at the centre of
  the boxes), except that the risk monitor starts with log-odds :data:`NO_ACTION_PRIOR` for
  "no action" (87 %): a uniform start closes or halves the book on three bars in four, which drowns
  every other agent's learning signal; the rule system's default is also "no action".
- **Centralised critic** (:class:`CentralCritic`) on the environment's global state: a value
  head, trained on value-normalised returns (running mean and variance, :class:`ValueNorm`),
  and the PRD's four risk scores ``[portfolio, position, correlation, liquidity]`` through a
  sigmoid, trained with binary cross-entropy to predict the **next step's** events
  (:data:`~riskcore.agents.vec_env.EVENT_NAMES`: VaR breach, 2 % drawdown limit hit,
  correlation above 0.6, liquidity risk above 0.75).
- Hidden layers use ReLU (the PRD's critic does; ``tanh`` is several times slower in this
  CPU build of PyTorch). On CPU, training runs one intra-op thread: for networks this small more
  threads only add synchronisation, and a fixed count keeps results bit-reproducible.
- **Rollouts** are whole sessions of ``n_envs`` environments. The session close is a
  truncation: GAE(λ) bootstraps from the value of the final state there, and not after a
  termination (ruin) (:func:`gae`).
- **PPO:** clipped surrogate per agent on the team advantage (normalised per minibatch), entropy
  bonus, value and risk losses, one Adam over all parameters with global gradient-norm
  clipping. The sizing and stop/target agents' losses count only the bars with a trade request
  (elsewhere their action is not used).
- **Credit for the sizing agent** (``TrainConfig.sizing_credit``, default ``"trade"``): the team
  advantage of a sizing decision carries the noise of every other trade, stop and monitor action
  of the next bars; with it the sizing agent reached only 50-55 % sizing accuracy in 10 minutes
  (measured). Its advantage is instead the **expected log growth of the trade it sizes, given the
  centralised critic's privileged state** (the true regime, hence the trade's true win probability
  and payoff at the bracket the stop/target agent placed, ``info["trade_edge"]``):
  ``A(a) = Q(a) - Σ_a' π_old(a') Q(a')`` with ``Q`` of :func:`trade_log_growth`. It is exact (no
  sampling noise) given the state, a per-agent counterfactual baseline in the spirit of COMA; the
  actor still sees only its observation, so what it can learn is bounded by what the observation
  tells (the regime filter of :mod:`riskcore.agents.vec_env`). The other three agents keep the
  team GAE advantage. ``"team"`` restores the plain shared advantage. With ``"trade"`` the
  training sizing accuracy passed 90 % within about 10 iterations (under a minute on 2 loaded
  cores) and held-out accuracy was 97 % for seeds 0, 1, 2; with ``"team"`` and the same
  observations (filter included) it was 62 % after 73 iterations (measured).

Reproducibility: initial weights, action noise and minibatch order come from generators seeded
by ``TrainConfig.seed`` and the environment from its own NumPy generator; on CPU the same config
gives bit-identical weights (tested). Checkpoints (``torch.save`` of state dicts, tensors and
plain data only, read back with ``torch.load(weights_only=True)``) hold weights, optimiser,
value normaliser and every generator state, so a resumed run continues the same stream.
"""

from __future__ import annotations

import enum
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from riskcore.agents.policy import AgentName
from riskcore.agents.vec_env import AGENTS, EVENT_NAMES, N_STRATEGIES, OBS_DIM, STATE_DIM, EnvConfig, VecRiskEnv
from riskcore.errors import InputError
from riskcore.kinds import RunKind
from riskcore.portfolio.emergency import RISK_SCORE_NAMES

__all__ = ["TrainConfig", "TrainingResult", "train", "Team", "Actor", "CentralCritic", "ValueNorm", "gae",
           "LearnedTeam", "critic_calibration", "SizingCredit", "trade_log_growth", "CalibrationReport", "RUN_KIND",
           "load_checkpoint"]

RUN_KIND = RunKind.AGENTS_TRAINING


class SizingCredit(enum.StrEnum):
    """The sizing agent's advantage: the team's GAE, or the trade's expected log growth (module notes)."""

    TEAM = "team"
    TRADE = "trade"


#: how each agent's action is parameterised: (kind, number of raw outputs, low, high)
HEADS: dict[AgentName, tuple[str, int, float, float]] = {
    AgentName.POSITION_SIZING: ("categorical", 6, 0.0, 5.0),
    AgentName.STOP_TARGET: ("logit_normal", 2, 0.5, 3.0),
    AgentName.RISK_MONITOR: ("categorical", 4, 0.0, 3.0),
    AgentName.PORTFOLIO_OPTIMIZER: ("logistic_normal", N_STRATEGIES - 1, 0.0, 1.0),
}
#: initial log-odds of the monitor's "no action" against each other action
NO_ACTION_PRIOR = 3.0
CURVE_COLUMNS = ("iteration", "episode_return", "value_loss", "policy_loss", "entropy", "approx_kl",
                 "explained_variance", "risk_loss", "sizing_accuracy", "session_pnl_pct", "breaches", "seconds")


# -- config -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainConfig:
    """MAPPO settings (validated; frozen). Each iteration is one session of ``n_envs`` environments.

    ``gamma = 0.9`` and ``gae_lambda = 0.8`` (an effective horizon of a few bars) because a trade
    resolves within a few bars: with ``gamma = 0.99`` the advantage of a sizing decision carries
    the noise of every later trade of the session and learning stalled (measured).

    ``sizing_credit`` chooses the sizing agent's advantage (:class:`SizingCredit`, module notes):
    ``"trade"`` (default), the expected log growth of the trade given the privileged state, or
    ``"team"``, the shared GAE advantage.

    ``time_limit_s`` stops the training (with a checkpoint) once that much wall time has passed;
    ``device`` is ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
    """

    env: EnvConfig = field(default_factory=EnvConfig)
    n_envs: int = 128
    n_iterations: int = 300
    epochs: int = 4
    minibatches: int = 4
    gamma: float = 0.9
    gae_lambda: float = 0.8
    clip: float = 0.2
    entropy_coef: float = 0.003
    value_coef: float = 0.5
    risk_coef: float = 0.5
    max_grad_norm: float = 0.5
    learning_rate: float = 1e-3
    hidden: tuple[int, ...] = (64, 64)
    critic_hidden: tuple[int, ...] = (128, 128)
    seed: int = 0
    device: str = "auto"
    checkpoint_dir: str | None = None
    checkpoint_every: int = 10
    time_limit_s: float | None = None
    sizing_credit: SizingCredit = SizingCredit.TRADE

    def __post_init__(self) -> None:
        from riskcore.validate import integer, real

        if not isinstance(self.env, EnvConfig):
            raise InputError("env", "must be an EnvConfig", value=type(self.env).__name__)
        integer("n_envs", self.n_envs, lo=1, hi=1_000_000)
        integer("n_iterations", self.n_iterations, lo=1, hi=10_000_000)
        integer("epochs", self.epochs, lo=1, hi=1000)
        integer("minibatches", self.minibatches, lo=1, hi=self.n_envs * self.env.session_length)
        integer("seed", self.seed, lo=0)
        integer("checkpoint_every", self.checkpoint_every, lo=1)
        real("gamma", self.gamma, lo=0.0, hi=1.0)
        real("gae_lambda", self.gae_lambda, lo=0.0, hi=1.0)
        real("clip", self.clip, lo=0.0, hi=1.0, lo_open=True)
        for name in ("entropy_coef", "value_coef", "risk_coef"):
            real(name, getattr(self, name), lo=0.0)
        real("max_grad_norm", self.max_grad_norm, lo=0.0, lo_open=True)
        real("learning_rate", self.learning_rate, lo=0.0, hi=1.0, lo_open=True)
        for name in ("hidden", "critic_hidden"):
            h = getattr(self, name)
            if (not isinstance(h, (tuple, list)) or not h
                    or not all(isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= 4096 for x in h)):
                raise InputError(name, "must be a non-empty tuple of layer widths in 1..4096", value=h)
            object.__setattr__(self, name, tuple(h))
        if self.device not in ("auto", "cpu", "cuda"):
            raise InputError("device", "must be 'auto', 'cpu' or 'cuda'", value=self.device)
        if self.device == "cuda" and not torch.cuda.is_available():
            raise InputError("device", "is 'cuda' but no CUDA device is available", value=self.device)
        if self.time_limit_s is not None:
            real("time_limit_s", self.time_limit_s, lo=0.0, lo_open=True)
        try:
            object.__setattr__(self, "sizing_credit", SizingCredit(self.sizing_credit))
        except ValueError:
            raise InputError("sizing_credit", f"must be one of {[c.value for c in SizingCredit]}",
                             value=self.sizing_credit) from None
        if self.checkpoint_dir is not None and not isinstance(self.checkpoint_dir, (str, Path)):
            raise InputError("checkpoint_dir", "must be a path or None", value=self.checkpoint_dir)

    def resolved_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "env"}
        d["hidden"], d["critic_hidden"] = list(self.hidden), list(self.critic_hidden)
        d["checkpoint_dir"] = None if self.checkpoint_dir is None else str(self.checkpoint_dir)
        d["sizing_credit"] = self.sizing_credit.value
        d["env"] = self.env.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        d = dict(d)
        d["env"] = EnvConfig.from_dict(d["env"])
        d["hidden"], d["critic_hidden"] = tuple(d["hidden"]), tuple(d["critic_hidden"])
        return cls(**d)


# -- networks ---------------------------------------------------------------------------------------------
def _mlp(n_in: int, hidden: tuple[int, ...], n_out: int, out_gain: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    last = n_in
    for h in hidden:
        lin = nn.Linear(last, h)
        nn.init.orthogonal_(lin.weight, math.sqrt(2))
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.ReLU()]
        last = h
    out = nn.Linear(last, n_out)
    nn.init.orthogonal_(out.weight, out_gain)
    nn.init.zeros_(out.bias)
    layers.append(out)
    return nn.Sequential(*layers)


class Actor(nn.Module):
    """One agent's policy: ``obs (batch, OBS_DIM) -> distribution parameters`` (see the module notes)."""

    def __init__(self, agent: AgentName, hidden: tuple[int, ...] = (64, 64)):
        super().__init__()
        self.agent = AgentName(agent)
        self.kind, self.n_out, self.low, self.high = HEADS[self.agent]
        self.net = _mlp(OBS_DIM, hidden, self.n_out, 0.01)
        self.log_std = nn.Parameter(torch.full((self.n_out,), -0.5)) if self.kind != "categorical" else None
        if self.agent is AgentName.RISK_MONITOR:
            with torch.no_grad():  # start near the rule default "no action" (87 %), see the module notes
                self.net[-1].bias[0] = NO_ACTION_PRIOR

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs)

    def log_prob_entropy(self, out: torch.Tensor, raw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.kind == "categorical":
            logp = torch.log_softmax(out, -1)
            return logp.gather(-1, raw.long().unsqueeze(-1)).squeeze(-1), -(logp.exp() * logp).sum(-1)
        std = self.log_std.exp()
        z = (raw - out) / std
        logp = (-0.5 * z ** 2 - self.log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        ent = (0.5 + 0.5 * math.log(2 * math.pi) + self.log_std).sum().expand(out.shape[0])
        return logp, ent

    def sample(self, out: torch.Tensor, gen: torch.Generator | None, deterministic: bool = False) -> torch.Tensor:
        if self.kind == "categorical":
            if deterministic:
                return out.argmax(-1).to(out.dtype)
            u = torch.rand(out.shape, generator=gen, device=out.device, dtype=out.dtype).clamp_(1e-12, 1 - 1e-7)
            return (out - torch.log(-torch.log(u))).argmax(-1).to(out.dtype)
        if deterministic:
            return out
        noise = torch.randn(out.shape, generator=gen, device=out.device, dtype=out.dtype)
        return out + self.log_std.exp() * noise

    def to_action(self, raw: torch.Tensor) -> torch.Tensor:
        """The environment action of a raw sample (index, squashed box, simplex weights)."""
        if self.kind == "categorical":
            return raw
        if self.kind == "logit_normal":
            return self.low + (self.high - self.low) * torch.sigmoid(raw)
        return torch.softmax(torch.cat([raw, torch.zeros_like(raw[..., :1])], -1), -1)


class CentralCritic(nn.Module):
    """Centralised critic on the global state: ``(value, risk_logits)``; risk scores are ``sigmoid(logits)``."""

    def __init__(self, hidden: tuple[int, ...] = (128, 128)):
        super().__init__()
        self.trunk = _mlp(STATE_DIM, hidden[:-1], hidden[-1], math.sqrt(2))
        last = hidden[-1]
        self.value = nn.Linear(last, 1)
        self.risk = nn.Linear(last, len(RISK_SCORE_NAMES))
        nn.init.orthogonal_(self.value.weight, 1.0)
        nn.init.zeros_(self.value.bias)
        nn.init.orthogonal_(self.risk.weight, 0.01)
        nn.init.zeros_(self.risk.bias)

    def forward(self, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.relu(self.trunk(state))
        return self.value(h).squeeze(-1), self.risk(h)

    def risk_scores(self, state: torch.Tensor) -> torch.Tensor:
        """The PRD's four scores [portfolio, position, correlation, liquidity] in (0, 1)."""
        return torch.sigmoid(self.forward(state)[1])


class ValueNorm(nn.Module):
    """Running mean and variance of the value targets (buffers, so they are in the state dict)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros((), dtype=torch.float64))
        self.register_buffer("var", torch.ones((), dtype=torch.float64))
        self.register_buffer("count", torch.full((), 1e-4, dtype=torch.float64))

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> None:
        x = x.double().reshape(-1)
        n, m, v = x.numel(), x.mean(), x.var(unbiased=False)
        tot = self.count + n
        delta = m - self.mean
        self.mean += delta * n / tot
        self.var.copy_((self.var * self.count + v * n + delta ** 2 * self.count * n / tot) / tot)
        self.count.copy_(tot)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return ((x.double() - self.mean) / self.var.clamp_min(1e-8).sqrt()).to(x.dtype)

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return (x.double() * self.var.clamp_min(1e-8).sqrt() + self.mean).to(x.dtype)


class Team(nn.Module):
    """The four actors, the centralised critic and the value normaliser (all plain modules)."""

    def __init__(self, hidden: tuple[int, ...] = (64, 64), critic_hidden: tuple[int, ...] = (128, 128)):
        super().__init__()
        self.actors = nn.ModuleDict({a.value: Actor(a, hidden) for a in AGENTS})
        self.critic = CentralCritic(critic_hidden)
        self.value_norm = ValueNorm()

    def actor(self, agent: AgentName | str) -> Actor:
        return self.actors[AgentName(agent).value]


# -- GAE --------------------------------------------------------------------------------------------------
def gae(rewards: np.ndarray, values: np.ndarray, next_values: np.ndarray, terminated: np.ndarray,
        truncated: np.ndarray, gamma: float, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Generalised advantage estimates and returns, arrays ``(T, B)``.

    ``next_values[t]`` is the value of the state after step ``t`` — for a truncated step, the value
    of the final state before any reset. Then

    .. math::

        \\delta_t = r_t + \\gamma (1 - \\text{term}_t) V'_t - V_t, \\qquad
        A_t = \\delta_t + \\gamma \\lambda (1 - \\text{done}_t) A_{t+1},

    with ``done = term or trunc``: a truncation bootstraps from ``V'_t``, a termination does not,
    and neither lets advantages leak across the episode boundary. Returns are ``A + V``.
    """
    T = rewards.shape[0]
    adv = np.zeros_like(rewards, dtype=np.float64)
    last = np.zeros(rewards.shape[1:], dtype=np.float64)
    term = terminated.astype(np.float64)
    done = np.maximum(term, truncated.astype(np.float64))
    for t in range(T - 1, -1, -1):
        delta = rewards[t] + gamma * (1.0 - term[t]) * next_values[t] - values[t]
        last = delta + gamma * lam * (1.0 - done[t]) * last
        adv[t] = last
    return adv, adv + values


def trade_log_growth(trade_edge: np.ndarray, n_actions: int = 6, over_cap_penalty: float = 1e-4) -> np.ndarray:
    r"""Expected log growth of equity from a trade of ``a = 0..n_actions-1`` contracts, ``(..., n_actions)``.

    ``trade_edge[..., :]`` is ``(p, b, l, cap)`` (environment ``info["trade_edge"]``): the true win
    probability and net payoff of the trade as placed, the loss of one contract over equity and the
    contract cap of the hard limits. With ``c = min(a, cap)`` (the limits cut larger requests),

    .. math:: Q(a) = p \log(1 + c b l) + (1 - p) \log(1 - c l) - \epsilon \max(0, a - \text{cap}),

    maximised at the Kelly size ``f^* / l`` (capped); the small ``ε`` makes asking above the cap
    (which the limits would cut anyway) a little worse than asking for the cap.
    """
    p, b, loss, cap = (trade_edge[..., i, None] for i in range(4))
    a = np.arange(n_actions, dtype=np.float64)
    c = np.minimum(a, cap)
    q = p * np.log1p(c * b * loss) + (1 - p) * np.log1p(-np.minimum(c * loss, 1 - 1e-9))
    return q - over_cap_penalty * np.maximum(a - cap, 0.0)


# -- the learned team as a policy -------------------------------------------------------------------------
class LearnedTeam:
    """Deterministic (or sampled) actions of a trained :class:`Team` on environment observations."""

    def __init__(self, team: Team, device: str | torch.device = "cpu"):
        self.team = team.eval()
        self.device = torch.device(device)

    @torch.no_grad()
    def act(self, observations: dict, deterministic: bool = True, generator: torch.Generator | None = None
            ) -> dict[AgentName, np.ndarray]:
        out = {}
        for a in AGENTS:
            key = a if a in observations else a.value
            if key not in observations:
                raise InputError(f"observations[{a.value}]", "is missing")
            x = np.asarray(observations[key], dtype=np.float32)
            if x.ndim == 1:
                x = x[None]
            if x.ndim != 2 or x.shape[1] != OBS_DIM:
                raise InputError(f"observations[{a.value}]", f"must have shape (n, {OBS_DIM})", value=x.shape)
            bad = ~np.isfinite(x)
            if bad.any():
                i, j = map(int, np.argwhere(bad)[0])
                raise InputError(f"observations[{a.value}][{i}, {j}]", "must be finite", value=float(x[i, j]))
            actor = self.team.actor(a)
            o = actor(torch.from_numpy(x).to(self.device))
            act = actor.to_action(actor.sample(o, generator, deterministic)).cpu().double().numpy()
            out[a] = act.astype(np.int64) if actor.kind == "categorical" else act
        return out


# -- results ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingResult:
    """A trained team with its learning curves (one row per iteration)."""

    config: TrainConfig
    team: Team
    curves: pd.DataFrame
    iterations: int
    stopped: bool
    wall_s: float
    device: str
    checkpoint: str | None = None

    def policy(self) -> LearnedTeam:
        return LearnedTeam(self.team, "cpu")  # the result holds the team on the CPU

    def summary(self) -> pd.DataFrame:
        c = self.curves
        last = c.tail(max(1, min(10, len(c))))
        rows = {"iterations": self.iterations, "stopped": self.stopped, "wall_s": self.wall_s, "device": self.device,
                "first_return": float(c["episode_return"].iloc[0]), "final_return_10": float(
                    last["episode_return"].mean()), "final_sizing_accuracy_10": float(last["sizing_accuracy"].mean()),
                "final_entropy": float(c["entropy"].iloc[-1]), "final_explained_variance": float(
                    c["explained_variance"].iloc[-1]), "breaches": int(c["breaches"].sum())}
        return pd.DataFrame({"value": pd.Series(rows, dtype=object)}).rename_axis("measure")

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config.to_dict(), "iterations": self.iterations, "stopped": self.stopped,
                "wall_s": self.wall_s, "device": self.device, "checkpoint": self.checkpoint,
                "curves": self.curves.to_dict(orient="list")}

    def save_weights(self, directory: str | Path) -> dict[str, Path]:
        """Each actor and the critic (with the value normaliser) as a ``.safetensors`` file."""
        from safetensors.torch import save_file

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        out = {}
        for name, actor in self.team.actors.items():
            out[name] = d / f"actor_{name}.safetensors"
            save_file({k: v.detach().cpu().contiguous() for k, v in actor.state_dict().items()}, str(out[name]))
        crit = {f"critic.{k}": v for k, v in self.team.critic.state_dict().items()}
        crit.update({f"value_norm.{k}": v for k, v in self.team.value_norm.state_dict().items()})
        out["critic"] = d / "critic.safetensors"
        save_file({k: v.detach().cpu().contiguous() for k, v in crit.items()}, str(out["critic"]))
        return out

    def save(self, store: Any, name: str | None = None) -> str:
        """Save config, curves and weights (``.npy`` arrays, never pickles) as a run of kind ``agents_training``."""
        arrays = {f"curve:{c}": self.curves[c].to_numpy(dtype=float) for c in self.curves.columns}
        arrays.update({f"w:{k}": v.detach().cpu().numpy() for k, v in self.team.state_dict().items()})
        return store.save_run(RUN_KIND, self.config.to_dict(), self.config.seed, self.summary().reset_index()
                              .astype({"value": str}), name=name, arrays=arrays, iterations=self.iterations,
                              stopped=self.stopped, wall_s=self.wall_s, device=self.device)

    @classmethod
    def load(cls, store: Any, run_id: str) -> TrainingResult:
        rec = store.load_run(run_id, kind=RUN_KIND)
        config = TrainConfig.from_dict(rec.params)
        team = Team(config.hidden, config.critic_hidden)
        state = {k[2:]: torch.from_numpy(np.array(v)) for k, v in rec.arrays.items() if k.startswith("w:")}
        team.load_state_dict(state)
        curves = pd.DataFrame({k[6:]: v for k, v in rec.arrays.items() if k.startswith("curve:")})
        curves = curves[[c for c in CURVE_COLUMNS if c in curves.columns]]
        curves["iteration"] = curves["iteration"].astype(int)
        ex = rec.extra
        return cls(config, team, curves, int(ex["iterations"]), bool(ex["stopped"]), float(ex["wall_s"]), "cpu")


# -- checkpoints ------------------------------------------------------------------------------------------
def _save_checkpoint(path: Path, team: Team, opt: torch.optim.Optimizer, gens: dict[str, torch.Generator],
                     env: VecRiskEnv, iteration: int, curves: list[dict], config: TrainConfig) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = {"team": {k: v.detach().cpu() for k, v in team.state_dict().items()}, "optimizer": opt.state_dict(),
            "generators": {k: g.get_state().cpu() for k, g in gens.items()},
            "env_rng": json.dumps(env.rng_state()), "iteration": iteration,
            "curves": json.dumps(curves), "config": json.dumps(config.to_dict())}
    tmp = path.with_suffix(".tmp")
    torch.save(blob, tmp)
    tmp.replace(path)  # atomic: a stop mid-write never leaves a torn checkpoint


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint with ``torch.load(weights_only=True)`` (tensors and plain data only)."""
    p = Path(path)
    if not p.is_file():
        raise InputError("resume_from", "no checkpoint file here", value=str(p))
    return torch.load(p, map_location="cpu", weights_only=True)


# -- training ---------------------------------------------------------------------------------------------
def _stop_requested(stop: Any) -> bool:
    if stop is None:
        return False
    if hasattr(stop, "is_set"):
        return bool(stop.is_set())
    return bool(stop())


def train(config: TrainConfig, progress: Callable[[int, int, dict[str, float]], None] | None = None,
          stop: Any = None, resume_from: str | Path | None = None) -> TrainingResult:
    """Train the team with MAPPO (see the module notes).

    Parameters
    ----------
    config : TrainConfig
    progress : callable, optional
        ``progress(iteration, n_iterations, metrics)`` after each iteration.
    stop : callable or threading.Event, optional
        Checked after each iteration; when it is set (or returns True) training stops, writes a
        checkpoint (when ``checkpoint_dir`` is set) and returns the result with ``stopped=True``.
    resume_from : path, optional
        A checkpoint written by an earlier run of the same config: training continues from it.
    """
    if not isinstance(config, TrainConfig):
        raise InputError("config", "must be a TrainConfig", value=type(config).__name__)
    device = config.resolved_device()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small networks: more threads only add synchronisation; fixed for reproducibility
    try:
        return _train(config, progress, stop, resume_from, device)
    finally:
        torch.set_num_threads(threads)


def _train(config: TrainConfig, progress: Any, stop: Any, resume_from: Any, device: torch.device) -> TrainingResult:
    t_start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        team = Team(config.hidden, config.critic_hidden)
    team.to(device)
    opt = torch.optim.Adam(team.parameters(), lr=config.learning_rate, eps=1e-5)
    gens = {"action": torch.Generator(device=device), "batch": torch.Generator()}
    gens["action"].manual_seed(config.seed + 1)
    gens["batch"].manual_seed(config.seed + 2)
    env = VecRiskEnv(config.env, config.n_envs, np.random.default_rng(config.seed + 3), autoreset=False)
    curves: list[dict] = []
    start_it = 0
    if resume_from is not None:
        ck = load_checkpoint(resume_from)
        if json.loads(ck["config"]) != json.loads(json.dumps(config.to_dict())):
            raise InputError("resume_from", "was written by a different TrainConfig", value=str(resume_from))
        team.load_state_dict(ck["team"])
        opt.load_state_dict(ck["optimizer"])
        for k, g in gens.items():
            g.set_state(ck["generators"][k])
        env.set_rng_state(json.loads(ck["env_rng"]))
        start_it = int(ck["iteration"])
        curves = json.loads(ck["curves"])
    ck_path = None if config.checkpoint_dir is None else Path(config.checkpoint_dir) / "checkpoint.pt"
    stopped = False
    it = start_it
    for it in range(start_it, config.n_iterations):
        t0 = time.perf_counter()
        row = _iteration(config, team, opt, gens, env, device)
        row.update(iteration=it + 1, seconds=time.perf_counter() - t0)
        curves.append(row)
        if progress is not None:
            progress(it + 1, config.n_iterations, dict(row))
        over_time = config.time_limit_s is not None and time.perf_counter() - t_start >= config.time_limit_s
        stopped = _stop_requested(stop) or over_time
        if ck_path is not None and ((it + 1) % config.checkpoint_every == 0 or stopped
                                    or it + 1 == config.n_iterations):
            _save_checkpoint(ck_path, team, opt, gens, env, it + 1, curves, config)
        if stopped:
            it += 1
            break
    else:
        it = config.n_iterations
    frame = pd.DataFrame(curves, columns=list(CURVE_COLUMNS))
    frame["iteration"] = frame["iteration"].astype(int)
    return TrainingResult(config, team.cpu().eval(), frame, it, stopped and it < config.n_iterations,
                          time.perf_counter() - t_start, str(device), None if ck_path is None else str(ck_path))


def _iteration(config: TrainConfig, team: Team, opt: torch.optim.Optimizer, gens: dict[str, torch.Generator],
               env: VecRiskEnv, device: torch.device) -> dict[str, float]:
    T, B = config.env.session_length, config.n_envs
    obs = env.reset()
    buf_obs = {a: np.zeros((T, B, OBS_DIM), np.float32) for a in AGENTS}
    buf_raw = {a: np.zeros((T, B, HEADS[a][1] if HEADS[a][0] != "categorical" else 1), np.float32) for a in AGENTS}
    buf_logp = {a: np.zeros((T, B), np.float32) for a in AGENTS}
    states = np.zeros((T, B, STATE_DIM), np.float32)
    rewards, values, next_values = (np.zeros((T, B)) for _ in range(3))
    term, trunc, alive = (np.zeros((T, B), bool) for _ in range(3))
    events = np.zeros((T, B, 4), np.float32)
    size_q = np.zeros((T, B, HEADS[AgentName.POSITION_SIZING][1]))
    size_probs = np.zeros((T, B, HEADS[AgentName.POSITION_SIZING][1]))
    correct = n_sig = 0
    breaches = 0
    team.eval()
    with torch.no_grad():
        state = env.state()
        for t in range(T):
            alive[t] = ~env.done
            states[t] = state
            actions = {}
            for a in AGENTS:
                actor = team.actor(a)
                o = torch.from_numpy(obs[a]).to(device)
                out = actor(o)
                raw = actor.sample(out, gens["action"])
                logp, _ = actor.log_prob_entropy(out, raw)
                buf_obs[a][t] = obs[a]
                buf_raw[a][t] = raw.reshape(B, -1).cpu().numpy()
                buf_logp[a][t] = logp.cpu().numpy()
                if a is AgentName.POSITION_SIZING:
                    size_probs[t] = torch.softmax(out, -1).cpu().double().numpy()
                actions[a] = actor.to_action(raw).cpu().double().numpy()
            v = team.value_norm.denormalize(team.critic(torch.from_numpy(state).to(device))[0])
            values[t] = v.cpu().double().numpy()
            obs, r, te, tr, info = env.step(actions)
            state = env.state()
            nv = team.value_norm.denormalize(team.critic(torch.from_numpy(state).to(device))[0])
            next_values[t] = nv.cpu().double().numpy()
            rewards[t], term[t], trunc[t] = r, te, tr
            events[t] = info["events"]
            size_q[t] = trade_log_growth(info["trade_edge"])
            h = info["has_signal"]
            correct += int((np.abs(info["chosen_size"] - info["kelly_size"]) <= 1)[h].sum())
            n_sig += int(h.sum())
            breaches += int(info["breaches"].sum())
    adv, ret = gae(rewards, values, next_values, term, trunc, config.gamma, config.gae_lambda)
    adv_size = None
    if config.sizing_credit is SizingCredit.TRADE:  # Q(a_taken) - E_pi[Q], exact given the privileged state
        taken = np.take_along_axis(size_q, buf_raw[AgentName.POSITION_SIZING].astype(np.int64), -1)[..., 0]
        adv_size = taken - (size_probs * size_q).sum(-1)
    ep_return = float(rewards.sum(0).mean())
    pnl = float((env.equity / config.env.initial_equity - 1).mean() * 100)
    stats = _update(config, team, opt, gens, device, buf_obs, buf_raw, buf_logp, states, adv, ret, values,
                    alive, events, adv_size)
    return {"episode_return": ep_return, "sizing_accuracy": correct / max(n_sig, 1), "session_pnl_pct": pnl,
            "breaches": breaches, **stats}


def _normalised(a: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Advantages standardised over the masked entries of a minibatch."""
    if mask.sum() <= 1:
        return a
    return (a - (a * mask).sum() / mask.sum()) / (a[mask > 0].std() + 1e-8)


def _update(config: TrainConfig, team: Team, opt: torch.optim.Optimizer, gens: dict[str, torch.Generator],
            device: torch.device, buf_obs, buf_raw, buf_logp, states, adv, ret, values, alive, events,
            adv_size: np.ndarray | None = None) -> dict[str, float]:
    n = adv.size
    f = lambda x: torch.from_numpy(np.ascontiguousarray(x.reshape(n, *x.shape[2:]))).to(device)  # noqa: E731
    obs = {a: f(buf_obs[a]) for a in AGENTS}
    raw = {a: f(buf_raw[a]) for a in AGENTS}
    raw = {a: (r.squeeze(-1) if HEADS[a][0] == "categorical" else r) for a, r in raw.items()}
    logp_old = {a: f(buf_logp[a]) for a in AGENTS}
    st = f(states)
    live = f(alive.astype(np.float32))
    has = obs[AgentName.POSITION_SIZING][:, 10] * live  # context feature 0: a trade request this bar
    masks = {AgentName.POSITION_SIZING: has, AgentName.STOP_TARGET: has, AgentName.RISK_MONITOR: live,
             AgentName.PORTFOLIO_OPTIMIZER: live}
    A = f(adv.astype(np.float32))
    A_size = None if adv_size is None else f(adv_size.astype(np.float32))
    R = f(ret.astype(np.float32))
    ev = f(events)
    team.value_norm.update(R[live > 0])
    Rn = team.value_norm.normalize(R)
    team.train()
    mb = max(1, n // config.minibatches)
    sums = {"value_loss": 0.0, "policy_loss": 0.0, "entropy": 0.0, "approx_kl": 0.0, "risk_loss": 0.0}
    count = 0
    for _ in range(config.epochs):
        perm = torch.randperm(n, generator=gens["batch"]).to(device)
        for s in range(0, n, mb):
            idx = perm[s:s + mb]
            a_mb = A[idx]
            lv = live[idx]
            a_mb = _normalised(a_mb, lv)
            a_size = None if A_size is None else _normalised(A_size[idx], masks[AgentName.POSITION_SIZING][idx])
            pol = torch.zeros((), device=device)
            ent_tot = torch.zeros((), device=device)
            kl_tot = torch.zeros((), device=device)
            for a in AGENTS:
                actor = team.actor(a)
                m = masks[a][idx]
                msum = m.sum().clamp_min(1.0)
                logp, ent = actor.log_prob_entropy(actor(obs[a][idx]), raw[a][idx])
                log_ratio = logp - logp_old[a][idx]
                ratio = log_ratio.exp()
                adv_a = a_size if (a is AgentName.POSITION_SIZING and a_size is not None) else a_mb
                surr = torch.minimum(ratio * adv_a, ratio.clamp(1 - config.clip, 1 + config.clip) * adv_a)
                pol = pol - (surr * m).sum() / msum
                e = (ent * m).sum() / msum
                ent_tot = ent_tot + e / len(AGENTS)
                with torch.no_grad():
                    kl_tot += (((ratio - 1) - log_ratio) * m).sum() / msum / len(AGENTS)
            v, risk_logits = team.critic(st[idx])
            v_loss = (((v - Rn[idx]) ** 2) * lv).sum() / lv.sum().clamp_min(1)
            bce = nn.functional.binary_cross_entropy_with_logits(risk_logits, ev[idx], reduction="none").mean(-1)
            r_loss = (bce * lv).sum() / lv.sum().clamp_min(1)
            loss = pol - config.entropy_coef * ent_tot * len(AGENTS) + config.value_coef * v_loss \
                + config.risk_coef * r_loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(team.parameters(), config.max_grad_norm)
            opt.step()
            sums["value_loss"] += float(v_loss.detach())
            sums["policy_loss"] += float(pol.detach())
            sums["entropy"] += float(ent_tot.detach())
            sums["approx_kl"] += float(kl_tot.detach())
            sums["risk_loss"] += float(r_loss.detach())
            count += 1
    team.eval()
    live_np = alive.reshape(-1)
    y, yhat = ret.reshape(-1)[live_np], values.reshape(-1)[live_np]
    var_y = float(np.var(y))
    ev_ = float("nan") if var_y == 0 else 1.0 - float(np.var(y - yhat)) / var_y
    return {k: v / count for k, v in sums.items()} | {"explained_variance": ev_}


# -- calibration of the risk head -------------------------------------------------------------------------
@dataclass(frozen=True)
class CalibrationReport:
    """Brier scores and reliability tables of the learned critic's and the rule critic's risk scores.

    Each score is read as the probability of its next-step event (:data:`EVENT_NAMES`); the rule
    critic's scores are measures scaled to [0, 1], not probabilities, so a worse Brier score there
    says that they are not calibrated as probabilities, not that they rank risk badly.
    """

    brier: pd.DataFrame
    reliability: pd.DataFrame
    base_rate: pd.Series
    n: int

    def summary(self) -> pd.DataFrame:
        return self.brier

    def to_dict(self) -> dict[str, Any]:
        return {"brier": self.brier.to_dict(), "reliability": self.reliability.to_dict(orient="list"),
                "base_rate": self.base_rate.to_dict(), "n": self.n}


def reliability_table(prob: np.ndarray, outcome: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Equal-width bins of predicted probability: count, mean forecast, observed frequency."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(prob, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        m = idx == b
        rows.append({"bin_low": edges[b], "bin_high": edges[b + 1], "count": int(m.sum()),
                     "mean_forecast": float(prob[m].mean()) if m.any() else float("nan"),
                     "observed_frequency": float(outcome[m].mean()) if m.any() else float("nan")})
    return pd.DataFrame(rows)


def critic_calibration(team: Team, env_config: EnvConfig, n_envs: int = 256, seed: int = 10_000,
                       bins: int = 10) -> CalibrationReport:
    """Run the team (deterministic) for one session on held-out seed ``seed`` and score both critics."""
    env = VecRiskEnv(env_config, n_envs, seed, autoreset=False)
    pol = LearnedTeam(team)
    obs = env.reset()
    learned, rule, ev = [], [], []
    with torch.no_grad():
        for _ in range(env_config.session_length):
            live = ~env.done
            s = torch.from_numpy(env.state())
            learned.append(team.critic.risk_scores(s).double().numpy()[live])
            obs, _, _, _, info = env.step(pol.act(obs))
            rule.append(info["rule_scores"][live])
            ev.append(info["events"][live])
    learned, rule, ev = (np.concatenate(x) for x in (learned, rule, ev))
    brier = pd.DataFrame({"event": list(EVENT_NAMES), "score": list(RISK_SCORE_NAMES),
                          "base_rate": ev.mean(0),
                          "brier_learned": ((learned - ev) ** 2).mean(0), "brier_rule": ((rule - ev) ** 2).mean(0),
                          "brier_climatology": (ev.mean(0) * (1 - ev.mean(0)))}).set_index("event")
    tabs = []
    for j, name in enumerate(EVENT_NAMES):
        for label, p in (("learned", learned[:, j]), ("rule", rule[:, j])):
            t = reliability_table(p, ev[:, j], bins)
            t.insert(0, "critic", label)
            t.insert(0, "event", name)
            tabs.append(t)
    return CalibrationReport(brier, pd.concat(tabs, ignore_index=True), pd.Series(ev.mean(0), index=EVENT_NAMES),
                             int(ev.shape[0]))
