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
    ("live_monitor", "[data-testid='stPlotlyChart']"),
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


def _line(what: str, seconds: float, target: float) -> str:
    verdict = "ok" if seconds <= target else "OVER"
    return f"{what:<44} {seconds:7.2f} s   target {target:4.1f} s   ratio {seconds / target:5.2f}  {verdict}"


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


def _measure(browser, url: str, tag: str) -> list[str]:
    lines: list[str] = []
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)

    def first_open(path: str, marker: str) -> float:
        t = time.perf_counter()
        page.goto(f"{url}/{path}")
        page.wait_for_selector(marker, state="attached")
        _idle(page)
        return time.perf_counter() - t

    def add(line: str) -> None:
        lines.append(f"[{tag}] {line}")
        print(lines[-1], flush=True)

    add(_line("first open: home", first_open(*PAGES[0]), TARGET_OPEN_S))
    add(_line("first open: calibration",
              first_open("calibration", ".st-key-calib-series-chart [data-testid='stPlotlyChart']"), TARGET_OPEN_S))
    t = time.perf_counter()
    page.locator(".st-key-calib-run button").click()
    page.wait_for_selector(".st-key-calib-results [data-testid='stMetric']", state="attached")
    _idle(page)
    add(_line("first calibration (click to estimates)", time.perf_counter() - t, TARGET_CALIB_S))
    for path, marker in PAGES[1:]:
        add(_line(f"first open: {path}", first_open(path, marker), TARGET_OPEN_S))
    # a 100,000-path simulation, click to chart (a new seed: the page must compute)
    page.goto(f"{url}/scenario_lab")
    page.wait_for_selector(".st-key-sl-results [data-testid='stPlotlyChart']", state="attached")
    _idle(page)
    seed = page.locator(".st-key-sl-seed input")
    seed.fill("7")
    seed.press("Enter")
    page.wait_for_selector(".st-key-sl-stale-box", state="attached")
    _idle(page)
    t = time.perf_counter()
    page.locator(".st-key-sl-run button").click()
    page.wait_for_selector(".st-key-sl-results:has-text('seed 7,') [data-testid='stPlotlyChart']", state="attached")
    _idle(page)
    add(_line("100,000-path simulation (click to chart)", time.perf_counter() - t, TARGET_SIM_S))
    ctx.close()
    return lines


def main(argv: list[str]) -> int:
    """``python bench/bench_app.py [at|after]``: both phases, or only the one named."""
    from playwright.sync_api import sync_playwright

    only = argv[0] if argv else ""
    lines: list[str] = []
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
                lines += _measure(browser, url, tag)
            finally:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        browser.close()
    print("\n".join(lines))
    print(f"load average at the end {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (shared machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
