"""Figure builders of riskcore.plots.portfolio: built from result objects, with the expected content."""

import pandas as pd

from riskcore.agents import RiskSystem
from riskcore.plots.portfolio import (
    allocation_figure,
    correlation_figure,
    critic_scores_figure,
    decision_latency_figure,
    risk_state_figure,
)
from riskcore.portfolio.context import preset
from riskcore.portfolio.state import RISK_FEATURES, compute_risk_state
from riskcore.reports import decision_report_html


def test_figures_from_a_decision():
    ctx = preset("volatile")
    st = compute_risk_state(ctx, n_simulations=500)
    d = RiskSystem().process_risk_decision(st.vector, ctx)
    f = risk_state_figure(d, normalized=[0.0] * 10)
    assert list(f.data[0].y) == list(RISK_FEATURES) and len(f.data) == 2
    assert f.data[0].x[6] == ctx.margin_usage_pct / 90.0
    c = critic_scores_figure(d)
    assert list(c.data[0].x) == ["portfolio", "position", "correlation", "liquidity"]
    assert list(c.data[2].y) == [0.9, None, 0.8, None]  # emergency thresholds
    assert sum(allocation_figure(d).data[0].y) == 1.0 or abs(sum(allocation_figure(d).data[0].y) - 1) < 1e-12
    assert correlation_figure(st.correlation).data[0].z.shape == (2, 2)
    log = pd.DataFrame({"created_at": pd.to_datetime(["2026-01-01", "2026-01-02"]), "latency_ms": [0.2, 0.3],
                        "status": ["approved", None]})
    assert len(decision_latency_figure(log).data) == 2
    assert len(decision_latency_figure(log.iloc[:0]).data) == 0


def test_decision_report_html():
    ctx = preset("margin squeeze")
    st = compute_risk_state(ctx, n_simulations=500)
    trade = {"symbol": "MES", "direction": 1, "base_quantity": 2, "entry_price": 5000.0}
    d = RiskSystem().process_risk_decision(st.vector, ctx, trade)
    page = decision_report_html(d, {"status": "rejected", "reason": "emergency <x>"}, st)
    assert page.startswith("<!DOCTYPE html>") and page.count('class="plotly-graph-div"') == 4
    assert "MARGIN_CRITICAL" in page and "emergency &lt;x&gt;" in page  # escaped
    assert all(name in page for name in RISK_FEATURES) and "position_sizing" in page
    assert "p3" in page  # stop/target updates of the open positions
