"""Calibration page (AppTest): sample on first load, calibrate, apply/save, upload valid and invalid files.

Streamlit 1.67's AppTest supports ``st.file_uploader`` (``at.file_uploader[0].set_value((name, bytes, mime))``),
so uploads go through the real widget here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.widgets import PARAMS_KEY
from riskcore.params import ModelParameters
from riskcore.store import Store


def _csv_bytes(n: int = 60) -> bytes:
    dates = pd.date_range("2024-01-01", periods=n, freq="D")
    prices = 1.0 + 0.01 * np.sin(np.arange(n) / 5.0)
    return pd.DataFrame({"Date": dates.strftime("%Y-%m-%d"), "Close": prices}).to_csv(index=False).encode()


def _texts(at) -> str:
    parts = [str(m.value) for m in at.markdown] + [str(c.value) for c in at.caption]
    parts += [str(e.value) for e in at.error] + [str(w.value) for w in at.warning] + [str(s.value) for s in at.success]
    return "\n".join(parts)


def test_first_load_shows_sample_then_calibrates_applies_and_saves(app_test, tmp_db):
    at = app_test("calibration", timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="calibration-source").value == "Sample"
    assert "stable_token" in _texts(at) and "3,651 rows" in _texts(at)
    at.button(key="calib-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[-1].value
    assert {"alpha", "sigma_base", "jump_intensity", "beta"} <= set(table.index)
    assert table.loc["beta", "status"] == "held at base" and table.loc["alpha", "status"] == "estimated"
    assert "±" in table.loc["sigma_base", "estimate ± std err"]
    assert {m.label for m in at.metric} >= {"Log-likelihood", "AIC", "BIC"}
    assert len(at.get("plotly_chart")) == 3  # QQ, density, jump probability (the returns plot: Data quality tab)
    assert len(at.get("vega_lite_chart")) == 1  # the series: Vega-Lite, drawn before Plotly has loaded
    # the sample was simulated with alpha = 4, sigma_base = 0.03 (data/make_samples.py)
    at.button(key="calib-apply").click().run()
    params = at.session_state[PARAMS_KEY]
    assert isinstance(params, ModelParameters)
    assert abs(params.sigma_base - 0.03) < 0.003 and params.beta == ModelParameters().beta
    at.text_input(key="calib-psname").input("fitted-sample").run()
    at.button(key="calib-save-ps").click().run()
    at.button(key="calib-save-run").click().run()
    assert not at.exception
    store = Store(tmp_db)
    assert store.load_param_set("fitted-sample")["sigma_base"] == params.sigma_base
    assert len(store.list_runs("calibration")) == 1


def test_upload_valid_file_shows_report_and_saves_dataset(app_test, tmp_db):
    at = app_test("calibration", timeout=120)
    at.radio(key="calibration-source").set_value("Upload CSV").run()
    assert not at.exception
    at.file_uploader[0].set_value(("my_prices.csv", _csv_bytes(), "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    text = _texts(at)
    assert "my_prices" in text and "60 rows" in text
    report = next(df.value for df in at.dataframe if "item" in df.value.columns)
    assert dict(zip(report["item"], report["value"], strict=True))["rows kept"] == "60"
    at.button(key="calibration-save").click().run()
    assert not at.exception
    datasets = Store(tmp_db).list_datasets()
    assert list(datasets["name"]) == ["my_prices"] and int(datasets["n_rows"].iloc[0]) == 60


def test_upload_invalid_file_shows_clear_error_and_stores_nothing(app_test, tmp_db):
    at = app_test("calibration", timeout=120)
    at.radio(key="calibration-source").set_value("Upload CSV").run()
    bad = b"Date,Close\n" + b"".join(f"2024-01-{d:02d},1.0\n".encode() for d in range(1, 29)) + b"2024-01-29,abc\n"
    bad += b"".join(f"2024-02-{d:02d},1.0\n".encode() for d in range(1, 10))
    at.file_uploader[0].set_value(("bad.csv", bad, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [str(e.value) for e in at.error]
    assert any("Invalid input" in e and "row 29" in e and "Close" in e for e in errors), errors
    assert all(b.key != "calib-run" for b in at.button)
    assert Store(tmp_db).counts()["datasets"] == 0


def test_stored_dataset_is_listed_and_used(app_test, tmp_db):
    from riskcore.data import load_prices

    load_prices(_csv_bytes(45), name="stored-one").save(Store(tmp_db))
    at = app_test("calibration", timeout=120)
    at.radio(key="calibration-source").set_value("Stored dataset").run()
    assert not at.exception
    assert "stored-one" in _texts(at) and "45 rows" in _texts(at)


def test_saved_parameter_set_and_calibration_run_load_back(app_test, tmp_db):
    """A parameter set saved earlier is loaded as the current parameters; a saved calibration reopens."""
    from riskcore.data import load_sample
    from riskcore.peg.calibration import calibrate

    store = Store(tmp_db)
    fitted = ModelParameters(alpha=7.5, sigma_base=0.042, beta=0.25)
    store.save_param_set("desk-set", fitted, note="from a test")
    res = calibrate(load_sample("stable_token"), fit=("alpha", "sigma_base"))
    run_id = res.save(store, name="earlier fit")
    at = app_test("calibration", timeout=120)
    assert not at.exception
    assert "desk-set" in at.selectbox(key="calib-load-ps-name").options[0]
    at.button(key="calib-load-ps").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state[PARAMS_KEY] == fitted
    assert "alpha = 7.5" in _texts(at)
    assert at.selectbox(key="calib-run-pick").value == run_id
    at.button(key="calib-open-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[-1].value
    assert table.loc["jump_intensity", "status"] == "held at base"
    assert table.loc["alpha", "estimate ± std err"].startswith(f"{res.params.alpha:.6g} ±")
    assert len(at.get("plotly_chart")) == 3


def test_nothing_to_fit_is_a_clear_error_not_a_traceback(app_test):
    at = app_test("calibration", timeout=120)
    at.multiselect(key="calib-fit").set_value([]).run()
    at.button(key="calib-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Invalid input" in str(e.value) and "fit" in str(e.value) for e in at.error)
