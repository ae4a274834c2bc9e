"""Value at Risk and Expected Shortfall: five methods, an ensemble, statistical and rolling backtests.

Every VaR and ES is a **positive loss** (a fraction of value for a return series); a violation on day
*t* is ``r_t < -VaR_t`` (SPEC §2). Returns are simple returns by default.

Examples
--------
>>> from arch.data import sp500                                  # doctest: +SKIP
>>> from riskcore.var import EnsembleVaR, backtest                # doctest: +SKIP
>>> r = sp500.load()["Adj Close"].pct_change().dropna()          # doctest: +SKIP
>>> EnsembleVaR().fit(r.iloc[-1000:]).summary()                   # doctest: +SKIP
>>> backtest(r, window=252).summary()                             # doctest: +SKIP

Unlike the other riskcore packages (:mod:`riskcore._lazy`), this one imports its names eagerly: the
function :func:`backtest` has the name of its module :mod:`riskcore.var.backtest`, and a lazy export
would be shadowed by the submodule once anything imported it.
"""

from riskcore.var.backtest import DEFAULT_REFIT_EVERY, DEFAULT_WINDOW, BacktestResult, backtest, out_of_sample
from riskcore.var.ensemble import EnsembleVaR, VaRReport
from riskcore.var.garch import GarchEstimator, GarchParams, fit_garch, fit_garch_compiled
from riskcore.var.measures import (
    ALL_METHODS,
    ENSEMBLE,
    EVTFit,
    FHSFit,
    VaRMethod,
    as_returns,
    cornish_fisher_es,
    cornish_fisher_fit,
    cornish_fisher_var,
    evt_es,
    evt_fallback_reason,
    evt_fit,
    evt_var,
    fhs_es,
    fhs_fit,
    fhs_var,
    gpd_fit,
    historical_es,
    historical_var,
    parametric_es,
    parametric_var,
)
from riskcore.var.stats import TrafficLight, christoffersen_test, kupiec_test, traffic_light, traffic_light_zone
from riskcore.var.weights import WeightScheme, method_weights, pinball_loss

__all__ = [
    "EnsembleVaR", "VaRReport", "backtest", "BacktestResult", "DEFAULT_WINDOW", "DEFAULT_REFIT_EVERY",
    "VaRMethod", "ALL_METHODS", "ENSEMBLE", "TrafficLight",
    "kupiec_test", "christoffersen_test", "traffic_light", "traffic_light_zone",
    "historical_var", "historical_es", "parametric_var", "parametric_es", "cornish_fisher_var",
    "cornish_fisher_es", "evt_var", "evt_es", "fhs_var", "fhs_es",
    "evt_fit", "evt_fallback_reason", "fhs_fit", "EVTFit", "FHSFit", "gpd_fit", "GarchParams", "fit_garch",
    "as_returns", "cornish_fisher_fit", "out_of_sample", "WeightScheme", "method_weights", "pinball_loss",
    "GarchEstimator", "fit_garch_compiled",
]
