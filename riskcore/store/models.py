"""Store side of the agent model registry (schema version 3): entries and their tensor blobs.

An entry is one row of ``agent_models`` (name, version, created_at, format_version, content hash,
configs, metrics, tags, active flag) and one row of ``agent_model_blobs`` per part (an actor's or the
critic's state dict as safetensors bytes). What the parts mean, the hash and the checks on load
belong to :mod:`riskcore.agents.registry`; this module only reads and writes rows.

Rules (those of the whole store): bound parameters only; one transaction per unit of work, so an
entry lands whole or not at all; the version of a new entry is ``max(version) + 1`` for its name,
read and written in the **same** transaction (write units of a process take turns on the store's
database, and DuckDB lets one process write a file at a time), so two sessions saving under one
name at once get two different versions and neither entry is damaged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from riskcore.errors import InputError
from riskcore.store import codec

__all__ = ["ModelRow", "save_agent_model", "load_agent_model", "list_agent_models", "agent_model_versions",
           "set_active_agent_model", "active_agent_model", "delete_agent_model"]

_COLUMNS = ("name, version, created_at, format_version, content_hash, train_config_json, env_config_json, "
            "metrics_json, tags_json, active")


@dataclass(frozen=True)
class ModelRow:
    """One registry entry as stored (``blobs``: part name → bytes; empty when not asked for)."""

    name: str
    version: int
    created_at: pd.Timestamp
    format_version: int
    content_hash: str
    train_config: dict[str, Any]
    env_config: dict[str, Any]
    metrics: dict[str, Any]
    tags: tuple[str, ...]
    active: bool
    blobs: dict[str, bytes]


def _row(r: tuple, blobs: dict[str, bytes]) -> ModelRow:
    return ModelRow(name=r[0], version=int(r[1]), created_at=pd.Timestamp(r[2]), format_version=int(r[3]),
                    content_hash=r[4], train_config=codec.loads(r[5]), env_config=codec.loads(r[6]),
                    metrics=codec.loads(r[7]) or {}, tags=tuple(codec.loads(r[8]) or ()), active=bool(r[9]),
                    blobs=blobs)


def save_agent_model(store: Any, name: str, *, format_version: int, content_hash: str,
                     train_config: Mapping[str, Any], env_config: Mapping[str, Any], metrics: Mapping[str, Any],
                     tags: tuple[str, ...], blobs: Mapping[str, bytes]) -> int:
    """Insert an entry under the next version of ``name``; returns that version."""
    if not isinstance(name, str) or not name.strip():
        raise InputError("name", "must be a non-empty string", value=name)
    if not blobs:
        raise InputError("blobs", "an entry needs at least one tensor part")
    # encode before the transaction: bad input writes nothing
    text = [codec.dumps(dict(train_config)), codec.dumps(dict(env_config)), codec.dumps(dict(metrics)),
            codec.dumps(list(tags))]
    parts = [(str(k), bytes(v)) for k, v in blobs.items()]
    now = datetime.now(UTC).replace(tzinfo=None)

    def fn(con: Any) -> int:
        version = int(con.execute("SELECT coalesce(max(version), 0) + 1 FROM agent_models WHERE name = ?",
                                  [name]).fetchone()[0])
        con.execute("INSERT INTO agent_models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE)",
                    [name, version, now, int(format_version), content_hash, *text])
        for part, data in parts:
            con.execute("INSERT INTO agent_model_blobs VALUES (?, ?, ?, ?)", [name, version, part, data])
        return version

    return store._write(fn)


def agent_model_versions(store: Any, name: str) -> list[int]:
    """The versions saved under ``name``, oldest first (empty for an unknown name)."""
    rows = store._read(lambda con: con.execute(
        "SELECT version FROM agent_models WHERE name = ? ORDER BY version", [name]).fetchall())
    return [int(r[0]) for r in rows]


def load_agent_model(store: Any, name: str, version: int | None = None, *, blobs: bool = True) -> ModelRow | None:
    """The entry ``name``/``version`` (the newest version when None), or None when there is none."""

    def fn(con: Any) -> tuple[Any, list[Any]]:
        if version is None:
            row = con.execute(f"SELECT {_COLUMNS} FROM agent_models WHERE name = ? ORDER BY version DESC LIMIT 1",
                              [name]).fetchone()
        else:
            row = con.execute(f"SELECT {_COLUMNS} FROM agent_models WHERE name = ? AND version = ?",
                              [name, int(version)]).fetchone()
        data = con.execute("SELECT part, data FROM agent_model_blobs WHERE name = ? AND version = ? ORDER BY part",
                           [row[0], row[1]]).fetchall() if blobs and row else []
        return row, data

    row, data = store._read(fn)
    return None if row is None else _row(row, {p: bytes(d) for p, d in data})


def list_agent_models(store: Any, name: str | None = None) -> list[ModelRow]:
    """Every entry (or those of ``name``) without blobs, newest first."""
    sql = f"SELECT {_COLUMNS} FROM agent_models"
    args: list[Any] = []
    if name is not None:
        sql += " WHERE name = ?"
        args.append(name)
    sql += " ORDER BY created_at DESC, name, version DESC"
    return [_row(r, {}) for r in store._read(lambda con: con.execute(sql, args).fetchall())]


def set_active_agent_model(store: Any, name: str, version: int) -> None:
    """Make ``name``/``version`` the one active entry of the registry (the others lose the flag)."""

    def fn(con: Any) -> None:
        if not con.execute("SELECT count(*) FROM agent_models WHERE name = ? AND version = ?",
                           [name, int(version)]).fetchone()[0]:
            raise InputError("version", f"no saved team {name!r} has this version", value=version)
        con.execute("UPDATE agent_models SET active = FALSE WHERE active")
        con.execute("UPDATE agent_models SET active = TRUE WHERE name = ? AND version = ?", [name, int(version)])

    store._write(fn)


def active_agent_model(store: Any) -> tuple[str, int] | None:
    """``(name, version)`` of the active entry, or None."""
    row = store._read(lambda con: con.execute(
        "SELECT name, version FROM agent_models WHERE active LIMIT 1").fetchone())
    return None if row is None else (row[0], int(row[1]))


def delete_agent_model(store: Any, name: str, version: int | None = None) -> int:
    """Delete one version of ``name`` (every version when None); returns the number of entries deleted."""

    def fn(con: Any) -> int:
        if version is None:
            n = con.execute("SELECT count(*) FROM agent_models WHERE name = ?", [name]).fetchone()[0]
            con.execute("DELETE FROM agent_model_blobs WHERE name = ?", [name])
            con.execute("DELETE FROM agent_models WHERE name = ?", [name])
        else:
            n = con.execute("SELECT count(*) FROM agent_models WHERE name = ? AND version = ?",
                            [name, int(version)]).fetchone()[0]
            con.execute("DELETE FROM agent_model_blobs WHERE name = ? AND version = ?", [name, int(version)])
            con.execute("DELETE FROM agent_models WHERE name = ? AND version = ?", [name, int(version)])
        return int(n)

    return store._write(fn)
