"""Figures of a peg simulation: what the Scenario Lab draws (riskcore.plots.peg)."""

from __future__ import annotations

import numpy as np
import pytest

from riskcore.peg.montecarlo import simulate
from riskcore.peg.stat_keys import var_key
from riskcore.plots.peg import fan_chart, min_price_histogram, terminal_histogram


@pytest.fixture(scope="module")
def result():
    return simulate(None, 4_000, n_steps=60, seed=3, keep_paths=5)


def test_terminal_histogram_marks_both_var_levels_at_their_prices(result):
    fig = terminal_histogram(result)
    want = {f"VaR {c:.0%}": result.initial_price * (1 - result.stats[var_key(c)]) for c in (0.95, 0.99)}
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert sorted(s.x0 for s in lines) == pytest.approx(sorted(want.values()))
    assert all(s.x0 == s.x1 and s.yref == "y domain" and (s.y0, s.y1) == (0, 1) for s in lines)
    labels = {a.text: a.x for a in fig.layout.annotations}
    assert labels == pytest.approx(want)
    # the bars are the share of paths per bin: they sum to one (every path in the clipped range)
    assert np.sum(fig.data[0].y) == pytest.approx(1.0)


def test_several_results_share_bins_and_draw_no_var_lines(result):
    other = simulate(None, 4_000, n_steps=60, seed=4, keep_paths=5)
    fig = terminal_histogram({"a": result, "b": other})
    assert [t.name for t in fig.data] == ["a", "b"]
    assert np.array_equal(fig.data[0].x, fig.data[1].x)
    assert not fig.layout.shapes


def test_fan_chart_draws_the_kept_paths_as_one_trace(result):
    fig = fan_chart(result, max_paths=3)
    paths = [t for t in fig.data if (t.name or "").startswith("sample paths")]
    assert len(paths) == 1 and paths[0].name == "sample paths (3)"
    assert np.isnan(paths[0].y).sum() == 3            # one break after each path
    assert np.isfinite(min_price_histogram(result).data[0].y).all()
