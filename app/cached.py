"""Process-wide memo of the results pages show on first open, shared with the warm-up thread.

A page's first open computed a VaR ensemble (VaR Lab) or replayed 3,651 prices through the token
monitor (Stability Review) while the user waited. :func:`memo` keeps such results per server
process, keyed by what they depend on, and computes each key once: a page that asks while the
warm-up thread (:mod:`app.warmup`) is computing the same key waits for that computation instead of
starting a second one. Results are frozen objects, shared read-only between sessions.

No maths here: the engines are riskcore's.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import pandas as pd

T = TypeVar("T")

__all__ = ["memo", "series_key", "ensemble_report", "stability_review", "clear"]

#: most results kept (least recently used dropped first)
MAX_ENTRIES = 16

_guard = threading.Lock()
_locks: dict[Hashable, threading.Lock] = {}
_values: OrderedDict[Hashable, Any] = OrderedDict()


def memo(key: Hashable, make: Callable[[], T]) -> T:
    """``make()`` once per ``key`` and process; concurrent callers of one key wait for the first."""
    with _guard:
        if key in _values:
            _values.move_to_end(key)
            return _values[key]
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        with _guard:
            if key in _values:
                return _values[key]
        value = make()  # an exception propagates and nothing is stored
        with _guard:
            _values[key] = value
            while len(_values) > MAX_ENTRIES:
                old, _ = _values.popitem(last=False)
                _locks.pop(old, None)
        return value


def clear() -> None:
    """Forget every memoised result (tests)."""
    with _guard:
        _values.clear()
        _locks.clear()


def series_key(s: pd.Series) -> tuple[Any, ...]:
    """Identity of a series' content: name, length and a hash of index and values."""
    return (s.name, len(s), int(pd.util.hash_pandas_object(s, index=True).sum()))


def ensemble_report(returns: pd.Series, confidences: tuple[float, ...], oos_window: int | None) -> Any:
    """:class:`riskcore.var.EnsembleVaR` fitted to ``returns`` (the VaR Lab's ensemble), memoised."""
    from riskcore.var import EnsembleVaR

    return memo(("ensemble", series_key(returns), tuple(confidences), oos_window),
                lambda: EnsembleVaR(confidences=confidences, oos_window=oos_window).fit(returns))


def stability_review(series: Any, ensemble: bool) -> Any:
    """:func:`riskcore.monitor.review.review_series` of a :class:`~riskcore.data.PriceSeries`, memoised."""
    from riskcore.monitor.review import review_series

    return memo(("review", series.checksum, series.name, bool(ensemble)),
                lambda: review_series(series, ensemble=bool(ensemble), name=series.name))
