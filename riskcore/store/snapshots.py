"""Risk-state snapshots in the store (tables ``snapshots`` and ``snapshot_arrays``, schema version 4).

The encoding of a snapshot (what it holds, its checksum, the format version) is
:mod:`riskcore.recovery`'s; here are the units of work: one transaction writes a snapshot
row, its array blobs and the pruning of older scheduled snapshots, so a reader sees a
snapshot whole or not at all. Bound parameters only.

Crash-test hook
---------------
With ``$RISKCORE_SNAPSHOT_PAUSE`` set to a file path, the ``$RISKCORE_SNAPSHOT_PAUSE_AT``-th
snapshot written by this process (1 by default) stops *inside* its write transaction, after
every row is inserted and before the commit: it writes the file (``"paused <snapshot_id>"``)
and waits there for up to :data:`PAUSE_LIMIT_S` seconds (then rolls back). A test kills the
process at that point to check that a half-written snapshot never becomes visible. Without
the variable nothing changes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from riskcore.errors import InputError

__all__ = ["save_snapshot", "list_snapshots", "load_snapshot_rows", "delete_snapshot", "PAUSE_ENV",
           "PAUSE_AT_ENV", "PAUSE_LIMIT_S"]

PAUSE_ENV = "RISKCORE_SNAPSHOT_PAUSE"
PAUSE_AT_ENV = "RISKCORE_SNAPSHOT_PAUSE_AT"
#: longest wait of the crash-test hook before it gives up (and the transaction rolls back)
PAUSE_LIMIT_S = 60.0

_writes = 0  # snapshot writes started by this process (for the crash-test hook)

_COLUMNS = "snapshot_id, created_at, kind, reason, format_version, n_bytes"


def _pause_hook(snapshot_id: str) -> None:
    global _writes
    path = os.environ.get(PAUSE_ENV)
    if not path:
        return
    _writes += 1
    if _writes != int(os.environ.get(PAUSE_AT_ENV) or 1):
        return
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(f"paused {snapshot_id}\n")
    os.replace(tmp, path)  # the parent sees the whole line or no file
    deadline = time.monotonic() + PAUSE_LIMIT_S
    while time.monotonic() < deadline:  # waiting to be killed (SIGKILL) inside the transaction
        time.sleep(0.01)
    raise RuntimeError(f"{PAUSE_ENV}: not killed within {PAUSE_LIMIT_S:g} s; snapshot rolled back")


def save_snapshot(store: Any, *, snapshot_id: str, created_at: datetime, kind: str, reason: str | None,
                  format_version: int, checksum: str, state_json: str, blobs: Mapping[str, bytes],
                  keep: int | None = None) -> None:
    """Write one snapshot and its arrays in one transaction.

    ``keep``: afterwards at most this many snapshots of ``kind`` remain (the oldest are deleted in
    the same transaction); ``None`` keeps all.
    """
    if keep is not None and int(keep) < 1:
        raise InputError("keep", "must be >= 1 (or None to keep every snapshot)", value=keep)
    n_bytes = len(state_json.encode("utf-8")) + sum(len(b) for b in blobs.values())
    row = [snapshot_id, created_at, kind, reason, int(format_version), n_bytes, checksum, state_json]

    def fn(con: Any) -> None:
        con.execute("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
        for name, blob in blobs.items():
            con.execute("INSERT INTO snapshot_arrays VALUES (?, ?, ?)", [snapshot_id, name, blob])
        if keep is not None:
            old = [r[0] for r in con.execute(
                "SELECT snapshot_id FROM snapshots WHERE kind = ? ORDER BY created_at DESC, snapshot_id DESC "
                "OFFSET ?", [kind, int(keep)]).fetchall()]
            for sid in old:
                con.execute("DELETE FROM snapshot_arrays WHERE snapshot_id = ?", [sid])
                con.execute("DELETE FROM snapshots WHERE snapshot_id = ?", [sid])
        _pause_hook(snapshot_id)

    store._write(fn)


def list_snapshots(store: Any, kind: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Snapshots, newest first: snapshot_id, created_at, kind, reason, format_version, n_bytes."""
    sql = f"SELECT {_COLUMNS} FROM snapshots"
    args: list[Any] = []
    if kind is not None:
        sql += " WHERE kind = ?"
        args.append(str(kind))
    sql += " ORDER BY created_at DESC, snapshot_id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    return store._read(lambda con: con.execute(sql, args).df())


def load_snapshot_rows(store: Any, snapshot_id: str | None) -> tuple[tuple[Any, ...] | None, list[tuple[str, bytes]]]:
    """The stored row (``_COLUMNS`` + checksum, state_json) and array blobs of one snapshot.

    ``snapshot_id=None``: the newest snapshot. ``(None, [])`` when there is none.
    """

    def fn(con: Any) -> tuple[Any, list[Any]]:
        sql = f"SELECT {_COLUMNS}, checksum, state_json FROM snapshots"
        if snapshot_id is None:
            row = con.execute(sql + " ORDER BY created_at DESC, snapshot_id DESC LIMIT 1").fetchone()
        else:
            row = con.execute(sql + " WHERE snapshot_id = ?", [str(snapshot_id)]).fetchone()
        blobs = con.execute("SELECT name, data FROM snapshot_arrays WHERE snapshot_id = ? ORDER BY name",
                            [row[0]]).fetchall() if row else []
        return row, blobs

    row, blobs = store._read(fn)
    return row, [(str(n), bytes(b)) for n, b in blobs]


def delete_snapshot(store: Any, snapshot_id: str) -> None:
    def fn(con: Any) -> None:
        if con.execute("SELECT count(*) FROM snapshots WHERE snapshot_id = ?", [snapshot_id]).fetchone()[0] == 0:
            raise InputError("snapshot_id", "no snapshot has this id (see list_snapshots)", value=snapshot_id)
        con.execute("DELETE FROM snapshot_arrays WHERE snapshot_id = ?", [snapshot_id])
        con.execute("DELETE FROM snapshots WHERE snapshot_id = ?", [snapshot_id])

    store._write(fn)


def orphan_array_count(store: Any) -> int:
    """Array rows whose snapshot row does not exist (0 unless something was half-written)."""
    return int(store._read(lambda con: con.execute(
        "SELECT count(*) FROM snapshot_arrays a WHERE NOT EXISTS "
        "(SELECT 1 FROM snapshots s WHERE s.snapshot_id = a.snapshot_id)").fetchone()[0]))
