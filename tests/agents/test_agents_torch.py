"""A PyTorch policy and critic drop into RiskSystem; state dicts round-trip with weights_only=True."""

import numpy as np
import pytest
import torch
from torch import nn

from riskcore.agents import OBS_DIM, AgentName, RiskAction, RiskSystem
from riskcore.agents.torch_policy import TorchCritic, TorchPolicy, load_state_dict, output_dim, save_state_dict
from riskcore.portfolio.context import preset
from riskcore.portfolio.state import compute_risk_state

TRADE = {"symbol": "MES", "direction": 1, "base_quantity": 5, "entry_price": 5000.0, "strategy_confidence": 0.6}


def _mlp(n_in: int, n_out: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_in, 16), nn.ReLU(), nn.Linear(16, n_out))


def test_learned_policies_and_critic_plug_in(tmp_path):
    ctx = preset("calm")
    state = compute_risk_state(ctx, n_simulations=500).vector
    policies = {a: TorchPolicy(a, _mlp(OBS_DIM, output_dim(a), i)) for i, a in enumerate(AgentName)}
    critic = TorchCritic(_mlp(TorchCritic.input_dim, 4, 9))
    d = RiskSystem(policies, critic).process_risk_decision(state, ctx, TRADE, normalized_state=np.zeros(10))
    assert 0 <= d.agent(AgentName.POSITION_SIZING).action <= 5 and 0 <= d.position_size <= 5
    k_stop, k_target = d.agent(AgentName.STOP_TARGET).action
    assert 0.5 <= k_stop <= 3.0 and 0.5 <= k_target <= 3.0
    assert isinstance(d.agent(AgentName.RISK_MONITOR).action, RiskAction)
    assert sum(d.portfolio_allocation) == pytest.approx(1.0)
    assert all(0 <= v <= 1 for v in d.risk_scores.values())
    assert "learned policy" in d.agent(AgentName.POSITION_SIZING).reason

    path = save_state_dict(critic, tmp_path / "critic.pt")
    other = TorchCritic(_mlp(TorchCritic.input_dim, 4, 123))
    load_state_dict(other, path)  # torch.load(weights_only=True) inside
    d2 = RiskSystem(policies, other).process_risk_decision(state, ctx, TRADE, normalized_state=np.zeros(10))
    assert d2.risk_scores == d.risk_scores
