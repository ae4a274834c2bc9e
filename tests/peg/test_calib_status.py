"""Issue 10 item 8: every calibrated parameter has an honest status; no NaN interval labelled estimated."""

from __future__ import annotations

import math

import numpy as np
import pytest

from riskcore.data import PriceSeries, load_sample
from riskcore.peg.calibration import ParamStatus, calibrate


@pytest.fixture(scope="module")
def index_fit():
    """An equity index uploaded by mistake (far from the peg): alpha ends at its lower bound."""
    p = load_sample("sp500").prices.iloc[:300]
    return calibrate(PriceSeries.from_series(p, name="index"))


def test_estimate_at_a_bound_is_not_labelled_estimated(index_fit):
    sm = index_fit.summary()
    assert sm.loc["alpha", "estimate"] == pytest.approx(1e-6)
    assert sm.loc["alpha", "status"] == "at bound"  # was "estimated" with "± nan, [nan, nan]"
    assert index_fit.status("alpha") is ParamStatus.AT_BOUND
    for name, row in sm.iterrows():
        finite_ci = math.isfinite(row["ci95_low"]) and math.isfinite(row["ci95_high"])
        assert (row["status"] == "estimated") == finite_ci, name
        if row["status"] == "estimated":
            assert math.isfinite(row["std_err"]) and row["ci95_low"] <= row["estimate"] <= row["ci95_high"]
    assert set(sm["status"]) <= {s.value for s in ParamStatus}
    assert sm.loc["beta", "status"] == "held"


def test_apply_warnings_list_poor_fit_and_bounds(index_fit):
    doubts = index_fit.apply_warnings()
    assert index_fit.needs_confirmation
    assert any("alpha" in d and "bound" in d for d in doubts)


def test_a_good_fit_needs_no_confirmation():
    res = calibrate(load_sample("stable_token"))
    assert res.apply_warnings() == [] and not res.needs_confirmation
    sm = res.summary()
    assert (sm.loc[list(res.fit), "status"] == "estimated").all()
    assert np.isfinite(sm.loc[list(res.fit), ["ci95_low", "ci95_high"]].to_numpy()).all()


def test_statuses_survive_save_and_load(index_fit, tmp_store):
    back = type(index_fit).load(tmp_store, index_fit.save(tmp_store, "idx"))
    assert back.statuses == index_fit.statuses
    assert back.apply_warnings() == index_fit.apply_warnings()
