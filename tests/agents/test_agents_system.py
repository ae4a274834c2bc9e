"""Agents behind the Policy interface, the critic and RiskSystem aggregation (PRD §2.3, §2.5.1)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from riskcore.agents import (
    ACTION_SPACES,
    OBS_DIM,
    AgentDecision,
    AgentName,
    Observation,
    Policy,
    RiskAction,
    RiskLimits,
    RiskSystem,
    RuleCritic,
)
from riskcore.agents.rules import PortfolioOptimizerRule, PositionSizingRule, RiskMonitorRule, StopTargetRule
from riskcore.agents.system import stop_target_prices
from riskcore.errors import InputError
from riskcore.portfolio.context import Position, TradeRequest, preset
from riskcore.portfolio.state import FEATURE_INDEX, compute_risk_state
from riskcore.portfolio.stops import dynamic_stop_loss

TRADE = {"symbol": "MES", "direction": 1, "base_quantity": 3, "entry_price": 5000.0, "strategy_confidence": 0.6,
         "atr": 20.0}


@pytest.fixture(scope="module")
def calm():
    ctx = preset("calm")
    return ctx, compute_risk_state(ctx, n_simulations=1000).vector


def _obs(ctx, state, trade=None, position=None):
    return Observation(state, ctx, None if trade is None else TradeRequest.from_event(trade), position)


def test_rule_policies_satisfy_protocol_and_spaces(calm):
    ctx, state = calm
    for pol in (PositionSizingRule(), StopTargetRule(), RiskMonitorRule(), PortfolioOptimizerRule()):
        assert isinstance(pol, Policy)
        d = pol.act(_obs(ctx, state, TRADE))
        assert d.agent is pol.agent and d.reason
        assert ACTION_SPACES[d.agent].contains(d.action if not isinstance(d.action, RiskAction) else int(d.action))
    obs = _obs(ctx, state, TRADE)
    assert obs.as_array().shape == (OBS_DIM,) and obs.as_array().dtype == np.float32


def test_stop_agent_reproduces_prd_stop(calm):
    ctx, state = calm
    d = RiskSystem().process_risk_decision(state, ctx, TRADE)
    assert d.stop_loss_price == dynamic_stop_loss(5000.0, 1, 20.0, ctx.volatility_regime, 0, 0)
    for p in ctx.positions:
        upd = d.stop_target_updates[p.position_id]
        ref = dynamic_stop_loss(p.entry_price, p.direction, p.effective_atr, ctx.volatility_regime,
                                p.time_in_trade_hours, p.price_move)
        assert upd["stop_loss"] == ref  # the PRD formula exactly, to the cent
        assert 0.5 <= upd["stop_multiplier"] <= 3.0 and 0.5 <= upd["target_multiplier"] <= 3.0


def test_monitor_table(calm):
    ctx, state = calm
    s = state.copy()
    assert RiskMonitorRule().act(_obs(ctx, s)).action is RiskAction.NO_ACTION
    s[FEATURE_INDEX["correlation_risk"]] = 0.75
    assert RiskMonitorRule().act(_obs(ctx, s)).action is RiskAction.HEDGE
    s[FEATURE_INDEX["margin_usage_pct"]] = 85
    assert RiskMonitorRule().act(_obs(ctx, s)).action is RiskAction.REDUCE_POSITION
    s[FEATURE_INDEX["current_drawdown_pct"]] = 1.6
    d = RiskMonitorRule().act(_obs(ctx, s))
    assert d.action is RiskAction.CLOSE_ALL and "drawdown" in d.reason and "margin" in d.reason


def test_optimizer_weights_simplex(calm):
    ctx, state = calm
    w = np.array(PortfolioOptimizerRule().act(_obs(ctx, state)).action)
    assert w.shape == (5,) and (w >= 0).all() and w.sum() == pytest.approx(1.0)
    # strategy 3 has the lowest Sharpe (0.3) and a higher volatility than strategy 0
    assert w[3] < w[0]
    eq = PortfolioOptimizerRule().act(_obs(ctx.replace(strategy_volatility=None), state)).action
    assert eq == pytest.approx((0.2,) * 5)


def test_critic_scores(calm):
    ctx, state = calm
    s = RuleCritic().evaluate(_obs(ctx, state), {})
    assert s.shape == (4,) and ((0 <= s) & (s <= 1)).all()
    assert s[0] == pytest.approx(min(1.0, state[4] / 0.02))
    largest = max(abs(p.value) for p in ctx.positions)
    assert s[1] == pytest.approx(largest / ctx.account_equity)
    assert s[2] == state[3] and s[3] == state[9]


def test_aggregation_normal_and_size_cut(calm):
    ctx, state = calm
    d = RiskSystem().process_risk_decision(state, ctx, TRADE)
    assert d.action_type.value == "NORMAL" and d.base_size == 5 and d.position_size == 3  # capped at request
    hot = state.copy()
    hot[FEATURE_INDEX["var_estimate_5pct"]] = 0.017  # portfolio score 0.85 → × 0.75
    d2 = RiskSystem().process_risk_decision(hot, ctx, {**TRADE, "base_quantity": 5})
    assert d2.position_size == 3 and "risk-adjusted 3" in d2.size_reason
    out = d2.to_dict()
    assert out["decisions"]["position_size"] == 3 and "risk_action" in out["decisions"]  # VaR > 1 % → REDUCE
    assert d2.execution_priority == "HIGH"
    assert d2.summary().shape[0] == 5


def test_emergency_overrides_everything(calm):
    ctx, state = calm
    for change in ({"margin_usage_pct": 90.5}, {"current_drawdown_pct": 1.51}):
        d = RiskSystem().process_risk_decision(state, ctx.replace(**change), TRADE)
        assert d.is_emergency and d.position_size == 0 and d.execution_priority == "IMMEDIATE"
        assert d.to_dict()["emergency_action"]["required"]


@settings(max_examples=300, deadline=None)
@given(entry=st.floats(1e-2, 1e6), d=st.sampled_from([1, -1]), atr=st.floats(0, 1e4), v=st.floats(0, 1),
       hours=st.floats(0, 100), move=st.floats(-1e4, 1e4))
@example(entry=1.0, d=1, atr=25.0, v=0.0, hours=0.48, move=0.0)  # a half-cent tie the product order decided
def test_rule_stop_agent_prices_equal_the_prd_stop(entry, d, atr, v, hours, move):
    # the stop agent's multiplier turned into a price by the system is the PRD §2.2.2 stop, to the cent
    ctx = preset("calm").replace(volatility_regime=v)
    state = np.zeros(10)
    state[FEATURE_INDEX["volatility_regime"]] = v
    pos = Position("x", "MES", float(d), entry, entry, 1.0, atr, hours)
    k_stop, k_target = StopTargetRule().act(Observation(state, ctx, None, pos)).action
    stop, _ = stop_target_prices(entry, d, atr, k_stop, k_target, v, move)
    assert stop == dynamic_stop_loss(entry, d, atr, v, hours, move)


def _three_position_context():
    ctx = preset("margin squeeze").replace(margin_usage_pct=30.0, current_drawdown_pct=0.2, volatility_regime=0.4)
    state = compute_risk_state(ctx, n_simulations=500).vector
    state[FEATURE_INDEX["var_estimate_5pct"]] = 0.005  # portfolio score 0.25
    state[FEATURE_INDEX["correlation_risk"]] = 0.3
    return ctx, state


@pytest.mark.parametrize("rule,at,past", [
    ("EXCESSIVE_DRAWDOWN", {"current_drawdown_pct": 1.5}, {"current_drawdown_pct": 1.5 + 1e-9}),
    ("MARGIN_CRITICAL", {"margin_usage_pct": 90.0}, {"margin_usage_pct": 90.0 + 1e-9}),
    ("CRITICAL_PORTFOLIO_RISK", {"var_estimate_5pct": 0.018}, {"var_estimate_5pct": 0.018 * (1 + 1e-9)}),  # score 0.9
    ("DANGEROUS_CORRELATION", {"correlation_risk": 0.8}, {"correlation_risk": 0.8 + 1e-9}),
])
def test_each_emergency_rule_end_to_end_at_and_just_past(rule, at, past):
    ctx, state = _three_position_context()

    def decide(change):
        c, s = ctx, state.copy()
        for k, v in change.items():
            if k in FEATURE_INDEX and k not in ("current_drawdown_pct", "margin_usage_pct"):
                s[FEATURE_INDEX[k]] = v
            else:
                c = c.replace(**{k: v})
        return RiskSystem().process_risk_decision(s, c, TRADE)

    normal = decide(at)
    assert not normal.is_emergency and normal.position_size >= 1 and normal.execution_priority != "IMMEDIATE"
    hit = decide(past)
    assert hit.is_emergency and hit.emergency.conditions == (rule,)
    assert hit.position_size == 0 and hit.execution_priority == "IMMEDIATE"
    if rule == "DANGEROUS_CORRELATION":  # needs more than two open positions (PRD)
        two = RiskSystem().process_risk_decision(
            np.where(np.arange(10) == FEATURE_INDEX["correlation_risk"], 0.8 + 1e-9, state), ctx.replace(
                positions=ctx.positions[:2]), TRADE)
        assert not two.is_emergency


class GreedyPolicy:
    """A misbehaving 'learned' policy: out-of-space actions."""

    def __init__(self, agent, action):
        self.agent, self.action = agent, action

    def act(self, observation):
        return AgentDecision(self.agent, self.action, "learned")


def test_swapped_policies_are_projected_into_spaces(calm):
    ctx, state = calm
    sys = RiskSystem({AgentName.POSITION_SIZING: GreedyPolicy(AgentName.POSITION_SIZING, 100),
                      AgentName.STOP_TARGET: GreedyPolicy(AgentName.STOP_TARGET, (10.0, float("nan"))),
                      AgentName.RISK_MONITOR: GreedyPolicy(AgentName.RISK_MONITOR, 7),
                      AgentName.PORTFOLIO_OPTIMIZER: GreedyPolicy(AgentName.PORTFOLIO_OPTIMIZER, [3, -1, 0, 0, 1])},
                     limits=RiskLimits(max_contracts=2))
    d = sys.process_risk_decision(state, ctx, {**TRADE, "base_quantity": 50})
    assert d.agent("position_sizing").action == 5 and "projected" in d.agent("position_sizing").reason
    assert d.position_size == 2
    assert d.agent("stop_target").action == (3.0, 0.5)
    assert d.agent("risk_monitor").action is RiskAction.HEDGE
    assert sum(d.portfolio_allocation) == pytest.approx(1.0) and min(d.portfolio_allocation) >= 0


def test_critic_nan_counts_as_worst(calm):
    ctx, state = calm

    class NaNCritic:
        def evaluate(self, observation, decisions):
            return np.array([np.nan, 0.1, 0.1, 0.1])

    d = RiskSystem(critic=NaNCritic()).process_risk_decision(state, ctx, TRADE)
    assert d.risk_scores["portfolio"] == 1.0 and d.is_emergency


def test_bad_inputs(calm):
    ctx, state = calm
    with pytest.raises(InputError, match="risk_state"):
        RiskSystem().process_risk_decision(state[:5], ctx)
    bad = state.copy()
    bad[4] = np.nan
    with pytest.raises(InputError, match="var_estimate_5pct"):
        RiskSystem().process_risk_decision(bad, ctx)
    with pytest.raises(InputError, match="policies"):
        RiskSystem({AgentName.RISK_MONITOR: object()})
    d = RiskSystem().process_risk_decision(state, ctx.to_dict() | {"price_history": None})
    assert d.position_size is None


# ---- properties over random states ------------------------------------------------------------

_unit = st.floats(0, 1)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(equity=st.floats(0.5, 1.5), regime=_unit, corr=_unit, var=st.floats(0, 0.05), dd=st.floats(0, 3),
       margin=st.floats(0, 100), stress=_unit, liq=_unit, p=_unit, qty=st.integers(1, 500),
       cap=st.integers(1, 5))
def test_property_limits_and_emergency_override(calm, equity, regime, corr, var, dd, margin, stress, liq, p, qty,
                                                cap):
    ctx, _ = calm
    ctx = ctx.replace(current_drawdown_pct=dd, margin_usage_pct=margin, volatility_regime=regime,
                      market_stress_level=stress, liquidity_risk=liq)
    state = np.array([equity, len(ctx.positions), regime, corr, var, dd, margin, 0.2, stress, liq])
    d = RiskSystem(limits=RiskLimits(max_contracts=cap)).process_risk_decision(
        state, ctx, {**TRADE, "base_quantity": qty, "strategy_confidence": p})
    assert 0 <= d.position_size <= min(cap, qty)
    expected_emergency = (min(1.0, var / 0.02) > 0.9 or dd > 1.5 or margin > 90
                          or (corr > 0.8 and len(ctx.positions) > 2))
    assert d.is_emergency == expected_emergency
    if d.is_emergency:
        assert d.position_size == 0 and d.execution_priority == "IMMEDIATE"
