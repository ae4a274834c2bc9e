"""Regenerate the sample price files shipped in ``data/``.

Run ``.venv/bin/python data/make_samples.py`` (or ``--only stable_token`` / ``--only sp500``).

``stable_token.csv``
    Ten years of daily prices (3,651 rows, 2015-01-01 .. 2024-12-29, ``dt = 1/365``)
    simulated by the model itself with :func:`riskcore.simulate` (baseline scenario,
    initial price 1.0, seed ``STABLE_SEED``) and the parameters ``STABLE_PARAMS``
    below (every other field at its ``ModelParameters`` default)::

        alpha = 4.0, sigma_base = 0.03, jump_intensity = 12.0,
        jump_size_mu = -0.012, jump_size_sigma = 0.008

    The jumps (about 12 a year of -1.2 % +- 0.8 %) are large relative to the daily
    diffusion (0.03 * sqrt(1/365) = 0.16 %), so calibration can identify them.
    Columns: ``date, price``.

``sp500.csv``
    The S&P 500 index, daily, 1999-01-04 .. 2018-12-31 (5,031 rows), exported from the
    dataset the ``arch`` package ships (``arch.data.sp500``), Yahoo OHLCV layout:
    ``Date, Open, High, Low, Close, Adj Close, Volume``. A real series that is *not*
    a pegged token, to show what calibration reports on a misspecified model.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
STABLE_SEED = 20240101
STABLE_START = "2015-01-01"
STABLE_STEPS = 3650
STABLE_PARAMS = {"alpha": 4.0, "sigma_base": 0.03, "jump_intensity": 12.0, "jump_size_mu": -0.012,
                 "jump_size_sigma": 0.008}


def make_stable_token(path: Path = HERE / "stable_token.csv") -> Path:
    """Simulate the stable-token sample with the engine and write it."""
    import riskcore
    from riskcore.params import ModelParameters

    params = ModelParameters(**STABLE_PARAMS)
    res = riskcore.simulate(params, n_paths=1, n_steps=STABLE_STEPS, keep_paths=1, seed=STABLE_SEED)
    prices = np.asarray(res.paths[0], dtype="float64")
    dates = pd.date_range(STABLE_START, periods=len(prices), freq="D")
    frame = pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "price": prices})
    frame.to_csv(path, index=False, float_format="%.8f")
    return path


def make_sp500(path: Path = HERE / "sp500.csv") -> Path:
    """Export ``arch.data.sp500`` (Yahoo OHLCV layout)."""
    from arch.data import sp500

    frame = sp500.load()
    frame.index = pd.DatetimeIndex(frame.index).strftime("%Y-%m-%d")
    frame.index.name = "Date"
    frame.to_csv(path, float_format="%.6f")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["stable_token", "sp500"], default=None)
    args = parser.parse_args(argv)
    if args.only in (None, "stable_token"):
        print("wrote", make_stable_token())
    if args.only in (None, "sp500"):
        print("wrote", make_sp500())


if __name__ == "__main__":
    main()
