"""State that follows the user (issue 11 items 5, 6, 8, 12): AppTests that failed on the old pages.

Inputs survive a visit to another page together with the results; a result whose inputs changed
is marked out of date with a re-run button; default names follow the current result; a parameter
set is never overwritten silently; the Scenario Lab's view stays where the user put it; stress
report runs are grouped; a series that is not a pegged token is called out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskcore.store import Store

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def _go(at, page: str):
    at.switch_page(str(ROOT / "pages" / f"{page}.py"))
    return at.run()


def _away_and_back(at, page: str):
    _go(at, "home")
    assert not at.exception, [e.value for e in at.exception]
    return _go(at, page)


def _captions(at) -> str:
    return "\n".join(str(c.value) for c in at.caption)


def _csv(n: int = 60, level: float = 1.0, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=n, freq="D")
    prices = level * (1.0 + 0.004 * rng.standard_normal(n))
    return pd.DataFrame({"Date": dates.strftime("%Y-%m-%d"), "Close": prices}).to_csv(index=False).encode()


def test_scenario_lab_inputs_come_back_and_changed_inputs_mark_results_out_of_date(app_test):
    at = app_test("scenario_lab", timeout=120)
    at.number_input(key="sl-n-paths").set_value(2_000)
    at.number_input(key="sl-n-steps").set_value(40)
    at.number_input(key="sl-seed").set_value(5)
    at.selectbox(key="sl-scenario").set_value("bank_run")
    at.button(key="sl-run").click().run()
    assert "seed 5, scenario 'bank_run'" in _captions(at)
    assert not [b for b in at.button if b.key == "sl-stale"]  # up to date
    _away_and_back(at, "scenario_lab")
    assert not at.exception, [e.value for e in at.exception]
    assert at.number_input(key="sl-n-paths").value == 2_000 and at.number_input(key="sl-seed").value == 5
    assert at.selectbox(key="sl-scenario").value == "bank_run"
    assert "seed 5, scenario 'bank_run'" in _captions(at)
    assert not [b for b in at.button if b.key == "sl-stale"]
    # an input changed after the run: the old numbers are marked, and one click re-runs
    at.number_input(key="sl-seed").set_value(6).run()
    assert any("Out of date" in c and "seed" in c for c in (str(c.value) for c in at.caption))
    at.button(key="sl-stale").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "seed 6, scenario 'bank_run'" in _captions(at)
    assert not [b for b in at.button if b.key == "sl-stale"]
    assert any(m.label == "You waited" and m.value.endswith(" s") for m in at.metric)


def test_run_name_follows_the_result(app_test):
    at = app_test("scenario_lab", timeout=120)
    at.number_input(key="sl-n-paths").set_value(1_000)
    at.number_input(key="sl-n-steps").set_value(20)
    at.button(key="sl-run").click().run()
    assert at.text_input(key="sl-run-name").value == "baseline seed 0"
    at.selectbox(key="sl-scenario").set_value("bank_run").run()
    at.button(key="sl-run").click().run()
    assert at.text_input(key="sl-run-name").value == "bank_run seed 0"
    at.text_input(key="sl-run-name").set_value("my run").run()
    at.number_input(key="sl-seed").set_value(1).run()
    at.button(key="sl-run").click().run()
    assert at.text_input(key="sl-run-name").value == "my run"  # a name the user typed is theirs


def test_compare_view_stays_when_a_run_is_chosen_and_stress_runs_are_grouped(app_test, tmp_db):
    from riskcore.peg.montecarlo import RUN_KIND, simulate
    from riskcore.peg.report import stress_report

    store = Store(tmp_db)
    one = simulate(None, 500, n_steps=20, seed=1).save(store, name="one")
    two = simulate(None, 500, n_steps=20, seed=2, scenario="crash").save(store, name="two")
    stress_report(n_paths=300, n_steps=10, keep_paths=1).save(store, name="stress seed 0")
    at = app_test("scenario_lab", timeout=120)
    at.segmented_control(key="sl-view").set_value("Compare saved runs").run()
    picker = at.selectbox(key="sl-cmp-A")
    assert set(picker.options) == {o for o in picker.options if "stress seed 0:" not in o}  # no sub-runs
    assert len(picker.options) == 2
    picker.set_value(one).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.segmented_control(key="sl-view").value == "Compare saved runs"
    assert at.selectbox(key="sl-cmp-A").value == one and at.selectbox(key="sl-cmp-B").value in (one, two)
    assert any("B - A" in df.value.columns for df in at.dataframe)
    # the chosen view and runs survive a visit to another page too
    _away_and_back(at, "scenario_lab")
    assert at.segmented_control(key="sl-view").value == "Compare saved runs"
    assert at.selectbox(key="sl-cmp-A").value == one
    # Home lists the report once, with its runs counted, not one line per scenario
    _go(at, "home")
    recent = next(df.value for df in at.dataframe if "runs in it" in df.value.columns)
    assert not recent["name"].str.contains("stress seed 0:").any()
    assert int(recent.loc[recent["name"] == "stress seed 0", "runs in it"].iloc[0]) == 6
    assert len(store.list_runs(RUN_KIND)) == 8 and len(recent) == 3


def test_calibration_name_follows_the_dataset_and_existing_set_asks_first(app_test, tmp_db):
    at = app_test("calibration", timeout=120)
    at.radio(key="calibration-source").set_value("Upload CSV").run()
    at.file_uploader[0].set_value(("desk_a.csv", _csv(seed=1), "text/csv")).run()
    at.multiselect(key="calib-fit").set_value(["alpha", "sigma_base"]).run()
    at.button(key="calib-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_input(key="calib-psname").value == "calibrated-desk_a"
    at.file_uploader[0].set_value(("desk_b.csv", _csv(seed=2), "text/csv")).run()
    # the estimates are for desk_a: marked as such, not shown as desk_b's
    assert any("not the price data selected above" in c for c in (str(c.value) for c in at.caption))
    at.button(key="calib-run").click().run()
    assert at.text_input(key="calib-psname").value == "calibrated-desk_b"
    store = Store(tmp_db)
    store.save_param_set("calibrated-desk_b", {"alpha": 1.0}, note="the desk's own")
    at.button(key="calib-save-ps").click().run()
    assert any("already exists" in str(w.value) for w in at.warning)
    assert store.load_param_set("calibrated-desk_b") == {"alpha": 1.0}  # nothing replaced yet
    at.button(key="calib-ps-version").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert store.load_param_set("calibrated-desk_b") == {"alpha": 1.0}
    assert "alpha" in store.load_param_set("calibrated-desk_b v2")
    at.button(key="calib-save-ps").click().run()
    at.button(key="calib-ps-overwrite").click().run()
    assert store.load_param_set("calibrated-desk_b")["alpha"] != 1.0
    # changing what is estimated marks the estimates out of date
    at.multiselect(key="calib-fit").set_value(["alpha"]).run()
    assert any("Out of date" in str(c.value) and "parameters to estimate" in str(c.value) for c in at.caption)
    # the upload and the fit choice come back after a visit to another page
    _away_and_back(at, "calibration")
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="calib-fit").value == ["alpha"]
    assert "desk_b" in _captions(at)


def test_var_lab_ensemble_name_follows_the_data_and_window_is_kept(app_test):
    at = app_test("var_lab", timeout=180)
    assert at.text_input(key="var-ens-name").value == "ensemble sp500"
    at.selectbox(key="var-sample").set_value("stable_token").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_input(key="var-ens-name").value == "ensemble stable_token"
    assert at.number_input(key="var-n").value == 3_650  # all returns of the newly chosen data
    at.number_input(key="var-n").set_value(400)
    at.number_input(key="var-window").set_value(120).run()
    at.multiselect(key="var-methods").set_value(["historical", "normal"]).run()
    at.button(key="var-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    _away_and_back(at, "var_lab")
    assert at.number_input(key="var-window").value == 120 and at.number_input(key="var-n").value == 400
    assert at.selectbox(key="var-sample").value == "stable_token"
    assert not [b for b in at.button if b.key == "var-bt-stale"]
    at.number_input(key="var-window").set_value(150).run()
    assert any("Out of date" in str(c.value) and "window" in str(c.value) for c in at.caption)


def test_stability_review_warns_on_a_series_that_is_not_a_pegged_token(app_test):
    at = app_test("stability_review", timeout=240)
    assert not any("pegged token" in str(w.value) for w in at.warning)  # the stable-token sample
    at.number_input(key="sr_window").set_value(20).run()
    at.checkbox(key="sr_ensemble").set_value(False).run()
    at.selectbox(key="sr_data-sample").set_value("sp500").run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = [str(w.value) for w in at.warning]
    assert any("does not look like a pegged token" in w for w in warnings), warnings
    assert any("same value for almost the whole period" in w for w in warnings), warnings
    _away_and_back(at, "stability_review")
    assert at.number_input(key="sr_window").value == 20 and at.selectbox(key="sr_data-sample").value == "sp500"


def test_calibration_warns_on_an_equity_index(app_test):
    at = app_test("calibration", timeout=120)
    at.selectbox(key="calibration-sample").set_value("sp500").run()
    assert any("does not look like a pegged token" in str(w.value) for w in at.warning)
