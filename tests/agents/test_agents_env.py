"""The multi-agent environment: PettingZoo API, vectorised twin, rules on every action, known edge."""

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from riskcore.agents.env import RiskTeamEnv
from riskcore.agents.evaluate import random_actions, rule_actions
from riskcore.agents.policy import AgentName
from riskcore.agents.vec_env import (
    AGENTS,
    OBS_DIM,
    STATE_DIM,
    EnvConfig,
    VecRiskEnv,
    vectorised_risk_adjustment,
    win_probability_from_drift,
)
from riskcore.errors import InputError
from riskcore.portfolio.emergency import apply_risk_adjustment
from riskcore.portfolio.state import RollingZScore

SMALL = EnvConfig(session_length=12, zscore_window=8)


def test_parallel_api_test_passes():
    parallel_api_test(RiskTeamEnv(SMALL, seed=3), num_cycles=40)


def test_spaces_match_the_prd():
    env = RiskTeamEnv(SMALL)
    assert env.action_space("position_sizing").n == 6
    b = env.action_space("stop_target")
    assert b.shape == (2,) and float(b.low.min()) == 0.5 and float(b.high.max()) == 3.0
    assert env.action_space("risk_monitor").n == 4
    w = env.action_space("portfolio_optimizer")
    assert w.shape == (5,) and float(w.low.min()) == 0.0 and float(w.high.max()) == 1.0
    assert env.observation_space("risk_monitor").shape == (OBS_DIM,)
    obs, _ = env.reset(seed=1)
    assert env.state().shape == (STATE_DIM,) and all(o.dtype == np.float32 for o in obs.values())


def test_vectorised_b1_gives_the_parallel_env_trajectory_bit_for_bit():
    par = RiskTeamEnv(SMALL)
    vec = VecRiskEnv(SMALL, 1, 5, autoreset=False)
    obs_p, _ = par.reset(seed=5)
    obs_v = vec.reset(seed=5)
    rng = np.random.default_rng(0)
    steps = 0
    while par.agents:
        a = random_actions(vec, rng)
        for ag in AGENTS:
            np.testing.assert_array_equal(obs_p[ag.value], obs_v[ag][0])
        np.testing.assert_array_equal(par.state(), vec.state()[0])
        obs_p, rew_p, term_p, trunc_p, _ = par.step({ag.value: a[ag][0] for ag in AGENTS})
        obs_v, rew_v, term_v, trunc_v, info = vec.step(a)
        if "final_observations" in info:
            obs_v = info["final_observations"]
        assert rew_p["risk_monitor"] == rew_v[0]
        assert trunc_p["position_sizing"] == bool(trunc_v[0])
        steps += 1
    assert steps == SMALL.session_length


def test_same_seed_same_market_whatever_the_actions():
    """Common random numbers: prices and regimes do not depend on the policy (paired evaluation)."""
    a = VecRiskEnv(SMALL, 16, 9, autoreset=False)
    b = VecRiskEnv(SMALL, 16, 9, autoreset=False)
    rng = np.random.default_rng(1)
    for _ in range(SMALL.session_length):
        a.step(rule_actions(a))
        b.step(random_actions(b, rng))
        np.testing.assert_array_equal(a.prices, b.prices)
        np.testing.assert_array_equal(a.regime, b.regime)
        np.testing.assert_array_equal(a.sig_k, b.sig_k)


def test_size_adjustment_is_the_scalar_table_on_arrays():
    rng = np.random.default_rng(2)
    base = rng.integers(0, 6, 2000)
    vals = {k: rng.uniform(0, 1, 2000) for k in ("portfolio", "correlation", "liquidity", "volatility_regime")}
    got = vectorised_risk_adjustment(base, vals, 5)
    want = [apply_risk_adjustment(int(b), {k: float(v[i]) for k, v in vals.items()}, 5) for i, b in enumerate(base)]
    np.testing.assert_array_equal(got, want)


def test_zscore_follows_rolling_zscore_rules():
    env = VecRiskEnv(SMALL, 1, 4, autoreset=False)
    ref = RollingZScore(window=SMALL.zscore_window, min_periods=SMALL.zscore_window)
    for row in env.zbuf[0]:
        ref.update(row)
    np.testing.assert_allclose(env.zstate[0], ref.transform(env.raw[0]), atol=1e-9)


