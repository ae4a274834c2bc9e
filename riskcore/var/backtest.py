"""Rolling one-step-ahead VaR/ES backtests of the five methods and their ensemble.

The forecast for day *t* uses only the ``window`` returns ``r[t-window], …, r[t-1]``; it is then
compared with ``r[t]`` (violation when ``r_t < -VaR_t``).

Speed
-----
A naive backtest refits every model every day. Here:

* historical, parametric and Cornish–Fisher are computed for all windows at once on a
  ``sliding_window_view`` (``np.quantile`` / moment sums along the window axis);
* EVT refits the GPD **every day** with a Numba profile-likelihood estimator
  (:func:`riskcore.var.measures.gpd_fit`, microseconds per window instead of milliseconds for
  ``scipy.stats.genpareto.fit``), so there is no stale tail fit;
* FHS re-estimates the GARCH(1,1) every ``refit_every`` days (default 21, about one month) and, in
  between, re-filters each day's window with the last parameters (Numba variance recursion, identical to
  ``arch``'s with fixed parameters), so the one-step volatility forecast and the standardised residuals
  are updated daily. Each refit solves arch's estimation problem from arch's starting values, by default
  with the compiled likelihood and analytic gradient of
  :func:`riskcore.var.garch.fit_garch_compiled` (about 1 ms instead of 10–30 ms for ``arch``'s own
  ``fit``, same optimum; ``garch="arch"`` uses ``arch`` itself). A fit depends on its window only — warm
  starts from the previous fit were measured no faster with ``arch`` and, on short windows where the
  likelihood is flat, land on other optima, making results depend on the path.

The ensemble column weighs the methods each day by :func:`riskcore.var.weights.expanding_weights`
(quantile loss and coverage gate of the days before it, SPEC §2), and
:class:`riskcore.var.EnsembleVaR` takes its weights from :func:`out_of_sample`, this module's engine, so
the backtest and the ensemble always see the same forecasts.

``bench/bench_var.py`` times this against the naive loop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from riskcore.errors import InputError
from riskcore.kinds import RunKind
from riskcore.validate import integer
from riskcore.var import measures as M
from riskcore.var.beyond_coverage import beyond_coverage_stats
from riskcore.var.garch import GarchEstimator, estimate_garch
from riskcore.var.measures import ENSEMBLE, VaRMethod
from riskcore.var.stats import coverage_stats
from riskcore.var.weights import WeightScheme, expanding_weights, method_weights, seed_score

__all__ = ["backtest", "BacktestResult", "rolling_var_es", "expanding_weights", "accuracy_score",
           "out_of_sample", "OutOfSample", "score_table", "DEFAULT_WINDOW", "DEFAULT_REFIT_EVERY", "RUN_KIND"]

#: the seed's score (kept under its old name)
accuracy_score = seed_score

#: default estimation window (trading days)
DEFAULT_WINDOW = 252
#: default GARCH re-estimation interval in the rolling backtest (trading days, about a month)
DEFAULT_REFIT_EVERY = 21
#: store run kind of a saved backtest
RUN_KIND = RunKind.VAR_BACKTEST

ProgressFn = Callable[[float, str], None]


# ---------------------------------------------------------------------------------------------------
# the rolling engine (shared with EnsembleVaR's out-of-sample weighting)
# ---------------------------------------------------------------------------------------------------
def _rolling_fhs(wins: np.ndarray, cs: np.ndarray, refit_every: int, progress: ProgressFn | None,
                 span: tuple[float, float], hist: tuple[np.ndarray, np.ndarray] | None,
                 garch: GarchEstimator = GarchEstimator.COMPILED,
                 ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    T = wins.shape[0]
    starts = list(range(0, T, refit_every))
    params = np.full((T, 4), np.nan)
    last, fits, not_conv, failed = None, [], 0, 0
    for i, k in enumerate(starts):
        try:
            if np.ptp(wins[k]) == 0.0:  # nothing to fit on a window of equal returns: keep the last fit
                raise ValueError("constant window")
            gp = estimate_garch(wins[k] * 100.0, garch)
            fits.append([k, gp.mu, gp.omega, gp.alpha, gp.beta, float(gp.converged)])
            if not gp.converged:
                # an optimiser that stopped early can leave parameters anywhere (omega ~ 0 with
                # alpha + beta ~ 1 on a window ending in a run of equal returns): the last converged fit
                # is kept instead, and with none yet the days fall back to historical (counted)
                not_conv += 1
            else:
                last = gp
            if last is not None:
                params[k:k + refit_every] = last.as_array()
        except Exception:  # noqa: BLE001 - an optimiser failure must not stop a backtest; it is counted
            failed += 1
            if last is not None:
                params[k:k + refit_every] = last.as_array()
        if progress is not None:
            progress(span[0] + (span[1] - span[0]) * (i + 1) / len(starts),
                     f"GARCH fit {i + 1} of {len(starts)}")
    # degenerate windows (no fit yet, or zero conditional variance) fall back to historical, counted
    var, es, fi = M.method_batch(VaRMethod.FHS, wins, cs, hist, garch_params=params)
    info = {"refits": len(starts), "refit_every": int(refit_every), "estimator": GarchEstimator(garch).value,
            "not_converged": int(not_conv),
            "failed": int(failed), "fits": fits, "no_params_days": int(np.isnan(params[:, 0]).sum()),
            "fallback_days": int(fi["fallback"].sum())}
    return var, es, info


def rolling_var_es(r: np.ndarray, window: int, methods: tuple[VaRMethod, ...], cs: np.ndarray,
                   refit_every: int = DEFAULT_REFIT_EVERY, progress: ProgressFn | None = None,
                   garch: GarchEstimator | str = GarchEstimator.COMPILED,
                   ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """One-step-ahead VaR and ES of every method for every day after the first ``window``.

    Parameters
    ----------
    r : ndarray, shape (n,)
        Validated returns.
    window : int
        Estimation window; forecast ``k`` (for return ``r[window + k]``) uses ``r[k : window + k]``.
    methods : tuple of VaRMethod
    cs : ndarray, shape (C,)
    refit_every : int
        GARCH re-estimation interval (FHS only; the other methods are re-estimated every day).
    progress : callable(fraction, message), optional
    garch : GarchEstimator
        Who fits the GARCH refits (FHS).

    Returns
    -------
    var, es : ndarray, shape (n - window, M, C)
    info : dict
        Per method: EVT and Cornish–Fisher fallback counts per level, EVT's daily shape ``xi``; FHS fit log.
    """
    n = r.size
    T = n - window
    wins = np.ascontiguousarray(sliding_window_view(r, window)[:T])
    C = cs.size
    var = np.empty((T, len(methods), C))
    es = np.empty_like(var)
    info: dict[str, Any] = {}
    hist = None
    garch = GarchEstimator(garch)
    if set(methods) & {VaRMethod.HISTORICAL, VaRMethod.EVT, VaRMethod.FHS, VaRMethod.CORNISH_FISHER}:
        hist = M.historical_batch(wins, cs)
    if progress is not None:
        progress(0.02, "historical, parametric, Cornish-Fisher")
    for j, m in enumerate(methods):
        if m is VaRMethod.FHS:
            v, e, info[m.value] = _rolling_fhs(wins, cs, refit_every, progress, (0.1, 0.98), hist, garch)
        else:
            if m is VaRMethod.EVT and progress is not None:
                progress(0.05, "EVT: daily GPD fits")
            v, e, ev = M.method_batch(m, wins, cs, hist)
            if m is VaRMethod.EVT:
                info[m.value] = {"fallback_days": {str(c): int(ev["fallback"][:, i].sum()) for i, c in enumerate(cs)},
                                 "xi": ev["xi"], "n_exceed": ev["n_exceed"]}
            elif m is VaRMethod.CORNISH_FISHER:
                info[m.value] = {"fallback_days": {str(c): int(ev["fallback"][:, i].sum())
                                                   for i, c in enumerate(cs)}}
        var[:, j, :], es[:, j, :] = v, e
    if progress is not None:
        progress(1.0, "done")
    return var, es, info


def _chunk_task(args: tuple[np.ndarray, int, tuple[str, ...], np.ndarray, int, str]
                ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """One Dask task: the rolling engine on a slice (module level, so workers can import it)."""
    r, window, methods, cs, refit_every, garch = args
    return rolling_var_es(r, window, tuple(VaRMethod(m) for m in methods), cs, refit_every, garch=garch)


def _merge_info(parts: list[dict[str, Any]], offsets: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cf = [p["cornish_fisher"] for p in parts if "cornish_fisher" in p]
    if cf:
        out["cornish_fisher"] = {"fallback_days": {c: sum(e["fallback_days"][c] for e in cf)
                                                   for c in cf[0]["fallback_days"]}}
    evt = [p["evt"] for p in parts if "evt" in p]
    if evt:
        out["evt"] = {"fallback_days": {c: sum(e["fallback_days"][c] for e in evt) for c in evt[0]["fallback_days"]},
                      "xi": np.concatenate([e["xi"] for e in evt]),
                      "n_exceed": np.concatenate([e["n_exceed"] for e in evt])}
    fhs = [(p["fhs"], o) for p, o in zip(parts, offsets, strict=True) if "fhs" in p]
    if fhs:
        out["fhs"] = {"refits": sum(f["refits"] for f, _ in fhs), "refit_every": fhs[0][0]["refit_every"],
                      "estimator": fhs[0][0]["estimator"],
                      **{k: sum(f[k] for f, _ in fhs) for k in ("not_converged", "failed", "no_params_days",
                                                                 "fallback_days")},
                      "fits": [[f0[0] + o, *f0[1:]] for f, o in fhs for f0 in f["fits"]]}
    return out


def _rolling_dask(r: np.ndarray, window: int, methods: tuple[VaRMethod, ...], cs: np.ndarray, refit_every: int,
                  client: Any, chunk_days: int | None, progress: ProgressFn | None,
                  garch: GarchEstimator = GarchEstimator.COMPILED,
                  ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    from riskcore.distributed import get_client, map_chunks

    T = r.size - window
    size = chunk_days or refit_every * max(1, math.ceil(500 / refit_every))
    size = refit_every * max(1, math.ceil(size / refit_every))  # chunks start on refit days
    offsets = list(range(0, T, size))
    items = [(r[k:min(k + size, T) + window], window, tuple(m.value for m in methods), cs, refit_every,
              GarchEstimator(garch).value) for k in offsets]
    parts = map_chunks(_chunk_task, items, client=client or get_client(),
                       progress=None if progress is None else (lambda f: progress(f, "Dask chunks")))
    var = np.concatenate([p[0] for p in parts])
    es = np.concatenate([p[1] for p in parts])
    info = _merge_info([p[2] for p in parts], offsets)
    info["dask_chunks"] = len(parts)
    return var, es, info


@dataclass(frozen=True)
class OutOfSample:
    """Rolling one-step-ahead forecasts of several methods and the ensemble weights they give.

    Attributes
    ----------
    realized : ndarray, shape (T,)
        Returns of the forecast days.
    var, es : ndarray, shape (T, M, C)
    violations : ndarray of bool, shape (T, M, C)
    weights : ndarray, shape (M, C)
        :func:`riskcore.var.weights.method_weights` over all T days (what the ensemble uses tomorrow).
    daily_weights : ndarray, shape (T, M, C)
        :func:`riskcore.var.weights.expanding_weights`: day k's weights from days 0 … k-1.
    scores : dict of (M, C) arrays
        Pinball loss, conditional-coverage p-value, gate, seed score (see ``method_weights``).
    info : dict
        The rolling engine's fit log (:func:`rolling_var_es`).
    """

    realized: np.ndarray
    var: np.ndarray
    es: np.ndarray
    violations: np.ndarray
    weights: np.ndarray
    daily_weights: np.ndarray
    scores: dict[str, np.ndarray]
    info: dict[str, Any]

    @property
    def ensemble_var(self) -> np.ndarray:
        """The ensemble's daily VaR with the expanding weights, shape (T, C)."""
        return (self.daily_weights * self.var).sum(axis=1)

    @property
    def ensemble_es(self) -> np.ndarray:
        return (self.daily_weights * self.es).sum(axis=1)


