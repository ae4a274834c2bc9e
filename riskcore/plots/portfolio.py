"""Plotly figures for the portfolio risk system (Agent Inspector page and notebook 04)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskcore.agents.system import RiskDecision
from riskcore.portfolio.emergency import CRITIC_THRESHOLDS, EMERGENCY_RULES
from riskcore.portfolio.state import RISK_FEATURES, RiskState

__all__ = ["risk_state_figure", "critic_scores_figure", "allocation_figure", "correlation_figure",
           "decision_latency_figure", "decision_report_html", "FEATURE_SCALES"]

#: scale of each state feature for the chart: the value shown as 1.0 (a limit or full range)
FEATURE_SCALES = {
    "account_equity_normalized": 1.0, "open_positions_count": 5.0, "volatility_regime": 1.0,
    "correlation_risk": 0.8, "var_estimate_5pct": 0.02, "current_drawdown_pct": 1.5, "margin_usage_pct": 90.0,
    "time_of_day_risk": 1.0, "market_stress_level": 1.0, "liquidity_conditions": 1.0,
}
_COLORS = {"ok": "#2a9d8f", "warn": "#e9c46a", "bad": "#e76f51"}


def _state(decision_or_state: RiskDecision | np.ndarray) -> np.ndarray:
    if isinstance(decision_or_state, RiskDecision):
        return np.asarray(decision_or_state.state, dtype=float)
    return np.asarray(decision_or_state, dtype=float)


def risk_state_figure(decision_or_state: RiskDecision | np.ndarray, normalized: np.ndarray | None = None) -> go.Figure:
    """Bars of the 10 risk features as a share of their scale (:data:`FEATURE_SCALES`), raw values as labels."""
    v = _state(decision_or_state)
    share = np.array([v[i] / FEATURE_SCALES[n] for i, n in enumerate(RISK_FEATURES)])
    colors = [_COLORS["bad"] if s > 1 else _COLORS["warn"] if s > 0.75 else _COLORS["ok"] for s in share]
    colors[0] = _COLORS["ok"]  # equity / capital: higher is better
    fig = go.Figure(go.Bar(x=share, y=list(RISK_FEATURES), orientation="h", marker_color=colors,
                           text=[f"{x:.4g}" for x in v], textposition="outside", name="share of scale",
                           hovertemplate="%{y}: %{text} (%{x:.2f} of scale)<extra></extra>"))
    if normalized is not None:
        fig.add_trace(go.Scatter(x=np.asarray(normalized, dtype=float), y=list(RISK_FEATURES), mode="markers",
                                 name="rolling z-score", marker=dict(symbol="diamond", size=9, color="#264653")))
    fig.add_vline(x=1.0, line_dash="dash", line_color="grey")
    fig.update_layout(title="Risk state vector (bar: value / scale; label: raw value)", height=420,
                      xaxis_title="share of scale (1 = limit)", yaxis=dict(autorange="reversed"),
                      margin=dict(l=10, r=10, t=50, b=10))
    return fig


def critic_scores_figure(risk_scores: Mapping[str, float] | RiskDecision) -> go.Figure:
    """The critic's four scores with the PRD's alert thresholds and the emergency thresholds."""
    scores = risk_scores.risk_scores if isinstance(risk_scores, RiskDecision) else dict(risk_scores)
    names = list(scores)
    vals = [scores[n] for n in names]
    colors = [_COLORS["bad"] if v > 0.9 else _COLORS["warn"] if v > CRITIC_THRESHOLDS.get(n, 1) else _COLORS["ok"]
              for n, v in zip(names, vals, strict=True)]
    fig = go.Figure(go.Bar(x=names, y=vals, marker_color=colors, text=[f"{v:.2f}" for v in vals],
                           textposition="outside", name="score"))
    fig.add_trace(go.Scatter(x=names, y=[CRITIC_THRESHOLDS.get(n) for n in names], mode="markers",
                             marker=dict(symbol="line-ew-open", size=40, color="#e9c46a", line=dict(width=3)),
                             name="alert threshold"))
    emerg = {r.metric: r.threshold for r in EMERGENCY_RULES if r.metric in scores}
    fig.add_trace(go.Scatter(x=names, y=[emerg.get(n) for n in names], mode="markers",
                             marker=dict(symbol="line-ew-open", size=40, color="#e76f51", line=dict(width=3)),
                             name="emergency threshold"))
    fig.update_layout(title="Critic risk scores", yaxis=dict(range=[0, 1.1], title="score"), height=360,
                      margin=dict(l=10, r=10, t=50, b=10))
    return fig


def allocation_figure(weights: RiskDecision | tuple[float, ...]) -> go.Figure:
    """The portfolio optimizer's weights over the five strategies."""
    w = weights.portfolio_allocation if isinstance(weights, RiskDecision) else tuple(weights)
    fig = go.Figure(go.Bar(x=[f"strategy {i}" for i in range(len(w))], y=list(w), marker_color="#264653",
                           text=[f"{x:.0%}" for x in w], textposition="outside"))
    fig.update_layout(title="Risk allocation over strategies", yaxis=dict(range=[0, 1], tickformat=".0%"),
                      height=320, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def correlation_figure(corr: pd.DataFrame) -> go.Figure:
    """Heatmap of a return correlation matrix."""
    fig = go.Figure(go.Heatmap(z=corr.to_numpy(), x=list(corr.columns), y=list(corr.index), zmin=-1, zmax=1,
                               colorscale="RdBu_r", text=np.round(corr.to_numpy(), 2), texttemplate="%{text}"))
    fig.update_layout(title="Return correlation of open positions", height=360, margin=dict(l=10, r=10, t=50, b=10),
                      yaxis=dict(autorange="reversed"))
    return fig


def decision_latency_figure(log: pd.DataFrame) -> go.Figure:
    """Processing latency of logged decisions over time, one colour per status."""
    fig = go.Figure()
    if not log.empty:
        for status, grp in log.groupby(log["status"].fillna("none")):
            fig.add_trace(go.Scatter(x=grp["created_at"], y=grp["latency_ms"], mode="markers", name=str(status)))
    fig.update_layout(title="Decision latency (ms)", yaxis_title="ms", height=320, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def decision_report_html(decision: RiskDecision, response: Mapping[str, Any] | None = None,
                         risk_state: RiskState | None = None) -> str:
    """A standalone HTML report of one risk decision (plotly.js inline: opens offline).

    Verdict (the processor's ``response`` when given), each agent's action and reason, the
    critic's scores with the emergency check, the risk state vector and the stop/target
    updates of open positions.
    """
    from plotly.offline import get_plotlyjs

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
    charts = "".join(f.to_html(full_html=False, include_plotlyjs=False, default_height="380px") for f in figs)
    agents = decision.summary().to_html(index=False, border=0, classes="t")
    state = pd.DataFrame({"value": decision.state}, index=pd.Index(RISK_FEATURES, name="feature"))
    updates = (pd.DataFrame(decision.stop_target_updates).T.to_html(border=0, classes="t")
               if decision.stop_target_updates else "<p>No open positions.</p>")
    alerts = "".join(f"<li>{html.escape(a)}</li>" for a in decision.alerts) or "<li>none</li>"
    var_line = "" if risk_state is None else f"<p>Portfolio VaR (1 day, 5 % tail): {risk_state.var_currency:,.2f}</p>"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>riskcore risk decision</title>
<script type="text/javascript">{get_plotlyjs()}</script>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}} table.t td,table.t th,table.f td,table.f th{{
padding:3px 8px;text-align:left;border-bottom:1px solid #ddd}}</style></head>
<body><h1>Risk decision</h1><table class="f">{rows}</table>
<h2>Agents</h2>{agents}
<h2>Critic</h2><p>Risk scores: {html.escape(", ".join(f"{k} {v:.3f}" for k, v in decision.risk_scores.items()))}.
Emergency check: {html.escape(e.severity)}, conditions {html.escape(", ".join(e.conditions) or "none")},
recommended {html.escape(e.recommended_action.value)}.</p><ul>{alerts}</ul>
<h2>Risk state vector</h2>{var_line}{state.to_html(border=0, classes="t", float_format=lambda v: f"{v:.6g}")}
<h2>Stop/target updates of open positions</h2>{updates}
<h2>Figures</h2>{charts}
</body></html>"""
