"""Ensemble VaR: the five methods weighted by their out-of-sample backtest accuracy.

Replaces the seed's ``AdaptiveVaRModel`` (whose weights were in-sample and whose ensemble used an
undefined variable, SPEC §4.5). The out-of-sample forecasts are the rolling backtest's own
(:func:`riskcore.var.backtest.out_of_sample`, same window and GARCH refit schedule), and the weights are
SPEC §2's quantile-loss weights with the coverage gate (:mod:`riskcore.var.weights`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.kinds import RunKind
from riskcore.var import measures as M
from riskcore.var.backtest import DEFAULT_REFIT_EVERY, DEFAULT_WINDOW, _parse_enum, out_of_sample, score_table
from riskcore.var.garch import GarchEstimator, fit_garch, fit_garch_compiled
from riskcore.var.measures import ENSEMBLE, VaRMethod
from riskcore.var.stats import coverage_stats
from riskcore.var.weights import WeightScheme

__all__ = ["EnsembleVaR", "VaRReport", "OutOfSampleScheme", "RUN_KIND"]

#: store run kind of a saved ensemble report
RUN_KIND = RunKind.VAR_ENSEMBLE


@dataclass(frozen=True)
class OutOfSampleScheme:
    """How :meth:`EnsembleVaR.fit` evaluated the methods out of sample (``VaRReport.info["oos"]`` as fields).

    Attributes
    ----------
    window : int
        Returns in each rolling estimation window.
    n_days : int
        One-step forecasts evaluated (0: equal weights).
    garch_refit_every : int
        Days between GARCH refits in the rolling backtest.
    note : str or None
        Set when there was no out-of-sample day.
    """

    window: int
    n_days: int
    garch_refit_every: int
    note: str | None = None

    @classmethod
    def from_info(cls, oos: dict[str, Any]) -> OutOfSampleScheme:
        """From the report's ``info["oos"]`` dict (also that of reports saved before this class existed)."""
        return cls(window=int(oos["window"]), n_days=int(oos["n_days"]),
                   garch_refit_every=int(oos["garch_refit_every"]), note=oos.get("note"))

    def to_dict(self) -> dict[str, Any]:
        """The scheme as plain data (``note`` only when set, as in ``info["oos"]``)."""
        d: dict[str, Any] = {"window": self.window, "n_days": self.n_days, "garch_refit_every": self.garch_refit_every}
        if self.note is not None:
            d["note"] = self.note
        return d


