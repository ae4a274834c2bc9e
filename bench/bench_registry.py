"""NEW_TRADE_REQUEST latency with a learned team from the registry (issue 13): target p99 <= 2 ms on CPU.

A team (default layers) is saved to a temporary store's registry, loaded back (hash and shape
checks), and put in a :class:`RiskEventProcessor` as its policy source. ``N`` trade requests with
varied fields (direction, quantity, confidence, payoffs, ATR, strategy) go through it, on the
``calm`` preset (positions open, so VaR and correlation are in the state) after 40 market bars
(so the rolling z-score of the learned observation is live). The rule system on the same events
is the reference. Reports wall-clock p50 / p99 / max and the p99 of the thread's CPU time per
event (which leaves out time the process was descheduled), plus registry save and load times.

Run: ``nice -n 10 .venv/bin/python bench/bench_registry.py [n_events]``.
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from riskcore.agents.mappo import Team  # noqa: E402
from riskcore.agents.registry import ModelRegistry  # noqa: E402
from riskcore.portfolio.context import preset  # noqa: E402
from riskcore.portfolio.events import EventType, RiskEventProcessor  # noqa: E402
from riskcore.store import Store  # noqa: E402

TARGET_P99_MS = 2.0


def trades(n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{"symbol": str(rng.choice(["MES", "MNQ"])), "direction": int(rng.choice([1, -1])),
             "base_quantity": int(rng.integers(1, 6)), "entry_price": float(rng.uniform(4800, 5200)),
             "strategy_confidence": float(rng.uniform(0.3, 0.8)), "avg_win": float(rng.uniform(100, 400)),
             "avg_loss": float(rng.uniform(80, 200)), "atr": float(rng.uniform(10, 80)),
             "strategy": int(rng.integers(0, 5))} for _ in range(n)]


def run(proc: RiskEventProcessor, events: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    ctx = proc.context
    last = {s: float(ctx.price_history[s].iloc[-1]) for s in ctx.price_history.columns}
    rng = np.random.default_rng(1)
    for _ in range(40):  # warm the rolling z-score and the caches
        for s in last:
            last[s] *= 1 + rng.normal(0, 0.004)
        proc.process_risk_event(EventType.MARKET_DATA_UPDATE.value, {"prices": dict(last)})
    for e in events[:200]:
        proc.process_risk_event(EventType.NEW_TRADE_REQUEST.value, e)
    wall, cpu = np.empty(len(events)), np.empty(len(events))
    gc.collect()
    gc.disable()
    try:
        for i, e in enumerate(events):
            c0 = time.thread_time()
            r = proc.process_risk_event(EventType.NEW_TRADE_REQUEST.value, e)
            cpu[i] = (time.thread_time() - c0) * 1000
            wall[i] = r["processing_time_ms"]
            if r["status"] == "error":
                raise SystemExit(f"unexpected error response: {r}")
    finally:
        gc.enable()
    return wall, cpu


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 5000
    events = trades(n)
    with tempfile.TemporaryDirectory() as d:
        store = Store(Path(d) / "bench.duckdb")
        reg = ModelRegistry(store)
        t0 = time.perf_counter()
        reg.save(Team(), "bench team")
        t1 = time.perf_counter()
        loaded = reg.load("bench team")
        t2 = time.perf_counter()
        print(f"registry: save {1000 * (t1 - t0):.1f} ms, load (hash + shape checks) {1000 * (t2 - t1):.1f} ms")
        rows = {}
        for label, src in (("learned", loaded), ("rules", None)):
            proc = RiskEventProcessor(context=preset("calm"), policy_source=src, seed=0)
            wall, cpu = run(proc, events)
            rows[label] = wall
            print(f"{label:8s} NEW_TRADE_REQUEST n={n}: p50 {np.percentile(wall, 50):.3f} ms · p99 "
                  f"{np.percentile(wall, 99):.3f} ms · max {wall.max():.3f} ms · "
                  f"CPU p99 {np.percentile(cpu, 99):.3f} ms")
        store.close()
    load = os.getloadavg()
    p99 = float(np.percentile(rows["learned"], 99))
    verdict = "OK" if p99 <= TARGET_P99_MS else f"OVER target {TARGET_P99_MS:g} ms (compare the CPU p99 under load)"
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} · learned wall p99 {p99:.3f} ms: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
