"""Shared fixtures: a temporary store, AppTest factory, a live Streamlit server and a browser.

The DuckDB file of every test is a temporary one: ``RISKCORE_DB`` is pointed at it so
the app, the library and executed notebooks all use it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]

os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".venv" / "numba-cache"))


@pytest.fixture
def tmp_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Path of a fresh DuckDB file, also exported as ``RISKCORE_DB``."""
    path = tmp_path / "riskcore.duckdb"
    monkeypatch.setenv("RISKCORE_DB", str(path))
    return path


@pytest.fixture
def tmp_store(tmp_db: Path):
    """A :class:`riskcore.store.Store` on a fresh temporary file."""
    from riskcore.store import Store

    return Store(tmp_db)


@pytest.fixture
def app_test(tmp_db: Path) -> Callable[..., object]:
    """Factory: ``app_test("scenario_lab")`` returns an AppTest already switched to that page.

    The entry point ``app/main.py`` runs first (navigation, sidebar), then the page.
    """
    from streamlit.testing.v1 import AppTest

    def make(page: str | None = None, timeout: float = 60, session_state: dict | None = None) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=timeout)
        for k, v in (session_state or {}).items():
            at.session_state[k] = v
        at.run()
        if page is not None and page != "home":
            at.switch_page(str(ROOT / "pages" / f"{page}.py"))
            at.run()
        return at

    return make


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``streamlit run app/main.py`` on a free loopback port; yields its base URL."""
    db = tmp_path_factory.mktemp("e2e") / "riskcore.duckdb"
    port = _free_port()
    env = {**os.environ, "RISKCORE_DB": str(db)}
    log = open(db.parent / "streamlit.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "main.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"streamlit did not start: {(db.parent / 'streamlit.log').read_text()[-2000:]}")
        time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright (no browser download)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, streamlit_server: str):
    """A fresh browser page; ``page.goto(streamlit_server + "/scenario_lab")`` opens a page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def wait_for_app(pg, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished a script run (no running indicator, app view present)."""
    pg.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=timeout)
    pg.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=timeout)
