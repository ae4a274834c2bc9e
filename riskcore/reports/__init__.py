"""Standalone HTML reports, one function per report, over one shared template.

This package sits **above** the models and the figure builders: it imports
:mod:`riskcore.peg`, :mod:`riskcore.monitor`, :mod:`riskcore.portfolio` and :mod:`riskcore.plots`,
and none of those imports it (``tests/test_lint.py`` enforces it), so a result object never pulls
plotly in and presentation never feeds back into a model.

Modules
-------
template   the page skeleton and its one stylesheet, plotly.js inline (reports open offline)
peg        :func:`stress_report_html` of a :class:`~riskcore.peg.report.StressReport`
monitor    :func:`stability_review_html` of a :class:`~riskcore.monitor.review.StabilityReview`
portfolio  :func:`decision_report_html` of a :class:`~riskcore.agents.system.RiskDecision`
validation :func:`validation_report_html` of a :class:`~riskcore.validation.ValidationReport`
"""

from __future__ import annotations

from riskcore._lazy import lazy_exports, lazy_table

#: public name -> module that defines it
_LAZY: dict[str, str] = lazy_table({
    "riskcore.reports.template": "document",
    "riskcore.reports.peg": "stress_report_html",
    "riskcore.reports.monitor": "stability_review_html",
    "riskcore.reports.portfolio": "decision_report_html",
    "riskcore.reports.validation": "validation_report_html",
})

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
