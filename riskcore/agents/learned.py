"""Learned policies in the decision path: the policy source and the observation adapter.

:class:`PolicySource` says where a :class:`~riskcore.agents.system.RiskSystem`'s four agents come
from: the rules (the default) or a trained team (a registry entry or a team in memory). A learned
source gives one :class:`LearnedPolicy` per agent; the system then applies the hard limits, the
emergency rules and the size adjustments exactly as for the rules (they act on the agents'
actions, whoever chose them). The critic that feeds those rules stays the rule critic, as in the
training environment (its emergency rules run on the rule critic's scores too).

Inference
---------
Each actor's weights are copied once, at construction, into ``float32`` NumPy matrices; a decision
is a few small matrix products in NumPy (no autograd, no module call, no per-call allocation of
modules): a few microseconds per agent. Deterministic actions, as in evaluation: the mode of a
categorical head, ``squash(μ)`` of the continuous heads.

Observation adapter (decision path → the environment's observation)
-------------------------------------------------------------------
The training environment's observation of an agent is ``vec_env.OBS_DIM`` floats: the 10-feature
risk state z-scored against its recent past, then 16 context features of that agent
(:data:`~riskcore.agents.vec_env.CONTEXT_NAMES`), then the regime-filter block
(below). :func:`learned_observations` builds them from
the decision path's :class:`~riskcore.agents.policy.Observation` (state, portfolio context, trade
request); widths are read from :mod:`~riskcore.agents.vec_env` when the adapter runs.

- z-scored state: ``Observation.normalized`` (the event processor's rolling z-score, the same
  rules as the environment's); **zeros** when the caller has none (a direct ``RiskSystem`` call):
  "the state is at its recent mean".
- ``session_progress`` — the decision path has no session clock; it is recovered from the
  time-of-day risk, which the environment defines as ``|2 p - 1|``: ``p = (1 - time_of_day_risk) / 2``
  (the first half of the session).
- ``has_signal``, ``direction``, ``strategy_k`` — the trade request (``strategy`` one-hot);
  all zero without a request.
- ``reported_win_probability`` — the request's win probability (``strategy_confidence`` when absent);
  ``log_payoff`` — ``log(avg_win / avg_loss)``.
- ``volatility_ratio`` — ``base_volatility / current_volatility`` (request, else context), clipped to
  [0, 3] as in the environment; ``atr_over_price_pct`` — ``100 ATR / entry price``.
- ``margin_headroom`` — ``1 - margin_usage_pct / 100 / max_margin_usage`` (the entry's EnvConfig);
  ``equity_change_x10`` — ``10 (account_equity / initial_capital - 1)``.
- ``open_positions_over_5`` — open positions / 5.
- ``native_risk_over_limit`` — ``1.5 ATR × multiplier / risk_per_contract`` (the system's limits): the
  currency risk of one contract at the native 1.5 ATR stop over the per-contract risk unit.
- stop/target: ``volatility_regime``, ``market_stress``, ``time_of_day_risk`` from the state;
  ``mean_bars_held_over_10`` — mean ``time_in_trade_hours`` / 10 (**one bar read as one hour**);
  ``mean_open_pnl_over_stop`` — mean over positions of ``price_move / (1.5 ATR)`` (the stop distance is
  not in the context; the native stop is assumed), clipped to [-3, 3].
- risk monitor: ``open_pnl_pct`` — ``100 Σ unrealised P&L / equity``; drawdown, margin, VaR, correlation,
  stress, liquidity from the state (the environment's units: percent for drawdown and VaR, a
  fraction for margin); the four rule-critic scores and the ``emergency`` flag of
  :func:`~riskcore.portfolio.emergency.check_emergency` on them; ``excess_drawdown_pct`` —
  ``max(0, drawdown % - 100 drawdown_limit)``.
- portfolio optimiser: ``pnl_k`` — the open positions' unrealised P&L of strategy ``k`` over 1 % of the
  initial capital, clipped to [-5, 5] (realised P&L per strategy is not in the context); ``open_k`` —
  an open position of strategy ``k``; ``win_rate_k`` — **0.5** (no trade history in the context; the
  environment's value before a strategy's first closed trade).

Regime-filter block (after the context, :data:`~riskcore.agents.vec_env.FILTER_NAMES`). In the
environment a Hamilton filter on the intrabar prices of its three instruments estimates the hidden
regime; the decision path has no such tick stream of the training market, so the adapter runs the
**one-observation version of that filter** on what it has, the volatility ratio
``v = current_volatility / base_volatility`` (request, else context): with the environment's regime
volatility multipliers ``m_r`` and stationary law ``π_r``,
``p_r ∝ π_r exp(-(log v - log m_r)² / (2 s²))``, where ``s = 1 / sqrt(2 n_eff)`` is the sampling
error of the log of an EWMA volatility with ``n_eff = (1 + λ) / (1 - λ)`` effective observations
(``λ`` = the environment's ``ewma_lambda``). From ``p_r``, exactly as the environment:
``filtered_edge = Σ_r p_r e_{k,r}`` and ``p_positive_edge = Σ_r p_r [e_{k,r} > 0]`` with ``e`` the
environment's net edge per unit risked of strategy ``k``'s native bracket in regime ``r``;
``contract_cap_over_5 = min(max_contracts, floor(max_risk_per_trade E / L)) / 5`` with ``L`` the
currency loss of one contract at the native 1.5 ATR stop (the system's limits; commissions and
slippage are not in the request, so ``L`` has no cost term). All zero without a request, as in the
environment. This filter is far less sharp than the environment's (one volatility estimate
against hundreds of sub-step increments), so a learned sizing agent in the decision path sees a
vaguer regime than it trained on: its decisions there are as good as the volatility ratio is
informative about the regime, no better.

Open positions' stop/target updates keep the rule policy under a learned source: the trailing rule
of the environment is part of the rules, and the learned stop agent only places brackets at entry.
"""

