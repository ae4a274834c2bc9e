"""Plotly figures of the monitors: price with its VaR band, the stability gauge and the stability timeline."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from riskcore.monitor.alerts import SEVERITY_COLOURS, AlertStatus, Severity
from riskcore.monitor.stability import level_bands
from riskcore.monitor.token import TOKEN_THRESHOLDS

__all__ = ["LEVEL_COLOURS", "price_var_figure", "live_price_spec", "live_price_data", "stability_gauge",
           "stability_timeline_figure", "severity_colour", "level_colour"]

#: colour per risk level (green → dark red)
LEVEL_COLOURS: dict[str, str] = {"low": "#2ca02c", "medium": "#ffdd00", "high": "#ff8800", "critical": "#d62728"}

_MARGIN = {"l": 50, "r": 20, "t": 50, "b": 35}


def severity_colour(severity: Any) -> str:
    """Colour of an alert severity (the PRD dashboard's)."""
    try:
        return SEVERITY_COLOURS[Severity(str(severity))]
    except ValueError:
        return "#999999"


def level_colour(level: Any) -> str:
    return LEVEL_COLOURS.get(str(level), "#999999")


def _alert_markers(fig: go.Figure, frame: pd.DataFrame, alerts: pd.DataFrame | None, y: str, row: int | None = None
                   ) -> None:
    if alerts is None or alerts.empty or frame.empty:
        return
    raised = alerts[alerts["status"] == AlertStatus.ACTIVE]
    if raised.empty:
        return
    by_seq = frame.set_index("seq")
    for sev in Severity:
        sub = raised[raised["severity"] == str(sev)]
        sub = sub[sub["seq"].isin(by_seq.index)]
        if sub.empty:
            continue
        pts = by_seq.loc[sub["seq"].to_numpy()]
        trace = go.Scatter(x=pts["ts"], y=pts[y], mode="markers", name=f"{sev} alert",
                           marker={"color": SEVERITY_COLOURS[sev], "size": 10, "symbol": "triangle-down",
                                   "line": {"color": "black", "width": 0.5}},
                           text=sub["message"].to_numpy(), hovertemplate="%{text}<extra></extra>")
        if row is None:
            fig.add_trace(trace)
        else:
            fig.add_trace(trace, row=row, col=1)


def price_var_figure(frame: pd.DataFrame, alerts: pd.DataFrame | None = None, *, last: int | None = 500,
                     height: int = 380, title: str | None = None, simulated_time: bool = False) -> go.Figure:
    """Price with its VaR band in price terms, ``price × (1 − VaR)`` at 95 / 99 / 99.7 %.

    Parameters
    ----------
    frame : DataFrame
        A :meth:`TokenMonitor.frame` (``ts, price, var_95_price, var_99_price, var_997_price``).
    alerts : DataFrame, optional
        Alert history; raises are marked on the price line, coloured by severity.
    last : int, optional
        Show only the last ``last`` ticks (a live panel stays light).
    simulated_time : bool, default False
        Title the time axis "simulated time" (a simulated feed's tick times are not wall-clock times).

    Notes
    -----
    The figure always has the same eight traces in the same order (three VaR levels, the price, one
    alert-marker trace per severity, empty ones included; the markers are not in the legend, so the
    legend never changes), fixed margins (no automargin) and a constant ``uirevision``: a live panel
    that redraws it every refresh updates the plot in place (Plotly.react on an unchanged structure)
    instead of replotting it, which is what made the chart flash blank while ticks arrived.
    """
    f = frame.iloc[-last:] if last else frame
    if f.empty:
        f = pd.DataFrame({c: pd.Series(dtype=float) for c in ("seq", "price", "var_95_price", "var_99_price",
                                                               "var_997_price")}).assign(ts=pd.Series(dtype="M8[ns]"))
    v = f[np.isfinite(f["var_99_price"].to_numpy(dtype=float))]   # no VaR while warming up
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=v["ts"], y=v["var_997_price"], mode="lines", name="VaR 99.7 % price",
                             line={"width": 0.8, "color": "rgba(214,39,40,0.8)", "dash": "dot"}))
    fig.add_trace(go.Scatter(x=v["ts"], y=v["var_99_price"], mode="lines", name="VaR 99 % price",
                             line={"width": 1.0, "color": "rgba(255,136,0,0.9)"},
                             fill="tonexty", fillcolor="rgba(214,39,40,0.10)"))
    fig.add_trace(go.Scatter(x=v["ts"], y=v["var_95_price"], mode="lines", name="VaR 95 % price",
                             line={"width": 0.8, "color": "rgba(230,180,0,0.9)"},
                             fill="tonexty", fillcolor="rgba(255,136,0,0.12)"))
    fig.add_trace(go.Scatter(x=f["ts"], y=f["price"], mode="lines", name="price",
                             line={"width": 1.8, "color": "#1f77b4"}))
    raised = pd.DataFrame() if alerts is None or alerts.empty else alerts[alerts["status"] == AlertStatus.ACTIVE]
    by_seq = f.set_index("seq") if "seq" in f else pd.DataFrame()
    for sev in Severity:   # one trace per severity, empty when there is no such alert in view
        sub = raised[(raised["severity"] == str(sev)) & raised["seq"].isin(by_seq.index)] if not raised.empty \
            else raised
        pts = by_seq.loc[sub["seq"].to_numpy()] if not sub.empty else by_seq.iloc[:0]
        fig.add_trace(go.Scatter(
            x=pts["ts"] if "ts" in pts else [], y=pts["price"] if "price" in pts else [], mode="markers",
            name=f"{sev} alert", showlegend=False,
            marker={"color": SEVERITY_COLOURS[sev], "size": 10, "symbol": "triangle-down",
                    "line": {"color": "black", "width": 0.5}},
            text=sub["message"].to_numpy() if not sub.empty else [], hovertemplate="%{text}<extra></extra>"))
    # limit lines as plain layout shapes (``add_hline`` costs ~40 ms each: this figure is redrawn live)
    shapes = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": 1.0, "y1": 1.0,
               "line": {"width": 0.8, "color": "#2ca02c"}}]
    notes = []
    for th in TOKEN_THRESHOLDS:
        if th.metric.startswith("var_") and th.metric.endswith("_price"):
            shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": th.limit,
                           "y1": th.limit, "line": {"width": 0.6, "dash": "dash", "color": "#888"}})
            notes.append({"xref": "paper", "x": 0, "xanchor": "left", "yref": "y", "y": th.limit, "yanchor": "top",
                          "text": f"{th.label} limit {th.limit:.2f}", "showarrow": False, "font": {"size": 9}})
    fig.update_layout(title=title or "Price and VaR band (price terms)", height=height, margin=_MARGIN,
                      legend={"orientation": "h", "y": -0.15}, yaxis_title="price", uirevision="price",
                      xaxis_title="simulated time (1 tick = 1 simulated day)" if simulated_time else None,
                      shapes=shapes, annotations=notes)
    # fixed margins: with automargin a longer tick label, or a legend entry coming or going, moves the
    # margins and Plotly replots the whole figure (the blank frames of a live refresh)
    fig.update_xaxes(automargin=False)
    fig.update_yaxes(automargin=False)
    return fig


