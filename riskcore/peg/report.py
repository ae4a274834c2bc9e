"""Stress report: every scenario with the same parameters, one table.

:func:`stress_report` runs :func:`~riskcore.peg.montecarlo.simulate` for each scenario
(the presets by default) with the same parameters, number of paths and seed, and
collects the peg statistics in one table (rows: scenarios). The same seed on every
scenario gives common random numbers: a path's draws never depend on its price, so
path ``i`` sees the same shocks and jumps in every scenario, and the differences
between rows come from the scenarios, not from sampling noise.

Figures are built by :func:`riskcore.plots.peg.stress_figures`, the standalone HTML file by
:func:`riskcore.reports.stress_report_html` (presentation lives above the model).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.kinds import RunKind
from riskcore.params import ModelParameters
from riskcore.peg.montecarlo import Backend, SimulationResult, simulate
from riskcore.peg.scenarios import PRESETS, Scenario, preset
from riskcore.validate import integer

__all__ = ["StressReport", "stress_report", "REPORT_KIND", "HEADLINE_STATS"]

REPORT_KIND = RunKind.PEG_STRESS_REPORT
#: the statistics a committee reads first (each preset must move one of them, tests/peg/test_peg_presets_stress.py)
HEADLINE_STATS: tuple[str, ...] = ("mean_terminal", "p_terminal_below_0.98", "p_min_below_0.95", "p_depeg",
                                   "expected_days_below_0.98", "mean_drawdown")


@dataclass(frozen=True, eq=False)
class StressReport:
    """Results of a stress run over several scenarios.

    Attributes
    ----------
    results : dict
        Scenario name -> :class:`SimulationResult`, in run order.
    table : DataFrame
        Peg statistics (columns) per scenario (rows).
    """

    params: ModelParameters
    results: dict[str, SimulationResult]
    table: pd.DataFrame
    seed: int
    n_paths: int
    n_steps: int
    backend: Backend
    elapsed_s: float
    created_at: pd.Timestamp = field(default_factory=lambda: pd.Timestamp.now(tz="UTC"))
    run_id: str | None = None

    def summary(self) -> pd.DataFrame:
        """The peg statistics per scenario (a copy of :attr:`table`)."""
        return self.table.copy()

    def baseline_name(self) -> str:
        """The scenario the changes are measured against: the one named ``"baseline"``, else the first whose
        state is the default one with no shocks; :class:`InputError` when the report has none."""
        if "baseline" in self.results:
            return "baseline"
        for name, r in self.results.items():
            if r.scenario.is_baseline_state():
                return name
        raise InputError("scenarios", "the report has no baseline scenario to compare with (add 'baseline')",
                         value=list(self.results))

    def changes(self, baseline: str | None = None) -> pd.DataFrame:
        """Change against the baseline of every statistic: ``table - table.loc[baseline]`` (rows scenarios).

        All scenarios share the seed (common random numbers), so the differences come from the scenarios.
        """
        base = baseline or self.baseline_name()
        if base not in self.table.index:
            raise InputError("baseline", "is not a scenario of this report", value=base)
        return self.table - self.table.loc[base]

    def change_z(self, baseline: str | None = None) -> pd.DataFrame:
        """:meth:`changes` in standard errors, ``diff / sqrt(se_s^2 + se_base^2)`` (NaN where no standard error).

        The independent-samples standard error: with common random numbers the true one is smaller, so these
        z-scores understate the significance of a change, never overstate it.
        """
        base = baseline or self.baseline_name()
        se = pd.DataFrame({n: r.std_errors for n, r in self.results.items()}).T.reindex(
            index=self.table.index, columns=self.table.columns)
        with np.errstate(divide="ignore", invalid="ignore"):
            den = np.sqrt(se**2 + se.loc[base] ** 2)
            z = self.changes(base) / den
        return z.where(den > 0)

    def to_dict(self) -> dict[str, Any]:
        return {"params": self.params.to_dict(), "seed": self.seed, "n_paths": self.n_paths, "n_steps": self.n_steps,
                "backend": self.backend.value, "elapsed_s": self.elapsed_s,
                "scenarios": {n: r.scenario.to_dict() for n, r in self.results.items()},
                "table": self.table, "run_ids": {n: r.run_id for n, r in self.results.items()}}

    def save(self, store: Any, name: str | None = None) -> str:
        """Save every scenario run, then the report (kind ``"peg_stress_report"``); returns its id."""
        ids = {n: r.save(store, name=f"{name or 'stress'}:{n}") for n, r in self.results.items()}
        rid = store.save_run(REPORT_KIND, self.params, self.seed, self.table, name=name, run_ids=ids,
                             n_paths=self.n_paths, n_steps=self.n_steps, backend=self.backend.value,
                             elapsed_s=self.elapsed_s)
        from riskcore.store.groups import link_runs  # the scenario runs are listed under their report

        link_runs(store, rid, ids.values())
        return rid

    @classmethod
    def load(cls, store: Any, run_id: str) -> StressReport:
        """Read a report saved by :meth:`save` back, with its scenario runs."""
        rec = store.load_run(run_id, kind=REPORT_KIND)
        results = {n: SimulationResult.load(store, rid) for n, rid in rec.extra["run_ids"].items()}
        return cls(params=ModelParameters.from_dict(rec.params), results=results, table=rec.summary,
                   seed=int(rec.seed), n_paths=int(rec.extra["n_paths"]), n_steps=int(rec.extra["n_steps"]),
                   backend=Backend.parse(rec.extra["backend"]), elapsed_s=float(rec.extra["elapsed_s"]),
                   created_at=rec.created_at, run_id=rec.run_id)


def _scenario_list(scenarios: Sequence[Scenario | str] | Mapping[str, Scenario] | None) -> list[Scenario]:
    if scenarios is None:
        return list(PRESETS.values())
    items = list(scenarios.values()) if isinstance(scenarios, Mapping) else list(scenarios)
    out = [preset(s) if isinstance(s, str) else s for s in items]
    for s in out:
        if not isinstance(s, Scenario):
            raise InputError("scenarios", "must be Scenarios or preset names", value=type(s).__name__)
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise InputError("scenarios", "scenario names must be unique", value=names)
    if not out:
        raise InputError("scenarios", "at least one scenario is needed")
    return out


def stress_report(params: ModelParameters | None = None, n_paths: int = 20_000, n_steps: int = 365,
                  dt: float = 1 / 365, seed: int | np.random.Generator = 0, backend: Backend | str = Backend.NUMBA,
                  scenarios: Sequence[Scenario | str] | Mapping[str, Scenario] | None = None,
                  initial_price: float = 1.0, keep_paths: int = 20,
                  progress: Callable[[float], None] | None = None) -> StressReport:
    """Run every scenario (default: all presets) and collect the peg statistics.

    Parameters
    ----------
    params : ModelParameters, optional
    n_paths, n_steps, dt, seed, backend, initial_price, keep_paths
        As in :func:`~riskcore.peg.montecarlo.simulate`, the same for every scenario
        (``keep_paths`` is capped at ``n_paths``).
    scenarios : sequence of Scenario or preset names, or mapping, optional
    progress : callable, optional
        Fraction of the whole report done (0..1).

    Returns
    -------
    StressReport
    """
    t0 = time.perf_counter()
    params = params or ModelParameters()
    items = _scenario_list(scenarios)
    n_paths = integer("n_paths", n_paths, 1)
    keep_paths = integer("keep_paths", keep_paths, 0)
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(0, 2**63 - 1))
    results: dict[str, SimulationResult] = {}
    for i, sc in enumerate(items):
        def sub(f: float, i: int = i) -> None:
            if progress is not None:
                progress((i + f) / len(items))

        results[sc.name] = simulate(params, n_paths, n_steps=n_steps, dt=dt, seed=seed, backend=backend,
                                    initial_price=initial_price, scenario=sc,
                                    keep_paths=min(keep_paths, n_paths), progress=sub)
    table = pd.DataFrame({n: r.stats for n, r in results.items()}).T
    table.index.name = "scenario"
    first = next(iter(results.values()))
    return StressReport(params=params, results=results, table=table, seed=first.seed, n_paths=first.n_paths,
                        n_steps=first.n_steps, backend=first.backend, elapsed_s=time.perf_counter() - t0)
