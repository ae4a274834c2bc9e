"""Run groups (schema 2) and parameter-set name look-ups (issue 11 items 6 and 8)."""

from __future__ import annotations

import pytest

from riskcore.errors import InputError
from riskcore.peg.report import REPORT_KIND, stress_report
from riskcore.store import Store
from riskcore.store import core as store_core
from riskcore.store.groups import (
    link_runs,
    list_child_runs,
    list_top_runs,
    next_free_param_set_name,
    param_set_exists,
    parent_of,
)
from riskcore.store.schema import MIGRATIONS


def test_stress_report_runs_are_grouped_under_the_report(tmp_store):
    other = tmp_store.save_run("peg_simulation", None, 1, {"x": 1}, name="single")
    report = stress_report(n_paths=300, n_steps=10, keep_paths=1, scenarios=["baseline", "crash", "bank_run"])
    rid = report.save(tmp_store, name="stress seed 0")
    assert len(tmp_store.list_runs()) == 5  # the store keeps every run
    top = list_top_runs(tmp_store)
    assert set(top.run_id) == {rid, other}
    assert int(top.set_index("run_id").loc[rid, "n_children"]) == 3
    assert list(list_top_runs(tmp_store, "peg_simulation").run_id) == [other]
    children = list_child_runs(tmp_store, rid)
    assert list(children.name) == ["stress seed 0:baseline", "stress seed 0:crash", "stress seed 0:bank_run"]
    assert all(parent_of(tmp_store, c) == rid for c in children.run_id) and parent_of(tmp_store, other) is None
    assert list(list_top_runs(tmp_store, limit=1).run_id) == [rid]


def test_link_runs_rejects_unknown_parent_and_self(tmp_store):
    a = tmp_store.save_run("k", None, None, {})
    with pytest.raises(InputError, match="parent_id"):
        link_runs(tmp_store, "nope", [a])
    with pytest.raises(InputError, match="own child"):
        link_runs(tmp_store, a, [a])
    assert list_top_runs(tmp_store).shape[0] == 1


def test_migration_groups_reports_saved_before_it(tmp_db, monkeypatch):
    monkeypatch.setattr(store_core, "MIGRATIONS", MIGRATIONS[:1])
    old = Store(tmp_db)
    assert old.schema_version() == 1
    kids = {n: old.save_run("peg_simulation", None, 0, {}, name=f"stress seed 0:{n}") for n in ("a", "b")}
    rid = old.save_run(REPORT_KIND, None, 0, {}, name="stress seed 0", run_ids=kids)
    lone = old.save_run("peg_simulation", None, 0, {}, name="alone")
    monkeypatch.setattr(store_core, "MIGRATIONS", MIGRATIONS)
    new = Store(tmp_db)
    assert new.schema_version() == MIGRATIONS[-1][0] >= 2
    assert set(list_top_runs(new).run_id) == {rid, lone}
    assert set(list_child_runs(new, rid).run_id) == set(kids.values())


def test_param_set_names(tmp_store):
    assert not param_set_exists(tmp_store, "fit")
    assert next_free_param_set_name(tmp_store, "fit") == "fit"
    tmp_store.save_param_set("fit", {"alpha": 1.0})
    assert param_set_exists(tmp_store, "fit") and not param_set_exists(tmp_store, "FIT")
    assert next_free_param_set_name(tmp_store, "fit") == "fit v2"
    tmp_store.save_param_set("fit v2", {"alpha": 2.0})
    tmp_store.save_param_set("fit v10", {"alpha": 2.0})
    assert next_free_param_set_name(tmp_store, "fit") == "fit v3"
    assert next_free_param_set_name(tmp_store, "fit v10") == "fit v11"
    assert next_free_param_set_name(tmp_store, "o'brien; drop") == "o'brien; drop"  # bound, never formatted
