"""Issue 10 item 7: SPEC §1's stability limit alpha * dt < 1 in simulate and in the calibration box."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskcore.data import PriceSeries
from riskcore.errors import InputError
from riskcore.params import ModelParameters, check_stable_step, max_stable_alpha
from riskcore.peg.calibration import _Data, _space, calibrate
from riskcore.peg.montecarlo import simulate


@pytest.mark.parametrize("alpha", [800.0, 1e9, 365.0])
def test_simulate_rejects_an_unstable_step_and_names_the_limit(alpha):
    with pytest.raises(InputError) as err:
        simulate(ModelParameters(alpha=alpha), 100, n_steps=10, dt=1 / 365)
    msg = str(err.value)
    assert err.value.field == "alpha" and "dt = 0.00273973" in msg and "below 365 per year" in msg


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_just_below_the_limit_runs_and_stays_bounded(backend):
    res = simulate(ModelParameters(alpha=364.0, jump_intensity=0.0), 500, n_steps=50, dt=1 / 365, backend=backend)
    assert np.isfinite(res.terminal).all() and res.terminal.max() < 1.5


def test_limit_depends_on_dt():
    assert max_stable_alpha(1 / 252) == pytest.approx(252.0)
    check_stable_step(300.0, 1 / 365)
    with pytest.raises(InputError, match="below 252 per year"):
        check_stable_step(300.0, 1 / 252)


def test_calibration_box_keeps_alpha_below_one_over_dt():
    d = _Data(p=np.ones(10), x=np.zeros(10), decay_u=np.zeros(10), support_u=np.zeros(10),
              vol_u=np.full(10, np.sqrt(1 / 365)), dt=1 / 365, scale=1e-3)
    sp = _space(("alpha",), d)
    assert sp.hi[0] * (1 / 365) < 1.0 and sp.hi[0] > 364.0


def test_calibration_rejects_a_held_unstable_alpha():
    idx = pd.date_range("2024-01-01", periods=60, freq="D")
    prices = pd.Series(1.0 + 0.001 * np.random.default_rng(0).standard_normal(60), index=idx)
    with pytest.raises(InputError, match="alpha"):
        calibrate(PriceSeries.from_series(prices, name="t"), fit=("sigma_base",),
                  base=ModelParameters(alpha=1000.0))
