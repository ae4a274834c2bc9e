"""Browser test: open the Live Monitor, start the feed and see ticks arrive."""

from __future__ import annotations

import time

import pytest
from conftest import wait_for_app

TICKS = '[data-testid="stMetric"]:has-text("Ticks processed") [data-testid="stMetricValue"]'


@pytest.mark.e2e
def test_live_monitor_shows_new_ticks(page, streamlit_server, tmp_path):
    page.goto(f"{streamlit_server}/live_monitor")
    wait_for_app(page)
    page.wait_for_selector(TICKS, timeout=60_000)
    before = int(page.locator(TICKS).inner_text().replace(",", ""))
    assert before == 40                                   # primed on first load
    page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=30_000)   # price/VaR band and gauge
    page.get_by_role("button", name="Start").click()
    # at 4 ticks/s with a 0.5 s refresh a new tick must show within a second or two
    deadline = time.monotonic() + 15
    after = before
    while time.monotonic() < deadline and after <= before:
        page.wait_for_timeout(250)
        try:
            after = int(page.locator(TICKS).inner_text(timeout=2_000).replace(",", ""))
        except Exception:  # the element is re-rendered between reads
            continue
    page.screenshot(path=str(tmp_path / "live_monitor.png"), full_page=True)
    assert after > before, f"no tick arrived: {before} -> {after}"
    page.get_by_role("button", name="Stop").click()
