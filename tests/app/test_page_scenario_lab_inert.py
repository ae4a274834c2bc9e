"""Scenario Lab (AppTest), issue 16 item 8: the parameters the price model does not read are shown apart."""

from __future__ import annotations

from riskcore.params import INERT_FIELDS, ModelParameters


def _names(block) -> set[str]:
    return {w.label for w in block.number_input}


def test_inert_parameters_are_grouped_apart(app_test):
    at = app_test("scenario_lab", timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    by_label = {e.label: e for e in at.expander}
    model, inert = by_label["Model parameters"], by_label["Parameters not used by the price model"]
    assert _names(model) == set(ModelParameters.price_model_fields())
    assert _names(inert) == set(INERT_FIELDS)
    assert [t.label for t in model.tabs] == ["Dynamics", "Fiat", "Jumps"]
    assert any("change neither its paths nor its model hash" in c.value for c in inert.caption)
    # an inert input is still validated and part of the parameters
    key = next(w.key for w in inert.number_input if w.label == "calibration_window")
    at.number_input(key=key).set_value(10).run()
    assert any("calibration_window" in e.value for e in at.error)
