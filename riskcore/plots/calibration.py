"""Plotly figures for price data and calibration results (pages and notebooks alike)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import stats

from riskcore.data import PriceSeries
from riskcore.peg.calibration import CalibrationResult

__all__ = ["price_series_figure", "qq_figure", "density_figure", "jump_probability_figure"]


def price_series_figure(series: PriceSeries, *, height: int = 360) -> go.Figure:
    """Price over time (and volume underneath when the series has it); gaps are shaded."""
    has_vol = series.volume is not None and series.volume.notna().any()
    fig = make_subplots(rows=2 if has_vol else 1, cols=1, shared_xaxes=True,
                        row_heights=[0.75, 0.25] if has_vol else [1.0], vertical_spacing=0.04)
    fig.add_trace(go.Scattergl(x=series.prices.index, y=series.prices.to_numpy(), mode="lines", name="price",
                               line={"width": 1.2}), row=1, col=1)
    if has_vol:
        fig.add_trace(go.Bar(x=series.volume.index, y=series.volume.to_numpy(), name="volume",
                             marker_color="rgba(120,120,120,0.5)"), row=2, col=1)
    for start, end, _days in series.report.gaps[:10]:
        fig.add_vrect(x0=start, x1=end, fillcolor="orange", opacity=0.25, line_width=0)
    fig.update_layout(title=f"{series.name}: {len(series):,} prices", height=height, showlegend=False,
                      margin={"l": 40, "r": 20, "t": 50, "b": 30})
    fig.update_yaxes(title_text="price", row=1, col=1)
    return fig


def qq_figure(result: CalibrationResult, *, max_points: int = 4000) -> go.Figure:
    """Normal QQ plot of the standardised residuals (probability-integral transforms)."""
    z = np.sort(result.std_residuals[np.isfinite(result.std_residuals)])
    n = len(z)
    theo = stats.norm.ppf((np.arange(1, n + 1) - 0.5) / n)
    step = max(1, n // max_points)
    lim = float(np.max(np.abs(np.concatenate([z, theo])))) if n else 4.0
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=theo[::step], y=z[::step], mode="markers", name="residuals",
                               marker={"size": 4, "opacity": 0.6}))
    fig.add_trace(go.Scatter(x=[-lim, lim], y=[-lim, lim], mode="lines", name="N(0, 1)",
                             line={"dash": "dash", "color": "black"}))
    fig.update_layout(title=f"QQ plot of standardised residuals (KS p = {result.ks_pvalue:.3g})",
                      xaxis_title="normal quantile", yaxis_title="residual quantile", height=400,
                      margin={"l": 40, "r": 20, "t": 50, "b": 40})
    return fig


def density_figure(result: CalibrationResult, *, bins: int = 120) -> go.Figure:
    """Histogram of the observed increments against the fitted mixture density (log scale)."""
    x = result.increments
    lo, hi = np.quantile(x, [0.0005, 0.9995])
    pad = 0.1 * (hi - lo) if hi > lo else 1e-6
    grid = np.linspace(lo - pad, hi + pad, 300)
    hist, edges = np.histogram(x, bins=bins, range=(grid[0], grid[-1]), density=True)
    centres = 0.5 * (edges[:-1] + edges[1:])
    fig = go.Figure()
    fig.add_trace(go.Bar(x=centres, y=hist, name="empirical", marker_color="rgba(31,119,180,0.45)",
                         width=edges[1] - edges[0]))
    fig.add_trace(go.Scatter(x=grid, y=result.increment_density(grid), mode="lines", name="fitted model",
                             line={"color": "crimson", "width": 2}))
    fig.update_layout(title="Increments: empirical vs fitted density", xaxis_title="p(t+1) - p(t)",
                      yaxis_title="density (log scale)", yaxis_type="log", yaxis_dtick=1,
                      yaxis_exponentformat="power", height=400, bargap=0,
                      margin={"l": 40, "r": 20, "t": 50, "b": 40})
    return fig


def jump_probability_figure(result: CalibrationResult) -> go.Figure:
    """Posterior probability that each step contained a jump, over time."""
    fig = go.Figure(go.Scattergl(x=result.dates, y=result.jump_probability, mode="markers",
                                 marker={"size": 3}, name="P(jump)"))
    fig.update_layout(title="Posterior probability of a jump per step", yaxis_title="probability",
                      yaxis_range=[0, 1], height=300, margin={"l": 40, "r": 20, "t": 50, "b": 30})
    return fig
