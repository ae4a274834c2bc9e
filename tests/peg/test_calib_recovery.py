"""Parameter recovery: series simulated by the engine (riskcore.simulate) are fitted back.

Tolerances come from the reported standard errors:
* one fixed seed: every estimate within 3.5 reported SE of the truth and the Wald statistic
  (theta_hat - theta)' Cov^-1 (theta_hat - theta) below the 99.9 % point of chi-square(5);
* six seeds: the mean of the 30 squared z-scores is 1 when the SEs are right (its standard error
  is sqrt(2/30) = 0.26 under chi-square(1)); we require it in [0.3, 2.0], about 3 SE below and 4 above
  (asymmetric because ML standard errors from the observed Hessian are mildly optimistic in finite samples).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import riskcore
from riskcore.params import ModelParameters
from riskcore.peg.calibration import DEFAULT_FIT, calibrate

# Identifiable: ~20 jumps a year of -1 % +- 1 %, against a daily diffusion s.d. of 0.05 * sqrt(1/365) = 0.26 %.
TRUE = ModelParameters(alpha=5.0, sigma_base=0.05, jump_intensity=20.0, jump_size_mu=-0.01, jump_size_sigma=0.01)
N_STEPS = 3650  # ten years of daily data


def _simulated(seed: int) -> pd.Series:
    res = riskcore.simulate(TRUE, n_paths=1, n_steps=N_STEPS, keep_paths=1, seed=seed)
    path = np.asarray(res.paths[0], dtype=float)
    return pd.Series(path, index=pd.date_range("2015-01-01", periods=len(path), freq="D"))


def _z(res) -> np.ndarray:
    return np.array([(res.estimates[n] - getattr(TRUE, n)) / res.std_errors[n] for n in DEFAULT_FIT])


def test_recovers_true_parameters_within_reported_standard_errors():
    res = calibrate(_simulated(11))
    assert res.converged and not res.warnings and res.dt == pytest.approx(1 / 365)
    z = _z(res)
    assert np.all(np.abs(z) < 3.5), dict(zip(DEFAULT_FIT, z.round(2), strict=True))
    diff = np.array([res.estimates[n] - getattr(TRUE, n) for n in DEFAULT_FIT])
    cov = res.covariance.loc[list(DEFAULT_FIT), list(DEFAULT_FIT)].to_numpy()
    wald = float(diff @ np.linalg.solve(cov, diff))
    assert wald < stats.chi2.ppf(0.999, df=len(DEFAULT_FIT)), wald
    # the truth has a lower likelihood than the estimate (it is a maximum)
    from riskcore.peg.calibration import log_likelihood

    assert log_likelihood(_simulated(11), TRUE.replace(beta=res.params.beta)) <= res.loglik


def test_standard_errors_are_calibrated_across_seeds():
    z2 = np.concatenate([_z(calibrate(_simulated(seed))) ** 2 for seed in range(100, 106)])
    assert 0.3 < z2.mean() < 2.0, z2.round(2)
