"""Price-data widgets shared by the pages (Calibration, VaR Lab, Stability Review, Live Monitor).

No maths here: parsing and validation are :func:`riskcore.data.load_prices`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app.page_state import KEEP
from app.safety import md
from app.widgets import derived_text_input, fmt_table, show_error
from riskcore.data import (
    MAX_FILE_BYTES,
    PriceSeries,
    TableLayout,
    ValueKind,
    inspect_table,
    load_mapped,
    load_prices,
    load_sample,
    sample_datasets,
)
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


@dataclass(frozen=True)
class _Mapping:
    date: str | None
    value: str | None
    kind: ValueKind
    dedupe: bool


def _layout(key: str, file_id: str, data: bytes) -> TableLayout | InputError:
    cache = st.session_state.get(f"{key}-layout")
    if cache is not None and cache[0] == file_id:
        return cache[1]
    try:
        layout: TableLayout | InputError = inspect_table(data)
    except InputError as exc:
        layout = exc
    st.session_state[f"{key}-layout"] = (file_id, layout)
    return layout


def _mapping_step(key: str, file_id: str, layout: TableLayout, auto: PriceSeries | None) -> _Mapping:
    """The column-mapping widgets; defaults: what load_prices used, else the layout's suggestion."""
    cols = list(layout.columns)
    rep = None if auto is None else auto.report
    d0 = rep.date_column if rep is not None and rep.date_column in cols else layout.date_column
    v0 = rep.price_column if rep is not None and rep.price_column in cols else layout.value_column
    k0 = ValueKind.PRICE if auto is not None else layout.value_kind
    expanded = auto is None or layout.needs_mapping or layout.n_duplicate_rows > 0
    with st.expander("Column mapping", expanded=expanded, icon=":material/table_view:"), \
            st.container(key=f"{key}-mapping"):
        for note in layout.notes:
            st.caption(f"• {note}")
        if expanded:  # the first rows, when the mapping needs a look (a collapsed one names the columns)
            fmt_table(layout.preview, hide_index=True, height=180)
        else:
            st.caption(f"Columns: {', '.join(cols)} · {layout.n_rows:,} data rows · separator {layout.separator!r}")
        m1, m2, m3 = st.columns(3)
        k = f"{key}-map-{file_id[:12]}"  # a new file starts from its own suggestion
        date = m1.selectbox("Date column", cols, index=cols.index(d0) if d0 in cols else None, key=f"{k}-date",
                            placeholder="choose the date column")
        value = m2.selectbox("Value column", cols, index=cols.index(v0) if v0 in cols else None, key=f"{k}-value",
                             placeholder="choose the value column")
        kinds = list(ValueKind)
        kind = m3.radio("Values are", kinds, index=kinds.index(k0), format_func=lambda v: v.label, key=f"{k}-kind")
        dedupe = False
        if layout.n_duplicate_rows:
            dedupe = st.checkbox(f"Drop the {layout.n_duplicate_rows} exact duplicate row(s)", value=True,
                                 key=f"{k}-dedupe")
    return _Mapping(date, value, ValueKind(kind), bool(dedupe))


def _load_upload(key: str, file_id: str, data: bytes, file_name: str | None) -> PriceSeries | None:
    """load_prices first (the file as it is); the mapping step decides whether to read it mapped instead."""
    cache = st.session_state.get(f"{key}-auto")
    if cache is not None and cache[0] == file_id:
        auto, auto_err = cache[1], cache[2]
    else:
        try:
            auto, auto_err = parse_upload(data, file_name), None
        except InputError as exc:
            auto, auto_err = None, exc
        st.session_state[f"{key}-auto"] = (file_id, auto, auto_err)
    layout = _layout(key, file_id, data)
    if isinstance(layout, InputError):  # not even a table: the loader's own message says most
        show_error(auto_err or layout)
        return auto
    mapping = _mapping_step(key, file_id, layout, auto)
    if auto is not None and mapping == _Mapping(auto.report.date_column, auto.report.price_column, ValueKind.PRICE,
                                                False):
        return auto
    if mapping.date is None or mapping.value is None:
        if auto_err is not None:
            show_error(auto_err)
        st.info("Choose the date and the value column under **Column mapping**.", icon=":material/table_view:")
        return None
    cache_key = (file_id, mapping)
    cached = st.session_state.get(f"{key}-mapped")
    if cached is not None and cached[0] == cache_key:
        return cached[1]
    try:
        series = load_mapped(data, mapping.date, mapping.value, mapping.kind, drop_duplicates=mapping.dedupe,
                             name=Path(file_name).stem if file_name else "upload", source_name=file_name)
    except InputError as exc:
        show_error(exc)
        return None
    st.session_state[f"{key}-mapped"] = (cache_key, series)
    st.caption(f"Read with the column mapping: dates from **{mapping.date}**, {mapping.kind.label} from "
               f"**{mapping.value}**.")
    return series


def _upload(key: str, store: Any) -> PriceSeries | None:
    up = st.file_uploader(f"Price CSV (up to {MAX_FILE_BYTES // 2**20} MB)", type=["csv", "txt"],
                          key=f"{key}-upload",
                          help="A date column and a price or returns column; several value columns, title lines "
                               "above the header and returns files are handled by the column mapping. Comma, "
                               "semicolon, tab or | separated.")
    kept = f"{key}-last-upload"
    if up is None:
        last: PriceSeries | None = st.session_state.get(kept)
        if last is None:
            st.caption("Upload a CSV with a date and a price column (e.g. a Yahoo Finance download).")
            return None
        # the upload widget forgets its file when the user visits another page; the series does not
        c1, c2 = st.columns([3, 1], vertical_alignment="center")
        c1.caption(f"Using the file uploaded earlier: **{last.source_name or last.name}** (upload another to "
                   "replace it).")
        if c2.button("Forget it", key=f"{key}-forget", icon=":material/close:"):
            st.session_state.pop(kept, None)
            st.rerun()
        series = last
    else:
        series = _load_upload(key, up.file_id, up.getvalue(), up.name)
        if series is None:
            st.session_state.pop(kept, None)
            return None
        st.session_state[kept] = series
    cols = st.columns([3, 1], vertical_alignment="bottom")
    ds_name = derived_text_input("Dataset name", series.name, key=f"{key}-dsname", container=cols[0])
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
    if st.session_state.get(f"{key}-stored") not in labels:
        st.session_state.pop(f"{key}-stored", None)  # deleted meanwhile: back to the newest
    chosen = st.selectbox("Stored dataset", list(labels), format_func=labels.get, key=f"{key}-stored", **KEEP)
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
    source = st.radio("Price data", SOURCES, horizontal=True, key=f"{key}-source", **KEEP)
    series: PriceSeries | None = None
    if source == "Sample":
        names = list(sample_datasets())
        name = st.selectbox("Sample", names, format_func=lambda n: _SAMPLE_LABELS.get(n, n), key=f"{key}-sample",
                            **KEEP)
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
