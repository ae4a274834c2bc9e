"""Validation page and the Scenario Lab's Sweep / Reverse stress tabs (AppTest)."""

from __future__ import annotations

import pandas as pd

from riskcore.peg.sweep import REVERSE_KIND, SWEEP_KIND, ReverseStressResult, SweepResult
from riskcore.store import Store
from riskcore.validation import REPORT_KIND, ValidationReport


def _frames(at):
    return [df.value for df in at.dataframe]


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


def test_validation_page_runs_saves_reloads_and_benchmarks(app_test, tmp_db):
    at = app_test("validation", timeout=240)
    _ok(at)
    assert any("Run validation" in i.value for i in at.info)
    at.number_input(key="val-n-paths").set_value(1000)
    at.checkbox(key="val-var").uncheck()
    at.button(key="val-run").click().run()
    _ok(at)
    assert not at.error
    # every check with status, value, target and error; convergence shown as failing, as measured
    table = next(f for f in _frames(at) if hasattr(f, "columns") and "status" in f.columns)
    assert {"value", "target", "std_error"} <= set(table.columns)
    assert table.loc["convergence", "status"] == "failed" and table.loc["convergence", "target"] == 0.95
    assert table.loc["bands", "status"] == "passed"
    assert [m.value for m in at.metric][2] == str((table["status"] == "failed").sum())
    # save, then reload the saved report in a fresh session
    at.button(key="val-save").click().run()
    _ok(at)
    runs = Store(tmp_db).list_runs(REPORT_KIND)
    assert len(runs) == 1
    saved = ValidationReport.load(Store(tmp_db), runs.run_id[0])
    pd.testing.assert_frame_equal(saved.summary(), table, check_dtype=False)
    at2 = app_test("validation", timeout=240)
    at2.button(key="val-load").click().run()
    _ok(at2)
    t2 = next(f for f in _frames(at2) if hasattr(f, "columns") and "status" in f.columns)
    assert t2.loc["convergence", "value"] == table.loc["convergence", "value"]
    # benchmark: tiny sizes, plot and table
    at2.text_input(key="val-bench-paths").set_value("500, 1000")
    at2.number_input(key="val-bench-steps").set_value(10)
    at2.multiselect(key="val-bench-backends").set_value(["numba", "numpy"])
    at2.button(key="val-bench-run").click().run()
    _ok(at2)
    mc = next(f for f in _frames(at2) if hasattr(f, "columns") and "path_steps_per_s" in f.columns)
    assert sorted(mc["backend"].unique()) == ["numba", "numpy"] and len(mc) == 4
    assert any(c.key == "val-bench-fig" for c in at2.get("plotly_chart"))


def test_validation_page_bad_benchmark_input_is_an_error_not_a_traceback(app_test):
    at = app_test("validation", timeout=120)
    at.text_input(key="val-bench-paths").set_value("1000, lots")
    at.button(key="val-bench-run").click().run()
    _ok(at)
    assert any("path counts" in e.value for e in at.error)


def _lab(app_test):
    at = app_test("scenario_lab", timeout=240)
    _ok(at)
    at.number_input(key="sl-n-steps").set_value(30).run()
    return at


def test_scenario_lab_sweep_tab(app_test, tmp_db):
    at = _lab(app_test)
    at.number_input(key="sw-paths").set_value(1024)
    at.button(key="sw-run").click().run()
    _ok(at)
    assert not at.error
    table = next(f for f in _frames(at) if hasattr(f, "columns") and "p_min_below_0.95_se" in f.columns)
    assert len(table) == 9 and {"alpha", "sigma_base"} <= set(table.columns)
    keys = [c.key for c in at.get("plotly_chart")]
    assert "sw-heatmap" in keys and "sw-lines" in keys
    at.button(key="sw-save").click().run()
    _ok(at)
    runs = Store(tmp_db).list_runs(SWEEP_KIND)
    assert len(runs) == 1
    back = SweepResult.load(Store(tmp_db), runs.run_id[0])
    assert back.n_paths == 1024 and len(back.table) == 9


def test_scenario_lab_reverse_stress_tab(app_test, tmp_db):
    at = _lab(app_test)
    at.number_input(key="rs-paths").set_value(2048)
    at.number_input(key="rs-thr").set_value(0.5)
    at.button(key="rs-run").click().run()
    _ok(at)
    assert not at.error
    assert any("breached at shock" in i.value for i in at.info)
    assert any(c.key == "rs-fig" for c in at.get("plotly_chart"))
    at.button(key="rs-save").click().run()
    _ok(at)
    rid = Store(tmp_db).list_runs(REVERSE_KIND).run_id[0]
    back = ReverseStressResult.load(Store(tmp_db), rid)
    assert back.status == "breached" and -0.5 < back.boundary["shock"] < 0


def test_scenario_lab_reverse_stress_impossible_criterion(app_test):
    at = _lab(app_test)
    at.number_input(key="rs-thr").set_value(1.5)
    at.button(key="rs-run").click().run()
    _ok(at)
    assert any("criterion.threshold" in e.value for e in at.error)


def test_var_lab_backtest_shows_the_tests_beyond_coverage(app_test):
    from riskcore.var.beyond_coverage import BEYOND_COLUMNS

    at = app_test("var_lab", timeout=180)
    at.number_input(key="var-n").set_value(360)
    at.number_input(key="var-window").set_value(100)
    at.run()
    at.button(key="var-run").click().run()
    _ok(at)
    res = at.session_state["var-backtest-result"]
    beyond = next(f for f in _frames(at) if hasattr(f, "columns") and list(f.columns) == list(BEYOND_COLUMNS))
    pd.testing.assert_frame_equal(beyond, res.summary()[list(BEYOND_COLUMNS)], check_dtype=False)
