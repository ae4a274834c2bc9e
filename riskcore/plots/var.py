"""Plotly figures for Value at Risk: ensemble table chart, rolling backtest, return distribution with tail fit.

Every function takes result objects (:class:`riskcore.var.VaRReport`, :class:`riskcore.var.BacktestResult`)
and returns a ``plotly.graph_objects.Figure``; pages and notebooks show them as they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import stats

from riskcore.var.measures import ENSEMBLE, as_returns

__all__ = ["ensemble_figure", "backtest_figure", "distribution_figure", "weights_figure", "summary_with_lights"]

_COLORS = {"historical": "#1f77b4", "parametric": "#ff7f0e", "cornish_fisher": "#2ca02c", "evt": "#9467bd",
           "fhs": "#8c564b", ENSEMBLE: "#d62728"}


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def ensemble_figure(report: Any) -> go.Figure:
    """Grouped bars of each method's VaR and ES, and the ensemble, at every confidence level.

    Parameters
    ----------
    report : VaRReport
    """
    cs = list(report.confidences)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Value at Risk", "Expected Shortfall"), shared_yaxes=True)
    for m in report.var.index:
        color = _COLORS.get(m)
        for col, frame in ((1, report.var), (2, report.es)):
            fig.add_trace(go.Bar(name=m, x=[f"{c:.3g}" for c in cs], y=frame.loc[m, cs].to_numpy() * 100,
                                 marker_color=color, legendgroup=m, showlegend=col == 1,
                                 hovertemplate=f"{m}<br>%{{x}}: %{{y:.3f}}%<extra></extra>"), row=1, col=col)
    fig.update_layout(barmode="group", height=380, margin={"t": 40, "b": 30}, legend_title_text="method")
    fig.update_yaxes(title_text="loss (% of value)", row=1, col=1)
    fig.update_xaxes(title_text="confidence", type="category")
    return fig


def weights_figure(report: Any) -> go.Figure:
    """Ensemble weights per method (stacked to 1 at each confidence level)."""
    fig = go.Figure()
    for m in report.weights.index:
        fig.add_trace(go.Bar(name=m, x=[f"{c:.3g}" for c in report.confidences],
                             y=report.weights.loc[m].to_numpy(), marker_color=_COLORS.get(m)))
    fig.update_layout(barmode="stack", height=300, yaxis_title="weight", xaxis_title="confidence",
                      margin={"t": 20, "b": 30})
    fig.update_xaxes(type="category")
    return fig


def backtest_figure(result: Any, confidence: float | None = None, methods: list[str] | None = None,
                    violations_of: str | None = None) -> go.Figure:
    """Realised returns with the rolling VaR lines (as ``-VaR``) and the violations marked.

    Parameters
    ----------
    result : BacktestResult
    confidence : float, optional
        Level to draw; default the highest level of 0.99 or below, else the first.
    methods : list of str, optional
        Method labels whose VaR lines are drawn; default all (including ``"ensemble"``).
    violations_of : str, optional
        Method whose violations are marked; default ``"ensemble"`` when present, else the first method.
    """
    cs = list(result.confidences)
    if confidence is None:
        below = [c for c in cs if c <= 0.99]
        confidence = max(below) if below else cs[0]
    confidence = float(confidence)
    labels = result.labels
    methods = labels if methods is None else [m for m in methods if m in labels]
    violations_of = violations_of or (ENSEMBLE if ENSEMBLE in labels else labels[0])
    realized = result.realized
    x = realized.index
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=x, y=realized.to_numpy() * 100, mode="lines", name="return",
                               line={"color": "rgba(120,120,120,0.6)", "width": 1}))
    for m in methods:
        line = {"color": _COLORS.get(m), "width": 2 if m == ENSEMBLE else 1}
        fig.add_trace(go.Scattergl(x=x, y=-result.forecasts[(m, confidence)].to_numpy() * 100, mode="lines",
                                   name=f"-VaR {m}", line=line))
    v = result.violations[(violations_of, confidence)].to_numpy()
    fig.add_trace(go.Scattergl(x=x[v], y=realized.to_numpy()[v] * 100, mode="markers",
                               name=f"violations ({violations_of}: {int(v.sum())})",
                               marker={"color": "black", "symbol": "x", "size": 7}))
    fig.update_layout(height=450, margin={"t": 40, "b": 30}, yaxis_title="daily return (%)",
                      title=f"Rolling {confidence:.3g} VaR, window {result.window}",
                      legend={"orientation": "h", "y": -0.15})
    return fig


def distribution_figure(returns: Any, report: Any, bins: int = 80) -> go.Figure:
    """Histogram of returns with the normal fit, the EVT (GPD) tail fit and the ensemble VaR levels.

    Parameters
    ----------
    returns : Series or array-like
        The returns the report was fitted on.
    report : VaRReport
        Its ``info["evt"]`` (threshold, xi, beta, n_exceed) draws the tail density
        :math:`(N_u/n)\\,g_{\\xi,\\beta}(u - r)` for returns below the threshold ``u``.
    """
    r = as_returns(returns).to_numpy()
    fig = go.Figure()
    fig.add_trace(go.Histogram(x=r * 100, nbinsx=bins, histnorm="probability density", name="returns",
                               marker_color="rgba(31,119,180,0.45)"))
    grid = np.linspace(r.min(), r.max(), 400)
    mu, sd = r.mean(), r.std(ddof=1)
    # densities per percent: divide by 100 because the x axis is in percent
    fig.add_trace(go.Scatter(x=grid * 100, y=stats.norm.pdf(grid, mu, sd) / 100, name="normal fit",
                             line={"color": "#ff7f0e", "dash": "dot"}))
    evt = report.info.get("evt", {}) if hasattr(report, "info") else {}
    if evt and np.isfinite(evt.get("xi", np.nan)):
        u, xi, beta = evt["threshold"], evt["xi"], evt["beta"]
        tail = np.linspace(r.min(), u, 200)
        dens = evt["n_exceed"] / evt["n"] * stats.genpareto.pdf(u - tail, xi, 0, beta)
        fig.add_trace(go.Scatter(x=tail * 100, y=dens / 100, name=f"GPD tail fit (ξ={xi:.3f})",
                                 line={"color": "#9467bd", "width": 3}))
        fig.add_vline(x=u * 100, line={"color": "#9467bd", "dash": "dash"},
                      annotation_text="EVT threshold", annotation_position="top")
    if hasattr(report, "var") and ENSEMBLE in report.var.index:
        for i, c in enumerate(report.confidences):
            v = float(report.var.loc[ENSEMBLE, c])
            fig.add_vline(x=-v * 100, line={"color": "#d62728", "width": 1},
                          annotation_text=f"VaR {c:.3g}: {_pct(v)}",
                          annotation_position="bottom left" if i % 2 == 0 else "top left")
    fig.update_layout(height=420, margin={"t": 40, "b": 30}, xaxis_title="return (%)", yaxis_title="density",
                      legend={"orientation": "h", "y": -0.2}, bargap=0.02)
    return fig


_LIGHT_CSS = {"green": "background-color: #c8e6c9; color: #1b5e20",
              "yellow": "background-color: #fff3b0; color: #6d5d00",
              "red": "background-color: #ffcdd2; color: #b71c1c"}


def summary_with_lights(table: pd.DataFrame) -> Any:
    """A summary table as a pandas ``Styler`` with the ``traffic_light`` cells coloured (green/yellow/red)."""
    styler = table.style
    if "traffic_light" in table.columns:
        styler = styler.map(lambda v: _LIGHT_CSS.get(str(v), ""), subset=["traffic_light"])
    return styler
