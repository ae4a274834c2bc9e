"""Standalone HTML of a validation report (tables, figures with plotly.js inline, check details).

This module sits above the models (it imports :mod:`riskcore.plots`); the models never import it.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

import pandas as pd

from riskcore.plots.validation import (
    STATUS_COLORS,
    benchmark_figure,
    convergence_figure,
    sensitivity_figure,
    var_benchmark_figure,
    var_coverage_figure,
)

__all__ = ["report_html", "checks_table_html"]

_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;
font-size:13px}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f4f4f4}
td.l{text-align:left}.passed{color:#2ca02c;font-weight:bold}.failed{color:#d62728;font-weight:bold}
.error{color:#7f7f7f;font-weight:bold}pre{background:#f8f8f8;padding:6px;font-size:12px;white-space:pre-wrap}"""


def _num(v: Any) -> str:
    if isinstance(v, float):
        return "—" if math.isnan(v) else f"{v:.6g}"
    return html.escape(str(v))


def checks_table_html(report: Any) -> str:
    """The checks as an HTML table with the status coloured."""
    rows = []
    for c in report.checks:
        rows.append(f"<tr><td class='l'>{html.escape(c.name)}</td><td class='l'>{html.escape(c.group.value)}</td>"
                    f"<td class='{c.status.value}'>{c.status.value.upper()}</td><td>{_num(c.value)}</td>"
                    f"<td>{_num(c.target)}</td><td>{_num(c.std_error)}</td><td class='l'>{html.escape(c.rule)}</td>"
                    f"<td class='l'>{html.escape(c.description)}</td></tr>")
    head = "".join(f"<th>{h}</th>" for h in ("check", "group", "status", "value", "target", "std error", "rule",
                                             "description"))
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _details_html(report: Any) -> str:
    parts = []
    for c in report.checks:
        if c.group.value != "price model":
            continue
        tables = []
        scalars = {}
        for k, v in c.details.items():
            if isinstance(v, list) and v and isinstance(v[0], dict):
                tables.append(pd.DataFrame(v).to_html(index=False, border=0, float_format=lambda x: f"{x:.6g}"))
            else:
                scalars[k] = v
        parts.append(f"<h3>{html.escape(c.name)} <span class='{c.status.value}'>{c.status.value.upper()}</span></h3>"
                     f"<p>{html.escape(c.description)}</p><pre>{html.escape(json.dumps(scalars, default=str))}</pre>"
                     + "".join(tables))
    return "".join(parts)


def report_html(report: Any) -> str:
    """A standalone HTML document of ``report`` (opens offline: plotly.js is inline)."""
    from plotly.offline import get_plotlyjs

    figs = []
    names = {c.name for c in report.checks}
    if "convergence" in names:
        figs.append(convergence_figure(report))
    if "sensitivity" in names and report.check("sensitivity").details.get("perturbations"):
        figs.append(sensitivity_figure(report))
    if any(c.group.value == "VaR model" for c in report.checks):
        figs.append(var_coverage_figure(report))
    bench_html = ""
    if report.benchmark is not None:
        b = report.benchmark
        figs += [benchmark_figure(b), var_benchmark_figure(b)]
        bench_html = ("<h2>Benchmark</h2>" + b.mc.to_html(index=False, border=0, float_format=lambda x: f"{x:.4g}")
                      + b.var.to_html(index=False, border=0, float_format=lambda x: f"{x:.4g}")
                      + f"<pre>{html.escape(json.dumps(b.machine, default=str, indent=1))}</pre>")
    fig_html = "".join(f.to_html(full_html=False, include_plotlyjs=False, default_height="420px") for f in figs)
    counts = report.counts()
    summary = ", ".join(f"<span class='{k}'>{v} {k}</span>" for k, v in counts.items())
    var_html = ""
    if report.var_summary is not None:
        var_html = "<h2>VaR backtest summary</h2>" + report.var_summary.to_html(
            border=0, float_format=lambda x: f"{x:.4g}")
    params = "".join(f"<tr><td class='l'>{html.escape(k)}</td><td>{v:g}</td></tr>"
                     for k, v in report.params.to_dict().items())
    settings = html.escape(json.dumps(report.settings, default=str))
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>riskcore validation report</title>
<script type="text/javascript">{get_plotlyjs()}</script><style>{_CSS}</style></head><body>
<h1>Model validation report</h1>
<p>{html.escape(str(report.created_at))} · {report.elapsed_s:.1f} s · checks: {summary}</p>
<p>Failing checks are shown as failing: no default, threshold or seed was changed to make one pass
(SPEC §1). Settings: <code>{settings}</code></p>
<h2>Checks</h2>{checks_table_html(report)}
{fig_html}
<h2>Price model details</h2>{_details_html(report)}
{var_html}{bench_html}
<h2>Parameters</h2><table>{params}</table>
<p style="color:{STATUS_COLORS['error']}">Generated by riskcore.validation.</p>
</body></html>"""
