"""Issue 16 item 7: the drift of SPEC §1 is one formula; the NumPy reference, the compiled kernel (CPU and the
CUDA single source), the PyTorch backend and the calibration likelihood agree on it to 1e-15."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from riskcore.params import ModelParameters
from riskcore.peg import calibration as C
from riskcore.peg import kernels as K
from riskcore.peg import model as M
from riskcore.peg.montecarlo import simulate

ALPHA, DECAY, SUPPORT = 0.8, 0.0123, 0.0456
# both bands, their edges, the peg and the floor region
PRICES = np.array([0.01, 0.5, 0.97, 0.98, 0.9800001, 0.99, 1.0, 1.01, 1.02, 1.0200001, 1.05, 1.5])


def _by_hand(p: float) -> float:
    return -ALPHA * (p - 1.0) - (DECAY if p > 1.02 else 0.0) + (SUPPORT if p < 0.98 else 0.0)


def test_model_drift_is_spec_and_matches_the_kernel_step():
    want = np.array([_by_hand(p) for p in PRICES])
    got = M.drift(PRICES, ALPHA, DECAY, SUPPORT)
    assert np.max(np.abs(got - want)) <= 1e-15
    for p, d in zip(PRICES, got, strict=True):
        # the single source of the CPU and CUDA kernels, as plain Python and compiled: with dt = 1 and no noise
        # the step is p + drift
        for step in (K.diffuse_src, K._diffuse):
            assert abs((step(float(p), 0.0, DECAY, SUPPORT, 0.0, ALPHA, 1.0, K.LEVELS) - p) - d) <= 1e-15
    assert K.LEVELS == (M.PEG, M.UPPER_BAND, M.LOWER_BAND, M.PRICE_FLOOR)


def test_torch_backend_uses_the_same_drift():
    torch = pytest.importorskip("torch")
    from riskcore.peg.torch_backend import simulate_torch

    t = torch.as_tensor(PRICES)
    f64 = {"dtype": torch.float64}
    got = M.drift(t, ALPHA, torch.tensor(DECAY, **f64), torch.tensor(SUPPORT, **f64), where=torch.where).numpy()
    assert np.max(np.abs(got - M.drift(PRICES, ALPHA, DECAY, SUPPORT))) <= 1e-15
    # one noiseless, jump-free step of the backend from each price is p + drift dt (floored)
    dt = 0.5
    c = M.StepCoefficients(decay=np.array([DECAY]), support=np.array([SUPPORT]), vol_sqrt_dt=np.array([0.0]),
                           shock_factor=np.array([1.0]), alpha=ALPHA, dt=dt, p_jump=0.0, jump_rate_dt=0.0,
                           jump_mu=0.0, jump_sigma=0.0)
    for p in PRICES:
        out = simulate_torch(c, 3, float(p), seed=0, n_record=0, device="cpu").terminal
        ref = M.reference_step(np.full(3, p), 0, c, np.zeros(3), np.zeros(3))
        assert np.max(np.abs(out - ref)) <= 1e-15
        assert abs(ref[0] - max(M.PRICE_FLOOR, p + _by_hand(p) * dt)) <= 1e-15


def test_calibration_components_use_the_same_drift():
    n = PRICES.size
    d = C._Data(p=PRICES, x=np.zeros(n), decay_u=np.full(n, DECAY / 0.3), support_u=np.full(n, SUPPORT / 0.8),
                vol_u=np.ones(n), dt=1.0, scale=1.0)
    theta = {"alpha": ALPHA, "beta": 0.3, "gamma": 0.8, "sigma_base": 0.02, "jump_intensity": 0.1,
             "jump_size_mu": -0.05, "jump_size_sigma": 0.03}
    m = C._components(theta, d)[0]
    assert np.max(np.abs(m - np.array([_by_hand(p) for p in PRICES]))) <= 1e-15


def test_increment_density_is_the_likelihood_mixture():
    # written out from SPEC §1 (as before the refactoring), compared with the method that now calls _components
    r = simulate(ModelParameters(sigma_base=0.05), 1, n_steps=400, seed=5, keep_paths=1)
    series = pd.Series(r.paths[0], index=pd.date_range("2024-01-01", periods=401, freq="D"))
    res = C.calibrate(series)
    th = res.params
    p, dt = res.start_prices, res.dt
    drift = -th.alpha * (p - 1.0) - np.where(p > 1.02, th.beta * res._decay_u, 0.0) + np.where(
        p < 0.98, th.gamma * res._support_u, 0.0)
    m = drift * dt
    sd0 = th.sigma_base * res._vol_u
    sd1 = np.sqrt(sd0 ** 2 + th.jump_size_sigma ** 2)
    q = -math.expm1(-th.jump_intensity * dt)
    grid = np.linspace(res.increments.min(), res.increments.max(), 101)
    g = grid[:, None]
    want = ((1 - q) * stats.norm.pdf(g, m[None, :], sd0[None, :])
            + q * stats.norm.pdf(g, m[None, :] + th.jump_size_mu, sd1[None, :])).mean(axis=1)
    assert np.allclose(res.increment_density(grid), want, rtol=1e-12, atol=0)
