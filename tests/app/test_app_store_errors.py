"""Every page over a damaged, foreign or held store file: an st.error saying what to do, no traceback.

Issue 17, item 8: with a truncated or damaged file the Scenario Lab and Calibration showed
tracebacks; with the file held by another process the Scenario Lab showed a
StoreBusyError traceback after 30 s and Home waited over 100 s.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskcore.store import Store

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.stem for p in (ROOT / "pages").glob("*.py"))


def _run_page(page: str, timeout: float = 120):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=timeout)
    at.session_state["sl-n-paths"] = 2_000  # keep the Scenario Lab's first-visit run small
    at.run()
    if page != "home":
        at.switch_page(str(ROOT / "pages" / f"{page}.py"))
        at.run()
    return at


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad_stores")
    good = d / "good.duckdb"
    store = Store(good)
    frame = pd.DataFrame({"price": np.linspace(1, 2, 400)}, index=pd.date_range("2020-01-01", periods=400))
    for i in range(3):
        store.save_dataset(f"d{i}", frame)
        store.save_run("peg_simulation", None, i, {"i": i}, name=f"r{i}", arrays={"x": np.arange(4000.0)})
    store.close()
    data = good.read_bytes()
    out = {"truncated": d / "truncated.duckdb", "damaged": d / "damaged.duckdb", "sqlite": d / "sqlite.duckdb"}
    out["truncated"].write_bytes(data[: len(data) // 3])
    damaged = bytearray(data)
    damaged[12_288:] = np.random.default_rng(7).integers(0, 256, len(data) - 12_288, dtype=np.uint8).tobytes()
    out["damaged"].write_bytes(bytes(damaged))
    con = sqlite3.connect(out["sqlite"])
    con.execute("CREATE TABLE runs (x)")
    con.commit()
    con.close()
    return out


@pytest.mark.parametrize("kind", ["truncated", "damaged", "sqlite"])
@pytest.mark.parametrize("page", PAGES)
def test_bad_store_file_shows_an_error_on_every_page(page, kind, bad_files, tmp_path, monkeypatch):
    path = tmp_path / "riskcore.duckdb"
    shutil.copy(bad_files[kind], path)
    monkeypatch.setenv("RISKCORE_DB", str(path))
    t0 = time.monotonic()
    at = _run_page(page)
    elapsed = time.monotonic() - t0
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("store file cannot be used" in e and "RISKCORE_DB" in e for e in errors), errors
    assert elapsed < 60  # seconds, not a retry for the whole timeout
    assert path.read_bytes() == bad_files[kind].read_bytes()  # nothing written over the user's file


HOLDER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("held", flush=True)
    time.sleep(600)
""")


@pytest.fixture(scope="module")
def held_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("held") / "riskcore.duckdb"
    Store(path).close()
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield path, proc.pid
    proc.kill()
    proc.wait()


@pytest.mark.parametrize("page", PAGES)
def test_store_held_by_another_process_shows_an_error_within_seconds(page, held_file, monkeypatch):
    path, pid = held_file
    monkeypatch.setenv("RISKCORE_DB", str(path))
    t0 = time.monotonic()
    at = _run_page(page)
    elapsed = time.monotonic() - t0
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("in use by another program" in e and f"process {pid}" in e for e in errors), errors
    # the app waits STORE_TIMEOUT_S (3 s) once, then later calls fail fast; page work on a loaded machine on top
    assert elapsed < 40, elapsed
