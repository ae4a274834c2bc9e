"""Moved to :mod:`riskcore.validate`, the package-wide toolkit; kept so existing imports still work."""

from riskcore.validate import direction, integer, real, text

__all__ = ["real", "integer", "direction", "text"]
