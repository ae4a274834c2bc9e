"""Model validation framework and performance benchmark (seed 000 §2–3).

- :func:`validate` runs the price-model checks (:mod:`riskcore.validation.checks`) and the VaR-model
  backtests (:mod:`riskcore.validation.var_checks`) and returns a :class:`ValidationReport`
  (``summary()``, ``to_html()``, ``save(store)``, ``ValidationReport.load``).
- :func:`run_benchmark` (:mod:`riskcore.validation.benchmark`) times the Monte Carlo backends and the
  VaR methods.

Examples
--------
>>> from riskcore.validation import validate           # doctest: +SKIP
>>> rep = validate(n_paths=20_000)                      # doctest: +SKIP
>>> rep.summary()[["status", "value", "target"]]        # doctest: +SKIP
"""

from riskcore.validation.benchmark import BenchmarkReport, run_benchmark
from riskcore.validation.checks import CheckGroup, CheckResult, CheckStatus
from riskcore.validation.core import REPORT_KIND, ValidationReport, validate

__all__ = ["validate", "ValidationReport", "CheckResult", "CheckStatus", "CheckGroup", "run_benchmark",
           "BenchmarkReport", "REPORT_KIND"]