def test_no_limit_is_ever_breached_with_the_rules_on_and_some_are_without():
    on = VecRiskEnv(EnvConfig(session_length=30), 64, 1, autoreset=False)
    off = VecRiskEnv(EnvConfig(session_length=30, enforce_rules=False), 64, 1, autoreset=False)
    n = 64
    greedy = {AgentName.POSITION_SIZING: np.full(n, 5), AgentName.STOP_TARGET: np.full((n, 2), 3.0),
              AgentName.RISK_MONITOR: np.zeros(n, int), AgentName.PORTFOLIO_OPTIMIZER: np.full((n, 5), 0.2)}
    b_on = b_off = cuts = 0
    for _ in range(30):
        _, _, _, _, i1 = on.step(greedy)
        _, _, _, _, i2 = off.step(greedy)
        b_on += i1["breaches"].sum()
        b_off += i2["breaches"].sum()
        cuts += i1["interventions"].sum()
        assert (on.qty <= 5).all()
    assert b_on == 0 and cuts > 0 and b_off > 0


def test_actions_outside_their_space_raise_naming_the_field():
    env = VecRiskEnv(SMALL, 2, 0)
    good = rule_actions(env)
    for agent, bad, field in [(AgentName.POSITION_SIZING, np.array([6, 0]), "position_sizing"),
                              (AgentName.POSITION_SIZING, np.array([1.5, 0]), "position_sizing"),
                              (AgentName.STOP_TARGET, np.array([[0.4, 1.0], [1, 1]]), "stop_target"),
                              (AgentName.RISK_MONITOR, np.array([0, 4]), "risk_monitor"),
                              (AgentName.PORTFOLIO_OPTIMIZER, np.full((2, 5), np.nan), "portfolio_optimizer")]:
        with pytest.raises(InputError, match=field):
            env.step({**good, agent: bad})
    with pytest.raises(InputError, match="risk_monitor"):
        env.step({k: v for k, v in good.items() if k is not AgentName.RISK_MONITOR})


@pytest.mark.parametrize("field, value", [("session_length", 1), ("correlation", (0.2, 0.4, 1.2)),
                                          ("win_probability", ((0.5, 0.5),)), ("drawdown_penalty", -1.0),
                                          ("signal_probability", 2.0)])
def test_invalid_env_config_names_the_field(field, value):
    with pytest.raises(InputError, match=field):
        EnvConfig(**{field: value})


def test_barrier_probability_known_answers():
    # zero drift: S / (S + T) with the continuity shift; strong drift: certain win
    p0 = win_probability_from_drift(np.array(0.0), np.array(3.0), np.array(3.0))
    assert p0 == pytest.approx(0.5)
    assert win_probability_from_drift(np.array(2.0), np.array(3.0), np.array(3.0)) > 0.999
    assert win_probability_from_drift(np.array(0.0), np.array(2.0), np.array(4.0)) < 0.5


def test_realised_win_rate_matches_the_known_edge():
    """Native-bracket trades in a world without jumps or regime switches win as often as stated."""
    cfg = EnvConfig(session_length=40, jump_intensity=(0, 0, 0), regime_persistence=(1.0, 1.0, 1.0),
                    enforce_rules=False)
    env = VecRiskEnv(cfg, 1500, 11, autoreset=False)
    trades = wins = 0
    expected = []
    for t in range(cfg.session_length):
        k, has = env.sig_k.copy(), env.sig.copy()
        p_true = env.true_edge()[0]
        n_before, w_before = env.strat_trades.sum(), env.strat_wins.sum()
        act = {AgentName.POSITION_SIZING: has.astype(int),
               AgentName.STOP_TARGET: np.column_stack([np.full(env.n_envs, 1.5), 1.5 * np.asarray(cfg.payoff)[k]]),
               AgentName.RISK_MONITOR: np.zeros(env.n_envs, int),
               AgentName.PORTFOLIO_OPTIMIZER: np.full((env.n_envs, 5), 0.2)}
        if t < 25:
            expected.append(p_true[has])
        env.step(act)
        if t < 30:  # trades resolved before the session close dominates
            trades += env.strat_trades.sum() - n_before
            wins += env.strat_wins.sum() - w_before
    rate = wins / trades
    p = np.concatenate(expected).mean()
    se = np.sqrt(p * (1 - p) / trades)
    assert abs(rate - p) < 5 * se + 0.02, (rate, p, se)


