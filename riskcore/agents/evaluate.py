"""Paired evaluation of the learned team against the rule system and sizing baselines.

Every policy trades the **same** sessions: for a seed, the market, the regimes and the trade
requests are drawn from one generator in an order that does not depend on the actions
(:class:`~riskcore.agents.vec_env.VecRiskEnv`), so differences between policies are paired.
A seed is ``n_sessions`` independent sessions (days) from the initial equity.

Policies (:class:`Baseline`; all but the last pass every action through the rules):

- ``learned`` — the trained team, deterministic actions (mode / squashed mean);
- ``rules`` — :mod:`riskcore.agents.rules` on the environment's arrays: quarter-Kelly PRD sizing
  on the strategy's *reported* (regime-blind) edge with the volatility adjustment, the PRD stop
  ``1.5 (1 + 0.5 v)`` ATR and a 1.5× target, the PRD monitor thresholds, inverse-volatility
  weights tilted by the reported edge;
- ``fixed_fraction`` — ``floor(0.25 % × equity / risk_per_contract)`` contracts on every request,
  rules otherwise;
- ``kelly_full`` / ``kelly_half`` / ``kelly_quarter`` — that fraction of Kelly with the **true**
  edge of the trade as placed with the rule bracket
  (:meth:`~riskcore.agents.vec_env.VecRiskEnv.kelly_size`), rules otherwise;
- ``no_risk_management`` — 5 contracts on every request, the strategy's native bracket, no
  monitor, equal weights, and the environment's rules switched off (its breaches are counted).

Per policy and seed (session returns ``r`` = session P&L / initial equity, 252 sessions a year,
:mod:`riskcore.portfolio.analytics`): annualised return, Sharpe, Sortino, maximum drawdown of the
bar-by-bar equity of the seed's sessions laid end to end, CVaR 95 % of the session returns, the
share of sessions whose intra-session drawdown exceeds 2 %, limit breaches, and the sizing
accuracy (share of trade requests where the sizing agent's chosen contracts are within one of the
Kelly-optimal size: full Kelly with the true edge of the trade as the stop/target agent placed it,
capped by the hard limits, :meth:`~riskcore.agents.vec_env.VecRiskEnv.kelly_size`).
Each is reported as its mean over seeds with a percentile-bootstrap 95 % interval over seeds.

Verdict (drawdown at matched return, learned vs rules): the per-seed differences of mean session
return and of maximum drawdown are bootstrapped. If the return difference's interval contains 0
the returns are matched and the drawdown difference decides (better / worse / indistinguishable
by whether its interval lies below 0, above 0 or straddles it). Otherwise, when both mean returns
are positive, the learned team's session returns are scaled by ``mean_rules / mean_learned``
(matched leverage) and the drawdowns compared the same way; when a mean return is not positive
there is no matched comparison and the verdict says so. Nothing here is tuned to the result.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskcore.agents.policy import AgentName, RiskAction
from riskcore.agents.rules import MONITOR_RULES
from riskcore.agents.vec_env import (
    N_STRATEGIES,
    STRATEGY_INSTRUMENT,
    EnvConfig,
    VecRiskEnv,
    prd_position_size,
)
from riskcore.errors import InputError
from riskcore.kinds import RunKind
from riskcore.portfolio import analytics
from riskcore.portfolio.state import FEATURE_INDEX
from riskcore.returns import simple_returns

__all__ = ["Baseline", "evaluate", "EvaluationResult", "rule_actions", "random_actions", "RUN_KIND", "METRICS",
           "run_sessions"]

RUN_KIND = RunKind.AGENTS_EVALUATION
METRICS = ("annual_return", "sharpe", "sortino", "max_drawdown", "cvar_95", "share_dd_over_2pct", "breaches",
           "sizing_accuracy", "mean_session_return")
_SEVERITY = {RiskAction.NO_ACTION: 0, RiskAction.HEDGE: 1, RiskAction.REDUCE_POSITION: 2, RiskAction.CLOSE_ALL: 3}


class Baseline(enum.StrEnum):
    LEARNED = "learned"
    RULES = "rules"
    FIXED_FRACTION = "fixed_fraction"
    KELLY_FULL = "kelly_full"
    KELLY_HALF = "kelly_half"
    KELLY_QUARTER = "kelly_quarter"
    NO_RISK_MANAGEMENT = "no_risk_management"
    RANDOM = "random"


# -- baseline policies on the environment's arrays -------------------------------------------------------
def rule_actions(env: VecRiskEnv, sizing: np.ndarray | None = None) -> dict[AgentName, np.ndarray]:
    """The rule system's four actions for every environment (``sizing`` overrides the contracts)."""
    c = env.config
    n = env.n_envs
    k = env.sig_k
    inst = STRATEGY_INSTRUMENT[k]
    sd = np.sqrt(env.cov[np.arange(n), inst, inst])
    if sizing is None:
        sizing = prd_position_size(env.reported_win_probability[k], np.asarray(c.payoff)[k], sd, c.bar_volatility,
                                   env.equity, c.limits)
    v = np.clip(env.raw[:, FEATURE_INDEX["volatility_regime"]], 0.0, 1.0)
    k_stop = np.clip(1.5 * (1.0 + 0.5 * v), 0.5, 3.0)  # a new trade: 0 hours in trade, time factor 1
    k_tgt = np.clip(k_stop * 1.5, 0.5, 3.0)
    mon = np.zeros(n, np.int64)
    sev = np.zeros(n, np.int64)
    for rule in MONITOR_RULES:
        fired = env.raw[:, FEATURE_INDEX[rule.feature]] > rule.threshold
        s = _SEVERITY[rule.action]
        take = fired & (s > sev)
        mon = np.where(take, int(rule.action), mon)
        sev = np.where(take, s, sev)
    strat_sd = np.sqrt(np.einsum("nii->ni", env.cov))[:, STRATEGY_INSTRUMENT]
    p = env.reported_win_probability
    edge = np.maximum(p * np.asarray(c.payoff) - (1 - p), 0.0)
    w = 1.0 / np.maximum(strat_sd, 1e-12)
    w = w * edge if edge.sum() > 0 else w
    w = w / w.sum(1, keepdims=True)
    return {AgentName.POSITION_SIZING: np.asarray(sizing, np.int64), AgentName.STOP_TARGET: np.column_stack(
        [k_stop, k_tgt]), AgentName.RISK_MONITOR: mon, AgentName.PORTFOLIO_OPTIMIZER: w}


