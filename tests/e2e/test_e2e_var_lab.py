"""VaR Lab in headless Chromium: the ensemble renders, a backtest runs and its chart appears."""

import pytest
from conftest import click_key, fill_key, goto, no_exception

pytestmark = pytest.mark.e2e


def test_var_lab_runs_a_backtest_and_shows_the_chart(page, streamlit_server, tmp_path):
    goto(page, f"{streamlit_server}/var_lab")
    page.get_by_text("Ensemble VaR").first.wait_for()
    page.get_by_test_id("stDataFrame").first.wait_for()
    fill_key(page, "var-n", 500)
    fill_key(page, "var-window", 150)
    click_key(page, "var-run")
    page.locator('[data-testid="stPlotlyChart"] .gtitle', has_text="Rolling 0.99 VaR").wait_for(timeout=60_000)
    page.get_by_test_id("stDownloadButton").filter(has_text="Download forecasts CSV").first.wait_for()
    assert page.get_by_test_id("stDataFrame").count() >= 2
    assert no_exception(page)
    assert page.get_by_test_id("stAlertContentError").count() == 0
    shot = tmp_path / "var_lab.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000
