"""Agent Inspector page (AppTest): defaults render, trade requests are submitted and logged, presets, log filter."""

from __future__ import annotations

from riskcore.store import Store


def _texts(at) -> str:
    parts = [str(x.value) for x in (*at.success, *at.warning, *at.error, *at.info, *at.markdown, *at.caption)]
    return "\n".join(parts)


def test_defaults_render_a_decision_at_once(app_test, tmp_db):
    at = app_test("agent_inspector")
    assert not at.exception, [e.value for e in at.exception]
    assert "APPROVED" in _texts(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Approved contracts"] == "2"
    assert "Decision" not in metrics                       # a full-width badge now (a metric truncated it)
    assert any(":green-badge[NORMAL]" in m.value for m in at.markdown)
    assert float(metrics["Stop loss"].replace(",", "")) < float(metrics["Take profit"].replace(",", ""))
    assert len(at.get("plotly_chart")) >= 4  # state vector, correlation, allocation, critic
    assert Store(tmp_db).list_decisions().empty  # nothing logged before a submission
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download CSV" in labels and "Download HTML report" in labels  # the decision as a table and a report


def test_submit_trade_request_logs_the_decision(app_test, tmp_db):
    at = app_test("agent_inspector")
    at.number_input(key="ai-qty").set_value(4)
    at.slider(key="ai-p").set_value(0.2)
    at.button(key="ai-submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "REJECTED" in _texts(at) and "no edge" in _texts(at)
    log = Store(tmp_db).list_decisions()
    assert len(log) == 1 and log.event_type.iloc[0] == "NEW_TRADE_REQUEST" and log.status.iloc[0] == "rejected"
    rec = log.record.iloc[0]
    assert rec["event"]["base_quantity"] == 4 and len(rec["agents"]) == 4 and len(rec["state"]) == 10
    at.slider(key="ai-p").set_value(0.65)
    at.button(key="ai-submit").click().run()
    assert "APPROVED" in _texts(at)
    assert len(Store(tmp_db).list_decisions()) == 2
    at.selectbox(key="ai-log-status").set_value("rejected").run()
    assert not at.exception
    shown = at.dataframe[-1].value
    assert list(shown.status) == ["rejected"]
    assert "no edge" in shown.reason.iloc[0] and shown.decision.iloc[0] == "NORMAL"
    # an emergency decision, then the Decision filter keeps only it
    at.selectbox(key="ai-log-status").set_value("(all)").run()
    at.number_input(key="ai-mg-calm").set_value(95.0).run()
    at.button(key="ai-submit").click().run()
    assert "MARGIN_CRITICAL" in _texts(at)
    at.selectbox(key="ai-log-kind").set_value("EMERGENCY").run()
    assert not at.exception
    shown = at.dataframe[-1].value
    assert list(shown.decision) == ["EMERGENCY"] and list(shown.status) == ["rejected"]
    assert "MARGIN_CRITICAL" in shown.reason.iloc[0]


def test_presets_trip_emergencies(app_test):
    at = app_test("agent_inspector")
    at.selectbox(key="ai-preset").set_value("correlated crash").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "EMERGENCY" in _texts(at) and "DANGEROUS_CORRELATION" in _texts(at)
    at.selectbox(key="ai-preset").set_value("margin squeeze").run()
    assert "MARGIN_CRITICAL" in _texts(at)
    assert {m.label: m.value for m in at.metric}["Approved contracts"] == "0"


def test_editing_account_figures_changes_the_decision(app_test):
    at = app_test("agent_inspector")
    at.number_input(key="ai-dd-calm").set_value(1.6).run()
    assert not at.exception
    assert "EXCESSIVE_DRAWDOWN" in _texts(at)