#: the live chart's lines, in legend order, with their colours (the Plotly figure's)
_LIVE_SERIES = {"price": "#1f77b4", "VaR 95 % price": "rgba(230,180,0,0.9)", "VaR 99 % price": "rgba(255,136,0,0.9)",
                "VaR 99.7 % price": "rgba(214,39,40,0.8)"}
_LIVE_COLUMNS = {"price": "price", "var_95_price": "VaR 95 % price", "var_99_price": "VaR 99 % price",
                 "var_997_price": "VaR 99.7 % price"}


def live_price_spec(*, simulated_time: bool = False, height: int = 340,
                    title: str = "Price and VaR band (price terms)") -> dict[str, Any]:
    """Vega-Lite spec of the live price chart; its data is :func:`live_price_data`, passed separately.

    The same information as :func:`price_var_figure`: the price, the VaR 95 / 99 / 99.7 % band in
    price terms (shaded between the levels), the peg (1.0) and the token VaR limits as labelled
    rules, and the raised alerts as triangles coloured by severity (message as tooltip).

    Parameters
    ----------
    simulated_time : bool, default False
        Title the time axis "simulated time" (a simulated feed's tick times are not wall-clock times).
    height : int, default 340
        Pixels.

    Notes
    -----
    The spec holds no tick data: it depends only on its arguments, so it is identical on every
    refresh of a live panel. Streamlit then keeps the same chart element and only replaces the
    dataset in the existing Vega view (``view.data``), which redraws in place; a Plotly chart
    was re-mounted on every refresh (its element id is hashed from the figure), blank for a few
    frames each time. Colour scales have fixed domains, so the legend never changes either.
    """
    sev = [str(s) for s in Severity]
    rules = [{"y": 1.0, "label": "peg 1.00", "kind": "peg"}]
    rules += [{"y": float(th.limit), "label": f"{th.label} limit {th.limit:.2f}", "kind": "limit"}
              for th in TOKEN_THRESHOLDS if th.metric.startswith("var_") and th.metric.endswith("_price")]
    # the peg and limit rules come from the tick data itself (one aggregated row, folded into one row per rule):
    # a second, inline dataset would make Streamlit bind the ticks to no dataset of the compiled view
    rule_rows: list[dict[str, Any]] = [{"aggregate": [{"op": "count", "as": "n_ticks"}]}]
    rule_rows += [{"calculate": repr(r["y"]), "as": f"r{i}"} for i, r in enumerate(rules)]
    rule_rows += [{"fold": [f"r{i}" for i in range(len(rules))], "as": ["rule", "y"]},
                  {"calculate": " : ".join(f"datum.rule === 'r{i}' ? {r['label']!r}" for i, r in enumerate(rules))
                                + " : ''", "as": "label"}]
    x = {"field": "ts", "type": "temporal",
         "title": "simulated time (1 tick = 1 simulated day)" if simulated_time else None}
    y_scale = {"zero": False}
    var_defined = {"filter": "isValid(datum.var_99_price) && isFinite(datum.var_99_price)"}
    band = {"mark": {"type": "area", "opacity": 0.12},
            "transform": [var_defined]}
    return {
        "title": title,
        "height": height,
        "width": "container",
        "encoding": {"x": x},
        "layer": [
            {**band, "mark": {**band["mark"], "color": "#d62728"},
             "encoding": {"y": {"field": "var_997_price", "type": "quantitative", "scale": y_scale, "title": "price"},
                          "y2": {"field": "var_99_price"}}},
            {**band, "mark": {**band["mark"], "color": "#ff8800"},
             "encoding": {"y": {"field": "var_99_price", "type": "quantitative"}, "y2": {"field": "var_95_price"}}},
            {"transform": [{"fold": list(_LIVE_COLUMNS), "as": ["column", "value"]},
                           {"filter": "isValid(datum.value) && isFinite(datum.value)"},
                           {"calculate": "datum.column === 'price' ? 'price' : datum.column === 'var_95_price' ? "
                                         "'VaR 95 % price' : datum.column === 'var_99_price' ? 'VaR 99 % price' : "
                                         "'VaR 99.7 % price'", "as": "series"}],
             "mark": {"type": "line", "interpolate": "linear"},
             "encoding": {"y": {"field": "value", "type": "quantitative", "scale": y_scale, "title": "price"},
                          "color": {"field": "series", "type": "nominal", "title": None,
                                    "scale": {"domain": list(_LIVE_SERIES), "range": list(_LIVE_SERIES.values())},
                                    "legend": {"orient": "bottom"}},
                          "strokeWidth": {"condition": {"test": "datum.series === 'price'", "value": 1.8},
                                          "value": 0.9},
                          "detail": {"field": "series"}}},
            {"transform": [{"filter": "isValid(datum.alert_severity)"}],
             "mark": {"type": "point", "shape": "triangle-down", "size": 110, "filled": True, "stroke": "black",
                      "strokeWidth": 0.5, "opacity": 1},
             "encoding": {"y": {"field": "price", "type": "quantitative"},
                          "fill": {"field": "alert_severity", "type": "nominal", "legend": None,
                                   "scale": {"domain": sev, "range": [SEVERITY_COLOURS[s] for s in Severity]}},
                          "tooltip": [{"field": "alert_severity", "title": "severity"},
                                      {"field": "alert_message", "title": "alert"},
                                      {"field": "ts", "type": "temporal", "title": "tick time"}]}},
            {"transform": rule_rows, "mark": {"type": "rule", "strokeWidth": 0.7},
             "encoding": {"x": None, "y": {"field": "y", "type": "quantitative"}, "color": {"value": "#888"},
                          "strokeDash": {"condition": {"test": "datum.rule !== 'r0'", "value": [4, 3]},
                                         "value": [1, 0]}}},
            {"transform": rule_rows,
             "mark": {"type": "text", "align": "left", "baseline": "bottom", "x": 4, "fontSize": 9, "dy": -1},
             "encoding": {"x": None, "y": {"field": "y", "type": "quantitative"}, "text": {"field": "label"}}},
        ],
        "config": {"view": {"stroke": None}},
    }


