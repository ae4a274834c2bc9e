"""Process-wide memo of results, shared between sessions and with the warm-up thread (single flight).

A page's first open computed a VaR ensemble (VaR Lab) or replayed 3,651 prices through the token
monitor (Stability Review) while the user waited, and five sessions asking for the same
100,000-path simulation computed it five times on two cores (issue 17). :class:`SingleFlight`
keeps such results per server process, keyed by what they depend on, and computes each key once:

* **single flight** — the first caller of a key (the leader) computes it; callers of the same
  key that arrive meanwhile (followers) wait on the leader's future instead of starting a second
  computation, and all get the same object;
* **bounded LRU** — finished results are kept, least recently used dropped first, within a
  number of entries and a number of bytes (:func:`nbytes` of the result);
* **failures are not cached** — an exception of the leader is raised in every follower that
  waited on it and nothing is stored, so the next call computes again. A leader that was
  *interrupted* (its user pressed Cancel: :class:`riskcore.progress.RunCancelled`, or Streamlit
  stopped its script) is not a result: its followers start over, one of them as the new leader.

Results are shared read-only between sessions (:func:`simulation` marks the arrays read-only);
keys are built from content (hashes of parameters, scenario and series), never from object
identity. No maths here: the engines are riskcore's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

import numpy as np
import pandas as pd

T = TypeVar("T")

__all__ = ["SingleFlight", "memo", "nbytes", "series_key", "simulation_key", "simulation", "ensemble_report",
           "stability_review", "figure", "clear", "SIMULATIONS"]


def nbytes(value: Any) -> int:
    """Approximate memory held by ``value``: the bytes of its arrays and frames (dataclass fields too)."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, pd.DataFrame | pd.Series):
        return int(value.memory_usage(deep=False).sum()) if isinstance(value, pd.DataFrame) \
            else int(value.memory_usage(deep=False))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(nbytes(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, dict):
        return sum(nbytes(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(nbytes(v) for v in value)
    return 0


class _Interrupted(Exception):  # noqa: N818 - internal marker: the leader stopped without a result
    """The leader was interrupted (cancelled, its script stopped): followers start over."""


class SingleFlight:
    """Thread-safe single-flight memo with an LRU bounded by entries and bytes.

    Parameters
    ----------
    max_entries : int
        Most finished results kept.
    max_bytes : int, optional
        Most bytes (:func:`nbytes`) kept over all results; a result larger than this is returned
        but not kept. None: no byte bound.
    """

    def __init__(self, max_entries: int = 16, max_bytes: int | None = None) -> None:
        self.max_entries = int(max_entries)
        self.max_bytes = max_bytes
        self._guard = threading.Lock()
        self._values: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._flights: dict[Hashable, tuple[Future, list[float]]] = {}
        self._bytes = 0
        #: how many results were computed (leaders that finished), for tests and the bench
        self.computed = 0
        #: callers waiting on another caller's computation now
        self.waiting = 0

    def __len__(self) -> int:
        return len(self._values)

    @property
    def bytes(self) -> int:
        return self._bytes

    def __contains__(self, key: Hashable) -> bool:
        with self._guard:
            return key in self._values

    def clear(self) -> None:
        with self._guard:
            self._values.clear()
            self._bytes = 0

    def get(self, key: Hashable, make: Callable[..., T], *, progress: Callable[[float], None] | None = None,
            poll_s: float = 0.1) -> T:
        """``make()`` once per ``key``; concurrent callers of one key share the leader's result.

        Parameters
        ----------
        key : hashable
            What the result depends on (content, never object identity).
        make : callable
            Computes the result. When ``progress`` is given, ``make`` is called as
            ``make(report)`` with a callback taking the fraction done, which the leader forwards
            to its own ``progress`` and followers see as theirs.
        progress : callable(fraction), optional
            This caller's progress callback. A follower calls it every ``poll_s`` with the
            leader's fraction done; if it raises (the follower's user cancelled), the follower
            stops waiting and the leader carries on for the others.
        """
        while True:
            with self._guard:
                if key in self._values:
                    self._values.move_to_end(key)
                    return self._values[key][0]
                flight = self._flights.get(key)
                leader = flight is None
                if leader:
                    flight = (Future(), [0.0])
                    self._flights[key] = flight
                else:
                    self.waiting += 1
            future, done = flight
            if leader:
                return self._lead(key, make, future, done, progress)
            try:
                return self._follow(future, done, progress, poll_s)
            except _Interrupted:
                continue  # the leader was cancelled: start over (one of the followers leads)
            finally:
                with self._guard:
                    self.waiting -= 1

    def _lead(self, key: Hashable, make: Callable[..., T], future: Future, done: list[float],
              progress: Callable[[float], None] | None) -> T:
        def report(fraction: float, *args: Any) -> None:
            done[0] = float(fraction)
            progress(fraction, *args)

        try:
            value = make(report) if progress is not None else make()
        except Exception as exc:  # an error of the computation: every follower gets it, nothing is kept
            with self._guard:
                self._flights.pop(key, None)
            future.set_exception(exc)
            raise
        except BaseException:  # cancelled or stopped: not a result, followers start over
            with self._guard:
                self._flights.pop(key, None)
            future.set_exception(_Interrupted())
            raise
        with self._guard:
            self._flights.pop(key, None)
            self.computed += 1
            self._store(key, value)
        future.set_result(value)
        return value

    @staticmethod
    def _follow(future: Future, done: list[float], progress: Callable[[float], None] | None, poll_s: float) -> Any:
        while True:
            try:
                return future.result(timeout=poll_s if progress is not None else None)
            except FutureTimeout:
                progress(done[0])  # may raise: this follower's user cancelled, the leader goes on

    def _store(self, key: Hashable, value: Any) -> None:
        size = nbytes(value)
        if self.max_bytes is not None and size > self.max_bytes:
            return  # too big to keep: returned to its callers, not cached
        self._values[key] = (value, size)
        self._bytes += size
        while len(self._values) > self.max_entries or (self.max_bytes is not None and self._bytes > self.max_bytes):
            _, (_, old_size) = self._values.popitem(last=False)
            self._bytes -= old_size


#: first-open results of the pages (ensembles, reviews): few, small
_MEMO = SingleFlight(max_entries=16)
#: simulation results: a 100,000-path run holds about 2.8 MB (per-path arrays, bands, kept paths), so at most
#: 32 runs or 128 MB are kept (bounded: issue 17 item 7 caps server growth per session)
SIMULATIONS = SingleFlight(max_entries=32, max_bytes=128 * 2**20)


def memo(key: Hashable, make: Callable[[], T]) -> T:
    """``make()`` once per ``key`` and process; concurrent callers of one key wait for the first."""
    return _MEMO.get(key, make)


#: figures of result objects, by object: gone with the result (a weak key), so they add nothing to what
#: the results themselves hold once no session shows them
_FIGURES: weakref.WeakKeyDictionary[Any, dict[Hashable, Any]] = weakref.WeakKeyDictionary()
_FIGURES_GUARD = threading.Lock()


def figure(result: Any, build: Callable[..., T], **kwargs: Any) -> T:
    """``build(result, **kwargs)``, built once per result object and process.

    Five sessions shown the same shared run (:func:`simulation`) each rebuilt its three Plotly
    figures on every rerun, 70-80 ms of Python under the GIL per rerun, one session after the
    other (issue 17). The figure is a read-only input of ``st.plotly_chart``, which copies it
    (``to_dict``), so one object can serve every session. Keyed by the result's identity (results
    are immutable, and a saved copy is a new object) and by ``build`` and its arguments; two
    threads that miss together may both build, and one of the equal figures is kept.
    """
    key = (build, tuple(sorted(kwargs.items())))
    with _FIGURES_GUARD:
        hit = _FIGURES.get(result, {}).get(key)
    if hit is not None:
        return hit
    fig = build(result, **kwargs)
    with _FIGURES_GUARD:
        return _FIGURES.setdefault(result, {}).setdefault(key, fig)


def clear() -> None:
    """Forget every memoised result (tests)."""
    _MEMO.clear()
    SIMULATIONS.clear()
    with _FIGURES_GUARD:
        _FIGURES.clear()


def series_key(s: pd.Series) -> tuple[Any, ...]:
    """Identity of a series' content: name, length and a hash of index and values."""
    return (s.name, len(s), int(pd.util.hash_pandas_object(s, index=True).sum()))


def _content_hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def simulation_key(params: Any, n_paths: int, *, n_steps: int, dt: float, seed: int, backend: Any,
                   initial_price: float, scenario: Any, keep_paths: int, dtype: str = "float64") -> tuple[Any, ...]:
    """What a :func:`riskcore.peg.montecarlo.simulate` result depends on, by content.

    The run is deterministic given these (one random stream per path from the seed on ``numba``
    and ``dask``, seeded generators on the others), so equal keys mean equal numbers.
    """
    from riskcore.params import ModelParameters

    p = params if params is not None else ModelParameters()
    scen = scenario.to_dict() if hasattr(scenario, "to_dict") else scenario
    return ("simulation", p.content_hash(), _content_hash(scen), int(n_paths), int(n_steps), float(dt), int(seed),
            str(getattr(backend, "value", backend)), float(initial_price), int(keep_paths), str(dtype))


def _read_only(result: Any) -> Any:
    for f in dataclasses.fields(result):
        v = getattr(result, f.name)
        if isinstance(v, np.ndarray):
            v.setflags(write=False)
    return result


def simulation(params: Any, n_paths: int, *, n_steps: int, dt: float, seed: int, backend: Any,
               initial_price: float, scenario: Any, keep_paths: int, progress: Callable[[float], None] | None = None,
               dtype: str = "float64") -> Any:
    """:func:`riskcore.peg.montecarlo.simulate`, shared: identical concurrent runs compute once.

    The result (its arrays read-only) is shared by every session asking for the same run; a
    session that saves it saves a copy with its own ``run_id`` (``dataclasses.replace``).
    """
    from riskcore.peg.montecarlo import simulate

    key = simulation_key(params, n_paths, n_steps=n_steps, dt=dt, seed=seed, backend=backend,
                         initial_price=initial_price, scenario=scenario, keep_paths=keep_paths, dtype=dtype)

    def make(report: Callable[[float], None] | None = None) -> Any:
        return _read_only(simulate(params, int(n_paths), n_steps=int(n_steps), dt=dt, seed=int(seed), backend=backend,
                                   initial_price=initial_price, scenario=scenario, keep_paths=int(keep_paths),
                                   progress=report, dtype=dtype))

    return SIMULATIONS.get(key, make, progress=progress)


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
