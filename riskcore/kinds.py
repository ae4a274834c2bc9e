"""The kinds of saved run: one name per workflow that writes :meth:`riskcore.store.Store.save_run`.

A leaf module (standard library only) so the model packages can name their kind without
importing the store (and DuckDB); :mod:`riskcore.store` re-exports it.

The store's ``runs.kind`` column holds the enum's value (a plain string), so runs saved
before the enum existed load unchanged. :meth:`Store.load_run` checks the kind once for
every result class (``load_run(run_id, kind=RunKind.VAR_BACKTEST)``) instead of each
``load`` comparing strings itself.
"""

from __future__ import annotations

import enum

__all__ = ["RunKind"]


class RunKind(enum.StrEnum):
    """Kind of a saved run (the value is what the store writes in ``runs.kind``).

    Members compare equal to their string value, so ``list_runs("var_backtest")`` and
    ``list_runs(RunKind.VAR_BACKTEST)`` are the same query.
    """

    PEG_SIMULATION = "peg_simulation"
    PEG_SWEEP = "peg_sweep"
    PEG_REVERSE_STRESS = "peg_reverse_stress"
    PEG_STRESS_REPORT = "peg_stress_report"
    CALIBRATION = "calibration"
    VAR_BACKTEST = "var_backtest"
    VAR_ENSEMBLE = "var_ensemble"
    MONITOR = "monitor"
    AGENTS_TRAINING = "agents_training"
    AGENTS_EVALUATION = "agents_evaluation"
    VALIDATION_REPORT = "validation_report"
    VALIDATION_BENCHMARK = "validation_benchmark"
