"""Figures of validation reports, benchmarks, parameter sweeps and reverse stress tests.

Builders take result objects (:class:`~riskcore.validation.core.ValidationReport`,
:class:`~riskcore.validation.benchmark.BenchmarkReport`, :class:`~riskcore.peg.sweep.SweepResult`,
:class:`~riskcore.peg.sweep.ReverseStressResult`) and return plotly figures. Error bars are
1.96 Monte Carlo standard errors (95 %).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = ["convergence_figure", "sensitivity_figure", "var_coverage_figure", "benchmark_figure",
           "var_benchmark_figure", "sweep_heatmap", "sweep_lines", "reverse_stress_figure", "STATUS_COLORS"]

STATUS_COLORS = {"passed": "#2ca02c", "failed": "#d62728", "error": "#7f7f7f"}
_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
Z95 = 1.96


def _layout(fig: go.Figure, title: str, **kw: Any) -> go.Figure:
    fig.update_layout(title=title, template="plotly_white", margin={"l": 60, "r": 20, "t": 60, "b": 50}, **kw)
    return fig


def convergence_figure(report: Any) -> go.Figure:
    """Measured convergence rate (with its 95 % interval) against the source's target."""
    c = report.check("convergence")
    fig = go.Figure(go.Bar(x=["measured", "target (source)"], y=[c.value, c.target],
                           marker_color=[STATUS_COLORS[c.status.value], "#bbbbbb"],
                           error_y={"type": "data", "array": [Z95 * c.std_error, 0.0]},
                           text=[f"{c.value:.1%}", f"{c.target:.0%}"], textposition="outside"))
    return _layout(fig, f"Convergence from 1.05: {c.status.value.upper()}", yaxis={"tickformat": ".0%",
                                                                                  "range": [0, 1.1]})


def sensitivity_figure(report: Any) -> go.Figure:
    """Sensitivities of the mean terminal price with CRN error bars."""
    rows = [r for r in report.check("sensitivity").details["perturbations"] if "sensitivity" in r]
    labels = [f"{r['parameter']} {r['change']:+g}" for r in rows]
    fig = go.Figure(go.Bar(x=labels, y=[r["sensitivity"] for r in rows], marker_color="#1f77b4",
                           error_y={"type": "data", "array": [Z95 * r["sensitivity_se"] for r in rows]}))
    return _layout(fig, "Sensitivity of the mean terminal price (common random numbers)",
                   yaxis_title="d mean terminal / d parameter")


def var_coverage_figure(report: Any) -> go.Figure:
    """Violation rate / expected rate of every method and level, with the binomial 95 % interval."""
    var_checks = [c for c in report.checks if c.group.value == "VaR model" and math.isfinite(c.value)]
    fig = go.Figure()
    levels = sorted({c.target for c in var_checks})
    for i, p in enumerate(levels):
        cs = [c for c in var_checks if c.target == p]
        fig.add_trace(go.Bar(
            name=f"{1 - p:.1%}", x=[c.name.split("_", 1)[1].rsplit("_", 1)[0] for c in cs],
            y=[c.value / p for c in cs], marker_color=[STATUS_COLORS[c.status.value] for c in cs],
            marker_pattern_shape=["", "/", "x"][i % 3],
            error_y={"type": "data", "array": [Z95 * c.std_error / p for c in cs]},
            hovertext=[f"{c.description}; {c.status.value}" for c in cs]))
    fig.add_hline(y=1.0, line_dash="dash", line_color="#444")
    return _layout(fig, "VaR backtests: violations / expected (pattern = level, colour = status)",
                   barmode="group", yaxis_title="violation rate / (1 - c)")


