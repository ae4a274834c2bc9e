"""Rolling ensemble VaR for a monitor: per-call VaR of a fixed window, slow parts refreshed on a schedule.

The token monitor (:mod:`riskcore.monitor.token`) asks for the ensemble VaR of its window every tick.
The historical, parametric, Cornish–Fisher and EVT VaRs (:data:`FAST_METHODS`) are recomputed each call
with the batch kernels of :mod:`riskcore.var.measures` (tens of microseconds). The filtered historical
simulation (a GARCH fit, tens of milliseconds) and the ensemble weights (out-of-sample backtest accuracy,
:class:`riskcore.var.EnsembleVaR`) are refreshed by :meth:`RollingEnsembleVaR.refresh` — every
``refresh_every`` calls, and while the window fills each time it has doubled (30, 60, 120 … returns);
between refreshes the FHS value is held and the weights are fixed. Until the first refresh succeeds the
four per-call methods are weighted equally. The refit reads the report through
:meth:`riskcore.var.VaRReport.by_method` (typed: methods × confidences).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from riskcore.var import measures
from riskcore.var.ensemble import EnsembleVaR

__all__ = ["RollingEnsembleVaR", "FAST_METHODS", "SLOW_METHODS"]

FAST_METHODS = ("historical", "parametric", "cornish_fisher", "evt")
SLOW_METHODS = ("fhs",)


class RollingEnsembleVaR:
    """Ensemble VaR of a fixed window, cheap per call; slow parts refreshed every ``refresh_every`` calls.

    Uses the batch kernels of :mod:`riskcore.var.measures` on the window as one row (the same formulas
    as the VaR Lab) and :class:`riskcore.var.EnsembleVaR` for the weights and the FHS value when it is
    available. See the module notes for the refresh rule.

    Parameters
    ----------
    confidences : sequence of float, default (0.95, 0.99, 0.997)
    refresh_every : int, default 250
        Calls between refits of the weights and the FHS value.
    ensemble : bool, default True
        ``False`` keeps equal weights over the per-tick methods and never refits.
    """

    def __init__(self, confidences: Sequence[float] = (0.95, 0.99, 0.997), *, refresh_every: int = 250,
                 ensemble: bool = True):
        self.cs = np.asarray(confidences, dtype=float)
        self.refresh_every = int(refresh_every)
        self.use_ensemble = bool(ensemble)
        self._kernels = {
            "historical": measures.historical_batch,
            "parametric": measures.parametric_batch,
            # VaR only, per tick: the ES quadrature is not needed (outside its domain CF falls back to historical)
            "cornish_fisher": lambda w, cs: measures.cornish_fisher_batch(w, cs, es=False),
            "evt": lambda w, cs: measures.evt_batch(w, cs)[:2],
        }
        self._kernel_list = [self._kernels[m] for m in FAST_METHODS]
        n = len(FAST_METHODS)
        weights = np.zeros((n + len(SLOW_METHODS), self.cs.size))
        weights[:n] = 1.0 / n
        self._set(weights, np.full((len(SLOW_METHODS), self.cs.size), np.nan))
        self.calls = 0
        self.refreshed_at: int | None = None
        self.refreshed_len = 0
        self.refresh_error: str | None = None
        self.refresh_ms: float | None = None

    @property
    def methods(self) -> tuple[str, ...]:
        return FAST_METHODS + SLOW_METHODS

    def weights_dict(self) -> dict[str, dict[str, float]]:
        return {f"{c:g}": {m: float(self.weights[i, j]) for i, m in enumerate(self.methods)}
                for j, c in enumerate(self.cs)}

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        """Ensemble VaR per confidence of each row of ``windows`` (T, W) → (T, C)."""
        self.calls += windows.shape[0]
        out = self._slow_term + self._weights_fast[0] * self._kernel_list[0](windows, self.cs)[0]
        for i in range(1, len(self._kernel_list)):
            out += self._weights_fast[i] * self._kernel_list[i](windows, self.cs)[0]
        return out

    def _set(self, weights: np.ndarray, slow_values: np.ndarray) -> None:
        """Install weights and held FHS values; precompute what is constant until the next refresh."""
        self.weights = weights
        self.slow_values = slow_values
        nf = len(FAST_METHODS)
        self._weights_fast = [weights[i].copy() for i in range(nf)]
        self._slow_term = (weights[nf:] * np.nan_to_num(slow_values, nan=0.0)).sum(axis=0)

    def growth_due(self, k: int) -> bool:
        """While the window fills, refit again each time it has doubled since the last refit (the first
        refit, on 30 returns, can only give equal weights)."""
        return self.use_ensemble and self.refreshed_at is not None and k >= 2 * self.refreshed_len

    def ticks_to_refresh(self) -> int:
        """Calls left before the next refresh is due (0: due now; a large number when disabled)."""
        if not self.use_ensemble:
            return 1 << 60
        if self.refreshed_at is None:
            return 0
        return max(0, self.refresh_every - (self.calls - self.refreshed_at))

    def refresh(self, ordered: np.ndarray) -> None:
        """Refit the ensemble weights and the FHS VaR on the time-ordered window (never raises)."""
        self.refreshed_at = self.calls
        self.refreshed_len = int(ordered.size)
        t0 = time.perf_counter()
        try:
            report = EnsembleVaR(confidences=tuple(float(c) for c in self.cs)).fit(ordered)
            weights = report.by_method("weights", self.methods, self.cs, fill=0.0)
            slow = report.by_method("var", SLOW_METHODS, self.cs)
        except Exception as exc:  # keep the previous weights: the monitor must go on
            self.refresh_error = f"{type(exc).__name__}: {exc}"
            return
        finally:
            self.refresh_ms = (time.perf_counter() - t0) * 1e3
        ok = np.isfinite(slow)
        weights[len(FAST_METHODS):][~ok] = 0.0
        tot = weights.sum(axis=0)
        if np.all(tot > 0):
            self._set(weights / tot, slow)
            self.refresh_error = None
