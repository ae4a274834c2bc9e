"""Figures of peg simulations (fan chart, terminal distribution) and of stress reports.

Every builder takes result objects and returns a :class:`plotly.graph_objects.Figure`;
histograms are binned with NumPy first, so a figure stays small for any number of
paths.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from riskcore.peg.model import MIN_LEVELS
from riskcore.peg.stat_keys import PegStat, min_below_key, var_key

if TYPE_CHECKING:
    from riskcore.peg.montecarlo import SimulationResult
    from riskcore.peg.report import StressReport

__all__ = ["fan_chart", "terminal_histogram", "stress_bars", "min_price_histogram", "stress_figures"]

_BAND_FILL = {(0.01, 0.99): "rgba(31,119,180,0.12)", (0.05, 0.95): "rgba(31,119,180,0.22)",
              (0.25, 0.75): "rgba(31,119,180,0.38)"}
_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def _days(result: SimulationResult) -> np.ndarray:
    return np.arange(result.n_steps + 1) * result.dt * 365.0


def fan_chart(result: SimulationResult, title: str | None = None, max_paths: int = 20,
              show_levels: bool = True) -> go.Figure:
    """Quantile bands (1-99, 5-95, 25-75 %), median, mean and up to ``max_paths`` sample paths."""
    x = _days(result)
    b = result.bands
    fig = go.Figure()
    for lo, hi in _BAND_FILL:
        fig.add_trace(go.Scatter(x=x, y=b[lo].to_numpy(), mode="lines", line={"width": 0}, showlegend=False,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=b[hi].to_numpy(), mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=_BAND_FILL[(lo, hi)], name=f"{lo:.0%}-{hi:.0%}"))
    paths = result.paths[:max_paths]
    if len(paths):
        # one trace, paths separated by NaN: the browser draws one SVG path instead of one trace per
        # sample path (about a fifth of a 100,000-path result's draw time went to Plotly, issue 17),
        # and the unified hover no longer lists twenty "sample paths" rows
        sep = np.full((len(paths), 1), np.nan)
        fig.add_trace(go.Scatter(x=np.tile(np.append(x, np.nan), len(paths)),
                                 y=np.hstack([np.asarray(paths, dtype=float), sep]).ravel(), mode="lines",
                                 line={"width": 0.7, "color": "rgba(90,90,90,0.45)"}, connectgaps=False,
                                 name=f"sample paths ({len(paths)})", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=b[0.5].to_numpy(), mode="lines", line={"color": "#1f77b4", "width": 2},
                             name="median"))
    fig.add_trace(go.Scatter(x=x, y=b["mean"].to_numpy(), mode="lines",
                             line={"color": "#ff7f0e", "width": 1.5, "dash": "dash"}, name="mean"))
    if show_levels:  # layout shapes directly: fig.add_hline costs ~15 ms each in plotly's validators
        levels = ((1.02, "dot"), (0.98, "dot"), (0.95, "dashdot"), (0.90, "dashdot"))
        fig.update_layout(
            shapes=[{"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": lv, "y1": lv,
                     "line": {"dash": dash, "width": 1, "color": "#999"}} for lv, dash in levels],
            annotations=[{"xref": "x domain", "x": 1, "yref": "y", "y": lv, "text": f"{lv:.2f}", "showarrow": False,
                          "xanchor": "left"} for lv, _ in levels])
    fig.update_layout(title=title or f"Price fan chart — {result.scenario.name} ({result.n_paths:,} paths)",
                      xaxis_title="days", yaxis_title="price", hovermode="x unified", height=420,
                      margin={"l": 50, "r": 30, "t": 50, "b": 40}, legend={"orientation": "h", "y": -0.2})
    return fig


def _hist(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    counts, _ = np.histogram(values, bins=edges)
    return 0.5 * (edges[1:] + edges[:-1]), counts / max(1, values.shape[0])


def terminal_histogram(results: SimulationResult | Mapping[str, SimulationResult], bins: int = 80,
                       title: str | None = None, show_var: bool = True) -> go.Figure:
    """Distribution of terminal prices (share of paths per bin) of one or several results.

    With one result, vertical lines mark the terminal price at the 95 % and 99 % VaR.
    """
    from riskcore.peg.montecarlo import SimulationResult as _SR

    named = {results.scenario.name: results} if isinstance(results, _SR) else dict(results)
    lo = min(float(np.quantile(r.terminal, 0.0005)) for r in named.values())
    hi = max(float(np.quantile(r.terminal, 0.9995)) for r in named.values())
    if hi <= lo:
        lo, hi = lo - 0.01, hi + 0.01
    edges = np.linspace(lo, hi, bins + 1)
    fig = go.Figure()
    for i, (name, r) in enumerate(named.items()):
        centers, share = _hist(np.clip(r.terminal, lo, hi), edges)
        fig.add_trace(go.Bar(x=centers, y=share, name=name, marker_color=_COLORS[i % len(_COLORS)],
                             opacity=0.75 if len(named) > 1 else 0.9))
    if show_var and len(named) == 1:
        r = next(iter(named.values()))
        at = {f"VaR {c:.0%}": r.initial_price * (1 - r.stats[var_key(c)]) for c in (0.95, 0.99)}
        # layout shapes directly: fig.add_vline runs plotly's validators, ~12 ms a line (issue 17)
        fig.update_layout(
            shapes=[{"type": "line", "xref": "x", "x0": x, "x1": x, "yref": "y domain", "y0": 0, "y1": 1,
                     "line": {"dash": "dash", "color": "#d62728"}} for x in at.values()],
            annotations=[{"xref": "x", "x": x, "yref": "y domain", "y": 1, "text": label, "showarrow": False,
                          "xanchor": "left", "yanchor": "top"} for label, x in at.items()])
    fig.update_layout(title=title or "Terminal price distribution", xaxis_title="terminal price",
                      yaxis_title="share of paths", barmode="overlay", bargap=0, height=380,
                      margin={"l": 50, "r": 30, "t": 50, "b": 40})
    return fig


def min_price_histogram(result: SimulationResult, bins: int = 80) -> go.Figure:
    """Distribution of each path's minimum price."""
    lo, hi = float(result.min_price.min()), float(result.min_price.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 0.01, bins + 1)
    centers, share = _hist(result.min_price, edges)
    fig = go.Figure(go.Bar(x=centers, y=share, marker_color="#9467bd"))
    fig.update_layout(title="Minimum price per path", xaxis_title="minimum price", yaxis_title="share of paths",
                      bargap=0, height=380, margin={"l": 50, "r": 30, "t": 50, "b": 40})
    return fig


