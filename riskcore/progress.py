"""Progress with an ETA, and cancellation of long runs.

Every long library call (``simulate``, ``stress_report``, ``calibrate``, ``backtest``) takes a
``progress`` callback. :class:`ProgressTracker` is such a callback: it turns the fraction done into
a message with the elapsed time and an estimate of the time left, and, when its ``stop`` check says
so, raises :class:`RunCancelled` from inside the run. Because the exception is raised at a progress
point, the run returns nothing and so nothing can be saved from it.

Decisions
---------
* :class:`RunCancelled` derives from ``BaseException`` (like ``KeyboardInterrupt``) so that the
  ``except Exception`` guards inside the engines (an optimiser failure is counted, not fatal) do not
  swallow a cancellation.
* The ETA is linear in the fraction done, ``elapsed * (1 - f) / f``, shown only once 2 % is done and
  at least 0.5 s has passed (earlier estimates are dominated by start-up and compilation).
* ``min_interval_s`` spaces the reports, not the ``stop`` checks: a cancellation is still seen at
  the next progress point, while a display that redraws on every report (a browser page: about
  25 ms of its CPU per redraw) gets a few per second instead of one per engine chunk.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["RunCancelled", "ProgressTracker", "eta_text", "format_seconds"]


class RunCancelled(BaseException):  # noqa: N818 - a control-flow signal like KeyboardInterrupt, not an error
    """A run was cancelled by its ``stop`` check; it produced and saved nothing."""


def format_seconds(s: float) -> str:
    """``'7 s'``, ``'2 min 05 s'``, ``'1 h 02 min'``."""
    s = max(0.0, float(s))
    if s < 60:
        return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s"
    if s < 3600:
        m, r = divmod(int(round(s)), 60)
        return f"{m} min {r:02d} s"
    h, r = divmod(int(round(s)), 3600)
    return f"{h} h {r // 60:02d} min"


def eta_text(fraction: float, elapsed_s: float) -> str:
    """Elapsed time and, once meaningful, the estimated time left.

    Parameters
    ----------
    fraction : float
        Part of the work done, 0..1.
    elapsed_s : float
        Seconds since the run started.

    Notes
    -----
    Time left is ``elapsed * (1 - f) / f`` (constant speed), shown for ``f >= 0.02`` after 0.5 s.
    """
    f = min(max(float(fraction), 0.0), 1.0)
    text = f"{f:.0%} · {format_seconds(elapsed_s)} elapsed"
    if 0.02 <= f < 1.0 and elapsed_s >= 0.5:
        text += f" · about {format_seconds(elapsed_s * (1.0 - f) / f)} left"
    return text


@dataclass
class ProgressTracker:
    """A ``progress`` callback with an ETA and a cancellation check.

    Parameters
    ----------
    report : callable(fraction, text), optional
        Receives the clamped fraction and ``"<label> <message> · 40 % · 3.1 s elapsed · about 4.6 s left"``.
    stop : callable() -> bool, optional
        Polled at every progress call; when it returns True the tracker raises :class:`RunCancelled`.
    label : str
        Start of every message.
    min_interval_s : float, default 0.0
        Least time between two reports: a call sooner than that after the last report only
        updates :attr:`fraction` (and checks ``stop``). The first call and the call that reaches
        1.0 are always reported.

    Examples
    --------
    >>> tracker = ProgressTracker(label="Simulating")
    >>> tracker(0.5)
    >>> tracker.fraction
    0.5

    Both call forms of the engines are accepted: ``tracker(f)`` and ``tracker(f, message)``.
    """

    report: Callable[[float, str], None] | None = None
    stop: Callable[[], bool] | None = None
    label: str = ""
    started: float = field(default_factory=time.perf_counter)
    min_interval_s: float = 0.0
    fraction: float = 0.0
    calls: int = 0
    reports: int = 0
    _last_report: float = field(default=-math.inf, init=False, repr=False)

    def __call__(self, fraction: float, message: str | None = None) -> None:
        self.calls += 1
        self.fraction = min(max(float(fraction), 0.0), 1.0)
        if self.stop is not None and self.stop():
            raise RunCancelled(f"{self.label or 'run'} cancelled at {self.fraction:.0%}")
        if self.report is not None:
            now = time.perf_counter()
            if self.fraction < 1.0 and now - self._last_report < self.min_interval_s:
                return
            self._last_report = now
            self.reports += 1
            head = " ".join(p for p in (self.label, message or "") if p)
            self.report(self.fraction, f"{head} · {eta_text(self.fraction, self.elapsed_s)}".lstrip(" ·"))

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started

    def eta_s(self) -> float | None:
        """Estimated seconds left (None before anything is done)."""
        if self.fraction <= 0.0:
            return None
        return self.elapsed_s * (1.0 - self.fraction) / self.fraction
