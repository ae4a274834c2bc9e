"""The Scenario Lab in headless Chromium: run a simulation from the page and see the fan chart."""

import pytest
from conftest import click_key, fill_key, goto, no_exception

pytestmark = pytest.mark.e2e


def test_scenario_lab_runs_a_simulation(page, streamlit_server, tmp_path):
    goto(page, f"{streamlit_server}/scenario_lab")
    page.get_by_test_id("stHeading").filter(has_text="Scenario Lab").first.wait_for()
    fill_key(page, "sl-n-paths", 5000)
    click_key(page, "sl-run")
    page.get_by_test_id("stCaptionContainer").filter(has_text="5,000 paths × 365 steps").first.wait_for()
    charts = page.get_by_test_id("stPlotlyChart")
    charts.first.wait_for()
    assert charts.count() >= 3
    # the fan chart's bands and median are drawn
    page.locator('[data-testid="stPlotlyChart"] .scatterlayer').first.wait_for()
    page.get_by_text("Price fan chart").first.wait_for()
    assert page.get_by_test_id("stDataFrame").count() >= 1
    assert no_exception(page)
    shot = tmp_path / "scenario_lab.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000
