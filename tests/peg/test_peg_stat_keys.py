"""Issue 16 item 5: the peg statistic keys are defined once (riskcore.peg.stat_keys) and unchanged."""

from __future__ import annotations

from riskcore.params import ModelParameters
from riskcore.peg import montecarlo
from riskcore.peg.montecarlo import simulate
from riskcore.peg.stat_keys import STAT_DESCRIPTIONS, VAR_LEVELS, PegStat, es_key, min_below_key, var_key

# the keys as they were written out before (results saved by earlier versions use them)
KEYS = ["mean_terminal", "std_terminal", "p_terminal_below_0.98", "p_min_below_0.95", "p_min_below_0.90", "p_depeg",
        "expected_days_below_0.98", "mean_drawdown", "worst_drawdown", "mean_days_to_recover", "p_unrecovered",
        "var_95", "var_99", "var_99.7", "es_95", "es_99", "es_99.7"]


def test_keys_are_unchanged_and_in_order():
    assert list(STAT_DESCRIPTIONS) == KEYS
    assert all(type(k) is str for k in STAT_DESCRIPTIONS)
    assert {s.value for s in PegStat} <= set(KEYS)
    assert [var_key(c) for c in VAR_LEVELS] == ["var_95", "var_99", "var_99.7"]
    assert es_key(0.99) == "es_99" and min_below_key(0.9) == "p_min_below_0.90"
    # the engine re-exports the one definition
    assert montecarlo.STAT_DESCRIPTIONS is STAT_DESCRIPTIONS and montecarlo.VAR_LEVELS is VAR_LEVELS


def test_results_use_exactly_these_keys():
    r = simulate(ModelParameters(), 1024, n_steps=20, seed=1, scenario="crash")
    assert list(r.stats) == KEYS and list(r.std_errors) == KEYS
    assert all(type(k) is str for k in r.stats)
    assert r.stats[PegStat.P_DEPEG] == r.stats["p_depeg"]
    assert list(r.summary().index) == KEYS
