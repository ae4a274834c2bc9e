"""The Numba kernel against the SPEC §1 step: same random numbers, same prices; RNG and jump laws."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from riskcore.params import ModelParameters
from riskcore.peg import kernels
from riskcore.peg.model import jump_probability, reference_step, step_coefficients
from riskcore.peg.montecarlo import simulate
from riskcore.peg.scenarios import Scenario


def test_step_coefficients_known_values():
    p = ModelParameters()
    sc = Scenario(liquidity_pool=[5e4, 2e6, 1e6], fiat_activity=[0.05, 0.7, 0.5], network_health=[0.7, 0.9, 0.8])
    c = step_coefficients(p, sc.resolve(3), 1 / 365)
    # step 0: L/1e6 = 0.05 -> floored at 0.1 (x10); F < 0.1 -> penalty 2; F below threshold -> no discount
    assert c.decay[0] == pytest.approx(0.3 * 0.001 * 10 * 2)
    # step 1: L/1e6 = 2 (x0.5); F = 0.7 > 0.5 -> discount 0.5
    assert c.decay[1] == pytest.approx(0.3 * 0.001 * 0.5 * 0.5)
    assert c.decay[2] == pytest.approx(0.3 * 0.001)
    assert c.support.tolist() == pytest.approx([0.8 * 0.002 * 0.1, 0.8 * 0.002 * 1.4, 0.8 * 0.002 * 1.0])
    # H < 0.8 doubles the volatility; H = 0.8 does not
    assert c.vol_sqrt_dt.tolist() == pytest.approx([0.04 / math.sqrt(365), 0.02 / math.sqrt(365),
                                                    0.02 / math.sqrt(365)])
    assert c.p_jump == pytest.approx(1 - math.exp(-0.1 / 365))


@pytest.mark.parametrize("p0", [1.05, 1.0, 0.9, 0.001, 100.0])
def test_kernel_equals_reference_step_on_the_same_normals(p0):
    """Jumps off: path i of the kernel consumes exactly the normals of stream i, one per step."""
    params = ModelParameters(jump_intensity=0.0, sigma_base=0.05, alpha=2.0)
    sc = Scenario(liquidity_pool={0: 1e6, 20: 1e4}, fiat_activity={0: 0.8, 30: 0.05},
                  network_health={0: 0.6, 25: 0.6, 26: 1.0}, shocks={7: -0.2, 33: 0.15})
    n_steps, n_paths, seed = 60, 8, 11
    res = simulate(params, n_paths, n_steps=n_steps, seed=seed, initial_price=p0, scenario=sc, keep_paths=n_paths)
    c = step_coefficients(params, sc.resolve(n_steps), 1 / 365)
    for i in range(n_paths):
        z = kernels.normal_samples(seed, n_steps, stream=i)
        path = [np.array([p0])]
        for t in range(n_steps):
            path.append(reference_step(path[-1], t, c, z[t:t + 1], np.zeros(1)))
        ref = np.concatenate(path)
        np.testing.assert_allclose(res.paths[i], ref, rtol=1e-13, atol=1e-15)
        # per-path statistics agree with the path
        body = ref[1:]
        assert res.min_price[i] == pytest.approx(ref.min())
        assert res.steps_below[i] == int((body < 0.98).sum())
        below = np.flatnonzero(body < 0.98)
        assert res.first_breach[i] == (below[0] + 1 if below.size else -1)
        if below.size:
            back = np.flatnonzero(body[below[0]:] >= 0.98)
            assert res.recovery[i] == (below[0] + back[0] + 1 if back.size else -1)
    assert res.terminal.tolist() == res.paths[:, -1].tolist()


def test_normal_generator_is_standard_normal():
    # n = 400k: SE of the mean 0.0016, of the variance 0.0022; KS at the 0.1 % level
    z = kernels.normal_samples(5, 400_000)
    assert abs(z.mean()) < 4 / math.sqrt(z.size)
    assert abs(z.var() - 1) < 4 * math.sqrt(2 / z.size)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    tail = np.mean(np.abs(z) > kernels.ZIG_R)  # the exact tail branch
    expected = 2 * stats.norm.sf(kernels.ZIG_R)
    assert abs(tail - expected) < 4 * math.sqrt(expected / z.size)
    # streams differ and are uncorrelated
    z2 = kernels.normal_samples(5, 400_000, stream=1)
    assert abs(np.corrcoef(z, z2)[0, 1]) < 4 / math.sqrt(z.size)


def test_jumps_bernoulli_per_step_at_most_one():
    """Diffusion ~0, no drift: each increment is 0 or one jump. Counts vs Binomial(n_steps, q)."""
    lam, n_steps, n_paths = 20.0, 365, 2_000
    params = ModelParameters(alpha=0.0, beta=0.0, gamma=0.0, sigma_base=1e-9, jump_intensity=lam,
                             jump_size_mu=-0.05, jump_size_sigma=0.005)
    res = simulate(params, n_paths, n_steps=n_steps, seed=3, initial_price=3.0, keep_paths=n_paths)
    inc = np.diff(res.paths, axis=1)
    jumps = inc[inc < -0.02]
    q = jump_probability(lam, 1 / 365)
    expected = n_paths * n_steps * q
    assert abs(jumps.size - expected) < 4 * math.sqrt(expected * (1 - q))
    assert inc.min() > -0.09  # two jumps in a step would give about -0.10
    # sizes ~ N(-0.05, 0.005)
    assert stats.kstest(jumps, "norm", args=(-0.05, 0.005)).pvalue > 1e-3
