"""The process-wide single-flight cache of identical runs (issue 17: five sessions, one computation)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from app import cached
from app.cached import SingleFlight
from riskcore.peg.scenarios import PRESETS
from riskcore.progress import RunCancelled


def _gate_make(calls: list, gate: threading.Event, value=None):
    """A computation that counts its calls and holds until ``gate`` is set (followers arrive meanwhile)."""
    def make():
        calls.append(1)
        assert gate.wait(10)
        return np.arange(5.0) if value is None else value
    return make


def _in_threads(n: int, fn) -> tuple[list, list]:
    out, errors = [None] * n, []

    def run(i):
        try:
            out[i] = fn()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    return threads, out, errors


def _wait_followers(cache: SingleFlight, n: int) -> None:
    """Until ``n`` callers wait on the leader's computation (polls the cache's state, bounded)."""
    tick = threading.Event()
    for _ in range(2000):
        if cache.waiting >= n:
            return
        tick.wait(0.005)
    raise AssertionError(f"only {cache.waiting} of {n} followers arrived")


def test_two_threads_asking_the_same_run_compute_once_and_share_the_arrays():
    cache, calls, gate = SingleFlight(), [], threading.Event()
    threads, out, errors = _in_threads(4, lambda: cache.get(("k", 1), _gate_make(calls, gate)))
    _wait_followers(cache, 3)
    gate.set()
    for t in threads:
        t.join(10)
    assert not errors
    assert len(calls) == 1 and cache.computed == 1
    assert all(o is out[0] for o in out)
    np.testing.assert_array_equal(out[0], np.arange(5.0))
    assert cache.get(("k", 1), lambda: pytest.fail("recomputed")) is out[0]   # served from the LRU


def test_different_keys_compute_separately():
    cache, calls = SingleFlight(), []
    a = cache.get(("a",), lambda: calls.append("a") or np.zeros(3))
    b = cache.get(("b",), lambda: calls.append("b") or np.ones(3))
    assert calls == ["a", "b"] and not np.array_equal(a, b)


def test_an_exception_of_the_leader_reaches_the_followers_and_is_not_cached():
    cache, gate, calls = SingleFlight(), threading.Event(), []

    def boom():
        calls.append(1)
        assert gate.wait(10)
        raise ValueError("bad run")

    threads, out, errors = _in_threads(3, lambda: cache.get("k", boom))
    _wait_followers(cache, 2)
    gate.set()
    for t in threads:
        t.join(10)
    assert len(calls) == 1                                # followers did not compute again …
    assert len(errors) == 3 and all(isinstance(e, ValueError) for e in errors)   # … they got the leader's error
    assert "k" not in cache and cache.get("k", lambda: 7) == 7                   # nothing was stored


def test_a_cancelled_leader_hands_over_to_a_follower():
    cache, started, release = SingleFlight(), threading.Event(), threading.Event()
    calls = []

    def make(report):
        calls.append(1)
        if len(calls) == 1:           # the first leader: its user cancels
            started.set()
            assert release.wait(10)
            report(0.5)
        return "result"

    cancel = threading.Event()

    def leader_progress(f):
        if cancel.is_set():
            raise RunCancelled("cancelled")

    leader = threading.Thread(target=lambda: pytest.raises(RunCancelled, cache.get, "k", make,
                                                           progress=leader_progress))
    leader.start()
    assert started.wait(10)
    threads, out, errors = _in_threads(1, lambda: cache.get("k", make, progress=lambda f: None, poll_s=0.01))
    _wait_followers(cache, 1)
    cancel.set()
    release.set()
    leader.join(10)
    threads[0].join(10)
    assert not errors and out == ["result"] and len(calls) == 2


def test_the_lru_bound_holds_in_entries_and_bytes():
    cache = SingleFlight(max_entries=3, max_bytes=10 * 8 * 100)
    for i in range(5):
        cache.get(i, lambda: np.zeros(100))              # 800 bytes each
    assert len(cache) == 3 and 0 not in cache and 1 not in cache and 4 in cache
    cache.get("big", lambda: np.zeros(400))              # 3,200 bytes: fits, others make room by bytes
    assert cache.bytes <= cache.max_bytes
    huge = cache.get("huge", lambda: np.zeros(2000))      # over the byte bound: returned, never kept
    assert huge.shape == (2000,) and "huge" not in cache and cache.bytes <= cache.max_bytes


def test_simulation_is_shared_by_content_and_read_only():
    cached.clear()
    before = cached.SIMULATIONS.computed
    kw = {"n_steps": 20, "dt": 1 / 365, "seed": 3, "backend": "numpy", "initial_price": 1.0, "keep_paths": 2}
    a = cached.simulation(None, 500, scenario=PRESETS["crash"], **kw)
    # an equal scenario built anew (another object) is the same run
    b = cached.simulation(None, 500, scenario=PRESETS["crash"].replace(), **kw)
    assert b is a and cached.SIMULATIONS.computed == before + 1
    assert not a.terminal.flags.writeable
    c = cached.simulation(None, 500, scenario=PRESETS["crash"], **{**kw, "seed": 4})
    assert c is not a and cached.SIMULATIONS.computed == before + 2
    assert not np.array_equal(a.terminal, c.terminal)
    cached.clear()


def test_warm_up_fills_the_scenario_labs_first_visit_run(app_test):
    """The warm-up's run has the key of the page's first-visit run: a first visitor is served from the cache."""
    from app import warmup

    cached.clear()
    warmup._scenario_lab()
    assert cached.SIMULATIONS.computed >= 1
    computed = cached.SIMULATIONS.computed
    at = app_test("scenario_lab", timeout=120)
    assert not at.exception, at.exception
    assert any("100,000 paths × 365 steps" in c.value and "seed 0," in c.value for c in at.caption)
    assert cached.SIMULATIONS.computed == computed          # the page did not compute it again
    cached.clear()


def test_a_figure_is_built_once_per_result_and_arguments():
    """Sessions shown the same shared run share its figures (issue 17: no rebuild per session and rerun)."""
    import gc

    from riskcore.plots.peg import fan_chart, terminal_histogram

    cached.clear()
    calls = []

    def counted(result, **kw):
        calls.append(kw)
        return fan_chart(result, **kw)

    kw = {"n_steps": 20, "dt": 1 / 365, "seed": 5, "backend": "numpy", "initial_price": 1.0,
          "scenario": PRESETS["baseline"], "keep_paths": 4}
    r = cached.simulation(None, 300, **kw)
    first = cached.figure(r, counted, max_paths=4)
    assert cached.figure(r, counted, max_paths=4) is first and calls == [{"max_paths": 4}]
    assert cached.figure(r, counted, max_paths=2) is not first and len(calls) == 2   # other arguments
    assert cached.figure(r, terminal_histogram) is not first                          # another builder
    again = cached.simulation(None, 300, **kw)
    assert again is r and cached.figure(again, counted, max_paths=4) is first          # the shared run
    # a copy (a saved run gets its own run_id) is another object: its own figure
    import dataclasses
    copy = dataclasses.replace(r, run_id="x")
    assert cached.figure(copy, counted, max_paths=4) is not first and len(calls) == 3
    # the figures go with their result
    n = len(cached._FIGURES)
    del copy
    gc.collect()
    assert len(cached._FIGURES) == n - 1
    cached.clear()
    assert len(cached._FIGURES) == 0
