"""HTML of the stable-token stress report."""

from __future__ import annotations

import html

from riskcore.errors import InputError
from riskcore.peg.report import StressReport
from riskcore.plots.peg import stress_figures
from riskcore.reports.template import document, figures_html

__all__ = ["stress_report_html"]


def stress_report_html(report: StressReport) -> str:
    """A standalone HTML document of ``report``: scenarios, peg statistics, changes, figures, parameters.

    Parameters
    ----------
    report : StressReport

    Returns
    -------
    str
        The document (plotly.js inline: opens offline).
    """
    table_html = report.table.to_html(float_format=lambda v: f"{v:.4g}", border=0, classes="stats")
    try:
        change_html = (f"<h2>Change against baseline ({html.escape(report.baseline_name())})</h2>"
                       + report.changes().to_html(float_format=lambda v: f"{v:+.4g}", border=0, classes="stats"))
    except InputError:   # no baseline scenario in the report: no change table
        change_html = ""
    scen = "".join(f"<li><b>{html.escape(n)}</b>: {html.escape(r.scenario.description or '')}</li>"
                   for n, r in report.results.items())
    params = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:g}</td></tr>" for k, v in report.params.to_dict().items())
    body = f"""<h1>Stable-token stress report</h1>
<p>{report.n_paths:,} paths × {report.n_steps} steps per scenario, seed {report.seed}, backend {report.backend.value},
computed in {report.elapsed_s:.2f} s on {report.created_at:%Y-%m-%d %H:%M} UTC. VaR and ES are positive losses of the
terminal price relative to the initial price; drawdowns are measured from the peg (1.0); days are steps × dt × 365.</p>
<h2>Scenarios</h2><ul>{scen}</ul>
<h2>Peg statistics</h2>{table_html}
{change_html}
<h2>Figures</h2>{figures_html(stress_figures(report).values())}
<h2>Parameters</h2><table>{params}</table>"""
    return document("riskcore stress report", body)
