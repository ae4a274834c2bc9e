"""Five browser sessions on the Scenario Lab at once (issue 17). Run: ``python bench/bench_sessions.py``.

A real ``streamlit run app/main.py`` and headless Chromium (one browser, one context per
session). Each session opens the Scenario Lab (its first visit shows the seed-0 run), sets a
seed that no session has run yet, and then all sessions click *Run simulation* together
(a barrier): a 100,000-path simulation each, from the click to the result shown. Each then
saves its run (a store write from every session at about the same time). Measured: the time
from the click to the result, and to the save confirmed, for one session alone (the reference,
a fresh seed each round) and for five at once, in two cases:

* **same run** — the five ask for the same seed. Simulations are deterministic given their
  inputs, so the server computes the run once and the five share it (``app.cached``:
  single flight). Target: 0 tracebacks, each within 3x of one alone.
* **different seeds** — five different runs, computed side by side. One numba run already
  uses every core, so on this 2-core machine five of them take about five times as long as
  one: this case is bounded by the cores, not by the app, and is reported as measured.

The number of tracebacks (``stException`` elements) and error boxes on the pages is counted in
every session.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from _server import CHROMIUM, CHROMIUM_ARGS, streamlit_process, wait_for_warmup, wait_idle_js  # noqa: E402

#: seeds no run has used yet (every measured run must compute, or join a computation in flight)
_SEEDS = itertools.count(1000)

#: the result is in the page: the results caption names the new seed and a chart is there. A plain
#: DOM query polled every 50 ms, so the wait itself costs the page next to nothing.
_RESULT_JS = ("(s) => { const r = document.querySelector('.st-key-sl-results'); "
              "return !!r && r.textContent.includes(s) && !!r.querySelector('[data-testid=stPlotlyChart]'); }")
#: the page has settled: every chart drawn, then a second without a long task (> 50 ms) on its main
#: thread. Pages opened together are still evaluating Plotly's bundle and drawing their first charts
#: for a few seconds after Streamlit reports the run finished; five people who click *Run* are
#: looking at drawn pages, so the click waits for this state (polled, never a fixed sleep).
_SETTLED_JS = """() => new Promise(resolve => {
  let last = performance.now();
  const obs = new PerformanceObserver(() => { last = performance.now(); });
  obs.observe({type: 'longtask'});
  const tick = () => {
    const charts = document.querySelectorAll('[data-testid=stPlotlyChart]');
    const drawn = [...charts].every(c => c.querySelector('.main-svg'));
    if (!drawn) last = performance.now();
    if (performance.now() - last > 1000) { obs.disconnect(); resolve(); } else setTimeout(tick, 100);
  };
  tick();
})"""
#: ... and drawn: two animation frames later the charts' redraw (run as the page commits) is painted
_TWO_FRAMES_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


async def one_session(browser, url: str, seed: int, barrier: asyncio.Barrier | None = None) -> dict:
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = await ctx.new_page()
        page.set_default_timeout(300_000)
        await page.goto(f"{url}/scenario_lab")
        await page.get_by_text("100,000 paths × 365 steps").first.wait_for()
        await page.wait_for_function(wait_idle_js())
        box = page.locator(".st-key-sl-seed input")
        await box.fill(str(seed))
        await box.press("Enter")
        await page.locator(".st-key-sl-stale-box").first.wait_for()
        await page.wait_for_function(wait_idle_js())
        await page.evaluate(_SETTLED_JS)
        if barrier is not None:
            await barrier.wait()   # every session clicks at once
        t0 = time.perf_counter()
        await page.locator(".st-key-sl-run button").first.click()
        await page.wait_for_function(_RESULT_JS, arg=f"seed {seed},", polling=50)
        await page.evaluate(_TWO_FRAMES_JS)
        t_result = time.perf_counter() - t0
        await page.wait_for_function(wait_idle_js())
        await page.locator(".st-key-sl-save button").click()
        await page.get_by_text("Saved in the store as run").first.wait_for()
        t_saved = time.perf_counter() - t0
        tracebacks = await page.get_by_test_id("stException").count()
        errors = await page.get_by_test_id("stAlertContentError").count()
        return {"seed": seed, "result_s": t_result, "saved_s": t_saved, "tracebacks": tracebacks, "errors": errors}
    finally:
        await ctx.close()


def _report(case: str, together: list[dict], ref: float, ref_saved: float) -> tuple[float, int]:
    n = len(together)
    for i, r in enumerate(together):
        print(f"  [{case}] session {i + 1} of {n} (seed {r['seed']}): result {r['result_s']:.2f} s "
              f"({r['result_s'] / ref:.2f}x alone), saved {r['saved_s']:.2f} s ({r['saved_s'] / ref_saved:.2f}x), "
              f"tracebacks {r['tracebacks']}, error boxes {r['errors']}")
    worst = max(r["result_s"] / ref for r in together)
    worst_saved = max(r["saved_s"] / ref_saved for r in together)
    tb = sum(r["tracebacks"] for r in together)
    errs = sum(r["errors"] for r in together)
    print(f"[{case}] {n} at once: worst {worst:.2f}x alone to the result, {worst_saved:.2f}x to the save; "
          f"{tb} tracebacks, {errs} error boxes (load average {os.getloadavg()[0]:.2f})")
    return worst, tb


async def main_async(n: int, rounds: int) -> None:
    from playwright.async_api import async_playwright

    tmp = Path(tempfile.mkdtemp())
    with streamlit_process(tmp / "riskcore.duckdb", tmp / "streamlit.log") as (url, pid):
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            await one_session(browser, url, next(_SEEDS))  # warm-up: imports and JIT compilation
            # the server's background warm-up (app/warmup.py) starts with the first session: measure
            # after it, so that neither the reference nor the five share the cores with it
            await asyncio.to_thread(wait_for_warmup, tmp / "streamlit.log", pid)
            alone = [await one_session(browser, url, next(_SEEDS)) for _ in range(rounds)]
            ref = statistics.median(a["result_s"] for a in alone)
            ref_saved = statistics.median(a["saved_s"] for a in alone)
            print(f"one session alone : click to result {ref:.2f} s, to saved {ref_saved:.2f} s (median of {rounds}, "
                  f"each a new seed; load average {os.getloadavg()[0]:.2f})")
            shared = next(_SEEDS)
            barrier = asyncio.Barrier(n)
            same = await asyncio.gather(*(one_session(browser, url, shared, barrier) for _ in range(n)))
            barrier = asyncio.Barrier(n)
            different = await asyncio.gather(*(one_session(browser, url, next(_SEEDS), barrier) for _ in range(n)))
            await browser.close()
    w_same, tb_same = _report("same run", same, ref, ref_saved)
    w_diff, tb_diff = _report("different seeds", different, ref, ref_saved)
    print(f"summary: same run {w_same:.2f}x (target <= 3x: {'ok' if w_same <= 3 else 'OVER'}), "
          f"different seeds {w_diff:.2f}x (bounded by {os.cpu_count()} cores), tracebacks {tb_same + tb_diff} "
          f"(target 0) on {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2, help="runs of the single-session reference")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"skipped: {CHROMIUM} is missing")
        return
    asyncio.run(main_async(args.sessions, args.rounds))


if __name__ == "__main__":
    main()
