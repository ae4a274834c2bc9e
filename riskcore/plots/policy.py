"""Plotly figure of the learned agents' action distributions for one decision (Agent Inspector)."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from riskcore.agents.policy import AgentName, RiskAction

__all__ = ["action_distribution_figure"]

_LABELS = {
    AgentName.POSITION_SIZING.value: [f"{n} contracts" for n in range(6)],
    AgentName.RISK_MONITOR.value: [a.name for a in RiskAction],
    AgentName.STOP_TARGET.value: ["stop × ATR", "target × ATR"],
}


def action_distribution_figure(decision) -> go.Figure:
    """One panel per learned agent: probabilities of a categorical head; mode and 90 % range of a
    stop/target head; the mode weights of the allocation. ``decision.distributions`` as logged."""
    dists = dict(getattr(decision, "distributions", {}) or {})
    names = list(dists) or ["no learned agent"]
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names)
    for i, name in enumerate(names, start=1):
        d = dists.get(name)
        if d is None:
            continue
        if d["kind"] == "categorical":
            p = d["probabilities"]
            fig.add_trace(go.Bar(x=_LABELS.get(name, list(range(len(p)))), y=p, name=name, showlegend=False),
                          row=1, col=i)
            fig.update_yaxes(range=[0, 1], title_text="probability" if i == 1 else None, row=1, col=i)
        elif d["kind"] == "logit_normal":
            m, lo, hi = d["mode"], d["low_90"], d["high_90"]
            fig.add_trace(go.Scatter(x=_LABELS[name], y=m, mode="markers", name=name, showlegend=False,
                                     error_y={"type": "data", "symmetric": False,
                                              "array": [h - v for h, v in zip(hi, m, strict=True)],
                                              "arrayminus": [v - lo_ for v, lo_ in zip(m, lo, strict=True)]}),
                          row=1, col=i)
        else:
            w = d["mode"]
            fig.add_trace(go.Bar(x=[f"strategy {k}" for k in range(len(w))], y=w, name=name, showlegend=False),
                          row=1, col=i)
    fig.update_layout(title="Learned agents' action distributions for this request (stop/target: mode and 90 % "
                            "range)", height=360)
    return fig
