"""AppTest of the Settings page's risk-state snapshots: list, snapshot now, restore after a confirmation."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from app import snapshot_widgets
from riskcore.monitor.portfolio import PortfolioMonitor
from riskcore.portfolio.events import RiskEventProcessor
from riskcore.recovery import FORMAT_VERSION, RiskRuntime, list_snapshots, snapshot
from riskcore.store import snapshots as snap_db


@pytest.fixture(autouse=True)
def _fresh_runtime():
    snapshot_widgets.reset()
    yield
    snapshot_widgets.reset()


def _alerting_runtime() -> RiskRuntime:
    rt = RiskRuntime(RiskEventProcessor(n_simulations=500, seed=4), PortfolioMonitor(n_simulations=200))
    rt.process("ACCOUNT_UPDATE", {"margin_usage_pct": 93.0})
    rt.process("EMERGENCY_SIGNAL", {"emergency_type": "MARGIN_CALL"})
    return rt


def test_snapshot_now_lists_it(app_test, tmp_store):
    at = app_test("settings")
    assert not at.exception and not at.error
    assert any(i.value == "No snapshot yet." for i in at.info)
    at.text_input(key="snap_reason").set_value("end of day").run()
    at.button(key="snap_now").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    rows = list_snapshots(tmp_store)
    assert rows.reason.tolist() == ["end of day"] and rows.kind.tolist() == ["on_demand"]
    assert any("saved" in s.value for s in at.success)
    table = next(d.value for d in at.dataframe if "size (KiB)" in d.value.columns)
    assert table["reason"].tolist() == ["end of day"] and float(table["size (KiB)"].iloc[0]) > 1


def test_restore_asks_first_then_replaces_the_app_risk_state(app_test, tmp_store):
    info = snapshot(tmp_store, _alerting_runtime(), reason="margin call")
    at = app_test("settings")
    at.selectbox(key="snap_pick").set_value(info.snapshot_id).run()
    at.button(key="snap_restore").click().run()
    assert any("This replaces the app's risk state" in w.value for w in at.warning)
    assert snapshot_widgets.LIVE_MONITOR_PORTFOLIO_KEY not in at.session_state  # nothing restored yet
    at.button(key="snap_confirm_no").click().run()
    assert not any("This replaces" in w.value for w in at.warning)
    at.button(key="snap_restore").click().run()
    at.button(key="snap_confirm_yes").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(f"Restored snapshot {info.snapshot_id}" in s.value for s in at.success)
    monitor = at.session_state[snapshot_widgets.LIVE_MONITOR_PORTFOLIO_KEY]
    assert list(monitor.engine.active) == ["margin_usage_pct"]
    rt = snapshot_widgets._runtimes[str(tmp_store.path)]
    assert rt.processor.halted is not None and rt.processor.halted.value == "MARGIN_CALL"
    summary = next(d.value for d in at.dataframe if "value" in d.value.columns)
    assert summary.loc["active alerts", "value"] == "margin_usage_pct"
    assert summary.loc["trading halted", "value"] == "MARGIN_CALL"


def test_old_newer_and_damaged_snapshots_are_explained(app_test, tmp_store):
    old = snapshot(tmp_store, _alerting_runtime(), at=pd.Timestamp.now("UTC").tz_localize(None) - timedelta(days=2))
    snap_db.save_snapshot(tmp_store, snapshot_id="future", created_at=old.created_at.to_pydatetime(),
                          kind="on_demand", reason="from a newer riskcore", format_version=FORMAT_VERSION + 1,
                          checksum="x", state_json="{}", blobs={})
    at = app_test("settings")
    at.selectbox(key="snap_pick").set_value(old.snapshot_id).run()
    at.button(key="snap_restore").click().run()
    at.button(key="snap_confirm_yes").click().run()
    assert not at.exception and not at.error
    assert any("h old" in w.value and "check them before trading" in w.value for w in at.warning)
    at.selectbox(key="snap_pick").set_value("future").run()
    at.button(key="snap_restore").click().run()
    at.button(key="snap_confirm_yes").click().run()
    assert not at.exception
    assert at.error and "newer riskcore" in at.error[0].value and "upgrade" in at.error[0].value
