"""MAPPO: GAE on truncation vs termination, reproducibility, checkpoints, bad input, persistence."""

import threading

import numpy as np
import pytest
import torch

from riskcore.agents.mappo import (
    LearnedTeam,
    SizingCredit,
    Team,
    TrainConfig,
    TrainingResult,
    ValueNorm,
    critic_calibration,
    gae,
    load_checkpoint,
    reliability_table,
    trade_log_growth,
    train,
)
from riskcore.agents.vec_env import AGENTS, EnvConfig, VecRiskEnv
from riskcore.errors import InputError

ENV = EnvConfig(session_length=8, zscore_window=4)
TINY = dict(env=ENV, n_envs=8, n_iterations=2, epochs=1, minibatches=2, hidden=(16,), critic_hidden=(16,),
            device="cpu")


def test_gae_bootstraps_on_truncation_not_on_termination():
    r = np.array([[1.0, 1.0], [1.0, 1.0]])
    v = np.array([[0.5, 0.5], [0.5, 0.5]])
    nv = np.array([[0.5, 0.5], [10.0, 10.0]])  # value of the final state after step 1
    term = np.array([[False, False], [True, False]])
    trunc = np.array([[False, False], [False, True]])
    adv, ret = gae(r, v, nv, term, trunc, gamma=0.9, lam=0.8)
    # env 0 terminates: delta_1 = 1 - 0.5; env 1 is truncated: delta_1 = 1 + 0.9 * 10 - 0.5
    assert adv[1, 0] == pytest.approx(0.5)
    assert adv[1, 1] == pytest.approx(9.5)
    d0 = 1 + 0.9 * 0.5 - 0.5
    assert adv[0, 0] == pytest.approx(d0 + 0.9 * 0.8 * 0.5)
    assert adv[0, 1] == pytest.approx(d0 + 0.9 * 0.8 * 9.5)
    np.testing.assert_allclose(ret, adv + v)


def test_gae_does_not_leak_across_episode_ends():
    r = np.array([[0.0], [5.0]])
    adv, _ = gae(r, np.zeros((2, 1)), np.zeros((2, 1)), np.array([[True], [False]]), np.zeros((2, 1), bool),
                 0.99, 0.95)
    assert adv[0, 0] == 0.0 and adv[1, 0] == 5.0


def test_value_norm_tracks_mean_and_variance():
    vn = ValueNorm()
    x = torch.tensor(np.random.default_rng(0).normal(3.0, 2.0, 20_000))
    for chunk in x.split(1000):
        vn.update(chunk)
    assert float(vn.mean) == pytest.approx(float(x.mean()), abs=1e-6)
    assert float(vn.var) == pytest.approx(float(x.var(unbiased=False)), rel=1e-3)
    np.testing.assert_allclose(vn.denormalize(vn.normalize(x)).numpy(), x.numpy(), rtol=1e-9)


def test_training_is_bit_reproducible_on_cpu_and_records_curves():
    a = train(TrainConfig(**TINY, seed=3))
    b = train(TrainConfig(**TINY, seed=3))
    c = train(TrainConfig(**TINY, seed=4))
    sa, sb, sc = a.team.state_dict(), b.team.state_dict(), c.team.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    assert list(a.curves["iteration"]) == [1, 2]
    for col in ("episode_return", "value_loss", "policy_loss", "entropy", "approx_kl", "explained_variance"):
        assert np.isfinite(a.curves[col]).all(), col
    assert a.curves["breaches"].sum() == 0
    assert a.summary().loc["iterations", "value"] == 2


def test_resume_from_checkpoint_continues_the_same_run(tmp_path):
    full = train(TrainConfig(**{**TINY, "n_iterations": 3}, seed=1))
    cfg = TrainConfig(**{**TINY, "n_iterations": 3}, seed=1, checkpoint_dir=str(tmp_path), checkpoint_every=1)
    calls = []
    part = train(cfg, progress=lambda i, n, m: calls.append(i), stop=lambda: len(calls) >= 2)
    assert part.stopped and part.iterations == 2
    ck = load_checkpoint(tmp_path / "checkpoint.pt")  # weights_only=True inside
    assert ck["iteration"] == 2
    resumed = train(cfg, resume_from=tmp_path / "checkpoint.pt")
    s1, s2 = full.team.state_dict(), resumed.team.state_dict()
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    np.testing.assert_array_equal(full.curves["episode_return"], resumed.curves["episode_return"])


def test_a_stopped_training_keeps_its_last_checkpoint(tmp_path):
    ev = threading.Event()
    ev.set()
    res = train(TrainConfig(**{**TINY, "n_iterations": 50}, checkpoint_dir=str(tmp_path), checkpoint_every=100),
                stop=ev)
    assert res.stopped and res.iterations == 1
    ck = load_checkpoint(res.checkpoint)
    assert ck["iteration"] == 1
    team = Team((16,), (16,))
    team.load_state_dict(ck["team"])


def test_resume_rejects_another_config(tmp_path):
    train(TrainConfig(**{**TINY, "n_iterations": 1}, checkpoint_dir=str(tmp_path)))
    with pytest.raises(InputError, match="resume_from"):
        train(TrainConfig(**{**TINY, "n_iterations": 2}, seed=9, checkpoint_dir=str(tmp_path)),
              resume_from=tmp_path / "checkpoint.pt")