def benchmark_figure(bench: Any) -> go.Figure:
    """Throughput per backend over path counts (log-log) and the accuracy difference in standard errors."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Throughput", f"Mean terminal vs {bench.reference}"))
    for i, (b, g) in enumerate(bench.mc.groupby("backend", sort=False)):
        color = _COLORS[i % len(_COLORS)]
        fig.add_trace(go.Scatter(x=g["n_paths"], y=g["path_steps_per_s"], mode="lines+markers", name=b,
                                 line_color=color, legendgroup=b), row=1, col=1)
        fig.add_trace(go.Scatter(x=g["n_paths"], y=g["diff_se"], mode="markers", name=b, marker_color=color,
                                 legendgroup=b, showlegend=False), row=1, col=2)
    for y in (-Z95, Z95):
        fig.add_hline(y=y, line_dash="dot", line_color="#888", row=1, col=2)
    fig.update_xaxes(type="log", title_text="paths")
    fig.update_yaxes(type="log", title_text="path-steps / s", row=1, col=1)
    fig.update_yaxes(title_text="difference / standard error", row=1, col=2)
    return _layout(fig, f"Monte Carlo backends ({bench.n_steps} steps)")


def var_benchmark_figure(bench: Any) -> go.Figure:
    """Time of each VaR method on the benchmark sample, with its peak memory."""
    v = bench.var
    fig = go.Figure(go.Bar(x=v["method"], y=v["seconds"] * 1e3, text=[f"{m:.2f} MB" for m in v["peak_mb"]],
                           textposition="outside", marker_color="#1f77b4"))
    n = int(v["n_returns"].iloc[0]) if len(v) else 0
    return _layout(fig, f"VaR methods on {n:,} returns (text: peak memory)", yaxis_title="milliseconds")


def sweep_heatmap(sweep: Any, statistic: str, x: str, y: str) -> go.Figure:
    """``statistic`` over two grid keys (other keys averaged); hover shows the standard error."""
    piv = sweep.pivot(statistic, x, y)
    se = sweep.pivot(f"{statistic}_se", x, y) if f"{statistic}_se" in sweep.table else None
    text = None if se is None else np.vectorize(lambda v: f"± {v:.3g}")(se.to_numpy())
    fig = go.Figure(go.Heatmap(z=piv.to_numpy(), x=[str(c) for c in piv.columns], y=[str(i) for i in piv.index],
                               colorscale="RdYlGn_r", colorbar={"title": statistic}, text=text,
                               hovertemplate=f"{x}=%{{x}}<br>{y}=%{{y}}<br>{statistic}=%{{z:.4g}} %{{text}}"
                                             "<extra></extra>"))
    return _layout(fig, f"{statistic} over {x} and {y}", xaxis_title=x, yaxis_title=y)


def sweep_lines(sweep: Any, statistic: str, x: str, by: str | None = None) -> go.Figure:
    """``statistic`` along one grid key, one line per value of ``by`` (others averaged), 95 % error bars."""
    t = sweep.table
    se_col = f"{statistic}_se"
    keys = [x] + ([by] if by else [])
    agg = t.groupby(keys, sort=False).agg(v=(statistic, "mean"), se=(se_col, "mean")).reset_index()
    fig = go.Figure()
    groups = [(None, agg)] if by is None else list(agg.groupby(by, sort=False))
    for i, (name, g) in enumerate(groups):
        fig.add_trace(go.Scatter(x=g[x], y=g["v"], mode="lines+markers", name=str(name) if by else statistic,
                                 line_color=_COLORS[i % len(_COLORS)],
                                 error_y={"type": "data", "array": Z95 * g["se"].fillna(0.0)}))
    return _layout(fig, f"{statistic} along {x}" + (f" by {by}" if by else ""), xaxis_title=x,
                   yaxis_title=statistic)


def reverse_stress_figure(result: Any) -> go.Figure:
    """Every evaluation of the search, the threshold and the boundary with its 95 % interval."""
    e = result.evaluations
    stat = result.criterion.statistic
    fig = go.Figure(go.Scatter(x=e["severity"], y=e[stat], mode="markers+lines", name=stat,
                               marker_color=["#d62728" if b else "#2ca02c" for b in e["breached"]],
                               error_y={"type": "data", "array": Z95 * e["std_error"].fillna(0.0)}))
    fig.add_hline(y=result.criterion.threshold, line_dash="dash", line_color="#444",
                  annotation_text=str(result.criterion))
    if math.isfinite(result.severity):
        lo = max(0.0, result.severity - Z95 * result.severity_se)
        hi = min(1.0, result.severity + Z95 * result.severity_se)
        fig.add_vrect(x0=lo, x1=hi, fillcolor="rgba(214,39,40,0.15)", line_width=0)
        fig.add_vline(x=result.severity, line_color="#d62728")
    dims = ", ".join(f"{k}: {m:g} → {s:g}" for k, (m, s) in result.search_space.items())
    return _layout(fig, f"Reverse stress: {result.status}", xaxis_title=f"severity (0 = mild, 1 = severe; {dims})",
                   yaxis_title=stat)
