"""Portfolio risk: sizing, stops, portfolio VaR, correlation, liquidity, risk state, emergency
rules, analytics and the event processor (:mod:`riskcore.portfolio.events`, imported on use)."""

from riskcore.portfolio.context import PortfolioContext, Position, Preset, TradeRequest, preset
from riskcore.portfolio.correlation import correlation_alerts, correlation_matrix, correlation_risk_score
from riskcore.portfolio.emergency import apply_risk_adjustment, check_emergency
from riskcore.portfolio.liquidity import LiquidityAssessment, assess_liquidity
from riskcore.portfolio.sizing import kelly_fraction, position_size
from riskcore.portfolio.state import RISK_FEATURES, RiskState, RollingZScore, compute_risk_state
from riskcore.portfolio.stops import dynamic_stop_loss, take_profit_price
from riskcore.portfolio.var import parametric_portfolio_var, portfolio_var

__all__ = ["PortfolioContext", "Position", "Preset", "TradeRequest", "preset", "correlation_matrix",
           "correlation_risk_score", "correlation_alerts", "check_emergency", "apply_risk_adjustment",
           "assess_liquidity", "LiquidityAssessment", "kelly_fraction", "position_size", "RISK_FEATURES", "RiskState",
           "RollingZScore", "compute_risk_state", "dynamic_stop_loss", "take_profit_price", "portfolio_var",
           "parametric_portfolio_var"]