def out_of_sample(r: np.ndarray, window: int, methods: tuple[VaRMethod, ...], cs: np.ndarray,
                  refit_every: int = DEFAULT_REFIT_EVERY, weights: WeightScheme | str = WeightScheme.QUANTILE_LOSS,
                  garch: GarchEstimator | str = GarchEstimator.COMPILED, progress: ProgressFn | None = None,
                  forecasts: tuple[np.ndarray, np.ndarray, dict[str, Any]] | None = None) -> OutOfSample:
    """The rolling backtest's forecasts and the ensemble weights they give (shared by backtest and ensemble).

    Parameters
    ----------
    r : ndarray, shape (n,)
        Validated returns.
    window, methods, cs, refit_every, garch, progress
        As in :func:`rolling_var_es`.
    weights : WeightScheme
        How the forecasts become weights (:mod:`riskcore.var.weights`).
    forecasts : (var, es, info), optional
        Forecasts already computed by :func:`rolling_var_es` (or its Dask split) with these settings.

    Returns
    -------
    OutOfSample
    """
    var, es, info = forecasts if forecasts is not None else rolling_var_es(r, window, methods, cs, refit_every,
                                                                          progress, garch)
    realized = r[window:]
    w, scores = method_weights(realized, var, cs, weights)
    return OutOfSample(realized=realized, var=var, es=es, violations=realized[:, None, None] < -var, weights=w,
                       daily_weights=expanding_weights(realized, var, cs, weights), scores=scores, info=info)


