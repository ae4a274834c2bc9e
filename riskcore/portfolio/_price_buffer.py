"""The event processor's price history as one float array (the fast path of a market-data update).

Why this exists: a ``MARKET_DATA_UPDATE`` used to rebuild the history DataFrame
(``iloc[-1].to_dict()``, a one-row frame, ``concat``), then select the held symbols,
``dropna`` them and fit the return model through pandas. That is 3-5 ms of pandas overhead
(30 ms and more once fuzzed symbols widen the frame) around ~50 µs of arithmetic. Here the
history is a NumPy array with spare rows: appending a bar writes one row, and the risk
measures are computed on a slice. The arithmetic is the same as
:func:`riskcore.portfolio.state.compute_risk_state` on the equivalent DataFrame, operation
for operation, so the numbers (and the random stream consumed) are identical;
``tests/portfolio/test_portfolio_events_fast_path.py`` checks this against the
straightforward recomputation.

Semantics kept from the DataFrame version: each update appends one row that carries the
other symbols' last row forward; a new symbol gets a new column (NaN in earlier rows);
after an update at most ``KEEP + 1`` rows are kept.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.portfolio.correlation import _corr, correlation_risk_score
from riskcore.portfolio.var import ReturnModel, _sqrt_psd, exposures, quantile_linear
from riskcore.returns import simple_returns

__all__ = ["PriceBuffer", "var_and_correlation", "frame_to_state", "frame_from_state"]


class PriceBuffer:
    """Append-only price history with a bounded window, rows oldest first.

    Parameters
    ----------
    values : ndarray, shape (rows, symbols)
        Starting prices (NaN = no price), copied.
    columns : sequence of str
        Unique symbol names.
    """

    #: rows kept before the appended one (the DataFrame version kept ``ph.iloc[-500:]``)
    KEEP = 500

    def __init__(self, values: np.ndarray, columns: Sequence[str]):
        values = np.asarray(values, dtype=np.float64)
        self._cols = list(columns)
        self._where = {c: i for i, c in enumerate(self._cols)}
        cap = max(2 * (self.KEEP + 1), values.shape[0] + 64)
        self._a = np.full((cap, len(self._cols)), np.nan)
        self._a[: values.shape[0]] = values
        self._lo, self._hi = 0, values.shape[0]
        self._index = pd.Index(self._cols)
        self._frame: pd.DataFrame | None = None

    @classmethod
    def from_frame(cls, ph: pd.DataFrame | None) -> PriceBuffer | None:
        """A buffer holding ``ph``, or None when ``ph`` is not a plain float frame with unique str columns.

        The caller then keeps the DataFrame path (odd column labels or dtypes are rare and
        keep their exact pandas behaviour there).
        """
        if ph is None:
            return cls(np.empty((0, 0)), [])
        cols = list(ph.columns)
        if (not all(type(c) is str for c in cols) or len(set(cols)) != len(cols)
                or not all(dt == np.float64 for dt in ph.dtypes)):
            return None
        return cls(ph.to_numpy(dtype=np.float64), cols)

    # -- queries ---------------------------------------------------------------------
    @property
    def columns(self) -> list[str]:
        return list(self._cols)

    def __len__(self) -> int:
        return self._hi - self._lo

    def values(self) -> np.ndarray:
        """The history as a read-only view (rows × symbols)."""
        v = self._a[self._lo:self._hi]
        v.flags.writeable = False
        return v

    def last(self, symbol: str) -> float | None:
        """Last non-NaN price of ``symbol`` (None when it has none)."""
        j = self._where.get(symbol)
        if j is None:
            return None
        col = self._a[self._lo:self._hi, j]
        ok = np.flatnonzero(~np.isnan(col))
        return float(col[ok[-1]]) if ok.size else None

    def count(self, symbol: str) -> int:
        """Number of prices of ``symbol`` in the window."""
        j = self._where.get(symbol)
        if j is None:
            return 0
        return int(np.count_nonzero(~np.isnan(self._a[self._lo:self._hi, j])))

    def frame(self) -> pd.DataFrame:
        """The history as a DataFrame (a copy; built once per update, then cached)."""
        if self._frame is None:
            self._frame = pd.DataFrame(self._a[self._lo:self._hi].copy(), columns=self._index, copy=False)
        return self._frame

    def copy(self) -> PriceBuffer:
        out = object.__new__(PriceBuffer)
        out._cols, out._where, out._a = list(self._cols), dict(self._where), self._a.copy()
        out._lo, out._hi, out._index, out._frame = self._lo, self._hi, self._index, self._frame
        return out

    # -- snapshot (riskcore.recovery) ---------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        """The window (a copy) and its symbols: all that later appends and queries depend on."""
        return {"values": self._a[self._lo:self._hi].copy(), "columns": list(self._cols)}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> PriceBuffer:
        values = np.asarray(state["values"], dtype=np.float64)
        cols = [str(c) for c in state["columns"]]
        if values.ndim != 2 or values.shape[1] != len(cols):
            raise InputError("price_buffer", f"values must be rows × {len(cols)} symbols", value=values.shape)
        return cls(values.reshape(values.shape[0], len(cols)), cols)

    # -- update -----------------------------------------------------------------------
    def append(self, prices: Mapping[str, float]) -> None:
        """Append one bar: the last row carried forward with ``prices`` written over it."""
        new = [s for s in prices if s not in self._where]
        if new:
            grown = np.full((self._a.shape[0], len(self._cols) + len(new)), np.nan)
            grown[:, : len(self._cols)] = self._a
            self._a = grown
            for s in new:
                self._where[s] = len(self._cols)
                self._cols.append(s)
            self._index = pd.Index(self._cols)
        n = self._hi - self._lo
        if self._hi == self._a.shape[0]:  # out of spare rows: move the kept window to the front
            keep = min(n, self.KEEP)
            self._a[:keep] = self._a[self._hi - keep:self._hi].copy()
            self._a[keep:] = np.nan
            self._lo, self._hi = 0, keep
        elif n > self.KEEP:
            self._lo = self._hi - self.KEEP
        row = self._a[self._hi]
        if self._hi > self._lo:
            row[:] = self._a[self._hi - 1]
        for s, p in prices.items():
            row[self._where[s]] = p
        self._hi += 1
        self._lo = max(self._lo, self._hi - (self.KEEP + 1))
        self._frame = None


def frame_to_state(ph: pd.DataFrame | None) -> dict[str, Any] | None:
    """A price history (float columns named by symbol) as arrays and labels, for a snapshot.

    The index is kept exactly: dates (with their time zone and frequency), a range, or plain labels.
    """
    if ph is None:
        return None
    cols = list(ph.columns)
    if not all(isinstance(c, str) for c in cols) or not all(dt == np.float64 for dt in ph.dtypes):
        raise InputError("price_history", "a snapshot needs float64 prices in columns named by symbol",
                         value=[str(dt) for dt in ph.dtypes][:5])
    idx = ph.index
    if isinstance(idx, pd.DatetimeIndex):
        index: dict[str, Any] = {"kind": "datetime", "ticks": idx.asi8.copy(),  # UTC when aware
                                 "unit": np.datetime_data(idx.dtype if idx.tz is None else idx.dtype.base)[0],
                                 "tz": None if idx.tz is None else str(idx.tz), "freq": idx.freqstr}
    elif isinstance(idx, pd.RangeIndex):
        index = {"kind": "range", "start": idx.start, "stop": idx.stop, "step": idx.step}
    else:
        index = {"kind": "labels", "labels": list(idx)}
    index["name"] = idx.name
    return {"values": ph.to_numpy(dtype=np.float64).copy(), "columns": cols, "index": index}


def frame_from_state(state: Mapping[str, Any] | None) -> pd.DataFrame | None:
    """Inverse of :func:`frame_to_state`."""
    if state is None:
        return None
    ix = state["index"]
    if ix["kind"] == "datetime":
        ticks = np.asarray(ix["ticks"], dtype="int64").view(f"datetime64[{ix['unit']}]")
        index = pd.DatetimeIndex(ticks, name=ix["name"])
        if ix.get("tz"):
            index = index.tz_localize("UTC").tz_convert(ix["tz"])
        if ix.get("freq"):
            index = pd.DatetimeIndex(index, freq=ix["freq"])
    elif ix["kind"] == "range":
        index = pd.RangeIndex(ix["start"], ix["stop"], ix["step"], name=ix["name"])
    else:
        index = pd.Index(ix["labels"], name=ix["name"])
    values = np.asarray(state["values"], dtype=np.float64)
    return pd.DataFrame(values.reshape(len(index), len(state["columns"])), index=index,
                        columns=list(state["columns"]))


@functools.lru_cache(maxsize=256)
def _symbol_index(symbols: tuple[str, ...]) -> pd.Index:
    # building a string Index costs more than the correlation matrix itself; Index objects are immutable
    return pd.Index(list(symbols))


def var_and_correlation(positions: Sequence[Any], prices: PriceBuffer, n_simulations: int,
                        rng: np.random.Generator, lookback: int) -> tuple[float, float, pd.DataFrame | None]:
    """1-day 5 % Monte Carlo VaR and the correlation score of ``positions`` on ``prices``.

    The array twin of ``riskcore.portfolio.state._var_and_correlation``: rows where every
    held symbol has a price, the last ``lookback`` of them, the same return model, the same
    draws from ``rng`` and the same errors.
    """
    symbols, e = exposures(positions, one_instrument=False)
    where = prices._where
    sub = prices.values()[:, [where[s] for s in symbols]]
    # column-major like the pandas path's arrays: numpy's reductions sum in an order that
    # depends on the memory layout, and the results must agree to the last bit
    hist = np.asfortranarray(sub[~np.isnan(sub).any(axis=1)][-lookback:])
    if hist.shape[0] < 3:
        raise InputError("price_history", "needs at least 3 prices (2 returns)", value=hist.shape[0])
    bad = ~np.isfinite(hist) | (hist <= 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError("price_history", f"prices must be finite and > 0 (column {symbols[col]!r})",
                         value=hist[row, col], row=int(row) + 1)
    r = simple_returns(hist)
    cov = np.atleast_2d(np.cov(r, rowvar=False, ddof=1))
    model = ReturnModel(tuple(symbols), r.mean(axis=0), cov, _sqrt_psd(cov), r.shape[0])
    var = max(-quantile_linear(model.simulate_pnl(e, 1, n_simulations, rng), 0.05), 0.0)
    corr, corr_df = 0.0, None
    if len(symbols) > 1 and hist.shape[0] >= 30:
        c = _corr(r)
        idx = _symbol_index(tuple(symbols))
        corr_df = pd.DataFrame(c, index=idx, columns=idx)
        corr = correlation_risk_score(c)
    return var, corr, corr_df
