"""Learned risk agents (issue 12): environment throughput and a 10-minute MAPPO training.

Targets:

- vectorised environment with policy inference >= 100,000 agent-steps/s (an agent-step is one
  agent's action in one environment; four per environment step), and >= 20x the PettingZoo
  ``ParallelEnv`` loop with the same policy measured in the same run (the reference);
- the default ``TrainConfig`` trained for at most 10 minutes: evaluation return above a random
  team by >= 5 standard errors (paired over the same held-out sessions); position sizing
  accuracy >= 90 % (the PRD asks 95 %); and where the team lands against the rule system on
  maximum drawdown, whatever it is.

Usage: ``python bench/bench_agents.py [--quick] [--train-seconds S]``; ``--quick`` measures the
throughput only (what ``run_all.py`` does by default is the full run).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from riskcore.agents.env import RiskTeamEnv  # noqa: E402
from riskcore.agents.evaluate import Baseline, evaluate, run_sessions  # noqa: E402
from riskcore.agents.mappo import LearnedTeam, Team, TrainConfig, train  # noqa: E402
from riskcore.agents.vec_env import AGENTS, EnvConfig, VecRiskEnv  # noqa: E402


def throughput(n_envs: int = 1024, steps: int = 120, loop_steps: int = 600) -> tuple[float, float]:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    pol = LearnedTeam(Team())
    cfg = EnvConfig()
    vec = VecRiskEnv(cfg, n_envs, 0, autoreset=True)
    obs = vec.reset()
    vec.step(pol.act(obs))  # warm up
    t0 = time.perf_counter()
    for _ in range(steps):
        obs, *_ = vec.step(pol.act(obs))
    vec_rate = len(AGENTS) * n_envs * steps / (time.perf_counter() - t0)

    par = RiskTeamEnv(cfg, seed=0)
    obs_p, _ = par.reset()
    t0 = time.perf_counter()
    for _ in range(loop_steps):
        a = pol.act({k: v[None] for k, v in obs_p.items()})
        obs_p, _, term, trunc, _ = par.step({ag.value: a[ag][0] for ag in AGENTS})
        if not par.agents:
            obs_p, _ = par.reset()
    loop_rate = len(AGENTS) * loop_steps / (time.perf_counter() - t0)
    return vec_rate, loop_rate


def training(seconds: float) -> None:
    cfg = TrainConfig(time_limit_s=seconds, n_iterations=100_000)
    t0 = time.perf_counter()
    res = train(cfg)
    wall = time.perf_counter() - t0
    print(f"training: {res.iterations} iterations of {cfg.n_envs} x {cfg.env.session_length} bars in {wall:.0f} s "
          f"on {res.device} (limit {seconds:.0f} s); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    c = res.curves
    print(f"  return first {c['episode_return'].iloc[0]:+.5f} -> last 10 {c['episode_return'].tail(10).mean():+.5f}; "
          f"training sizing accuracy last 10 {c['sizing_accuracy'].tail(10).mean():.1%}")
    over = np.flatnonzero(c["sizing_accuracy"].to_numpy() >= 0.9)
    if over.size:
        print(f"  training sizing accuracy first >= 90 % at iteration {int(c['iteration'].iloc[over[0]])} "
              f"({c['seconds'].iloc[: over[0] + 1].sum():.0f} s of training)")
    team = res.policy()
    seeds = list(range(900_000, 900_016))
    n_sessions = 64
    d = []
    for s in seeds:
        learned = run_sessions(Baseline.LEARNED, cfg.env, n_sessions, s, team)
        rnd = run_sessions(Baseline.RANDOM, cfg.env, n_sessions, s)
        d.append(learned["equity"][:, -1] / cfg.env.initial_equity - rnd["equity"][:, -1] / cfg.env.initial_equity)
    d = np.concatenate(d)
    se = d.std(ddof=1) / np.sqrt(d.size)
    z = d.mean() / se
    print(f"  evaluation return learned - random: {d.mean():+.4%} per session, SE {se:.4%} -> {z:.1f} SE "
          f"(target >= 5) over {d.size} paired held-out sessions")
    ev = evaluate(team, cfg.env, seeds=seeds, n_sessions=n_sessions,
                  policies=[Baseline.LEARNED, Baseline.RULES, Baseline.KELLY_FULL])
    t = ev.summary()
    acc = t.loc["learned", "sizing_accuracy"]
    print(f"  sizing accuracy learned {acc:.1%} [{t.loc['learned', 'sizing_accuracy_lo']:.1%}, "
          f"{t.loc['learned', 'sizing_accuracy_hi']:.1%}] (target >= 90 %, PRD 95 %); rules "
          f"{t.loc['rules', 'sizing_accuracy']:.1%}")
    for p in ("learned", "rules", "kelly_full"):
        print(f"  {p:>10}: max drawdown {t.loc[p, 'max_drawdown']:.2%} [{t.loc[p, 'max_drawdown_lo']:.2%}, "
              f"{t.loc[p, 'max_drawdown_hi']:.2%}], annual return {t.loc[p, 'annual_return']:+.1%}, Sharpe "
              f"{t.loc[p, 'sharpe']:.2f}, breaches {t.loc[p, 'breaches']:.0f}")
    print("  " + ev.verdict)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="throughput only")
    ap.add_argument("--train-seconds", type=float, default=600.0)
    args = ap.parse_args(argv)
    vec_rate, loop_rate = throughput()
    print(f"vectorised env + policy inference (1024 envs): {vec_rate:,.0f} agent-steps/s (target >= 100,000)")
    print(f"ParallelEnv loop + policy inference (reference): {loop_rate:,.0f} agent-steps/s")
    print(f"ratio: {vec_rate / loop_rate:.1f}x (target >= 20x)")
    if not args.quick:
        training(args.train_seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
