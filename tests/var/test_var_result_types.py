"""Issue 16 items 6-7: evt_fit / fhs_fit return small dataclasses, the ensemble's out-of-sample scheme has typed
fields, and simple returns are one function."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from riskcore.data import PriceSeries
from riskcore.returns import simple_returns
from riskcore.var import EnsembleVaR, VaRReport
from riskcore.var.ensemble import OutOfSampleScheme
from riskcore.var.measures import EVTEstimate, EVTFit, FHSEstimate, FHSFit, as_returns, evt_fit, evt_var, fhs_fit

CS = (0.95, 0.99)


@pytest.fixture(scope="module")
def returns() -> pd.Series:
    rng = np.random.default_rng(21)
    return pd.Series(0.01 * rng.standard_t(4, 500) / math.sqrt(2.0),
                     index=pd.bdate_range("2019-01-01", periods=500, name="date"))


def test_evt_fit_returns_a_dataclass_that_unpacks_as_before(returns):
    est = evt_fit(returns, CS)
    assert isinstance(est, EVTEstimate) and isinstance(est.fit, EVTFit)
    fit, var, es = est
    assert fit is est.fit and var is est.var and es is est.es
    assert est.confidences == CS and est.var.shape == est.es.shape == (2,)
    assert est.var[1] == evt_var(returns, 0.99)
    d = est.to_dict()
    assert d["confidences"] == [0.95, 0.99] and d["var"] == est.var.tolist() and d["fit"] == est.fit.to_dict()


def test_fhs_fit_returns_a_dataclass_that_unpacks_as_before(returns):
    est = fhs_fit(returns, CS)
    assert isinstance(est, FHSEstimate) and isinstance(est.fit, FHSFit)
    fit, var, es = est
    assert fit is est.fit and np.array_equal(var, est.var) and np.array_equal(es, est.es)
    assert est.confidences == CS and np.all(est.es >= est.var)


def test_out_of_sample_scheme_is_the_info_dict_as_fields(returns, tmp_store):
    rep = EnsembleVaR(CS, oos_window=300).fit(returns)
    oos = rep.out_of_sample
    assert isinstance(oos, OutOfSampleScheme)
    assert (oos.window, oos.n_days, oos.garch_refit_every) == (rep.info["oos"]["window"], rep.info["oos"]["n_days"],
                                                               rep.info["oos"]["garch_refit_every"])
    assert oos.n_days == 200 and oos.note is None
    assert oos.to_dict() == {k: v for k, v in rep.info["oos"].items() if k != "garch_fits"}
    # a saved report (its info dict as stored) gives the same fields
    assert VaRReport.load(tmp_store, rep.save(tmp_store)).out_of_sample == oos
    none = EnsembleVaR(CS, oos_window=500).fit(returns).out_of_sample
    assert none.n_days == 0 and "equal weights" in none.note and none.to_dict()["note"] == none.note


def test_simple_returns_one_function_for_arrays_series_and_frames():
    p = np.array([100.0, 110.0, 99.0, 99.0])
    np.testing.assert_array_equal(simple_returns(p), [110.0 / 100.0 - 1.0, 99.0 / 110.0 - 1.0, 0.0])
    m = np.column_stack([p, 2 * p])
    np.testing.assert_array_equal(simple_returns(m), np.column_stack([simple_returns(p), simple_returns(2 * p)]))
    idx = pd.date_range("2024-01-01", periods=4, name="date")
    s = pd.Series(p, index=idx, name="px")
    r = simple_returns(s)
    assert r.name == "px" and r.index.equals(idx[1:])
    pd.testing.assert_series_equal(r, s.pct_change().iloc[1:])  # what data.py used before: the same numbers
    f = simple_returns(pd.DataFrame({"a": p, "b": 2 * p}, index=idx))
    assert list(f.columns) == ["a", "b"] and f.index.equals(idx[1:])
    # the callers: PriceSeries.returns and the VaR input path give these numbers
    ps = PriceSeries.from_series(pd.Series(np.linspace(1.0, 1.3, 40), index=pd.date_range("2024-01-01", periods=40)))
    np.testing.assert_array_equal(ps.returns().to_numpy(), simple_returns(ps.prices.to_numpy()))
    np.testing.assert_array_equal(as_returns(ps).to_numpy(), simple_returns(ps.prices.to_numpy()))