def _mixture_loglik(env: VecRiskEnv, y: np.ndarray, r: int) -> float:
    """Brute force: a sub-step's density under regime r, no jump or one jump, from scipy's normal."""
    from scipy.stats import multivariate_normal

    c = env.config
    rho = c.correlation[r]
    base = env._vol[r] ** 2 * (np.full((3, 3), rho) + np.eye(3) * (1 - rho))
    j = env._jump_p[r]
    odds = j / (1 - j)
    dens = multivariate_normal(np.zeros(3), base).pdf(y) / (1 + 3 * odds)
    for i in range(3):
        cov = base + np.diag(np.eye(3)[i]) * (c.jump_scale * env._vol[r]) ** 2
        dens += odds / (1 + 3 * odds) * multivariate_normal(np.zeros(3), cov).pdf(y)
    return float(np.log(dens))


def test_regime_filter_matches_a_brute_force_sum_over_regime_paths():
    import itertools

    env = VecRiskEnv(SMALL, 1, 3, autoreset=False)
    rng = np.random.default_rng(4)
    M, T = SMALL.substeps, 4
    # bars drawn at different volatilities, one with a jump-sized move
    ys = [rng.standard_normal((1, M, 3)) * env._vol[r] for r in (0, 2, 1, 1)]
    ys[2][0, 3, 1] += 6 * env._vol[1]
    prior = env.stationary[None].copy()
    for y in ys:
        prior = env.filter_update(prior, y)
    ll = np.array([[sum(_mixture_loglik(env, y[0, m], r) for m in range(M)) for r in range(3)] for y in ys])
    np.testing.assert_allclose(env.bar_log_likelihood(ys[0])[0], ll[0], rtol=1e-10)
    joint = np.zeros(3)
    for path in itertools.product(range(3), repeat=T + 1):
        w = env.stationary[path[0]]
        for t in range(T):
            w *= np.exp(ll[t, path[t]]) * env._trans[path[t], path[t + 1]]
        joint[path[T]] += w
    np.testing.assert_allclose(prior[0], joint / joint.sum(), rtol=1e-9)


def test_regime_filter_finds_the_hidden_regime():
    """The predicted regime is the true one on most decisions (measured 93 %; 2 000+ decisions)."""
    env = VecRiskEnv(EnvConfig(session_length=30), 128, 8, autoreset=False)
    hits = []
    for _ in range(30):
        hits.append(env.regime_prob.argmax(1) == env.regime)
        env.step(rule_actions(env))
    assert np.mean(hits) > 0.85
    obs = env.observations()[AgentName.POSITION_SIZING]
    np.testing.assert_allclose(obs[:, -6:-3].sum(1), 1.0, atol=1e-6)  # the probabilities are in every view


def test_trailing_stop_moves_per_the_prd_and_never_widens_risk():
    n = 256
    env = VecRiskEnv(EnvConfig(session_length=40), n, 12, autoreset=False)
    moved = 0
    for _ in range(40):
        before_open, before_entry, before_stop = env.open.copy(), env.entry.copy(), env.stop.copy()
        x = env.dirn * (env.prices[:, [0, 1, 2, 0, 1]] - env.entry) + env.alpha
        want = np.where(before_open & (x > env.stop0), np.minimum(before_stop, -x / 2), before_stop)
        act = rule_actions(env)
        env.step(act)
        # positions open before and after the step with the same entry: trailed (then the bar)
        same = before_open & env.open & (env.entry == before_entry)
        np.testing.assert_allclose(env.stop[same], want[same])
        assert (env.stop[same] <= before_stop[same] + 1e-12).all()  # a stop only tightens
        assert (env.stop[env.open] <= env.stop0[env.open] + 1e-12).all()  # risk at the stop <= risk at entry
        moved += int((same & (env.stop < before_stop)).sum())
    assert moved > 20
    off = VecRiskEnv(EnvConfig(session_length=40, trailing_stop=False), n, 12, autoreset=False)
    for _ in range(40):
        off.step(rule_actions(off))
        np.testing.assert_array_equal(off.stop[off.open], off.stop0[off.open])
