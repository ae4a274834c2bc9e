"""Damaged, foreign, held and read-only store files (issue 17, items 5 and 8)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from riskcore.errors import InputError
from riskcore.store import Store, StoreBusyError, StoreCorruptError, StoreReadOnlyError


def _filled(path) -> Store:
    store = Store(path)
    frame = pd.DataFrame({"price": np.linspace(1, 2, 500)}, index=pd.date_range("2020-01-01", periods=500))
    for i in range(3):
        store.save_dataset(f"d{i}", frame)
        store.save_run("k", None, i, {"i": i}, name=f"r{i}", arrays={"x": np.arange(5000.0)})
    store.close()
    return store


def test_truncated_file_under_a_path_containing_lock_is_corrupt_at_once(tmp_path):
    # "blockchain_desk" contains "lock": the old store retried this for its whole timeout
    # and then said the file "stayed locked".
    path = tmp_path / "blockchain_desk" / "s.duckdb"
    path.parent.mkdir()
    _filled(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    t0 = time.monotonic()
    with pytest.raises(StoreCorruptError, match="truncated") as info:
        Store(path, timeout=20).list_runs()
    assert time.monotonic() - t0 < 5
    assert isinstance(info.value, InputError) and "locked" not in str(info.value)


def test_checksum_damage_is_reported_as_corrupt(tmp_path):
    path = tmp_path / "s.duckdb"
    _filled(path)
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    data[12_288:] = rng.integers(0, 256, len(data) - 12_288, dtype=np.uint8).tobytes()  # keep the headers
    path.write_bytes(bytes(data))
    t0 = time.monotonic()
    with pytest.raises(StoreCorruptError, match="RISKCORE_DB"):
        Store(path, timeout=20).list_datasets()
    assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("content", ["sqlite", "text", "random"])
def test_a_file_that_is_not_duckdb_is_an_input_error_at_once(tmp_path, content):
    path = tmp_path / "not.duckdb"
    if content == "sqlite":
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE a (x)")
        con.commit()
        con.close()
    elif content == "text":
        path.write_text("date,price\n2024-01-01,1.0\n" * 100)
    else:
        path.write_bytes(np.random.default_rng(1).integers(0, 256, 10_000, dtype=np.uint8).tobytes())
    t0 = time.monotonic()
    with pytest.raises(InputError, match="not a DuckDB database file") as info:
        Store(path, timeout=20)
    assert time.monotonic() - t0 < 2
    assert ("SQLite" in str(info.value)) == (content == "sqlite")


def test_extension_autoinstall_and_autoload_are_off(tmp_store):
    got = tmp_store._read(lambda con: con.execute(
        "SELECT current_setting('autoinstall_known_extensions'), current_setting('autoload_known_extensions')"
    ).fetchone())
    assert got == (False, False)


HOLDER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=sys.argv[3] == "ro")
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
""")


def _hold(path, seconds: float, mode: str = "rw") -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(seconds), mode], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_busy_error_names_the_holder_and_later_calls_fail_fast(tmp_store):
    tmp_store.close()
    holder = _hold(tmp_store.path, 60)
    try:
        impatient = Store.__new__(Store)
        impatient.path, impatient.timeout = tmp_store.path, 1.0
        with pytest.raises(StoreBusyError) as info:
            impatient.list_runs()
        assert info.value.holder_pid == holder.pid and "in use by another process" in str(info.value)
        t0 = time.monotonic()
        for _ in range(5):  # a page making five calls reports it within a second, not after 5 timeouts
            with pytest.raises(StoreBusyError):
                impatient.counts()
        assert time.monotonic() - t0 < 4
    finally:
        holder.kill()
        holder.wait()


def test_read_only_store_reads_without_writing(tmp_path):
    path = tmp_path / "s.duckdb"
    _filled(path)
    before = path.read_bytes()
    ro = Store(path, read_only=True)
    assert len(ro.list_runs()) == 3 and len(ro.load_dataset("d1").frame) == 500
    with pytest.raises(StoreReadOnlyError, match="read-only"):
        ro.save_run("k", None, None, {})
    ro.close()
    assert path.read_bytes() == before
    # two processes may read at once: another process holds it read-only while we read
    holder = _hold(path, 60, "ro")
    try:
        assert Store(path, read_only=True).counts()["runs"] == 3
    finally:
        holder.kill()
        holder.wait()


def test_read_only_needs_an_existing_riskcore_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        Store(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()


def test_unwritable_file_opens_read_only_by_default(tmp_path, monkeypatch):
    path = tmp_path / "s.duckdb"
    _filled(path)
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK else real(p, mode))
    store = Store(path)
    assert store.read_only and len(store.list_runs()) == 3
