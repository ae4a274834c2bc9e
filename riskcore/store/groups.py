"""Run groups and name look-ups: the runs that belong to another run, and "does this name exist".

A stress report saves one run per scenario and then the report; the scenario runs are its
*children* (table ``run_groups``, schema version 2). Run pickers and the Home page list
top-level runs only, with the number of runs under each (:func:`list_top_runs`); the children are
reached through their parent (:func:`list_child_runs`).

Parameter sets are keyed by name, and saving under an existing name replaces the set; pages ask
before they do that, using :func:`param_set_exists` and :func:`next_free_param_set_name`.

These are functions of a :class:`~riskcore.store.Store` (one unit of work each, bound parameters
only), kept out of ``core.py`` so that the connection handling there can change independently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

from riskcore.errors import InputError

__all__ = ["link_runs", "list_top_runs", "list_child_runs", "parent_of", "param_set_exists",
           "next_free_param_set_name"]


def link_runs(store: Any, parent_id: str, child_ids: Iterable[str]) -> None:
    """Record ``child_ids`` as the runs of ``parent_id`` (in one transaction; re-linking moves them)."""
    children = [str(c) for c in child_ids]
    if not isinstance(parent_id, str) or not parent_id:
        raise InputError("parent_id", "must be a run id", value=parent_id)
    if parent_id in children:
        raise InputError("child_ids", "a run cannot be its own child", value=parent_id)

    def fn(con: Any) -> None:
        if con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [parent_id]).fetchone()[0] == 0:
            raise InputError("parent_id", "no saved run has this id", value=parent_id)
        for c in children:
            con.execute("DELETE FROM run_groups WHERE run_id = ?", [c])
            con.execute("INSERT INTO run_groups VALUES (?, ?)", [c, parent_id])

    store._write(fn)


def list_top_runs(store: Any, kind: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Saved runs that belong to no other run, newest first.

    Columns as :meth:`Store.list_runs` (run_id, kind, name, created_at, params_hash, seed) plus
    ``n_children``, the number of runs grouped under each (0 for most).
    """
    sql = ("SELECT r.run_id, r.kind, r.name, r.created_at, r.params_hash, r.seed, "
           "(SELECT count(*) FROM run_groups c WHERE c.parent_id = r.run_id) AS n_children "
           "FROM runs r WHERE NOT EXISTS (SELECT 1 FROM run_groups g WHERE g.run_id = r.run_id)")
    args: list[Any] = []
    if kind is not None:
        sql += " AND r.kind = ?"
        args.append(str(kind))
    sql += " ORDER BY r.created_at DESC, r.run_id"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    return store._read(lambda con: con.execute(sql, args).df())


def list_child_runs(store: Any, parent_id: str) -> pd.DataFrame:
    """The runs grouped under ``parent_id``, oldest first (the order they were saved)."""
    return store._read(lambda con: con.execute(
        "SELECT r.run_id, r.kind, r.name, r.created_at, r.params_hash, r.seed FROM runs r "
        "JOIN run_groups g ON g.run_id = r.run_id WHERE g.parent_id = ? ORDER BY r.created_at, r.run_id",
        [parent_id]).df())


def parent_of(store: Any, run_id: str) -> str | None:
    """The run ``run_id`` belongs to, or None."""
    row = store._read(lambda con: con.execute(
        "SELECT parent_id FROM run_groups WHERE run_id = ?", [run_id]).fetchone())
    return None if row is None else row[0]


def param_set_exists(store: Any, name: str) -> bool:
    """Whether a parameter set is saved under exactly ``name``."""
    return bool(store._read(lambda con: con.execute(
        "SELECT count(*) FROM param_sets WHERE name = ?", [name]).fetchone()[0]))


_VERSION_RE = re.compile(r"^(?P<base>.*?) v(?P<n>\d+)$")


def next_free_param_set_name(store: Any, name: str) -> str:
    """``name`` if free, else the first free ``"<name> v2"``, ``"<name> v3"``, ...

    A name that already ends in `` vN`` counts up from N (``"fit v2"`` -> ``"fit v3"``).
    """
    if not param_set_exists(store, name):
        return name
    m = _VERSION_RE.match(name)
    base, n = (m["base"], int(m["n"])) if m else (name, 1)
    taken = set(store._read(lambda con: con.execute(
        "SELECT name FROM param_sets WHERE name = ? OR starts_with(name, ?)", [base, f"{base} v"]).fetchall()))
    taken = {t[0] for t in taken}
    n += 1
    while f"{base} v{n}" in taken:
        n += 1
    return f"{base} v{n}"
