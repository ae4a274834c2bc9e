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

    Two panels: the whole distribution (linear density) and the left tail beyond the EVT threshold on a
    logarithmic density axis, where the tail fit can be compared with the data (on the linear axis the
    tail densities are too small to see).

    Parameters
    ----------
    returns : Series or array-like
        The returns the report was fitted on.
    report : VaRReport
        Its ``info["evt"]`` (threshold, xi, beta, n_exceed) draws the tail density
        :math:`(N_u/n)\\,g_{\\xi,\\beta}(u - r)` for returns below the threshold ``u``.
    bins : int
        Histogram bins of the whole distribution.
    """
    r = as_returns(returns).to_numpy()
    evt = (report.info.get("evt") or {}) if hasattr(report, "info") else {}
    fitted = bool(evt) and np.isfinite(evt.get("xi", np.nan))
    u = float(evt["threshold"]) if evt else float(np.quantile(r, 0.05))
    fig = make_subplots(rows=1, cols=2, column_widths=[0.62, 0.38], horizontal_spacing=0.08,
                        subplot_titles=("All returns", "Left tail beyond the EVT threshold (log density)"))
    fig.add_trace(go.Histogram(x=r * 100, nbinsx=bins, histnorm="probability density", name="returns",
                               marker_color="rgba(31,119,180,0.45)", legendgroup="r"), row=1, col=1)
    mu, sd = r.mean(), r.std(ddof=1)
    # densities per percent: divide by 100 because the x axes are in percent
    grid = np.linspace(r.min(), r.max(), 400)
    fig.add_trace(go.Scatter(x=grid * 100, y=stats.norm.pdf(grid, mu, sd) / 100, name="normal fit",
                             line={"color": "#ff7f0e", "dash": "dot"}, legendgroup="n"), row=1, col=1)
    # tail panel: the empirical density of the returns below u (histogram scaled to the whole sample)
    tail_r = r[r < u]
    tgrid = np.linspace(r.min(), u, 200)
    if tail_r.size >= 2:
        edges = np.linspace(r.min(), u, min(25, max(5, tail_r.size // 3)) + 1)
        counts, _ = np.histogram(tail_r, edges)
        mids, width = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
        keep = counts > 0
        fig.add_trace(go.Scatter(x=mids[keep] * 100, y=counts[keep] / (r.size * width[keep]) / 100, mode="markers",
                                 name="empirical tail density", marker={"color": "rgba(31,119,180,0.9)", "size": 7},
                                 legendgroup="r"), row=1, col=2)
    fig.add_trace(go.Scatter(x=tgrid * 100, y=stats.norm.pdf(tgrid, mu, sd) / 100, showlegend=False,
                             line={"color": "#ff7f0e", "dash": "dot"}, legendgroup="n"), row=1, col=2)
    if fitted:
        xi, beta = evt["xi"], evt["beta"]
        dens = evt["n_exceed"] / evt["n"] * stats.genpareto.pdf(u - tgrid, xi, 0, beta)
        name = f"GPD tail fit (ξ={xi:.3f}, β={100 * beta:.3f}%)"
        for col in (1, 2):
            fig.add_trace(go.Scatter(x=tgrid * 100, y=dens / 100, name=name, line={"color": "#9467bd", "width": 3},
                                     legendgroup="g", showlegend=col == 1), row=1, col=col)
    # vertical lines in both panels, labelled in the tail panel only
    lines = [(u, "#9467bd", "dash", "EVT threshold")] if evt else []
    if hasattr(report, "var") and ENSEMBLE in report.var.index:
        lines += [(-float(report.var.loc[ENSEMBLE, c]), "#d62728", "solid",
                   f"VaR {c:.3g}: {_pct(float(report.var.loc[ENSEMBLE, c]))}") for c in report.confidences]
    for i, (x, color, dash, label) in enumerate(lines):
        fig.add_vline(x=x * 100, line={"color": color, "dash": dash, "width": 1}, row=1, col=1)
        fig.add_vline(x=x * 100, line={"color": color, "dash": dash, "width": 1}, row=1, col=2,
                      annotation_text=label, annotation_textangle=-90, annotation_font_size=10,
                      annotation_position="bottom left" if i % 2 == 0 else "top left")
    fig.update_layout(height=440, margin={"t": 50, "b": 30}, legend={"orientation": "h", "y": -0.2}, bargap=0.02)
    fig.update_xaxes(title_text="return (%)")
    fig.update_yaxes(title_text="density", row=1, col=1)
    # log axis from a little below the smallest empirical tail density to above the largest curve value
    lo = counts[keep].min() / (r.size * width.max()) / 100 / 10 if tail_r.size >= 2 else 1e-4
    hi = max(stats.norm.pdf(u, mu, sd), evt["n_exceed"] / evt["n"] / evt["beta"] if fitted else 0.0) / 100 * 3
    fig.update_yaxes(type="log", range=[np.log10(lo), np.log10(max(hi, lo * 100))], row=1, col=2)
    fig.update_xaxes(range=[r.min() * 100 * 1.03, u * 100 * 0.9 if u < 0 else u * 100 + 0.1], row=1, col=2)
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
