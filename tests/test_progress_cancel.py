"""Progress with an ETA and cancellation of long runs (issue 11 item 10): the library side.

A ``ProgressTracker`` whose ``stop`` check turns true raises ``RunCancelled`` from inside the
engine at its next progress point, so the call returns nothing and nothing can be saved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskcore.data import load_sample
from riskcore.peg.calibration import calibrate
from riskcore.peg.montecarlo import simulate
from riskcore.peg.report import stress_report
from riskcore.progress import ProgressTracker, RunCancelled, eta_text, format_seconds
from riskcore.var import backtest


def _stop_after(n: int):
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] > n

    return stop, calls


def test_eta_is_linear_in_the_fraction_done():
    assert eta_text(0.25, 3.0) == "25% · 3.0 s elapsed · about 9.0 s left"
    assert "left" not in eta_text(0.01, 3.0) and "left" not in eta_text(0.5, 0.1)
    assert format_seconds(125) == "2 min 05 s" and format_seconds(3720) == "1 h 02 min"
    seen = []
    t = ProgressTracker(report=lambda f, text: seen.append((f, text)), label="Simulating")
    t(0.5, "half")
    assert seen[0][0] == 0.5 and seen[0][1].startswith("Simulating half · 50%")
    assert t.eta_s() is not None and t.eta_s() >= 0


def test_cancelled_simulation_and_stress_report_raise_and_return_nothing(tmp_store, monkeypatch):
    import riskcore.peg.montecarlo as mc

    # the numba threads' progress is read every PROGRESS_POLL_S while they run: short, so that a
    # 40-million path-step run has many progress points
    monkeypatch.setattr(mc, "PROGRESS_POLL_S", 0.005)
    stop, calls = _stop_after(1)
    with pytest.raises(RunCancelled):
        simulate(None, 400_000, n_steps=100, seed=0, progress=ProgressTracker(stop=stop))
    assert calls["n"] == 2  # stopped at the second progress point, not at the end
    stop, _ = _stop_after(2)
    with pytest.raises(RunCancelled):
        stress_report(n_paths=2_000, n_steps=20, progress=ProgressTracker(stop=stop))
    assert tmp_store.counts()["runs"] == 0


def test_cancelled_calibration_and_backtest_raise():
    stop, calls = _stop_after(1)
    with pytest.raises(RunCancelled):
        calibrate(load_sample("stable_token"), progress=ProgressTracker(stop=stop))
    assert calls["n"] == 2
    r = pd.Series(np.random.default_rng(0).standard_t(4, 400) * 0.01)
    stop, _ = _stop_after(1)
    # RunCancelled is a BaseException: the backtest's per-fit `except Exception` cannot swallow it
    with pytest.raises(RunCancelled):
        backtest(r, methods=["historical", "fhs"], confidences=(0.99,), window=100, refit_every=50,
                 progress=ProgressTracker(stop=stop))


def test_without_stop_the_tracker_changes_nothing():
    a = simulate(None, 2_000, n_steps=30, seed=3)
    b = simulate(None, 2_000, n_steps=30, seed=3, progress=ProgressTracker())
    np.testing.assert_array_equal(a.terminal, b.terminal)


def test_reports_are_spaced_but_every_call_checks_stop():
    seen, checks = [], []
    t = ProgressTracker(report=lambda f, text: seen.append(f), stop=lambda: checks.append(1) and False,
                        min_interval_s=60.0)
    for i in range(1, 11):
        t(i / 10)
    assert seen == [0.1, 1.0]  # the first call and the one that finishes; none in between
    assert len(checks) == 10 and t.calls == 10 and t.reports == 2 and t.fraction == 1.0
    every = ProgressTracker(report=lambda f, text: seen.append(f))
    for i in range(1, 11):
        every(i / 10)
    assert every.reports == 10  # the default reports every call (notebooks, tests)
