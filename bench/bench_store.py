"""Benchmark of the store under threads (issue 17, item 1). Run: ``python bench/bench_store.py [--seconds 10]``.

For 1, 4 and 8 threads of one process, each doing a mix of reads and writes (save_run
with an array, save_dataset, upserts of one parameter set and one setting, list_runs,
load_run, counts, log_decisions) for ``--seconds``, prints store calls per second, the
number of calls that raised, and rows lost (ids returned by a save but absent after). The
8-thread run of the current store also has a second process writing runs the whole time
(the notebook case); its rows are counted too.

Reference, measured in the same run: the store as it was before issue 17 (a connection
opened and closed per call), loaded from git (``git show REF:riskcore/store/core.py``);
skipped with a note where git or that revision is not available. Ratio = current / old.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from riskcore.params import ModelParameters  # noqa: E402
from riskcore.store import Store  # noqa: E402

OLD_REF = "8201447"  # last commit before the issue-17 store
OTHER_PROCESS = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, sys.argv[3])
    from riskcore.store import Store
    store = Store(sys.argv[1], timeout=60)
    end = time.monotonic() + float(sys.argv[2])
    i = errors = 0
    while time.monotonic() < end:
        try:
            store.save_run("other-process", None, i, {"i": i}, name=f"proc-{i}")
            i += 1
        except Exception:
            errors += 1
        time.sleep(0.01)
    print(i, errors, flush=True)
""")


def load_old_store() -> type | None:
    try:
        src = subprocess.run(["git", "show", f"{OLD_REF}:riskcore/store/core.py"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(tempfile.mkdtemp()) / "old_store_core.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("old_store_core", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["old_store_core"] = mod  # dataclasses look their module up here
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod.Store


def worker(store, t: int, seconds: float, out: dict) -> None:
    rng = np.random.default_rng(t)
    frame = pd.DataFrame({"price": np.linspace(1.0, 1.1, 30)}, index=pd.date_range("2024-01-01", periods=30))
    ids: list[str] = []
    calls = errors = 0
    kinds: dict[str, int] = {}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        op = calls % 8
        try:
            if op == 0:
                ids.append(store.save_run("stress", None, calls, {"t": t}, name=f"t{t}-{calls}",
                                          arrays={"x": rng.normal(size=200)}))
            elif op == 1:
                ids.append(store.save_dataset(f"t{t}-{calls}", frame))
            elif op == 2:
                store.save_param_set("shared", ModelParameters(alpha=1.0 + t))
            elif op == 3:
                store.set_setting("shared", {"t": t, "i": calls})
            elif op == 4:
                store.list_runs("stress", limit=20)
            elif op == 5 and ids:
                store.load_run(ids[0])
            elif op == 6:
                store.counts()
            else:
                store.log_decisions([("STRESS", {"t": t}, "ok", 0.1)])
        except Exception as exc:
            errors += 1
            kinds[type(exc).__name__] = kinds.get(type(exc).__name__, 0) + 1
        calls += 1
    out[t] = (calls, errors, ids, kinds)


def run(store_cls, n_threads: int, seconds: float, other_process: bool) -> dict:
    db = Path(tempfile.mkdtemp()) / "bench.duckdb"
    store = store_cls(db)
    other = None
    if other_process:
        other = subprocess.Popen([sys.executable, "-c", OTHER_PROCESS, str(db), str(seconds), str(ROOT)],
                                 stdout=subprocess.PIPE, text=True)
    out: dict = {}
    threads = [threading.Thread(target=worker, args=(store, t, seconds, out)) for t in range(n_threads)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    calls = sum(v[0] for v in out.values())
    errors = sum(v[1] for v in out.values())
    kinds: dict[str, int] = {}
    for v in out.values():
        for k, n in v[3].items():
            kinds[k] = kinds.get(k, 0) + n
    ids = {x for v in out.values() for x in v[2]}
    check = Store(db, timeout=120)
    present = set(check.list_runs("stress").run_id) | set(check.list_datasets().dataset_id)
    res = {"calls": calls, "per_s": calls / wall, "errors": errors, "kinds": kinds, "lost": len(ids - present)}
    if other is not None:
        text, _ = other.communicate(timeout=300)
        n_other, other_errors = (int(x) for x in text.split())
        res["other"] = (n_other, other_errors, n_other - len(check.list_runs("other-process")))
    return res


def fmt(res: dict) -> str:
    s = f"{res['per_s']:8.1f} calls/s  {res['calls']:6d} calls  {res['errors']:4d} errors  {res['lost']} lost"
    if res["kinds"]:
        s += f"  {res['kinds']}"
    if "other" in res:
        s += f"  | 2nd process: {res['other'][0]} writes, {res['other'][1]} errors, {res['other'][2]} lost"
    return s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--threads", default="1,4,8")
    args = ap.parse_args()
    old = load_old_store()
    print(f"store under threads: mixed reads/writes, {args.seconds:g} s per configuration")
    configs = [(int(x), False) for x in args.threads.split(",")] + [(int(args.threads.split(",")[-1]), True)]
    base = None
    for n, other in configs:
        label = f"{n} thread(s){' + 2nd process' if other else ''}"
        new = run(Store, n, args.seconds, other_process=other)
        base = base or new["per_s"]
        print(f"{label:28s} current: {fmt(new)}  ({new['per_s'] / base:.2f}x 1 thread)", flush=True)
        if old is not None:
            ref = run(old, n, args.seconds, other_process=other)
            print(f"{label:28s} old    : {fmt(ref)}", flush=True)
            print(f"{label:28s} ratio current/old calls per s: {new['per_s'] / ref['per_s']:.2f}x", flush=True)
    if old is None:
        print(f"(old store not available from git {OLD_REF}; 1 thread is the reference)")


if __name__ == "__main__":
    main()