def live_price_data(frame: pd.DataFrame, alerts: pd.DataFrame | None = None, *, last: int | None = 300
                    ) -> pd.DataFrame:
    """The data of :func:`live_price_spec`: one row per tick in view, its raised alert (if any) on it.

    Columns ``ts, price, var_95_price, var_99_price, var_997_price`` (NaN while the VaR warms
    up), ``alert_severity`` and ``alert_message`` (None where no alert was raised at that tick;
    several alerts raised at one tick show the most severe, messages joined by "; ").
    """
    cols = ["ts", "price", "var_95_price", "var_99_price", "var_997_price"]
    f = frame.iloc[-last:] if last else frame
    out = pd.DataFrame({c: f[c].to_numpy() if c in f else np.array([], dtype=float) for c in cols})
    if out.empty:
        out["ts"] = pd.Series(dtype="datetime64[ns]")
    out["alert_severity"] = pd.Series([None] * len(out), dtype=object)
    out["alert_message"] = pd.Series([None] * len(out), dtype=object)
    if alerts is None or alerts.empty or f.empty or "seq" not in f:
        return out
    raised = alerts[alerts["status"] == "ACTIVE"]
    raised = raised[raised["seq"].isin(f["seq"])]
    if raised.empty:
        return out
    rank = {str(s): -i for i, s in enumerate(Severity)}   # Severity lists the least severe first
    pos = {seq: i for i, seq in enumerate(f["seq"].to_numpy())}
    for seq, grp in raised.groupby("seq", sort=False):
        g = grp.assign(_r=grp["severity"].astype(str).map(rank).fillna(1)).sort_values("_r", kind="stable")
        i = pos[seq]
        out.iat[i, out.columns.get_loc("alert_severity")] = str(g["severity"].iloc[0])
        out.iat[i, out.columns.get_loc("alert_message")] = "; ".join(str(m) for m in g["message"])
    return out