@pytest.mark.parametrize("field, value", [("n_envs", 0), ("gamma", 1.5), ("clip", 0.0), ("hidden", ()),
                                          ("device", "tpu"), ("learning_rate", -1.0), ("env", "x"),
                                          ("time_limit_s", -3.0), ("sizing_credit", "agent")])
def test_invalid_config_names_the_field(field, value):
    with pytest.raises(InputError, match=field):
        TrainConfig(**{**TINY, field: value})


def test_learned_team_rejects_nan_observations_naming_the_field():
    env = VecRiskEnv(ENV, 3, 0)
    obs = env.reset()
    pol = LearnedTeam(Team((16,), (16,)))
    acts = pol.act(obs)
    assert set(acts) == set(AGENTS)
    assert acts[AGENTS[3]].sum(1) == pytest.approx(np.ones(3))
    assert ((acts[AGENTS[1]] >= 0.5) & (acts[AGENTS[1]] <= 3.0)).all()
    bad = {k: v.copy() for k, v in obs.items()}
    bad[AGENTS[2]][1, 4] = np.nan
    with pytest.raises(InputError, match=r"observations\[risk_monitor\]\[1, 4\]"):
        pol.act(bad)


def test_training_result_round_trips_through_the_store_and_safetensors(tmp_store, tmp_path):
    res = train(TrainConfig(**TINY))
    run_id = res.save(tmp_store, name="tiny")
    back = TrainingResult.load(tmp_store, run_id)
    s1, s2 = res.team.state_dict(), back.team.state_dict()
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    np.testing.assert_allclose(back.curves["value_loss"], res.curves["value_loss"])
    from safetensors.torch import load_file

    from riskcore.plots.agents import learning_curves_figure

    fig = learning_curves_figure(back)
    assert len(fig.data) == 8 and list(fig.data[0].y) == list(res.curves["episode_return"])
    files = res.save_weights(tmp_path / "w")
    sd = load_file(str(files["position_sizing"]))
    actor = Team((16,), (16,)).actors["position_sizing"]
    actor.load_state_dict(sd)
    assert torch.equal(actor.net[0].weight, res.team.actors["position_sizing"].net[0].weight)


def test_reliability_table_and_brier_known_answers():
    p = np.array([0.05, 0.05, 0.95, 0.95])
    y = np.array([0.0, 0.0, 1.0, 0.0])
    t = reliability_table(p, y, bins=10)
    assert t.loc[0, "count"] == 2 and t.loc[0, "observed_frequency"] == 0.0
    assert t.loc[9, "count"] == 2 and t.loc[9, "observed_frequency"] == 0.5
    team = Team((16,), (16,))
    with torch.no_grad():
        team.critic.risk.weight.zero_()  # the risk head then says exactly 0.5 for everything
    rep = critic_calibration(team, ENV, n_envs=16, seed=5)
    assert set(rep.brier.columns) >= {"brier_learned", "brier_rule", "base_rate"}
    np.testing.assert_allclose(rep.brier["brier_learned"], 0.25, atol=1e-12)
    assert (rep.reliability.groupby(["event", "critic"])["count"].sum() == rep.n).all()
    from riskcore.plots.agents import reliability_figure

    assert len(reliability_figure(rep).data) == 3 * len(rep.brier)


def test_trade_log_growth_is_maximised_at_the_kelly_size():
    """The sizing agent's credit Q(a) peaks within one contract of info["kelly_size"] on every request."""
    from riskcore.agents.evaluate import random_actions

    env = VecRiskEnv(EnvConfig(session_length=20), 256, 5, autoreset=False)
    rng = np.random.default_rng(0)
    n = 0
    for _ in range(20):
        _, _, _, _, info = env.step(random_actions(env, rng))
        h = info["has_signal"]
        q = trade_log_growth(info["trade_edge"])
        assert (np.abs(q.argmax(1) - info["kelly_size"])[h] <= 1).all()
        assert (q[:, 0] == 0).all()  # no trade, no growth
        n += int(h.sum())
    assert n > 1000
    # a known answer: p = 0.6, b = 1, l = 1 %: f* = 0.2, Kelly = 20 contracts, capped at 5
    q = trade_log_growth(np.array([0.6, 1.0, 0.01, 5.0]))
    np.testing.assert_allclose(q[3], 0.6 * np.log(1.03) + 0.4 * np.log(0.97))
    assert q.argmax() == 5


def test_team_credit_still_trains_and_round_trips_in_the_config():
    cfg = TrainConfig(**TINY, sizing_credit="team")
    assert cfg.sizing_credit is SizingCredit.TEAM
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    res = train(cfg)
    assert res.iterations == 2 and np.isfinite(res.curves["policy_loss"]).all()


@pytest.mark.slow
def test_sizing_agent_learns_the_kelly_size_from_the_regime_filter():
    """20 iterations of the default config (about a minute): held-out sizing accuracy >= 90 %.

    Measured 95-97 % after 10-30 iterations; the filter's ceiling is about 93 % from the filter
    alone, so 90 % leaves room for seed-to-seed spread without passing a policy that cannot size.
    """
    from riskcore.agents.evaluate import Baseline, run_sessions

    res = train(TrainConfig(n_iterations=20, device="cpu"))
    run = run_sessions(Baseline.LEARNED, res.config.env, 128, 900_123, res.policy())
    acc = (np.abs(run["chosen"] - run["kelly"]) <= 1).mean()
    assert run["chosen"].size > 3000 and acc >= 0.90
