"""VaR Lab in headless Chromium: the ensemble renders, a backtest runs and its chart appears."""

import pytest
from conftest import wait_for_app

pytestmark = pytest.mark.e2e


def _set_number(page, label: str, value: int) -> None:
    box = page.get_by_role("spinbutton", name=label)
    box.fill(str(value))
    box.press("Enter")
    wait_for_app(page)


def test_var_lab_runs_a_backtest_and_shows_the_chart(page, streamlit_server, tmp_path):
    page.goto(f"{streamlit_server}/var_lab")
    wait_for_app(page)
    page.get_by_text("Ensemble VaR").first.wait_for()
    page.get_by_test_id("stDataFrame").first.wait_for()
    _set_number(page, "Use the most recent N returns", 500)
    _set_number(page, "Backtest window (days)", 150)
    page.get_by_test_id("stButton").filter(has_text="Run backtest").click()
    page.locator(".gtitle", has_text="Rolling 0.99 VaR").wait_for(timeout=60_000)
    wait_for_app(page)
    page.get_by_text("Download forecasts CSV").wait_for()
    assert page.get_by_test_id("stDataFrame").count() >= 2
    assert page.get_by_test_id("stException").count() == 0
    assert page.get_by_test_id("stAlertContentError").count() == 0
    shot = tmp_path / "var_lab.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000
