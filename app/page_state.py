"""Inputs and results of a page kept together in session state, and "out of date" marking.

Streamlit forgets a widget's value when a script run does not draw it (the user is on another
page), while values the page put in ``st.session_state`` itself survive. So a page that kept its
results but not its inputs showed, after a visit elsewhere, old numbers under default inputs.
Both halves are fixed here:

* every value widget of the pages passes ``**KEEP`` (``persist_state="session"``, Streamlit's own
  keep-across-pages option), so inputs come back with the results;
* :meth:`PageState.set_result` stores a result with the inputs that produced it, and
  :meth:`PageState.stale_notice` compares them with the current inputs: when one changed it shows
  a caption naming what changed and a *Re-run* button, so old numbers are never presented as the
  answer to new inputs.

No maths here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

__all__ = ["PageState", "ResultEntry", "KEEP"]

#: keyword arguments of every value widget on the pages: keep its value across page switches
KEEP: dict[str, Any] = {"persist_state": "session"}


@dataclass(frozen=True)
class ResultEntry:
    """A result, the inputs that produced it and the seconds the user waited for it."""

    value: Any
    inputs: Mapping[str, Any] | None
    wall_s: float | None = None

    @property
    def loaded(self) -> bool:
        """Opened from the store rather than computed from the page's inputs."""
        return self.inputs is None


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # arrays and frames: compare by identity
        return a is b


class PageState:
    """Results of one page with the inputs that produced them.

    Parameters
    ----------
    page : str
        Page name (namespace of the stored entries).
    """

    def __init__(self, page: str):
        self.page = page
        self._meta: dict[str, ResultEntry] = st.session_state.setdefault(f"_page_results::{page}", {})

    # -- results -----------------------------------------------------------------------------
    def set_result(self, key: str, value: Any, inputs: Mapping[str, Any] | None,
                   wall_s: float | None = None) -> None:
        """Keep ``value`` under ``st.session_state[key]`` with the ``inputs`` that produced it.

        ``inputs=None`` marks a result opened from the store (not computed from the page's inputs).
        """
        st.session_state[key] = value
        self._meta[key] = ResultEntry(value, None if inputs is None else dict(inputs), wall_s)

    def replace_value(self, key: str, value: Any) -> None:
        """Swap the stored result for an updated copy (e.g. with its run id once saved), same inputs."""
        entry = self.entry(key)
        if entry is None:
            st.session_state[key] = value
        else:
            self.set_result(key, value, entry.inputs, entry.wall_s)

    def result(self, key: str) -> Any:
        return st.session_state.get(key)

    def entry(self, key: str) -> ResultEntry | None:
        """The stored entry, or None (also when the result was replaced without :meth:`set_result`)."""
        entry = self._meta.get(key)
        value = st.session_state.get(key)
        if value is None:
            return None
        if entry is None or entry.value is not value:
            return None
        return entry

    def clear(self, key: str) -> None:
        st.session_state.pop(key, None)
        self._meta.pop(key, None)

    def changed(self, key: str, inputs: Mapping[str, Any]) -> list[str]:
        """Names of the inputs that differ from those of the stored result (empty: up to date)."""
        entry = self.entry(key)
        if entry is None or entry.inputs is None:
            return []
        names = dict.fromkeys([*entry.inputs, *inputs])
        return [n for n in names if not _same(entry.inputs.get(n), inputs.get(n))]

    def stale_notice(self, key: str, inputs: Mapping[str, Any], *, button_key: str,
                     what: str = "These results", rerun_label: str = "Re-run with the current inputs") -> bool:
        """Mark the result ``key`` out of date when ``inputs`` changed; True when *Re-run* was pressed.

        Draws, in a container keyed ``button_key + "-box"`` (so ``st-key-…`` in a browser), a caption
        naming the changed inputs and a re-run button keyed ``button_key``.
        """
        entry = self.entry(key)
        if entry is not None and entry.loaded:
            with st.container(key=f"{button_key}-box"):
                st.caption(f"{what} are a saved run opened from the store, not computed from the inputs above.")
                return st.button("Run with the inputs above", key=button_key, icon=":material/refresh:")
        changed = self.changed(key, inputs)
        if not changed:
            return False
        with st.container(key=f"{button_key}-box"):
            shown = ", ".join(changed[:6]) + (f" and {len(changed) - 6} more" if len(changed) > 6 else "")
            st.caption(f":orange[**Out of date**] — {what} are for the previous inputs; changed since: {shown}.")
            return st.button(rerun_label, key=button_key, icon=":material/refresh:")
