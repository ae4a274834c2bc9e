"""Maximum-likelihood calibration of the stable-token model (SPEC §1) to a price series.

The source document's ``calibrate_to_market_data`` minimised the squared distance
between the history and *one random simulated path* -- a random objective
(SPEC §4 item 6). Here the parameters maximise the exact likelihood of the observed
one-step increments under the model's Euler step.

Notes
-----
Given the price :math:`p_t`, one step of SPEC §1 (ignoring the 0.01 floor) gives the
increment :math:`\\Delta_t = p_{t+1} - p_t` as a two-component Gaussian mixture:

.. math::

    \\Delta_t \\mid p_t \\sim (1-q)\\,N(m_t, v_t) + q\\,N(m_t + \\mu_J, v_t + \\sigma_J^2),
    \\qquad q = 1 - e^{-\\lambda\\,dt},

with :math:`m_t = \\mathrm{drift}(p_t)\\,dt`,
:math:`\\mathrm{drift}(p) = -\\alpha (p-1) - \\beta\\,d_t\\,[p > 1.02] + \\gamma\\,s_t\\,[p < 0.98]`
and :math:`v_t = (\\sigma\\,h_t)^2 dt`, where :math:`d_t, s_t, h_t` are the per-unit decay,
support and volatility multiplier of the step (they come from
:func:`riskcore.peg.model.step_coefficients`, the model's single definition). The
log-likelihood :math:`\\ell(\\theta) = \\sum_t \\log f(\\Delta_t \\mid p_t)` is evaluated
vectorised with ``logaddexp``.

Decisions (where the specification is silent)
---------------------------------------------
* **State.** Liquidity ``L``, health ``H`` and fiat activity ``F`` come from ``state``
  (a :class:`~riskcore.peg.scenarios.Scenario`, constants or one value per increment;
  default the SPEC §1 defaults 1e6, 1.0, 0.5), so the decay factor, the support and
  the volatility doubling below ``H = 0.8`` enter the likelihood exactly as they enter
  the simulation. The dataset's ``fiat_flow`` column, when it has one, replaces ``F``
  (forward-filled, then ``state``'s value before the first one; it must lie in [0, 1]
  like the scenario input it replaces). Scheduled shocks are not part of the
  transition density and are rejected.
* **Time step.** Every observed increment is one model step. ``dt`` (years) is the
  median spacing of the dates divided by 365 days (calendar-daily data: ``1/365``),
  except for **trading-day data** -- median spacing of one day, no weekend dates and
  weekend-sized (3-day) spacings in at least 10 % of the steps -- where a step is one
  trading day, ``dt = 1/252``: the market does not move over a closed weekend, and
  ``1/365`` per trading day would understate the yearly variance per step and inflate
  the annualised ``sigma_base`` by ``sqrt(365/252)``.
* **Optimiser.** Positive parameters are estimated on the log scale, ``jump_size_mu``
  divided by the data's robust increment scale ``s`` (1.4826 x MAD). Several starts
  (the base parameters and moment-based guesses with rare/frequent jumps and slow/fast
  reversion) each run L-BFGS-B within a box; the best is polished with Nelder-Mead
  and L-BFGS-B again.
* **Identification box.** ``alpha < 1/dt`` (SPEC §1's stability limit ``alpha * dt < 1``; a held
  alpha beyond it is rejected). The jump component is the rarer one (``q <= 0.5`` per step),
  which removes label switching; ``sigma_base`` is floored at ``1e-3 s / sqrt(dt)`` so
  the likelihood stays bounded on data with repeated prices; jump sizes are kept within
  100 ``s``. An estimate on the box edge is flagged in ``warnings``.
* **Standard errors** come from the inverse of a central-difference Hessian of
  :math:`-\\ell` in the transformed parameters, mapped back by the delta method. A
  Hessian that is not positive definite gives NaN standard errors and a warning.
* **Held parameters.** ``beta`` and ``gamma`` only act beyond the +-2 % bands and
  barely move the likelihood; they (and every parameter not in ``fit``) are held at
  ``base`` and reported as held. A parameter asked for in ``fit`` in which the
  log-likelihood has no curvature at the optimum (e.g. ``beta`` on a series that
  never exceeds 1.02) is put back to its base value, moved to ``held`` and listed in
  ``not_identified``, with a warning.
* **Goodness of fit.** Standardised residuals are the probability-integral transforms
  of the increments mapped through the normal quantile function (exactly N(0, 1) under
  the model); a Kolmogorov-Smirnov p-value below 0.01, or a series far from the 1.0
  peg, adds a warning. The fit still returns finite numbers.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from riskcore.data import PriceSeries
from riskcore.errors import InputError
from riskcore.kinds import RunKind
from riskcore.params import ModelParameters, check_stable_step, max_stable_alpha
from riskcore.peg.model import PEG, drift, jump_probability, step_coefficients
from riskcore.peg.scenarios import Scenario
from riskcore.validate import real

__all__ = ["calibrate", "CalibrationResult", "ParamStatus", "log_likelihood", "FITTABLE", "DEFAULT_FIT", "RUN_KIND",
           "infer_dt", "is_trading_days"]

#: parameters of the price dynamics that can be estimated
FITTABLE: tuple[str, ...] = ("alpha", "beta", "gamma", "sigma_base", "jump_intensity", "jump_size_mu",
                             "jump_size_sigma")
#: parameters estimated by default (the identifiable ones)
DEFAULT_FIT: tuple[str, ...] = ("alpha", "sigma_base", "jump_intensity", "jump_size_mu", "jump_size_sigma")
#: run kind in the store
RUN_KIND = RunKind.CALIBRATION
DAYS_PER_YEAR = 365.0
#: steps per year of trading-day data (see :func:`infer_dt`)
TRADING_DAYS_PER_YEAR = 252.0
KS_POOR_FIT_P = 0.01
#: the alpha box ends at this fraction of 1 / dt (alpha * dt < 1, SPEC §1)
ALPHA_DT_MARGIN = 1.0 - 1e-6
Z95 = 1.959963984540054  # standard normal 97.5 % quantile
_LOG_PARAMS = frozenset({"alpha", "beta", "gamma", "sigma_base", "jump_intensity", "jump_size_sigma"})

ProgressFn = Callable[[float, str], None]


class ParamStatus(StrEnum):
    """What the calibration can say about one parameter (compares equal to its string value)."""

    #: estimated, with a finite standard error and a 95 % interval
    ESTIMATED = "estimated"
    #: the estimate is on the edge of the search box: no interval (the likelihood wants a value outside)
    AT_BOUND = "at bound"
    #: asked for, but the data cannot pin it down (flat likelihood or no finite standard error): no interval
    NOT_IDENTIFIED = "not identified"
    #: not estimated: held at the base value
    HELD = "held"


def is_trading_days(index: pd.DatetimeIndex) -> bool:
    """True for daily data observed on trading days only (see the module's Decisions).

    Median spacing of one day, fewer than 1 % of the dates on a Saturday or Sunday, and
    at least 10 % of the spacings 3 or 4 days long (weekends, long weekends).
    """
    idx = pd.DatetimeIndex(index).as_unit("ns")
    days = np.diff(idx.asi8) / 86_400e9
    if len(days) < 10 or not np.isclose(np.median(days), 1.0):
        return False
    weekend_dates = float(np.mean(idx.day_of_week >= 5))
    weekend_gaps = float(np.mean((days > 2.5) & (days < 4.5)))
    return weekend_dates < 0.01 and weekend_gaps >= 0.10


def infer_dt(index: pd.DatetimeIndex) -> float:
    """Years per observation: ``1/252`` for trading-day data, else median spacing / 365 days.

    Examples
    --------
    >>> infer_dt(pd.date_range("2024-01-01", periods=40, freq="D")) * 365
    1.0
    >>> infer_dt(pd.bdate_range("2024-01-01", periods=40)) * 252
    1.0
    """
    days = np.diff(pd.DatetimeIndex(index).as_unit("ns").asi8) / 86_400e9
    if len(days) == 0 or not np.median(days) > 0:
        raise InputError("dates", "need at least two distinct dates to infer dt")
    if is_trading_days(index):
        return 1.0 / TRADING_DAYS_PER_YEAR
    return float(np.median(days) / DAYS_PER_YEAR)


@dataclass(frozen=True)
class _Data:
    """Increments and per-step coefficients the likelihood needs."""

    p: np.ndarray          # price at the start of each step
    x: np.ndarray          # increment over the step
    decay_u: np.ndarray    # decay per unit beta
    support_u: np.ndarray  # support per unit gamma
    vol_u: np.ndarray      # volatility multiplier * sqrt(dt)
    dt: float
    scale: float           # robust scale of the increments


def _prepare(series: PriceSeries, dt: float, base: ModelParameters, use_fiat: bool,
             state: Scenario | None = None) -> tuple[_Data, np.ndarray | None]:
    p_all = series.prices.to_numpy(dtype="float64")
    n = len(p_all) - 1
    if state is None:
        state = Scenario(name="calibration")
    elif not isinstance(state, Scenario):
        raise InputError("state", "must be a Scenario (liquidity_pool, network_health, fiat_activity) or None",
                         value=type(state).__name__)
    resolved = state.resolve(n)  # per-step arrays must have one value per increment
    if np.any(resolved.shocks != 0):
        raise InputError("state", "scheduled shocks are not part of the model's transition density; remove them "
                         "to calibrate", value=dict(state.shocks))
    fiat = None
    if use_fiat and series.fiat_flow is not None and series.fiat_flow.notna().any():
        before = pd.Series(resolved.fiat_activity, index=series.prices.index[:-1])
        f = series.fiat_flow.ffill().iloc[:-1].fillna(before).to_numpy(dtype="float64")
        bad = (f < 0) | (f > 1)
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError("fiat_flow", "is used as the model's fiat activity F and must lie in [0, 1]",
                             value=float(f[i]), row=i + 1)
        fiat = f
        resolved = dataclasses.replace(resolved, fiat_activity=np.ascontiguousarray(f))
    unit = base.replace(beta=1.0, gamma=1.0, sigma_base=1.0)
    c = step_coefficients(unit, resolved, dt)
    x = np.diff(p_all)
    mad = float(np.median(np.abs(x - np.median(x)))) * 1.4826
    scale = mad if mad > 0 else float(np.std(x))
    if not scale > 0:
        scale = 1e-6 * float(np.median(p_all))
    return _Data(p=p_all[:-1], x=x, decay_u=c.decay, support_u=c.support, vol_u=c.vol_sqrt_dt, dt=dt,
                 scale=scale), fiat


def _components(theta: Mapping[str, float], d: _Data) -> tuple[np.ndarray, ...]:
    m = drift(d.p, theta["alpha"], theta["beta"] * d.decay_u, theta["gamma"] * d.support_u) * d.dt
    v0 = (theta["sigma_base"] * d.vol_u) ** 2
    v1 = v0 + theta["jump_size_sigma"] ** 2
    q = jump_probability(theta["jump_intensity"], d.dt)
    r0 = d.x - m
    r1 = r0 - theta["jump_size_mu"]
    with np.errstate(divide="ignore"):
        l0 = math.log1p(-q) - 0.5 * (np.log(2 * np.pi * v0) + r0 * r0 / v0)
        l1 = (math.log(q) if q > 0 else -np.inf) - 0.5 * (np.log(2 * np.pi * v1) + r1 * r1 / v1)
    return m, v0, v1, q, l0, l1


def _loglik_terms(theta: Mapping[str, float], d: _Data) -> np.ndarray:
    *_, l0, l1 = _components(theta, d)
    return np.logaddexp(l0, l1)


def log_likelihood(prices: PriceSeries | pd.Series, params: ModelParameters | None = None,
                   dt: float | None = None, *, state: Scenario | None = None, use_fiat_flow: bool = True) -> float:
    """Log-likelihood of the increments of ``prices`` under ``params`` (see module Notes)."""
    series = _as_series(prices)
    params = params or ModelParameters()
    dt_val = infer_dt(series.prices.index) if dt is None else _check_dt(dt)
    d, _ = _prepare(series, dt_val, params, use_fiat_flow, state)
    return float(np.sum(_loglik_terms(params.to_dict(), d)))


# -- transforms ----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Space:
    names: tuple[str, ...]
    lo: np.ndarray  # natural-scale bounds
    hi: np.ndarray
    scale: float

    def to_z(self, theta: np.ndarray) -> np.ndarray:
        theta = np.clip(theta, self.lo, self.hi)
        return np.array([math.log(v) if n in _LOG_PARAMS else v / self.scale for n, v in zip(self.names, theta,
                                                                                               strict=True)])

    def from_z(self, z: np.ndarray) -> np.ndarray:
        return np.array([math.exp(v) if n in _LOG_PARAMS else v * self.scale for n, v in zip(self.names, z,
                                                                                               strict=True)])

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """d theta / d z at ``theta`` (diagonal)."""
        return np.array([v if n in _LOG_PARAMS else self.scale for n, v in zip(self.names, theta, strict=True)])

    def z_bounds(self) -> list[tuple[float, float]]:
        return [tuple(self.to_z(np.array(b))[i] for b in (self.lo, self.hi)) for i in range(len(self.names))]


def _space(fit: tuple[str, ...], d: _Data) -> _Space:
    s, dt = d.scale, d.dt
    vol_mult = float(np.median(d.vol_u)) / math.sqrt(dt)
    box = {
        # SPEC §1: the step is stable only while alpha * dt < 1, so the box stops just below 1 / dt
        "alpha": (1e-6, max_stable_alpha(dt) * ALPHA_DT_MARGIN),
        "beta": (1e-6, 1e6),
        "gamma": (1e-6, 1e6),
        "sigma_base": (1e-3 * s / math.sqrt(dt) / vol_mult, 100 * s / math.sqrt(dt) / vol_mult),
        "jump_intensity": (1e-3, -math.log(0.5) / dt),
        "jump_size_mu": (-100 * s, 100 * s),
        "jump_size_sigma": (1e-3 * s, 100 * s),
    }
    return _Space(fit, np.array([box[n][0] for n in fit]), np.array([box[n][1] for n in fit]), s)


def _starts(fit: tuple[str, ...], d: _Data, base: ModelParameters) -> list[dict[str, float]]:
    s, dt, x = d.scale, d.dt, d.x
    med = float(np.median(x))
    vol_mult = float(np.median(d.vol_u)) / math.sqrt(dt)
    out = np.abs(x - med) > 3 * s
    frac = min(max(float(out.mean()), 1.0 / len(x)), 0.4)
    lam0 = -math.log1p(-frac) / dt
    mu0 = float(np.mean(x[out] - med)) if out.sum() >= 2 else 0.0
    sj0 = float(np.std(x[out])) if out.sum() >= 3 else 3 * s
    dev = d.p - PEG
    alpha0 = 1.0
    if np.var(dev) > 0:
        b = float(np.cov(dev, x)[0, 1] / np.var(dev))
        alpha0 = min(max(-b / dt, 1e-3), 0.5 / dt)
    sig0 = s / math.sqrt(dt) / vol_mult
    guesses = [
        dict(alpha=alpha0, sigma_base=sig0, jump_intensity=lam0, jump_size_mu=mu0, jump_size_sigma=max(sj0, s)),
        dict(alpha=alpha0 * 10, sigma_base=sig0, jump_intensity=lam0, jump_size_mu=mu0, jump_size_sigma=max(sj0, s)),
        dict(alpha=alpha0 / 10, sigma_base=sig0 * 0.8, jump_intensity=0.2 / dt, jump_size_mu=0.0,
             jump_size_sigma=2 * s),
        dict(alpha=alpha0, sigma_base=sig0, jump_intensity=0.01 / dt, jump_size_mu=-3 * s, jump_size_sigma=5 * s),
    ]
    base_d = base.to_dict()
    starts = [{n: float(base_d[n]) for n in FITTABLE}]
    for g in guesses:
        starts.append({n: float(g.get(n, base_d[n])) for n in FITTABLE})
    return starts


# -- result --------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CalibrationResult:
    """Outcome of :func:`calibrate`.

    Attributes
    ----------
    params : ModelParameters
        ``base`` with the fitted values; ready for :func:`riskcore.simulate`.
    base : ModelParameters
        Values of the held parameters (and the first start).
    fit, held : tuple of str
        Estimated and held dynamic parameters (of :data:`FITTABLE`).
    not_identified : tuple of str
        Parameters asked for in ``fit`` that the data cannot identify (flat
        likelihood): held at ``base`` and included in ``held``.
    estimates, std_errors : dict
        Per parameter of :data:`FITTABLE`; ``std_errors`` is NaN for held ones.
    covariance : pandas.DataFrame
        Covariance of the fitted parameters on their natural scale.
    loglik, aic, bic : float
        Maximised log-likelihood, ``2k - 2 loglik`` and ``k log n - 2 loglik``.
    n_obs : int
        Number of increments.
    dt : float
        Step in years; ``dt_inferred`` tells whether it came from the dates.
    dates : pandas.DatetimeIndex
        Date at the end of each increment.
    start_prices, increments, std_residuals, jump_probability : ndarray
        ``p_t``, ``p_{t+1} - p_t``, normal scores of the PIT, posterior probability of a jump.
    ks_statistic, ks_pvalue : float
        Kolmogorov-Smirnov test of ``std_residuals`` against N(0, 1).
    converged : bool
    warnings : tuple of str
    """

    params: ModelParameters
    base: ModelParameters
    fit: tuple[str, ...]
    held: tuple[str, ...]
    estimates: dict[str, float]
    std_errors: dict[str, float]
    covariance: pd.DataFrame
    loglik: float
    aic: float
    bic: float
    n_obs: int
    dt: float
    dt_inferred: bool
    dates: pd.DatetimeIndex
    start_prices: np.ndarray
    increments: np.ndarray
    std_residuals: np.ndarray
    jump_probability: np.ndarray
    ks_statistic: float
    ks_pvalue: float
    converged: bool
    n_starts: int
    message: str
    warnings: tuple[str, ...] = ()
    fiat_activity: np.ndarray | None = None
    dataset_name: str | None = None
    dataset_checksum: str | None = None
    elapsed_s: float = 0.0
    at_bound: tuple[str, ...] = field(default=())
    not_identified: tuple[str, ...] = field(default=())

    @property
    def n_params(self) -> int:
        return len(self.fit)

    def status(self, name: str) -> ParamStatus:
        """The :class:`ParamStatus` of one parameter of :data:`FITTABLE`.

        ``NOT_IDENTIFIED`` for a parameter asked for but put back to its base (flat likelihood) or without
        a finite standard error; ``AT_BOUND`` for an estimate on the edge of the search box; ``HELD`` for
        one not estimated; else ``ESTIMATED``.
        """
        if name in self.not_identified:
            return ParamStatus.NOT_IDENTIFIED
        if name in self.held:
            return ParamStatus.HELD
        if name in self.at_bound:
            return ParamStatus.AT_BOUND
        if not math.isfinite(self.std_errors.get(name, math.nan)):
            return ParamStatus.NOT_IDENTIFIED
        return ParamStatus.ESTIMATED

    @property
    def statuses(self) -> dict[str, ParamStatus]:
        return {n: self.status(n) for n in FITTABLE}

    @property
    def poor_fit(self) -> bool:
        """The Kolmogorov–Smirnov test of the standardised residuals rejects at 1 %."""
        return bool(self.ks_pvalue < KS_POOR_FIT_P)

    def apply_warnings(self) -> list[str]:
        """Why the fitted parameters should not be used without a second look (empty when none).

        A poor fit (KS p < 0.01), an estimate at a bound of the search box, or a parameter the data do not
        identify: the Calibration page asks for confirmation before "Apply to Scenario Lab" in these cases.
        """
        out = []
        if self.poor_fit:
            out.append(f"poor fit: Kolmogorov-Smirnov p = {self.ks_pvalue:.2g} (the model does not describe these "
                       "increments)")
        st_ = self.statuses
        for label, kind in (("at a bound of the search box", ParamStatus.AT_BOUND),
                            ("not identified by the data", ParamStatus.NOT_IDENTIFIED)):
            names = [n for n, v in st_.items() if v is kind]
            if names:
                out.append(f"{', '.join(names)} {label}")
        return out

    @property
    def needs_confirmation(self) -> bool:
        """True when :meth:`apply_warnings` is not empty."""
        return bool(self.apply_warnings())

    def summary(self) -> pd.DataFrame:
        """One row per dynamic parameter: estimate, std_err, 95 % CI, base value, held flags and status.

        The interval is the Wald interval on the scale the likelihood was maximised on:
        ``est * exp(+-1.96 se / est)`` for the positive (log-transformed) parameters, so it
        never crosses 0, and ``est +- 1.96 se`` for ``jump_size_mu``. It is given only for the
        parameters whose ``status`` is ``"estimated"`` (NaN otherwise: at a bound the Wald interval
        means nothing, and without a standard error there is none).
        """
        rows = []
        for n in FITTABLE:
            est, se = self.estimates[n], self.std_errors[n]
            held = n in self.held
            status = self.status(n)
            if status is not ParamStatus.ESTIMATED:
                lo = hi = np.nan
            elif n in _LOG_PARAMS and est > 0:
                lo, hi = est * math.exp(-Z95 * se / est), est * math.exp(Z95 * se / est)
            else:
                lo, hi = est - Z95 * se, est + Z95 * se
            rows.append({"parameter": n, "estimate": est, "std_err": se, "ci95_low": lo, "ci95_high": hi,
                         "base": float(getattr(self.base, n)), "held": held,
                         "not_identified": status is ParamStatus.NOT_IDENTIFIED, "status": status.value})
        return pd.DataFrame(rows).set_index("parameter")

    def fit_statistics(self) -> pd.DataFrame:
        """Log-likelihood, information criteria and diagnostics as a two-column table."""
        items = {"log-likelihood": self.loglik, "AIC": self.aic, "BIC": self.bic, "observations": self.n_obs,
                 "fitted parameters": self.n_params, "dt (years)": self.dt, "KS statistic": self.ks_statistic,
                 "KS p-value": self.ks_pvalue, "converged": self.converged}
        return pd.DataFrame({"statistic": list(items), "value": [str(v) if isinstance(v, bool) else float(v)
                                                                 for v in items.values()]})

    def increment_density(self, grid: np.ndarray) -> np.ndarray:
        """Fitted marginal density of the increments on ``grid``.

        The average over observed steps of the conditional mixture density, so it is
        comparable with a histogram of ``increments``.
        """
        th = self.params.to_dict()
        grid = np.asarray(grid, dtype="float64")
        p = self.start_prices
        n = len(p)
        # the likelihood's own components; a run saved without the per-step terms has no
        # decay/support (zero) and the plain sqrt(dt) diffusion scale
        zero = np.zeros(n)
        d = _Data(p=p, x=self.increments, decay_u=zero if self._decay_u is None else self._decay_u,
                  support_u=zero if self._support_u is None else self._support_u,
                  vol_u=np.full(n, math.sqrt(self.dt)) if self._vol_u is None else self._vol_u, dt=self.dt,
                  scale=1.0)
        m, v0, v1, q, *_ = _components(th, d)
        sd0, sd1 = np.sqrt(v0), np.sqrt(v1)
        step = max(1, len(m) // 2000)  # the average over <= 2000 steps is plenty for a plot
        mm = m[::step][None, :]
        sd0, sd1 = sd0[::step][None, :], sd1[::step][None, :]
        g = grid[:, None]
        dens = (1 - q) * stats.norm.pdf(g, mm, sd0) + q * stats.norm.pdf(g, mm + th["jump_size_mu"], sd1)
        return dens.mean(axis=1)

    # decay/support per unit are kept privately for increment_density
    _decay_u: np.ndarray | None = field(default=None, repr=False)
    _support_u: np.ndarray | None = field(default=None, repr=False)
    _vol_u: np.ndarray | None = field(default=None, repr=False)  # volatility multiplier * sqrt(dt) per step

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (no per-step arrays)."""
        return {
            "params": self.params.to_dict(), "base": self.base.to_dict(), "fit": list(self.fit),
            "held": list(self.held), "estimates": dict(self.estimates), "std_errors": dict(self.std_errors),
            "covariance": {"names": list(self.covariance.index), "values": self.covariance.to_numpy().tolist()},
            "loglik": self.loglik, "aic": self.aic, "bic": self.bic, "n_obs": self.n_obs, "dt": self.dt,
            "dt_inferred": self.dt_inferred, "ks_statistic": self.ks_statistic, "ks_pvalue": self.ks_pvalue,
            "converged": self.converged, "n_starts": self.n_starts, "message": self.message,
            "warnings": list(self.warnings), "dataset_name": self.dataset_name,
            "dataset_checksum": self.dataset_checksum, "elapsed_s": self.elapsed_s, "at_bound": list(self.at_bound),
            "not_identified": list(self.not_identified),
        }

    def save(self, store: Any, name: str | None = None) -> str:
        """Save as a run of kind ``"calibration"``; returns the run id (reload with :meth:`load`)."""
        extra = self.to_dict()
        extra.pop("params")
        arrays = {"dates_ns": self.dates.as_unit("ns").asi8.astype("int64"), "start_prices": self.start_prices,
                  "increments": self.increments, "std_residuals": self.std_residuals,
                  "jump_probability": self.jump_probability}
        if self.fiat_activity is not None:
            arrays["fiat_activity"] = self.fiat_activity
        if self._decay_u is not None:
            arrays["decay_u"] = self._decay_u
            arrays["support_u"] = self._support_u
        if self._vol_u is not None:
            arrays["vol_u"] = self._vol_u
        return store.save_run(RUN_KIND, self.params, None, self.summary(), name, arrays=arrays, **extra)

    @classmethod
    def load(cls, store: Any, run_id: str) -> CalibrationResult:
        """Rebuild a result saved with :meth:`save`."""
        rec = store.load_run(run_id, kind=RUN_KIND)
        e, a = rec.extra, rec.arrays
        cov = pd.DataFrame(e["covariance"]["values"], index=e["covariance"]["names"],
                           columns=e["covariance"]["names"], dtype="float64")
        return cls(
            params=ModelParameters.from_dict(rec.params), base=ModelParameters.from_dict(e["base"]),
            fit=tuple(e["fit"]), held=tuple(e["held"]), estimates=dict(e["estimates"]),
            std_errors=dict(e["std_errors"]), covariance=cov, loglik=e["loglik"], aic=e["aic"], bic=e["bic"],
            n_obs=e["n_obs"], dt=e["dt"], dt_inferred=e["dt_inferred"],
            dates=pd.DatetimeIndex(pd.to_datetime(a["dates_ns"], unit="ns"), name="date"),
            start_prices=a["start_prices"], increments=a["increments"], std_residuals=a["std_residuals"],
            jump_probability=a["jump_probability"], ks_statistic=e["ks_statistic"], ks_pvalue=e["ks_pvalue"],
            converged=e["converged"], n_starts=e["n_starts"], message=e["message"], warnings=tuple(e["warnings"]),
            fiat_activity=a.get("fiat_activity"), dataset_name=e["dataset_name"],
            dataset_checksum=e["dataset_checksum"], elapsed_s=e["elapsed_s"], at_bound=tuple(e["at_bound"]),
            not_identified=tuple(e.get("not_identified", ())), _decay_u=a.get("decay_u"),
            _support_u=a.get("support_u"), _vol_u=a.get("vol_u"))


# -- calibration ---------------------------------------------------------------------------
def _as_series(prices: Any) -> PriceSeries:
    if isinstance(prices, PriceSeries):
        return prices
    if isinstance(prices, pd.Series):
        return PriceSeries.from_series(prices, name=str(prices.name) if prices.name is not None else "series")
    raise InputError("prices", "must be a PriceSeries or a pandas Series with a DatetimeIndex",
                     value=type(prices).__name__)


def _check_dt(dt: Any) -> float:
    return real("dt", dt, lo=0.0, lo_open=True, hi=1.0)


def _check_fit(fit: Any) -> tuple[str, ...]:
    if isinstance(fit, str):
        fit = (fit,)
    if not isinstance(fit, Sequence) or not fit:
        raise InputError("fit", f"must name at least one of {', '.join(FITTABLE)}", value=fit)
    out = []
    for n in fit:
        if n not in FITTABLE:
            raise InputError("fit", f"unknown or non-dynamic parameter; allowed: {', '.join(FITTABLE)}", value=n)
        if n not in out:
            out.append(n)
    return tuple(n for n in FITTABLE if n in out)


def _hessian(f: Callable[[np.ndarray], float], z: np.ndarray, h: float = 1e-4) -> np.ndarray:
    k = len(z)
    H = np.empty((k, k))
    f0 = f(z)
    e = np.eye(k) * h
    for i in range(k):
        H[i, i] = (f(z + e[i]) - 2 * f0 + f(z - e[i])) / h ** 2
        for j in range(i):
            H[i, j] = H[j, i] = (f(z + e[i] + e[j]) - f(z + e[i] - e[j]) - f(z - e[i] + e[j])
                                 + f(z - e[i] - e[j])) / (4 * h * h)
    return H


def calibrate(
    prices: PriceSeries | pd.Series,
    dt: float | None = None,
    fit: Sequence[str] = DEFAULT_FIT,
    base: ModelParameters | None = None,
    progress: ProgressFn | None = None,
    *,
    use_fiat_flow: bool = True,
    state: Scenario | None = None,
) -> CalibrationResult:
    """Fit the model of SPEC §1 to a price series by maximum likelihood.

    Parameters
    ----------
    prices : PriceSeries or pandas.Series
        Prices on a DatetimeIndex (a Series is validated like a file: >= 30 positive
        prices, unique dates).
    dt : float, optional
        Years per observation; inferred from the dates when None (median spacing / 365).
    fit : sequence of str, default ("alpha", "sigma_base", "jump_intensity", "jump_size_mu", "jump_size_sigma")
        Parameters to estimate, from :data:`FITTABLE`; the others are held at ``base``.
    base : ModelParameters, optional
        Held values and first start; defaults to ``ModelParameters()``.
    progress : callable(fraction, message), optional
        Called as the optimiser advances (fraction in [0, 1]).
    use_fiat_flow : bool, default True
        Use the dataset's ``fiat_flow`` column as the fiat activity ``F`` per step.
    state : Scenario, optional
        Liquidity ``L``, health ``H`` and fiat activity ``F`` over the observed steps
        (constants, schedules, or one value per increment, i.e. ``len(prices) - 1``);
        defaults to the SPEC §1 defaults. No shocks.

    Returns
    -------
    CalibrationResult

    Raises
    ------
    InputError
        Bad ``prices``, ``dt``, ``fit``, ``base`` or ``state``.

    Notes
    -----
    Likelihood, transforms, starts and standard errors: see the module docstring.

    Examples
    --------
    >>> from riskcore.data import load_sample
    >>> res = calibrate(load_sample("stable_token"))      # doctest: +SKIP
    >>> res.summary()                                      # doctest: +SKIP
    """
    t0 = time.perf_counter()
    series = _as_series(prices)
    fit_t = _check_fit(fit)
    if base is None:
        base = ModelParameters()
    elif isinstance(base, Mapping):
        base = ModelParameters.from_dict(dict(base))
    elif not isinstance(base, ModelParameters):
        raise InputError("base", "must be ModelParameters or None", value=type(base).__name__)
    dt_inferred = dt is None
    dt_val = infer_dt(series.prices.index) if dt is None else _check_dt(dt)
    report = progress or (lambda frac, msg: None)
    if "alpha" not in fit_t:  # a held alpha must give a stable step too (the result feeds simulate)
        check_stable_step(base.alpha, dt_val)
    d, fiat = _prepare(series, dt_val, base, use_fiat_flow, state)
    n = len(d.x)
    space = _space(fit_t, d)
    held_vals = {k: float(v) for k, v in base.to_dict().items() if k in FITTABLE}

    def theta_of(z: np.ndarray) -> dict[str, float]:
        th = dict(held_vals)
        th.update(zip(fit_t, space.from_z(z), strict=True))
        return th

    def nll(z: np.ndarray) -> float:
        val = -float(np.sum(_loglik_terms(theta_of(z), d))) / n
        return val if math.isfinite(val) else 1e300

    bounds = space.z_bounds()
    starts = _starts(fit_t, d, base)
    best: optimize.OptimizeResult | None = None
    total = len(starts) + 2
    for i, st in enumerate(starts):
        z0 = space.to_z(np.array([st[nm] for nm in fit_t]))
        try:
            r = optimize.minimize(nll, z0, method="L-BFGS-B", bounds=bounds, options={"maxiter": 500})
        except (ValueError, FloatingPointError):
            continue
        if math.isfinite(r.fun) and (best is None or r.fun < best.fun):
            best = r
        report((i + 1) / total, f"start {i + 1} of {len(starts)}: -loglik/n = {r.fun:.6g}")
    if best is None:  # pragma: no cover - every start failing means the data defeat the box
        raise InputError("prices", "the likelihood could not be evaluated on this series")
    polish = optimize.minimize(nll, best.x, method="Nelder-Mead", bounds=bounds,
                               options={"maxiter": 400 * len(fit_t), "xatol": 1e-7, "fatol": 1e-12})
    if polish.fun <= best.fun:
        best = optimize.minimize(nll, polish.x, method="L-BFGS-B", bounds=bounds, options={"maxiter": 500})
        if best.fun > polish.fun:
            best = polish
    report((total - 1) / total, "standard errors")
    z_hat = np.asarray(best.x, dtype="float64")
    theta_hat = theta_of(z_hat)
    warns: list[str] = []
    cov_nat = np.full((len(fit_t), len(fit_t)), np.nan)
    H = _hessian(lambda z: nll(z) * n, z_hat)
    # parameters in which the log-likelihood is flat (curvature ~ 0) are not identified by these data
    flat = np.isfinite(np.diag(H)) & (np.diag(H) > 1e-6)
    dropped: list[str] = []
    if not flat.all():
        # a parameter the likelihood does not depend on goes back to its base value and is held
        z_base = space.to_z(np.array([held_vals[nm] for nm in fit_t]))
        for i in np.flatnonzero(~flat):
            z_try = z_hat.copy()
            z_try[i] = z_base[i]
            if nll(z_try) * n <= nll(z_hat) * n + 1e-9:
                z_hat = z_try
                dropped.append(fit_t[i])
        theta_hat = theta_of(z_hat)
        if dropped:
            warns.append(f"the likelihood does not depend on {', '.join(dropped)} on these data (not identified): "
                         "held at the base value" + ("s" if len(dropped) > 1 else ""))
        rest = [nm for nm, ok in zip(fit_t, flat, strict=True) if not ok and nm not in dropped]
        if rest:
            warns.append(f"the likelihood is nearly flat in {', '.join(rest)}: weakly identified, no standard error")
    keep = np.flatnonzero(flat)
    sub = H[np.ix_(keep, keep)]
    if len(keep) and np.all(np.isfinite(sub)) and np.linalg.eigvalsh((sub + sub.T) / 2).min() > 0:
        J = space.jacobian(space.from_z(z_hat))[keep]
        cov_nat[np.ix_(keep, keep)] = np.linalg.inv(sub) * np.outer(J, J)
    elif len(keep):
        warns.append("the Hessian of the log-likelihood is not positive definite: standard errors are "
                     "unavailable (the fitted parameters are not jointly identified by these data)")
    zb = np.array(bounds)
    edges = {nm: ("lower", space.lo[i]) if abs(z_hat[i] - zb[i, 0]) < 1e-3 else ("upper", space.hi[i])
             for i, nm in enumerate(fit_t)
             if nm not in dropped and min(abs(z_hat[i] - zb[i, 0]), abs(z_hat[i] - zb[i, 1])) < 1e-3}
    at_bound = tuple(edges)
    if at_bound:
        where = ", ".join(f"{nm} ({side} bound {val:.3g})" for nm, (side, val) in edges.items())
        warns.append(f"estimate on the edge of the search box for {where}: the likelihood prefers a value outside "
                     "the identifiable range, so the standard error is not reliable")
    se = np.sqrt(np.clip(np.diag(cov_nat), 0, None))

    fit_idx = [i for i, nm in enumerate(fit_t) if nm not in dropped]
    cov_nat = cov_nat[np.ix_(fit_idx, fit_idx)]
    se = se[fit_idx]
    fit_t = tuple(fit_t[i] for i in fit_idx)
    params = base.replace(**{nm: theta_hat[nm] for nm in fit_t})
    m, v0, v1, q, l0, l1 = _components(theta_hat, d)
    ll_t = np.logaddexp(l0, l1)
    loglik = float(ll_t.sum())
    cdf = (1 - q) * special.ndtr((d.x - m) / np.sqrt(v0)) + q * special.ndtr(
        (d.x - m - theta_hat["jump_size_mu"]) / np.sqrt(v1))
    z_res = special.ndtri(np.clip(cdf, 1e-15, 1 - 1e-15))
    post_jump = np.exp(l1 - ll_t)
    ks = stats.kstest(z_res, "norm")
    if ks.pvalue < KS_POOR_FIT_P:
        warns.append(f"poor fit: the standardised residuals are not N(0, 1) (Kolmogorov-Smirnov p = "
                     f"{ks.pvalue:.2g}); treat the estimates with caution")
    med_price = float(np.median(series.prices))
    if not 0.5 <= med_price <= 2.0:
        warns.append(f"the series is far from the 1.0 peg (median price {med_price:.4g}): the peg model's mean "
                     "reversion to 1 is unlikely to describe it")
    for nm, s_ in zip(fit_t, se, strict=True):
        if math.isfinite(s_) and s_ > abs(theta_hat[nm]) and nm not in at_bound:
            warns.append(f"{nm} is weakly identified (standard error {s_:.3g} exceeds the estimate)")
    k = len(fit_t)
    std_errors = {nm: float("nan") for nm in FITTABLE}
    std_errors.update({nm: float(s_) for nm, s_ in zip(fit_t, se, strict=True)})
    report(1.0, "done")
    return CalibrationResult(
        params=params, base=base, fit=fit_t, held=tuple(nm for nm in FITTABLE if nm not in fit_t),
        estimates={nm: float(getattr(params, nm)) for nm in FITTABLE}, std_errors=std_errors,
        covariance=pd.DataFrame(cov_nat, index=list(fit_t), columns=list(fit_t)),
        loglik=loglik, aic=2 * k - 2 * loglik, bic=k * math.log(n) - 2 * loglik, n_obs=n, dt=dt_val,
        dt_inferred=dt_inferred, dates=pd.DatetimeIndex(series.prices.index[1:], name="date"),
        start_prices=d.p.copy(), increments=d.x.copy(), std_residuals=z_res, jump_probability=post_jump,
        ks_statistic=float(ks.statistic), ks_pvalue=float(ks.pvalue), converged=bool(best.success),
        n_starts=len(starts), message=str(best.message), warnings=tuple(warns), fiat_activity=fiat,
        dataset_name=series.name, dataset_checksum=series.checksum, elapsed_s=time.perf_counter() - t0,
        at_bound=at_bound, not_identified=tuple(nm for nm in FITTABLE if nm in dropped), _decay_u=d.decay_u,
        _support_u=d.support_u, _vol_u=d.vol_u)
