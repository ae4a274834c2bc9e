"""Warm-up at server start, in the background: imports, compiled kernels, first-open results.

The first open of a page took 6-16 s and the first calibration 32 s after a server start, because
the user's click paid for importing scipy/arch/plotly, loading (or compiling) the Numba kernels and
computing the sample results the pages show at once. :func:`start` (called once from
``app/main.py``) runs :func:`warm_up` in a daemon thread, once per server process, so that this work
is done before the first user gets there — or, if they are quicker, is shared with them (imports
and :mod:`app.cached` results are computed once, whoever asks first).

Decisions
---------
* Off under pytest (AppTests run ``app/main.py`` in the test process, which must not carry a
  background CPU load) and when ``RISKCORE_WARMUP=0``; ``RISKCORE_WARMUP=1`` forces it on.
* Every step is guarded: a failing step is logged and skipped, never fatal for the app.
* Steps are ordered by what a first visit needs soonest: imports and kernels, the other pages'
  imports, a first calibration, the Scenario Lab's first-visit simulation (into the shared
  simulation cache of :mod:`app.cached`), the VaR Lab's ensemble on its default sample, the
  Stability Review's replay of its default sample, the Live Monitor's first primed feed.
* Each step after the imports waits until no page has run for ``QUIET_S`` seconds (at most 20 s):
  on a 2-core machine a background step competes with the user's own page for CPU and the GIL.
* After the imports and again at the end, what is alive is frozen out of the cyclic garbage
  collector's reach (:func:`freeze_heap`): Streamlit runs a full collection after every script
  run, and it walked the whole heap each time (issue 17).
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import sys
import threading
import time
from collections.abc import Callable

__all__ = ["start", "warm_up", "enabled", "touch", "freeze_heap", "TIMINGS"]

_LOG = logging.getLogger("riskcore.warmup")
_started = False
_lock = threading.Lock()
#: seconds per finished step, for the record (``{"imports": 2.1, ...}``)
TIMINGS: dict[str, float] = {}
#: set when every step has run
DONE = threading.Event()
#: a step starts only after this many seconds without a page run (so it does not slow a user down)
QUIET_S: float = 1.5
_last_activity = 0.0


def touch() -> None:
    """Record that a page is running (called on every script run, via :func:`app.widgets.get_store`)."""
    global _last_activity  # noqa: PLW0603 - one timestamp per process
    _last_activity = time.monotonic()


def _wait_quiet(limit_s: float = 20.0) -> None:
    """Let user-facing script runs go first (bounded, so the warm-up still finishes)."""
    t0 = time.monotonic()
    while time.monotonic() - _last_activity < QUIET_S and time.monotonic() - t0 < limit_s:
        time.sleep(0.1)


def enabled() -> bool:
    flag = os.environ.get("RISKCORE_WARMUP", "").strip()
    if flag in ("0", "false", "no"):
        return False
    if flag in ("1", "true", "yes"):
        return True
    return "pytest" not in sys.modules


def _imports() -> None:
    import arch.univariate  # noqa: F401
    import plotly.graph_objects as go
    import scipy.optimize  # noqa: F401
    import scipy.stats  # noqa: F401

    import riskcore.monitor.review  # noqa: F401
    import riskcore.peg.calibration  # noqa: F401
    import riskcore.peg.report  # noqa: F401
    import riskcore.plots.calibration  # noqa: F401
    import riskcore.plots.monitor  # noqa: F401
    import riskcore.plots.peg  # noqa: F401
    import riskcore.plots.var  # noqa: F401
    import riskcore.var  # noqa: F401

    go.Figure(go.Scatter(x=[0, 1], y=[0, 1])).to_plotly_json()  # plotly builds its validators on first use


def _page_imports() -> None:
    """What the other pages import on first open (profiled: 0.1-0.3 s each on a first visit)."""
    import pandas.io.formats.style  # noqa: F401 - Styler compiles its jinja2 templates on import (alert tables)
    import plotly.graph_objects as go

    import app.data_widgets  # noqa: F401
    import app.page_state  # noqa: F401
    import app.run_control  # noqa: F401
    import riskcore.monitor.feeds  # noqa: F401
    import riskcore.monitor.portfolio  # noqa: F401
    import riskcore.monitor.routing  # noqa: F401
    import riskcore.monitor.session  # noqa: F401
    import riskcore.peg.pegcheck  # noqa: F401
    import riskcore.plots.portfolio  # noqa: F401
    import riskcore.portfolio.context  # noqa: F401
    import riskcore.portfolio.events  # noqa: F401

    # the trace types of the Agent Inspector's and Live Monitor's figures (validators are built per type)
    for trace in (go.Bar(x=[0], y=[0]), go.Heatmap(z=[[0]]), go.Indicator(value=0, mode="gauge+number"),
                  go.Histogram(x=[0])):
        go.Figure(trace).to_plotly_json()


def _agent_inspector() -> None:
    """The Agent Inspector's first open: the registry (torch) imports and one default decision, no store."""
    import riskcore.agents.registry  # noqa: F401 - imports torch and the trainer for the policy-source picker
    import riskcore.plots.policy  # noqa: F401
    import riskcore.reports.portfolio  # noqa: F401
    from riskcore.plots.portfolio import risk_state_figure
    from riskcore.portfolio.context import preset
    from riskcore.portfolio.events import EventType, RiskEventProcessor

    ctx = preset("calm")
    sym = str(ctx.price_history.columns[0])
    proc = RiskEventProcessor(context=ctx, store=None, n_simulations=5000, seed=0)
    proc.process_risk_event(EventType.NEW_TRADE_REQUEST, {
        "symbol": sym, "direction": 1, "base_quantity": 2, "entry_price": float(ctx.price_history[sym].iloc[-1]),
        "strategy_confidence": 0.6, "avg_win": 200.0, "avg_loss": 100.0})
    risk_state_figure(proc.risk_state.vector).to_plotly_json()


