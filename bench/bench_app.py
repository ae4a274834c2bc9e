"""Speed as a user feels it: a real ``streamlit run`` server and headless Chromium.

Measured twice, each time on a fresh server process (empty temporary store): ``at start`` (the
browser arrives as soon as ``/_stcore/health`` answers, while the background warm-up of
``app/warmup.py`` is still running) and ``after warm-up`` (the browser arrives once the server has
logged the end of its warm-up, which starts when the first session runs ``app/main.py``: a first
visit to Home starts it, and the measurements then use a new browser session). Each time, in this
order:

* server start until ``/_stcore/health`` answers;
* the **first open** of every page (navigation until the page's last element is drawn and the
  script has finished), target <= 3 s each;
* the **first calibration** after the server start (click on *Calibrate* until the estimates are
  shown), target <= 5 s;
* a **100,000-path simulation** in the Scenario Lab (click on *Run simulation* until the new fan
  chart is drawn), target <= 2 s.

The reference printed for each line is its target (the ratio is measured / target, <= 1 meets it).
Each line is split into **script** (from the navigation or click until the browser has received
the end of the script run: connection, the page's Python and the deltas it sent) and **draw**
(from there until the marker element is drawn and the app is idle: the frontend loading its
chart libraries and rendering). The run ends with a table of every page against its target.
The machine is shared: run it with nothing else busy for numbers that mean something, and
``nice`` it otherwise. Usage: ``python bench/bench_app.py`` (two to four minutes).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import _RUN_COUNTER_JS  # noqa: E402  (counts Streamlit's finished script runs in the page)

#: records, on every animation frame, when the count of finished whole-script runs went up:
#: ``window.__stFinishedAt`` holds ``performance.now()`` of each (ms since the navigation started)
_FINISH_TIMES_JS = """
(() => {
  window.__stFinishedAt = [];
  let seen = 0;
  const poll = () => {
    const n = window.__stFullRuns || 0;
    if (n > seen) { seen = n; window.__stFinishedAt.push(performance.now()); }
    requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
})();
"""
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 120_000

#: (url path, what marks the page as fully drawn: a CSS selector)
PAGES: list[tuple[str, str]] = [
    ("", ".st-key-home-recent"),
    ("scenario_lab", ".st-key-sl-results [data-testid='stPlotlyChart']"),
    ("var_lab", ".st-key-var-ensemble [data-testid='stDataFrame']"),
    ("stability_review", ".st-key-sr-results [data-testid='stPlotlyChart']"),
    ("agent_inspector", "[data-testid='stMetric']"),
    ("live_monitor", ".st-key-lm_price .vega-embed svg.marks"),
    ("settings", "[data-testid='stMarkdown']"),
]
TARGET_OPEN_S, TARGET_CALIB_S, TARGET_SIM_S = 3.0, 5.0, 2.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _idle(page) -> None:
    """Wait until the script run has finished (no 'Running' status)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=TIMEOUT_MS)


def _line(what: str, seconds: float, target: float, script_s: float | None = None) -> str:
    verdict = "ok" if seconds <= target else "OVER"
    split = "" if script_s is None else f"   script {script_s:5.2f} s + draw {max(seconds - script_s, 0.0):5.2f} s"
    return (f"{what:<44} {seconds:7.2f} s   target {target:4.1f} s   ratio {seconds / target:5.2f}  {verdict:<4}"
            f"{split}")


def _start_server(tmp: Path) -> tuple[subprocess.Popen, str, Path, float]:
    port = _free_port()
    env = {**os.environ, "RISKCORE_DB": str(tmp / "riskcore.duckdb"), "PYTHONPATH": str(ROOT)}
    env.pop("RISKCORE_WARMUP", None)
    log_path = tmp / "streamlit.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "main.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(log_path.read_text()[-2000:])
        time.sleep(0.1)
    return proc, url, log_path, time.perf_counter() - t0


