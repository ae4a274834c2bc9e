"""VaR benchmarks: rolling backtest vs a naive daily-refit loop, EnsembleVaR.fit, GPD fit.

Targets (issue 5): the full rolling backtest of the S&P 500 returns shipped with ``arch`` (about
5,000 daily returns, window 252, five methods at three levels, GARCH included) in < 20 s; and
``EnsembleVaR.fit`` on 1,000 returns in < 100 ms. Each line prints the measurement and its ratio to a
reference measured in the same run.

The naive reference refits everything on every day: ``np.percentile`` / moments for the closed-form
methods, ``scipy.stats.genpareto.fit`` for EVT and a cold ``arch`` GARCH(1,1) fit for FHS. It is timed on
a sample of days spread over the series and extrapolated to all forecast days.
"""

from __future__ import annotations

import statistics
import time
import warnings

import numpy as np
from scipy import stats

SAMPLE_DAYS = 40
LEVELS = (0.95, 0.99, 0.997)
WINDOW = 252


def _sp500():
    from arch.data import sp500

    return sp500.load()["Adj Close"].pct_change().dropna()


def _naive_day(w: np.ndarray) -> None:
    """Everything refitted on one window, the way a straightforward loop would."""
    from arch import arch_model

    for c in LEVELS:
        p = 1 - c
        np.percentile(w, p * 100)
        mu, sd = w.mean(), w.std(ddof=1)
        z = stats.norm.ppf(p)
        _ = -(mu + z * sd)
        s, k = stats.skew(w), stats.kurtosis(w)
        _ = z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36
    u = np.percentile(w, 5)
    y = u - w[w < u]
    stats.genpareto.fit(y, floc=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = arch_model(w * 100, mean="Constant", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
    f = res.forecast(horizon=1, reindex=False)
    z = np.asarray(res.std_resid)
    for c in LEVELS:
        np.quantile(z, 1 - c) * np.sqrt(f.variance.values[-1, 0])


def bench_backtest(r) -> None:
    from riskcore.var import backtest

    backtest(r.iloc[:400], window=WINDOW)  # warm the Numba caches
    t0 = time.perf_counter()
    res = backtest(r, window=WINDOW, confidences=LEVELS)
    fast = time.perf_counter() - t0
    T = len(res.forecasts)
    x = r.to_numpy()
    days = np.linspace(0, len(x) - WINDOW - 1, SAMPLE_DAYS).astype(int)
    t0 = time.perf_counter()
    for k in days:
        _naive_day(x[k:k + WINDOW])
    per_day = (time.perf_counter() - t0) / SAMPLE_DAYS
    naive = per_day * T
    fhs = res.info["fhs"]
    print(f"rolling backtest sp500: {len(x)} returns, {T} forecasts x 5 methods x 3 levels, window {WINDOW}, "
          f"GARCH refit every {res.refit_every} ({fhs['refits']} arch fits): {fast:.2f} s "
          f"(target < 20 s: {'OK' if fast < 20 else 'MISSED'})")
    print(f"naive daily-refit loop: {per_day * 1e3:.1f} ms/day on {SAMPLE_DAYS} sampled days -> {naive:.0f} s "
          f"extrapolated; speed-up {naive / fast:.0f}x")


def bench_ensemble(r) -> None:
    """EnsembleVaR.fit on 1,000 returns (target <= 100 ms), against references timed in the same run:
    one arch GARCH fit, and the same fit with every GARCH refit done by ``arch`` itself."""
    from riskcore.var import EnsembleVaR
    from riskcore.var.garch import fit_garch

    x = r.to_numpy()
    model = EnsembleVaR(LEVELS)
    model.fit(x[:1000])
    times, cpu, ref, slow = [], [], [], []
    for i in range(7):
        w = x[i * 500:i * 500 + 1000]
        t0, c0 = time.perf_counter(), time.process_time()
        model.fit(w)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        t0 = time.perf_counter()
        fit_garch(w * 100)
        ref.append(time.perf_counter() - t0)
    arch_model_ = EnsembleVaR(LEVELS, garch="arch")
    for i in range(3):
        w = x[i * 500:i * 500 + 1000]
        t0 = time.perf_counter()
        arch_model_.fit(w)
        slow.append(time.perf_counter() - t0)
    med, ref_med, slow_med = statistics.median(times), statistics.median(ref), statistics.median(slow)
    rep = model.fit(x[:1000])
    oos = rep.info["oos"]
    print(f"EnsembleVaR.fit on 1000 returns ({oos['n_days']} out-of-sample days, GARCH refit every "
          f"{oos['garch_refit_every']}: {len(oos.get('garch_fits', []))} fits): median {med * 1e3:.1f} ms of 7 "
          f"(min {min(times) * 1e3:.1f}) (target <= 100 ms: {'OK' if med <= 0.1 else 'MISSED'}); "
          f"= {med / ref_med:.1f}x one arch GARCH fit ({ref_med * 1e3:.1f} ms); with arch for every refit "
          f"{slow_med * 1e3:.0f} ms ({slow_med / med:.1f}x slower); CPU time median "
          f"{statistics.median(cpu) * 1e3:.1f} ms (what a loaded machine's wall clock inflates)")


def bench_gpd(r) -> None:
    from riskcore.var import gpd_fit

    x = r.to_numpy()
    ys = []
    for k in range(0, 4000, 100):
        w = x[k:k + WINDOW]
        u = np.percentile(w, 5)
        ys.append(u - w[w < u])
    gpd_fit(ys[0])
    t0 = time.perf_counter()
    for y in ys:
        gpd_fit(y)
    fast = (time.perf_counter() - t0) / len(ys)
    t0 = time.perf_counter()
    for y in ys:
        stats.genpareto.fit(y, floc=0)
    slow = (time.perf_counter() - t0) / len(ys)
    print(f"GPD fit of one window's exceedances: numba profile likelihood {fast * 1e6:.0f} us vs "
          f"scipy.stats.genpareto.fit {slow * 1e6:.0f} us ({slow / fast:.0f}x)")


def main() -> None:
    r = _sp500()
    bench_gpd(r)
    bench_ensemble(r)
    bench_backtest(r)


if __name__ == "__main__":
    main()
