"""The compiled GARCH(1,1) solver reaches arch's optimum (or a better one) on arch's own problem."""

from __future__ import annotations

import numpy as np
import pytest

from riskcore.data import load_sample
from riskcore.var.garch import GarchEstimator, estimate_garch, fit_garch, fit_garch_compiled, garch_nll


@pytest.fixture(scope="module")
def sp500_pct() -> np.ndarray:
    return load_sample("sp500").returns().to_numpy() * 100.0


def test_same_objective_as_arch(sp500_pct):
    x = sp500_pct[:500]
    a = fit_garch(x)
    assert -garch_nll(a.as_array(), x) == pytest.approx(a.loglik, abs=1e-8)


def test_optimum_never_worse_than_archs(sp500_pct):
    x = sp500_pct
    worse, better = [], 0
    for k in range(0, x.size - 252, 200):
        w = x[k:k + 252]
        a, c = fit_garch(w), fit_garch_compiled(w)
        assert c.converged
        assert c.alpha >= 0 and c.beta >= 0 and c.alpha + c.beta <= 1 + 1e-12 and c.omega > 0
        assert -garch_nll(c.as_array(), w) == pytest.approx(c.loglik, abs=1e-9)
        worse.append(a.loglik - c.loglik)
        better += c.loglik > a.loglik + 1e-3
    assert max(worse) < 1e-4, max(worse)


def test_recovers_known_parameters_like_arch():
    rng = np.random.default_rng(5)
    n, mu, om, al, be = 3000, 0.05, 0.05, 0.08, 0.9
    x, s2 = np.empty(n), om / (1 - al - be)
    for t in range(n):
        x[t] = mu + np.sqrt(s2) * rng.standard_normal()
        s2 = om + al * (x[t] - mu) ** 2 + be * s2
    c, a = fit_garch_compiled(x), estimate_garch(x, GarchEstimator.ARCH)
    np.testing.assert_allclose(c.as_array(), a.as_array(), atol=2e-3)
    assert c.loglik >= a.loglik - 1e-6
    assert abs(c.alpha - al) < 0.03 and abs(c.beta - be) < 0.04


def test_constant_window_is_rejected():
    with pytest.raises(ValueError, match="constant"):
        fit_garch_compiled(np.full(100, 0.3))
