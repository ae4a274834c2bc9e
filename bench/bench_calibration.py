"""Data and calibration benchmarks: ``load_prices`` on a large CSV and ``calibrate`` on the samples.

Each line prints the measurement and its ratio to a reference measured in the same run:

* ``load_prices`` on a generated Yahoo-style OHLCV file of about 40 MB (hourly dates) against
  ``pandas.read_csv`` of the same bytes with default options (no validation, no date parsing);
* ``calibrate`` (several starts on transformed parameters, Nelder-Mead polish, Hessian standard
  errors) on each shipped sample against a plain single-start L-BFGS-B on the raw parameters from the
  defaults -- what the source document's calibration would do with a likelihood. The reference also
  reports how far below the maximum it stops (``Δloglik``), which is the point of the several starts.

Run ``python bench/bench_calibration.py`` (about 20-40 s on a busy 2-core machine).
"""

from __future__ import annotations

import io
import statistics
import time

import numpy as np
import pandas as pd
from scipy import optimize


def _timed(fn, repeat: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _big_csv(n_rows: int = 500_000) -> bytes:
    rng = np.random.default_rng(0)
    dates = pd.date_range("1960-01-01", periods=n_rows, freq="h")
    p = 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, n_rows)))
    frame = pd.DataFrame({"Date": dates.strftime("%Y-%m-%d %H:%M:%S"), "Open": p, "High": p * 1.01, "Low": p * 0.99,
                          "Close": p, "Adj Close": p, "Volume": rng.integers(1, 10**9, n_rows)})
    return frame.to_csv(index=False, float_format="%.6f").encode()


def bench_load() -> None:
    from riskcore.data import load_prices

    raw = _big_csv()
    t_ref, _ = _timed(lambda: pd.read_csv(io.BytesIO(raw)))
    t, s = _timed(lambda: load_prices(raw))
    print(f"load_prices {len(raw) / 2**20:.1f} MB, {len(s):,} rows: {t:.3f} s | pandas.read_csv alone {t_ref:.3f} s "
          f"| ratio {t / t_ref:.2f}x")


def _plain_lbfgsb(series, dt: float) -> tuple[float, float]:
    """Single start at the defaults, raw parameters, default L-BFGS-B: (seconds, log-likelihood reached)."""
    from riskcore.params import ModelParameters
    from riskcore.peg.calibration import DEFAULT_FIT, _loglik_terms, _prepare

    base = ModelParameters()
    d, _ = _prepare(series, dt, base, True)
    held = base.to_dict()
    lo = {"alpha": 0.0, "sigma_base": 1e-8, "jump_intensity": 0.0, "jump_size_mu": None, "jump_size_sigma": 1e-8}

    def nll(x: np.ndarray) -> float:
        th = dict(held)
        th.update(zip(DEFAULT_FIT, x, strict=True))
        v = -float(np.sum(_loglik_terms(th, d)))
        return v if np.isfinite(v) else 1e300

    x0 = np.array([held[n] for n in DEFAULT_FIT])
    t0 = time.perf_counter()
    r = optimize.minimize(nll, x0, method="L-BFGS-B", bounds=[(lo[n], None) for n in DEFAULT_FIT])
    return time.perf_counter() - t0, -float(r.fun)


def bench_calibrate() -> None:
    from riskcore.data import load_sample
    from riskcore.peg.calibration import calibrate

    for name in ("stable_token", "sp500"):
        series = load_sample(name)
        calibrate(series)  # warm-up
        t, res = _timed(lambda s=series: calibrate(s), repeat=3)
        t_ref, ll_ref = _plain_lbfgsb(series, res.dt)
        print(f"calibrate {name} ({res.n_obs:,} increments, {res.n_starts} starts): {t:.3f} s, loglik {res.loglik:.1f} "
              f"| plain single-start L-BFGS-B on raw parameters {t_ref:.3f} s, loglik {ll_ref:.1f} "
              f"(Δloglik {res.loglik - ll_ref:+.1f}) | ratio {t / t_ref:.2f}x")


def main() -> None:
    bench_load()
    bench_calibrate()


if __name__ == "__main__":
    main()
