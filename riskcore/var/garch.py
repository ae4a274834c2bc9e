"""GARCH(1,1) for filtered historical simulation: fitting with ``arch``, filtering with Numba.

The model, on **percent** returns :math:`x_t = 100\\,r_t` (the scale ``arch`` is tuned for):

.. math:: x_t = \\mu + \\varepsilon_t,\\quad \\varepsilon_t = \\sigma_t z_t,\\quad
          \\sigma_t^2 = \\omega + \\alpha\\varepsilon_{t-1}^2 + \\beta\\sigma_{t-1}^2 .

:func:`fit_garch` estimates :math:`(\\mu, \\omega, \\alpha, \\beta)` by Gaussian quasi-maximum likelihood
with ``arch.arch_model(mean="Constant", vol="GARCH", p=1, q=1)``. :func:`filter_window` runs the
variance recursion with fixed parameters exactly as ``arch`` does (same backcast: the 0.94-weighted
average of the first ≤ 75 squared residuals, used as both :math:`\\varepsilon_{-1}^2` and
:math:`\\sigma_{-1}^2`; residuals at the sample mean for the in-sample path and the standardised
residuals, at the fitted mean for the one-step forecast, as ``arch``'s ``fit`` and ``forecast`` do),
so between refits a rolling backtest filters each new window in microseconds instead of re-estimating.
``arch``'s loose variance bounds (1e-6 … 1e6 times an EWMA) are not applied: they bind only for
degenerate parameter values.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import numba
import numpy as np

__all__ = ["GarchParams", "GarchEstimator", "fit_garch", "fit_garch_compiled", "estimate_garch", "garch_nll",
           "filter_window", "fhs_windows", "MAX_ABS_Z"]

#: a standardised residual beyond this means the variance recursion has collapsed (see :func:`fhs_windows`)
MAX_ABS_Z = 1.0e3


@dataclass(frozen=True)
class GarchParams:
    """Fitted GARCH(1,1) parameters on percent returns.

    Attributes
    ----------
    mu, omega, alpha, beta : float
        Constant mean (percent), variance intercept (percent²), ARCH and GARCH coefficients.
    converged : bool
        Whether the optimiser reported convergence (``arch``'s ``convergence_flag == 0``).
    loglik : float
        Maximised log-likelihood (NaN when not available).
    """

    mu: float
    omega: float
    alpha: float
    beta: float
    converged: bool = True
    loglik: float = float("nan")

    def as_array(self) -> np.ndarray:
        return np.array([self.mu, self.omega, self.alpha, self.beta])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fit_garch(x_pct: np.ndarray, starting_values: np.ndarray | None = None) -> GarchParams:
    """Fit a constant-mean GARCH(1,1) with Gaussian innovations to percent returns with ``arch``.

    Parameters
    ----------
    x_pct : ndarray
        Percent returns (100 × simple returns), finite, at least a few dozen.
    starting_values : ndarray, optional
        ``[mu, omega, alpha, beta]`` to start the optimiser; default ``arch``'s own starting values
        (what riskcore uses everywhere, so that a fit depends on its data only).

    Returns
    -------
    GarchParams
        ``converged`` is False when the optimiser did not report success; the estimates are still
        returned (``arch`` gives its last iterate) and callers flag it.
    """
    from arch import arch_model

    model = arch_model(np.asarray(x_pct, dtype=float), mean="Constant", vol="GARCH", p=1, q=1,
                       dist="normal", rescale=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sv = None
        if starting_values is not None:
            sv = np.asarray(starting_values, dtype=float).copy()
            # keep the start strictly inside arch's constraints (alpha + beta < 1, all >= 0)
            sv[1] = max(sv[1], 1e-6)
            sv[2:] = np.clip(sv[2:], 1e-4, None)
            if sv[2] + sv[3] >= 0.999:
                sv[2:] *= 0.998 / (sv[2] + sv[3])
        res = model.fit(disp="off", show_warning=False, starting_values=sv)
    p = np.asarray(res.params, dtype=float)
    return GarchParams(mu=float(p[0]), omega=float(p[1]), alpha=float(p[2]), beta=float(p[3]),
                       converged=bool(res.convergence_flag == 0), loglik=float(res.loglikelihood))


class GarchEstimator(StrEnum):
    """Who solves the GARCH(1,1) quasi-likelihood problem (the problem is the same for both).

    ``COMPILED``: :func:`fit_garch_compiled` — arch's objective, bounds, constraint and starting values,
    solved by a compiled projected Newton method with the analytic gradient (well under a millisecond a
    fit); ``ARCH``: :func:`fit_garch`, ``arch.arch_model(...).fit()`` itself (10–30 ms a fit, SLSQP with
    numerical gradients).
    """

    COMPILED = "compiled"
    ARCH = "arch"


@numba.njit(cache=True)
def _nll_grad(theta: np.ndarray, x: np.ndarray, bc: float) -> tuple[float, np.ndarray]:
    """Negative Gaussian log-likelihood of a GARCH(1,1) with constant mean and its gradient (arch's recursion)."""
    f, g, _ = _nll_grad_info(theta, x, bc)
    return f, g


@numba.njit(cache=True)
def _nll_grad_info(theta: np.ndarray, x: np.ndarray, bc: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Negative log-likelihood, gradient and the scoring (expected-information) matrix in (mu, omega, alpha, beta).

    Scalars instead of small arrays in the loop: this runs a few hundred times per fit.
    """
    mu, om, al, be = theta[0], theta[1], theta[2], theta[3]
    n = x.shape[0]
    g = np.zeros(4)
    h = np.zeros((4, 4))
    s2 = om + (al + be) * bc
    d0, d1, d2, d3 = 0.0, 1.0, bc, bc
    f = g0 = g1 = g2 = g3 = 0.0
    h00 = h01 = h02 = h03 = h11 = h12 = h13 = h22 = h23 = h33 = 0.0
    for t in range(n):
        if t > 0:
            ep = x[t - 1] - mu
            d0 = -2.0 * al * ep + be * d0
            d1 = 1.0 + be * d1
            d2 = ep * ep + be * d2
            d3 = s2 + be * d3
            s2 = om + al * ep * ep + be * s2
        if not s2 > 0.0:
            return 1e300, g, h
        e = x[t] - mu
        inv = 1.0 / s2
        f += math.log(s2) + e * e * inv
        c = 0.5 * (inv - e * e * inv * inv)
        g0 += c * d0 - e * inv
        g1 += c * d1
        g2 += c * d2
        g3 += c * d3
        # expected information of one observation: (1/2) d d' / s2^2 + de de' / s2, de = (-1, 0, 0, 0)
        w = 0.5 * inv * inv
        wd0, wd1, wd2 = w * d0, w * d1, w * d2
        h00 += wd0 * d0 + inv
        h01 += wd0 * d1
        h02 += wd0 * d2
        h03 += wd0 * d3
        h11 += wd1 * d1
        h12 += wd1 * d2
        h13 += wd1 * d3
        h22 += wd2 * d2
        h23 += wd2 * d3
        h33 += w * d3 * d3
    f = 0.5 * (f + n * math.log(2.0 * math.pi))
    g[0], g[1], g[2], g[3] = g0, g1, g2, g3
    h[0, 0], h[1, 1], h[2, 2], h[3, 3] = h00, h11, h22, h33
    h[0, 1] = h[1, 0] = h01
    h[0, 2] = h[2, 0] = h02
    h[0, 3] = h[3, 0] = h03
    h[1, 2] = h[2, 1] = h12
    h[1, 3] = h[3, 1] = h13
    h[2, 3] = h[3, 2] = h23
    return f, g, h


@numba.njit(cache=True)
def _to_natural(u: np.ndarray) -> np.ndarray:
    """(mu, omega, persistence, alpha share) -> (mu, omega, alpha, beta): the box maps onto arch's constraints."""
    out = np.empty(4)
    out[0], out[1] = u[0], u[1]
    out[2] = u[3] * u[2]
    out[3] = (1.0 - u[3]) * u[2]
    return out


@numba.njit(cache=True)
def _solve_spd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve a x = b for a small symmetric positive definite a (Cholesky); NaN when not positive definite."""
    n = b.shape[0]
    L = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            sm = a[i, j]
            for k in range(j):
                sm -= L[i, k] * L[j, k]
            if i == j:
                if sm <= 0.0:
                    return np.full(n, np.nan)
                L[i, i] = math.sqrt(sm)
            else:
                L[i, j] = sm / L[j, j]
    y = np.empty(n)
    for i in range(n):
        sm = b[i]
        for k in range(i):
            sm -= L[i, k] * y[k]
        y[i] = sm / L[i, i]
    xs = np.empty(n)
    for i in range(n - 1, -1, -1):
        sm = y[i]
        for k in range(i + 1, n):
            sm -= L[k, i] * xs[k]
        xs[i] = sm / L[i, i]
    return xs


@numba.njit(cache=True)
def _garch_solve(x: np.ndarray, bc: float, u0: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 max_iter: int, ftol: float) -> tuple[np.ndarray, float, int, bool]:
    """Projected scoring (Bertsekas' projected Newton) on the box of (mu, omega, persistence, alpha share)."""
    u = u0.copy()
    for i in range(4):
        u[i] = min(max(u[i], lo[i]), hi[i])
    th = _to_natural(u)
    f, g, h = _nll_grad_info(th, x, bc)
    converged = False
    it = 0
    while it < max_iter:
        it += 1
        # chain rule to (mu, omega, pi, rho): alpha = rho pi, beta = (1 - rho) pi
        J = np.zeros((4, 4))
        J[0, 0] = 1.0
        J[1, 1] = 1.0
        J[2, 2], J[2, 3] = u[3], u[2]
        J[3, 2], J[3, 3] = 1.0 - u[3], -u[2]
        gu = J.T @ g
        hu = J.T @ h @ J
        # free variables: not at a bound with the gradient pushing outwards
        free = np.ones(4, dtype=np.bool_)
        for i in range(4):
            eps = 1e-12 * max(1.0, abs(hi[i] - lo[i]))
            if (u[i] <= lo[i] + eps and gu[i] > 0.0) or (u[i] >= hi[i] - eps and gu[i] < 0.0):
                free[i] = False
        idx = np.flatnonzero(free)
        step = np.zeros(4)
        if idx.size:
            hf = np.empty((idx.size, idx.size))
            gf = np.empty(idx.size)
            for a_ in range(idx.size):
                gf[a_] = gu[idx[a_]]
                for b_ in range(idx.size):
                    hf[a_, b_] = hu[idx[a_], idx[b_]]
            ridge = 1e-10
            for a_ in range(idx.size):
                ridge = max(ridge, 1e-10 * hf[a_, a_])
            dfree = np.full(idx.size, np.nan)
            for _ in range(8):  # Levenberg damping until the reduced matrix is positive definite
                hd = hf.copy()
                for a_ in range(idx.size):
                    hd[a_, a_] += ridge
                dfree = _solve_spd(hd, -gf)
                if np.all(np.isfinite(dfree)):
                    break
                ridge *= 100.0
            if not np.all(np.isfinite(dfree)):
                for a_ in range(idx.size):  # steepest descent, scaled
                    dfree[a_] = -gf[a_] / max(abs(hf[a_, a_]), 1e-12)
            for a_ in range(idx.size):
                step[idx[a_]] = dfree[a_]
        else:
            converged = True
            break
        # backtracking along the projection arc (Armijo)
        t = 1.0
        accepted = False
        for _ in range(40):
            un = u + t * step
            for i in range(4):
                un[i] = min(max(un[i], lo[i]), hi[i])
            thn = _to_natural(un)
            fn, gn, hn = _nll_grad_info(thn, x, bc)
            dec = 0.0
            for i in range(4):
                dec += gu[i] * (un[i] - u[i])
            if fn <= f + 1e-4 * dec:
                accepted = True
                break
            t *= 0.5
        if not accepted:
            converged = True  # no descent left within machine precision
            break
        df = f - fn
        u, th, f, g, h = un, thn, fn, gn, hn
        if df <= ftol * (1.0 + abs(f)):
            converged = True
            break
    return th, f, it, converged


def garch_nll(theta: np.ndarray, x_pct: np.ndarray) -> float:
    """arch's objective: minus the Gaussian log-likelihood of ``[mu, omega, alpha, beta]`` on percent returns.

    The backcast is the one ``arch`` uses in ``fit`` (residuals at the sample mean), so
    ``-garch_nll(params, x) == arch_model(x, ...).fit().loglikelihood`` at arch's estimate.
    """
    x = np.ascontiguousarray(x_pct, dtype=float)
    return float(_nll_grad(np.asarray(theta, dtype=float), x, _backcast(x, float(x.mean())))[0])


#: arch's grid of GARCH(1,1) starting values: alpha x persistence (``GARCH.starting_values``)
_SV_ALPHAS = (0.01, 0.05, 0.1, 0.2)
_SV_PERSISTENCE = (0.5, 0.7, 0.9, 0.98)
#: the solver starts from the best few of arch's grid points and keeps the best optimum: the GARCH
#: likelihood of a one-year window often has several local optima, and one start can stop on a worse one
_N_STARTS = 3


def fit_garch_compiled(x_pct: np.ndarray) -> GarchParams:
    """Fit a constant-mean GARCH(1,1) exactly as ``arch`` does, with a compiled likelihood and gradient.

    Parameters
    ----------
    x_pct : ndarray
        Percent returns (100 × simple returns), finite, at least a few dozen, not constant.

    Returns
    -------
    GarchParams

    Raises
    ------
    ValueError
        On a constant window (no variance to model).

    Notes
    -----
    The same problem as ``arch_model(x, mean="Constant", vol="GARCH", p=1, q=1, dist="normal").fit()``:
    minimise :func:`garch_nll` over :math:`(\\mu, \\omega, \\alpha, \\beta)` with arch's bounds
    (:math:`\\mu` free — here within 1,000 standard deviations of the mean —,
    :math:`\\omega \\in [10^{-8} v, 10 v]` with :math:`v` the mean squared residual,
    :math:`\\alpha, \\beta \\in [0, 1]`) and constraint :math:`\\alpha + \\beta \\le 1`, from arch's starting
    values (the sample mean and arch's 4 × 4 grid of :math:`\\alpha` and persistence with the variance
    target; arch starts from the best grid point, here the best three are tried and the best optimum
    kept). The solver differs: arch runs SLSQP with finite-difference gradients in Python; here a
    compiled projected Newton method (Bertsekas 1982) with the analytic gradient and the
    scoring (expected-information) matrix runs on the box of
    :math:`(\\mu, \\omega, \\pi = \\alpha + \\beta, \\rho = \\alpha/\\pi) \\in \\mathbb{R} \\times [10^{-8}v, 10v]
    \\times [0, 1]^2`, which maps exactly onto arch's feasible set, to a relative change of the objective
    below 1e-12 (arch stops at SLSQP's 1e-6).
    ``tests/var/test_var_garch_compiled.py`` checks on S&P 500 windows that the optimum is never worse
    than arch's (log-likelihood at least arch's minus 1e-4; it is often higher, where arch's single start
    stops on a worse local optimum). Each fit depends on its window only (no warm start), so a
    rolling backtest split into chunks gives the same numbers as the serial one.
    """
    x = np.ascontiguousarray(x_pct, dtype=float)
    mu0 = float(x.mean())
    e = x - mu0
    v = float(np.mean(e * e))
    if not v > 0.0:
        raise ValueError("constant window: no variance to model")
    bc = _backcast(x, mu0)
    grid = []
    for a in _SV_ALPHAS:
        for pers in _SV_PERSISTENCE:
            cand = np.array([mu0, (1.0 - pers) * v, a, pers - a])
            grid.append((_nll_grad(cand, x, bc)[0], len(grid), cand))
    grid.sort(key=lambda t: (t[0], t[1]))
    # box of (mu, omega, alpha + beta, alpha / (alpha + beta)): exactly arch's bounds and constraint
    sd = math.sqrt(v)
    lo = np.array([mu0 - 1e3 * sd, 1e-8 * v, 0.0, 0.0])
    hi = np.array([mu0 + 1e3 * sd, 10.0 * v, 1.0, 1.0])
    best = None
    for _, _, sv in grid[:_N_STARTS]:
        u0 = np.array([sv[0], sv[1], sv[2] + sv[3], sv[2] / (sv[2] + sv[3])])
        th, f, _, ok = _garch_solve(x, bc, u0, lo, hi, 200, 1e-12)
        if best is None or f < best[1]:
            best = (th, f, ok)
    th, f, ok = best
    return GarchParams(mu=float(th[0]), omega=float(th[1]), alpha=float(th[2]), beta=float(th[3]),
                       converged=bool(ok), loglik=-float(f))


def estimate_garch(x_pct: np.ndarray, estimator: GarchEstimator | str = GarchEstimator.COMPILED) -> GarchParams:
    """Fit GARCH(1,1) to percent returns with the chosen :class:`GarchEstimator`."""
    if GarchEstimator(estimator) is GarchEstimator.ARCH:
        return fit_garch(x_pct)
    return fit_garch_compiled(x_pct)


@numba.njit(cache=True)
def _backcast(x: np.ndarray, centre: float) -> float:
    tau = min(75, x.shape[0])
    bc, wsum, w = 0.0, 0.0, 1.0
    for i in range(tau):
        d = x[i] - centre
        bc += w * d * d
        wsum += w
        w *= 0.94
    return bc / wsum


@numba.njit(cache=True)
def _filter(x: np.ndarray, mu: float, omega: float, alpha: float, beta: float, z: np.ndarray) -> float:
    n = x.shape[0]
    m = 0.0
    for i in range(n):
        m += x[i]
    m /= n
    # arch's fit (and std_resid) start from the backcast of the residuals at the starting mean (the sample
    # mean); its forecast() recomputes the backcast at the fitted mean. Both are reproduced.
    bc_fit = _backcast(x, m)
    bc_fc = _backcast(x, mu)
    s2 = omega + (alpha + beta) * bc_fit
    s2f = omega + (alpha + beta) * bc_fc
    e = 0.0
    for t in range(n):
        if t > 0:
            s2 = omega + alpha * e * e + beta * s2
            s2f = omega + alpha * e * e + beta * s2f
        e = x[t] - mu
        # a zero conditional variance (a window of equal returns) gives no standardised residual: NaN,
        # which callers treat as a degenerate window instead of dividing by zero
        z[t] = e / math.sqrt(s2) if s2 > 0.0 else np.nan
    return omega + alpha * e * e + beta * s2f


def filter_window(x_pct: np.ndarray, params: GarchParams) -> tuple[np.ndarray, float]:
    """Standardised residuals of a window and the one-step-ahead variance, parameters fixed.

    Returns
    -------
    z : ndarray
        :math:`(x_t - \\mu)/\\sigma_t` for every observation of the window.
    sigma2_next : float
        :math:`\\sigma_{T+1}^2 = \\omega + \\alpha\\varepsilon_T^2 + \\beta\\sigma_T^2` (percent²), the
        one-step-ahead forecast that ``arch``'s ``forecast(horizon=1)`` gives.
    """
    x = np.ascontiguousarray(x_pct, dtype=float)
    z = np.empty_like(x)
    s2 = _filter(x, params.mu, params.omega, params.alpha, params.beta, z)
    return z, float(s2)


@numba.njit(cache=True)
def _fhs_kernel(windows: np.ndarray, params: np.ndarray, cs: np.ndarray, max_abs_z: float):
    T, W = windows.shape
    C = cs.shape[0]
    var = np.empty((T, C))
    es = np.empty((T, C))
    sig = np.empty(T)
    z = np.empty(W)
    for i in range(T):
        mu, om, al, be = params[i, 0], params[i, 1], params[i, 2], params[i, 3]
        s2 = _filter(windows[i], mu, om, al, be, z)
        ok = s2 > 0.0 and math.isfinite(s2)  # False for NaN parameters too
        flat = True  # a window of equal returns has no residuals to filter: historical (VaR 0) instead
        for t in range(1, W):
            if windows[i, t] != windows[i, 0]:
                flat = False
                break
        ok = ok and not flat
        for t in range(W):
            if not (abs(z[t]) <= max_abs_z):  # NaN, inf or a collapsed filter
                ok = False
                break
        if not ok:  # no usable filter: NaN, the caller falls back to historical simulation
            sig[i] = np.nan
            for j in range(C):
                var[i, j] = np.nan
                es[i, j] = np.nan
            continue
        sd = math.sqrt(s2)
        sig[i] = sd
        zs = np.sort(z)
        for j in range(C):
            q = 1.0 - cs[j]
            h = W * q + (1.0 - q) - 1.0  # NumPy's 'linear' virtual index, same arithmetic
            lo = int(math.floor(h))
            if lo < 0:
                qz = zs[0]
            elif lo >= W - 1:
                qz = zs[W - 1]
            else:
                t = h - lo
                a, b = zs[lo], zs[lo + 1]
                qz = b - (b - a) * (1.0 - t) if t >= 0.5 else a + (b - a) * t
            tot, k = 0.0, 0
            for v in zs:
                if v <= qz:
                    tot += v
                    k += 1
                else:
                    break
            var[i, j] = -(mu + sd * qz) / 100.0
            es[i, j] = -(mu + sd * tot / k) / 100.0
    return var, es, sig


def fhs_windows(windows: np.ndarray, params: np.ndarray, cs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Filtered-historical-simulation VaR/ES for each window with given GARCH parameters.

    Parameters
    ----------
    windows : ndarray, shape (T, W)
        **Simple** returns (converted to percent inside).
    params : ndarray, shape (T, 4)
        ``[mu, omega, alpha, beta]`` to use for each window (a rolling backtest repeats the last fit).
    cs : ndarray, shape (C,)

    Returns
    -------
    var, es : ndarray, shape (T, C)
        Positive losses (fractions); NaN for a window whose filter is degenerate: NaN parameters, a zero
        conditional variance, or a standardised residual beyond :data:`MAX_ABS_Z` = 1,000. Callers fall
        back to historical simulation there (:func:`riskcore.var.measures.fhs_batch`).
    sigma_next : ndarray, shape (T,)
        One-step-ahead conditional volatility (percent); NaN where degenerate.

    Notes
    -----
    :math:`\\mathrm{VaR} = -(\\mu + \\sigma_{T+1} q_{1-c}(z))/100` and
    :math:`\\mathrm{ES} = -(\\mu + \\sigma_{T+1}\\,\\overline{z \\le q_{1-c}(z)})/100`, with the
    one-step-ahead forecasts :math:`\\mu` and :math:`\\sigma_{T+1}` and the empirical (linear)
    quantile of the window's standardised residuals.

    *Degenerate windows* (a decision; SPEC is silent). A window of equal returns is degenerate: its
    "residuals" are one repeated number, and the forecast would be ``mu (1 - sigma_{T+1}/sigma_T)``, a
    round-off-sized figure whose sign depends on the optimiser's last digits.
    With parameters whose ``omega`` is about 0 — what
    ``arch`` returns on a window of (nearly) equal returns, e.g. a simulated token stuck at its price floor —
    the variance recursion decays towards 0 over a run of equal returns and the next non-zero return gets a
    "standardised" residual of 10⁴…10¹⁵, which the empirical quantile then turns into a VaR of many
    times the value. No real standardised residual comes near 1,000 (the 1987 crash is about 20 under
    a GARCH(1,1)), so beyond that the filter is declared collapsed rather than extrapolated.
    """
    w = np.ascontiguousarray(windows, dtype=float) * 100.0
    return _fhs_kernel(w, np.ascontiguousarray(params, dtype=float), np.ascontiguousarray(cs, dtype=float),
                       MAX_ABS_Z)
