"""Plotly figures for the portfolio risk system (Agent Inspector page and notebook 04)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskcore.agents.system import RiskDecision
from riskcore.portfolio.emergency import CRITIC_THRESHOLDS, EMERGENCY_RULES
from riskcore.portfolio.state import RISK_FEATURES

__all__ = ["risk_state_figure", "critic_scores_figure", "allocation_figure", "correlation_figure",
           "decision_latency_figure", "FEATURE_SCALES"]

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
