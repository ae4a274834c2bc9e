"""Issue 10 item 7 on the Scenario Lab: an unstable alpha is shown with st.error, no traceback, no run."""

from __future__ import annotations

from app.widgets import PARAMS_KEY
from riskcore.params import ModelParameters


def test_unstable_alpha_is_an_error_on_the_page(app_test):
    at = app_test("scenario_lab", timeout=120, session_state={PARAMS_KEY: ModelParameters(alpha=800.0)})
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("alpha" in e and "below 365 per year" in e for e in errors), errors
    at.number_input(key="sl-n-paths").set_value(1_000)
    at.button(key="sl-run").click().run()
    assert not at.exception
    assert any("below 365 per year" in e.value for e in at.error)
