"""Issue 10 item 9: every stress preset stresses what its name says, visibly against the baseline."""

from __future__ import annotations

import numpy as np
import pytest

from riskcore.params import ModelParameters
from riskcore.peg.report import HEADLINE_STATS, stress_report
from riskcore.peg.scenarios import PRESETS
from riskcore.reports import stress_report_html


@pytest.fixture(scope="module")
def report():
    return stress_report(n_paths=20_000, seed=3, keep_paths=0)


def test_every_preset_moves_a_headline_statistic_by_more_than_5_standard_errors(report):
    z = report.change_z()
    for name in PRESETS:
        if name == "baseline":
            continue
        worst = float(np.nanmax(np.abs(z.loc[name, list(HEADLINE_STATS)].to_numpy())))
        assert worst > 5.0, (name, z.loc[name, list(HEADLINE_STATS)].round(1).to_dict())


def test_stress_presets_push_the_price_down(report):
    ch = report.changes()
    for name in ("bank_run", "fiat_flight", "crash", "combined", "network_degradation"):
        assert ch.loc[name, "mean_terminal"] < 0 and ch.loc[name, "p_depeg"] > 0, name
    # everything at once is at least as bad as the worst single event
    assert ch.loc["combined", "mean_drawdown"] >= ch.drop(index="combined")["mean_drawdown"].max()


def test_changes_cover_every_statistic_and_the_baseline_is_zero(report):
    ch = report.changes()
    assert list(ch.columns) == list(report.table.columns)
    assert (ch.loc["baseline"].fillna(0) == 0).all()
    np.testing.assert_allclose(ch.loc["crash"].to_numpy(),
                               (report.table.loc["crash"] - report.table.loc["baseline"]).to_numpy())
    assert "Change against baseline" in stress_report_html(report)


@pytest.mark.parametrize("name", [n for n in PRESETS if n != "baseline"])
def test_descriptions_name_the_inputs_they_change(name):
    sc = PRESETS[name]
    text = sc.description.lower()
    changed = {"shocks": bool(sc.shocks), "liquidity": sc.liquidity_pool != 1_000_000.0,
               "health": sc.network_health != 1.0, "fiat activity": sc.fiat_activity != 0.5}
    for word, is_changed in changed.items():
        if is_changed:
            assert (word.rstrip("s") in text), (name, word)


def test_presets_do_not_touch_the_model_parameters(report):
    assert report.params == ModelParameters()
