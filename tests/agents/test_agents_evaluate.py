"""Paired evaluation: baselines, bootstrap table, verdict, store round trip and plots."""

import numpy as np
import pytest

from riskcore.agents.evaluate import Baseline, EvaluationResult, evaluate
from riskcore.agents.mappo import LearnedTeam, Team
from riskcore.agents.vec_env import EnvConfig
from riskcore.errors import InputError
from riskcore.plots.agents import (
    drawdown_distribution_figure,
    equity_curves_figure,
    size_vs_kelly_figure,
)

ENV = EnvConfig(session_length=16, zscore_window=8)


@pytest.fixture(scope="module")
def result():
    return evaluate(LearnedTeam(Team((16,), (16,))), ENV, seeds=[11, 12, 13], n_sessions=24)


def test_table_has_every_policy_metric_and_interval(result):
    t = result.summary()
    assert list(t.index) == [b.value for b in Baseline if b is not Baseline.RANDOM]
    for m in ("annual_return", "sharpe", "sortino", "max_drawdown", "cvar_95", "share_dd_over_2pct", "breaches",
              "sizing_accuracy"):
        assert (t[f"{m}_lo"] <= t[m] + 1e-12).all() and (t[m] <= t[f"{m}_hi"] + 1e-12).all(), m


def test_baselines_behave_as_defined(result):
    t = result.summary()
    assert t.loc["kelly_full", "sizing_accuracy"] == 1.0  # the Kelly-optimal size is its own choice
    assert (t.drop(index="no_risk_management")["breaches"] == 0).all()
    assert t.loc["no_risk_management", "breaches"] > 0  # rules off: the counter sees the breaches
    assert "learned team is" in result.verdict or result.verdict.startswith("No matched comparison")


def test_saved_evaluation_reloads(result, tmp_store):
    run_id = result.save(tmp_store, name="eval")
    back = EvaluationResult.load(tmp_store, run_id)
    assert back.verdict == result.verdict
    np.testing.assert_allclose(back.table["sharpe"].to_numpy(), result.table["sharpe"].to_numpy())
    np.testing.assert_array_equal(back.equity["rules"], result.equity["rules"])
    assert back.per_seed.shape == result.per_seed.shape


def test_bad_evaluation_input_names_the_field():
    with pytest.raises(InputError, match="seeds"):
        evaluate(None, ENV, seeds=[1], n_sessions=4)
    with pytest.raises(InputError, match="team"):
        evaluate(None, ENV, seeds=[1, 2], n_sessions=4, policies=["learned"])
    with pytest.raises(InputError, match="n_sessions"):
        evaluate(None, ENV, seeds=[1, 2], n_sessions=1)


def test_plot_builders(result):
    assert len(equity_curves_figure(result).data) >= len(result.equity)
    assert len(drawdown_distribution_figure(result).data) == len(result.session_drawdowns)
    fig = size_vs_kelly_figure(result, "kelly_full")
    z = np.asarray(fig.data[0].z)
    assert z.shape == (6, 6) and np.trace(z) == pytest.approx(1.0)  # full Kelly chooses the Kelly size