def random_actions(env: VecRiskEnv, rng: np.random.Generator) -> dict[AgentName, np.ndarray]:
    """Uniform random actions (the 'random team' reference)."""
    n = env.n_envs
    return {AgentName.POSITION_SIZING: rng.integers(0, 6, n), AgentName.STOP_TARGET: rng.uniform(0.5, 3.0, (n, 2)),
            AgentName.RISK_MONITOR: rng.integers(0, 4, n), AgentName.PORTFOLIO_OPTIMIZER: rng.dirichlet(
                np.ones(N_STRATEGIES), n)}


def _actions(policy: Baseline, env: VecRiskEnv, obs: dict, team: Any, rng: np.random.Generator) -> dict:
    c = env.config
    if policy is Baseline.LEARNED:
        return team.act(obs)
    if policy is Baseline.RULES:
        return rule_actions(env)
    if policy is Baseline.FIXED_FRACTION:
        n = np.floor(0.0025 * env.equity / c.limits.risk_per_contract).astype(np.int64)
        return rule_actions(env, np.clip(n, 0, 5))
    if policy in (Baseline.KELLY_FULL, Baseline.KELLY_HALF, Baseline.KELLY_QUARTER):
        frac = {Baseline.KELLY_FULL: 1.0, Baseline.KELLY_HALF: 0.5, Baseline.KELLY_QUARTER: 0.25}[policy]
        rules = rule_actions(env)
        return rule_actions(env, env.kelly_size(frac, rules[AgentName.STOP_TARGET]))
    if policy is Baseline.NO_RISK_MANAGEMENT:
        n = env.n_envs
        b = np.asarray(c.payoff)[env.sig_k]
        return {AgentName.POSITION_SIZING: np.full(n, 5), AgentName.STOP_TARGET: np.column_stack(
            [np.full(n, 1.5), 1.5 * b]), AgentName.RISK_MONITOR: np.zeros(n, np.int64),
            AgentName.PORTFOLIO_OPTIMIZER: np.full((n, N_STRATEGIES), 1.0 / N_STRATEGIES)}
    return random_actions(env, rng)


