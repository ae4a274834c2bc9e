"""The Agent Inspector in headless Chromium: submit a trade request and see the decision and its log entry."""

from __future__ import annotations

import pytest
from conftest import wait_for_app

pytestmark = pytest.mark.e2e


def test_submit_trade_request_and_see_decision(page, streamlit_server, tmp_path):
    page.goto(f"{streamlit_server}/agent_inspector")
    wait_for_app(page)
    page.get_by_text("Agent Inspector", exact=True).first.wait_for()
    page.get_by_text("APPROVED").first.wait_for()            # the default request renders at once
    page.get_by_test_id("stPlotlyChart").first.wait_for()    # risk state vector chart
    page.get_by_role("button", name="Submit trade request").click()
    page.get_by_text("Decision logged").first.wait_for()
    wait_for_app(page)
    assert page.get_by_text("APPROVED").first.is_visible()
    assert page.get_by_test_id("stMetric").filter(has_text="Stop loss").first.is_visible()
    page.get_by_role("tab", name="Decision log").click()
    page.get_by_test_id("stDataFrame").last.wait_for()
    page.get_by_text("Inspect decision").first.wait_for()    # grid cells are canvas: check the picker instead
    panel = page.get_by_role("tabpanel").filter(has_text="Inspect decision").first.inner_text()
    assert "1 decision(s) shown · approved: 1" in panel, panel[:500]
    page.get_by_role("tab", name="Agents").click()
    page.get_by_text("Stop/target updates of open positions").first.wait_for()
    assert page.get_by_test_id("stException").count() == 0
    shot = tmp_path / "agent_inspector.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000
