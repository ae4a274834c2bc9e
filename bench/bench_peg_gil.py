"""A 100,000-path run while other Python threads hold the GIL (issue 17). Run: ``python bench/bench_peg_gil.py``.

In the server, the engine of a shared Scenario Lab run shares the interpreter with the other
sessions' script threads. ``bench/bench_sessions.py`` showed its engine time ("Engine time" on
the page) going from 0.4-0.6 s alone to 0.75-2.0 s with five sessions, with the browsers kept
off the CPU. This bench reproduces that without a server or a browser: the same run alone and
next to 1 and 2 threads running pure Python (a counting loop, which only lets go of the GIL at
the interpreter's switch interval), with the time of each engine phase:

* ``kernel`` — the ``nogil`` Numba kernel, one call per thread of a pool (``_run_numba``);
* ``quantiles`` — the per-step quantile bands (``_step_quantiles``: one compiled ``nogil`` call
  per thread);
* ``statistics`` — the peg statistics (``peg_statistics``: one compiled ``nogil`` call).

A phase that returns to Python often waits for the GIL each time: a holder keeps it up to
the switch interval (5 ms by default). Before these phases were compiled into few calls,
the statistics (a few dozen NumPy calls) took 45x their time alone next to one busy
thread, the quantile bands (NumPy partitions in groups of 16 steps) 3.2x and the kernel
(16 chunks) 1.6x: 3.2x for the run. Now each phase waits for the GIL a handful of times,
and what is left is the CPU the busy threads take from the kernel's threads on a small
machine. The ratio against the run alone, measured in this same run, is what a phase
loses to a busy interpreter. The last rows repeat the one-thread case at a 1 ms and a
0.2 ms switch interval.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time

import riskcore.peg.montecarlo as mc
from riskcore.params import ModelParameters

PHASES = {"_run_numba": "kernel", "_step_quantiles": "quantiles", "peg_statistics": "statistics"}
_times: dict[str, float] = {}


def _timed(name: str):
    inner = getattr(mc, name)

    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            _times[PHASES[name]] = _times.get(PHASES[name], 0.0) + time.perf_counter() - t0
    return wrapper


def _spin(stop: threading.Event) -> None:
    n = 0
    while not stop.is_set():  # pure Python: holds the GIL but for the switch interval
        n += 1


def one_run(spinners: int, seed: int) -> dict[str, float]:
    """Seconds of one 100,000 x 365 run (and of its phases) next to ``spinners`` GIL-holding threads."""
    _times.clear()
    stop = threading.Event()
    threads = [threading.Thread(target=_spin, args=(stop,), daemon=True) for _ in range(spinners)]
    for t in threads:
        t.start()
    try:
        t0 = time.perf_counter()
        mc.simulate(ModelParameters(), 100_000, n_steps=365, dt=1 / 365, seed=seed, keep_paths=20)
        total = time.perf_counter() - t0
    finally:
        stop.set()
        for t in threads:
            t.join()
    return {"total": total, **_times}


def main() -> None:
    for name in PHASES:
        setattr(mc, name, _timed(name))
    one_run(0, 0)  # compile / load the kernels
    seeds = iter(range(1, 1000))
    rows: list[tuple[str, dict[str, float]]] = []
    default = sys.getswitchinterval()
    for label, spinners, interval in (("alone", 0, default), ("1 Python thread", 1, default),
                                      ("2 Python threads", 2, default), ("1 thread, 1 ms switch", 1, 0.001),
                                      ("1 thread, 0.2 ms switch", 1, 0.0002)):
        sys.setswitchinterval(interval)
        runs = [one_run(spinners, next(seeds)) for _ in range(3)]
        rows.append((label, {k: statistics.median(r.get(k, 0.0) for r in runs) for k in ("total", *PHASES.values())}))
    sys.setswitchinterval(default)
    ref = rows[0][1]
    print(f"100,000 paths x 365 steps, numba backend, median of 3 runs each (switch interval {default * 1e3:.0f} ms "
          "unless said)")
    for label, r in rows:
        parts = ", ".join(f"{k} {r[k]:.3f} s ({r[k] / ref[k]:.1f}x)" for k in PHASES.values())
        print(f"{label:26s}: total {r['total']:.3f} s ({r['total'] / ref['total']:.1f}x alone); {parts}")


if __name__ == "__main__":
    main()