def run_sessions(policy: Baseline | str, env_config: EnvConfig, n_sessions: int, seed: int, team: Any = None
                 ) -> dict[str, np.ndarray]:
    """One session in each of ``n_sessions`` environments; equity paths, sizes and counts."""
    policy = Baseline(policy)
    if policy is Baseline.LEARNED and team is None:
        raise InputError("team", "is needed to evaluate the learned policy")
    cfg = env_config
    if policy is Baseline.NO_RISK_MANAGEMENT:
        from dataclasses import replace

        cfg = replace(env_config, enforce_rules=False)
    env = VecRiskEnv(cfg, n_sessions, seed, autoreset=False)
    rng = np.random.default_rng([seed, 7])
    obs = env.reset()
    T = cfg.session_length
    equity = np.empty((n_sessions, T + 1))
    equity[:, 0] = env.equity
    chosen, kelly = [], []
    breaches = np.zeros(n_sessions, np.int64)
    for t in range(T):
        obs, _, _, _, info = env.step(_actions(policy, env, obs, team, rng))
        equity[:, t + 1] = info["equity"]
        h = info["has_signal"]
        chosen.append(info["chosen_size"][h])
        kelly.append(info["kelly_size"][h])
        breaches += info["breaches"]
    return {"equity": equity, "chosen": np.concatenate(chosen), "kelly": np.concatenate(kelly),
            "breaches": breaches}


def _seed_metrics(run: dict[str, np.ndarray], initial: float) -> dict[str, float]:
    eq = run["equity"]
    r = eq[:, -1] / initial - 1.0
    peak = np.maximum.accumulate(eq, axis=1)
    session_dd = (1.0 - eq / peak).max(1)
    bar = simple_returns(eq.T).T.reshape(-1)  # sessions end to end
    acc = float((np.abs(run["chosen"] - run["kelly"]) <= 1).mean()) if run["chosen"].size else float("nan")
    return {"annual_return": analytics.annual_return(r), "sharpe": analytics.sharpe_ratio(r),
            "sortino": analytics.sortino_ratio(r), "max_drawdown": analytics.max_drawdown(bar),
            "cvar_95": analytics.conditional_var(r, 0.95), "share_dd_over_2pct": float((session_dd > 0.02).mean()),
            "breaches": float(run["breaches"].sum()), "sizing_accuracy": acc, "mean_session_return": float(r.mean())}


def _bootstrap(x: np.ndarray, rng: np.random.Generator, n_boot: int = 2000) -> tuple[float, float]:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan"), float("nan")
    means = x[rng.integers(0, x.size, (n_boot, x.size))].mean(1)
    lo, hi = np.quantile(means, [0.025, 0.975])
    return float(lo), float(hi)


