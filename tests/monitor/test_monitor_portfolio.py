"""Portfolio monitor: the PRD's metrics from a portfolio context, thresholds, overall score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskcore.errors import InputError
from riskcore.monitor.portfolio import PortfolioMonitor, overall_risk_score, portfolio_metrics
from riskcore.portfolio.context import PortfolioContext, Position


def _context(margin=50.0, drawdown=0.5, qty_b=1.0):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(300, 1))
    # B follows A closely (rho ~ 0.95): correlation risk above the PRD's 0.7
    ra = 0.01 * z[:, 0]
    rb = 0.01 * (0.95 * z[:, 0] + np.sqrt(1 - 0.95**2) * rng.normal(size=300))
    hist = pd.DataFrame({"A": 100 * np.cumprod(1 + ra), "B": 50 * np.cumprod(1 + rb)})
    pos = (Position("p1", "A", 100.0, 100.0, float(hist["A"].iloc[-1])),
           Position("p2", "B", qty_b, 50.0, float(hist["B"].iloc[-1])))
    return PortfolioContext(account_equity=100_000.0, positions=pos, current_drawdown_pct=drawdown,
                            margin_usage_pct=margin, price_history=hist)


def test_metrics_follow_the_prd_definitions():
    ctx = _context()
    m = portfolio_metrics(ctx, n_simulations=2000, seed=1)
    values = [abs(p.value) for p in ctx.positions]
    assert m["position_concentration"] == pytest.approx(max(values) / sum(values))
    assert m["portfolio_var_pct"] == pytest.approx(100 * m["var_currency"] / 100_000.0)
    assert m["correlation_risk"] > 0.7
    assert m["margin_usage_pct"] == 50.0 and m["num_positions"] == 2.0


def test_portfolio_monitor_raises_and_clears_with_the_prd_thresholds(tmp_store):
    mon = PortfolioMonitor(n_simulations=500)
    first = mon.update(_context(margin=95.0, drawdown=2.5))
    raised = {a.metric: str(a.severity) for a in first.new_alerts}
    # margin 95/80 = 1.19 -> MEDIUM; drawdown 2.5/1.5 = 1.67 -> CRITICAL; one position dominates
    assert raised["margin_usage_pct"] == "MEDIUM" and raised["current_drawdown_pct"] == "CRITICAL"
    assert "position_concentration" in raised and "correlation_risk" in raised
    assert mon.update(_context(margin=96.0, drawdown=2.6)).new_alerts == ()
    mon.update(_context(margin=50.0, drawdown=0.5))
    assert "margin_usage_pct" not in mon.engine.active and "current_drawdown_pct" not in mon.engine.active
    actions = [d["action"] for d in mon.engine.decisions]
    assert "CLOSE_LOSING_POSITIONS" in actions
    assert mon.flush(tmp_store) >= 4
    assert (tmp_store.list_alerts(source="portfolio")["status"] == "CLEARED").sum() >= 2
    assert 0 <= first.overall_risk_score <= 100 and len(mon.frame()) == 3


def test_overall_risk_score_known_values():
    assert overall_risk_score({}) == 0.0
    assert overall_risk_score({"portfolio_var_pct": 1.0, "margin_usage_pct": 50.0}) == 20.0
    full = {"portfolio_var_pct": 5.0, "position_concentration": 1.0, "correlation_risk": 1.0,
            "current_drawdown_pct": 9.0, "margin_usage_pct": 100.0}
    assert overall_risk_score(full) == 100.0
    with pytest.raises(InputError):
        PortfolioMonitor(n_simulations=10)
