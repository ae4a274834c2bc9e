"""VaR Lab page (AppTest): ensemble on the sample at once, a short backtest, save/reload, simulated runs."""

from __future__ import annotations

import numpy as np

from riskcore.store import Store

BT_KEY = "var-backtest-result"


def _short(at, n=360, window=100):
    at.number_input(key="var-n").set_value(n)
    at.number_input(key="var-window").set_value(window)
    at.run()
    return at


def test_first_load_shows_the_ensemble_on_the_sample(app_test):
    at = app_test("var_lab", timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "VaR Lab"
    table = at.dataframe[0].value
    assert "ensemble" in set(table.index.get_level_values(0))
    assert {"var (%)", "es (%)", "weight"} <= set(table.columns)
    assert at.selectbox(key="var-sample").value == "sp500"
    assert BT_KEY not in at.session_state
    # VaR/ES bars, distribution with the tail fit, weights; a CSV download of the ensemble table
    assert len(at.get("plotly_chart")) == 3
    assert at.get("download_button")
    # results are named after the dataset
    assert at.text_input(key="var-ens-name").value == "ensemble sp500"


def test_backtest_save_and_reload(app_test, tmp_db):
    at = _short(app_test("var_lab", timeout=120))
    at.button(key="var-run").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    res = at.session_state[BT_KEY]
    assert len(res.forecasts) == 360 - 100 and res.window == 100
    summary = at.dataframe[-1].value
    assert "traffic_light" in summary.columns
    assert summary["traffic_light"].str.contains("green|yellow|red").all()

    at.button(key="var-bt-save").click()
    at.run()
    store = Store(tmp_db)
    runs = store.list_runs("var_backtest")
    assert len(runs) == 1 and any("Saved backtest" in s.value for s in at.success)

    at.session_state[BT_KEY] = None
    at.run()
    at.button(key="var-bt-load").click()
    at.run()
    loaded = at.session_state[BT_KEY]
    assert loaded is not None and loaded.forecasts.shape == res.forecasts.shape

    at.button(key="var-ens-save").click()
    at.run()
    assert len(store.list_runs("var_ensemble")) == 1
    n_frames = len(at.dataframe)
    at.button(key="var-ens-load").click()
    at.run()
    assert not at.exception and len(at.dataframe) == n_frames + 1
    assert "ensemble" in set(at.dataframe[1].value.index.get_level_values(0))


def test_returns_of_a_simulated_run(app_test, tmp_db):
    rng = np.random.default_rng(0)
    paths = np.cumprod(1 + rng.normal(0, 0.01, (2, 201)), axis=1)
    Store(tmp_db).save_run("peg_simulation", None, 1, {"x": 1}, name="sim", arrays={"paths": paths})
    at = app_test("var_lab", timeout=120)
    at.radio(key="var-kind").set_value("Simulated run")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    assert "ensemble" in set(table.index.get_level_values(0))
    assert any("200 returns" in c.value for c in at.caption)


def test_invalid_window_is_shown_as_input_error(app_test):
    at = _short(app_test("var_lab", timeout=120), n=120, window=200)
    at.button(key="var-run").click()
    at.run()
    assert not at.exception
    assert any("window" in e.value for e in at.error)


def test_simulated_path_stuck_at_its_floor_backtests_without_error(app_test, tmp_db):
    # a token path that stops moving (price floor): windows of equal returns must not break FHS
    rng = np.random.default_rng(0)
    paths = np.cumprod(1 + rng.normal(0, 0.01, (1, 301)), axis=1)
    paths[0, 120:] = paths[0, 119]
    Store(tmp_db).save_run("peg_simulation", None, 1, {"x": 1}, name="stuck", arrays={"paths": paths})
    at = app_test("var_lab", timeout=120)
    at.radio(key="var-kind").set_value("Simulated run")
    at.run()
    at.number_input(key="var-window").set_value(60)
    at.run()
    at.button(key="var-run").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    res = at.session_state[BT_KEY]
    assert np.isfinite(res.forecasts.to_numpy()).all() and res.forecasts.to_numpy().max() < 1.0
    assert res.info["fhs"]["failed"] >= 1  # the fits on windows of zeros are skipped and counted