@dataclass(frozen=True)
class EvaluationResult:
    """Per-seed metrics, their bootstrap table, the verdict and arrays for the plots."""

    per_seed: pd.DataFrame
    table: pd.DataFrame
    verdict: str
    comparison: dict[str, float]
    equity: dict[str, np.ndarray] = field(default_factory=dict)
    session_drawdowns: dict[str, np.ndarray] = field(default_factory=dict)
    sizes: dict[str, np.ndarray] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """One row per policy: each metric's mean over seeds and its 95 % bootstrap interval."""
        return self.table

    def metric(self, policy: Baseline | str, name: str) -> float:
        return float(self.table.loc[Baseline(policy).value, name])

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table.reset_index().to_dict(orient="list"), "verdict": self.verdict,
                "comparison": dict(self.comparison), "params": dict(self.params)}

    def save(self, store: Any, name: str | None = None) -> str:
        """Save as a run of kind ``agents_evaluation`` (table as summary, arrays as ``.npy`` blobs)."""
        arrays: dict[str, np.ndarray] = {}
        cols = [c for c in self.per_seed.columns if c not in ("policy",)]
        arrays["per_seed"] = self.per_seed[cols].to_numpy(dtype=float)
        for p, a in self.equity.items():
            arrays[f"equity:{p}"] = a
        for p, a in self.session_drawdowns.items():
            arrays[f"dd:{p}"] = a
        for p, a in self.sizes.items():
            arrays[f"sizes:{p}"] = a
        return store.save_run(RUN_KIND, self.params, self.params.get("seeds", [None])[0], self.table.reset_index(),
                              name=name, arrays=arrays, verdict=self.verdict, comparison=self.comparison,
                              per_seed_columns=cols, policies=list(self.per_seed["policy"]))

    @classmethod
    def load(cls, store: Any, run_id: str) -> EvaluationResult:
        rec = store.load_run(run_id, kind=RUN_KIND)
        ex, a = rec.extra, rec.arrays
        per_seed = pd.DataFrame(a["per_seed"], columns=ex["per_seed_columns"])
        per_seed.insert(0, "policy", ex["policies"])
        per_seed["seed"] = per_seed["seed"].astype(int)
        table = pd.DataFrame(rec.summary).set_index("policy")

        def pick(prefix: str) -> dict[str, np.ndarray]:
            return {k.split(":", 1)[1]: v for k, v in a.items() if k.startswith(prefix + ":")}

        return cls(per_seed, table, ex["verdict"], dict(ex["comparison"]), pick("equity"), pick("dd"), pick("sizes"),
                   rec.params or {})


def evaluate(team: Any = None, env_config: EnvConfig | None = None, seeds: tuple[int, ...] | list[int] = tuple(
        range(100_000, 100_016)), n_sessions: int = 64, policies: tuple[Baseline | str, ...] | None = None,
             bootstrap_seed: int = 0) -> EvaluationResult:
    """Evaluate ``team`` (a :class:`~riskcore.agents.mappo.LearnedTeam`) and the baselines.

    Parameters
    ----------
    team : LearnedTeam, optional
        Without it the learned policy is left out (and there is no verdict).
    env_config : EnvConfig, optional
    seeds : sequence of int
        Held-out seeds (training uses its own stream; keep these apart from ``TrainConfig.seed``).
    n_sessions : int
        Sessions per seed.
    policies : sequence of Baseline, optional
        Default: every baseline except ``random`` (plus ``learned`` when a team is given).
    """
    from riskcore.validate import integer

    cfg = env_config if env_config is not None else EnvConfig()
    if not isinstance(cfg, EnvConfig):
        raise InputError("env_config", "must be an EnvConfig", value=type(cfg).__name__)
    n_sessions = integer("n_sessions", n_sessions, lo=2)
    seeds = [integer("seeds", s, lo=0) for s in seeds]
    if len(seeds) < 2:
        raise InputError("seeds", "needs at least 2 seeds for an interval", value=len(seeds))
    if policies is None:
        policies = [b for b in Baseline if b not in (Baseline.RANDOM, Baseline.LEARNED)]
        if team is not None:
            policies = [Baseline.LEARNED, *policies]
    policies = [Baseline(p) for p in policies]
    rows = []
    equity, dds, sizes = {}, {}, {}
    for p in policies:
        dd_all, ch_all, ke_all = [], [], []
        for i, s in enumerate(seeds):
            run = run_sessions(p, cfg, n_sessions, s, team)
            rows.append({"policy": p.value, "seed": s, **_seed_metrics(run, cfg.initial_equity)})
            eq = run["equity"]
            dd_all.append((1.0 - eq / np.maximum.accumulate(eq, axis=1)).max(1))
            ch_all.append(run["chosen"])
            ke_all.append(run["kelly"])
            if i == 0:
                equity[p.value] = eq
        dds[p.value] = np.concatenate(dd_all)
        sizes[p.value] = np.column_stack([np.concatenate(ch_all), np.concatenate(ke_all)])
    per_seed = pd.DataFrame(rows)
    rng = np.random.default_rng(bootstrap_seed)
    trows = []
    for p in policies:
        d = per_seed[per_seed["policy"] == p.value]
        row: dict[str, Any] = {"policy": p.value}
        for m in METRICS:
            lo, hi = _bootstrap(d[m].to_numpy(), rng)
            row[m] = float(d[m].mean())
            row[f"{m}_lo"], row[f"{m}_hi"] = lo, hi
        trows.append(row)
    table = pd.DataFrame(trows).set_index("policy")
    if Baseline.LEARNED in policies and Baseline.RULES in policies:
        verdict, comp = _verdict(per_seed, cfg, seeds, n_sessions, team, rng)
    else:
        verdict, comp = "no verdict: the learned team or the rule system was not evaluated", {}
    params = {"env": cfg.to_dict(), "seeds": seeds, "n_sessions": n_sessions, "policies": [p.value for p in policies]}
    return EvaluationResult(per_seed, table, verdict, comp, equity, dds, sizes, params)


