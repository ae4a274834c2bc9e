"""Browser test: open the Live Monitor, start the feed and see ticks arrive, each refresh within a second."""

from __future__ import annotations

import statistics
import time

import pytest
from conftest import wait_for_app

TICKS = '[data-testid="stMetric"]:has-text("Ticks processed") [data-testid="stMetricValue"]'


@pytest.mark.e2e
def test_live_monitor_shows_new_ticks(page, streamlit_server, tmp_path):
    page.goto(f"{streamlit_server}/live_monitor")
    wait_for_app(page)
    page.wait_for_selector(TICKS, timeout=60_000)
    # .first: while Streamlit swaps a rerun's elements in, the old metric can briefly be there too
    before = int(page.locator(TICKS).first.inner_text().replace(",", ""))
    assert before == 40                                   # primed on first load
    page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=30_000)   # price/VaR band and gauge
    page.get_by_role("button", name="Start").click()
    t0 = time.monotonic()
    # at 4 ticks/s with a 0.5 s refresh the panel shows new ticks about every half second
    changes: list[float] = []                             # times at which the tick count changed
    last = before
    while time.monotonic() - t0 < 15 and len(changes) < 6:
        page.wait_for_timeout(50)
        try:
            now = int(page.locator(TICKS).first.inner_text(timeout=2_000).replace(",", ""))
        except Exception:  # the element is re-rendered between reads
            continue
        if now != last:
            assert now > last, f"tick count went back: {last} -> {now}"
            changes.append(time.monotonic())
            last = now
    page.screenshot(path=str(tmp_path / "live_monitor.png"), full_page=True)
    assert changes, f"no tick arrived: {before} -> {last}"
    assert len(changes) >= 4, f"only {len(changes)} refreshes in 15 s"
    gaps = [b - a for a, b in zip(changes[:-1], changes[1:], strict=True)]
    # The target is a new tick within 1 s: the panel refreshes every 0.5 s and a refresh renders in
    # ~0.1 s, so the gaps are ~0.5 s on an idle machine (0.4-1.0 s measured with a load average of 7 on 2
    # cores). The bound leaves room for a loaded test machine; a panel that does not refresh itself, or
    # refreshes every 2 s or more, still fails.
    assert statistics.median(gaps) <= 1.5, f"refresh gaps {gaps}"
    page.get_by_role("button", name="Stop").click()
    page.wait_for_selector('[data-testid="stCaptionContainer"]:has-text("· stopped ·")', timeout=10_000)