def _scenario_lab() -> None:
    """The Scenario Lab's first-visit run (defaults: 100,000 paths, seed 0, baseline), into the shared cache.

    The page asks :func:`app.cached.simulation` for exactly this run on a first visit, so the first
    visitor (and every later one) gets it from the cache instead of waiting for it.
    """
    from app.cached import simulation
    from riskcore.params import ModelParameters
    from riskcore.peg.montecarlo import available_backends
    from riskcore.peg.scenarios import PRESETS

    simulation(ModelParameters(), 100_000, n_steps=365, dt=1.0 / 365, seed=0, backend=available_backends()[0].value,
               initial_price=1.0, scenario=PRESETS["baseline"], keep_paths=20)


def _live_monitor() -> None:
    """The Live Monitor's first open: a simulated feed primed with its history (no store, nothing sent)."""
    from riskcore.monitor.feeds import SimulatedFeed
    from riskcore.monitor.session import MonitorSession
    from riskcore.monitor.token import TokenMonitor
    from riskcore.peg.scenarios import PRESETS
    from riskcore.plots.monitor import live_price_data, live_price_spec, stability_gauge

    feed = SimulatedFeed(None, PRESETS["crash"], seed=7, speed=4.0)
    sess = MonitorSession(feed, TokenMonitor(source=feed.source_key), restore=False)
    sess.prime(40)
    live_price_data(sess.frame(), sess.monitor.engine.history_frame())
    live_price_spec(simulated_time=True)
    stability_gauge(sess.last.stability_score, sess.last.risk_level).to_plotly_json()
    sess.monitor.report()


def _kernels() -> None:
    from riskcore.peg.montecarlo import simulate

    # loads the cached machine code (compiles it once if the cache is cold), both thread paths
    simulate(None, 256, n_steps=8, seed=0, keep_paths=2)
    simulate(None, 4096, n_steps=64, seed=0, keep_paths=2)


