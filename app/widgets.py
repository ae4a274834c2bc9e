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

#: session-state key holding the current ModelParameters (Calibration -> Scenario Lab)
PARAMS_KEY = "model_params"


@st.cache_resource(show_spinner=False)
def _store_for(path: str) -> Store:
    return Store(path, timeout=STORE_TIMEOUT_S)


def get_store() -> Store:
    """The store for ``$RISKCORE_DB`` (or the default file), one per path per server."""
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
    """Selectbox over saved runs of ``kind``; returns the chosen run id or None."""
    runs = store.list_runs(kind)
    if runs.empty:
        st.caption("No saved runs yet.")
        return None
    labels = {r.run_id: f"{r.name or '(unnamed)'} · {pd.Timestamp(r.created_at):%Y-%m-%d %H:%M} · {r.run_id[:8]}"
              for r in runs.itertuples()}
    return st.selectbox(label, list(labels), format_func=labels.get, key=key)


def fmt_table(df: pd.DataFrame, **kwargs: Any) -> None:
    """A dataframe at full width."""
    st.dataframe(df, width="stretch", **kwargs)
