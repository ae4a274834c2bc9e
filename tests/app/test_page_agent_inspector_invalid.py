"""Agent Inspector (AppTest): an invalid request shows its error and no decision; decisions are never truncated."""

from __future__ import annotations

import pytest

from riskcore.store import Store


def _verdict_texts(at) -> str:
    return "\n".join(str(x.value) for x in (*at.success, *at.warning, *at.error, *at.markdown))


@pytest.mark.parametrize(("key", "value", "field"), [
    ("ai-qty", 1_000_000, "base_quantity"),
    ("ai-entry", -100.0, "entry_price"),
    ("ai-eq-calm", 0.0, "account_equity"),
    ("ai-loss", -5.0, "avg_loss"),
])
def test_invalid_input_shows_the_error_and_no_decision(app_test, tmp_db, key, value, field):
    at = app_test("agent_inspector")
    assert "APPROVED" in _verdict_texts(at)
    at.number_input(key=key).set_value(value)
    at.button(key="ai-submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any(field in e for e in errors), errors
    texts = _verdict_texts(at)
    assert "APPROVED" not in texts and "REJECTED" not in texts      # no decision from another request
    assert not any("-badge[" in m.value for m in at.markdown)
    assert "Approved contracts" not in {m.label for m in at.metric}
    assert Store(tmp_db).list_decisions(event_type="NEW_TRADE_REQUEST", status="approved").empty


def test_emergency_decision_is_shown_in_full(app_test):
    at = app_test("agent_inspector")
    at.selectbox(key="ai-preset").set_value("margin squeeze").run()
    assert not at.exception
    assert any(":red-badge[EMERGENCY]" in m.value for m in at.markdown)
    assert "Decision" not in {m.label for m in at.metric}