@dataclass(frozen=True)
class VaRReport:
    """Result of :meth:`EnsembleVaR.fit`.

    Attributes
    ----------
    var, es : pandas.DataFrame
        Rows: the methods' string values, then ``"ensemble"``; columns: confidence levels. Positive losses
        (fractions of value) from the whole sample.
    weights : pandas.DataFrame
        Ensemble weights, rows methods, columns levels; each column sums to 1.
    scores : pandas.DataFrame
        What the weights come from, rows ``(method, confidence)``: out-of-sample mean pinball loss,
        conditional-coverage p-value, ``gated`` (weight set to 0 by the coverage gate), the seed's score and
        the weight (see :func:`riskcore.var.weights.method_weights`); empty without out-of-sample days.
    diagnostics : pandas.DataFrame
        Out-of-sample backtest of each method and of the ensemble, rows ``(method, confidence)``:
        violations, expected, rate, Kupiec, Christoffersen, traffic light, score.
    info : dict
        Per method: EVT fit and fallback reasons, FHS GARCH parameters and one-step forecast; and the
        out-of-sample scheme (``oos``).
    n_obs : int
    """

    var: pd.DataFrame
    es: pd.DataFrame
    weights: pd.DataFrame
    diagnostics: pd.DataFrame
    methods: tuple[VaRMethod, ...]
    confidences: tuple[float, ...]
    n_obs: int
    info: dict[str, Any] = field(default_factory=dict)
    scores: pd.DataFrame = field(default_factory=pd.DataFrame)

    def ensemble_var(self, confidence: float) -> float:
        """Ensemble VaR at one level."""
        return float(self.var.loc[ENSEMBLE, float(confidence)])

    def ensemble_es(self, confidence: float) -> float:
        """Ensemble ES at one level."""
        return float(self.es.loc[ENSEMBLE, float(confidence)])

    def by_method(self, table: str, methods: Sequence[str], confidences: Sequence[float],
                  fill: float = float("nan")) -> np.ndarray:
        """One of the tables as an array, rows ``methods``, columns ``confidences`` (typed access).

        Parameters
        ----------
        table : {"var", "es", "weights"}
        methods : sequence of str
            Method names (:class:`VaRMethod` values, or ``"ensemble"`` for VaR and ES).
        confidences : sequence of float
            Levels, as given to :class:`EnsembleVaR` (the tables' columns).
        fill : float, default NaN
            Value of a method or level the report does not have, or a non-finite entry.

        Returns
        -------
        numpy.ndarray, shape (len(methods), len(confidences))
        """
        if table not in ("var", "es", "weights"):
            raise InputError("table", "must be one of var, es, weights", value=table)
        frame: pd.DataFrame = getattr(self, table)
        rows = {str(m): i for i, m in enumerate(frame.index)}
        cols = {float(c): j for j, c in enumerate(frame.columns)}
        values = frame.to_numpy(dtype=float)
        out = np.full((len(methods), len(confidences)), fill, dtype=float)
        for j, c in enumerate(confidences):
            jc = cols.get(float(c))
            if jc is None:
                continue
            for i, m in enumerate(methods):
                im = rows.get(str(m))
                if im is not None and np.isfinite(values[im, jc]):
                    out[i, j] = values[im, jc]
        return out

    @property
    def evt_fallback(self) -> dict[str, str]:
        """``{confidence: reason}`` where EVT fell back to historical simulation (empty when none)."""
        return dict((self.info.get(VaRMethod.EVT.value) or {}).get("fallback") or {})

    @property
    def fhs_fallback(self) -> str | None:
        """Why FHS fell back to historical simulation on the whole sample (None when it did not)."""
        return (self.info.get(VaRMethod.FHS.value) or {}).get("fallback")

    @property
    def cornish_fisher_fallback(self) -> dict[str, str]:
        """``{confidence: reason}`` where Cornish–Fisher fell back to historical simulation (empty when none)."""
        return dict((self.info.get(VaRMethod.CORNISH_FISHER.value) or {}).get("fallback") or {})

    @property
    def out_of_sample(self) -> OutOfSampleScheme:
        """The out-of-sample scheme behind the weights, as typed fields."""
        return OutOfSampleScheme.from_info(self.info["oos"])

    @property
    def weight_scheme(self) -> WeightScheme:
        return WeightScheme(self.info.get("weights", WeightScheme.QUANTILE_LOSS))

    def fallbacks(self) -> list[str]:
        """Every fallback to historical simulation in the full-sample estimates, as sentences for a page."""
        out = [f"Cornish-Fisher at {c}: {why}" for c, why in self.cornish_fisher_fallback.items()]
        out += [f"EVT at {c}: {why}" for c, why in self.evt_fallback.items()]
        if self.fhs_fallback:
            out.append(f"FHS: {self.fhs_fallback}")
        return out

    def summary(self) -> pd.DataFrame:
        """One row per ``(method, confidence)``: VaR, ES, weight and the out-of-sample diagnostics."""
        rows = []
        for m in [*(x.value for x in self.methods), ENSEMBLE]:
            for c in self.confidences:
                d = self.diagnostics.loc[(m, c)] if (m, c) in self.diagnostics.index else None
                rows.append({
                    "method": m, "confidence": c, "var": float(self.var.loc[m, c]), "es": float(self.es.loc[m, c]),
                    "weight": float(self.weights.loc[m, c]) if m != ENSEMBLE else 1.0,
                    "oos_violations": np.nan if d is None else d["violations"],
                    "oos_expected": np.nan if d is None else d["expected"],
                    "oos_rate": np.nan if d is None else d["rate"],
                    "kupiec_p": np.nan if d is None else d["kupiec_p"],
                    "pinball_loss": np.nan if d is None else d.get("pinball_loss", np.nan),
                    "christoffersen_cc_p": np.nan if d is None else d["cc_p"],
                    "traffic_light": None if d is None else d["traffic_light"],
                })
        return pd.DataFrame(rows).set_index(["method", "confidence"])

    def to_dict(self) -> dict[str, Any]:
        """Everything, as plain data and DataFrames (the store encodes both losslessly)."""
        return {"var": self.var, "es": self.es, "weights": self.weights, "diagnostics": self.diagnostics,
                "methods": [m.value for m in self.methods], "confidences": list(self.confidences),
                "n_obs": self.n_obs, "info": self.info, "scores": self.scores}

    def save(self, store: Any, name: str | None = None, arrays: dict[str, np.ndarray] | None = None) -> str:
        """Save as a run of kind ``"var_ensemble"`` (summary table + full report); returns the run id."""
        d = self.to_dict()
        return store.save_run(RUN_KIND, {"methods": d["methods"], "confidences": d["confidences"]}, None,
                               self.summary(), name=name, arrays=arrays, report=d)

    @classmethod
    def load(cls, store: Any, run_id: str) -> VaRReport:
        """Rebuild a report saved with :meth:`save`."""
        rec = store.load_run(run_id, kind=RUN_KIND)
        d = rec.extra["report"]

        def fix(df: pd.DataFrame) -> pd.DataFrame:
            df = df.copy()
            df.columns = [float(c) for c in df.columns]
            return df

        diag = d["diagnostics"]
        scores = d.get("scores")
        return cls(var=fix(d["var"]), es=fix(d["es"]), weights=fix(d["weights"]), diagnostics=diag,
                   methods=tuple(VaRMethod(m) for m in d["methods"]),
                   confidences=tuple(float(c) for c in d["confidences"]), n_obs=int(d["n_obs"]), info=d["info"],
                   scores=scores if isinstance(scores, pd.DataFrame) else pd.DataFrame())


