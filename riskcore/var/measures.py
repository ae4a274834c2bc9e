"""Value at Risk and Expected Shortfall of a return series: five methods, pure array functions.

Conventions (SPEC §2)
---------------------
* VaR and ES are **positive losses** as a fraction of value: a VaR of 0.02 means a 2 % loss.
  A violation on day *t* is ``r_t < -VaR_t``.
* ``confidence`` ``c`` is in (0, 1); the tail probability is ``p = 1 - c``.
* Returns are **simple** returns ``P_t / P_{t-1} - 1`` by default (what :func:`as_returns` makes from
  prices). Log returns may be passed as well; the functions do not care which.

Shape / NaN contract
--------------------
Every public ``*_var`` / ``*_es`` function takes a one-dimensional sequence of at least 30 finite
returns that are not all equal and returns a Python ``float``. NaN, ±inf, fewer than 30 values, a
constant series or a confidence outside (0, 1) raise :class:`riskcore.errors.InputError`; nothing is
silently dropped. The ``*_batch`` kernels take a 2-D array of windows ``(T, W)`` (one window per row,
already validated) and confidences ``(C,)`` and return ``(T, C)`` arrays; the rolling backtest and
the single-series functions share them, so each formula exists once.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

import numba
import numpy as np
import pandas as pd
from scipy import special

from riskcore.errors import InputError
from riskcore.returns import simple_returns
from riskcore.var.garch import GarchEstimator, GarchParams, estimate_garch, fhs_windows

_F = TypeVar("_F")

__all__ = [
    "VaRMethod", "ALL_METHODS", "ENSEMBLE", "parse_methods",
    "MIN_RETURNS", "EVT_THRESHOLD_QUANTILE", "EVT_MIN_EXCEEDANCES", "XI_BOUNDS", "EVTFit",
    "as_returns", "validate_returns", "validate_confidences",
    "historical_var", "historical_es", "parametric_var", "parametric_es",
    "cornish_fisher_var", "cornish_fisher_es", "evt_var", "evt_es", "evt_fit", "fhs_var", "fhs_es", "fhs_fit",
    "EVTEstimate", "FHSEstimate",
    "historical_batch", "parametric_batch", "cornish_fisher_batch", "evt_batch", "gpd_fit", "FHSFit",
    "pot_var_es", "evt_fallback_reason", "method_batch", "fhs_batch", "FHS_FALLBACK_REASON",
    "CF_FALLBACK_REASON", "cornish_fisher_valid", "cornish_fisher_fit",
]

#: smallest accepted number of returns
MIN_RETURNS = 30
#: EVT threshold: this empirical quantile of the returns (5 %)
EVT_THRESHOLD_QUANTILE = 0.05
#: EVT needs at least this many exceedances, else it falls back to historical simulation
EVT_MIN_EXCEEDANCES = 10
#: bounds of the GPD shape in the maximum-likelihood fit (see :func:`gpd_fit`)
XI_BOUNDS = (-0.5, 0.9)
#: |xi| below this uses the exponential (xi -> 0) limit of the VaR formula
XI_ZERO = 1e-6


class VaRMethod(StrEnum):
    """The five VaR methods (compare equal to their string values, e.g. ``"evt"``)."""

    HISTORICAL = "historical"
    PARAMETRIC = "parametric"
    CORNISH_FISHER = "cornish_fisher"
    EVT = "evt"
    FHS = "fhs"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {VaRMethod.HISTORICAL: "Historical", VaRMethod.PARAMETRIC: "Parametric (normal)",
           VaRMethod.CORNISH_FISHER: "Cornish-Fisher", VaRMethod.EVT: "EVT (POT/GPD)",
           VaRMethod.FHS: "Filtered HS (GARCH)"}

#: every method, in display order
ALL_METHODS: tuple[VaRMethod, ...] = tuple(VaRMethod)
#: column label of the weighted ensemble in tables and backtests
ENSEMBLE = "ensemble"


def parse_methods(methods: Any, field: str = "methods") -> tuple[VaRMethod, ...]:
    """Methods as a tuple of :class:`VaRMethod` (strings accepted), non-empty and distinct."""
    if methods is None:
        return ALL_METHODS
    if isinstance(methods, str):
        methods = [methods]
    out = []
    for m in methods:
        try:
            out.append(VaRMethod(m))
        except ValueError as exc:
            raise InputError(field, f"unknown method; allowed: {', '.join(ALL_METHODS)}", value=m) from exc
    if not out or len(set(out)) != len(out):
        raise InputError(field, "needs one or more distinct methods", value=list(map(str, methods)))
    return tuple(out)


# ---------------------------------------------------------------------------------------------------
# input handling
# ---------------------------------------------------------------------------------------------------
def _from_prices(prices: Any, field: str) -> pd.Series:
    prices = pd.Series(prices, dtype=float) if not isinstance(prices, pd.Series) else prices.astype(float)
    arr = prices.to_numpy()
    bad = np.flatnonzero(~np.isfinite(arr) | (arr <= 0))
    if bad.size:
        raise InputError(field, "prices must be finite and > 0", value=float(arr[bad[0]]), row=int(bad[0]) + 1)
    return simple_returns(prices)


def as_returns(data: Any, field: str = "returns") -> pd.Series:
    """Turn supported inputs into a validated ``pandas.Series`` of simple returns.

    Parameters
    ----------
    data : Series, array-like, DataFrame or PriceSeries
        * a ``pandas.Series`` of returns (any index; a ``DatetimeIndex`` is kept for dates);
        * a 1-D array or list of returns (integer positions become the index);
        * a DataFrame with a ``price`` column (simple returns are computed) or a ``returns`` column;
        * an object with ``.returns(kind="simple")`` or a ``.prices`` Series, such as
          :class:`riskcore.data.PriceSeries` (duck-typed).
    field : str
        Name used in error messages.

    Returns
    -------
    pandas.Series
        Finite float returns, at least :data:`MIN_RETURNS`, not constant.

    Raises
    ------
    InputError
        Unsupported type, fewer than 30 returns, NaN/inf (the 1-based row is named), a constant series, or
        a ``DatetimeIndex`` that is not strictly increasing (the first row out of order is named).
    """
    if isinstance(data, pd.DataFrame):
        cols = {str(c).lower(): c for c in data.columns}
        if "price" in cols:
            series = _from_prices(data[cols["price"]], field)
        elif "returns" in cols:
            series = data[cols["returns"]]
        else:
            raise InputError(field, "a DataFrame needs a 'price' or a 'returns' column",
                             value=list(map(str, data.columns)))
    elif isinstance(data, pd.Series):
        series = data
    elif (hasattr(data, "returns") and callable(data.returns)) or hasattr(data, "prices"):
        series = None
        if hasattr(data, "prices") and isinstance(data.prices, pd.Series):
            series = _from_prices(data.prices, field)
        else:
            try:
                series = data.returns(kind="simple")
            except TypeError:
                series = data.returns()
        if not isinstance(series, pd.Series):
            series = pd.Series(np.asarray(series, dtype=float))
    else:
        try:
            arr = np.asarray(data, dtype=float)
        except (TypeError, ValueError) as exc:
            raise InputError(field, "must be a sequence of numbers", value=type(data).__name__) from exc
        if arr.ndim != 1:
            raise InputError(field, "must be one-dimensional", value=arr.shape)
        series = pd.Series(arr)
    try:
        series = series.astype(float)
    except (TypeError, ValueError) as exc:
        raise InputError(field, "must contain numbers only", value=str(series.dtype)) from exc
    idx = series.index
    if isinstance(idx, pd.DatetimeIndex) and not (idx.is_monotonic_increasing and idx.is_unique):
        # rolling forecasts use "the previous returns" by position: dates out of order would look ahead
        pos = int(np.flatnonzero(np.diff(idx.asi8) <= 0)[0]) + 1 if idx.size > 1 and not idx.hasnans else 0
        raise InputError(field, "dates must be strictly increasing (sort the series, drop duplicate dates)",
                         value=str(idx[pos]), row=pos + 1)
    validate_returns(series.to_numpy(), field)
    return series


def validate_returns(arr: np.ndarray, field: str = "returns") -> np.ndarray:
    """Check a 1-D float array of returns (see the module's contract); returns it as float64."""
    arr = np.asarray(arr, dtype=float)
    if arr.ndim != 1:
        raise InputError(field, "must be one-dimensional", value=arr.shape)
    if arr.size < MIN_RETURNS:
        raise InputError(field, f"needs at least {MIN_RETURNS} returns", value=int(arr.size))
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise InputError(field, "must be finite (no NaN or inf)", value=float(arr[bad[0]]), row=int(bad[0]) + 1)
    if np.ptp(arr) == 0.0:
        raise InputError(field, "is constant: VaR needs returns that vary", value=float(arr[0]))
    return arr


def validate_confidences(confidences: Any, field: str = "confidence") -> np.ndarray:
    """Confidence levels as a 1-D float array, each in (0, 1), no duplicates."""
    cs = np.atleast_1d(np.asarray(confidences, dtype=float))
    if cs.ndim != 1 or cs.size == 0:
        raise InputError(field, "needs one or more levels in (0, 1)", value=confidences)
    for c in cs:
        if not (0.0 < c < 1.0):
            raise InputError(field, "must be in (0, 1), e.g. 0.99", value=float(c))
    if np.unique(cs).size != cs.size:
        raise InputError(field, "levels must be distinct", value=cs.tolist())
    return cs


def _one(returns: Any, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    arr = validate_returns(as_returns(returns).to_numpy())
    return arr[None, :], validate_confidences(confidence)


# ---------------------------------------------------------------------------------------------------
# historical, parametric, Cornish-Fisher: vectorised over windows
# ---------------------------------------------------------------------------------------------------
def historical_batch(windows: np.ndarray, cs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Historical VaR and ES for each row of ``windows`` (T, W) at levels ``cs`` (C,) → two (T, C) arrays.

    Notes
    -----
    :math:`\\mathrm{VaR}_c = -q_{1-c}(r)` with NumPy's default linear interpolation and
    :math:`\\mathrm{ES}_c = -\\operatorname{mean}\\{r_i : r_i \\le q_{1-c}\\}` (never empty: the
    quantile is at least the minimum).
    """
    q = np.quantile(windows, 1.0 - cs, axis=1).T  # (T, C)
    var = -q
    es = np.empty_like(var)
    for j in range(cs.size):
        mask = windows <= q[:, j:j + 1]
        es[:, j] = -(np.where(mask, windows, 0.0).sum(axis=1) / mask.sum(axis=1))
    return var, es


def _moments(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = windows.shape[1]
    mu = windows.mean(axis=1)
    d = windows - mu[:, None]
    m2 = np.einsum("ij,ij->i", d, d) / n
    d2 = d * d
    m3 = np.einsum("ij,ij->i", d2, d) / n
    m4 = np.einsum("ij,ij->i", d2, d2) / n
    sd = np.sqrt(m2 * n / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = np.where(m2 > 0, m3 / m2**1.5, 0.0)
        exkurt = np.where(m2 > 0, m4 / m2**2 - 3.0, 0.0)
    return mu, sd, skew, exkurt


def _norm_pdf(z: np.ndarray) -> np.ndarray:
    """Standard normal density; inline because ``scipy.stats.norm.pdf`` costs ~100 us of
    dispatch per call, a quarter of a monitor tick."""
    return np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def parametric_batch(windows: np.ndarray, cs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normal (variance–covariance) VaR and ES per window → two (T, C) arrays.

    Notes
    -----
    With the sample mean :math:`\\mu`, the sample standard deviation :math:`\\sigma` (ddof = 1),
    :math:`p = 1-c` and :math:`z = \\Phi^{-1}(p)`:
    :math:`\\mathrm{VaR} = -(\\mu + z\\sigma)`, :math:`\\mathrm{ES} = -(\\mu - \\sigma\\varphi(z)/p)`.
    """
    mu = windows.mean(axis=1)
    sd = windows.std(axis=1, ddof=1)
    p = 1.0 - cs
    z = special.ndtri(p)
    var = -(mu[:, None] + z[None, :] * sd[:, None])
    es = -(mu[:, None] - sd[:, None] * (_norm_pdf(z) / p)[None, :])
    return var, es


#: why Cornish–Fisher used historical simulation (see :func:`cornish_fisher_batch`)
CF_FALLBACK_REASON = ("the Cornish-Fisher expansion is not increasing in z over [z_(1-c), 0] with this sample's "
                      "skewness and kurtosis (outside its domain of validity, Maillard 2012): historical VaR used")


def _cf_poly(s: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients of the derivative g'(z) = a z^2 + b z + c0 of the Cornish–Fisher expansion."""
    a = k / 8.0 - s * s / 6.0
    b = s / 3.0
    c0 = 1.0 - k / 8.0 + 5.0 * s * s / 36.0
    return a, b, c0


def _cf_g(z: np.ndarray, s: np.ndarray, k: np.ndarray) -> np.ndarray:
    return z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36


def cornish_fisher_valid(skew: np.ndarray, exkurt: np.ndarray, cs: np.ndarray) -> np.ndarray:
    """Whether the Cornish–Fisher expansion is a valid quantile at each level: increasing on [z_(1-c), 0].

    Parameters
    ----------
    skew, exkurt : ndarray, shape (T,)
        Sample skewness and excess kurtosis.
    cs : ndarray, shape (C,)

    Returns
    -------
    ndarray of bool, shape (T, C)

    Notes
    -----
    :math:`g'(z) = 1 + zS/3 + (z^2-1)K/8 - (6z^2-5)S^2/36` is a quadratic in :math:`z`; the expansion is
    increasing on :math:`[z_p, 0]` when the minimum of :math:`g'` there (at an end point, or at the vertex
    when it lies inside and the parabola opens upwards) is positive (Maillard 2012, "A user's guide to the
    Cornish Fisher expansion", §3: the domain of validity in :math:`(S, K)`).
    """
    z = special.ndtri(1.0 - cs)[None, :]
    a, b, c0 = (v[:, None] for v in _cf_poly(np.asarray(skew, float), np.asarray(exkurt, float)))
    lo = np.minimum(a * z * z + b * z + c0, c0)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(a > 0, -b / (2.0 * a), np.nan)
    inside = (a > 0) & (v > z) & (v < 0)
    lo = np.where(inside, np.minimum(lo, c0 - b * b / (4.0 * np.where(a > 0, a, 1.0))), lo)
    return lo > 0.0


def _cf_partial(x: np.ndarray, s: np.ndarray, k: np.ndarray) -> np.ndarray:
    """:math:`E[g(Z)\\,1\\{Z < x\\}]` in closed form from the normal partial moments (x may be -inf)."""
    fin = np.isfinite(x)
    xf = np.where(fin, x, 0.0)
    phi = np.where(fin, _norm_pdf(xf), 0.0)
    m0 = special.ndtr(x)
    m1 = -phi
    m2 = m0 - xf * phi
    m3 = -(xf**2 + 2) * phi
    return m1 + (m2 - m0) * s / 6 + (m3 - 3 * m1) * k / 24 - (2 * m3 - 5 * m1) * s**2 / 36


def _cf_tail_mean(z: np.ndarray, s: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Mean of the Cornish–Fisher quantile function over the tail u < p (z = z_p inside the domain).

    Notes
    -----
    Where g is increasing on :math:`(-\\infty, z_p]` this is :math:`E[g(Z)1\\{Z<z_p\\}]/p`. Where it is not
    (a cubic turns down again in the far tail), the quantile function is the running minimum
    :math:`Q(z) = \\min_{z \\le y \\le z_p} g(y)` — the largest non-decreasing function not above g, so
    that :math:`Q(z_p) = g(z_p)` is still the VaR and the tail average can never exceed it. With the roots
    of :math:`g'(z) = a z^2 + b z + c_0` this is closed form:

    * :math:`a < 0` (or :math:`a = 0 < b`): g decreases left of the smaller root :math:`r_1`, so
      :math:`Q = g(r_1)` there and :math:`g` on :math:`[r_1, z_p]`;
    * :math:`a > 0` with both roots below :math:`z_p`: g has a local minimum at the larger root
      :math:`r_2`; :math:`Q = g(r_2)` on :math:`[z_3, r_2]` and :math:`g` elsewhere, where
      :math:`z_3 < r_1` solves :math:`g(z_3) = g(r_2)` — the third root of the cubic
      :math:`g(z) - g(r_2) = (a/3)(z - r_2)^2(z - z_3)`, i.e. :math:`z_3 = -S/(2a) - 2 r_2`.
    """
    p = special.ndtr(z)
    tp = _cf_partial(z, s, k)
    out = tp / p
    a, b, c0 = _cf_poly(s, k)
    disc = b * b - 4.0 * a * c0
    sq = np.sqrt(np.maximum(disc, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(a > 0, -b / (2.0 * a), -np.inf)
        # case A: g' < 0 left of r1 (downward parabola, or a rising line)
        r1 = np.where(a < 0, (-b + sq) / (2.0 * a), np.where(b != 0, -c0 / np.where(b != 0, b, 1.0), -np.inf))
        case_a = ((a < 0) | ((a == 0) & (b > 0))) & (r1 < z)
        # case B: a local minimum of g at r2 < z_p
        r2 = np.where(a > 0, (-b + sq) / (2.0 * np.where(a > 0, a, 1.0)), -np.inf)
        case_b = (a > 0) & (v < z) & (disc > 0) & (r2 < z)
    if case_a.any():
        ra = np.where(case_a, r1, z)
        fa = (tp - _cf_partial(ra, s, k) + _cf_g(ra, s, k) * special.ndtr(ra)) / p
        out = np.where(case_a, fa, out)
    if case_b.any():
        rb = np.where(case_b, r2, z)
        z3 = np.where(case_b, -s / (2.0 * np.where(a > 0, a, 1.0)) - 2.0 * rb, z)
        fb = (_cf_partial(z3, s, k) + _cf_g(rb, s, k) * (special.ndtr(rb) - special.ndtr(z3))
              + tp - _cf_partial(rb, s, k)) / p
        out = np.where(case_b, fb, out)
    return out


def cornish_fisher_batch(windows: np.ndarray, cs: np.ndarray, es: bool = True,
                         hist: tuple[np.ndarray, np.ndarray] | None = None,
                         ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Cornish–Fisher (modified) VaR and ES per window → two (T, C) arrays and the fallback flags.

    Parameters
    ----------
    windows : ndarray, shape (T, W)
    cs : ndarray, shape (C,)
    es : bool, default True
        Compute the ES (``False``: NaN, for callers that only need the VaR, such as the monitor's ticks).
    hist : (var, es), optional
        Historical results for the same windows, used for the fallback (computed when needed).

    Returns
    -------
    var, es : ndarray, shape (T, C)
    info : dict
        ``fallback`` (T, C): True where the expansion is outside its domain of validity and historical
        simulation was used (:data:`CF_FALLBACK_REASON`).

    Notes
    -----
    With sample skewness :math:`S = m_3/m_2^{3/2}` and *excess* kurtosis :math:`K = m_4/m_2^2 - 3`
    (moment estimators, as ``scipy.stats.skew``/``kurtosis`` by default), the seed's expansion of the
    normal quantile :math:`z = \\Phi^{-1}(p)` is

    .. math:: g(z) = z + (z^2-1)S/6 + (z^3-3z)K/24 - (2z^3-5z)S^2/36,

    :math:`\\mathrm{VaR} = -(\\mu + g(z)\\sigma)` with the ddof = 1 standard deviation (so that
    :math:`S = K = 0` gives the parametric VaR exactly).

    *Domain of validity* (SPEC §2). :math:`g` is a quantile function only where it is increasing; it is
    used where it is increasing on :math:`[z_p, 0]` (:func:`cornish_fisher_valid`, Maillard 2012).
    Outside (one large gain in a short window is enough: the skewness it creates bends the cubic back, and
    the "VaR" can even be negative) the level falls back to historical simulation, VaR and ES together,
    and ``info["fallback"]`` says so.

    *ES* is the tail average of the same quantile function,
    :math:`\\mathrm{ES} = -(\\mu + \\sigma\\, p^{-1}\\int_0^p Q(u)\\,du)` with :math:`Q(u) = g(\\Phi^{-1}(u))`,
    i.e. the expected shortfall of the distribution whose quantile function is the expansion; in closed
    form :math:`E[g(Z)1\\{Z<z\\}]/p` from the normal partial moments
    :math:`M_0=p,\\ M_1=-\\varphi,\\ M_2=p-z\\varphi,\\ M_3=-(z^2+2)\\varphi` where :math:`g` is monotone
    below :math:`z_p`, and with the running minimum of :func:`_cf_tail_mean` where it is not (closed form too), so that
    ES ≥ VaR always. This is *not* the "modified ES" of Boudt, Peterson and Croux (2008), which integrates
    an Edgeworth-expanded density instead of the quantile expansion and can fall below the VaR.
    """
    mu, sd, s, k = _moments(windows)
    p = 1.0 - cs
    z = special.ndtri(p)
    s_, k_ = s[:, None], k[:, None]
    g = _cf_g(z[None, :], s_, k_)
    var = -(mu[:, None] + g * sd[:, None])
    if es:
        zz = np.broadcast_to(z[None, :], g.shape)
        sb, kb = np.broadcast_to(s_, g.shape), np.broadcast_to(k_, g.shape)
        esv = -(mu[:, None] + sd[:, None] * _cf_tail_mean(zz, sb, kb))
    else:
        esv = np.full_like(var, np.nan)
    fallback = ~cornish_fisher_valid(s, k, cs)
    if fallback.any():
        hv, he = hist if hist is not None else historical_batch(windows, cs)
        var = np.where(fallback, hv, var)
        esv = np.where(fallback, he, esv) if es else esv
    return var, esv, {"fallback": fallback}


# ---------------------------------------------------------------------------------------------------
# EVT: peaks over threshold with a fast generalised Pareto maximum-likelihood fit (Numba)
# ---------------------------------------------------------------------------------------------------
@numba.njit(cache=True)
def _quantile_sorted(s: np.ndarray, q: float) -> float:
    """NumPy's default ('linear') quantile of an already sorted 1-D array, same arithmetic."""
    n = s.shape[0]
    h = n * q + (1.0 - q) - 1.0
    lo = int(math.floor(h))
    if lo < 0:
        return s[0]
    if lo >= n - 1:
        return s[n - 1]
    t = h - lo
    a, b = s[lo], s[lo + 1]
    d = b - a
    if t >= 0.5:
        return b - d * (1.0 - t)
    return a + d * t


@numba.njit(cache=True)
def _gpd_profile(y: np.ndarray, theta: float, ymean: float, xi_lo: float, xi_hi: float) -> tuple[float, float]:
    """Profile log-likelihood of the GPD at theta = xi/beta (Grimshaw 1993) and the xi it implies."""
    n = y.shape[0]
    if abs(theta) * y.max() < 1e-10:
        return -n * math.log(ymean) - n, 0.0
    s = 0.0
    for v in y:
        a = 1.0 + theta * v
        if a <= 0.0:
            return -np.inf, np.nan
        s += math.log(a)
    xi = s / n
    if xi < xi_lo or xi > xi_hi:
        return -np.inf, xi
    beta = xi / theta
    if beta <= 0.0:
        return -np.inf, xi
    return -n * math.log(beta) - n * (1.0 + xi), xi


@numba.njit(cache=True)
def _gpd_fit(y: np.ndarray, xi_lo: float, xi_hi: float) -> tuple[float, float, float]:
    """Maximum-likelihood (xi, beta, loglik) of a GPD on exceedances ``y > 0``, xi in [xi_lo, xi_hi]."""
    ymax = y.max()
    ymean = y.mean()
    # grid over t = theta * ymax in (-1, 1000]: dense near -1 (short tails) and on a log scale above 0
    nneg, npos = 16, 28
    ng = nneg + 1 + npos
    ts = np.empty(ng)
    for i in range(nneg):
        ts[i] = -1.0 + 10.0 ** (-6.0 + 6.0 * i / nneg)
    ts[nneg] = 0.0
    for i in range(npos):
        ts[nneg + 1 + i] = 10.0 ** (-4.0 + 7.0 * i / (npos - 1))
    best, ibest = -np.inf, nneg
    for i in range(ng):
        ll, _ = _gpd_profile(y, ts[i] / ymax, ymean, xi_lo, xi_hi)
        if ll > best:
            best, ibest = ll, i
    a = ts[max(ibest - 1, 0)]
    b = ts[min(ibest + 1, ng - 1)]
    gr = 0.6180339887498949
    c = b - gr * (b - a)
    d = a + gr * (b - a)
    fc, _ = _gpd_profile(y, c / ymax, ymean, xi_lo, xi_hi)
    fd, _ = _gpd_profile(y, d / ymax, ymean, xi_lo, xi_hi)
    for _ in range(48):
        if fc >= fd:
            b, d, fd = d, c, fc
            c = b - gr * (b - a)
            fc, _ = _gpd_profile(y, c / ymax, ymean, xi_lo, xi_hi)
        else:
            a, c, fc = c, d, fd
            d = a + gr * (b - a)
            fd, _ = _gpd_profile(y, d / ymax, ymean, xi_lo, xi_hi)
    t = ts[ibest]
    for cand in (c, d):
        ll, _ = _gpd_profile(y, cand / ymax, ymean, xi_lo, xi_hi)
        if ll > best:
            best, t = ll, cand
    theta = t / ymax
    ll, xi = _gpd_profile(y, theta, ymean, xi_lo, xi_hi)
    if abs(theta) * ymax < 1e-10:
        return 0.0, ymean, ll
    return xi, xi / theta, ll


@numba.njit(cache=True)
def pot_var_es(u_loss: float, xi: float, beta: float, ratio: float, xi_zero: float = XI_ZERO) -> tuple[float, float]:
    """Peaks-over-threshold VaR and ES from a GPD tail (SPEC §2), loss terms.

    Parameters
    ----------
    u_loss : float
        Loss threshold (minus the 5 % return quantile).
    xi, beta : float
        GPD shape (< 1) and scale of the exceedances.
    ratio : float
        :math:`(n / N_u)(1 - c)`.
    xi_zero : float
        Below this :math:`|\\xi|` the exponential limit is used.

    Returns
    -------
    var, es : float
        :math:`u_L + (\\beta/\\xi)(\\text{ratio}^{-\\xi} - 1)` (or :math:`u_L - \\beta\\log\\text{ratio}`)
        and :math:`(\\mathrm{VaR} + \\beta - \\xi u_L)/(1 - \\xi)`.
    """
    if abs(xi) < xi_zero:
        v = u_loss - beta * math.log(ratio)
    else:
        v = u_loss + beta / xi * (ratio ** (-xi) - 1.0)
    return v, (v + beta - xi * u_loss) / (1.0 - xi)


@numba.njit(cache=True)
def _evt_windows(windows: np.ndarray, cs: np.ndarray, u_q: float, min_exc: int, xi_lo: float, xi_hi: float,
                 xi_zero: float):
    T, W = windows.shape
    C = cs.shape[0]
    var = np.full((T, C), np.nan)
    es = np.full((T, C), np.nan)
    xi_out = np.full(T, np.nan)
    beta_out = np.full(T, np.nan)
    u_out = np.empty(T)
    nexc = np.zeros(T, np.int64)
    for i in range(T):
        s = np.sort(windows[i])
        u = _quantile_sorted(s, u_q)
        u_out[i] = u
        k = 0
        while k < W and s[k] < u:
            k += 1
        nexc[i] = k
        if k < min_exc:
            continue
        y = u - s[:k]  # losses beyond the loss threshold -u, all > 0
        xi, beta, _ = _gpd_fit(y, xi_lo, xi_hi)
        xi_out[i], beta_out[i] = xi, beta
        for j in range(C):
            ratio = W / k * (1.0 - cs[j])
            if ratio > 1.0 + 1e-9:  # the level lies inside the body: no tail extrapolation
                continue
            var[i, j], es[i, j] = pot_var_es(-u, xi, beta, ratio, xi_zero)
    return var, es, xi_out, beta_out, u_out, nexc


def gpd_fit(exceedances: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood generalised Pareto fit ``(xi, beta)`` of positive exceedances (location 0).

    Notes
    -----
    Grimshaw's (1993) reduction: with :math:`\\theta = \\xi/\\beta` and
    :math:`\\xi(\\theta) = n^{-1}\\sum\\log(1+\\theta y_i)`, the profile log-likelihood is
    :math:`\\ell^*(\\theta) = -n\\log(\\xi(\\theta)/\\theta) - n(1+\\xi(\\theta))` (exponential limit at
    :math:`\\theta = 0`). It is maximised over :math:`\\theta y_{max} \\in (-1, 10^3]` by a 45-point grid
    and golden-section refinement — a few thousand logarithms, so a window costs microseconds where
    ``scipy.stats.genpareto.fit`` costs milliseconds. The shape is constrained to
    :data:`XI_BOUNDS` = [−0.5, 0.9]: below −0.5 the MLE is non-regular (and the likelihood unbounded
    below −1); at 1 and above the ES does not exist, and with the few exceedances of a one-year window
    such estimates are noise rather than tail information.
    """
    y = np.asarray(exceedances, dtype=float)
    if y.ndim != 1 or y.size < 2 or not np.all(np.isfinite(y)) or np.any(y <= 0):
        raise InputError("exceedances", "needs two or more finite values > 0", value=y.size)
    xi, beta, _ = _gpd_fit(y, XI_BOUNDS[0], XI_BOUNDS[1])
    return float(xi), float(beta)


def evt_batch(windows: np.ndarray, cs: np.ndarray, hist: tuple[np.ndarray, np.ndarray] | None = None,
              ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """EVT (peaks-over-threshold) VaR and ES per window, with the historical fallback applied.

    Parameters
    ----------
    windows : ndarray, shape (T, W)
    cs : ndarray, shape (C,)
    hist : (var, es), optional
        Historical results for the same windows (computed when not given) used for the fallback.

    Returns
    -------
    var, es : ndarray, shape (T, C)
    info : dict of arrays
        ``xi``, ``beta``, ``threshold`` (return quantile, negative for a loss), ``n_exceed`` (T,) and
        ``fallback`` (T, C) booleans: True where historical simulation was used.

    Notes
    -----
    Threshold :math:`u` = the 5 % empirical quantile of the returns (linear interpolation); the
    :math:`N_u` losses :math:`y = u - r > 0` of the returns below it are fitted with a GPD
    (:func:`gpd_fit`). With loss threshold :math:`u_L = -u`, :math:`n` returns and :math:`p = 1-c`:

    .. math:: \\mathrm{VaR} = u_L + \\frac{\\beta}{\\xi}\\left(\\left(\\frac{n}{N_u}p\\right)^{-\\xi} - 1\\right),
              \\qquad \\mathrm{ES} = \\frac{\\mathrm{VaR} + \\beta - \\xi u_L}{1-\\xi},

    and :math:`\\mathrm{VaR} = u_L - \\beta\\log(np/N_u)` when :math:`|\\xi| < 10^{-6}`. Historical
    simulation is used instead (``fallback`` True) when :math:`N_u < 10`, or when
    :math:`np/N_u > 1`, i.e. the level lies inside the body where the tail model does not apply.
    """
    windows = np.ascontiguousarray(windows, dtype=float)
    cs = np.ascontiguousarray(cs, dtype=float)
    var, es, xi, beta, u, nexc = _evt_windows(windows, cs, EVT_THRESHOLD_QUANTILE, EVT_MIN_EXCEEDANCES,
                                              XI_BOUNDS[0], XI_BOUNDS[1], XI_ZERO)
    fallback = np.isnan(var)
    if fallback.any():
        hv, he = hist if hist is not None else historical_batch(windows, cs)
        var = np.where(fallback, hv, var)
        es = np.where(fallback, he, es)
    return var, es, {"xi": xi, "beta": beta, "threshold": u, "n_exceed": nexc, "fallback": fallback}


@dataclass(frozen=True)
class EVTFit:
    """Peaks-over-threshold fit of one return series.

    Attributes
    ----------
    threshold : float
        The 5 % return quantile :math:`u` (the loss threshold is ``-threshold``).
    n_exceed, n : int
        Number of returns below the threshold, and of all returns.
    xi, beta : float
        GPD shape and scale of the losses beyond the threshold (NaN when not fitted).
    fallback : dict
        ``{confidence: reason}`` for levels where historical simulation was used; empty when none.
    """

    threshold: float
    n_exceed: int
    n: int
    xi: float
    beta: float
    fallback: dict[float, str]

    @property
    def exceedances_fitted(self) -> bool:
        return bool(np.isfinite(self.xi))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["fallback"] = {str(k): v for k, v in self.fallback.items()}
        return d


@dataclass(frozen=True, eq=False)
class _FitEstimate(Generic[_F]):
    """What :func:`evt_fit` and :func:`fhs_fit` share: the fit, then VaR and ES per level.

    Unpacks like the tuple these functions returned before (``fit, var, es = evt_fit(r)``).
    """

    fit: _F
    var: np.ndarray
    es: np.ndarray
    confidences: tuple[float, ...]

    def __iter__(self):
        return iter((self.fit, self.var, self.es))

    def to_dict(self) -> dict[str, Any]:
        return {"fit": self.fit.to_dict(), "confidences": list(self.confidences), "var": self.var.tolist(),
                "es": self.es.tolist()}


class EVTEstimate(_FitEstimate[EVTFit]):
    """Result of :func:`evt_fit`: the tail fit and the VaR / ES it gives at each level.

    Attributes
    ----------
    fit : EVTFit
    var, es : ndarray, shape (C,)
        Positive losses, historical where ``fit.fallback`` names the level.
    confidences : tuple of float
        The levels, in the order of ``var`` and ``es``.
    """


def evt_fallback_reason(n_exceed: int, n: int, confidence: float) -> str:
    """Why EVT used historical simulation at ``confidence`` (for results and pages).

    Parameters
    ----------
    n_exceed, n : int
        Returns below the 5 % threshold, and all returns.
    confidence : float

    Returns
    -------
    str
        "only k exceedances …" when ``n_exceed`` < :data:`EVT_MIN_EXCEEDANCES`, else "tail probability … is
        not beyond the threshold …" (the level lies inside the body of the distribution).
    """
    c = float(confidence)
    if n_exceed < EVT_MIN_EXCEEDANCES:
        return (f"only {n_exceed} exceedances of the 5% threshold (< {EVT_MIN_EXCEEDANCES}): "
                "historical VaR used")
    return (f"tail probability {1 - c:.4g} is not beyond the threshold ({n_exceed}/{n} = "
            f"{n_exceed / n:.4g}): historical VaR used")


def evt_fit(returns: Any, confidences: Any = (0.95, 0.99, 0.997)) -> EVTEstimate:
    """Peaks-over-threshold fit and the VaR/ES it gives at each level.

    Returns
    -------
    EVTEstimate
        ``fit`` (:class:`EVTFit`), ``var`` and ``es`` (shape (C,), as in :func:`evt_batch`, historical where
        ``fit.fallback`` names the level) and ``confidences``; unpacks as ``fit, var, es``.
    """
    w, cs = _one(returns, confidences)
    var, es, info = evt_batch(w, cs)
    n, k = w.shape[1], int(info["n_exceed"][0])
    fb = {float(c): evt_fallback_reason(k, n, float(c)) for j, c in enumerate(cs) if info["fallback"][0, j]}
    fit = EVTFit(threshold=float(info["threshold"][0]), n_exceed=k, n=n, xi=float(info["xi"][0]),
                 beta=float(info["beta"][0]), fallback=fb)
    return EVTEstimate(fit, var[0], es[0], tuple(float(c) for c in cs))


# ---------------------------------------------------------------------------------------------------
# public single-series functions
# ---------------------------------------------------------------------------------------------------
def historical_var(returns: Any, confidence: float) -> float:
    """Historical-simulation VaR, ``-quantile(returns, 1 - confidence)`` (linear interpolation).

    Parameters
    ----------
    returns : array-like, Series or PriceSeries
        At least 30 finite, non-constant returns (see :func:`as_returns`).
    confidence : float
        In (0, 1), e.g. 0.99.

    Returns
    -------
    float
        Positive loss as a fraction of value.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.linspace(-0.05, 0.05, 101)
    >>> round(historical_var(r, 0.95), 6)
    0.045
    """
    w, cs = _one(returns, confidence)
    return float(historical_batch(w, cs)[0][0, 0])


def historical_es(returns: Any, confidence: float) -> float:
    """Historical ES: minus the mean of the returns at or below the ``1 - confidence`` quantile."""
    w, cs = _one(returns, confidence)
    return float(historical_batch(w, cs)[1][0, 0])


def parametric_var(returns: Any, confidence: float) -> float:
    """Normal VaR ``-(mean + z_{1-c} * std)``, std with ddof = 1 (see :func:`parametric_batch`)."""
    w, cs = _one(returns, confidence)
    return float(parametric_batch(w, cs)[0][0, 0])


def parametric_es(returns: Any, confidence: float) -> float:
    """Normal ES ``-(mean - std * phi(z_{1-c}) / (1 - c))``."""
    w, cs = _one(returns, confidence)
    return float(parametric_batch(w, cs)[1][0, 0])


def cornish_fisher_var(returns: Any, confidence: float) -> float:
    """Cornish–Fisher VaR with sample skewness and excess kurtosis (see :func:`cornish_fisher_batch`).

    Notes
    -----
    "Sample" skewness and excess kurtosis (SPEC §2) are the moment estimators
    :math:`g_1 = m_3/m_2^{3/2}` and :math:`g_2 = m_4/m_2^2 - 3` (central moments with divisor *n*), i.e.
    ``scipy.stats.skew`` and ``scipy.stats.kurtosis`` with their defaults, as in the seed — not the
    bias-adjusted :math:`G_1, G_2` of ``pandas.Series.skew``/``kurt`` or spreadsheets, which differ by
    :math:`O(1/n)`. The standard deviation uses ddof = 1, so the expansion reduces to
    :func:`parametric_var` when :math:`g_1 = g_2 = 0`. Outside the expansion's domain of validity
    (not increasing on :math:`[z_{1-c}, 0]`) the historical VaR is returned instead; use
    :func:`cornish_fisher_fit` to see whether that happened.
    """
    w, cs = _one(returns, confidence)
    return float(cornish_fisher_batch(w, cs)[0][0, 0])


def cornish_fisher_es(returns: Any, confidence: float) -> float:
    """Cornish–Fisher ES: the tail average of the expansion's quantile function (never below its VaR)."""
    w, cs = _one(returns, confidence)
    return float(cornish_fisher_batch(w, cs)[1][0, 0])


def cornish_fisher_fit(returns: Any, confidences: Any = (0.95, 0.99, 0.997),
                       ) -> tuple[dict[float, str], np.ndarray, np.ndarray]:
    """Cornish–Fisher VaR and ES at each level and where the historical fallback applied.

    Returns
    -------
    fallback : dict
        ``{confidence: reason}`` for the levels outside the domain of validity (empty when none).
    var, es : ndarray, shape (C,)
    """
    w, cs = _one(returns, confidences)
    var, es, info = cornish_fisher_batch(w, cs)
    fb = {float(c): CF_FALLBACK_REASON for j, c in enumerate(cs) if info["fallback"][0, j]}
    return fb, var[0], es[0]


def evt_var(returns: Any, confidence: float) -> float:
    """EVT (peaks over the 5 % threshold, GPD) VaR; historical when the fit does not apply.

    Use :func:`evt_fit` to see the fitted parameters and whether (and why) it fell back.
    """
    return float(evt_fit(returns, confidence).var[0])


def evt_es(returns: Any, confidence: float) -> float:
    """EVT ES ``(VaR + beta - xi * u_L) / (1 - xi)``; historical when the fit does not apply."""
    return float(evt_fit(returns, confidence).es[0])


# ---------------------------------------------------------------------------------------------------
# filtered historical simulation
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FHSFit:
    """GARCH(1,1) fit behind a filtered-historical-simulation VaR.

    Attributes
    ----------
    params : GarchParams
        On percent returns.
    sigma_next : float
        One-step-ahead conditional volatility forecast (percent).
    mean_next : float
        One-step-ahead conditional mean forecast (percent; the constant mean).
    fallback : str or None
        Why historical simulation was used instead (:func:`fhs_batch`); None when FHS applied.
    """

    params: GarchParams
    sigma_next: float
    mean_next: float
    fallback: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"params": self.params.to_dict(), "sigma_next": self.sigma_next, "mean_next": self.mean_next,
                "fallback": self.fallback}


class FHSEstimate(_FitEstimate[FHSFit]):
    """Result of :func:`fhs_fit`: the GARCH fit and the FHS VaR / ES at each level.

    Attributes
    ----------
    fit : FHSFit
    var, es : ndarray, shape (C,)
        Positive losses (historical simulation when ``fit.fallback`` is set).
    confidences : tuple of float
    """


#: why FHS used historical simulation on a window (see :func:`fhs_batch`)
FHS_FALLBACK_REASON = ("GARCH filter degenerate (no fitted parameters, or a conditional variance that is zero or "
                       "collapsed on a run of equal returns): historical VaR used")


def fhs_batch(windows: np.ndarray, params: np.ndarray, cs: np.ndarray,
              hist: tuple[np.ndarray, np.ndarray] | None = None,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """FHS VaR and ES per window with given GARCH parameters, historical where the filter is degenerate.

    Parameters
    ----------
    windows : ndarray, shape (T, W)
        Simple returns.
    params : ndarray, shape (T, 4)
        ``[mu, omega, alpha, beta]`` (percent scale) for each window; NaN rows mean "no fit available".
    cs : ndarray, shape (C,)
    hist : (var, es), optional
        Historical results for the same windows, used for the fallback (computed when needed).

    Returns
    -------
    var, es : ndarray, shape (T, C)
    sigma_next : ndarray, shape (T,)
        One-step-ahead volatility forecast (percent), NaN where the fallback was used.
    fallback : ndarray of bool, shape (T,)
        True where historical simulation replaced FHS (:data:`FHS_FALLBACK_REASON`).

    Notes
    -----
    See :func:`riskcore.var.garch.fhs_windows`. A window whose conditional variance is zero somewhere
    (e.g. a run of equal returns in a simulated path stuck at its price floor) has no standardised
    residuals; historical simulation is the decision there, as for EVT without enough exceedances.
    """
    windows = np.ascontiguousarray(windows, dtype=float)
    var, es, sig = fhs_windows(windows, params, cs)
    fallback = ~np.isfinite(var).all(axis=1)
    if fallback.any():
        hv, he = hist if hist is not None else historical_batch(windows, cs)
        var = np.where(fallback[:, None], hv, var)
        es = np.where(fallback[:, None], he, es)
    return var, es, sig, fallback


def method_batch(method: VaRMethod, windows: np.ndarray, cs: np.ndarray,
                 hist: tuple[np.ndarray, np.ndarray] | None = None, garch_params: np.ndarray | None = None,
                 ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """VaR and ES of one method for each window: the single dispatch used by the ensemble and the backtest.

    Parameters
    ----------
    method : VaRMethod
    windows : ndarray, shape (T, W)
    cs : ndarray, shape (C,)
    hist : (var, es), optional
        Historical results for the same windows (reused by EVT's and FHS's fallbacks).
    garch_params : ndarray, shape (T, 4)
        Required for :attr:`VaRMethod.FHS`: the GARCH parameters of each window.

    Returns
    -------
    var, es : ndarray, shape (T, C)
    info : dict of arrays
        EVT: see :func:`evt_batch`; FHS: ``sigma_next`` and ``fallback``; others: empty.
    """
    method = VaRMethod(method)
    if method is VaRMethod.HISTORICAL:
        v, e = hist if hist is not None else historical_batch(windows, cs)
        return v, e, {}
    if method is VaRMethod.PARAMETRIC:
        return (*parametric_batch(windows, cs), {})
    if method is VaRMethod.CORNISH_FISHER:
        return cornish_fisher_batch(windows, cs, hist=hist)
    if method is VaRMethod.EVT:
        return evt_batch(windows, cs, hist)
    if garch_params is None:
        raise InputError("garch_params", "FHS needs GARCH parameters for each window")
    v, e, sig, fb = fhs_batch(windows, garch_params, cs, hist)
    return v, e, {"sigma_next": sig, "fallback": fb}


def fhs_fit(returns: Any, confidences: Any = (0.95, 0.99, 0.997), params: GarchParams | None = None,
            garch: GarchEstimator | str = GarchEstimator.COMPILED) -> FHSEstimate:
    """Fit GARCH(1,1) (arch's estimator, percent returns) and return the FHS VaR and ES at each level.

    Parameters
    ----------
    returns : array-like, Series or PriceSeries
    confidences : float or sequence of float
    params : GarchParams, optional
        Use these parameters instead of fitting (filtering only).
    garch : GarchEstimator, default "compiled"
        Who fits (:class:`riskcore.var.garch.GarchEstimator`; the ensemble and the backtest use the same).

    Returns
    -------
    FHSEstimate
        ``fit`` (:class:`FHSFit`; ``fit.fallback`` names the reason when the filter was degenerate and
        historical simulation was used), ``var`` and ``es`` (shape (C,)) and ``confidences``; unpacks as
        ``fit, var, es``.

    Notes
    -----
    See :func:`riskcore.var.garch.fhs_windows`: the VaR uses the one-step-ahead forecast of mean and
    volatility (not the last in-sample volatility, SPEC §4.8) and the empirical quantile of the
    standardised residuals.
    """
    w, cs = _one(returns, confidences)
    if params is None:
        params = estimate_garch(w[0] * 100.0, garch)
    var, es, sig, fb = fhs_batch(w, params.as_array()[None, :], cs)
    fit = FHSFit(params=params, sigma_next=float(sig[0]), mean_next=params.mu,
                 fallback=FHS_FALLBACK_REASON if fb[0] else None)
    return FHSEstimate(fit, var[0], es[0], tuple(float(c) for c in cs))


def fhs_var(returns: Any, confidence: float) -> float:
    """Filtered-historical-simulation VaR with a GARCH(1,1) fitted by arch's estimator (see :func:`fhs_fit`)."""
    return float(fhs_fit(returns, confidence).var[0])


def fhs_es(returns: Any, confidence: float) -> float:
    """Filtered-historical-simulation ES: the one-step forecast applied to the tail mean of residuals."""
    return float(fhs_fit(returns, confidence).es[0])
