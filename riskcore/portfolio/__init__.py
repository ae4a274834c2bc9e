"""Portfolio risk: sizing, stops, portfolio VaR, correlation, liquidity, risk state, emergency
rules, analytics and the event processor (:mod:`riskcore.portfolio.events`, imported on use)."""

from __future__ import annotations

from riskcore._lazy import lazy_exports

#: public name -> module that defines it (imported on first use, the policy of every riskcore package)
_LAZY: dict[str, str] = {
    "PortfolioContext": "riskcore.portfolio.context",
    "Position": "riskcore.portfolio.context",
    "Preset": "riskcore.portfolio.context",
    "TradeRequest": "riskcore.portfolio.context",
    "preset": "riskcore.portfolio.context",
    "correlation_alerts": "riskcore.portfolio.correlation",
    "correlation_matrix": "riskcore.portfolio.correlation",
    "correlation_risk_score": "riskcore.portfolio.correlation",
    "apply_risk_adjustment": "riskcore.portfolio.emergency",
    "check_emergency": "riskcore.portfolio.emergency",
    "LiquidityAssessment": "riskcore.portfolio.liquidity",
    "assess_liquidity": "riskcore.portfolio.liquidity",
    "kelly_fraction": "riskcore.portfolio.sizing",
    "position_size": "riskcore.portfolio.sizing",
    "RISK_FEATURES": "riskcore.portfolio.state",
    "RiskState": "riskcore.portfolio.state",
    "RollingZScore": "riskcore.portfolio.state",
    "compute_risk_state": "riskcore.portfolio.state",
    "dynamic_stop_loss": "riskcore.portfolio.stops",
    "take_profit_price": "riskcore.portfolio.stops",
    "parametric_portfolio_var": "riskcore.portfolio.var",
    "portfolio_var": "riskcore.portfolio.var",
}

__all__ = [
    "PortfolioContext", "Position", "Preset", "TradeRequest", "preset", "correlation_matrix",
    "correlation_risk_score", "correlation_alerts", "check_emergency", "apply_risk_adjustment",
    "assess_liquidity", "LiquidityAssessment", "kelly_fraction", "position_size", "RISK_FEATURES", "RiskState",
    "RollingZScore", "compute_risk_state", "dynamic_stop_loss", "take_profit_price", "portfolio_var",
    "parametric_portfolio_var",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
