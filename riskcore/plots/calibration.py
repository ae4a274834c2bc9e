"""Figures for price data and calibration results (pages and notebooks alike).

Plotly figures, and one Vega-Lite spec (:func:`price_series_spec`) for the chart the Calibration
page shows first: the browser loads Vega-Lite's bundle much faster than Plotly's (about 0.8 MB
against 4.7 MB of JavaScript, which took about 2.5 s to evaluate on this 2-core machine), so the
page's first chart no longer waits for Plotly (issue 11, item 13).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import stats

from riskcore.data import PriceSeries, gap_positions
from riskcore.peg.calibration import CalibrationResult

__all__ = ["price_series_figure", "price_series_spec", "returns_figure", "qq_figure", "density_figure",
           "jump_probability_figure"]

#: most points drawn per series in :func:`price_series_spec` (longer series are thinned evenly, ends kept)
SPEC_MAX_POINTS = 5_000
#: the largest gaps of the data-quality report shaded on a price chart (Plotly and Vega-Lite alike)
SHADED_GAPS = 10


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
    for start, end, _days in series.report.gaps[:SHADED_GAPS]:
        fig.add_vrect(x0=start, x1=end, fillcolor="orange", opacity=0.25, line_width=0)
    fig.update_layout(title=f"{series.name}: {len(series):,} prices", height=height, showlegend=False,
                      margin={"l": 40, "r": 20, "t": 50, "b": 30})
    fig.update_yaxes(title_text="price", row=1, col=1)
    return fig


def _thin(n: int, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` of ``n`` rows, evenly spread, first and last included."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(np.int64))


def price_series_spec(series: PriceSeries, *, height: int = 360, max_points: int = SPEC_MAX_POINTS) -> dict[str, Any]:
    """Vega-Lite spec of :func:`price_series_figure`, data inline: price, volume underneath, gaps shaded.

    Parameters
    ----------
    series : PriceSeries
        The prices (and volumes, when the series has them).
    height : int, default 360
        Pixels, for the price panel and the volume panel together.
    max_points : int, default :data:`SPEC_MAX_POINTS`
        Longer series are thinned to this many evenly spaced rows (first and last kept); the
        title gives the full count. A browser chart of more points than pixels shows nothing more.

    Returns
    -------
    dict
        A Vega-Lite v5 spec with its data inline (pass it as ``st.vega_lite_chart(spec=...)``).
        The :data:`SHADED_GAPS` largest gaps are shaded orange, as in the Plotly figure.
    """
    prices = series.prices
    idx = _thin(len(prices), max_points)
    dates = prices.index[idx].strftime("%Y-%m-%dT%H:%M:%S")
    has_vol = series.volume is not None and series.volume.notna().any()
    rows: list[dict[str, Any]] = [{"date": d, "price": float(p)} for d, p in zip(dates, prices.to_numpy()[idx],
                                                                                  strict=True)]
    if has_vol:
        vol = series.volume.reindex(prices.index).to_numpy()[idx]
        for row, v in zip(rows, vol, strict=True):
            row["volume"] = float(v) if np.isfinite(v) else None
    gaps = [{"start": a, "end": b, "days": float(d)} for a, b, d in series.report.gaps[:SHADED_GAPS]]
    x = {"field": "date", "type": "temporal", "title": None}
    price_layers: list[dict[str, Any]] = []
    if gaps:
        price_layers.append({"data": {"values": gaps}, "mark": {"type": "rect", "color": "orange", "opacity": 0.25},
                             "encoding": {"x": {"field": "start", "type": "temporal"}, "x2": {"field": "end"},
                                          "tooltip": [{"field": "days", "title": "gap (days)", "format": ".1f"}]}})
    price_layers.append({"mark": {"type": "line", "strokeWidth": 1.2},
                         "encoding": {"x": x, "y": {"field": "price", "type": "quantitative",
                                                    "scale": {"zero": False}, "title": "price"},
                                      "tooltip": [{"field": "date", "type": "temporal"},
                                                  {"field": "price", "type": "quantitative", "format": ".6g"}]}})
    price_panel = {"height": int(height * (0.72 if has_vol else 1.0)), "width": "container", "layer": price_layers}
    spec: dict[str, Any] = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
                            "title": f"{series.name}: {len(series):,} prices",
                            "data": {"values": rows}}
    if not has_vol:
        return {**spec, **price_panel}
    volume_panel = {"height": int(height * 0.2), "width": "container",
                    "mark": {"type": "bar", "color": "rgba(120,120,120,0.5)"},
                    "encoding": {"x": x, "y": {"field": "volume", "type": "quantitative", "title": "volume"}}}
    return {**spec, "vconcat": [price_panel, volume_panel], "resolve": {"scale": {"x": "shared"}}}


def returns_figure(series: PriceSeries, *, height: int = 300) -> go.Figure:
    """Log returns between consecutive rows; a return across one of the gaps is marked orange.

    A data-quality view: a return over a gap spans several periods, so it can look like a jump
    that is really missing data. Gaps follow the data-quality report's rule
    (:func:`riskcore.data.gap_positions`), every one of them, not only the report's largest 20.
    """
    p = series.prices
    r = np.diff(np.log(p.to_numpy(dtype=float)))
    when = p.index[1:]
    after_gap = np.zeros(len(r), dtype=bool)
    after_gap[gap_positions(p.index)] = True  # r[i] is the step from row i to row i + 1
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=when, y=r, mode="lines", name="log return", line={"width": 0.8}))
    if after_gap.any():
        fig.add_trace(go.Scattergl(x=when[after_gap], y=r[after_gap], mode="markers", name="across a gap",
                                   marker={"color": "orange", "size": 7}))
    fig.update_layout(title="Log returns between consecutive rows", height=height, yaxis_title="log return",
                      margin={"l": 40, "r": 20, "t": 50, "b": 30}, legend={"orientation": "h", "y": -0.15})
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
