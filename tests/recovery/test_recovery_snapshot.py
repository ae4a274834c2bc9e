"""Snapshots and restore (issue 13): contents, exact continuation, schedule, retention, bad input."""

from __future__ import annotations

import warnings
from datetime import timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
from _feed import comparable, events, new_runtime

from riskcore.agents.critic import RuleCritic
from riskcore.agents.system import RiskLimits, RiskSystem
from riskcore.errors import InputError
from riskcore.portfolio.events import RiskEventProcessor
from riskcore.recovery import (
    FORMAT_VERSION,
    RecoveryWarning,
    RiskRuntime,
    SnapshotKind,
    SnapshotScheduler,
    TeamRef,
    delete_snapshot,
    emergency_backup,
    list_snapshots,
    restore,
    snapshot,
)
from riskcore.store import Store
from riskcore.store import core as store_core
from riskcore.store import snapshots as snap_db
from riskcore.store.schema import MIGRATIONS


def _fed(n: int = 60) -> tuple[RiskRuntime, list]:
    rt, evs = new_runtime(), events()
    for e, d, ts in evs[:n]:
        rt.process(e, d, ts=ts)
    return rt, evs


def _quiet_restore(store, which="latest", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RecoveryWarning)  # a fresh rule snapshot restores without warnings
        return restore(store, which, **kw)


def test_restore_rebuilds_every_part_and_continues_identically(tmp_store):
    rt, evs = _fed(70)
    rt.extra["feed"] = {"next_event": 70}
    info = snapshot(tmp_store, rt, reason="before the close")
    assert info.kind is SnapshotKind.ON_DEMAND and info.n_bytes > 1000 and info.format_version == FORMAT_VERSION
    res = _quiet_restore(tmp_store)
    new = res.runtime
    assert res.info.snapshot_id == info.snapshot_id and not res.stale and res.team_loaded and res.messages == ()
    p, q = rt.processor, new.processor
    # portfolio, risk metrics, correlation, histories, volatility, VaR engine: equal to the bit
    assert q.context == p.context and q.context.price_history is not None
    pd.testing.assert_frame_equal(q.context.price_history, p.context.price_history)
    np.testing.assert_array_equal(q.risk_state.vector, p.risk_state.vector)
    assert (q.risk_state.var_currency, q.risk_state.concentration) == (p.risk_state.var_currency,
                                                                       p.risk_state.concentration)
    pd.testing.assert_frame_equal(q.risk_state.correlation, p.risk_state.correlation)
    assert len(p.risk_state.correlation) == 4 and len(p.context.positions) == 5  # calm book + the feed's one
    np.testing.assert_array_equal(q._prices.values(), p._prices.values())
    np.testing.assert_array_equal(q.normalizer.state_dict()["buffer"], p.normalizer.state_dict()["buffer"])
    assert q._volume == p._volume and q._spread == p._spread and p._volume
    assert q._rng.bit_generator.state == p._rng.bit_generator.state
    assert new.extra == {"feed": {"next_event": 70}}
    # alerts: thresholds, open episodes (same ids), history, counters
    assert new.active_alerts() == rt.active_alerts() != {}
    e, f = rt.monitor.engine, new.monitor.engine
    assert f.thresholds == e.thresholds and list(f.history) == list(e.history)
    assert (f.n_raised, f.n_cleared, f.decisions) == (e.n_raised, e.n_cleared, e.decisions)
    assert [s.metrics for s in new.monitor.snapshots] == [s.metrics for s in rt.monitor.snapshots]
    # the rest of the stream gives the same answers and the same alerts
    for e_, d, ts in evs[70:]:
        assert comparable(new.process(e_, d, ts=ts)) == comparable(rt.process(e_, d, ts=ts))
    assert new.active_alerts().keys() == rt.active_alerts().keys()
    assert [a.status for a in new.monitor.engine.history] == [a.status for a in rt.monitor.engine.history]
    assert res.summary().loc["active alerts", "value"] == "margin_usage_pct"


def test_halt_critic_limits_and_unflushed_alerts_survive(tmp_store):
    system = RiskSystem(critic=RuleCritic(var_full_scale=0.03, position_limit=0.8), limits=RiskLimits(max_contracts=4))
    rt = RiskRuntime(RiskEventProcessor(system, seed=2), new_runtime().monitor)
    rt.process("ACCOUNT_UPDATE", {"margin_usage_pct": 95.0})
    rt.process("EMERGENCY_SIGNAL", {"emergency_type": "LIQUIDITY_CRISIS"})
    assert rt.monitor.engine.pending()[0]  # not yet flushed to the alert table
    new = _quiet_restore(tmp_store, snapshot(tmp_store, rt).snapshot_id).runtime
    assert new.processor.system.critic == RuleCritic(0.03, 0.8)
    assert new.processor.system.limits == RiskLimits(max_contracts=4)
    r = new.process("NEW_TRADE_REQUEST", {"symbol": "MES", "direction": 1, "base_quantity": 2, "entry_price": 5000.0})
    assert r["status"] == "rejected" and "LIQUIDITY_CRISIS" in r["reason"]
    assert new.monitor.flush(tmp_store) == 1  # the restored monitor still persists what was pending
    assert tmp_store.list_alerts(source="portfolio").metric.tolist() == ["margin_usage_pct"]