def _calibration() -> None:
    from riskcore.data import load_sample
    from riskcore.peg.calibration import calibrate

    s = load_sample("stable_token")
    calibrate(s, fit=("alpha",))


def _var_lab() -> None:
    from app.cached import ensemble_report
    from riskcore.data import load_sample

    # exactly what the VaR Lab shows on first open (sp500 sample, default levels and window)
    s = load_sample("sp500")
    returns = s.returns("simple").rename(s.name)
    ensemble_report(returns, (0.95, 0.99, 0.997), min(252, max(30, len(returns) // 2)))


def _stability_review() -> None:
    from app.cached import stability_review
    from riskcore.data import load_sample

    stability_review(load_sample("stable_token"), True)  # the Stability Review's first open


def freeze_heap() -> int:
    """Collect once, then move every object alive now to the collector's permanent generation.

    Returns the number of objects frozen (:func:`gc.get_freeze_count`).

    Notes
    -----
    Streamlit ends every script run with ``gc.collect(2)`` (``runner.postScriptGC``), holding the
    GIL. With torch, numba, scipy, arch, plotly and duckdb loaded the server tracks about 450,000
    objects, and each of those collections took 0.2-0.3 s: the end of a script run reached the
    browser that much later, and five sessions finishing together queued five of them one after
    the other (issue 17, measured with ``bench/bench_sessions.py``). What is alive after the
    imports and the warm-up is modules, classes, functions, compiled kernels and the shared
    first-open results, all kept for the life of the process, so the collector has nothing to find
    among them (:func:`gc.freeze`, CPython's own advice for long-lived servers). Objects made later,
    by sessions and runs, are collected as before, and reference counting frees frozen objects
    as usual; only cycles among objects alive now would wait for the end of the process.
    """
    gc.collect()
    gc.freeze()
    # the interpreter's last collection must see every object (extension types report leaks
    # otherwise): one exit hook, however often this runs
    atexit.unregister(gc.unfreeze)
    atexit.register(gc.unfreeze)
    return gc.get_freeze_count()


STEPS: list[tuple[str, Callable[[], None]]] = [
    ("imports", _imports), ("kernels", _kernels), ("page_imports", _page_imports), ("freeze", freeze_heap),
    ("calibration", _calibration), ("scenario_lab", _scenario_lab), ("var_lab", _var_lab),
    ("stability_review", _stability_review), ("live_monitor", _live_monitor), ("agent_inspector", _agent_inspector),
    ("freeze_again", freeze_heap),
]


def warm_up() -> dict[str, float]:
    """Run every step now (in this thread); returns the seconds each took."""
    for i, (name, step) in enumerate(STEPS):
        if i:  # the imports go first whatever happens: a page needs them too
            _wait_quiet()
        t0 = time.perf_counter()
        try:
            step()
        except Exception:  # noqa: BLE001 - warm-up is an optimisation: never break the app
            _LOG.warning("warm-up step %s failed", name, exc_info=True)
            continue
        TIMINGS[name] = time.perf_counter() - t0
        _LOG.info("warm-up %s: %.2f s", name, TIMINGS[name])
    DONE.set()
    # one line in the server log (bench/bench_app.py waits for it)
    print("riskcore warm-up done: " + ", ".join(f"{k} {v:.1f} s" for k, v in TIMINGS.items()), file=sys.stderr,
          flush=True)
    return dict(TIMINGS)


def start() -> threading.Thread | None:
    """Start :func:`warm_up` in a daemon thread, once per process; None when off or already started."""
    global _started  # noqa: PLW0603 - once per process by design
    with _lock:
        if _started or not enabled():
            return None
        _started = True
    thread = threading.Thread(target=warm_up, name="riskcore-warmup", daemon=True)
    thread.start()
    return thread
