"""riskcore: risk analytics for stable tokens and trading portfolios.

The names below are imported lazily, so ``import riskcore`` stays fast and a
notebook pays for Numba, PyTorch or Dask only when it uses them.

Examples
--------
>>> import riskcore
>>> riskcore.ModelParameters().alpha
0.5
"""

from __future__ import annotations

from riskcore._lazy import lazy_exports, lazy_table

__version__ = "0.1.0"

#: public name -> module that defines it
_LAZY: dict[str, str] = lazy_table({
    "riskcore.errors": "InputError",
    "riskcore.params": "ModelParameters",
    "riskcore.store": "Store",
    "riskcore.peg.scenarios": "Scenario",
    "riskcore.peg.montecarlo": "simulate SimulationResult",
    "riskcore.peg.report": "stress_report StressReport",
    "riskcore.peg.calibration": "calibrate CalibrationResult",
    "riskcore.data": "load_prices PriceSeries",
    "riskcore.var": "EnsembleVaR VaRReport backtest BacktestResult",
    "riskcore.agents": "RiskSystem",
    "riskcore.portfolio.events": "RiskEventProcessor",
})

__all__ = ["__version__", *_LAZY]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
