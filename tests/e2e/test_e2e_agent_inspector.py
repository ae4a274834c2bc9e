"""The Agent Inspector in headless Chromium: submit a trade request and see the decision and its log entry."""

from __future__ import annotations

import pytest
from conftest import click_key, goto, keyed, no_exception, tab

pytestmark = pytest.mark.e2e


def test_submit_trade_request_and_see_decision(page, streamlit_server, tmp_path):
    goto(page, f"{streamlit_server}/agent_inspector")
    page.get_by_test_id("stHeading").filter(has_text="Agent Inspector").first.wait_for()
    verdict = keyed(page, "ai-verdict")
    verdict.filter(has_text="APPROVED").wait_for()          # the default request renders at once
    page.get_by_test_id("stPlotlyChart").first.wait_for()    # risk state vector chart
    default_note = page.get_by_test_id("stCaptionContainer").filter(has_text="Showing the default trade request")
    assert default_note.count() == 1
    click_key(page, "ai-submit")
    # a toast is transient (gone after a few seconds, which a loaded machine can miss): wait on durable state
    verdict.filter(has_text="APPROVED").wait_for()
    default_note.first.wait_for(state="detached")               # the submitted request is the one shown
    assert keyed(page, "ai-decision").filter(has_text="NORMAL").count() == 1
    assert page.get_by_test_id("stMetric").filter(has_text="Stop loss").first.is_visible()
    tab(page, "Decision log").click()
    keyed(page, "ai-log-summary").filter(has_text="1 decision(s) shown · approved: 1").wait_for()
    page.get_by_test_id("stDataFrame").last.wait_for()
    tab(page, "Agents").click()
    page.get_by_test_id("stMarkdown").filter(has_text="Stop/target updates of open positions").first.wait_for()
    assert no_exception(page)
    shot = tmp_path / "agent_inspector.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000


def test_invalid_request_shows_the_error_and_no_decision(page, streamlit_server):
    """Quantity 1,000,000 used to be refused by the widget in silence, leaving the default 'APPROVED 2'."""
    goto(page, f"{streamlit_server}/agent_inspector")
    keyed(page, "ai-verdict").filter(has_text="APPROVED").wait_for()
    box = keyed(page, "ai-qty").locator("input")
    box.fill("1000000")
    click_key(page, "ai-submit")
    page.get_by_test_id("stAlertContentError").filter(has_text="quantity").first.wait_for()
    assert page.get_by_text("APPROVED").count() == 0
    assert keyed(page, "ai-decision").count() == 0
    assert no_exception(page)
