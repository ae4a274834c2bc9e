"""The Scenario Lab in headless Chromium: run a simulation from the page and see the fan chart."""

import pytest
from conftest import wait_for_app

pytestmark = pytest.mark.e2e


def test_scenario_lab_runs_a_simulation(page, streamlit_server, tmp_path):
    page.goto(f"{streamlit_server}/scenario_lab")
    wait_for_app(page)
    page.get_by_text("Scenario Lab").first.wait_for()
    paths = page.get_by_label("Paths", exact=True)
    paths.fill("5000")
    paths.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Run simulation").click()
    wait_for_app(page)
    page.get_by_text("5,000 paths × 365 steps").first.wait_for()
    charts = page.get_by_test_id("stPlotlyChart")
    charts.first.wait_for()
    assert charts.count() >= 3
    # the fan chart's bands and median are drawn
    page.locator('[data-testid="stPlotlyChart"] .scatterlayer').first.wait_for()
    page.get_by_text("Price fan chart").first.wait_for()
    assert page.get_by_test_id("stDataFrame").count() >= 1
    assert page.get_by_test_id("stException").count() == 0
    shot = tmp_path / "scenario_lab.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000
