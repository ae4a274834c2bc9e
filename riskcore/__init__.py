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

from riskcore._lazy import lazy_exports

__version__ = "0.1.0"

#: public name -> module that defines it
_LAZY: dict[str, str] = {
    "InputError": "riskcore.errors",
    "ModelParameters": "riskcore.params",
    "Store": "riskcore.store",
    # stable-token model (peg/)
    "Scenario": "riskcore.peg.scenarios",
    "simulate": "riskcore.peg.montecarlo",
    "SimulationResult": "riskcore.peg.montecarlo",
    "stress_report": "riskcore.peg.report",
    "StressReport": "riskcore.peg.report",
    "calibrate": "riskcore.peg.calibration",
    "CalibrationResult": "riskcore.peg.calibration",
    # price data
    "load_prices": "riskcore.data",
    "PriceSeries": "riskcore.data",
    # value at risk (var/)
    "EnsembleVaR": "riskcore.var",
    "VaRReport": "riskcore.var",
    "backtest": "riskcore.var",
    "BacktestResult": "riskcore.var",
    # portfolio risk system
    "RiskSystem": "riskcore.agents",
    "RiskEventProcessor": "riskcore.portfolio.events",
}

__all__ = ["__version__", *_LAZY]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
