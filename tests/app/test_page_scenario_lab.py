"""Scenario Lab page (AppTest): a small simulation, validation, save/compare, stress report."""

from __future__ import annotations

import numpy as np

from riskcore.peg.montecarlo import RUN_KIND, SimulationResult
from riskcore.store import Store


def _set(at, key, value):
    at.number_input(key=key).set_value(value)


def _frame(at, predicate):
    """The first dataframe on the page whose value satisfies ``predicate``."""
    frames = [df.value for df in at.dataframe]
    found = [f for f in frames if predicate(f)]
    assert found, f"no matching table among {len(frames)}"
    return found[0]


def test_small_simulation_shows_chart_and_table(app_test, tmp_db):
    at = app_test("scenario_lab", timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    _set(at, "sl-n-paths", 2_000)
    _set(at, "sl-n-steps", 60)
    at.selectbox(key="sl-scenario").set_value("crash")
    at.button(key="sl-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    stats = _frame(at, lambda f: "p_terminal_below_0.98" in f.index and "std_error" in f.columns)
    assert "p_terminal_below_0.98" in stats.index
    # the crash preset (-30 % on day 10) leaves every path far below the peg after 60 days
    assert stats.loc["p_terminal_below_0.98", "value"] == 1.0
    charts = at.get("plotly_chart")
    assert len(charts) >= 3
    # save the run, and it reloads to the same terminal prices
    at.button(key="sl-save").click().run()
    assert not at.exception
    runs = Store(tmp_db).list_runs(RUN_KIND)
    assert len(runs) == 1
    loaded = SimulationResult.load(Store(tmp_db), runs.run_id[0])
    assert loaded.n_paths == 2_000 and loaded.scenario.name == "crash"
    assert np.isfinite(loaded.terminal).all()
    # saved once: the page says where it is instead of offering a second save
    assert any(runs.run_id[0][:8] in c.value for c in at.success)
    assert not [b for b in at.button if b.key == "sl-save"]
    # an edited preset runs under its own name, never as the preset
    at.text_input(key="sl-s-shocks-crash").set_value("10:-0.5").run()
    at.button(key="sl-run").click().run()
    assert not at.exception and not at.error
    assert any("scenario 'crash (edited)'" in c.value for c in at.caption)
    edited = _frame(at, lambda f: "p_terminal_below_0.98" in f.index and "std_error" in f.columns)
    assert edited.loc["mean_terminal", "value"] < stats.loc["mean_terminal", "value"]  # -50 % instead of -30 %


def test_invalid_inputs_show_messages(app_test):
    at = app_test("scenario_lab", timeout=120)
    _set(at, "sl-n-paths", 0)
    at.button(key="sl-run").click().run()
    assert not at.exception
    assert any("n_paths" in e.value for e in at.error)
    at.text_input(key="sl-s-L-baseline").set_value("0:1e6, 30:-5").run()
    assert any("liquidity_pool" in e.value for e in at.error)
    sigma = next(w for w in at.number_input if w.label == "sigma_base")
    sigma.set_value(-0.1).run()
    assert not at.exception
    assert any("sigma_base" in e.value and "> 0" in e.value for e in at.error)


def test_compare_and_stress_report(app_test, tmp_db):
    from riskcore.peg.montecarlo import simulate

    store = Store(tmp_db)
    simulate(None, 500, n_steps=30, seed=1).save(store, name="one")
    simulate(None, 500, n_steps=30, seed=2, scenario="fiat_flight").save(store, name="two")
    at = app_test("scenario_lab", timeout=120)
    _set(at, "sl-n-paths", 1_000)
    _set(at, "sl-n-steps", 30)
    # the three views are a keyed segmented control (st.tabs forgot the chosen tab on every rerun)
    at.segmented_control(key="sl-view").set_value("Compare saved runs").run()
    ids = dict(zip(store.list_runs(RUN_KIND).name, store.list_runs(RUN_KIND).run_id, strict=True))
    # by default the two newest runs are side by side
    assert {at.selectbox(key="sl-cmp-A").value, at.selectbox(key="sl-cmp-B").value} == set(ids.values())
    at.selectbox(key="sl-cmp-A").set_value(ids["one"])
    at.selectbox(key="sl-cmp-B").set_value(ids["two"]).run()
    assert not at.exception, [e.value for e in at.exception]
    table = _frame(at, lambda f: "B - A" in f.columns)
    assert list(table.columns) == ["A", "B", "B - A"]
    at.segmented_control(key="sl-view").set_value("Stress report").run()
    _set(at, "sl-report-paths", 1_000)
    at.button(key="sl-report-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    report = _frame(at, lambda f: "combined" in f.index)
    assert {"baseline", "bank_run", "crash", "combined"} <= set(report.index)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download HTML report" in labels and "Download CSV" in labels
    at.button(key="sl-report-save").click().run()
    assert not at.exception
    assert store.list_runs("peg_stress_report").shape[0] == 1
    assert not [b for b in at.button if b.key == "sl-report-save"]  # saved once
    # a saved run shown in the Simulation view
    at.segmented_control(key="sl-view").set_value("Compare saved runs").run()
    at.button(key="sl-show-B").click().run()
    assert at.segmented_control(key="sl-view").value == "Simulation"
    assert not at.exception
    assert any("fiat_flight" in c.value for c in at.caption)
