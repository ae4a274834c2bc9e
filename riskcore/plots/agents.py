"""Plotly figures for the learned risk agents (notebook 06): learning curves, equity, drawdowns, sizing."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from riskcore.agents.evaluate import EvaluationResult
from riskcore.agents.mappo import CalibrationReport, TrainingResult

__all__ = ["learning_curves_figure", "equity_curves_figure", "drawdown_distribution_figure",
           "size_vs_kelly_figure", "reliability_figure"]

_CURVES = (("episode_return", "session return (reward)"), ("value_loss", "value loss"),
           ("policy_loss", "policy loss"), ("entropy", "entropy (mean per agent)"), ("approx_kl", "approximate KL"),
           ("explained_variance", "explained variance"), ("sizing_accuracy", "sizing accuracy"),
           ("risk_loss", "risk-head BCE"))


def learning_curves_figure(result: TrainingResult) -> go.Figure:
    """One panel per learning curve against the iteration."""
    c = result.curves
    fig = make_subplots(rows=2, cols=4, subplot_titles=[t for _, t in _CURVES])
    for i, (col, _) in enumerate(_CURVES):
        fig.add_trace(go.Scatter(x=c["iteration"], y=c[col], mode="lines", name=col, showlegend=False),
                      row=i // 4 + 1, col=i % 4 + 1)
    fig.update_layout(title="MAPPO learning curves", height=520)
    return fig


def equity_curves_figure(result: EvaluationResult, max_sessions: int = 20) -> go.Figure:
    """Mean equity path of each policy over the first seed's sessions, with a few sessions faint."""
    fig = go.Figure()
    for i, (policy, eq) in enumerate(result.equity.items()):
        x = np.arange(eq.shape[1])
        color = f"hsl({(i * 47) % 360}, 60%, 45%)"
        for s in range(min(max_sessions, eq.shape[0]) if i < 2 else 0):
            fig.add_trace(go.Scatter(x=x, y=eq[s], mode="lines", line={"width": 0.5, "color": color}, opacity=0.3,
                                     showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=eq.mean(0), mode="lines", name=policy, line={"width": 2.5, "color": color}))
    fig.update_layout(title="Equity during a session (mean over sessions; faint: single sessions)",
                      xaxis_title="bar", yaxis_title="equity")
    return fig


def drawdown_distribution_figure(result: EvaluationResult, limit: float = 0.02) -> go.Figure:
    """Box plot of each policy's intra-session maximum drawdown, with the PRD's 2 % line."""
    fig = go.Figure()
    for policy, dd in result.session_drawdowns.items():
        fig.add_trace(go.Box(y=100 * np.asarray(dd), name=policy, boxpoints=False))
    fig.add_hline(y=100 * limit, line_dash="dash", annotation_text="PRD limit 2 %")
    fig.update_layout(title="Maximum drawdown per session", yaxis_title="drawdown (%)")
    return fig


def size_vs_kelly_figure(result: EvaluationResult, policy: str = "learned") -> go.Figure:
    """Heat map of chosen contracts against the Kelly-optimal contracts for one policy."""
    if policy not in result.sizes:
        policy = next(iter(result.sizes))
    s = np.asarray(result.sizes[policy], dtype=int)
    m = np.zeros((6, 6))
    np.add.at(m, (s[:, 0].clip(0, 5), s[:, 1].clip(0, 5)), 1)
    share = m / max(m.sum(), 1)
    fig = go.Figure(go.Heatmap(z=share, x=list(range(6)), y=list(range(6)), colorscale="Blues",
                               text=np.round(100 * share, 1), texttemplate="%{text}%"))
    acc = float((np.abs(s[:, 0] - s[:, 1]) <= 1).mean()) if s.size else float("nan")
    fig.update_layout(title=f"{policy}: chosen size vs Kelly-optimal (within one contract: {acc:.1%})",
                      xaxis_title="Kelly-optimal contracts", yaxis_title="chosen contracts")
    return fig


def reliability_figure(report: CalibrationReport) -> go.Figure:
    """Observed frequency against mean forecast per bin, learned and rule critic, one panel per event."""
    events = list(report.brier.index)
    fig = make_subplots(rows=1, cols=len(events), subplot_titles=events)
    for j, ev in enumerate(events):
        for critic, dash in (("learned", "solid"), ("rule", "dot")):
            t = report.reliability[(report.reliability["event"] == ev) & (report.reliability["critic"] == critic)]
            t = t[t["count"] > 0]
            fig.add_trace(go.Scatter(x=t["mean_forecast"], y=t["observed_frequency"], mode="lines+markers",
                                     name=critic, line={"dash": dash}, showlegend=j == 0), row=1, col=j + 1)
        fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"color": "grey", "width": 1},
                                 showlegend=False), row=1, col=j + 1)
    fig.update_layout(title="Risk-head reliability (next-step events)", height=360)
    return fig
