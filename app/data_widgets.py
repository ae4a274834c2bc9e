"""Price-data widgets shared by the pages (Calibration, VaR Lab, Stability Review, Live Monitor).

No maths here: parsing and validation are :func:`riskcore.data.load_prices`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app.safety import md
from app.widgets import fmt_table, show_error
from riskcore.data import MAX_FILE_BYTES, PriceSeries, load_prices, load_sample, sample_datasets
from riskcore.errors import InputError

__all__ = ["price_source_picker", "show_quality_report", "parse_upload", "SOURCES"]

#: choices of :func:`price_source_picker`, the first is the default
SOURCES: tuple[str, ...] = ("Sample", "Stored dataset", "Upload CSV")
_SAMPLE_LABELS = {"stable_token": "Stable token (simulated by the model)", "sp500": "S&P 500 index (arch.data)"}


@st.cache_data(show_spinner=False)
def _sample(name: str) -> PriceSeries:
    return load_sample(name)


def parse_upload(data: bytes, file_name: str | None) -> PriceSeries:
    """Validate an uploaded file's bytes (what the upload widget calls); raises InputError."""
    name = Path(file_name).stem if file_name else "upload"
    return load_prices(data, name=name, source_name=file_name)


def _upload(key: str, store: Any) -> PriceSeries | None:
    up = st.file_uploader(f"Price CSV (up to {MAX_FILE_BYTES // 2**20} MB)", type=["csv", "txt"],
                          key=f"{key}-upload",
                          help="A date column (Date, timestamp, ...) and a price column (Close, Adj Close, Price); "
                               "optional Volume and fiat_flow. Comma or semicolon separated.")
    if up is None:
        st.caption("Upload a CSV with a date and a price column (e.g. a Yahoo Finance download).")
        return None
    cache_key = f"{key}-parsed"
    cached = st.session_state.get(cache_key)
    if cached is not None and cached[0] == up.file_id:
        series = cached[1]
    else:
        try:
            series = parse_upload(up.getvalue(), up.name)
        except InputError as exc:
            st.session_state.pop(cache_key, None)
            show_error(exc)
            return None
        st.session_state[cache_key] = (up.file_id, series)
    cols = st.columns([3, 1], vertical_alignment="bottom")
    ds_name = cols[0].text_input("Dataset name", value=series.name, key=f"{key}-dsname")
    if cols[1].button("Save to store", key=f"{key}-save", icon=":material/save:"):
        try:
            dataset_id = series.save(store, ds_name)
            st.success(f"Saved dataset '{md(ds_name)}' ({len(series)} rows, id {dataset_id}).")
        except Exception as exc:  # a store error must not break the page
            show_error(exc)
    return series


def _stored(key: str, store: Any) -> PriceSeries | None:
    try:
        datasets = store.list_datasets()
    except Exception as exc:
        show_error(exc)
        return None
    if datasets.empty:
        st.info("No stored datasets yet: upload a CSV and save it, or use a sample.")
        return None
    labels = {r.dataset_id: f"{r.name} · {r.n_rows} rows · {pd.Timestamp(r.start_date):%Y-%m-%d} to "
                            f"{pd.Timestamp(r.end_date):%Y-%m-%d} · {r.dataset_id[:8]}"
              for r in datasets.itertuples()}
    chosen = st.selectbox("Stored dataset", list(labels), format_func=labels.get, key=f"{key}-stored")
    try:
        return PriceSeries.from_store(store, chosen)
    except Exception as exc:
        show_error(exc)
        return None


def price_source_picker(key: str, store: Any) -> PriceSeries | None:
    """Choose a price series: a shipped sample (default), a stored dataset or an uploaded CSV.

    Parameters
    ----------
    key : str
        Prefix of the widget keys (unique per page).
    store : riskcore.store.Store
        Where stored datasets are listed and uploads can be saved.

    Returns
    -------
    PriceSeries or None
        None while nothing valid is chosen (a rejected upload shows its error).
    """
    source = st.radio("Price data", SOURCES, horizontal=True, key=f"{key}-source")
    series: PriceSeries | None = None
    if source == "Sample":
        names = list(sample_datasets())
        name = st.selectbox("Sample", names, format_func=lambda n: _SAMPLE_LABELS.get(n, n), key=f"{key}-sample")
        try:
            series = _sample(name)
        except InputError as exc:
            show_error(exc)
    elif source == "Stored dataset":
        series = _stored(key, store)
    else:
        series = _upload(key, store)
    if series is not None:
        rep = series.report
        st.caption(f"**{md(series.name)}** · {len(series):,} rows · {series.start:%Y-%m-%d} to {series.end:%Y-%m-%d}"
                   + (f" · {len(rep.warnings)} data-quality warning(s)" if rep.warnings else ""))
    return series


def show_quality_report(series: PriceSeries) -> None:
    """The data-quality report of ``series``: warnings, then the checks as a table."""
    rep = series.report
    for w in rep.warnings:
        st.warning(w, icon=":material/warning:")
    if not rep.warnings:
        st.success("No data-quality issues found.", icon=":material/check_circle:")
    fmt_table(rep.summary(), hide_index=True)
    if rep.gaps:
        st.caption("Largest gaps")
        fmt_table(pd.DataFrame(list(rep.gaps), columns=["from", "to", "days"]), hide_index=True)
