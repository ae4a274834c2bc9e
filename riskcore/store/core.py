"""The DuckDB store: the only code in riskcore that speaks SQL.

Design
------
* **One database instance per process and file**, a cursor per unit of work
  (:mod:`riskcore.store.engine`): threads (Streamlit sessions) share it safely; the
  file is released when idle so a notebook in another process can use it, and a
  process that finds the file locked retries with backoff until ``timeout``.
* **One transaction per write.** A write either lands whole or not at all; an
  exception part-way rolls everything back.
* **Bound parameters only.** No value is ever formatted into SQL text.
* **Migrations** in :mod:`riskcore.store.schema` are applied when a file is opened
  read-write; a read-only store never writes.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.kinds import RunKind
from riskcore.store import codec
from riskcore.store.engine import (
    Database,
    StoreBusyError,
    StoreCorruptError,
    StoreReadOnlyError,
    check_header,
    database_for,
)
from riskcore.store.schema import MIGRATIONS

__all__ = ["Store", "RunRecord", "DatasetRecord", "RunKind", "StoreBusyError", "StoreCorruptError",
           "StoreReadOnlyError", "default_db_path"]

T = TypeVar("T")

_TABLES = ("runs", "datasets", "param_sets", "decisions", "alerts", "ticks")


def default_db_path() -> Path:
    """``$RISKCORE_DB`` if set, else ``data/riskcore.duckdb`` in the repository."""
    env = os.environ.get("RISKCORE_DB")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[2] / "data" / "riskcore.duckdb"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _new_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass(frozen=True)
class RunRecord:
    """A saved run, as read back from the store."""

    run_id: str
    kind: str
    name: str | None
    created_at: pd.Timestamp
    params: dict[str, Any] | None
    params_hash: str | None
    seed: int | None
    summary: Any
    extra: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetRecord:
    """A saved price dataset: metadata and the series as a DataFrame indexed by date."""

    dataset_id: str
    name: str
    source_name: str | None
    created_at: pd.Timestamp
    n_rows: int
    start_date: pd.Timestamp | None
    end_date: pd.Timestamp | None
    checksum: str | None
    meta: dict[str, Any]
    frame: pd.DataFrame


class Store:
    """Persistence for runs, datasets, parameter sets, decisions, alerts and ticks.

    Parameters
    ----------
    path : str or Path, optional
        DuckDB file. Defaults to :func:`default_db_path` (``$RISKCORE_DB`` or
        ``data/riskcore.duckdb``). Parent folders are created.
    timeout : float, default 30.0
        Seconds to keep retrying while another process holds the file; then
        :class:`StoreBusyError` (which names the holder).
    read_only : bool, optional
        Open for reading only: no migration, every write raises
        :class:`StoreReadOnlyError`. By default read-only exactly when the file exists
        and it or its folder is not writable.

    Raises
    ------
    StoreCorruptError
        (an :class:`InputError`) at once when the file is not a DuckDB database or is damaged.

    Examples
    --------
    >>> store = Store(tmp_path / "x.duckdb")            # doctest: +SKIP
    >>> run_id = store.save_run("peg", params, 0, {"p_depeg": 0.1})  # doctest: +SKIP
    >>> store.load_run(run_id).summary                  # doctest: +SKIP
    {'p_depeg': 0.1}
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, timeout: float = 30.0,
                 read_only: bool | None = None):
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self.timeout = float(timeout)
        if read_only is None:  # automatic: read-only when the file or its folder cannot be written
            read_only = self.path.exists() and not (os.access(self.path, os.W_OK)
                                                    and os.access(self.path.parent, os.W_OK))
        self.read_only = bool(read_only)
        if self.read_only:
            if not self.path.is_file():
                raise InputError("store file", f"{self.path} does not exist; a read-only store needs an existing file")
            check_header(self.path)
            self._check_readable()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._migrate()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r}{', read_only=True' if self.read_only else ''})"

    # -- connections (riskcore.store.engine does the work) ---------------------------
    @property
    def _db(self) -> Database:
        return database_for(self.path)

    def close(self) -> None:
        """Release the file now (if no call is running) so another process can open it at once.

        The store stays usable: the next call reopens the file. Without this the file is
        released after :data:`riskcore.store.engine.LINGER_S` idle seconds anyway.
        """
        self._db.close()

    def _write(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``fn`` in one transaction on its own cursor, retrying on lock conflicts."""
        if getattr(self, "read_only", False):
            raise StoreReadOnlyError(self.path, "opened with read_only=True or the file is not writable")
        return self._db.run(fn, write=True, timeout=self.timeout)

    def _read(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        return self._db.run(fn, write=False, timeout=self.timeout, read_only=getattr(self, "read_only", False))

    def _schema_state(self) -> int | None:
        """Current schema version, or None when the file has no ``schema_version`` table."""

        def fn(con: duckdb.DuckDBPyConnection) -> int | None:
            if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version' "
                               "AND schema_name = 'main'").fetchone()[0]:
                return None
            return int(con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0])

        return self._read(fn)

    def _check_readable(self) -> None:
        if self._schema_state() is None:
            raise InputError("store file", f"{self.path} is a DuckDB file but not a riskcore store "
                                           "(it has no schema_version table)")

    def _applied_versions(self) -> set[int]:
        """Migration versions recorded in the file (empty for a new file)."""

        def fn(con: duckdb.DuckDBPyConnection) -> set[int]:
            if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version' "
                               "AND schema_name = 'main'").fetchone()[0]:
                return set()
            return {int(r[0]) for r in con.execute("SELECT version FROM schema_version").fetchall()}

        return self._read(fn)

    def _migrate(self) -> None:
        # Every version the file has not recorded, in ascending order: the versions above the file's
        # and any gap below it (a file made while a lower-numbered migration lived on another branch).
        # A read first: the common case (schema up to date) takes no write transaction.
        if not {v for v, _ in MIGRATIONS} - self._applied_versions():
            return

        def fn(con: duckdb.DuckDBPyConnection) -> None:
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"
            )
            applied = {int(r[0]) for r in con.execute("SELECT version FROM schema_version").fetchall()}
            for version, statements in sorted(MIGRATIONS, key=lambda m: m[0]):
                if version not in applied:
                    for sql in statements:
                        con.execute(sql)
                    con.execute("INSERT INTO schema_version VALUES (?, ?)", [version, _now()])

        self._write(fn)

    # -- introspection -------------------------------------------------------------
    def schema_version(self) -> int:
        return self._read(lambda con: con.execute("SELECT max(version) FROM schema_version").fetchone()[0])

    def counts(self) -> dict[str, int]:
        """Number of rows per main table (runs, datasets, param_sets, decisions, alerts, ticks)."""

        def fn(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
            # Table names come from the constant tuple above, never from input. One statement, not one per
            # table: the sidebar asks on every rerun of every session, and each statement gives the GIL back
            # and waits for it again behind the other sessions' threads (issue 17).
            row = con.execute("SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in _TABLES)).fetchone()
            return {t: int(n) for t, n in zip(_TABLES, row, strict=True)}

        return self._read(fn)

    # -- runs ------------------------------------------------------------------------
    def save_run(
        self,
        kind: str,
        params: Any,
        seed: int | None,
        summary: Any,
        name: str | None = None,
        *,
        arrays: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> str:
        """Save a run and return its id.

        Parameters
        ----------
        kind : RunKind or str
            Workflow, e.g. :attr:`RunKind.PEG_SIMULATION` (``"peg_simulation"``); any non-empty
            string is accepted, so a new workflow needs no change here.
        params : ModelParameters, mapping or None
            Parameters of the run (anything with ``to_dict()``; hashed when it has
            ``content_hash()``).
        seed : int or None
        summary : DataFrame, mapping or list
            Stored losslessly (see :mod:`riskcore.store.codec`).
        name : str, optional
            Free text, stored verbatim.
        arrays : mapping of str to array, optional
            Numeric arrays stored as ``.npy`` blobs (never pickled).
        **extra
            Further JSON-able fields (scenario, backend, timing, ...).
        """
        if not isinstance(kind, str) or not kind:
            raise InputError("kind", "must be a non-empty string", value=kind)
        kind = str(kind)  # a RunKind is stored as its plain value
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise InputError("seed", "must be an integer or None", value=seed)
        params_dict = None if params is None else (params.to_dict() if hasattr(params, "to_dict") else dict(params))
        params_hash = params.content_hash() if hasattr(params, "content_hash") else (
            None if params_dict is None else hashlib.sha256(codec.dumps(params_dict).encode()).hexdigest()[:16])
        # Encode everything before opening a transaction so bad input writes nothing.
        row = [
            _new_id(), kind, name, _now(), None if params_dict is None else codec.dumps(params_dict),
            params_hash, None if seed is None else int(seed), codec.dumps(summary), codec.dumps(extra),
        ]
        blobs = [(k, codec.array_to_bytes(k, v)) for k, v in (arrays or {}).items()]

        def fn(con: duckdb.DuckDBPyConnection) -> str:
            con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            for key, blob in blobs:
                con.execute("INSERT INTO run_arrays VALUES (?, ?, ?)", [row[0], key, blob])
            return row[0]

        return self._write(fn)

    def list_runs(self, kind: str | None = None, limit: int | None = None) -> pd.DataFrame:
        """Saved runs, newest first: run_id, kind, name, created_at, params_hash, seed."""
        sql = "SELECT run_id, kind, name, created_at, params_hash, seed FROM runs"
        args: list[Any] = []
        if kind is not None:
            sql += " WHERE kind = ?"
            args.append(str(kind))
        sql += " ORDER BY created_at DESC, run_id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return self._read(lambda con: con.execute(sql, args).df())

    def load_run(self, run_id: str, *, arrays: bool = True, kind: RunKind | str | None = None) -> RunRecord:
        """Read a run back.

        Parameters
        ----------
        run_id : str
        arrays : bool, default True
            Also read the run's numeric arrays.
        kind : RunKind or str, optional
            The kind the caller expects; a run of another kind raises :class:`InputError`
            (field ``run_id``) naming both kinds. This is the one kind check every
            result's ``load`` relies on.

        Raises
        ------
        InputError
            For an unknown id, or a run of another kind than ``kind``.
        """

        def fn(con: duckdb.DuckDBPyConnection) -> tuple[Any, list[Any]]:
            row = con.execute(
                "SELECT run_id, kind, name, created_at, params_json, params_hash, seed, summary_json, extra_json "
                "FROM runs WHERE run_id = ?", [run_id]).fetchone()
            blobs = con.execute("SELECT name, data FROM run_arrays WHERE run_id = ? ORDER BY name",
                                [run_id]).fetchall() if arrays and row else []
            return row, blobs

        row, blobs = self._read(fn)
        if row is None:
            raise InputError("run_id", "no saved run has this id", value=run_id)
        if kind is not None and row[1] != str(kind):
            raise InputError("run_id", f"is a {row[1]!r} run, not a {str(kind)!r} run", value=run_id)
        return RunRecord(
            run_id=row[0], kind=row[1], name=row[2], created_at=pd.Timestamp(row[3]),
            params=codec.loads(row[4]), params_hash=row[5], seed=row[6], summary=codec.loads(row[7]),
            extra=codec.loads(row[8]) or {}, arrays={k: codec.bytes_to_array(b) for k, b in blobs},
        )

    def delete_run(self, run_id: str) -> None:
        def fn(con: duckdb.DuckDBPyConnection) -> None:
            con.execute("DELETE FROM run_arrays WHERE run_id = ?", [run_id])
            con.execute("DELETE FROM runs WHERE run_id = ?", [run_id])

        self._write(fn)

    # -- datasets --------------------------------------------------------------------
    def save_dataset(
        self,
        name: str,
        frame: pd.DataFrame,
        *,
        source_name: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> str:
        """Save a price series; returns the dataset id.

        ``frame`` is indexed by timestamp (or has a ``ts``/``date`` column) with a
        ``price`` column and optional ``volume`` and ``fiat_flow`` columns. The
        checksum is the sha256 of the stored values.
        """
        if not isinstance(name, str) or not name.strip():
            raise InputError("name", "must be a non-empty string", value=name)
        df = frame.copy()
        if "ts" not in df.columns:
            if "date" in df.columns:
                df = df.rename(columns={"date": "ts"})
            else:
                df = df.rename_axis("ts").reset_index()
        if "price" not in df.columns:
            raise InputError("price", "dataset needs a 'price' column")
        out = pd.DataFrame({
            "ts": pd.to_datetime(df["ts"]).astype("datetime64[us]"),
            "price": df["price"].astype("float64"),
            "volume": df["volume"].astype("float64") if "volume" in df else np.nan,
            "fiat_flow": df["fiat_flow"].astype("float64") if "fiat_flow" in df else np.nan,
        })
        if out.empty:
            raise InputError("frame", "dataset has no rows")
        checksum = hashlib.sha256(
            out["ts"].to_numpy().tobytes() + out[["price", "volume", "fiat_flow"]].to_numpy().tobytes()).hexdigest()
        dataset_id = _new_id()
        row = [dataset_id, name, source_name, _now(), len(out), out["ts"].min(), out["ts"].max(), checksum,
               codec.dumps(dict(meta or {}))]

        def fn(con: duckdb.DuckDBPyConnection) -> str:
            con.execute("INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            con.register("_riskcore_rows", out)
            con.execute("INSERT INTO dataset_rows SELECT ?, ts, price, volume, fiat_flow FROM _riskcore_rows",
                        [dataset_id])
            con.unregister("_riskcore_rows")
            return dataset_id

        return self._write(fn)

    def list_datasets(self) -> pd.DataFrame:
        """Saved datasets, newest first."""
        return self._read(lambda con: con.execute(
            "SELECT dataset_id, name, source_name, created_at, n_rows, start_date, end_date, checksum "
            "FROM datasets ORDER BY created_at DESC, dataset_id").df())

    def load_dataset(self, key: str) -> DatasetRecord:
        """Load a dataset by id, or by name (the newest of that name)."""

        def fn(con: duckdb.DuckDBPyConnection) -> tuple[Any, pd.DataFrame | None]:
            row = con.execute(
                "SELECT dataset_id, name, source_name, created_at, n_rows, start_date, end_date, checksum, meta_json "
                "FROM datasets WHERE dataset_id = ? OR name = ? "
                "ORDER BY (dataset_id = ?) DESC, created_at DESC LIMIT 1", [key, key, key]).fetchone()
            if row is None:
                return None, None
            frame = con.execute("SELECT ts, price, volume, fiat_flow FROM dataset_rows WHERE dataset_id = ? "
                                "ORDER BY ts", [row[0]]).df()
            return row, frame

        row, frame = self._read(fn)
        if row is None:
            raise InputError("dataset", "no saved dataset has this id or name", value=key)
        frame = frame.set_index("ts")
        frame.index.name = "date"
        frame = frame.dropna(axis=1, how="all")
        return DatasetRecord(
            dataset_id=row[0], name=row[1], source_name=row[2], created_at=pd.Timestamp(row[3]), n_rows=int(row[4]),
            start_date=None if row[5] is None else pd.Timestamp(row[5]),
            end_date=None if row[6] is None else pd.Timestamp(row[6]), checksum=row[7],
            meta=codec.loads(row[8]) or {}, frame=frame)

    def delete_dataset(self, dataset_id: str) -> None:
        def fn(con: duckdb.DuckDBPyConnection) -> None:
            con.execute("DELETE FROM dataset_rows WHERE dataset_id = ?", [dataset_id])
            con.execute("DELETE FROM datasets WHERE dataset_id = ?", [dataset_id])

        self._write(fn)

    # -- named parameter sets -----------------------------------------------------
    def save_param_set(self, name: str, params: Any, note: str | None = None) -> None:
        """Save (or overwrite) a named parameter set."""
        if not isinstance(name, str) or not name.strip():
            raise InputError("name", "must be a non-empty string", value=name)
        data = params.to_dict() if hasattr(params, "to_dict") else dict(params)
        text = codec.dumps(data)
        digest = params.content_hash() if hasattr(params, "content_hash") else hashlib.sha256(
            text.encode()).hexdigest()[:16]

        def fn(con: duckdb.DuckDBPyConnection) -> None:
            con.execute("DELETE FROM param_sets WHERE name = ?", [name])
            con.execute("INSERT INTO param_sets VALUES (?, ?, ?, ?, ?)", [name, _now(), text, digest, note])

        self._write(fn)

    def list_param_sets(self) -> pd.DataFrame:
        return self._read(lambda con: con.execute(
            "SELECT name, created_at, params_hash, note FROM param_sets ORDER BY created_at DESC").df())

    def load_param_set(self, name: str) -> dict[str, Any]:
        """The stored mapping (pass it to ``ModelParameters.from_dict``)."""
        row = self._read(lambda con: con.execute(
            "SELECT params_json FROM param_sets WHERE name = ?", [name]).fetchone())
        if row is None:
            raise InputError("name", "no saved parameter set has this name", value=name)
        return codec.loads(row[0])

    # -- decision log ----------------------------------------------------------------
    def log_decision(self, event_type: str, record: Mapping[str, Any], *, status: str | None = None,
                     latency_ms: float | None = None) -> str:
        """Append one risk decision (event, state, agent actions, critic scores, outcome)."""
        text = codec.dumps(dict(record))
        decision_id = _new_id()
        self._write(lambda con: con.execute(
            "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?)",
            [decision_id, _now(), event_type, status, latency_ms, text]))
        return decision_id

    def log_decisions(self, rows: list[tuple[str, Mapping[str, Any], str | None, float | None]]) -> list[str]:
        """Append many decisions ``(event_type, record, status, latency_ms)`` in one transaction.

        Rows go in as one Arrow-backed bulk insert (a few ms for hundreds of rows),
        so a buffered caller is not held up by per-row statements.
        """
        now = _now()
        frame = pd.DataFrame({
            "decision_id": [_new_id() for _ in rows],
            # one microsecond apart, so "newest first" keeps the order of the batch
            "created_at": pd.Series(pd.Timestamp(now) + pd.to_timedelta(range(len(rows)), unit="us"),
                                    dtype="datetime64[us]"),
            "event_type": pd.Series([r[0] for r in rows], dtype=object),
            "status": pd.Series([r[2] for r in rows], dtype=object),
            "latency_ms": pd.Series([r[3] for r in rows], dtype="float64"),
            "record_json": pd.Series([codec.dumps(dict(r[1])) for r in rows], dtype=object),
        })
        self._bulk_insert("decisions", frame)
        return list(frame["decision_id"])

    def _bulk_insert(self, table: str, frame: pd.DataFrame) -> None:
        """Insert ``frame`` (columns in the table's order) in one statement and one transaction.

        ``table`` is always a literal from this module, never user input.
        """
        if frame.empty:
            return

        def fn(con: duckdb.DuckDBPyConnection) -> None:
            con.register("_riskcore_bulk", frame)
            try:
                con.execute(f"INSERT INTO {table} SELECT * FROM _riskcore_bulk")
            finally:
                con.unregister("_riskcore_bulk")

        self._write(fn)

    def list_decisions(self, event_type: str | None = None, status: str | None = None,
                       limit: int = 500) -> pd.DataFrame:
        """Decisions, newest first, with the full record decoded in column ``record``."""
        sql = "SELECT decision_id, created_at, event_type, status, latency_ms, record_json FROM decisions WHERE 1=1"
        args: list[Any] = []
        if event_type is not None:
            sql += " AND event_type = ?"
            args.append(event_type)
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        sql += " ORDER BY created_at DESC, decision_id LIMIT ?"
        args.append(int(limit))
        df = self._read(lambda con: con.execute(sql, args).df())
        df["record"] = [codec.loads(t) for t in df.pop("record_json")]
        return df

    # -- alerts ----------------------------------------------------------------------
    _ALERT_COLUMNS = ("alert_id", "created_at", "source", "metric", "severity", "level", "status", "value",
                      "threshold", "message", "cleared_at")

    def save_alerts(self, alerts: list[Mapping[str, Any]]) -> list[str]:
        """Insert or update alerts (keyed by ``alert_id``; one is made when absent).

        Each mapping may hold the columns ``source, metric, severity, level, status,
        value, threshold, message, created_at, cleared_at``; the whole mapping is also
        kept as JSON.
        """
        rows = []
        for a in alerts:
            a = dict(a)
            a.setdefault("alert_id", _new_id())
            a.setdefault("created_at", _now())
            rows.append([a.get(c) for c in self._ALERT_COLUMNS] + [codec.dumps(a)])

        def fn(con: duckdb.DuckDBPyConnection) -> list[str]:
            for r in rows:
                con.execute("DELETE FROM alerts WHERE alert_id = ?", [r[0]])
                con.execute("INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", r)
            return [r[0] for r in rows]

        return self._write(fn)

    def list_alerts(self, source: str | None = None, status: str | None = None, limit: int = 1000) -> pd.DataFrame:
        sql = "SELECT " + ", ".join(self._ALERT_COLUMNS) + " FROM alerts WHERE 1=1"
        args: list[Any] = []
        if source is not None:
            sql += " AND source = ?"
            args.append(source)
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        sql += " ORDER BY created_at DESC, alert_id LIMIT ?"
        args.append(int(limit))
        return self._read(lambda con: con.execute(sql, args).df())

    # -- ticks -----------------------------------------------------------------------
    def append_ticks(self, feed_id: str, ticks: pd.DataFrame) -> int:
        """Append ticks of a feed: a frame with ``seq``, ``ts``, ``price`` and any other
        columns (kept as JSON per row). Returns the number of rows written."""
        if ticks.empty:
            return 0
        for col in ("seq", "price"):
            if col not in ticks:
                raise InputError(col, "tick frame needs this column")
        other = [c for c in ticks.columns if c not in ("seq", "ts", "price")]
        records = ticks[other].to_dict("records") if other else [{}] * len(ticks)
        ts = pd.to_datetime(ticks["ts"]) if "ts" in ticks else pd.Series(pd.NaT, index=ticks.index)
        frame = pd.DataFrame({
            "feed_id": pd.Series([feed_id] * len(ticks), dtype=object),
            "seq": ticks["seq"].astype("int64").to_numpy(),
            "ts": ts.astype("datetime64[us]").to_numpy(),
            "price": ticks["price"].astype("float64").to_numpy(),
            "record_json": pd.Series([codec.dumps(r) for r in records], dtype=object),
        })
        self._bulk_insert("ticks", frame)
        return len(frame)

    def load_ticks(self, feed_id: str, since_seq: int | None = None) -> pd.DataFrame:
        sql = "SELECT seq, ts, price, record_json FROM ticks WHERE feed_id = ?"
        args: list[Any] = [feed_id]
        if since_seq is not None:
            sql += " AND seq > ?"
            args.append(int(since_seq))
        df = self._read(lambda con: con.execute(sql + " ORDER BY seq", args).df())
        extra = pd.DataFrame([codec.loads(t) or {} for t in df.pop("record_json")], index=df.index)
        return pd.concat([df, extra], axis=1)

    def list_feeds(self) -> pd.DataFrame:
        return self._read(lambda con: con.execute(
            "SELECT feed_id, count(*) AS n_ticks, max(seq) AS last_seq, max(ts) AS last_ts FROM ticks "
            "GROUP BY feed_id ORDER BY feed_id").df())

    # -- settings --------------------------------------------------------------------
    def set_setting(self, key: str, value: Any) -> None:
        text = codec.dumps(value)

        def fn(con: duckdb.DuckDBPyConnection) -> None:
            con.execute("DELETE FROM settings WHERE key = ?", [key])
            con.execute("INSERT INTO settings VALUES (?, ?, ?)", [key, text, _now()])

        self._write(fn)

    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self._read(lambda con: con.execute("SELECT value_json FROM settings WHERE key = ?", [key]).fetchone())
        return default if row is None else codec.loads(row[0])

    # -- alert records (app-monitor: episodes and acknowledgements across sessions) ------------
    def list_alert_records(self, source: str, statuses: list[str] | None = None, limit: int = 1000) -> pd.DataFrame:
        """Alerts of ``source`` (optionally only those with one of ``statuses``) as their full saved
        mappings (every field given to :meth:`save_alerts`, e.g. ``seq`` or ``acknowledged_by``), newest first."""
        sql = "SELECT record_json FROM alerts WHERE source = ?"
        args: list[Any] = [source]
        if statuses:
            sql += " AND status IN (" + ", ".join("?" for _ in statuses) + ")"
            args.extend(str(s) for s in statuses)
        sql += " ORDER BY created_at DESC, alert_id LIMIT ?"
        args.append(int(limit))
        rows = self._read(lambda con: con.execute(sql, args).fetchall())
        return pd.DataFrame([codec.loads(r[0]) or {} for r in rows])
