"""The DuckDB store: round trips, atomic writes, bound parameters, multi-process safety."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import duckdb
import numpy as np
import pandas as pd
import pytest

from riskcore.errors import InputError
from riskcore.params import ModelParameters
from riskcore.store import Store, StoreBusyError
from riskcore.store.schema import LATEST_VERSION

NASTY = ["it's", 'say "hi"; DROP TABLE runs; --', "Zürich ☂ 風險", "'); DELETE FROM runs; --", "", "\\N"]


def test_schema_version_and_migrations_applied_once(tmp_store):
    assert tmp_store.schema_version() == LATEST_VERSION
    Store(tmp_store.path)  # reopening must not re-apply
    with duckdb.connect(str(tmp_store.path)) as con:
        assert con.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(
            __import__("riskcore.store.schema", fromlist=["MIGRATIONS"]).MIGRATIONS)


def test_run_round_trip_is_lossless(tmp_store):
    params = ModelParameters(alpha=0.1 + 0.2)
    summary = pd.DataFrame({"value": [0.1 + 0.2, np.nan, -np.inf]}, index=["p_depeg", "es_99", "x"])
    terminal = np.random.default_rng(1).normal(size=1000)
    run_id = tmp_store.save_run("peg_simulation", params, 42, summary, name="baseline",
                                arrays={"terminal": terminal, "mask": terminal > 0},
                                backend="numba", scenario={"name": "crash", "shocks": {10: -0.3}})
    rec = Store(tmp_store.path).load_run(run_id)  # a fresh instance: data survives reopening
    assert rec.kind == "peg_simulation" and rec.name == "baseline" and rec.seed == 42
    assert ModelParameters.from_dict(rec.params) == params and rec.params_hash == params.content_hash()
    pd.testing.assert_frame_equal(rec.summary, summary)
    np.testing.assert_array_equal(rec.arrays["terminal"], terminal)
    assert rec.arrays["mask"].dtype == bool
    assert rec.extra == {"backend": "numba", "scenario": {"name": "crash", "shocks": {"10": -0.3}}}


def test_list_runs_has_name_and_filters_by_kind(tmp_store):
    a = tmp_store.save_run("peg_simulation", None, 1, {"x": 1}, name="a")
    time.sleep(0.002)
    b = tmp_store.save_run("var_backtest", {"window": 252}, None, {"x": 2}, name="b")
    runs = tmp_store.list_runs()
    assert {"run_id", "kind", "name", "created_at"} <= set(runs.columns)
    assert list(runs.run_id) == [b, a]  # newest first
    assert list(tmp_store.list_runs("var_backtest").name) == ["b"]
    assert tmp_store.load_run(b).params == {"window": 252}


@pytest.mark.parametrize("name", NASTY)
def test_names_are_stored_verbatim(tmp_store, name):
    run_id = tmp_store.save_run("k", None, None, {}, name=name)
    assert tmp_store.load_run(run_id).name == name
    tmp_store.save_param_set(name or "blank-name-not-allowed", ModelParameters(), note=name)
    assert tmp_store.counts()["runs"] == 1


def test_unknown_ids_and_bad_input_are_input_errors(tmp_store):
    with pytest.raises(InputError, match="run_id"):
        tmp_store.load_run("nope")
    with pytest.raises(InputError, match="dataset"):
        tmp_store.load_dataset("nope")
    with pytest.raises(InputError, match="seed"):
        tmp_store.save_run("k", None, "seven", {})
    with pytest.raises(InputError, match="object dtype"):
        tmp_store.save_run("k", None, 1, {}, arrays={"bad": np.array([object()], dtype=object)})
    assert tmp_store.counts()["runs"] == 0  # rejected input writes nothing


def test_failure_inside_a_write_leaves_nothing(tmp_store):
    def half_then_fail(con):
        con.execute("INSERT INTO runs (run_id, kind, created_at) VALUES (?, ?, now())", ["r1", "k"])
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        tmp_store._write(half_then_fail)
    assert tmp_store.counts()["runs"] == 0

    # A real partial failure: the dataset header inserts, its rows violate NOT NULL.
    frame = pd.DataFrame({"price": [1.0, np.nan, 1.2]}, index=pd.date_range("2024-01-01", periods=3))
    with pytest.raises(duckdb.Error):
        tmp_store.save_dataset("bad", frame)
    assert tmp_store.list_datasets().empty
    with duckdb.connect(str(tmp_store.path)) as con:
        assert con.execute("SELECT count(*) FROM dataset_rows").fetchone()[0] == 0


def test_dataset_round_trip(tmp_store):
    idx = pd.date_range("2020-01-01", periods=40, freq="D")
    frame = pd.DataFrame({"price": np.linspace(1, 2, 40), "volume": np.arange(40.0)}, index=idx)
    ds = tmp_store.save_dataset("Zürich prices", frame, source_name="z.csv", meta={"warnings": ["gap"]})
    rec = tmp_store.load_dataset(ds)
    assert rec.name == "Zürich prices" and rec.n_rows == 40 and rec.meta == {"warnings": ["gap"]}
    assert rec.start_date == idx[0] and rec.end_date == idx[-1]
    np.testing.assert_array_equal(rec.frame["price"].to_numpy(), frame["price"].to_numpy())
    assert "fiat_flow" not in rec.frame  # all-null optional columns are dropped
    assert tmp_store.load_dataset("Zürich prices").dataset_id == ds
    assert rec.checksum == tmp_store.load_dataset(tmp_store.save_dataset("copy", frame)).checksum


def test_param_sets_decisions_alerts_ticks_settings(tmp_store):
    tmp_store.save_param_set("fitted", ModelParameters(alpha=2.0), note="from calibration")
    tmp_store.save_param_set("fitted", ModelParameters(alpha=3.0))  # overwrite
    assert ModelParameters.from_dict(tmp_store.load_param_set("fitted")).alpha == 3.0
    assert len(tmp_store.list_param_sets()) == 1

    tmp_store.log_decision("NEW_TRADE_REQUEST", {"approved_quantity": 2}, status="APPROVED", latency_ms=0.4)
    tmp_store.log_decisions([("EMERGENCY_SIGNAL", {"action": "close_all"}, "EMERGENCY", 0.1)])
    d = tmp_store.list_decisions()
    assert len(d) == 2 and d.record.iloc[-1] == {"approved_quantity": 2}
    assert len(tmp_store.list_decisions(status="EMERGENCY")) == 1

    [aid] = tmp_store.save_alerts([{"metric": "var", "severity": "HIGH", "status": "ACTIVE", "value": 1.3,
                                     "threshold": 1.0, "source": "portfolio"}])
    tmp_store.save_alerts([{"alert_id": aid, "metric": "var", "severity": "HIGH", "status": "CLEARED"}])
    alerts = tmp_store.list_alerts()
    assert len(alerts) == 1 and alerts.status.iloc[0] == "CLEARED"

    ticks = pd.DataFrame({"seq": [1, 2], "ts": pd.to_datetime(["2024-01-01", "2024-01-02"]),
                          "price": [1.0, 0.99], "stability": [90.0, 88.5]})
    assert tmp_store.append_ticks("feed-1", ticks) == 2
    back = tmp_store.load_ticks("feed-1", since_seq=1)
    assert list(back.seq) == [2] and back.stability.iloc[0] == 88.5
    assert tmp_store.list_feeds().n_ticks.iloc[0] == 2

    tmp_store.set_setting("webhooks", ["http://127.0.0.1:9/x"])
    assert tmp_store.get_setting("webhooks") == ["http://127.0.0.1:9/x"]
    assert tmp_store.get_setting("missing", 5) == 5


WRITER = textwrap.dedent("""
    import sys
    from riskcore.store import Store
    store = Store(sys.argv[1], timeout=60)
    for i in range(int(sys.argv[3])):
        store.save_run("concurrency", {"i": i}, i, {"writer": sys.argv[2]}, name=f"{sys.argv[2]}-{i}")
""")


def test_two_processes_writing_at_once_lose_nothing(tmp_store):
    n = 25
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_store.path), w, str(n)]) for w in "ab"]
    for _ in range(n):  # this process writes at the same time
        tmp_store.save_run("concurrency", None, None, {"writer": "main"})
    assert [p.wait(120) for p in procs] == [0, 0]
    runs = tmp_store.list_runs("concurrency")
    assert len(runs) == 3 * n
    assert {f"{w}-{i}" for w in "ab" for i in range(n)} <= set(runs.name)


HOLDER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
""")


def test_lock_held_by_another_process_is_waited_for_or_reported(tmp_store):
    tmp_store.close()  # release the file now rather than after the idle linger
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_store.path), "1.5"], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "locked"
    impatient = Store.__new__(Store)
    impatient.path, impatient.timeout = tmp_store.path, 0.2
    with pytest.raises(StoreBusyError, match="locked"):
        impatient.save_run("k", None, None, {})
    tmp_store.save_run("k", None, None, {})  # default timeout outlasts the holder
    holder.wait(30)
    assert len(tmp_store.list_runs("k")) == 1
