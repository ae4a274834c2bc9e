"""Five browser sessions on the Scenario Lab at once (issue 17). Run: ``python bench/bench_sessions.py``.

A real ``streamlit run app/main.py`` and headless Chromium (one browser, one context per
session). Each session opens the Scenario Lab (its first visit shows the seed-0 run), sets a
seed that no session has run yet, and then all sessions click *Run simulation* together
(a barrier): a 100,000-path simulation each, from the click to the result. Each then saves its
run (a store write from every session at about the same time). Cases, each against one session
alone (the reference: the median of ``--rounds`` runs, a fresh seed each):

* **same run** — the five ask for the same seed. Simulations are deterministic given their
  inputs, so the server computes the run once and the five share it (``app.cached``:
  single flight). Target: 0 tracebacks, each within 3x of one alone.
  Measured ``--repeat`` times (default 3), each repeat with its own reference taken just
  before it; the summary gives the median over the repeats of the worst session's ratio (the
  times swing by tens of per cent from one repeat to the next with how the five browsers' work
  lines up on two cores).
* **different seeds** — five different runs, computed side by side. One numba run already
  uses every core, so on this 2-core machine five of them take about five times as long as
  one: this case is bounded by the cores, not by the app, and is reported as measured.

Two times per session, both from the click:

* **served** — until the browser has received the end of the script run that the click
  started (Streamlit's ``script_finished`` message, read from the page's websocket frames with
  the Chrome DevTools protocol, in the browser's network clock): what the server takes to
  answer, whatever the client's machine;
* **drawn** — until the results caption names the new seed, a chart is there and two animation
  frames have passed: what the person sees, with the browser's own drawing included.

All five browsers share this machine's cores with the server. People's browsers run on their
own machines, so by default (``--browser-priority idle``) Chromium runs in Linux's
``SCHED_IDLE`` class, and cannot leave it (:func:`browser_launcher`): it gets the CPU the server
leaves, as if it were elsewhere, and the *served* time is the app's answer under five sessions.
The browsers' network service stamps the frames, so a starved browser can only make *served*
later, never earlier. The *drawn* time then also counts five renderers queued on two cores
behind the server; ``--browser-priority 0`` measures both with Chromium's own priorities (it
raises its GPU process above the server when it can). The CPU seconds each kind of process used in every case
are printed, so the share of the browsers is visible. The number of tracebacks
(``stException`` elements) and error boxes on the pages is counted in every session.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from _server import CHROMIUM, CHROMIUM_ARGS, streamlit_process, wait_for_warmup, wait_idle_js  # noqa: E402

#: seeds no run has used yet (every measured run must compute, or join a computation in flight)
_SEEDS = itertools.count(1000)

#: the result is in the page: the results caption names the new seed, and each of its charts has been
#: sent by this run (not a stale element of the previous one, Streamlit's ``data-stale``) and drawn
#: (Plotly's ``.main-svg``). A plain DOM query polled every 50 ms: the wait costs the page next to nothing.
_RESULT_JS = """(s) => {
  const r = document.querySelector('.st-key-sl-results');
  if (!r || !r.textContent.includes(s)) return false;
  const charts = [...r.querySelectorAll('[data-testid=stElementContainer]')].filter(
    c => c.querySelector('[data-testid=stPlotlyChart]'));
  return charts.length >= 3
    && charts.every(c => c.getAttribute('data-stale') !== 'true' && c.querySelector('.main-svg'));
}"""
def _seed_text(seed: int) -> str:
    """How the results caption names the run's seed."""
    return f"seed {seed},"


#: the results' last element of the simulation view: its frame is the end of the result on the wire
_LAST_RESULT_CHART = b"Minimum price per path"
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


