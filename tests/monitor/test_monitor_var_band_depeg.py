"""Issue 10: after a de-peg and its recovery the Live Monitor's VaR price band stays below the price."""

from __future__ import annotations

import numpy as np
import pytest

from riskcore.monitor.token import TokenMonitor


def _depeg_and_recover() -> np.ndarray:
    """300 calm ticks at the peg, a fall to 0.75 over 5 ticks, 40 ticks there, one jump back, 200 calm ticks."""
    rng = np.random.default_rng(7)
    calm = 1.0 + rng.normal(0, 0.002, 300)
    fall = np.linspace(0.97, 0.75, 5)
    low = 0.75 + rng.normal(0, 0.003, 40)
    back = 1.0 + rng.normal(0, 0.002, 200)
    return np.concatenate([calm, fall, low, back])


@pytest.mark.parametrize("ensemble", [False, True])
def test_var_band_stays_below_the_price(ensemble):
    prices = _depeg_and_recover()
    mon = TokenMonitor(ensemble=ensemble, window=250, refresh_every=50)
    mon.update_many(prices)
    f = mon.frame()
    ok = f["var_99"].notna()
    assert ok.sum() > 400
    for col in ("var_95", "var_99", "var_997"):
        assert (f.loc[ok, col] > 0).all(), col  # a positive loss: the band is below the price
        assert (f.loc[ok, f"{col}_price"] < f.loc[ok, "price"]).all(), col
    # right after the jump back to the peg the tail is wide, not inverted
    after = f.iloc[346:360]
    assert (after["var_99_price"] < after["price"]).all()
