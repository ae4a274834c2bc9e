"""Event latency under a fuzzed burst (issue 17 item 11): p50 / p99 / max per event type.

10,000 fuzzed events (trades on held and unknown symbols, one- and multi-symbol market bars
with liquidity fields, bad ticks, positions opened and closed, account updates, emergency
signals) go through the processor; ``processing_time_ms`` is collected per event type.
Target: every type's p99 <= 2 ms. Reference, measured in the same run on the same events:
``RiskEventProcessor(incremental=False)``, which recomputes the risk state from the history
DataFrame on each state-changing event (the code before the fix; same numbers, checked in
tests/portfolio/test_portfolio_events_fast_path.py). The reference runs on the first
``N_REF`` events only (it is slow); its percentiles are per type over those.

Each line also gives the p99 of the thread's CPU time per event, which leaves out the
time the process was descheduled (on a loaded machine most of the wall-clock tail).

Run: ``nice -n 10 .venv/bin/python bench/bench_events.py [n_events]``.
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from riskcore.portfolio.context import preset  # noqa: E402
from riskcore.portfolio.events import EventType, RiskEventProcessor  # noqa: E402

N_REF = 3000
SYMS = ["MES", "MNQ", "MGC", "M2K", "MCL", "ZN", "6E", "CL"]


def fuzz(seed: int, n: int, last: dict[str, float]) -> list[tuple[str, dict]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        k = rng.random()
        if k < 0.4:
            picks = rng.choice(SYMS, size=int(rng.integers(1, 4)), replace=False)
            bar = {}
            for s in map(str, picks):
                p = last.get(s, float(rng.uniform(10, 100))) * (1 + rng.normal(0, 0.005))
                if rng.random() < 0.01:
                    bar[s] = p * 100  # bad tick
                else:
                    bar[s] = last[s] = p
            data: dict = {"prices": bar}
            if rng.random() < 0.5:
                data.update(volume=float(rng.uniform(0, 2000)), spread=float(rng.uniform(0, 1)),
                            market_depth=float(rng.uniform(1e3, 1e6)))
            if rng.random() < 0.3:
                data.update(volatility_percentile=float(rng.uniform(0, 1)), market_stress_level=float(rng.random()))
            out.append((EventType.MARKET_DATA_UPDATE.value, data))
        elif k < 0.55:
            s = str(rng.choice(SYMS))
            out.append((EventType.POSITION_UPDATE.value, {
                "position_id": f"p{rng.integers(6)}", "symbol": s, "quantity": float(rng.choice([0, 1, -1, 2])),
                "current_price": last.get(s, 50.0), "entry_price": last.get(s, 50.0)}))
        elif k < 0.7:
            out.append((EventType.ACCOUNT_UPDATE.value, {"margin_usage_pct": float(rng.uniform(0, 70)),
                                                        "current_drawdown_pct": float(rng.uniform(0, 4))}))
        elif k < 0.71:
            out.append((EventType.EMERGENCY_SIGNAL.value, {"emergency_type": "MARKET_CRASH"}))
        else:
            s = str(rng.choice(SYMS))
            out.append((EventType.NEW_TRADE_REQUEST.value, {
                "symbol": s, "direction": int(rng.choice([-1, 1])), "base_quantity": int(rng.integers(1, 6)),
                "entry_price": last.get(s, 50.0), "strategy_confidence": float(rng.uniform(0.3, 0.9))}))
    return out


def run(events: list[tuple[str, dict]], incremental: bool) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``processing_time_ms`` and this thread's CPU time per event (ms), by event type.

    The CPU time leaves out the time the process was not scheduled: on a loaded machine the
    wall-clock tail is mostly other processes' time slices.
    """
    proc = RiskEventProcessor(incremental=incremental)
    by: dict[str, list[float]] = {}
    gc.collect()
    cpu: dict[str, list[float]] = {}
    for etype, data in events:
        c0 = time.thread_time_ns()
        r = proc.process_risk_event(etype, data)
        cpu.setdefault(etype, []).append((time.thread_time_ns() - c0) / 1e6)
        if etype == EventType.EMERGENCY_SIGNAL:
            proc.clear_emergency()
        by.setdefault(etype, []).append(r["processing_time_ms"])
    return {k: np.asarray(v) for k, v in by.items()}, {k: np.asarray(v) for k, v in cpu.items()}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    ctx = preset("calm")
    start = {s: float(ctx.price_history[s].iloc[-1]) for s in ctx.price_history.columns}
    events = fuzz(0, n, dict(start))
    run(events[:300], True)  # warm-up (imports, caches)
    t0 = time.perf_counter()
    ours, ours_cpu = run(events, True)
    wall = time.perf_counter() - t0
    ref, ref_cpu = run(events[:N_REF], False)
    allv = np.concatenate(list(ours.values()))
    print(f"{n} fuzzed events in {wall:.2f} s; all types p50 {np.percentile(allv, 50):.3f} ms, "
          f"p99 {np.percentile(allv, 99):.3f} ms, max {allv.max():.1f} ms")
    print(f"{'event type':<22s} {'n':>6s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s} | "
          f"{'ref p50':>8s} {'ref p99':>8s} {'p99 ratio':>9s} {'p50 ratio':>9s} | {'cpu p99':>8s} {'ref cpu p99':>11s}")
    for etype in EventType:
        t, r = ours.get(etype.value), ref.get(etype.value)
        if t is None:
            continue
        p99 = np.percentile(t, 99)
        rp50, rp99 = (np.percentile(r, 50), np.percentile(r, 99)) if r is not None else (np.nan, np.nan)
        verdict = "OK" if p99 <= 2.0 else "OVER target 2 ms"
        print(f"{etype.value:<22s} {t.size:6d} {np.percentile(t, 50):8.3f} {p99:8.3f} {t.max():8.2f} | "
              f"{rp50:8.3f} {rp99:8.3f} {rp99 / p99:8.1f}x {rp50 / np.percentile(t, 50):8.1f}x | "
              f"{np.percentile(ours_cpu[etype.value], 99):8.3f} "
              f"{np.percentile(ref_cpu[etype.value], 99) if r is not None else np.nan:11.3f}  {verdict}")


if __name__ == "__main__":
    main()
