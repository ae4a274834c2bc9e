"""The Calibration page in headless Chromium: upload a CSV through the real file chooser."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import wait_for_app

pytestmark = pytest.mark.e2e


def _csv() -> bytes:
    dates = pd.date_range("2024-01-01", periods=90, freq="D")
    prices = 1.0 + 0.005 * np.sin(np.arange(90) / 4.0)
    frame = pd.DataFrame({"Date": dates.strftime("%Y-%m-%d"), "Close": prices}).iloc[::-1]  # unsorted on purpose
    return frame.to_csv(index=False).encode()


def test_upload_csv_through_file_chooser_then_calibrate(page, streamlit_server, tmp_path):
    page.goto(f"{streamlit_server}/calibration")
    wait_for_app(page)
    page.get_by_text("Calibration", exact=True).first.wait_for()
    page.get_by_test_id("stPlotlyChart").first.wait_for()  # the sample series renders at once
    page.get_by_test_id("stRadio").get_by_text("Upload CSV").click()
    wait_for_app(page)
    with page.expect_file_chooser() as fc:
        page.get_by_test_id("stFileUploaderDropzone").click()
    fc.value.set_files({"name": "desk_prices.csv", "mimeType": "text/csv", "buffer": _csv()})
    page.get_by_text("90 rows").first.wait_for()
    wait_for_app(page)
    assert page.get_by_text("desk_prices").first.is_visible()
    page.get_by_test_id("stPlotlyChart").first.wait_for()
    page.get_by_role("tab", name="Data quality").click()
    page.get_by_text("dates were not in increasing order").first.wait_for()
    assert page.get_by_test_id("stDataFrame").first.is_visible()
    page.get_by_test_id("stButton").get_by_text("Calibrate", exact=True).click()
    page.get_by_text("Log-likelihood").first.wait_for()
    wait_for_app(page)
    page.get_by_text("QQ plot of standardised residuals").first.wait_for()
    assert page.get_by_test_id("stPlotlyChart").count() >= 4  # series, QQ, density, jump probability
    assert page.get_by_test_id("stException").count() == 0
    shot = tmp_path / "calibration.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000
