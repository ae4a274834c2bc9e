"""VaR model checks: rolling backtests of every method at 95 / 99 / 99.7 % (seed 000 §3 ``validate_var_models``).

The source backtests historical VaR only and with the Kupiec test only; here every method of
:mod:`riskcore.var` and the ensemble are backtested with :func:`riskcore.var.backtest` and judged by
the coverage tests already there (Kupiec, Christoffersen conditional coverage). The backtest summary's
other columns (traffic light, duration, DQ, Z2, McNeil–Frey) are kept in each check's details.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from riskcore.validation.checks import CheckGroup, CheckResult, CheckStatus
from riskcore.var import backtest
from riskcore.var.backtest import BacktestResult

__all__ = ["VAR_LEVELS", "COVERAGE_LEVEL", "source_returns", "var_checks"]

#: the source's confidence levels
VAR_LEVELS: tuple[float, ...] = (0.95, 0.99, 0.997)
#: a VaR check fails when the Kupiec or the conditional-coverage test rejects at this level
COVERAGE_LEVEL = 0.05


def source_returns(seed: int = 42, n: int = 2000) -> pd.Series:
    """The source's validation sample: ``n`` i.i.d. normal daily returns, mean -0.1 %, volatility 2 %."""
    return pd.Series(np.random.default_rng(seed).normal(-0.001, 0.02, n), name="source sample")


def var_checks(returns: Any, window: int = 252, progress: Callable[[float, str], None] | None = None,
               ) -> tuple[list[CheckResult], BacktestResult]:
    """One check per method and level: the violation rate against ``1 - c`` with the coverage tests.

    Returns
    -------
    checks : list of CheckResult
        ``value`` the violation rate, ``target`` ``1 - c``, ``std_error`` the binomial
        ``sqrt(p (1 - p) / n)`` at the target rate; passed when neither Kupiec's test nor Christoffersen's
        conditional-coverage test rejects at 5 %.
    backtest : BacktestResult
    """
    res = backtest(returns, confidences=VAR_LEVELS, window=window, progress=progress)
    summ = res.summary()
    checks = []
    for (method, c), row in summ.iterrows():
        p = 1.0 - float(c)
        n = int(row["n"])
        ok = row["kupiec_p"] >= COVERAGE_LEVEL and row["cc_p"] >= COVERAGE_LEVEL
        details = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        checks.append(CheckResult(
            f"var_{method}_{c * 100:g}", CheckGroup.VAR, CheckStatus.PASSED if ok else CheckStatus.FAILED,
            float(row["rate"]), p, math.sqrt(p * (1 - p) / n),
            "Kupiec p >= 0.05 and Christoffersen conditional coverage p >= 0.05",
            f"{method} VaR {c:.1%}: violation rate ({int(row['violations'])} of {n} days)", details))
    return checks, res
