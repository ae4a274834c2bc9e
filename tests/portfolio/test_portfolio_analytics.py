"""Performance analytics: known answers (SPEC §3: sample std, rf 0, 252 periods)."""

import numpy as np
import pytest

from riskcore.errors import InputError
from riskcore.portfolio import analytics as an

R = np.array([0.01, -0.01, 0.02, 0.0])


def test_sharpe_known_answer():
    sd = np.sqrt((0.005**2 + 0.015**2 + 0.015**2 + 0.005**2) / 3)
    assert an.sharpe_ratio(R) == pytest.approx(0.005 / sd * np.sqrt(252))
    assert an.sharpe_ratio(R) == pytest.approx(6.14817, rel=1e-5)
    assert an.sharpe_ratio(R, rf=0.252) == pytest.approx((0.005 - 0.001) / sd * np.sqrt(252))


def test_sortino_known_answer():
    # downside deviation sqrt(mean(min(r, 0)^2)) = sqrt(0.0001 / 4) = 0.005
    assert an.sortino_ratio(R) == pytest.approx(0.005 / 0.005 * np.sqrt(252))
    assert an.sortino_ratio([0.01, 0.02]) == float("inf")


def test_max_drawdown_and_calmar():
    assert an.max_drawdown([0.1, -0.5, 0.2]) == pytest.approx(0.5)
    assert an.max_drawdown([-0.1, 0.05]) == pytest.approx(0.1)  # the start counts as a peak
    assert an.max_drawdown([0.01, 0.02]) == 0.0
    growth = 1.01 * 0.99 * 1.02
    assert an.annual_return(R) == pytest.approx(growth ** (252 / 4) - 1)
    assert an.calmar_ratio(R) == pytest.approx((growth ** 63 - 1) / (1 - 1.01 * 0.99 / 1.01))


def test_volatility_var_cvar():
    assert an.annual_volatility(R) == pytest.approx(np.std(R, ddof=1) * np.sqrt(252))
    r = np.arange(1, 101) / 1000 - 0.05          # -0.049 .. 0.05
    assert an.value_at_risk(r, 0.95) == pytest.approx(-np.quantile(r, 0.05))
    assert an.value_at_risk(r, 0.95) == pytest.approx(0.04405)
    tail = r[r <= np.quantile(r, 0.05)]          # -0.049 .. -0.045
    assert an.conditional_var(r, 0.95) == pytest.approx(-tail.mean())
    assert an.conditional_var(r, 0.95) == pytest.approx(0.047)


def test_win_stats():
    pnl = [100, -50, 200, -150, 0]
    assert an.win_rate(pnl) == 0.4
    assert an.average_win(pnl) == 150.0 and an.average_loss(pnl) == -100.0
    assert an.average_loss([1, 2]) == 0.0


def test_summary_and_errors():
    s = an.performance_summary(np.random.default_rng(0).normal(0.0005, 0.01, 300))
    assert {"sharpe_ratio", "sortino_ratio", "max_drawdown", "calmar_ratio", "var_0.95", "cvar_0.95"} <= set(s.index)
    with pytest.raises(InputError) as e:
        an.sharpe_ratio([0.01, float("nan"), 0.02])
    assert e.value.field == "returns" and e.value.row == 2
    with pytest.raises(InputError, match="at least 2"):
        an.sharpe_ratio([0.01])
    with pytest.raises(InputError, match="-1"):
        an.max_drawdown([0.1, -1.2])
    with pytest.raises(InputError, match="periods_per_year"):
        an.sharpe_ratio(R, periods_per_year=0)