from __future__ import annotations

import enum
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from riskcore.agents import vec_env
from riskcore.agents.critic import RuleCritic
from riskcore.agents.policy import AgentDecision, AgentName, Observation, RiskAction
from riskcore.agents.rules import StopTargetRule
from riskcore.errors import InputError
from riskcore.portfolio.emergency import RISK_SCORE_NAMES, check_emergency
from riskcore.portfolio.state import FEATURE_INDEX

__all__ = ["PolicySourceKind", "PolicySource", "LearnedPolicy", "LearnedDecision", "learned_observations"]

_F = FEATURE_INDEX


class PolicySourceKind(enum.StrEnum):
    RULES = "rules"
    REGISTRY = "registry"
    TEAM = "team"


@dataclass(frozen=True)
class LearnedDecision(AgentDecision):
    """An agent decision of a learned policy, with its action distribution for the request."""

    distribution: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "distribution": self.distribution}


def _clip(x: float, lo: float, hi: float) -> float:
    return min(max(float(x), lo), hi)


def _context_features(obs: Observation, env_config: Any, limits: Any, scores: np.ndarray) -> dict[str, float]:
    """Every context feature the adapter knows, by the environment's feature name (module notes)."""
    s = obs.state
    ctx, t = obs.context, obs.trade
    stop = vec_env._NATIVE_STOP  # the environment's native stop in ATR multiples
    progress = (1.0 - _clip(s[_F["time_of_day_risk"]], 0.0, 1.0)) / 2.0
    positions = ctx.positions
    n_open = len(positions)
    n_strat = vec_env.N_STRATEGIES
    f: dict[str, float] = {"session_progress": progress, "open_positions_over_5": n_open / 5.0,
                           "volatility_regime": float(s[_F["volatility_regime"]]),
                           "market_stress": float(s[_F["market_stress_level"]]),
                           "time_of_day_risk": float(s[_F["time_of_day_risk"]])}
    for k in range(n_strat):
        f[f"strategy_{k}"] = 0.0
    if t is not None:
        f[f"strategy_{min(int(t.strategy), n_strat - 1)}"] = 1.0
        cur = t.current_volatility or ctx.current_volatility
        base = t.base_volatility or ctx.base_volatility
        f.update(has_signal=1.0, direction=float(t.direction), reported_win_probability=t.p_win,
                 log_payoff=math.log(abs(t.avg_win)) - math.log(abs(t.avg_loss)) if t.avg_loss and t.avg_win else 0.0,
                 volatility_ratio=_clip(base / cur, 0.0, 3.0),
                 atr_over_price_pct=100.0 * t.effective_atr / t.entry_price,
                 native_risk_over_limit=stop * t.effective_atr * t.multiplier / limits.risk_per_contract)
    else:
        f.update(has_signal=0.0, direction=0.0, reported_win_probability=0.0, log_payoff=0.0, volatility_ratio=0.0,
                 atr_over_price_pct=0.0, native_risk_over_limit=0.0)
    dd = float(s[_F["current_drawdown_pct"]])
    f.update(margin_headroom=1.0 - s[_F["margin_usage_pct"]] / 100.0 / env_config.max_margin_usage,
             equity_change_x10=10.0 * (s[_F["account_equity_normalized"]] - 1.0),
             mean_bars_held_over_10=(sum(p.time_in_trade_hours for p in positions) / n_open / 10.0
                                     if positions else 0.0),
             mean_open_pnl_over_stop=_clip(sum(p.price_move / (stop * p.effective_atr) for p in positions) / n_open
                                           if positions else 0.0, -3.0, 3.0),
             open_pnl_pct=100.0 * sum(p.unrealized_pnl for p in positions) / ctx.account_equity,
             drawdown_pct=dd, margin_usage=s[_F["margin_usage_pct"]] / 100.0,
             var_pct=100.0 * s[_F["var_estimate_5pct"]], correlation_risk=float(s[_F["correlation_risk"]]),
             liquidity_risk=float(s[_F["liquidity_conditions"]]),
             excess_drawdown_pct=max(0.0, dd - 100.0 * env_config.drawdown_limit))
    sc = dict(zip(RISK_SCORE_NAMES, map(float, scores), strict=True))
    f.update({f"rule_score_{k}": v for k, v in sc.items()})
    f["emergency"] = float(check_emergency(sc, {"current_drawdown_pct": ctx.current_drawdown_pct,
                                                "margin_usage_pct": ctx.margin_usage_pct}, n_open).required)
    pnl_k, open_k = np.zeros(n_strat), np.zeros(n_strat)
    for p in positions:
        k = min(int(p.strategy), n_strat - 1)
        pnl_k[k] += p.unrealized_pnl
        open_k[k] = 1.0
    pnl_k = np.clip(pnl_k / (0.01 * ctx.initial_capital), -5.0, 5.0)
    for k in range(n_strat):
        f[f"pnl_{k}"], f[f"open_{k}"], f[f"win_rate_{k}"] = float(pnl_k[k]), float(open_k[k]), 0.5
    return f