def test_team_reference_is_kept_and_loaded_through_a_builder(tmp_store):
    rt, _ = _fed(5)
    rt.team = TeamRef("desk", 3)
    snapshot(tmp_store, rt)
    with pytest.warns(RecoveryWarning, match="desk v3; it was not loaded"):
        res = restore(tmp_store)
    assert res.runtime.team == TeamRef("desk", 3) and not res.team_loaded
    seen = []
    res = restore(tmp_store, system=lambda team: seen.append(team) or RiskSystem())
    assert seen == [TeamRef("desk", 3)] and res.team_loaded and res.runtime.team == TeamRef("desk", 3)
    with pytest.raises(InputError, match="must return a RiskSystem"):
        restore(tmp_store, system=lambda team: "not a system")
    with pytest.raises(InputError, match="team.version"):
        TeamRef("desk", 0)


def test_old_snapshot_restores_with_a_warning(tmp_store):
    rt, _ = _fed(3)
    info = snapshot(tmp_store, rt)
    with pytest.warns(RecoveryWarning, match="25.0 h old"):
        res = restore(tmp_store, now=info.created_at.to_pydatetime() + timedelta(hours=25))
    assert res.stale and "check them before trading" in res.message
    res = _quiet_restore(tmp_store, now=info.created_at.to_pydatetime() + timedelta(hours=23))
    assert not res.stale


def test_scheduler_hourly_keeps_24_and_backs_up_on_emergency(tmp_store):
    rt, _ = _fed(3)
    clock = [1_780_000_000.0]
    sched = SnapshotScheduler(tmp_store, rt, clock=lambda: clock[0])
    snapshot(tmp_store, rt, at=pd.Timestamp(clock[0], unit="s"))  # on demand: never pruned by the schedule
    assert sched.tick() is None
    clock[0] += 3599.0
    assert sched.tick() is None
    for _ in range(30):
        clock[0] += 3600.0
        assert sched.tick() is not None
    sched_rows = list_snapshots(tmp_store, SnapshotKind.SCHEDULED)
    assert len(sched_rows) == 24
    assert sched_rows.created_at.iloc[0] - sched_rows.created_at.iloc[-1] == pd.Timedelta(hours=23)
    assert [i.snapshot_id for i in sched.taken[-24:]][::-1] == list(sched_rows.snapshot_id)
    clock[0] += 60.0
    resp = rt.process("EMERGENCY_SIGNAL", {"emergency_type": "MARKET_CRASH"})
    backup = sched.tick(resp)
    assert backup.kind is SnapshotKind.EMERGENCY and "MARKET_CRASH" in backup.reason
    kinds = list_snapshots(tmp_store).kind.value_counts().to_dict()
    assert kinds == {"scheduled": 24, "on_demand": 1, "emergency": 1}
    latest = restore(tmp_store, "latest", now=backup.created_at.to_pydatetime()).runtime
    assert latest.processor.halted is not None and latest.processor.halted.value == "MARKET_CRASH"


