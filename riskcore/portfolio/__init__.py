"""Portfolio risk: sizing, stops, portfolio VaR, correlation, liquidity, risk state, emergency
rules, analytics and the event processor (:mod:`riskcore.portfolio.events`, imported on use)."""

from __future__ import annotations

from riskcore._lazy import lazy_exports, lazy_table

#: public name -> module that defines it (imported on first use, the policy of every riskcore package)
_LAZY: dict[str, str] = lazy_table({
    "riskcore.portfolio.context": "PortfolioContext Position Preset TradeRequest preset",
    "riskcore.portfolio.correlation": "correlation_alerts correlation_matrix correlation_risk_score",
    "riskcore.portfolio.emergency": "apply_risk_adjustment check_emergency",
    "riskcore.portfolio.liquidity": "LiquidityAssessment assess_liquidity",
    "riskcore.portfolio.sizing": "kelly_fraction position_size",
    "riskcore.portfolio.state": "RISK_FEATURES RiskState RollingZScore compute_risk_state",
    "riskcore.portfolio.stops": "dynamic_stop_loss take_profit_price",
    "riskcore.portfolio.var": "parametric_portfolio_var portfolio_var",
})

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
