"""Issue 16 item 5: one kind check in Store.load_run(kind=...) for every result's load, RunKind names every kind."""

from __future__ import annotations

import importlib

import pytest

from riskcore.errors import InputError
from riskcore.kinds import RunKind
from riskcore.params import ModelParameters
from riskcore.peg.calibration import CalibrationResult
from riskcore.peg.montecarlo import SimulationResult, simulate
from riskcore.peg.sweep import ReverseStressResult, SweepResult
from riskcore.store import RunKind as StoreRunKind
from riskcore.validation import BenchmarkReport, ValidationReport
from riskcore.var import BacktestResult, VaRReport


def test_load_run_checks_the_kind_once(tmp_store):
    rid = tmp_store.save_run(RunKind.VAR_BACKTEST, {"a": 1}, None, {"x": 1.0})
    # the store writes the plain value: runs saved before the enum and after it are the same rows
    assert tmp_store.list_runs(RunKind.VAR_BACKTEST).run_id.tolist() == [rid]
    assert tmp_store.list_runs("var_backtest").run_id.tolist() == [rid]
    rec = tmp_store.load_run(rid, kind=RunKind.VAR_BACKTEST)
    assert rec.kind == "var_backtest" and type(rec.kind) is str
    assert tmp_store.load_run(rid, kind="var_backtest").run_id == rid
    assert tmp_store.load_run(rid).run_id == rid  # no kind: no check
    with pytest.raises(InputError, match="is a 'var_backtest' run, not a 'peg_simulation' run") as info:
        tmp_store.load_run(rid, kind=RunKind.PEG_SIMULATION)
    assert info.value.field == "run_id" and info.value.value == rid
    with pytest.raises(InputError, match="no saved run has this id"):
        tmp_store.load_run("nope", kind=RunKind.VAR_BACKTEST)


@pytest.mark.parametrize("cls", [SimulationResult, CalibrationResult, SweepResult, ReverseStressResult,
                                 BacktestResult, VaRReport, ValidationReport, BenchmarkReport])
def test_every_result_load_refuses_another_kind_with_one_message(tmp_store, cls):
    rid = tmp_store.save_run("something_else", None, None, {"x": 1.0})
    with pytest.raises(InputError, match="is a 'something_else' run, not a '[a-z_]+' run") as info:
        cls.load(tmp_store, rid)
    assert info.value.field == "run_id"


def test_a_saved_simulation_loads_through_its_kind(tmp_store):
    r = simulate(ModelParameters(), 512, n_steps=20, seed=4)
    rid = r.save(tmp_store)
    assert tmp_store.list_runs().kind.tolist() == [RunKind.PEG_SIMULATION.value]
    assert SimulationResult.load(tmp_store, rid).terminal.tolist() == r.terminal.tolist()


def test_run_kind_lists_every_kind_in_use():
    # module constants of every workflow that saves runs (import_module: riskcore.var.backtest is also a function)
    consts = {"riskcore.peg.montecarlo": ["RUN_KIND"], "riskcore.peg.calibration": ["RUN_KIND"],
              "riskcore.peg.sweep": ["SWEEP_KIND", "REVERSE_KIND"], "riskcore.peg.report": ["REPORT_KIND"],
              "riskcore.var.backtest": ["RUN_KIND"], "riskcore.var.ensemble": ["RUN_KIND"],
              "riskcore.monitor.session": ["RUN_KIND"], "riskcore.agents.mappo": ["RUN_KIND"],
              "riskcore.agents.evaluate": ["RUN_KIND"], "riskcore.validation.core": ["REPORT_KIND"],
              "riskcore.validation.benchmark": ["BENCH_KIND"]}
    used = {getattr(importlib.import_module(m), c) for m, names in consts.items() for c in names}
    assert used == {k.value for k in RunKind}
    assert StoreRunKind is RunKind
