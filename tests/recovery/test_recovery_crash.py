"""Crash test (issue 13): SIGKILL in the middle of writing a snapshot, then recover in a new process.

The writer stops inside the third snapshot's transaction (the store's ``$RISKCORE_SNAPSHOT_PAUSE``
hook signals it through a file) and is killed there with SIGKILL. The store must show the two
complete snapshots and nothing of the third; a new process restores the second and carries on with
the same open alerts, answering every later event exactly as a run that never crashed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from _feed import comparable, events, new_runtime

from riskcore.recovery import list_snapshots
from riskcore.store import Store
from riskcore.store.snapshots import PAUSE_AT_ENV, PAUSE_ENV, orphan_array_count

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (PAUSE_ENV, PAUSE_AT_ENV)}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    return {**env, **extra}


def test_sigkill_inside_a_snapshot_write_then_restore_and_carry_on(tmp_path):
    db, out = tmp_path / "crash.duckdb", tmp_path / "out"
    out.mkdir()
    paused = out / "paused"
    child = subprocess.Popen([sys.executable, str(HERE / "_crash_child.py"), "write", str(db), str(out)],
                             env=_env(**{PAUSE_ENV: str(paused), PAUSE_AT_ENV: "3"}), stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not paused.exists():  # the child signals from inside the write transaction
        assert child.poll() is None, f"writer exited early: {child.stderr.read().decode()[-2000:]}"
        assert time.monotonic() < deadline, "writer never reached the third snapshot"
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    half = paused.read_text().split()[1]

    committed = [json.loads((out / f"committed_{k}.json").read_text()) for k in (1, 2)]
    assert not (out / "committed_3.json").exists()
    store = Store(db)
    listed = list_snapshots(store)
    assert sorted(listed.snapshot_id) == sorted(c["snapshot_id"] for c in committed)  # nothing half-written
    assert half not in set(listed.snapshot_id) and orphan_array_count(store) == 0
    assert committed[1]["active_alerts"], "the feed should have an open alert at the second snapshot"
    store.close()

    resumed = subprocess.run([sys.executable, str(HERE / "_crash_child.py"), "resume", str(db), str(out)],
                             env=_env(), capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    got = json.loads((out / "resumed.json").read_text())
    assert got["snapshot_id"] == committed[1]["snapshot_id"] and got["next_event"] == 20
    assert got["restored_alerts"] == committed[1]["active_alerts"]  # same episodes, same ids

    # a run that never crashed answers the events after the snapshot identically
    rt = new_runtime()
    evs = events()
    ref = [comparable(rt.process(e, d, ts=ts)) for e, d, ts in evs]
    assert got["responses"] == ref[20:]
    assert got["final_alerts"] == sorted(rt.active_alerts()) and got["final_seq"] == rt.monitor._seq
