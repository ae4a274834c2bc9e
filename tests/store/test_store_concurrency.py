"""The store shared by many threads of one process and by a second process (issue 17, item 1).

Streamlit runs each browser session on its own thread; a notebook is another process.
Before, a connection per call made threads collide on DuckDB's file handle
("Unique file handle conflict", ``ResourceInUseException``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pandas as pd

from riskcore.params import ModelParameters
from riskcore.store import Store
from riskcore.store.engine import database_for

THREADS = 8
SECONDS = float(os.environ.get("RISKCORE_STORE_STRESS_S", "3"))  # the bench runs 10 s

OTHER_PROCESS = textwrap.dedent("""
    import sys, time
    from riskcore.store import Store
    store = Store(sys.argv[1], timeout=60)
    end = time.monotonic() + float(sys.argv[2])
    i = 0
    while time.monotonic() < end:
        store.save_run("other-process", None, i, {"i": i}, name=f"proc-{i}")
        i += 1
        time.sleep(0.01)
    print(i, flush=True)
""")


def _worker(store: Store, t: int, seconds: float, written: dict, errors: list) -> None:
    rng = np.random.default_rng(t)
    frame = pd.DataFrame({"price": np.linspace(1.0, 1.1, 30)}, index=pd.date_range("2024-01-01", periods=30))
    mine: list[str] = []
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        try:
            op = i % 8
            if op == 0:
                mine.append(store.save_run("stress", None, i, {"t": t, "i": i}, name=f"t{t}-{i}",
                                           arrays={"x": rng.normal(size=200)}))
            elif op == 1:
                mine.append(store.save_dataset(f"t{t}-{i}", frame))
            elif op == 2:
                store.save_param_set("shared", ModelParameters(alpha=1.0 + t))  # same key: write-write conflicts
            elif op == 3:
                store.set_setting("shared", {"t": t, "i": i})
            elif op == 4:
                store.list_runs("stress", limit=20)
            elif op == 5 and mine:
                store.load_run(mine[0])
            elif op == 6:
                store.counts()
            else:
                store.log_decisions([("STRESS", {"t": t, "i": i}, "ok", 0.1)])
        except Exception as exc:  # every failure is a finding: collect, do not stop
            errors.append(f"thread {t} op {i % 8}: {type(exc).__name__}: {exc}")
        i += 1
    written[t] = mine


def test_eight_threads_and_a_second_process_lose_nothing(tmp_store):
    other = subprocess.Popen([sys.executable, "-c", OTHER_PROCESS, str(tmp_store.path), str(SECONDS)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    written: dict[int, list[str]] = {}
    errors: list[str] = []
    threads = [threading.Thread(target=_worker, args=(tmp_store, t, SECONDS, written, errors))
               for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    out, err = other.communicate(timeout=120)
    assert other.returncode == 0, err[-2000:]
    assert errors == [], errors[:5]

    expected = {x for ids in written.values() for x in ids}
    runs = set(tmp_store.list_runs("stress").run_id)
    datasets = set(tmp_store.list_datasets().dataset_id)
    assert expected and expected <= runs | datasets, f"{len(expected - runs - datasets)} rows lost"
    n_other = int(out.strip())
    assert n_other > 0  # the other process got its turns while eight threads were busy
    assert len(tmp_store.list_runs("other-process")) == n_other


def test_threads_share_one_instance_of_the_file(tmp_store):
    db = database_for(tmp_store.path)
    tmp_store.close()
    opens = db.opens
    barrier = threading.Barrier(4)

    def work() -> None:
        barrier.wait()
        for _ in range(25):
            tmp_store.counts()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert db.opens - opens <= 2  # 100 calls, one open (two if a pause outlasted the linger)
    assert Store(tmp_store.path)._db is db  # every Store on the file shares it


def test_file_is_released_when_idle_for_another_process(tmp_store):
    tmp_store.save_run("k", None, None, {})
    db = database_for(tmp_store.path)
    deadline = time.monotonic() + 10
    while db.is_open and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not db.is_open
    # a plain duckdb connection in another process (no retries) can open it now
    code = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('SELECT count(*) FROM runs').fetchone()"
    subprocess.run([sys.executable, "-c", code, str(tmp_store.path)], check=True, timeout=60)


def _child_writes(path: str) -> None:
    Store(path, timeout=30).save_run("from-child", None, None, {})


def test_a_forked_child_opens_its_own_instance(tmp_store):
    import multiprocessing

    tmp_store.save_run("from-parent", None, None, {})
    assert database_for(tmp_store.path).is_open  # the parent still holds the file (linger)
    child = multiprocessing.get_context("fork").Process(target=_child_writes, args=(str(tmp_store.path),))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert {"from-parent", "from-child"} <= set(tmp_store.list_runs().kind)