def test_scheduler_failure_is_reported_not_raised(tmp_store, monkeypatch):
    rt, _ = _fed(2)
    clock = [0.0]
    sched = SnapshotScheduler(tmp_store, rt, every_s=10, clock=lambda: clock[0])
    monkeypatch.setattr(snap_db, "save_snapshot", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    clock[0] = 11.0
    assert sched.tick() is None and "disk full" in sched.last_error
    monkeypatch.undo()
    assert sched.tick() is not None and sched.last_error is None  # retried at the next tick


def test_emergency_backup_needs_a_reason(tmp_store):
    rt, _ = _fed(2)
    for bad in (None, "  "):
        with pytest.raises(InputError, match="reason"):
            emergency_backup(tmp_store, rt, bad)
    with pytest.raises(InputError, match="kind"):
        snapshot(tmp_store, rt, kind="weekly")
    assert list_snapshots(tmp_store).empty
    info = emergency_backup(tmp_store, rt, "feed lost")
    assert list_snapshots(tmp_store).reason.tolist() == ["feed lost"] and info.reason == "feed lost"


def test_unknown_id_empty_store_newer_format_and_damage_say_what_to_do(tmp_store, tmp_db):
    with pytest.raises(InputError, match="no snapshot yet"):
        restore(tmp_store)
    rt, _ = _fed(3)
    good = snapshot(tmp_store, rt)
    with pytest.raises(InputError, match="no snapshot has this id.*list_snapshots"):
        restore(tmp_store, "nope")
    with pytest.raises(InputError, match="snapshot_id"):
        delete_snapshot(tmp_store, "nope")
    # a snapshot written by a newer riskcore
    snap_db.save_snapshot(tmp_store, snapshot_id="future", created_at=good.created_at.to_pydatetime(), kind="on_demand",
                          reason=None, format_version=FORMAT_VERSION + 1, checksum="x", state_json="{}", blobs={})
    with pytest.raises(InputError, match="newer riskcore.*upgrade") as exc:
        restore(tmp_store, "future")
    assert exc.value.field == "format_version"
    # a valid checksum over content that does not rebuild
    snap_db.save_snapshot(tmp_store, snapshot_id="hollow", created_at=good.created_at.to_pydatetime(),
                          kind="on_demand", reason=None, format_version=FORMAT_VERSION,
                          checksum=__import__("riskcore.recovery.core", fromlist=["_checksum"])._checksum(
                              '{"format_version": 1, "sections": {}}', {}),
                          state_json='{"format_version": 1, "sections": {}}', blobs={})
    with pytest.raises(InputError, match="hollow is damaged"):
        restore(tmp_store, "hollow")
    # a damaged array blob
    tmp_store.close()
    con = duckdb.connect(str(tmp_db))
    name = con.execute("SELECT name FROM snapshot_arrays WHERE snapshot_id = ? LIMIT 1",
                       [good.snapshot_id]).fetchone()[0]
    con.execute("UPDATE snapshot_arrays SET data = ? WHERE snapshot_id = ? AND name = ?",
                [b"\x93NUMPY garbage", good.snapshot_id, name])
    con.close()
    with pytest.raises(InputError, match="damaged \\(checksum mismatch\\).*restore another snapshot"):
        restore(tmp_store, good.snapshot_id)
    delete_snapshot(tmp_store, good.snapshot_id)
    assert good.snapshot_id not in set(list_snapshots(tmp_store).snapshot_id)
    assert snap_db.orphan_array_count(tmp_store) == 0


def test_migration_4_on_an_older_file_and_a_gap_below_the_files_version(tmp_db, monkeypatch):
    monkeypatch.setattr(store_core, "MIGRATIONS", MIGRATIONS[:2])
    old = Store(tmp_db)
    assert old.schema_version() == 2
    old.close()
    monkeypatch.setattr(store_core, "MIGRATIONS", MIGRATIONS)
    new = Store(tmp_db)
    assert new._applied_versions() == {v for v, _ in MIGRATIONS} and 4 in new._applied_versions()
    assert list_snapshots(new).empty
    new.close()


def test_a_migration_numbered_below_the_files_version_is_still_applied(tmp_db, monkeypatch):
    # migration 3 lives on another branch: a file made here has 1, 2, 4; when 3 arrives it is applied
    versions = {v for v, _ in MIGRATIONS}
    full = MIGRATIONS if 3 in versions else sorted([*MIGRATIONS, (3, ("CREATE TABLE gap_probe (x INTEGER)",))])
    monkeypatch.setattr(store_core, "MIGRATIONS", [m for m in full if m[0] != 3])
    first = Store(tmp_db)
    assert 3 not in first._applied_versions() and 4 in first._applied_versions()
    first.close()
    monkeypatch.setattr(store_core, "MIGRATIONS", full)
    again = Store(tmp_db)
    assert again._applied_versions() == {v for v, _ in full}
    assert again.schema_version() == max(v for v, _ in full)
    assert list_snapshots(again).empty


def test_state_that_cannot_be_stored_writes_nothing(tmp_store):
    from riskcore.portfolio.context import preset

    ctx = preset("calm")
    odd = ctx.replace(price_history=ctx.price_history.astype({"MES": "float32"}))
    rt = RiskRuntime(RiskEventProcessor(context=odd, n_simulations=200))
    with pytest.raises(InputError, match="price_history.*float64"):
        snapshot(tmp_store, rt)
    assert list_snapshots(tmp_store).empty


@pytest.mark.parametrize("index", [
    pd.date_range("2026-01-01", periods=4, freq="h", tz="Europe/Paris", name="ts"),
    pd.DatetimeIndex(["2026-01-02", "2026-01-05", "2026-01-09", "2026-02-01"]).as_unit("s"),
    pd.RangeIndex(10, 18, 2), pd.Index(["a", "b", "c", "d"], name="bar")])
def test_price_history_index_survives_exactly(index):
    from riskcore.portfolio._price_buffer import frame_from_state, frame_to_state

    f = pd.DataFrame({"MES": [1.0, 2.0, np.nan, 4.0], "MGC": [5.0, 6.0, 7.0, 8.5]}, index=index)
    back = frame_from_state(frame_to_state(f))
    pd.testing.assert_frame_equal(back, f)
    assert getattr(back.index, "freq", None) == getattr(f.index, "freq", None)