class FrameClock:
    """Times of the page's websocket frames, in the browser's network clock (CDP ``Network`` events).

    Streamlit's frames are serialised protobuf messages: a ``BackMsg`` from the page
    (``rerun_script`` when a button is clicked), ``ForwardMsg`` from the server (``script_finished``
    at the end of a run). The network service stamps them as they cross the socket, so neither a
    busy renderer nor this process's event loop shifts the times.
    """

    def __init__(self) -> None:
        self.frames: list[tuple[float, str, bytes]] = []

    async def attach(self, ctx, page) -> None:
        cdp = await ctx.new_cdp_session(page)
        cdp.on("Network.webSocketFrameSent", lambda e: self._add(e, "sent"))
        cdp.on("Network.webSocketFrameReceived", lambda e: self._add(e, "received"))
        await cdp.send("Network.enable")

    def _add(self, event: dict, direction: str) -> None:
        resp = event["response"]
        if resp.get("opcode") == 2:  # binary: a protobuf message
            self.frames.append((float(event["timestamp"]), direction, base64.b64decode(resp["payloadData"])))

    def mark(self) -> int:
        return len(self.frames)

    async def phases(self, since: int, seed: int, timeout: float = 30.0) -> dict[str, float]:
        """Seconds from the first rerun request after frame ``since`` to the phases of that run.

        ``began_s``: the run's progress bar arrives (the script has reached the simulation);
        ``computed_s``: the results caption naming ``seed`` arrives (the simulation is done);
        ``served_s``: the frame carrying the result's last chart; ``finished_s``: the end of the
        script run. The frame events travel on their own DevTools session, so they may reach this
        process after the page already shows the run finished: they are waited for (polled).
        """
        deadline = time.monotonic() + timeout
        while (served := self._phases(since, seed)) is None:
            if time.monotonic() > deadline:
                raise RuntimeError("no finished script run after the click among the page's websocket frames")
            await asyncio.sleep(0.05)
        return served

    def _phases(self, since: int, seed: int) -> dict[str, float] | None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        caption = _seed_text(seed).encode()
        t_sent = None
        out: dict[str, float] = {}
        for t, direction, data in self.frames[since:]:
            if t_sent is None:
                if direction == "sent" and BackMsg.FromString(data).WhichOneof("type") == "rerun_script":
                    t_sent = t
                continue
            if direction != "received":
                continue
            msg = ForwardMsg.FromString(data)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element.WhichOneof("type")
                if element == "progress":
                    out.setdefault("began_s", t - t_sent)
                elif element == "markdown" and caption in data and b"paths" in data:
                    out.setdefault("computed_s", t - t_sent)
            if _LAST_RESULT_CHART in data:
                out.setdefault("served_s", t - t_sent)
            if ("served_s" in out and kind == "script_finished"
                    and msg.script_finished == ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY):
                out["finished_s"] = t - t_sent
                out.setdefault("began_s", float("nan"))
                out.setdefault("computed_s", float("nan"))
                return out
        return None


async def one_session(browser, url: str, seed: int, barrier: asyncio.Barrier | None = None,
                      server_pid: int | None = None) -> dict:
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = await ctx.new_page()
        page.set_default_timeout(300_000)
        clock = FrameClock()
        await clock.attach(ctx, page)
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
        mark = clock.mark()
        t0 = time.perf_counter()
        await page.locator(".st-key-sl-run button").first.click()
        await page.wait_for_function(_RESULT_JS, arg=_seed_text(seed), polling=50)
        await page.evaluate(_TWO_FRAMES_JS)
        t_result = time.perf_counter() - t0
        await page.wait_for_function(wait_idle_js())
        phases = await clock.phases(mark, seed)
        await page.locator(".st-key-sl-save button").click()
        await page.get_by_text("Saved in the store as run").first.wait_for()
        t_saved = time.perf_counter() - t0
        tracebacks = await page.get_by_test_id("stException").count()
        errors = await page.get_by_test_id("stAlertContentError").count()
        return {"seed": seed, **phases, "result_s": t_result, "saved_s": t_saved,
                "tracebacks": tracebacks, "errors": errors}
    finally:
        if server_pid is not None:
            cpu_seconds(server_pid)  # this context's renderer is about to exit
        await ctx.close()