def _verdict(per_seed: pd.DataFrame, cfg: EnvConfig, seeds: list[int], n_sessions: int, team: Any,
             rng: np.random.Generator) -> tuple[str, dict[str, float]]:
    L = per_seed[per_seed["policy"] == Baseline.LEARNED.value].set_index("seed")
    R = per_seed[per_seed["policy"] == Baseline.RULES.value].set_index("seed")
    d_ret = (L["mean_session_return"] - R["mean_session_return"]).to_numpy()
    ret_lo, ret_hi = _bootstrap(d_ret, rng)
    mean_l, mean_r = float(L["mean_session_return"].mean()), float(R["mean_session_return"].mean())
    comp = {"return_diff": float(d_ret.mean()), "return_diff_lo": ret_lo, "return_diff_hi": ret_hi,
            "learned_mean_session_return": mean_l, "rules_mean_session_return": mean_r}
    if ret_lo <= 0.0 <= ret_hi:
        how, scale = "returns matched (their paired difference is not significant)", 1.0
    elif mean_l > 0 and mean_r > 0:
        scale = mean_r / mean_l
        how = f"returns matched by scaling the learned team's P&L by {scale:.3g}"
    else:
        comp["scale"] = float("nan")
        return (f"No matched comparison: mean session return learned {mean_l:.4%} vs rules {mean_r:.4%} "
                f"(paired difference 95 % CI [{ret_lo:.4%}, {ret_hi:.4%}]), and a return that is not positive "
                "cannot be matched by scaling.", comp)
    dd_l = []
    for s in seeds:
        run = run_sessions(Baseline.LEARNED, cfg, n_sessions, s, team) if scale != 1.0 else None
        if run is None:
            dd_l.append(float(L.loc[s, "max_drawdown"]))
            continue
        eq = run["equity"]
        bar = simple_returns(eq.T).T * scale
        dd_l.append(analytics.max_drawdown(bar.reshape(-1)))
    d_dd = np.asarray(dd_l) - R.loc[seeds, "max_drawdown"].to_numpy()
    lo, hi = _bootstrap(d_dd, rng)
    comp.update(scale=scale, drawdown_diff=float(d_dd.mean()), drawdown_diff_lo=lo, drawdown_diff_hi=hi)
    word = "better (smaller)" if hi < 0 else "worse (larger)" if lo > 0 else "indistinguishable"
    return (f"On maximum drawdown at matched return the learned team is {word} than the rule system: "
            f"{how}; drawdown difference learned − rules {d_dd.mean():+.3%} (95 % CI [{lo:+.3%}, {hi:+.3%}]) "
            f"over {len(seeds)} held-out seeds.", comp)

