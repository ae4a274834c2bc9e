"""Model validation framework and performance benchmark (seed 000 §2–3).

- :func:`validate` runs the price-model checks (:mod:`riskcore.validation.checks`) and the VaR-model
  backtests (:mod:`riskcore.validation.var_checks`) and returns a :class:`ValidationReport`
  (``summary()``, ``save(store)``, ``ValidationReport.load``; its HTML:
  :func:`riskcore.reports.validation_report_html`).
- :func:`run_benchmark` (:mod:`riskcore.validation.benchmark`) times the Monte Carlo backends and the
  VaR methods.

Examples
--------
>>> from riskcore.validation import validate           # doctest: +SKIP
>>> rep = validate(n_paths=20_000)                      # doctest: +SKIP
>>> rep.summary()[["status", "value", "target"]]        # doctest: +SKIP
"""

from __future__ import annotations

from riskcore._lazy import lazy_exports, lazy_table

#: public name -> module that defines it (imported on first use, the policy of every riskcore package)
_LAZY: dict[str, str] = lazy_table({
    "riskcore.validation.benchmark": "BenchmarkReport run_benchmark",
    "riskcore.validation.checks": "CheckGroup CheckResult CheckStatus",
    "riskcore.validation.core": "REPORT_KIND ValidationReport validate",
})

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
