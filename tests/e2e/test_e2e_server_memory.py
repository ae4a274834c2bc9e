"""Server memory over 10 opened-and-closed browser sessions and 20 Scenario Lab runs (issue 17, item 7).

Each result used to keep the whole recorded band sample (20,000 x 366 floats, ~56 MB)
alive through a view, and Streamlit keeps a closed session's state for two minutes:
the server grew by about 57 MB per closed session. A real ``streamlit run`` process is
watched with psutil while headless Chromium opens a session, lets the first-visit
100,000-path simulation finish, runs a second one (another seed) and closes the session.
A minute or two on an idle 2-core machine; several when the machine is loaded.
"""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest
from _server import streamlit_process, wait_for_warmup, wait_idle_js

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SESSIONS = 10
LIMIT_MB_PER_SESSION = 20.0


def _session(browser, url: str, seed: int) -> None:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = ctx.new_page()
        page.set_default_timeout(180_000)
        page.goto(f"{url}/scenario_lab")
        page.get_by_text("100,000 paths × 365 steps").first.wait_for()  # the first-visit run
        seed_box = page.locator(".st-key-sl-seed input")
        seed_box.fill(str(seed))
        seed_box.press("Enter")
        page.wait_for_function(wait_idle_js())
        page.locator(".st-key-sl-run button").click()
        page.get_by_text(f"seed {seed}, scenario").first.wait_for()  # the second run
        assert page.get_by_test_id("stException").count() == 0
    finally:
        ctx.close()


def _rss_mb(pid: int) -> float:
    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def test_server_memory_per_closed_session_is_bounded(browser, tmp_path: Path):
    # the session's shared Chromium (tests/conftest.py): a second sync_playwright in one process is refused
    log = tmp_path / "streamlit.log"
    with streamlit_process(tmp_path / "riskcore.duckdb", log) as (url, pid):
        _session(browser, url, seed=100)  # warm-up: imports, JIT compilation, caches
        wait_for_warmup(log, pid)  # the background warm-up (torch, first results) is not session growth
        base = _rss_mb(pid)
        for i in range(SESSIONS):  # 10 sessions x 2 runs = 20 runs
            _session(browser, url, seed=i + 1)
        grown = _rss_mb(pid) - base
    per_session = grown / SESSIONS
    print(f"server RSS: {base:.0f} MB after warm-up, +{grown:.0f} MB after {SESSIONS} sessions and "
          f"{2 * SESSIONS} runs = {per_session:.1f} MB per closed session")
    assert per_session <= LIMIT_MB_PER_SESSION, f"{per_session:.1f} MB per closed session"
