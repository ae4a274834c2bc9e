"""The names of the peg statistics, defined once (SPEC §2).

:func:`riskcore.peg.montecarlo.peg_statistics` computes them, the figures
(:mod:`riskcore.plots.peg`), the Scenario Lab and the sweeps read them by these names.
A leaf module (only the model's constants) so a page or a figure can name a statistic
without importing the simulation engine.
"""

from __future__ import annotations

import enum

from riskcore.peg.model import MIN_LEVELS

__all__ = ["PegStat", "VAR_LEVELS", "STAT_DESCRIPTIONS", "min_below_key", "var_key", "es_key"]

#: confidence levels of the terminal VaR / ES
VAR_LEVELS: tuple[float, ...] = (0.95, 0.99, 0.997)


class PegStat(enum.StrEnum):
    """The fixed-name peg statistics (the per-level ones come from :func:`min_below_key`,
    :func:`var_key` and :func:`es_key`). Members equal their string value, the key in
    ``SimulationResult.stats``."""

    MEAN_TERMINAL = "mean_terminal"
    STD_TERMINAL = "std_terminal"
    P_TERMINAL_BELOW = "p_terminal_below_0.98"
    P_DEPEG = "p_depeg"
    EXPECTED_DAYS_BELOW = "expected_days_below_0.98"
    MEAN_DRAWDOWN = "mean_drawdown"
    WORST_DRAWDOWN = "worst_drawdown"
    MEAN_DAYS_TO_RECOVER = "mean_days_to_recover"
    P_UNRECOVERED = "p_unrecovered"


def _level_name(c: float) -> str:
    return f"{c * 100:g}"


def min_below_key(level: float) -> str:
    """``"p_min_below_0.95"``: share of paths whose minimum is below ``level``."""
    return f"p_min_below_{level:.2f}"


def var_key(confidence: float) -> str:
    """``"var_99"``: terminal VaR at ``confidence`` (loss vs the initial price)."""
    return f"var_{_level_name(confidence)}"


def es_key(confidence: float) -> str:
    """``"es_99"``: terminal ES at ``confidence``."""
    return f"es_{_level_name(confidence)}"



#: every statistic, in the order of ``SimulationResult.stats``, with its description
STAT_DESCRIPTIONS: dict[str, str] = {
    PegStat.MEAN_TERMINAL.value: "Mean terminal price",
    PegStat.STD_TERMINAL.value: "Standard deviation of the terminal price",
    PegStat.P_TERMINAL_BELOW.value: "P(terminal price < 0.98)",
    **{min_below_key(level): f"P(minimum price < {level:.2f})" for level in MIN_LEVELS},
    PegStat.P_DEPEG.value: "P(price < 0.98 at some step)",
    PegStat.EXPECTED_DAYS_BELOW.value: "Expected time below 0.98 (days)",
    PegStat.MEAN_DRAWDOWN.value: "Mean drawdown from the peg, max(0, 1 - min price)",
    PegStat.WORST_DRAWDOWN.value: "Worst drawdown from the peg over all paths",
    PegStat.MEAN_DAYS_TO_RECOVER.value: "Mean days from first close below 0.98 back to >= 0.98 (recovered paths)",
    PegStat.P_UNRECOVERED.value: "P(fell below 0.98 and still below at the horizon)",
    **{var_key(c): f"Terminal VaR {c:.1%} (loss vs initial price)" for c in VAR_LEVELS},
    **{es_key(c): f"Terminal ES {c:.1%} (loss vs initial price)" for c in VAR_LEVELS},
}