@functools.lru_cache(maxsize=8)
def _regime_model(env_config: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The environment's stationary law, native edges (S, 3), log regime volatility multipliers and ``s``."""
    env = vec_env.VecRiskEnv(env_config, 1, 0)
    lam = env_config.ewma_lambda
    n_eff = (1.0 + lam) / (1.0 - lam)
    return (env.stationary.copy(), env._native_edge.copy(), np.log(np.asarray(env_config.volatility_multiplier)),
            1.0 / math.sqrt(2.0 * n_eff))


def _filter_features(obs: Observation, env_config: Any, limits: Any) -> dict[str, float]:
    """The regime-filter block (module notes): the one-observation filter on the volatility ratio."""
    names = vec_env.FILTER_NAMES
    t, ctx = obs.trade, obs.context
    if t is None:
        return dict.fromkeys(names, 0.0)
    pi, edge, log_m, s = _regime_model(env_config)
    cur = t.current_volatility or ctx.current_volatility
    base = t.base_volatility or ctx.base_volatility
    ll = -0.5 * ((math.log(cur / base) - log_m) / s) ** 2
    p = pi * np.exp(ll - ll.max())
    p = p / p.sum()
    e = edge[min(int(t.strategy), edge.shape[0] - 1)]
    loss = vec_env._NATIVE_STOP * t.effective_atr * t.multiplier
    cap = (min(limits.max_contracts, math.floor(limits.max_risk_per_trade * ctx.account_equity / loss))
           if loss > 0 else 0)
    return dict(zip(names, (*map(float, p), float(p @ e), float(p @ (e > 0)), max(cap, 0) / 5.0), strict=True))


def learned_observations(obs: Observation, env_config: Any, limits: Any, scores: np.ndarray | None = None
                         ) -> dict[AgentName, np.ndarray]:
    """Each agent's ``float32`` observation of ``vec_env.OBS_DIM`` (see the module notes for every feature).

    The context block follows ``vec_env.CONTEXT_NAMES`` (read now, in its order); a feature name the
    adapter does not know raises :class:`InputError` naming it, so a changed environment is never fed
    a silently misaligned vector.
    """
    n_feat = len(obs.state)
    z = np.zeros(n_feat) if obs.normalized is None else np.asarray(obs.normalized, dtype=float)
    f = _context_features(obs, env_config, limits, RuleCritic().evaluate(obs) if scores is None else scores)
    filt = np.asarray(list(_filter_features(obs, env_config, limits).values()), dtype=float)
    out = {}
    for a in vec_env.AGENTS:
        names = vec_env.CONTEXT_NAMES[a]
        try:
            c = [f[n] for n in names]
        except KeyError as exc:
            raise InputError(f"observation[{a.value}]", f"the environment has a context feature {exc.args[0]!r} the "
                             "decision-path adapter does not build: add it to riskcore.agents.learned") from None
        v = np.concatenate([z, np.asarray(c, dtype=float), filt]).astype(np.float32)
        if v.shape != (vec_env.OBS_DIM,):
            raise InputError(f"observation[{a.value}]", f"has {v.size} features but the environment's "
                             f"OBS_DIM is {vec_env.OBS_DIM}", value=v.size)
        if not np.isfinite(v).all():  # a degenerate context (e.g. zero ATR): neutral, clipped like the z-scores
            v = np.nan_to_num(v, nan=0.0, posinf=env_config.zscore_clip, neginf=-env_config.zscore_clip)
        out[a] = v
    return out


class _NumpyActor:
    """An actor's MLP as float32 NumPy matrices (copied once) and its head's squashing."""

    def __init__(self, actor: Any):
        layers = [m for m in actor.net if hasattr(m, "weight")]
        self.layers = [(m.weight.detach().cpu().numpy().astype(np.float32).T.copy(),
                        m.bias.detach().cpu().numpy().astype(np.float32).copy()) for m in layers]
        self.kind, self.low, self.high = actor.kind, float(actor.low), float(actor.high)
        self.std = None if actor.log_std is None else np.exp(actor.log_std.detach().cpu().numpy().astype(float))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        for i, (w, b) in enumerate(self.layers):
            x = x @ w + b
            if i < len(self.layers) - 1:
                np.maximum(x, 0.0, out=x)
        return x.astype(float)


class _ObservationCache:
    """The adapted observations of the last decision-path observation, shared by a team's four policies.

    The system hands the same :class:`Observation` object to each agent of a decision, so the adapter
    runs once per decision. The entry is one tuple (replaced whole, so a thread never reads half of it)
    and holds the observation itself, so its ``id`` cannot be reused while it is cached.
    """

    def __init__(self) -> None:
        self._last: tuple[Observation, dict[AgentName, np.ndarray]] | None = None

    def get(self, obs: Observation, env_config: Any, limits: Any) -> dict[AgentName, np.ndarray]:
        last = self._last
        if last is not None and last[0] is obs:
            return last[1]
        x = learned_observations(obs, env_config, limits, observation_scores(obs))
        self._last = (obs, x)
        return x


class LearnedPolicy:
    """One agent of a trained team behind :class:`~riskcore.agents.policy.Policy` (deterministic actions)."""

    def __init__(self, agent: AgentName | str, actor: Any, source: PolicySource, limits: Any,
                 cache: _ObservationCache | None = None):
        self.agent = AgentName(agent)
        self.net = _NumpyActor(actor)
        self.source = source
        self.limits = limits
        self._cache = cache or _ObservationCache()
        self._position_rule = StopTargetRule()

    def act(self, observation: Observation) -> AgentDecision:
        if self.agent is AgentName.STOP_TARGET and observation.position is not None:
            d = self._position_rule.act(observation)  # open positions keep the rule (module notes)
            return AgentDecision(d.agent, d.action, d.reason + " [rule: learned agents set brackets at entry only]")
        x = self._cache.get(observation, self.source.env_config, self.limits)
        out = self.net(x[self.agent])
        label = self.source.label
        n = self.net
        if n.kind == "categorical":
            e = np.exp(out - out.max())
            p = e / e.sum()
            a = int(np.argmax(p))
            action: Any = RiskAction(a) if self.agent is AgentName.RISK_MONITOR else a
            shown = action.name if isinstance(action, RiskAction) else a
            dist = {"kind": "categorical", "probabilities": [float(v) for v in p]}
            return LearnedDecision(self.agent, action, f"{label}: {shown} with probability {p[a]:.2f}", dist)
        if n.kind == "logit_normal":
            sig = lambda u: n.low + (n.high - n.low) / (1.0 + np.exp(-u))  # noqa: E731
            mode = sig(out)
            dist = {"kind": "logit_normal", "mode": mode.tolist(), "low_90": sig(out - 1.6449 * n.std).tolist(),
                    "high_90": sig(out + 1.6449 * n.std).tolist()}
            return LearnedDecision(self.agent, tuple(float(v) for v in mode),
                                   f"{label}: stop {mode[0]:.2f}×ATR, target {mode[1]:.2f}×ATR", dist)
        u = np.concatenate([out, [0.0]])
        e = np.exp(u - u.max())
        w = e / e.sum()
        dist = {"kind": "logistic_normal", "mode": w.tolist(), "mean_logit": out.tolist(), "std_logit": n.std.tolist()}
        return LearnedDecision(self.agent, tuple(float(v) for v in w),
                               f"{label}: weights " + ", ".join(f"{v:.2f}" for v in w), dist)


def observation_scores(observation: Observation) -> np.ndarray:
    """The rule critic's four scores of ``observation`` (a context feature of the risk monitor)."""
    return RuleCritic().evaluate(observation)


@dataclass(frozen=True)
class PolicySource:
    """Where the four agents come from: the rules (default), a registry entry or a team in memory.

    Build one with :meth:`rules`, :meth:`from_registry` (store, name, version) or :meth:`from_team`;
    a :class:`~riskcore.agents.registry.LoadedTeam` gives one through :meth:`from_loaded`.
    """

    kind: PolicySourceKind = PolicySourceKind.RULES
    name: str | None = None
    version: int | None = None
    content_hash: str | None = None
    team: Any = field(default=None, compare=False, repr=False)
    env_config: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def rules(cls) -> PolicySource:
        return cls()

    @classmethod
    def from_team(cls, team: Any, env_config: Any = None, *, name: str | None = None, version: int | None = None,
                  content_hash: str | None = None) -> PolicySource:
        from riskcore.agents.mappo import LearnedTeam, Team, TrainingResult

        if isinstance(team, TrainingResult):
            env_config = env_config or team.config.env
            team = team.team
        elif isinstance(team, LearnedTeam):
            team = team.team
        if not isinstance(team, Team):
            raise InputError("policy_source", "a learned source needs a Team, LearnedTeam or TrainingResult",
                             value=type(team).__name__)
        env_config = env_config if env_config is not None else vec_env.EnvConfig()
        if not isinstance(env_config, vec_env.EnvConfig):
            raise InputError("env_config", "must be an EnvConfig", value=type(env_config).__name__)
        first = team.actor(AgentName.POSITION_SIZING).net[0].weight.shape[1]
        if first != vec_env.OBS_DIM:
            raise InputError("policy_source", f"the team reads {first} observation features but the environment "
                             f"has OBS_DIM={vec_env.OBS_DIM}: retrain it", value=first)
        kind = PolicySourceKind.REGISTRY if name is not None and version is not None else PolicySourceKind.TEAM
        return cls(kind, name, version, content_hash, team.eval(), env_config)

    @classmethod
    def from_registry(cls, store: Any, name: str, version: int | None = None) -> PolicySource:
        from riskcore.agents.registry import ModelRegistry

        return cls.from_loaded(ModelRegistry(store).load(name, version))

    @classmethod
    def from_loaded(cls, loaded: Any) -> PolicySource:
        """The source of a :class:`~riskcore.agents.registry.LoadedTeam` (its team, env config and entry)."""
        e = loaded.entry
        return cls.from_team(loaded.team, loaded.env_config, name=e.name, version=e.version,
                             content_hash=e.content_hash)

    @property
    def learned(self) -> bool:
        return self.kind is not PolicySourceKind.RULES

    @property
    def label(self) -> str:
        if self.kind is PolicySourceKind.REGISTRY:
            return f"learned {self.name} v{self.version}"
        return "learned team (not saved)" if self.kind is PolicySourceKind.TEAM else "rules"

    def policies(self, limits: Any) -> dict[AgentName, LearnedPolicy]:
        """One :class:`LearnedPolicy` per agent (empty for the rules: the system keeps its defaults)."""
        if not self.learned:
            return {}
        cache = _ObservationCache()
        return {a: LearnedPolicy(a, self.team.actor(a), self, limits, cache) for a in vec_env.AGENTS}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind.value, "label": self.label}
        if self.kind is PolicySourceKind.REGISTRY:
            out.update(name=self.name, version=self.version, content_hash=self.content_hash)
        return out


def as_policy_source(source: Any) -> PolicySource:
    """``None`` / ``"rules"`` → the rules; a PolicySource as is; a LoadedTeam, Team or TrainingResult → learned."""
    if source is None or (isinstance(source, str) and source == PolicySourceKind.RULES.value):
        return PolicySource.rules()
    if isinstance(source, PolicySource):
        return source
    if hasattr(source, "entry") and hasattr(source, "team") and hasattr(source, "env_config"):  # a LoadedTeam
        return PolicySource.from_loaded(source)
    if isinstance(source, str | Mapping):
        raise InputError("policy_source", "must be 'rules', a PolicySource, a registry LoadedTeam or a team",
                         value=source)
    return PolicySource.from_team(source)
