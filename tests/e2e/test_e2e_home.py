"""The real app in headless Chromium: the home page renders."""

import pytest
from conftest import wait_for_app

pytestmark = pytest.mark.e2e


def test_home_page_renders_in_chromium(page, streamlit_server, tmp_path):
    page.goto(streamlit_server)
    wait_for_app(page)
    page.get_by_text("riskcore workbench").first.wait_for()
    assert page.get_by_test_id("stSidebar").is_visible()
    page.get_by_test_id("stMetric").nth(3).wait_for()
    assert page.get_by_test_id("stMetric").count() >= 4
    page.get_by_text("Recent runs").wait_for()
    assert page.get_by_test_id("stException").count() == 0
    shot = tmp_path / "home.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000
