"""Issue 10 item 6: a constant series has zero risk, not a Sharpe ratio of 7e16."""

from __future__ import annotations

import math

import numpy as np
import pytest

from riskcore.portfolio import analytics as an


@pytest.mark.parametrize(("value", "n"), [(0.001, 252), (0.01, 10), (-0.003, 20)])
def test_constant_series_has_zero_deviation(value, n):
    r = np.full(n, value)
    assert r.std(ddof=1) > 0  # rounding noise: the 7.3e16 "Sharpe" of the issue
    assert an.sharpe_ratio(r) == math.copysign(math.inf, value)
    assert an.annual_volatility(r) == 0.0
    if value > 0:
        assert an.sortino_ratio(r) == math.inf


def test_zero_series_is_nan_and_real_variation_is_kept():
    assert math.isnan(an.sharpe_ratio(np.zeros(10)))
    r = np.array([0.01, 0.0100001, 0.01])  # tiny but real variation: a finite ratio
    assert math.isfinite(an.sharpe_ratio(r)) and an.sharpe_ratio(r) > 1e3
