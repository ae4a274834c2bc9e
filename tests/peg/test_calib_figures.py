"""The Calibration page's figures: the Vega-Lite price chart and the data-quality returns plot."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from riskcore.data import PriceSeries, gap_positions
from riskcore.plots.calibration import price_series_figure, price_series_spec, returns_figure


def _series(n: int = 200, *, gap_at: int | None = None, volume: bool = False) -> PriceSeries:
    dates = pd.date_range("2024-01-01", periods=n, freq="D")
    if gap_at is not None:  # 30 missing days after row gap_at
        dates = dates.where(np.arange(n) <= gap_at, dates + pd.Timedelta(days=30))
    prices = pd.Series(1.0 + 0.01 * np.sin(np.arange(n) / 7.0), index=dates)
    vol = pd.Series(np.arange(n, dtype=float) + 1.0, index=dates) if volume else None
    return PriceSeries.from_series(prices, name="desk", volume=vol)


def test_spec_holds_every_price_and_is_json():
    s = _series(200)
    spec = price_series_spec(s)
    json.dumps(spec)  # what Streamlit sends must serialise
    rows = spec["data"]["values"]
    assert len(rows) == 200
    assert rows[0] == {"date": "2024-01-01T00:00:00", "price": float(s.prices.iloc[0])}
    assert spec["title"] == "desk: 200 prices"
    assert "vconcat" not in spec  # no volume panel without volumes


def test_spec_thins_long_series_keeping_both_ends():
    s = _series(12_001)
    rows = price_series_spec(s, max_points=1_000)["data"]["values"]
    assert len(rows) == 1_000
    assert rows[0]["price"] == float(s.prices.iloc[0]) and rows[-1]["price"] == float(s.prices.iloc[-1])
    assert price_series_spec(s, max_points=1_000)["title"] == "desk: 12,001 prices"  # the full count


def test_spec_shades_gaps_and_draws_volume_like_the_plotly_figure():
    s = _series(120, gap_at=59, volume=True)
    assert s.report.n_gaps == 1
    spec = price_series_spec(s)
    price_panel, volume_panel = spec["vconcat"]
    rect = price_panel["layer"][0]
    assert rect["mark"]["type"] == "rect"
    start, end, days = s.report.gaps[0]
    assert rect["data"]["values"] == [{"start": start, "end": end, "days": days}]
    assert volume_panel["mark"]["type"] == "bar"
    assert [r["volume"] for r in spec["data"]["values"][:3]] == [1.0, 2.0, 3.0]
    fig = price_series_figure(s)  # the same gap in the notebook's Plotly figure
    assert {(sh.x0, sh.x1) for sh in fig.layout.shapes} == {(start, end)}  # one rect per panel


def test_returns_figure_marks_the_return_across_a_gap():
    s = _series(120, gap_at=59)
    assert list(gap_positions(s.prices.index)) == [59] and s.report.n_gaps == 1  # the report's rule
    fig = returns_figure(s)
    line, marks = fig.data
    r = np.diff(np.log(s.prices.to_numpy()))
    np.testing.assert_allclose(np.asarray(line.y), r)
    assert list(marks.y) == [r[59]]  # the return from row 59 to row 60 spans the 30-day gap
    assert len(returns_figure(_series(50)).data) == 1  # no gap, no marks
