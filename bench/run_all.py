"""Run every ``bench/bench_*.py`` in its own process and print what each measured.

Each benchmark prints its measurements and the ratio against a reference measured in
the same run (this machine is shared and noisy, so only same-run ratios mean much);
``bench_recovery.py`` (recovery time after a crash, issue 13) is one of them.
Results are also written to ``bench/results/<timestamp>.txt``.

Usage: ``make bench`` or ``python bench/run_all.py [name ...]`` (e.g. ``peg var``).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    wanted = set(argv)
    scripts = [p for p in sorted(HERE.glob("bench_*.py")) if not wanted or p.stem.removeprefix("bench_") in wanted]
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    header = f"riskcore bench {stamp} · {platform.processor() or platform.machine()} · {os.cpu_count()} cores\n"
    lines = [header]
    print(header, flush=True)
    status = 0
    for script in scripts:
        print(f"== {script.name}", flush=True)
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=HERE.parent)
        text = proc.stdout + (f"\n[stderr]\n{proc.stderr[-3000:]}" if proc.returncode else "")
        print(text, flush=True)
        lines += [f"== {script.name}\n", text, "\n"]
        status |= proc.returncode
    (out_dir / f"{stamp}.txt").write_text("".join(lines))
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