def _measure(browser, url: str, tag: str) -> list[tuple[str, float, float, float | None]]:
    """Every measurement of one phase: (what, seconds, target, script seconds)."""
    rows: list[tuple[str, float, float, float | None]] = []
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.add_init_script(_RUN_COUNTER_JS)
    ctx.add_init_script(_FINISH_TIMES_JS)
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)

    def script_s(since_ms: float) -> float | None:
        """Seconds from ``since_ms`` (page clock) to the last finished whole-script run seen."""
        done = page.evaluate("() => window.__stFinishedAt")
        return (done[-1] - since_ms) / 1000 if done and done[-1] >= since_ms else None

    def first_open(path: str, marker: str) -> tuple[float, float | None]:
        t = time.perf_counter()
        page.goto(f"{url}/{path}")
        page.wait_for_selector(marker, state="attached")
        _idle(page)
        return time.perf_counter() - t, script_s(0.0)   # the page clock starts with the navigation

    def click(selector: str, done: str) -> tuple[float, float | None]:
        t = time.perf_counter()
        at = page.evaluate("() => performance.now()")
        page.locator(selector).click()
        page.wait_for_selector(done, state="attached")
        _idle(page)
        return time.perf_counter() - t, script_s(at)

    def add(what: str, measured: tuple[float, float | None], target: float) -> None:
        rows.append((what, measured[0], target, measured[1]))
        print(f"[{tag}] " + _line(what, measured[0], target, measured[1]), flush=True)

    add("first open: home", first_open(*PAGES[0]), TARGET_OPEN_S)
    add("first open: calibration",
        first_open("calibration", ".st-key-calib-series-chart .vega-embed svg.marks"), TARGET_OPEN_S)
    add("first calibration (click to estimates)",
        click(".st-key-calib-run button", ".st-key-calib-results [data-testid='stMetric']"), TARGET_CALIB_S)
    for path, marker in PAGES[1:]:
        add(f"first open: {path}", first_open(path, marker), TARGET_OPEN_S)
    # a 100,000-path simulation, click to chart (a new seed: the page must compute)
    page.goto(f"{url}/scenario_lab")
    page.wait_for_selector(".st-key-sl-results [data-testid='stPlotlyChart']", state="attached")
    _idle(page)
    seed = page.locator(".st-key-sl-seed input")
    seed.fill("7")
    seed.press("Enter")
    page.wait_for_selector(".st-key-sl-stale-box", state="attached")
    _idle(page)
    add("100,000-path simulation (click to chart)",
        click(".st-key-sl-run button", ".st-key-sl-results:has-text('seed 7,') [data-testid='stPlotlyChart']"),
        TARGET_SIM_S)
    ctx.close()
    return rows


def _table(results: dict[str, list[tuple[str, float, float, float | None]]]) -> str:
    """Every measurement against its target, one column per phase."""
    tags = list(results)
    whats = list(dict.fromkeys(w for rows in results.values() for w, *_ in rows))
    head = f"{'':<44} {'target':>7}" + "".join(f" {t:>22}" for t in tags)
    out = [head]
    for what in whats:
        line = f"{what:<44}"
        target = next(tg for rows in results.values() for w, _, tg, _ in rows if w == what)
        line += f" {target:6.1f}s"
        for t in tags:
            row = next((r for r in results[t] if r[0] == what), None)
            cell = "—" if row is None else f"{row[1]:.2f} s {'ok' if row[1] <= target else 'OVER'}"
            line += f" {cell:>22}"
        out.append(line)
    return "\n".join(out)


def main(argv: list[str]) -> int:
    """``python bench/bench_app.py [at|after]``: both phases, or only the one named."""
    from playwright.sync_api import sync_playwright

    only = argv[0] if argv else ""
    results: dict[str, list[tuple[str, float, float, float | None]]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        phases = [p for p in (("at start", False), ("after warm-up", True)) if not only or p[0].startswith(only)]
        for tag, wait_warm in phases:
            tmp = Path(tempfile.mkdtemp(prefix="bench_app_"))
            proc, url, log_path, up_s = _start_server(tmp)
            try:
                print(f"[{tag}] server up in {up_s:.2f} s (load average {os.getloadavg()[0]:.2f})", flush=True)
                if wait_warm:
                    # Streamlit runs app/main.py (which starts the warm-up) when the first session opens
                    first = browser.new_page()
                    first.goto(url)
                    first.wait_for_selector(PAGES[0][1], state="attached", timeout=TIMEOUT_MS)
                    first.close()
                    t = time.perf_counter()
                    while "riskcore warm-up done" not in log_path.read_text():
                        if proc.poll() is not None or time.perf_counter() - t > 300:
                            raise RuntimeError("warm-up did not finish: " + log_path.read_text()[-2000:])
                        time.sleep(0.2)
                    done = next(ln for ln in log_path.read_text().splitlines() if "riskcore warm-up done" in ln)
                    print(f"[{tag}] {done.strip()} (waited {time.perf_counter() - t:.1f} s)", flush=True)
                results[tag] = _measure(browser, url, tag)
            finally:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        browser.close()
    print("\nper page against the targets (after warm-up is what a user meets once the server is up):")
    print(_table(results))
    print(f"load average at the end {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (shared machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
