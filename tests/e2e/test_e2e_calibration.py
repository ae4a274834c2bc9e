"""The Calibration page in headless Chromium: upload a CSV through the real file chooser."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import app_runs, click_key, goto, keyed, no_exception, tab, wait_for_app

pytestmark = pytest.mark.e2e


def _csv() -> bytes:
    dates = pd.date_range("2024-01-01", periods=90, freq="D")
    prices = 1.0 + 0.005 * np.sin(np.arange(90) / 4.0)
    frame = pd.DataFrame({"Date": dates.strftime("%Y-%m-%d"), "Close": prices}).iloc[::-1]  # unsorted on purpose
    return frame.to_csv(index=False).encode()


def test_upload_csv_through_file_chooser_then_calibrate(page, streamlit_server, tmp_path):
    goto(page, f"{streamlit_server}/calibration")
    page.get_by_test_id("stHeading").filter(has_text="Calibration").first.wait_for()
    keyed(page, "calib-series-chart").locator(".vega-embed svg.marks").first.wait_for()  # the sample series, at once
    before = app_runs(page)
    keyed(page, "calibration-source").get_by_text("Upload CSV", exact=True).click()
    wait_for_app(page, since=before)
    with page.expect_file_chooser() as fc:
        keyed(page, "calibration-upload").get_by_test_id("stFileUploaderDropzone").click()
    before = app_runs(page)
    fc.value.set_files({"name": "desk_prices.csv", "mimeType": "text/csv", "buffer": _csv()})
    wait_for_app(page, since=before)
    page.get_by_test_id("stCaptionContainer").filter(has_text="90 rows").first.wait_for()
    assert page.get_by_test_id("stCaptionContainer").filter(has_text="desk_prices").count() >= 1
    keyed(page, "calib-series-chart").locator(".vega-embed svg.marks").first.wait_for()
    tab(page, "Data quality").click()
    page.get_by_text("dates were not in increasing order").first.wait_for()
    page.get_by_text("Log returns between consecutive rows").first.wait_for()
    assert page.get_by_test_id("stDataFrame").first.is_visible()
    click_key(page, "calib-run")
    page.get_by_test_id("stMetric").filter(has_text="Log-likelihood").first.wait_for()
    page.get_by_text("QQ plot of standardised residuals").first.wait_for()
    assert page.get_by_test_id("stPlotlyChart").count() >= 4  # returns (data quality), QQ, density, jump probability
    assert no_exception(page)
    shot = tmp_path / "calibration.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000
