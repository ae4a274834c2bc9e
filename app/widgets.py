"""Widgets and helpers shared by the pages (no maths here)."""

from __future__ import annotations

import os
import traceback
from typing import Any

import pandas as pd
import streamlit as st

from app.safety import STORE_TIMEOUT_S, input_error_text, is_store_error, md, show_store_error
from riskcore.errors import InputError
from riskcore.params import ModelParameters
from riskcore.store import Store, default_db_path
from riskcore.store.groups import list_top_runs

#: session-state key holding the current ModelParameters (Calibration -> Scenario Lab)
PARAMS_KEY = "model_params"


@st.cache_resource(show_spinner=False)
def _store_for(path: str) -> Store:
    return Store(path, timeout=STORE_TIMEOUT_S)


def get_store() -> Store:
    """The store for ``$RISKCORE_DB`` (or the default file), one per path per server."""
    from app import warmup

    warmup.touch()  # every script run gets here (sidebar): the background warm-up lets it go first
    return _store_for(str(os.environ.get("RISKCORE_DB") or default_db_path()))


def show_error(exc: BaseException) -> None:
    """Show an error to a person: InputError verbatim, anything else briefly, never a traceback."""
    if is_store_error(exc):  # busy, damaged or read-only file: what to do (app/safety.py)
        show_store_error(exc)
    elif isinstance(exc, InputError):
        st.error(f"Invalid input — {input_error_text(exc)}", icon=":material/error:")
    else:
        st.error(f"Something went wrong: {type(exc).__name__}: {md(exc)}", icon=":material/error:")
        with st.expander("Technical details"):
            st.text("".join(traceback.format_exception_only(type(exc), exc)))


def current_params() -> ModelParameters:
    """ModelParameters in session state (defaults on first use)."""
    if PARAMS_KEY not in st.session_state:
        st.session_state[PARAMS_KEY] = ModelParameters()
    return st.session_state[PARAMS_KEY]


def download_buttons(name: str, table: pd.DataFrame | None = None, html: str | None = None,
                     key: str | None = None) -> None:
    """CSV download of ``table`` and HTML download of ``html`` side by side."""
    cols = st.columns(2)
    if table is not None:
        cols[0].download_button("Download CSV", table.to_csv().encode(), file_name=f"{name}.csv",
                                mime="text/csv", key=None if key is None else f"{key}-csv",
                                icon=":material/download:")
    if html is not None:
        cols[1].download_button("Download HTML report", html.encode(), file_name=f"{name}.html",
                                mime="text/html", key=None if key is None else f"{key}-html",
                                icon=":material/description:")


def run_picker(store: Store, kind: str | None, label: str = "Saved run", key: str | None = None) -> str | None:
    """Selectbox over saved runs of ``kind``, newest first; returns the chosen run id or None.

    Runs that belong to another run (the scenario runs of a stress report) are not listed: they are
    opened through their report. A run with runs under it says how many.
    """
    runs = list_top_runs(store, kind)
    if runs.empty:
        st.caption("No saved runs yet.")
        return None
    labels = {r.run_id: f"{r.name or '(unnamed)'} · {pd.Timestamp(r.created_at):%Y-%m-%d %H:%M} · {r.run_id[:8]}"
              + (f" · {r.n_children} runs" if r.n_children else "")
              for r in runs.itertuples()}
    # the choice is kept across views and pages (persist_state); a run deleted meanwhile falls back to the newest
    if key is not None and st.session_state.get(key) not in labels and key in st.session_state:
        del st.session_state[key]
    return st.selectbox(label, list(labels), format_func=labels.get, key=key,
                        **({} if key is None else {"persist_state": "session"}))


def follow_default(key: str, default: Any) -> None:
    """Give the widget ``key`` the value ``default`` unless the user has changed it from the last default.

    A keyed widget keeps the value of its first draw, so a default derived from the current
    selection (a name after the dataset, "all N returns") went stale when the selection changed.
    Call this just before drawing the widget, and draw it without ``value=``.
    """
    last_key = f"_default::{key}"
    if key not in st.session_state or st.session_state[key] == st.session_state.get(last_key):
        st.session_state[key] = default
    st.session_state[last_key] = default


def derived_text_input(label: str, default: str, key: str, container: Any = None, **kwargs: Any) -> str:
    """A text input whose default follows the current selection until the user edits it (:func:`follow_default`).

    Stale names this fixes: "calibrated-stable_token" after a NASDAQ fit, "baseline seed 0" on a
    bank_run result, "ensemble sp500" on other data.
    """
    follow_default(key, default)
    return (container or st).text_input(label, key=key, **kwargs)


def fmt_table(df: pd.DataFrame, **kwargs: Any) -> None:
    """A dataframe at full width."""
    st.dataframe(df, width="stretch", **kwargs)