def stress_bars(report: StressReport,
                keys: tuple[str, ...] = (PegStat.P_TERMINAL_BELOW.value, *map(min_below_key, MIN_LEVELS),
                                         PegStat.P_DEPEG.value, PegStat.P_UNRECOVERED.value)) -> go.Figure:
    """Grouped bars of peg probabilities per scenario, with 95 % Monte Carlo error bars."""
    fig = go.Figure()
    names = list(report.results)
    for i, key in enumerate(keys):
        vals = [report.results[n].stats[key] for n in names]
        err = [1.96 * report.results[n].std_errors[key] for n in names]
        fig.add_trace(go.Bar(x=names, y=vals, name=key, marker_color=_COLORS[i % len(_COLORS)],
                             error_y={"type": "data", "array": err, "visible": True}))
    fig.update_layout(title="Peg probabilities by scenario", yaxis_title="probability", barmode="group", height=400,
                      yaxis_tickformat=".0%")
    return fig


def stress_figures(report: StressReport) -> dict[str, go.Figure]:
    """The figures of a stress report: overview bars, terminal distributions, one fan chart per scenario."""
    figs: dict[str, go.Figure] = {"overview": stress_bars(report), "terminal": terminal_histogram(report.results)}
    for name, r in report.results.items():
        figs[f"fan:{name}"] = fan_chart(r, title=f"{name} — price fan chart")
    return figs
