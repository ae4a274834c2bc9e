"""Issue 10 item 8 on the Calibration page: status column, and Apply asks for confirmation on a doubtful fit."""

from __future__ import annotations

from app.widgets import PARAMS_KEY
from riskcore.data import load_sample
from riskcore.params import ModelParameters


def _index_csv() -> bytes:
    p = load_sample("sp500").prices.iloc[:300]
    return p.rename("Close").rename_axis("Date").to_frame().to_csv().encode()


def test_doubtful_fit_needs_confirmation_before_apply(app_test):
    at = app_test("calibration", timeout=180)
    at.radio(key="calibration-source").set_value("Upload CSV").run()
    at.file_uploader[0].set_value(("index.csv", _index_csv(), "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    at.button(key="calib-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[-1].value
    assert table.loc["alpha", "status"] == "at bound" and table.loc["alpha", "95 % interval"] == "—"
    assert "nan" not in " ".join(table["95 % interval"])
    assert any("Check before applying" in w.value and "alpha" in w.value for w in at.warning)
    assert at.button(key="calib-apply").disabled
    at.checkbox(key="calib-apply-confirm").check().run()
    assert not at.button(key="calib-apply").disabled
    at.button(key="calib-apply").click().run()
    params = at.session_state[PARAMS_KEY]
    assert isinstance(params, ModelParameters) and params.alpha < 1e-5
