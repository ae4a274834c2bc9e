"""The real app in headless Chromium: the home page renders, at ``/`` and at ``/home``."""

import pytest
from conftest import goto, no_exception

pytestmark = pytest.mark.e2e


def test_home_page_renders_in_chromium(page, streamlit_server, tmp_path):
    goto(page, streamlit_server)
    page.get_by_test_id("stHeading").filter(has_text="riskcore workbench").first.wait_for()
    assert page.get_by_test_id("stSidebar").is_visible()
    page.get_by_test_id("stMetric").nth(3).wait_for()
    assert page.get_by_test_id("stMetric").count() >= 4
    page.get_by_test_id("stHeading").filter(has_text="Recent runs").first.wait_for()
    assert no_exception(page)
    shot = tmp_path / "home.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000


def test_home_is_served_at_slash_home(page, streamlit_server):
    """``/home`` used to open Streamlit's "Page not found" dialog and fall back to the default page."""
    goto(page, f"{streamlit_server}/home")
    page.get_by_test_id("stHeading").filter(has_text="riskcore workbench").first.wait_for()
    page.get_by_test_id("stHeading").filter(has_text="Recent runs").first.wait_for()
    assert page.get_by_text("Page not found").count() == 0
    assert page.url.rstrip("/").endswith("/home")
    assert no_exception(page)