class EnsembleVaR:
    """Ensemble of the five VaR methods, weighted by out-of-sample backtest accuracy.

    Parameters
    ----------
    confidences : sequence of float, default (0.95, 0.99, 0.997)
    methods : sequence of VaRMethod or str, optional
        Default: all five.
    oos_window : int, optional
        Estimation window of the in-fit out-of-sample backtest. Default ``min(252, max(30, n // 2))``.
    refit_every : int, default 21
        GARCH re-estimation interval (>= 1) in that backtest: the rolling backtest's default
        (:data:`riskcore.var.DEFAULT_REFIT_EVERY`), so that both give the same forecasts.
    weights : WeightScheme or str, default "quantile_loss"
        SPEC §2's inverse pinball loss with the conditional-coverage gate, or the seed's ``"seed_score"``.
    garch : GarchEstimator or str, default "compiled"
        Who fits GARCH(1,1) (:class:`riskcore.var.garch.GarchEstimator`): the rolling refits and the
        full-sample fit behind tomorrow's FHS VaR.

    Notes
    -----
    **Out-of-sample scheme.** ``fit(returns)`` with ``n`` returns runs the rolling one-step-ahead
    backtest of :func:`riskcore.var.backtest.backtest` *inside* the sample — the same engine,
    :func:`riskcore.var.backtest.out_of_sample`, with the same window and GARCH refit schedule, so
    ``backtest(returns, window=W, refit_every=R)`` shows exactly the forecasts and violations behind the
    weights: each of the last ``n - oos_window`` days is forecast from the ``oos_window`` days before it
    only. Weights per level (SPEC §2, :func:`riskcore.var.weights.method_weights`):

    .. math:: w_m \\propto 1 / L_m, \\qquad
              L_m = \\frac{1}{T}\\sum_t ((1-c) - 1\\{r_t < -\\mathrm{VaR}_{m,t}\\})(r_t + \\mathrm{VaR}_{m,t}),

    the mean quantile (pinball) loss, with weight 0 for a method whose Christoffersen conditional-coverage
    test rejects at 5 % unless every method is rejected. ``weights="seed_score"`` uses the seed's
    :math:`1/(1 + |x - np|/n)` instead, which stays near-equal on long samples whatever the violations.
    With no out-of-sample day (``n`` = 30) the weights are equal, and ``info["oos"]`` says so.

    The reported VaR and ES of each method are then estimated on the **whole** sample (the most
    information for tomorrow's forecast); the ensemble VaR/ES is the weighted sum, so it lies between
    its members. ``diagnostics`` gives each method's out-of-sample violations, Kupiec and Christoffersen
    tests, and those of the ensemble itself (weights re-estimated each day from the days before it).

    **Speed.** On 1,000 returns the backtest refits GARCH 36 times; with ``garch="compiled"`` each refit
    costs about 1 ms (``bench/bench_var.py``), with ``"arch"`` 10–30 ms.
    """

    def __init__(self, confidences: Any = (0.95, 0.99, 0.997), methods: Any = None,
                 oos_window: int | None = None, refit_every: int | None = None,
                 weights: WeightScheme | str = WeightScheme.QUANTILE_LOSS,
                 garch: GarchEstimator | str = GarchEstimator.COMPILED):
        self.confidences = M.validate_confidences(confidences, "confidences")
        self.methods = M.parse_methods(methods)
        for name, value in (("oos_window", oos_window), ("refit_every", refit_every)):
            lo = M.MIN_RETURNS if name == "oos_window" else 1
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                                      or value < lo):
                raise InputError(name, f"must be None (automatic) or an integer >= {lo}", value=value)
        self.oos_window = None if oos_window is None else int(oos_window)
        self.refit_every = DEFAULT_REFIT_EVERY if refit_every is None else int(refit_every)
        self.weights = _parse_enum(WeightScheme, weights, "weights")
        self.garch = _parse_enum(GarchEstimator, garch, "garch")

    def _full_sample_garch(self, r: np.ndarray) -> tuple[Any, np.ndarray, str | None]:
        """GARCH fit on the whole sample; an optimiser failure gives NaN parameters (historical fallback)."""
        try:
            fit = fit_garch(r * 100.0) if self.garch is GarchEstimator.ARCH else fit_garch_compiled(r * 100.0)
            return fit, fit.as_array()[None, :], None
        except Exception as exc:  # noqa: BLE001 - an optimiser failure falls back to historical, reported
            return None, np.full((1, 4), np.nan), f"GARCH fit failed ({type(exc).__name__}: {exc})"

    def fit(self, returns: Any) -> VaRReport:
        """Estimate every method and the ensemble on ``returns`` (see the class Notes).

        Parameters
        ----------
        returns : Series, array-like or PriceSeries
            At least 30 finite, non-constant simple returns.

        Returns
        -------
        VaRReport
        """
        t0 = time.perf_counter()
        r = M.as_returns(returns).to_numpy(dtype=float)
        n, cs, meths = r.size, self.confidences, self.methods
        W = self.oos_window if self.oos_window is not None else min(DEFAULT_WINDOW, max(M.MIN_RETURNS, n // 2))
        if isinstance(W, bool) or not isinstance(W, (int, np.integer)) or not (M.MIN_RETURNS <= W <= n):
            raise InputError("oos_window", f"must be an integer in {M.MIN_RETURNS}..{n}", value=W)
        n_oos = n - W
        labels = [m.value for m in meths]
        info: dict[str, Any] = {"oos": {"window": int(W), "n_days": int(n_oos),
                                        "garch_refit_every": int(self.refit_every)},
                                "weights": self.weights.value, "garch": self.garch.value}

        # 1. the rolling backtest's out-of-sample forecasts inside the sample -> weights and diagnostics
        diag_rows, diag_index = [], []
        scores = pd.DataFrame()
        if n_oos > 0:
            oos = out_of_sample(r, W, meths, cs, self.refit_every, self.weights, self.garch)
            w = oos.weights
            scores = score_table(w, oos.scores, labels, cs)
            ens_viol = oos.realized[:, None] < -oos.ensemble_var
            if VaRMethod.FHS in meths:
                info["oos"]["garch_fits"] = oos.info[VaRMethod.FHS.value]["fits"]
            for j, lab in enumerate([*labels, ENSEMBLE]):
                for k, c in enumerate(cs):
                    v = oos.violations[:, j, k] if lab != ENSEMBLE else ens_viol[:, k]
                    st = coverage_stats(v, 1.0 - c)
                    st["traffic_light"] = st["traffic_light"].value
                    st["pinball_loss"] = float(oos.scores["pinball_loss"][j, k]) if lab != ENSEMBLE else np.nan
                    st["score"] = float(oos.scores["seed_score"][j, k]) if lab != ENSEMBLE else np.nan
                    diag_rows.append(st)
                    diag_index.append((lab, float(c)))
        else:
            w = np.full((len(meths), cs.size), 1.0 / len(meths))
            info["oos"]["note"] = "no out-of-sample days: equal weights"
        diagnostics = pd.DataFrame()
        if diag_rows:
            diagnostics = pd.DataFrame(diag_rows, index=pd.MultiIndex.from_tuples(diag_index,
                                                                                  names=["method", "confidence"]))

        # 2. every method on the whole sample
        full = r[None, :]
        var = np.empty((len(meths), cs.size))
        es = np.empty_like(var)
        hist = M.historical_batch(full, cs)
        for j, m in enumerate(meths):
            gp, gparams, failed = None, None, None
            if m is VaRMethod.FHS:
                gp, gparams, failed = self._full_sample_garch(r)
            v, e, mi = M.method_batch(m, full, cs, hist, garch_params=gparams)
            if m is VaRMethod.EVT:
                k = int(mi["n_exceed"][0])
                info[m.value] = {
                    "threshold": float(mi["threshold"][0]), "n_exceed": k, "n": n,
                    "xi": float(mi["xi"][0]), "beta": float(mi["beta"][0]),
                    "fallback": {str(float(c)): M.evt_fallback_reason(k, n, float(c))
                                 for i, c in enumerate(cs) if mi["fallback"][0, i]}}
            elif m is VaRMethod.CORNISH_FISHER:
                info[m.value] = {"fallback": {str(float(c)): M.CF_FALLBACK_REASON
                                              for i, c in enumerate(cs) if mi["fallback"][0, i]}}
            elif m is VaRMethod.FHS:
                reason = None
                if mi["fallback"][0]:
                    reason = M.FHS_FALLBACK_REASON if failed is None else f"{failed}: historical VaR used"
                info[m.value] = {"params": None if gp is None else gp.to_dict(),
                                 "sigma_next_pct": float(mi["sigma_next"][0]),
                                 "mean_next_pct": None if gp is None else gp.mu,
                                 "fallback": reason}
            var[j], es[j] = v[0], e[0]
        ens_v = (w * var).sum(axis=0)
        ens_e = (w * es).sum(axis=0)
        cols = [float(c) for c in cs]
        info["elapsed_s"] = time.perf_counter() - t0
        return VaRReport(
            var=pd.DataFrame(np.vstack([var, ens_v]), index=[*labels, ENSEMBLE], columns=cols),
            es=pd.DataFrame(np.vstack([es, ens_e]), index=[*labels, ENSEMBLE], columns=cols),
            weights=pd.DataFrame(w, index=labels, columns=cols), diagnostics=diagnostics,
            methods=meths, confidences=tuple(cols), n_obs=n, info=info, scores=scores)
