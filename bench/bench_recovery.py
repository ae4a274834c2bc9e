"""Benchmark of emergency recovery (issue 13; PRD §5.2: "emergency recovery completes within 30 s").

Run: ``python bench/bench_recovery.py [--runs 5] [--events 400]``.

Setup: a store holding a day of scheduled snapshots (24, the PRD's retention) and one emergency
backup of a runtime that has processed ``--events`` events (full price windows, open alerts).
Measured: the time from starting a new Python process to its first processed event after
``restore("latest")``: interpreter start, imports, opening the store, reading and rebuilding the
snapshot, one MARKET_DATA_UPDATE. Reference in the same run: a process that starts, imports the
same modules and processes one event on a fresh processor (no store, no restore); the ratio is
recovery / fresh start. Target ≤ 2 s, PRD limit ≤ 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from riskcore.monitor.portfolio import PortfolioMonitor  # noqa: E402
from riskcore.portfolio.events import RiskEventProcessor  # noqa: E402
from riskcore.recovery import RiskRuntime, SnapshotScheduler, emergency_backup, list_snapshots  # noqa: E402
from riskcore.store import Store  # noqa: E402

CHILD = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, sys.argv[1])
    t_start = time.time()
    from riskcore.recovery import restore
    from riskcore.store import Store
    from riskcore.portfolio.events import RiskEventProcessor
    t_import = time.time()
    if sys.argv[2] == "restore":
        res = restore(Store(sys.argv[3]), "latest")
        proc = res.runtime.processor
        n_alerts = len(res.runtime.active_alerts())
    else:
        proc, n_alerts = RiskEventProcessor(n_simulations=1000), 0
    t_restore = time.time()
    r = proc.process_risk_event("MARKET_DATA_UPDATE", {"prices": {"MES": 5001.0}})
    t_event = time.time()
    print(json.dumps({"start": t_start, "import": t_import, "restore": t_restore, "event": t_event,
                      "status": r["status"], "alerts": n_alerts}))
""")


def _prepare(db: Path, n_events: int) -> tuple[int, int]:
    store = Store(db)
    rt = RiskRuntime(RiskEventProcessor(n_simulations=1000), PortfolioMonitor(n_simulations=500))
    rng = np.random.default_rng(0)
    mes = 5000.0
    for i in range(n_events):
        if i % 50 == 10:
            rt.process("ACCOUNT_UPDATE", {"margin_usage_pct": 91.0 if i % 100 == 10 else 45.0})
        mes *= 1.0 + 0.004 * rng.standard_normal()
        rt.process("MARKET_DATA_UPDATE", {"prices": {"MES": round(mes, 2)}, "volume": 1000.0, "spread": 0.25})
    rt.process("ACCOUNT_UPDATE", {"margin_usage_pct": 91.0})
    clock = [time.time() - 25 * 3600]
    sched = SnapshotScheduler(store, rt, clock=lambda: clock[0])
    for _ in range(26):
        clock[0] += 3600
        sched.tick()
    info = emergency_backup(store, rt, "bench: before the crash")
    store.close()
    return len(list_snapshots(store)), info.n_bytes


def _run(mode: str, db: Path) -> dict[str, float]:
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), mode, str(db)], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    d = json.loads(out.stdout.strip().splitlines()[-1])
    assert d["status"] == "state_updated", d
    return {"total": d["event"] - t0, "start": d["start"] - t0, "import": d["import"] - d["start"],
            "restore": d["restore"] - d["import"], "event": d["event"] - d["restore"], "alerts": d["alerts"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--events", type=int, default=400)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "recovery.duckdb"
        n_snap, n_bytes = _prepare(db, args.events)
        rec = [_run("restore", db) for _ in range(args.runs)]
        ref = [_run("fresh", db) for _ in range(args.runs)]
    med = {k: statistics.median(r[k] for r in rec) for k in ("total", "start", "import", "restore", "event")}
    ref_total = statistics.median(r["total"] for r in ref)
    worst = max(r["total"] for r in rec)
    print(f"store: {n_snap} snapshots, the restored one {n_bytes / 1024:.0f} KiB; {rec[0]['alerts']} open alert(s) "
          f"restored; {args.runs} runs each")
    print(f"recovery, process start → first processed event after restore: median {med['total']:.2f} s, "
          f"worst {worst:.2f} s (PRD ≤ 30 s, target ≤ 2 s)")
    print(f"  of which interpreter start {med['start']:.2f} s, imports {med['import']:.2f} s, "
          f"restore {med['restore'] * 1e3:.0f} ms, first event {med['event'] * 1e3:.1f} ms")
    print(f"reference, fresh start without restore: median {ref_total:.2f} s; ratio recovery / fresh "
          f"{med['total'] / ref_total:.2f}")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (shared machine)")
    return 0 if worst <= 30.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