def _kind(proc: psutil.Process, server_pid: int) -> str | None:
    if proc.pid == server_pid:
        return "server"
    cmd = " ".join(proc.cmdline())
    if "chrom" not in proc.name() and CHROMIUM not in cmd:
        return None
    for kind in ("renderer", "gpu-process"):
        if f"--type={kind}" in cmd:
            return kind
    return "browser, other"


#: the last CPU reading of every process seen: a renderer exits with its context, and its reading
#: taken just before (:func:`one_session`) still counts
_LAST_CPU: dict[int, tuple[str, float]] = {}


def cpu_seconds(server_pid: int) -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) of the server and of every Chromium process, by pid; processes
    that have exited since keep their last reading."""
    for proc in psutil.process_iter():
        try:
            kind = _kind(proc, server_pid)
            if kind is not None:
                t = proc.cpu_times()
                _LAST_CPU[proc.pid] = (kind, t.user + t.system)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return dict(_LAST_CPU)


def cpu_used(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> str:
    """CPU seconds used between two :func:`cpu_seconds` snapshots, summed by kind of process."""
    used: dict[str, float] = {}
    for pid, (kind, t) in after.items():
        used[kind] = used.get(kind, 0.0) + t - before.get(pid, (kind, 0.0))[1]
    return ", ".join(f"{k} {v:.1f} s" for k, v in sorted(used.items()))


def browser_launcher(priority: str, folder: Path) -> str:
    """Chromium, or a launcher that starts it at a lower CPU priority which it cannot raise again.

    ``priority``: ``"idle"`` — Linux's ``SCHED_IDLE`` class: the browsers get only the CPU time
    the server leaves (the nearest this machine gets to browsers on other machines); an integer
    ``"N"`` > 0 — niceness N; ``"0"`` — Chromium as it starts itself. Chromium sets its own
    priorities: as root it put its GPU process at nice -8 and its renderers at 0, ahead of or
    level with the server, so renicing it after launch does not hold. Started without
    ``CAP_SYS_NICE`` (``setpriv``, util-linux), none of its processes or threads can be given more
    priority than it started with.
    """
    if priority == "0":
        return CHROMIUM
    drop = "setpriv --inh-caps=-sys_nice --bounding-set=-sys_nice " if shutil.which("setpriv") else ""
    start = "chrt --idle 0 nice -n 19" if priority == "idle" else f"nice -n {int(priority)}"
    launcher = folder / "chromium-low-priority"
    launcher.write_text(f"#!/bin/sh\nexec {start} {drop}{CHROMIUM} \"$@\"\n")
    launcher.chmod(0o755)
    return str(launcher)


_TIMES = ("began_s", "computed_s", "served_s", "finished_s", "result_s", "saved_s")


def _report(case: str, together: list[dict], ref: dict[str, float], cpu: str) -> tuple[float, float, int]:
    n = len(together)
    for i, r in enumerate(together):
        print(f"  [{case}] session {i + 1} of {n} (seed {r['seed']}): served {r['served_s']:.2f} s "
              f"({r['served_s'] / ref['served_s']:.2f}x alone; simulation began {r['began_s']:.2f} s, computed "
              f"{r['computed_s']:.2f} s, run ended {r['finished_s']:.2f} s), drawn {r['result_s']:.2f} s "
              f"({r['result_s'] / ref['result_s']:.2f}x), saved {r['saved_s']:.2f} s "
              f"({r['saved_s'] / ref['saved_s']:.2f}x), tracebacks {r['tracebacks']}, error boxes {r['errors']}")
    worst = {k: max(r[k] / ref[k] for r in together) for k in ("served_s", "result_s", "saved_s")}
    tb = sum(r["tracebacks"] for r in together)
    errs = sum(r["errors"] for r in together)
    print(f"[{case}] {n} at once, worst against one alone: served {worst['served_s']:.2f}x, drawn "
          f"{worst['result_s']:.2f}x, saved {worst['saved_s']:.2f}x; {tb} tracebacks, {errs} error boxes "
          f"(load average {os.getloadavg()[0]:.2f})")
    print(f"[{case}] CPU used by the case (pages opened, run, saved): {cpu}")
    return worst["served_s"], worst["result_s"], tb


async def _together(browser, url: str, seeds: list[int], pid: int) -> tuple[list[dict], str]:
    barrier = asyncio.Barrier(len(seeds))
    before = cpu_seconds(pid)
    results = await asyncio.gather(*(one_session(browser, url, s, barrier, pid) for s in seeds))
    return results, cpu_used(before, cpu_seconds(pid))


async def _alone(browser, url: str, rounds: int, pid: int, label: str) -> dict[str, float]:
    before = cpu_seconds(pid)
    alone = [await one_session(browser, url, next(_SEEDS), server_pid=pid) for _ in range(rounds)]
    ref = {k: statistics.median(a[k] for a in alone) for k in _TIMES}
    print(f"{label}: one session alone: served {ref['served_s']:.2f} s (simulation began {ref['began_s']:.2f} s, "
          f"computed {ref['computed_s']:.2f} s, run ended {ref['finished_s']:.2f} s), "
          f"drawn {ref['result_s']:.2f} s, saved {ref['saved_s']:.2f} s (median of {rounds}, each a new seed; "
          f"load average {os.getloadavg()[0]:.2f}); CPU (pages opened, run, saved): "
          f"{cpu_used(before, cpu_seconds(pid))}")
    return ref


async def main_async(n: int, rounds: int, priority: str, repeat: int) -> None:
    from playwright.async_api import async_playwright

    tmp = Path(tempfile.mkdtemp())
    worst_same: list[tuple[float, float]] = []
    tracebacks = 0
    print(f"{n} sessions, browsers at priority {priority}, {os.cpu_count()} cores; each repeat measures its own "
          "reference")
    with streamlit_process(tmp / "riskcore.duckdb", tmp / "streamlit.log") as (url, pid):
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=browser_launcher(priority, tmp), headless=True,
                                               args=CHROMIUM_ARGS)
            await one_session(browser, url, next(_SEEDS))  # warm-up: imports and JIT compilation
            # the server's background warm-up (app/warmup.py) starts with the first session: measure
            # after it, so that neither the reference nor the five share the cores with it
            await asyncio.to_thread(wait_for_warmup, tmp / "streamlit.log", pid)
            for r in range(repeat):
                label = f"repeat {r + 1} of {repeat}"
                ref = await _alone(browser, url, rounds, pid, label)
                same, cpu_same = await _together(browser, url, [next(_SEEDS)] * n, pid)
                served, drawn, tb = _report(f"{label}, same run", same, ref, cpu_same)
                worst_same.append((served, drawn))
                tracebacks += tb
            different, cpu_diff = await _together(browser, url, [next(_SEEDS) for _ in range(n)], pid)
            await browser.close()
    s_diff, d_diff, tb_diff = _report("different seeds (against the last reference)", different, ref, cpu_diff)
    served = statistics.median(w[0] for w in worst_same)
    drawn = statistics.median(w[1] for w in worst_same)
    print(f"summary: same run, worst session of {n}, median over {repeat} repeats: served {served:.2f}x "
          f"(target <= 3x: {'ok' if served <= 3 else 'OVER'}; each repeat "
          f"{', '.join(f'{w[0]:.2f}x' for w in worst_same)}), drawn {drawn:.2f}x (each "
          f"{', '.join(f'{w[1]:.2f}x' for w in worst_same)}) with {n} browsers on this machine; different seeds "
          f"served {s_diff:.2f}x, drawn {d_diff:.2f}x (bounded by {os.cpu_count()} cores); tracebacks "
          f"{tracebacks + tb_diff} (target 0); browsers at priority {priority}, load average {os.getloadavg()[0]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3, help="runs of the single-session reference")
    ap.add_argument("--repeat", type=int, default=3, help="repeats of (reference, five on the same run)")
    ap.add_argument("--browser-priority", default="idle",
                    help="the browsers' CPU priority: idle (SCHED_IDLE), a niceness N, or 0 (as Chromium sets it)")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"skipped: {CHROMIUM} is missing")
        return
    asyncio.run(main_async(args.sessions, args.rounds, args.browser_priority, args.repeat))


if __name__ == "__main__":
    main()