# ---------------------------------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------------------------------
def _columns(labels: list[str], cs: np.ndarray) -> pd.MultiIndex:
    return pd.MultiIndex.from_tuples([(m, float(c)) for m in labels for c in cs], names=["method", "confidence"])


@dataclass(frozen=True)
class BacktestResult:
    """A rolling one-step-ahead VaR backtest.

    Attributes
    ----------
    returns : pandas.Series
        All input returns (simple, as fractions).
    forecasts : pandas.DataFrame
        VaR (positive loss) for each forecast day (index: the day forecast, ``returns.index[window:]``);
        columns ``(method, confidence)``, methods as their string values plus ``"ensemble"``.
    es_forecasts : pandas.DataFrame
        Expected Shortfall, same shape.
    violations : pandas.DataFrame
        ``r_t < -VaR_t``, booleans, same shape.
    weights : pandas.DataFrame or None
        The ensemble's weights on each day, columns ``(method, confidence)`` of the individual methods.
    methods : tuple of VaRMethod
    confidences : tuple of float
    window, refit_every : int
    info : dict
        EVT fallback days per level, FHS fit log (refits, non-converged, failed), timing.
    """

    returns: pd.Series
    forecasts: pd.DataFrame
    es_forecasts: pd.DataFrame
    violations: pd.DataFrame
    weights: pd.DataFrame | None
    methods: tuple[VaRMethod, ...]
    confidences: tuple[float, ...]
    window: int
    refit_every: int
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def realized(self) -> pd.Series:
        """The returns of the forecast days."""
        return self.returns.iloc[self.window:]

    @property
    def labels(self) -> list[str]:
        """Method labels of the columns (the five methods used, then ``"ensemble"`` if present)."""
        return list(dict.fromkeys(self.forecasts.columns.get_level_values(0)))

    def summary(self) -> pd.DataFrame:
        """Per method and level: violations against expected, Kupiec, Christoffersen, traffic light, means.

        Columns: ``n, violations, expected, rate, expected_rate, kupiec_lr, kupiec_p, ind_lr, ind_p,
        cc_lr, cc_p, tl_days, tl_exceptions, traffic_light, mean_var, mean_es``. The traffic light grades
        the last 250 days (Basel's table at 99 %, the same cumulative-probability rule at other levels,
        see :func:`riskcore.var.stats.traffic_light_zone`).
        """
        rows = []
        for col in self.forecasts.columns:
            st = coverage_stats(self.violations[col].to_numpy(), 1.0 - col[1])
            st["traffic_light"] = st["traffic_light"].value
            st["mean_var"] = float(self.forecasts[col].mean())
            st["mean_es"] = float(self.es_forecasts[col].mean())
            # duration, DQ, Z2, McNeil-Frey columns (riskcore.var.beyond_coverage.BEYOND_COLUMNS)
            st.update(beyond_coverage_stats(self.realized.to_numpy(float), self.forecasts[col].to_numpy(float),
                                            self.es_forecasts[col].to_numpy(float), 1.0 - col[1]))
            rows.append(st)
        return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(list(self.forecasts.columns),
                                                                  names=["method", "confidence"]))

    def method_weights(self, scheme: WeightScheme | str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Ensemble weights after the last forecast day and the scores behind them.

        What :class:`riskcore.var.EnsembleVaR` uses for tomorrow on the same returns and settings: the
        rule of :func:`riskcore.var.weights.method_weights` over all forecast days.

        Returns
        -------
        weights : DataFrame
            Rows the methods, columns the levels; each column sums to 1.
        scores : DataFrame
            Rows ``(method, confidence)``: ``pinball_loss``, ``cc_p``, ``gated``, ``seed_score``, ``weight``.
        """
        scheme = WeightScheme(scheme or self.info.get("weights", WeightScheme.QUANTILE_LOSS))
        labels = [m.value for m in self.methods]
        cs = np.asarray(self.confidences)
        var = np.stack([self.forecasts[[(m, c) for c in self.confidences]].to_numpy() for m in labels], axis=1)
        w, sc = method_weights(self.realized.to_numpy(dtype=float), var, cs, scheme)
        return (pd.DataFrame(w, index=labels, columns=list(self.confidences)),
                score_table(w, sc, labels, self.confidences))

    def to_dict(self) -> dict[str, Any]:
        """Plain description (JSON-able apart from the DataFrames, which the store encodes)."""
        return {"methods": [m.value for m in self.methods], "confidences": list(self.confidences),
                "window": self.window, "refit_every": self.refit_every, "n_returns": int(self.returns.size),
                "n_forecasts": int(len(self.forecasts)), "info": _jsonable_info(self.info),
                "summary": self.summary()}

    # -- persistence -----------------------------------------------------------------------------
    def save(self, store: Any, name: str | None = None) -> str:
        """Save in the store as a run of kind ``"var_backtest"``; returns the run id.

        The summary table is the run's summary; returns, index, VaR, ES and weights are arrays, so
        :meth:`load` rebuilds an identical result.
        """
        idx = self.returns.index
        is_dt = isinstance(idx, pd.DatetimeIndex)
        arrays = {
            "returns": self.returns.to_numpy(dtype=float),
            "index": (idx.asi8 if is_dt else np.asarray(idx, dtype=np.int64)),
            "var": self.forecasts.to_numpy(dtype=float),
            "es": self.es_forecasts.to_numpy(dtype=float),
        }
        if self.weights is not None:
            arrays["weights"] = self.weights.to_numpy(dtype=float)
        params = {"methods": [m.value for m in self.methods], "confidences": list(self.confidences),
                  "window": self.window, "refit_every": self.refit_every}
        extra = {"labels": self.labels, "index_kind": "datetime" if is_dt else "range",
                 "index_unit": idx.unit if is_dt else None, "index_tz": str(idx.tz) if is_dt and idx.tz else None,
                 "index_name": None if idx.name is None else str(idx.name),
                 "returns_name": None if self.returns.name is None else str(self.returns.name),
                 "info": _jsonable_info(self.info)}
        return store.save_run(RUN_KIND, params, None, self.summary(), name=name, arrays=arrays, **extra)

    @classmethod
    def load(cls, store: Any, run_id: str) -> BacktestResult:
        """Rebuild a saved backtest (see :meth:`save`)."""
        rec = store.load_run(run_id, kind=RUN_KIND)
        p, ex, a = rec.params, rec.extra, rec.arrays
        cs = np.asarray(p["confidences"], dtype=float)
        methods = tuple(VaRMethod(m) for m in p["methods"])
        if ex.get("index_kind") == "datetime":
            index = pd.DatetimeIndex(a["index"].astype(f"datetime64[{ex.get('index_unit') or 'ns'}]"),
                                     name=ex.get("index_name"))
            if ex.get("index_tz"):
                index = index.tz_localize("UTC").tz_convert(ex["index_tz"])
        else:
            index = pd.Index(a["index"], name=ex.get("index_name"))
            if index.size and np.array_equal(a["index"], np.arange(index[0], index[0] + index.size)):
                index = pd.RangeIndex(index[0], index[0] + index.size, name=index.name)
        returns = pd.Series(a["returns"], index=index, name=ex.get("returns_name"))
        fidx = index[int(p["window"]):]
        cols = _columns(list(ex["labels"]), cs)
        weights = (pd.DataFrame(a["weights"], index=fidx, columns=_columns([m.value for m in methods], cs))
                   if "weights" in a else None)
        fc = pd.DataFrame(a["var"], index=fidx, columns=cols)
        return cls(returns=returns, forecasts=fc, es_forecasts=pd.DataFrame(a["es"], index=fidx, columns=cols),
                   violations=_violations(returns.iloc[int(p["window"]):], fc), weights=weights,
                   methods=methods, confidences=tuple(float(c) for c in cs), window=int(p["window"]),
                   refit_every=int(p["refit_every"]), info=dict(ex.get("info") or {}))


def score_table(w: np.ndarray, scores: dict[str, np.ndarray], labels: list[str], cs: Any) -> pd.DataFrame:
    """Scores and weights per ``(method, confidence)`` as a table (VaR Lab, reports)."""
    rows, idx = [], []
    for i, m in enumerate(labels):
        for j, c in enumerate(cs):
            rows.append({"pinball_loss": float(scores["pinball_loss"][i, j]), "cc_p": float(scores["cc_p"][i, j]),
                         "gated": bool(scores["gated"][i, j]), "seed_score": float(scores["seed_score"][i, j]),
                         "weight": float(w[i, j])})
            idx.append((m, float(c)))
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(idx, names=["method", "confidence"]))


def _jsonable_info(info: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in info.items():
        if isinstance(v, dict):
            out[k] = _jsonable_info(v)
        elif isinstance(v, np.ndarray):
            continue  # daily arrays (EVT xi) are not part of the stored description
        else:
            out[k] = v
    return out


def _violations(realized: pd.Series, forecasts: pd.DataFrame) -> pd.DataFrame:
    r = realized.to_numpy()[:, None]
    return pd.DataFrame(r < -forecasts.to_numpy(), index=forecasts.index, columns=forecasts.columns)


# ---------------------------------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------------------------------
def _parse_enum(kind: type, value: Any, field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise InputError(field, f"must be one of {', '.join(str(k) for k in kind)}", value=value) from None


def backtest(returns: Any, methods: Any = None, confidences: Any = (0.95, 0.99, 0.997),
             window: int = DEFAULT_WINDOW, refit_every: int = DEFAULT_REFIT_EVERY,
             progress: ProgressFn | None = None, ensemble: bool = True, distributed: bool = False,
             client: Any = None, chunk_days: int | None = None,
             weights: WeightScheme | str = WeightScheme.QUANTILE_LOSS,
             garch: GarchEstimator | str = GarchEstimator.COMPILED) -> BacktestResult:
    """Rolling one-step-ahead backtest of VaR and ES forecasts.

    Parameters
    ----------
    returns : Series, array-like or PriceSeries
        Simple returns (a ``DatetimeIndex`` gives dated forecasts), or prices via a PriceSeries /
        a DataFrame with a ``price`` column (see :func:`riskcore.var.measures.as_returns`).
    methods : sequence of VaRMethod or str, optional
        Default: all five.
    confidences : sequence of float
        Levels in (0, 1).
    window : int, default 252
        Each forecast uses the previous ``window`` returns only; at least 30 and at most ``n - 1``.
    refit_every : int, default 21
        Days between GARCH re-estimations for FHS (filtering is daily in between).
    progress : callable(fraction, message), optional
        Called as the work advances (for a progress bar).
    ensemble : bool, default True
        Add an ``"ensemble"`` column: the methods weighted each day by :func:`expanding_weights`, i.e.
        by their out-of-sample accuracy on the forecast days before it (``weights``).
    distributed : bool, default False
        Split the forecast days into chunks run as Dask tasks (:mod:`riskcore.distributed`: the scheduler
        at ``$RISKCORE_DASK_SCHEDULER`` or a local cluster) — for very long series or many series on a
        cluster. Chunks start on GARCH refit days and every fit depends on its window only, so the
        result is identical to the serial one.
    client : distributed.Client, optional
        Client to use when ``distributed`` (default :func:`riskcore.distributed.get_client`).
    chunk_days : int, optional
        Forecast days per task (rounded up to a multiple of ``refit_every``; default about 500).
    weights : WeightScheme, default "quantile_loss"
        Ensemble weighting (SPEC §2: inverse mean pinball loss with the conditional-coverage gate; or the
        seed's ``"seed_score"``).
    garch : GarchEstimator, default "compiled"
        Who fits the GARCH refits (:class:`riskcore.var.garch.GarchEstimator`).

    Returns
    -------
    BacktestResult

    Examples
    --------
    >>> from arch.data import sp500                                         # doctest: +SKIP
    >>> r = sp500.load()["Adj Close"].pct_change().dropna()                 # doctest: +SKIP
    >>> res = backtest(r)                                                   # doctest: +SKIP
    >>> res.summary().loc[("evt", 0.99), ["violations", "expected", "kupiec_p"]]  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    series = M.as_returns(returns)
    r = series.to_numpy(dtype=float)
    meths = M.parse_methods(methods)
    cs = M.validate_confidences(confidences, "confidences")
    window = integer("window", window, M.MIN_RETURNS, r.size - 1)
    refit_every = integer("refit_every", refit_every, 1)
    scheme = _parse_enum(WeightScheme, weights, "weights")
    garch = _parse_enum(GarchEstimator, garch, "garch")
    if distributed:
        if chunk_days is not None:
            chunk_days = integer("chunk_days", chunk_days, 1)
        var, es, info = _rolling_dask(r, window, meths, cs, refit_every, client, chunk_days, progress, garch)
    else:
        var, es, info = rolling_var_es(r, window, meths, cs, refit_every, progress, garch)
    info["weights"] = scheme.value
    labels = [m.value for m in meths]
    weights = None
    if ensemble and len(meths) > 1:
        w = out_of_sample(r, window, meths, cs, refit_every, scheme, garch, forecasts=(var, es, info)).daily_weights
        ev, ee = (w * var).sum(axis=1), (w * es).sum(axis=1)
        var = np.concatenate([var, ev[:, None, :]], axis=1)
        es = np.concatenate([es, ee[:, None, :]], axis=1)
        weights = w.reshape(w.shape[0], -1)
        labels.append(ENSEMBLE)
    T = var.shape[0]
    fidx = series.index[window:]
    cols = _columns(labels, cs)
    fc = pd.DataFrame(var.reshape(T, -1), index=fidx, columns=cols)
    info["elapsed_s"] = time.perf_counter() - t0
    return BacktestResult(
        returns=series, forecasts=fc, es_forecasts=pd.DataFrame(es.reshape(T, -1), index=fidx, columns=cols),
        violations=_violations(series.iloc[window:], fc),
        weights=None if weights is None else pd.DataFrame(weights, index=fidx, columns=_columns(labels[:len(meths)],
                                                                                             cs)),
        methods=meths, confidences=tuple(float(c) for c in cs), window=window, refit_every=refit_every, info=info)
