"""``validate``: every price-model and VaR-model check in one report (seed 000 §3).

A failing check is reported as failing: nothing is retuned, hidden or rerun with another seed to make
it pass (SPEC §1). A check that cannot run is reported with status ``error`` and its message.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.kinds import RunKind
from riskcore.params import ModelParameters
from riskcore.peg.montecarlo import Backend, _resolve_seed
from riskcore.validate import integer
from riskcore.validation.checks import PRICE_CHECKS, CheckGroup, CheckResult, CheckStatus, _Run
from riskcore.validation.var_checks import source_returns, var_checks

__all__ = ["ValidationReport", "validate", "REPORT_KIND", "DEFAULT_PATHS"]

#: store kind of a saved validation report
REPORT_KIND = RunKind.VALIDATION_REPORT
#: default paths of the Monte Carlo checks
DEFAULT_PATHS = 100_000

ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True, eq=False)
class ValidationReport:
    """Results of :func:`validate`.

    Attributes
    ----------
    checks : tuple of CheckResult
        Price-model checks, then VaR-model checks.
    var_summary : DataFrame or None
        The rolling backtest's summary (all its columns), index ``(method, confidence)``.
    benchmark : BenchmarkReport or None
        Attached by :meth:`with_benchmark` (the page and the HTML show it).
    """

    params: ModelParameters
    checks: tuple[CheckResult, ...]
    var_summary: pd.DataFrame | None
    settings: dict[str, Any]
    elapsed_s: float
    created_at: pd.Timestamp = field(default_factory=lambda: pd.Timestamp.now(tz="UTC"))
    benchmark: Any = None
    run_id: str | None = None

    # -- views -----------------------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """One row per check: group, status, value, target, std_error, rule, description (index: name)."""
        df = pd.DataFrame([c.summary() for c in self.checks], index=pd.Index([c.name for c in self.checks],
                                                                              name="check"))
        return df

    def check(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise InputError("name", f"no check of this name; checks: {', '.join(c.name for c in self.checks)}",
                         value=name)

    @property
    def n_failed(self) -> int:
        return sum(c.status is not CheckStatus.PASSED for c in self.checks)

    def counts(self) -> dict[str, int]:
        """Number of checks per status."""
        return {s.value: sum(c.status is s for c in self.checks) for s in CheckStatus}

    def to_dict(self) -> dict[str, Any]:
        return {"params": self.params.to_dict(), "checks": [c.to_dict() for c in self.checks],
                "settings": dict(self.settings), "elapsed_s": self.elapsed_s, "created_at": str(self.created_at),
                "counts": self.counts(), "run_id": self.run_id}

    def with_benchmark(self, benchmark: Any) -> ValidationReport:
        """A copy with a :class:`~riskcore.validation.benchmark.BenchmarkReport` attached."""
        import dataclasses

        return dataclasses.replace(self, benchmark=benchmark, run_id=None)

    def save(self, store: Any, name: str | None = None) -> str:
        """Save as a run of kind ``"validation_report"``; returns the run id."""
        extra: dict[str, Any] = {"checks": [c.to_dict() for c in self.checks], "settings": dict(self.settings),
                                 "elapsed_s": self.elapsed_s, "created_at": str(self.created_at),
                                 "var_summary": self.var_summary}
        if self.benchmark is not None:
            extra["benchmark"] = self.benchmark.to_dict()
        return store.save_run(REPORT_KIND, self.params, self.settings.get("seed"), self.summary(), name=name, **extra)

    @classmethod
    def load(cls, store: Any, run_id: str) -> ValidationReport:
        """A report saved by :meth:`save`."""
        rec = store.load_run(run_id, kind=REPORT_KIND)
        e = rec.extra
        bench = None
        if e.get("benchmark") is not None:
            from riskcore.validation.benchmark import BenchmarkReport

            bench = BenchmarkReport.from_dict(e["benchmark"])
        return cls(params=ModelParameters.from_dict(rec.params),
                   checks=tuple(CheckResult.from_dict(d) for d in e["checks"]), var_summary=e.get("var_summary"),
                   settings=dict(e["settings"]), elapsed_s=float(e["elapsed_s"]),
                   created_at=pd.Timestamp(e["created_at"]), benchmark=bench, run_id=rec.run_id)


def _error(name: str, group: CheckGroup, exc: BaseException) -> CheckResult:
    return CheckResult(name, group, CheckStatus.ERROR, math.nan, math.nan, math.nan, "the check must run",
                       f"{name} could not run", {"error": f"{type(exc).__name__}: {exc}"})


def validate(params: ModelParameters | None = None, n_paths: int = DEFAULT_PATHS, seed: int | np.random.Generator = 0,
             backend: Backend | str = Backend.NUMBA, returns: Any = None, var_window: int = 252,
             price_checks: bool = True, var: bool = True, progress: ProgressFn | None = None) -> ValidationReport:
    """Run the validation framework.

    Parameters
    ----------
    params : ModelParameters, optional
        The price model to validate (default: the source's defaults).
    n_paths : int, default 100,000
        Paths of each Monte Carlo check (the stability and floor checks use at most 20,000).
    seed : int or Generator, default 0
        One seed for every check (the sensitivity check relies on it: common random numbers).
    backend : Backend or str, default "numba"
        Monte Carlo backend of the price checks.
    returns : array-like, Series or PriceSeries, optional
        Return series of the VaR checks; default the source's sample (:func:`source_returns`: 2,000
        normal returns, mean -0.1 %, volatility 2 %, seed 42).
    var_window : int, default 252
        Estimation window of the rolling backtests (the source's one year).
    price_checks, var : bool
        Which groups to run.
    progress : callable(fraction, message), optional

    Returns
    -------
    ValidationReport
    """
    t0 = time.perf_counter()
    if params is None:
        params = ModelParameters()
    if not isinstance(params, ModelParameters):
        raise InputError("params", "must be a ModelParameters", value=type(params).__name__)
    n_paths = integer("n_paths", n_paths, 100, 10_000_000)
    seed_int = _resolve_seed(seed)
    backend = Backend.parse(backend)
    var_window = integer("var_window", var_window, 30)
    if not (price_checks or var):
        raise InputError("price_checks", "at least one group (price_checks or var) must be run")
    run = _Run(n_paths, seed_int, backend)
    r = None
    if var:
        from riskcore.var.measures import as_returns

        r = source_returns() if returns is None else as_returns(returns)
        if r.size <= var_window + 30:
            raise InputError("returns", f"needs more than var_window + 30 = {var_window + 30} returns", value=r.size)
    steps = (len(PRICE_CHECKS) if price_checks else 0) + (1 if var else 0)
    done = 0

    def report(msg: str, frac: float = 0.0) -> None:
        if progress is not None:
            progress(min(1.0, (done + frac) / steps), msg)

    checks: list[CheckResult] = []
    if price_checks:
        for name, fn in PRICE_CHECKS.items():
            report(f"price model: {name}")
            try:
                out = fn(params, run)
                checks.extend(out if isinstance(out, list) else [out])
            except Exception as exc:  # noqa: BLE001 - a check that cannot run is a result, shown as an error
                checks.append(_error(name, CheckGroup.PRICE, exc))
            done += 1
    var_summary = None
    if var:
        report("VaR models: rolling backtests")
        try:
            vc, bt = var_checks(r, window=var_window,
                                progress=None if progress is None else lambda f, m: report(f"VaR: {m}", f))
            checks.extend(vc)
            var_summary = bt.summary()
        except Exception as exc:  # noqa: BLE001
            checks.append(_error("var_backtests", CheckGroup.VAR, exc))
        done += 1
    report("done")
    settings = {"n_paths": n_paths, "seed": seed_int, "backend": backend.value, "var_window": var_window,
                "returns": "source sample (normal, mean -0.1 %, vol 2 %, n 2000, seed 42)" if returns is None
                else f"given ({0 if r is None else r.size} returns)", "n_returns": None if r is None else int(r.size)}
    return ValidationReport(params=params, checks=tuple(checks), var_summary=var_summary, settings=settings,
                            elapsed_s=time.perf_counter() - t0)
