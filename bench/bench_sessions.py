"""Five browser sessions on the Scenario Lab at once (issue 17). Run: ``python bench/bench_sessions.py``.

A real ``streamlit run app/main.py`` and headless Chromium (one browser, one context per
session). Each session opens the Scenario Lab, whose first visit runs a 100,000-path
simulation, then saves the run (a store write from every session at about the same
time). Measured: the time from opening the page to the result shown, and to the save
confirmed, for one session alone (the reference, same run) and for five at once; and the
number of tracebacks (``stException`` elements) and error boxes on the pages.
Target: 0 tracebacks, each of the five within 3x of one alone.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from _server import CHROMIUM, CHROMIUM_ARGS, streamlit_process, wait_idle_js  # noqa: E402


async def one_session(browser, url: str, i: int) -> dict:
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = await ctx.new_page()
        page.set_default_timeout(300_000)
        t0 = time.perf_counter()
        await page.goto(f"{url}/scenario_lab")
        await page.get_by_text("100,000 paths × 365 steps").first.wait_for()
        t_result = time.perf_counter() - t0
        await page.wait_for_function(wait_idle_js())
        await page.locator(".st-key-sl-save button").click()
        await page.get_by_text("Saved in the store as run").first.wait_for()
        t_saved = time.perf_counter() - t0
        tracebacks = await page.get_by_test_id("stException").count()
        errors = await page.get_by_test_id("stAlertContentError").count()
        return {"result_s": t_result, "saved_s": t_saved, "tracebacks": tracebacks, "errors": errors}
    finally:
        await ctx.close()


async def main_async(n: int, rounds: int) -> None:
    from playwright.async_api import async_playwright

    tmp = Path(tempfile.mkdtemp())
    with streamlit_process(tmp / "riskcore.duckdb", tmp / "streamlit.log") as (url, _pid):
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            await one_session(browser, url, -1)  # warm-up: imports and JIT compilation
            alone = [await one_session(browser, url, -2 - r) for r in range(rounds)]
            ref = statistics.median(a["result_s"] for a in alone)
            ref_saved = statistics.median(a["saved_s"] for a in alone)
            print(f"one session alone  : result {ref:.2f} s, saved {ref_saved:.2f} s (median of {rounds})")
            together = await asyncio.gather(*(one_session(browser, url, i) for i in range(n)))
            await browser.close()
    for i, r in enumerate(together):
        print(f"session {i + 1} of {n}    : result {r['result_s']:.2f} s ({r['result_s'] / ref:.2f}x alone), "
              f"saved {r['saved_s']:.2f} s ({r['saved_s'] / ref_saved:.2f}x), tracebacks {r['tracebacks']}, "
              f"error boxes {r['errors']}")
    worst = max(r["result_s"] / ref for r in together)
    worst_saved = max(r["saved_s"] / ref_saved for r in together)
    tb = sum(r["tracebacks"] for r in together)
    print(f"{n} at once: worst {worst:.2f}x alone to the result, {worst_saved:.2f}x to the save; "
          f"{tb} tracebacks (target: 0 and <= 3x)")


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