def stability_gauge(score: float, level: Any = None, *, height: int = 250) -> go.Figure:
    """Gauge of the stability score (0–100) with the risk-level bands (critical < 60 ≤ high < 75 ≤ medium < 90)."""
    steps = [{"range": [lo, hi], "color": _fade(LEVEL_COLOURS[str(lv)])} for lo, hi, lv in level_bands()]
    value = float(score) if score is not None and np.isfinite(score) else 0.0
    lv = str(level) if level is not None else ""
    fig = go.Figure(go.Indicator(
        mode="gauge+number", value=value, number={"suffix": "", "valueformat": ".1f"},
        title={"text": f"Stability score<br><span style='font-size:0.8em'>risk level: {lv or '—'}</span>"},
        gauge={"axis": {"range": [0, 100]}, "bar": {"color": level_colour(lv) if lv else "#1f77b4", "thickness": 0.3},
               "steps": steps, "threshold": {"line": {"color": "black", "width": 2}, "value": value}}))
    fig.update_layout(height=height, margin={"l": 35, "r": 35, "t": 60, "b": 10})
    return fig


def _fade(hex_colour: str, alpha: float = 0.3) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def stability_timeline_figure(review: Any, *, worst: pd.DataFrame | None = None, height: int = 520) -> go.Figure:
    """Stability score and price over time, risk-level bands, alert markers and the worst periods shaded.

    Parameters
    ----------
    review : StabilityReview or DataFrame
        A :class:`riskcore.monitor.review.StabilityReview` (or a timeline frame).
    worst : DataFrame, optional
        :meth:`StabilityReview.worst_periods`; each period is shaded.
    """
    frame = review.frame if hasattr(review, "frame") else review
    alerts = getattr(review, "alerts", None)
    name = getattr(review, "name", "")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4], vertical_spacing=0.06,
                        subplot_titles=("Stability score", "Price"))
    if not frame.empty:
        fig.add_trace(go.Scatter(x=frame["ts"], y=frame["stability_score"], mode="lines", name="stability score",
                                 line={"color": "#1f77b4", "width": 1.4}), row=1, col=1)
        fig.add_trace(go.Scatter(x=frame["ts"], y=frame["price"], mode="lines", name="price",
                                 line={"color": "#444", "width": 1.0}), row=2, col=1)
        fig.add_trace(go.Scatter(x=frame["ts"], y=frame["var_99_price"], mode="lines", name="VaR 99 % price",
                                 line={"color": "rgba(255,136,0,0.9)", "width": 0.8}), row=2, col=1)
        _alert_markers(fig, frame, alerts, "stability_score", row=1)
    for lo, hi, lv in level_bands():
        fig.add_hrect(y0=lo, y1=hi, fillcolor=LEVEL_COLOURS[str(lv)], opacity=0.15, line_width=0, layer="below",
                      row=1, col=1, exclude_empty_subplots=False)
    if worst is not None and not worst.empty:
        for r in worst.itertuples():
            fig.add_vrect(x0=r.start, x1=r.end, fillcolor="rgba(90,90,90,0.30)", line_width=0, row="all", col=1)
    fig.update_yaxes(range=[0, 100], title_text="score", row=1, col=1)
    fig.update_yaxes(title_text="price", row=2, col=1)
    fig.update_layout(title=f"Stability over time — {name}" if name else "Stability over time", height=height,
                      margin=_MARGIN, legend={"orientation": "h", "y": -0.12})
    return fig
