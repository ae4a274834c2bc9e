"""The Validation page in headless Chromium: run a small validation, see the checks and download the HTML."""

import pytest
from conftest import wait_for_app

pytestmark = pytest.mark.e2e


def test_validation_page_runs_and_offers_the_html_report(page, streamlit_server):
    page.goto(f"{streamlit_server}/validation")
    wait_for_app(page)
    page.locator(".st-key-val-run").wait_for()
    paths = page.locator(".st-key-val-n-paths input")
    paths.fill("1000")
    paths.press("Enter")
    wait_for_app(page)
    page.locator(".st-key-val-var label").click()  # price checks only: the VaR backtests take longer
    wait_for_app(page)
    page.locator(".st-key-val-run button").click()
    wait_for_app(page, timeout=240_000)
    page.get_by_text("1,000 paths per check").first.wait_for(timeout=240_000)
    metrics = page.get_by_test_id("stMetricValue")
    metrics.nth(3).wait_for(timeout=120_000)  # the caption can be drawn a frame before the metrics row
    assert metrics.count() == 4 and metrics.nth(0).inner_text() == "9"  # the price checks (OU moments are two)
    assert int(metrics.nth(2).inner_text()) >= 1  # convergence fails under the defaults, as measured
    page.locator(".st-key-val-conv").wait_for()
    with page.expect_download() as dl:
        page.locator(".st-key-val-dl-html button").click()
    path = dl.value.path()
    text = open(path, encoding="utf-8").read()
    assert text.startswith("<!DOCTYPE html>") and "FAILED" in text and "convergence" in text
    assert page.get_by_test_id("stException").count() == 0
