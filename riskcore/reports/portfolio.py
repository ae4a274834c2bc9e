"""HTML of one risk decision (the Agent Inspector's download)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import pandas as pd

from riskcore.agents.system import RiskDecision
from riskcore.plots.portfolio import allocation_figure, correlation_figure, critic_scores_figure, risk_state_figure
from riskcore.portfolio.state import RISK_FEATURES, RiskState
from riskcore.reports.template import document, figures_html

__all__ = ["decision_report_html"]


def decision_report_html(decision: RiskDecision, response: Mapping[str, Any] | None = None,
                         risk_state: RiskState | None = None) -> str:
    """A standalone HTML report of one risk decision (plotly.js inline: opens offline).

    Verdict (the processor's ``response`` when given), each agent's action and reason, the
    critic's scores with the emergency check, the risk state vector and the stop/target
    updates of open positions.
    """
    resp = dict(response or {})
    e = decision.emergency
    verdict = (f"EMERGENCY: {e.recommended_action.value} ({', '.join(e.conditions)})" if decision.is_emergency
               else f"NORMAL, priority {decision.execution_priority}")
    facts = {"decision": verdict, "status": resp.get("status"), "reason": resp.get("reason"),
             "approved_quantity": resp.get("approved_quantity", decision.position_size),
             "stop_loss_price": resp.get("stop_loss_price", decision.stop_loss_price),
             "take_profit_price": resp.get("take_profit_price", decision.take_profit_price),
             "processing_time_ms": resp.get("processing_time_ms")}
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape('—' if v is None else str(v))}</td></tr>"
                   for k, v in facts.items())
    figs = [risk_state_figure(decision), critic_scores_figure(decision), allocation_figure(decision)]
    if risk_state is not None and risk_state.correlation is not None:
        figs.append(correlation_figure(risk_state.correlation))
    charts = figures_html(figs, height="380px")
    agents = decision.summary().to_html(index=False, border=0, classes="t")
    state = pd.DataFrame({"value": decision.state}, index=pd.Index(RISK_FEATURES, name="feature"))
    updates = (pd.DataFrame(decision.stop_target_updates).T.to_html(border=0, classes="t")
               if decision.stop_target_updates else "<p>No open positions.</p>")
    alerts = "".join(f"<li>{html.escape(a)}</li>" for a in decision.alerts) or "<li>none</li>"
    var_line = "" if risk_state is None else f"<p>Portfolio VaR (1 day, 5 % tail): {risk_state.var_currency:,.2f}</p>"
    body = f"""<h1>Risk decision</h1><table class="f">{rows}</table>
<h2>Agents</h2>{agents}
<h2>Critic</h2><p>Risk scores: {html.escape(", ".join(f"{k} {v:.3f}" for k, v in decision.risk_scores.items()))}.
Emergency check: {html.escape(e.severity)}, conditions {html.escape(", ".join(e.conditions) or "none")},
recommended {html.escape(e.recommended_action.value)}.</p><ul>{alerts}</ul>
<h2>Risk state vector</h2>{var_line}{state.to_html(border=0, classes="t", float_format=lambda v: f"{v:.6g}")}
<h2>Stop/target updates of open positions</h2>{updates}
<h2>Figures</h2>{charts}"""
    return document("riskcore risk decision", body)
