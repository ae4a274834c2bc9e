"""Learned policies in the decision path: limits still apply, the log records source, version, probabilities."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from riskcore.agents import vec_env
from riskcore.agents.learned import PolicySource, learned_observations
from riskcore.agents.mappo import Team
from riskcore.agents.policy import AgentName, Observation, RiskAction
from riskcore.agents.registry import ModelRegistry
from riskcore.agents.system import RiskLimits, RiskSystem
from riskcore.errors import InputError
from riskcore.portfolio.context import TradeRequest, preset
from riskcore.portfolio.events import RiskEventProcessor
from riskcore.portfolio.state import compute_risk_state

TRADE = {"symbol": "MES", "direction": 1, "base_quantity": 5, "entry_price": 5000.0, "strategy_confidence": 0.6,
         "avg_win": 200.0, "avg_loss": 100.0, "strategy": 2}


def _forced(sizing: int = 5, monitor: RiskAction = RiskAction.NO_ACTION) -> Team:
    """A team whose sizing agent always asks ``sizing`` contracts and whose monitor always says ``monitor``."""
    torch.manual_seed(0)
    team = Team((8, 8), (16, 16))
    with torch.no_grad():
        for agent, pick in ((AgentName.POSITION_SIZING, sizing), (AgentName.RISK_MONITOR, int(monitor))):
            last = team.actor(agent).net[-1]
            last.weight.zero_()
            last.bias.zero_()
            last.bias[pick] = 30.0
    return team


def _decide(system: RiskSystem, ctx=None, trade=TRADE):
    ctx = ctx or preset("calm")
    return system.process_risk_decision(compute_risk_state(ctx, n_simulations=500, seed=0).vector, ctx, trade)


def test_learned_source_is_cut_by_the_hard_limits():
    src = PolicySource.from_team(_forced(5))
    d = _decide(RiskSystem(policy_source=src, limits=RiskLimits(max_contracts=2)))
    assert d.base_size == 5                     # what the learned agent asked
    assert d.position_size == 2                 # RiskLimits.max_contracts cut it
    assert d.agent(AgentName.POSITION_SIZING).reason.startswith("learned team (not saved): 5 with probability 1.00")
    d = _decide(RiskSystem(policy_source=src), trade={**TRADE, "base_quantity": 3})
    assert d.base_size == 5 and d.position_size == 3  # never above the requested quantity


def test_learned_source_keeps_emergency_rules_and_close_all():
    src = PolicySource.from_team(_forced(5))
    squeeze = preset("calm").replace(margin_usage_pct=95.0)
    d = _decide(RiskSystem(policy_source=src), squeeze)
    assert d.is_emergency and d.position_size == 0 and "MARGIN_CRITICAL" in d.emergency.conditions
    d = _decide(RiskSystem(policy_source=PolicySource.from_team(_forced(5, RiskAction.CLOSE_ALL))))
    assert d.risk_action is RiskAction.CLOSE_ALL and d.position_size == 0 and d.execution_priority == "HIGH"


def test_rules_stay_the_default_and_record_their_source():
    d = _decide(RiskSystem())
    out = d.to_dict()
    assert out["policy_source"] == {"kind": "rules", "label": "rules"} and "distributions" not in out
    assert RiskSystem(policy_source="rules").policy_source.learned is False
    with pytest.raises(InputError, match="policy_source"):
        RiskSystem(policy_source="neural")
    with pytest.raises(InputError, match="either a system or a policy source"):
        RiskEventProcessor(system=RiskSystem(), policy_source="rules")


def test_decision_log_records_registry_source_version_and_probabilities(tmp_store):
    reg = ModelRegistry(tmp_store)
    reg.save(_forced(1), "desk")
    reg.save(_forced(4), "desk")
    loaded = reg.load("desk", 2)
    with RiskEventProcessor(store=tmp_store, policy_source=loaded, seed=0) as proc:
        resp = proc.process_risk_event("NEW_TRADE_REQUEST", TRADE)
    assert resp["status"] == "approved_reduced" and resp["approved_quantity"] == 4
    rec = tmp_store.list_decisions().record.iloc[0]
    assert rec["policy"] == {"kind": "registry", "label": "learned desk v2", "name": "desk", "version": 2,
                             "content_hash": loaded.entry.content_hash}
    dist = rec["agent_distributions"]
    assert set(dist) == {a.value for a in AgentName}
    p = np.asarray(dist["position_sizing"]["probabilities"])
    assert p.shape == (6,) and math.isclose(p.sum(), 1.0, rel_tol=1e-9) and int(p.argmax()) == 4
    assert math.isclose(sum(dist["risk_monitor"]["probabilities"]), 1.0, rel_tol=1e-9)
    st = dist["stop_target"]
    assert all(0.5 <= lo <= m <= hi <= 3.0 for lo, m, hi in zip(st["low_90"], st["mode"], st["high_90"], strict=True))
    w = np.asarray(dist["portfolio_optimizer"]["mode"])
    assert w.shape == (vec_env.N_STRATEGIES,) and math.isclose(w.sum(), 1.0, rel_tol=1e-9)
    # the decision's actions are those modes
    agents = {a["agent"]: a for a in rec["agents"]}
    assert agents["position_sizing"]["action"] == 4
    assert np.allclose(agents["stop_target"]["action"], st["mode"])


def test_adapter_features_have_the_environment_width_and_known_values():
    ctx = preset("calm")
    state = compute_risk_state(ctx, n_simulations=500, seed=0).vector
    trade = TradeRequest.from_event(TRADE)
    obs = Observation(state, ctx, trade, None, None)
    x = learned_observations(obs, vec_env.EnvConfig(), RiskLimits())
    assert set(x) == set(AgentName)
    n = len(state)
    for a, v in x.items():
        assert v.shape == (vec_env.OBS_DIM,) and v.dtype == np.float32 and np.isfinite(v).all(), a
        assert np.all(v[:n] == 0.0)            # no rolling z-score given: "at its recent mean"
    names = vec_env.CONTEXT_NAMES[AgentName.POSITION_SIZING]
    s = dict(zip(names, x[AgentName.POSITION_SIZING][n:n + len(names)], strict=True))
    assert s["has_signal"] == 1.0 and s["direction"] == 1.0 and s["strategy_2"] == 1.0 and s["strategy_0"] == 0.0
    assert s["reported_win_probability"] == pytest.approx(0.6)
    assert s["log_payoff"] == pytest.approx(math.log(2.0))
    assert s["atr_over_price_pct"] == pytest.approx(1.0)  # ATR defaults to 1 % of the entry price
    assert s["session_progress"] == pytest.approx((1 - ctx.time_of_day_risk) / 2)
    assert s["native_risk_over_limit"] == pytest.approx(1.5 * 50.0 / RiskLimits().risk_per_contract)
    m = dict(zip(vec_env.CONTEXT_NAMES[AgentName.RISK_MONITOR],
                 x[AgentName.RISK_MONITOR][n:n + vec_env.CONTEXT_DIM], strict=True))
    assert m["open_positions_over_5"] == pytest.approx(len(ctx.positions) / 5)
    assert m["emergency"] == 0.0
    o = dict(zip(vec_env.CONTEXT_NAMES[AgentName.PORTFOLIO_OPTIMIZER],
                 x[AgentName.PORTFOLIO_OPTIMIZER][n:n + vec_env.CONTEXT_DIM], strict=True))
    assert o["win_rate_0"] == 0.5
    f = dict(zip(vec_env.FILTER_NAMES, x[AgentName.POSITION_SIZING][n + len(names):], strict=True))
    # the calm preset's volatility ratio is 1: the one-observation filter favours the normal regime
    assert f["p_calm"] + f["p_normal"] + f["p_stressed"] == pytest.approx(1.0, abs=1e-6)
    assert f["p_normal"] > max(f["p_calm"], f["p_stressed"])
    assert 0.0 <= f["p_positive_edge"] <= 1.0
    lim = RiskLimits()
    cap = min(lim.max_contracts, math.floor(lim.max_risk_per_trade * ctx.account_equity / (1.5 * 50.0)))
    assert f["contract_cap_over_5"] == pytest.approx(cap / 5)


def test_adapter_filter_moves_with_the_volatility_ratio():
    """A volatility twice its base reads as the stressed regime (multiplier 2), a low one as calm (0.6)."""
    import dataclasses

    ctx = preset("calm")
    state = compute_risk_state(ctx, n_simulations=500, seed=0).vector
    base = TradeRequest.from_event(TRADE)
    probs = {}
    for ratio in (0.6, 1.0, 2.0):
        t = dataclasses.replace(base, current_volatility=ratio * (base.base_volatility or ctx.base_volatility))
        v = learned_observations(Observation(state, ctx, t, None, None), vec_env.EnvConfig(), RiskLimits())
        probs[ratio] = v[AgentName.POSITION_SIZING][-vec_env.FILTER_DIM:][:3]
    assert probs[0.6].argmax() == 0 and probs[1.0].argmax() == 1 and probs[2.0].argmax() == 2
    none = learned_observations(Observation(state, ctx, None, None, None), vec_env.EnvConfig(), RiskLimits())
    assert np.all(none[AgentName.POSITION_SIZING][-vec_env.FILTER_DIM:] == 0.0)


def test_team_for_another_observation_width_is_refused(monkeypatch):
    monkeypatch.setattr(vec_env, "OBS_DIM", vec_env.OBS_DIM + 1)
    with pytest.raises(InputError, match="OBS_DIM"):
        PolicySource.from_team(_forced())


def test_adapter_refuses_an_environment_feature_it_does_not_know(monkeypatch):
    names = dict(vec_env.CONTEXT_NAMES)
    names[AgentName.RISK_MONITOR] = (*names[AgentName.RISK_MONITOR][:-1], "order_book_imbalance")
    monkeypatch.setattr(vec_env, "CONTEXT_NAMES", names)
    ctx = preset("calm")
    obs = Observation(compute_risk_state(ctx, n_simulations=500, seed=0).vector, ctx, None, None, None)
    with pytest.raises(InputError, match="'order_book_imbalance' the decision-path adapter does not build") as e:
        learned_observations(obs, vec_env.EnvConfig(), RiskLimits())
    assert e.value.field == "observation[risk_monitor]"


def test_adapter_follows_the_environment_order(monkeypatch):
    """The context block is assembled by name in CONTEXT_NAMES order, so a reordered environment still fits."""
    ctx = preset("calm")
    obs = Observation(compute_risk_state(ctx, n_simulations=500, seed=0).vector, ctx, TradeRequest.from_event(TRADE),
                      None, None)
    before = learned_observations(obs, vec_env.EnvConfig(), RiskLimits())[AgentName.POSITION_SIZING]
    names = dict(vec_env.CONTEXT_NAMES)
    names[AgentName.POSITION_SIZING] = tuple(reversed(names[AgentName.POSITION_SIZING]))
    monkeypatch.setattr(vec_env, "CONTEXT_NAMES", names)
    after = learned_observations(obs, vec_env.EnvConfig(), RiskLimits())[AgentName.POSITION_SIZING]
    n, m = len(obs.state), len(names[AgentName.POSITION_SIZING])
    assert np.array_equal(after[n:n + m], before[n:n + m][::-1])
    assert np.array_equal(after[n + m:], before[n + m:])  # the filter block stays in FILTER_NAMES order
