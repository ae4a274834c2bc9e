"""Shared fixtures: a temporary store, AppTest factory, a live Streamlit server and a browser.

The DuckDB file of every test is a temporary one: ``RISKCORE_DB`` is pointed at it so
the app, the library and executed notebooks all use it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _server import CHROMIUM, CHROMIUM_ARGS, streamlit_process  # tests/_server.py: one way to start the app

ROOT = Path(__file__).resolve().parents[1]

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


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``streamlit run app/main.py`` on a free loopback port; yields its base URL."""
    db = tmp_path_factory.mktemp("e2e") / "riskcore.duckdb"
    with streamlit_process(db, db.parent / "streamlit.log") as (url, _pid):
        SERVER_LOG[url] = db.parent / "streamlit.log"
        yield url


#: the shared server's log by URL (a test that must not compete with its background warm-up waits on it)
SERVER_LOG: dict[str, Path] = {}


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


#: Counts Streamlit script runs in the page from the server's own messages: the websocket is wrapped and
#: each ForwardMsg carrying ``script_finished`` (field 6; FINISHED_SUCCESSFULLY = 0 for a whole run,
#: FINISHED_FRAGMENT_RUN_SUCCESSFULLY = 3 for a fragment run) adds one to ``window.__stRuns`` (and whole
#: runs to ``window.__stFullRuns``). The app root's ``data-test-script-state`` alone is not enough: under
#: load React can apply "running" and "not running" in one render, so the attribute never changes and a
#: helper watching it would miss the run. Helpers wait for "a run finished after my action and the app is
#: idle", which is state, not time.
_RUN_COUNTER_JS = """
(() => {
  if (window.__stRunCounter) return;
  window.__stRunCounter = true;
  window.__stRuns = 0;
  window.__stFullRuns = 0;
  const varint = (b, i) => {
    let v = 0, shift = 0, x;
    do { x = b[i++]; v += (x & 0x7f) * Math.pow(2, shift); shift += 7; } while (x & 0x80 && i < b.length);
    return [v, i];
  };
  const finished = (buf) => {            // the script_finished value of a ForwardMsg, or -1
    const b = new Uint8Array(buf);
    let i = 0;
    while (i < b.length) {
      let key; [key, i] = varint(b, i);
      const field = Math.floor(key / 8), wire = key & 7;
      if (wire === 0) { let v; [v, i] = varint(b, i); if (field === 6) return v; }
      else if (wire === 2) { let n; [n, i] = varint(b, i); i += n; }
      else if (wire === 1) i += 8;
      else if (wire === 5) i += 4;
      else return -1;
    }
    return -1;
  };
  const count = (data) => {
    const v = finished(data);
    if (v === 0 || v === 3) window.__stRuns++;
    if (v === 0) window.__stFullRuns++;
  };
  const Native = window.WebSocket;
  class CountingWebSocket extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (ev) => {
        if (ev.data instanceof ArrayBuffer) count(ev.data);
        else if (ev.data && ev.data.arrayBuffer) ev.data.arrayBuffer().then(count);
      });
    }
  }
  window.WebSocket = CountingWebSocket;
})();
"""

_IDLE_JS = """([since, full]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const runs = full ? (window.__stFullRuns || 0) : (window.__stRuns || 0);
  return !!app && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && app.getAttribute('data-test-script-state') === 'notRunning' && runs > since;
}"""


@pytest.fixture
def page(browser, streamlit_server: str):
    """A fresh browser page; ``goto(page, streamlit_server + "/scenario_lab")`` opens a page.

    Every page counts Streamlit's script runs (see :func:`app_runs`), so the helpers below wait on the
    app's run state instead of sleeping.
    """
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(_RUN_COUNTER_JS)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


# -- helpers for browser tests (import them: ``from conftest import goto, click_key, ...``) -----------------
def app_runs(pg, *, full: bool = False) -> int:
    """Script runs the page has seen finish so far (whole and fragment runs; ``full=True``: whole runs only)."""
    return int(pg.evaluate("() => window.__stFullRuns || 0" if full else "() => window.__stRuns || 0"))


def wait_for_app(pg, timeout: float = 60_000, *, since: int | None = None, full: bool = False) -> None:
    """Wait until Streamlit is connected and idle (the app root says ``notRunning``) after a finished run.

    Parameters
    ----------
    since : int, optional
        A value of :func:`app_runs` taken before an action: wait until a run finished after it (so an action
        whose rerun has not begun yet is not mistaken for "done"). Default: at least one run since the page
        was opened.
    full : bool, default False
        Count whole-script runs only (``since`` must then come from ``app_runs(pg, full=True)``); use it
        on a page whose fragments rerun on a timer.
    """
    pg.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=timeout)
    pg.wait_for_function(_IDLE_JS, arg=[0 if since is None else int(since), bool(full)], timeout=timeout)


def goto(pg, url: str, timeout: float = 60_000) -> None:
    """Open ``url`` and wait for its first script run to finish."""
    pg.goto(url)
    wait_for_app(pg, timeout)


def keyed(pg, key: str):
    """The element container of the widget or element with ``key`` (Streamlit's ``st-key-<key>`` class)."""
    return pg.locator(f".st-key-{key}")


def click_key(pg, key: str, *, wait: bool = True, full: bool = False, timeout: float = 60_000) -> None:
    """Click the button (or form submit button) of widget ``key``; wait for the rerun it triggers.

    ``full=True`` waits for a whole-script run (a button outside a timer-driven fragment, e.g. the Live
    Monitor's Start/Stop, whose fragment runs would otherwise count as "the rerun")."""
    before = app_runs(pg, full=full)
    keyed(pg, key).locator("button").first.click(timeout=timeout)
    if wait:
        wait_for_app(pg, timeout, since=before, full=full)


def fill_key(pg, key: str, value: object, *, timeout: float = 60_000) -> None:
    """Type ``value`` into the text/number input of widget ``key``, press Enter, wait for the rerun."""
    box = keyed(pg, key).locator("input").first
    before = app_runs(pg)
    box.fill(str(value), timeout=timeout)
    box.press("Enter")
    wait_for_app(pg, timeout, since=before)


def tab(pg, name: str):
    """The tab labelled ``name`` of the page's ``st.tabs`` (scoped: Streamlit's chrome has no tabs)."""
    return pg.get_by_test_id("stTabs").get_by_role("tab", name=name, exact=True).first


def no_exception(pg) -> bool:
    """True when the page shows no Python exception box."""
    return pg.get_by_test_id("stException").count() == 0
