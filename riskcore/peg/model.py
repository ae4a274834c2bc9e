"""Constants of the stable-token model (SPEC §1) and the vectorised NumPy reference.

The production step is the Numba kernel in :mod:`riskcore.peg.kernels`. This module
holds what every backend shares -- the model constants and the per-step coefficients
that depend only on the scenario -- and a NumPy implementation of the step over a
vector of paths, written independently of the kernel, used by the ``numpy`` backend
and by the tests as a reference.

Notes
-----
One step of SPEC §1, for a price ``p`` and state ``(L, H, F)`` at step ``t``::

    decay_t   = beta * 0.001 / max(0.1, L / 1e6) * (fiat_discount if F > fiat_threshold else 1)
                                              * (fiat_penalty if F < 0.1 else 1)
    support_t = gamma * 0.002 * min(2, 2 F)
    vol_t     = sigma_base * (2 if H < 0.8 else 1)
    drift     = -alpha (p - 1) - decay_t [p > 1.02] + support_t [p < 0.98]
    p'        = max(0.01, p + drift dt + vol_t sqrt(dt) Z + J),  J ~ N(mu_J, sigma_J) w.p. 1 - exp(-lambda dt)
    p'        = max(0.01, p' (1 + shock_{t+1}))  if a shock is scheduled

``decay_t``, ``support_t`` and ``vol_t sqrt(dt)`` do not depend on the price, so they are
computed once per run by :func:`step_coefficients`; the price-dependent branches are in
each backend's step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from riskcore.params import ModelParameters
from riskcore.peg.scenarios import ResolvedScenario

__all__ = ["PEG", "PRICE_FLOOR", "UPPER_BAND", "LOWER_BAND", "DEPEG_LEVEL", "MIN_LEVELS", "BAND_QUANTILES",
           "StepCoefficients", "step_coefficients", "jump_probability", "drift", "reference_step", "PathStats",
           "simulate_reference"]

PEG = 1.0
PRICE_FLOOR = 0.01
UPPER_BAND = 1.02  # decay pressure above
LOWER_BAND = 0.98  # fiat support below; also the de-peg level of the statistics
DEPEG_LEVEL = LOWER_BAND
MIN_LEVELS = (0.95, 0.90)
LIQUIDITY_SCALE = 1e6
BASE_DECAY = 0.001
BASE_SUPPORT = 0.002
LOW_FIAT = 0.1
STRESSED_HEALTH = 0.8
STRESS_VOL_MULTIPLIER = 2.0
#: quantiles of the per-step bands
BAND_QUANTILES: tuple[float, ...] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


@dataclass(frozen=True)
class StepCoefficients:
    """Price-independent terms of each step (arrays of length ``n_steps``) and the constants."""

    decay: np.ndarray
    support: np.ndarray
    vol_sqrt_dt: np.ndarray
    shock_factor: np.ndarray
    alpha: float
    dt: float
    p_jump: float
    jump_rate_dt: float
    jump_mu: float
    jump_sigma: float

    @property
    def n_steps(self) -> int:
        return int(self.decay.shape[0])


def jump_probability(jump_intensity: float, dt: float) -> float:
    """Probability of a jump in one step, ``1 - exp(-lambda dt)`` (at most one jump per step)."""
    return -math.expm1(-jump_intensity * dt)


def step_coefficients(params: ModelParameters, scenario: ResolvedScenario, dt: float) -> StepCoefficients:
    """Per-step decay, support and diffusion scale of SPEC §1 for a resolved scenario."""
    L, H, F = scenario.liquidity_pool, scenario.network_health, scenario.fiat_activity
    decay = params.beta * BASE_DECAY / np.maximum(0.1, L / LIQUIDITY_SCALE)
    decay = decay * np.where(F > params.fiat_threshold, params.fiat_discount, 1.0)
    decay = decay * np.where(F < LOW_FIAT, params.fiat_penalty, 1.0)
    support = params.gamma * BASE_SUPPORT * np.minimum(2.0, 2.0 * F)
    vol = params.sigma_base * np.where(H < STRESSED_HEALTH, STRESS_VOL_MULTIPLIER, 1.0)
    return StepCoefficients(
        decay=np.ascontiguousarray(decay, dtype=np.float64),
        support=np.ascontiguousarray(support, dtype=np.float64),
        vol_sqrt_dt=np.ascontiguousarray(vol * math.sqrt(dt), dtype=np.float64),
        shock_factor=np.ascontiguousarray(1.0 + scenario.shocks, dtype=np.float64),
        alpha=float(params.alpha), dt=float(dt), p_jump=jump_probability(params.jump_intensity, dt),
        jump_rate_dt=float(params.jump_intensity * dt), jump_mu=float(params.jump_size_mu),
        jump_sigma=float(params.jump_size_sigma),
    )


def drift(p, alpha, decay, support, where=np.where):
    """The drift of SPEC §1 at price ``p``: ``-alpha (p - 1) - decay [p > 1.02] + support [p < 0.98]``.

    The one array form of the drift, used by the NumPy reference step, the PyTorch backend
    (``where=torch.where``) and the calibration likelihood (with ``decay = beta * decay_u``,
    ``support = gamma * support_u``). The compiled kernels use the scalar single source
    :func:`riskcore.peg.kernels.diffuse_src` with the same constants (:data:`riskcore.peg.kernels.LEVELS`);
    the tests check the two agree.

    Parameters
    ----------
    p : array-like or tensor
        Prices.
    alpha : float
        Mean-reversion speed.
    decay, support : float, array or tensor
        The step's decay and support (broadcast against ``p``).
    where : callable, default numpy.where
        ``where(cond, a, b)`` of the array library of ``p``.
    """
    return -alpha * (p - PEG) - where(p > UPPER_BAND, decay, 0.0) + where(p < LOWER_BAND, support, 0.0)


def reference_step(p: np.ndarray, t: int, c: StepCoefficients, z: np.ndarray, jump: np.ndarray) -> np.ndarray:
    """One step of SPEC §1 for a vector of prices (NumPy reference).

    Parameters
    ----------
    p : ndarray
        Prices at step ``t``.
    t : int
        Step index (selects the scenario coefficients).
    c : StepCoefficients
    z : ndarray
        Standard normal draws, one per path.
    jump : ndarray
        Additive jump per path (0 where no jump happens).
    """
    p_next = np.maximum(PRICE_FLOOR, p + drift(p, c.alpha, c.decay[t], c.support[t]) * c.dt
                        + c.vol_sqrt_dt[t] * z + jump)
    if c.shock_factor[t] != 1.0:
        p_next = np.maximum(PRICE_FLOOR, p_next * c.shock_factor[t])
    return p_next


@dataclass(frozen=True)
class PathStats:
    """Raw output of a backend for ``n`` paths (per-path arrays, per-step sums, recorded paths)."""

    terminal: np.ndarray      # float64 (n,)
    min_price: np.ndarray     # float64 (n,)
    steps_below: np.ndarray   # int32 (n,) steps t >= 1 with p_t < 0.98
    first_breach: np.ndarray  # int32 (n,) first step with p_t < 0.98, -1 if none
    recovery: np.ndarray      # int32 (n,) first step after first_breach with p_t >= 0.98, -1 if none
    step_sum: np.ndarray      # float64 (n_steps + 1,) sum over paths of p_t
    step_sumsq: np.ndarray    # float64 (n_steps + 1,) sum over paths of p_t**2
    recorded: np.ndarray      # float64 (n_record, n_steps + 1) first n_record paths


def simulate_reference(c: StepCoefficients, n_paths: int, initial_price: float, rng: np.random.Generator,
                       n_record: int) -> PathStats:
    """Simulate ``n_paths`` paths with the NumPy reference step, streaming the statistics.

    Vectorised over paths, looping over steps; memory is O(n_paths + n_record * n_steps).
    Random numbers come from ``rng`` (any NumPy generator); the numbers differ from the
    Numba kernel's, the distribution does not.
    """
    n_steps = c.n_steps
    p = np.full(n_paths, float(initial_price))
    min_price = p.copy()
    steps_below = np.zeros(n_paths, dtype=np.int32)
    first_breach = np.full(n_paths, -1, dtype=np.int32)
    recovery = np.full(n_paths, -1, dtype=np.int32)
    step_sum = np.empty(n_steps + 1)
    step_sumsq = np.empty(n_steps + 1)
    recorded = np.empty((n_record, n_steps + 1))
    step_sum[0], step_sumsq[0] = p.sum(), (p * p).sum()
    recorded[:, 0] = p[:n_record]
    for t in range(n_steps):
        z = rng.standard_normal(n_paths)
        jumps = rng.random(n_paths) < c.p_jump
        jump = np.zeros(n_paths)
        k = int(jumps.sum())
        if k:
            jump[jumps] = c.jump_mu + c.jump_sigma * rng.standard_normal(k)
        p = reference_step(p, t, c, z, jump)
        step = t + 1
        np.minimum(min_price, p, out=min_price)
        below = p < DEPEG_LEVEL
        steps_below += below
        new_breach = below & (first_breach < 0)
        first_breach[new_breach] = step
        recovery[(~below) & (first_breach >= 0) & (recovery < 0)] = step
        step_sum[step], step_sumsq[step] = p.sum(), (p * p).sum()
        recorded[:, step] = p[:n_record]
    return PathStats(p, min_price, steps_below, first_breach, recovery, step_sum, step_sumsq, recorded)
