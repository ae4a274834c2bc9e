"""Long runs on a page: a progress bar with an ETA, a Cancel button of its own, the wall time waited.

No maths here: the ETA and the cancellation check are :class:`riskcore.progress.ProgressTracker`.

How cancelling works in Streamlit: clicking *Cancel* while the script runs makes Streamlit stop the
running script at its next progress update (it raises its own rerun signal from inside the engine's
``progress`` callback, so the engine returns nothing) and rerun the page; the button's ``on_click``
records the cancellation, and the rerun shows "cancelled, nothing saved" through
:func:`cancelled_notice`. The tracker's ``stop`` check reads the same flag, so a run started while
the flag is set (a test, or a second tab) also stops at its first progress point.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from app.widgets import show_error
from riskcore.progress import ProgressTracker, RunCancelled, format_seconds

__all__ = ["RunOutcome", "run_with_progress", "cancelled_notice", "cancel_flag", "REDRAW_S"]

#: least seconds between two redraws of a progress bar. A run that waits on another session's
#: computation reports ten times a second (app.cached), and at that rate a waiting page used
#: 0.25-0.37 s of browser CPU per second on redraws alone (measured with CDP, issue 17)
REDRAW_S = 0.4


def cancel_flag(key: str) -> str:
    """Session-state key of the cancellation flag of the run ``key``."""
    return f"_cancel::{key}"


@dataclass(frozen=True)
class RunOutcome:
    """What a page run produced: ``value`` (None when cancelled or failed) and the seconds waited."""

    value: Any
    wall_s: float
    cancelled: bool = False
    failed: bool = False

    @property
    def ok(self) -> bool:
        return not (self.cancelled or self.failed)


def _request_cancel(key: str) -> None:
    st.session_state[cancel_flag(key)] = True


def cancelled_notice(key: str, what: str = "Run") -> bool:
    """Show (once) that the run ``key`` was cancelled; True when it was."""
    if st.session_state.pop(cancel_flag(key), False):
        st.info(f"{what} cancelled: nothing was computed or saved; the results below (if any) are the previous "
                "ones.", icon=":material/cancel:")
        return True
    return False


def run_with_progress(fn: Callable[[ProgressTracker], Any], *, key: str, label: str,
                      cancel_label: str = "Cancel") -> RunOutcome:
    """Run ``fn(progress)`` under a progress bar with an ETA and a Cancel button.

    Parameters
    ----------
    fn : callable(progress) -> result
        Calls the engine with ``progress=progress``.
    key : str
        Unique per page and run type; the Cancel button has key ``f"{key}-cancel"`` and the running
        panel ``f"{key}-running"`` (``st-key-…`` classes for browser tests).
    label : str
        Text of the bar (``"Simulating…"``).

    Returns
    -------
    RunOutcome
        ``wall_s`` is the wall time from the call to the result, compilation and imports included:
        what the user waited. Errors are shown with :func:`app.widgets.show_error`.
    """
    panel = st.empty()
    box = panel.container(key=f"{key}-running")
    bar = box.progress(0.0, text=f"{label} starting…")
    box.button(cancel_label, key=f"{key}-cancel", icon=":material/cancel:", on_click=_request_cancel, args=(key,),
               help="Stop this run: nothing is kept or saved.")
    tracker = ProgressTracker(report=lambda f, text: bar.progress(f, text=text),
                              stop=lambda: bool(st.session_state.get(cancel_flag(key))), label=label,
                              min_interval_s=REDRAW_S)
    t0 = time.perf_counter()
    try:
        value = fn(tracker)
    except RunCancelled:
        panel.empty()
        st.session_state.pop(cancel_flag(key), None)
        st.info(f"{label.rstrip('…. ')} cancelled after {format_seconds(time.perf_counter() - t0)}: nothing was "
                "kept or saved.", icon=":material/cancel:")
        return RunOutcome(None, time.perf_counter() - t0, cancelled=True)
    except Exception as exc:  # shown to the person, never a traceback
        panel.empty()
        show_error(exc)
        return RunOutcome(None, time.perf_counter() - t0, failed=True)
    panel.empty()
    return RunOutcome(value, time.perf_counter() - t0)
