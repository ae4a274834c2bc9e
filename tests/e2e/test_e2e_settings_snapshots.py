"""The real app in headless Chromium: Settings takes a risk-state snapshot and restores it after a confirmation."""

import pytest
from conftest import click_key, fill_key, goto, no_exception

pytestmark = pytest.mark.e2e


def test_snapshot_now_and_restore_in_chromium(page, streamlit_server):
    goto(page, f"{streamlit_server}/settings")
    page.get_by_test_id("stHeading").filter(has_text="Risk-state snapshots").first.wait_for()
    fill_key(page, "snap_reason", "browser check")
    click_key(page, "snap_now")
    page.get_by_text("saved (", exact=False).first.wait_for()
    page.get_by_test_id("stDataFrame").first.wait_for()
    click_key(page, "snap_restore")
    page.get_by_text("This replaces the app's risk state", exact=False).first.wait_for()
    click_key(page, "snap_confirm_yes")
    page.get_by_text("Restored snapshot", exact=False).first.wait_for()
    assert no_exception(page)
