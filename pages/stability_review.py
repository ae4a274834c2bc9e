"""Stability Review: stability score and risk level over a whole run or dataset, for managers.

The worst periods, the alerts raised then, and downloads (CSV timeline, HTML report). The maths is
:mod:`riskcore.monitor.review`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.cached import stability_review
from app.data_widgets import price_source_picker
from app.page_state import KEEP
from app.widgets import fmt_table, get_store, run_picker, show_error
from riskcore.monitor.alerts import SEVERITY_COLOURS, Severity
from riskcore.monitor.review import StabilityReview, review_run
from riskcore.monitor.session import RUN_KIND
from riskcore.peg.pegcheck import peg_check, score_is_flat
from riskcore.plots.monitor import stability_timeline_figure
from riskcore.reports.monitor import stability_review_html

SOURCES = ("Price data", "Saved monitoring session", "Saved Monte Carlo run")
CACHE_KEY = "sr_cache"


def _severity_style(df: pd.DataFrame):
    if df.empty or "severity" not in df:
        return df

    def row_style(row: pd.Series) -> list[str]:
        try:
            return [f"background-color: {SEVERITY_COLOURS[Severity(str(row['severity']))]}33"] * len(row)
        except ValueError:
            return [""] * len(row)

    return df.style.apply(row_style, axis=1)


def _cached(key: tuple, make) -> StabilityReview:
    cache = st.session_state.setdefault(CACHE_KEY, {})
    if key not in cache:
        cache.clear()  # keep one review: they hold a row per tick
        cache[key] = make()
    return cache[key]


st.title("Stability Review")
st.caption("How stable was the token over a whole period? The stability score (0–100) and risk level tick by "
           "tick, the worst periods, and the alerts raised then — for a price dataset, a saved Live Monitor "
           "session or a kept path of a saved Monte Carlo run.")

try:
    store = get_store()
except Exception as exc:
    show_error(exc)
    st.stop()

source = st.radio("Review", SOURCES, horizontal=True, key="sr_source", **KEEP)
c1, c2, c3 = st.columns(3)
window = c1.number_input("Worst-period length (ticks)", min_value=1, max_value=500, value=10, step=1, key="sr_window",
                         **KEEP)
n_worst = c2.number_input("Worst periods shown", min_value=1, max_value=20, value=5, step=1, key="sr_n", **KEEP)
ensemble = c3.checkbox("Refit ensemble weights every 250 ticks", value=True, key="sr_ensemble", **KEEP,
                       help="Off: the four per-tick VaR methods weighted equally (faster).")

review: StabilityReview | None = None
try:
    if source == SOURCES[0]:
        series = price_source_picker("sr_data", store)
        if series is not None:
            key = ("series", series.name, series.checksum, len(series), bool(ensemble))
            with st.spinner(f"Replaying {len(series):,} prices through the token monitor…"):
                review = _cached(key, lambda: stability_review(series, bool(ensemble)))  # shared per process
    elif source == SOURCES[1]:
        run_id = run_picker(store, RUN_KIND, "Saved session", key="sr_run_monitor")
        if run_id:
            review = _cached(("run", run_id), lambda: review_run(store, run_id))
    else:
        run_id = run_picker(store, "peg_simulation", "Saved Monte Carlo run", key="sr_run_peg")
        if run_id:
            path = st.number_input("Kept path", min_value=0, value=0, step=1, key="sr_path", **KEEP)
            with st.spinner("Replaying the path through the token monitor…"):
                review = _cached(("peg", run_id, int(path), bool(ensemble)),
                                 lambda: review_run(store, run_id, path=int(path), ensemble=bool(ensemble)))
except Exception as exc:
    show_error(exc)

if review is None:
    st.stop()

summary = review.summary()["value"]
worst = review.worst_periods(int(n_worst), int(window))
check = peg_check(review.frame["price"])
if not check.pegged:
    st.warning(check.message, icon=":material/warning:")
m = st.columns(5)
m[0].metric("Ticks", f"{int(summary['ticks']):,}")
m[1].metric("Mean stability", f"{summary['score_mean']:.1f}")
m[2].metric("Lowest stability", f"{summary['score_min']:.1f}")
m[3].metric("Final risk level", str(summary["final_level"]).upper())
m[4].metric("Alerts raised", int(summary["alerts_raised"]))

with st.container(key="sr-results"):
    st.plotly_chart(stability_timeline_figure(review, worst=worst), width="stretch", key="sr_timeline")

st.subheader(f"Worst {len(worst)} periods of {int(window)} ticks")
st.caption("Non-overlapping windows with the lowest mean stability score, worst first, with the alerts raised in "
           "each.")
if score_is_flat(review.frame["stability_score"]):
    st.warning("The stability score has the same value for almost the whole period, so the ranking cannot tell the "
               "periods apart: those listed are the first windows of the series (before the VaR has enough "
               "returns), not its worst moments.", icon=":material/warning:")
fmt_table(worst.drop(columns=["start_seq", "end_seq"]).style.format(
    {"mean_score": "{:.1f}", "min_score": "{:.1f}", "start": "{:%Y-%m-%d %H:%M}", "end": "{:%Y-%m-%d %H:%M}"}),
    hide_index=True)

st.subheader("Alerts raised or cleared in the worst periods")
alerts = review.alerts
inside = review.alerts_in_periods(worst)
if inside.empty:
    st.info("No alert was raised or cleared in the worst periods.")
else:
    st.dataframe(_severity_style(inside[["period", "status", "severity", "level", "alert_type", "message", "at",
                                         "tick"]]), width="stretch", hide_index=True)

c1, c2 = st.columns(2)
with c1:
    st.subheader("Time at each risk level")
    fmt_table(review.level_counts().style.format({"share": "{:.1%}"}))
with c2:
    st.subheader("Alerts by severity")
    counts = review.alert_counts()
    if counts.empty:
        st.success("No alerts in this period.", icon=":material/check_circle:")
    else:
        st.dataframe(_severity_style(counts), width="stretch", hide_index=True)

with st.expander(f"Full alert history ({len(alerts)})"):
    if not alerts.empty:
        st.dataframe(_severity_style(alerts[["status", "severity", "level", "alert_type", "message", "created_at",
                                             "cleared_at", "seq"]]), width="stretch", hide_index=True)
    if review.decisions:
        st.caption("Automatic responses recorded (never executed):")
        fmt_table(pd.DataFrame(review.decisions), hide_index=True)

st.subheader("Download")
safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in review.name)[:60]
d1, d2, d3, d4 = st.columns(4)
d1.download_button("Timeline (CSV)", review.frame.to_csv(index=False).encode(),
                   file_name=f"stability_review_{safe}.csv", mime="text/csv", key="sr_dl-csv",
                   icon=":material/download:", help="One row per tick: price, VaR in price terms, stability, level.")
d2.download_button("Worst periods (CSV)", worst.to_csv(index=False).encode(),
                   file_name=f"stability_review_{safe}_worst.csv", mime="text/csv", key="sr_dl-worst",
                   icon=":material/download:")
d3.download_button("Alerts (CSV)", alerts.to_csv(index=False).encode(), file_name=f"stability_review_{safe}_alerts.csv",
                   mime="text/csv", key="sr_dl-alerts", icon=":material/download:",
                   help="Every alert raised (ACTIVE) and cleared (CLEARED), oldest first.")


def _report(r: StabilityReview = review, n: int = int(n_worst), w: int = int(window)) -> str:
    """The standalone HTML report (plotly.js inline, ~5 MB): built only when the button is clicked."""
    return stability_review_html(r, n_worst=n, window=w)


d4.download_button("HTML report", data=_report, file_name=f"stability_review_{safe}.html",
                   mime="text/html", key="sr_dl-html", icon=":material/description:", on_click="ignore",
                   help="Standalone: summary, worst periods, alerts and the interactive chart (opens offline).")
if review.source.get("kind") != "monitor" and st.button("Save review", key="sr_save", icon=":material/save:"):
    try:
        run_id = review.save(store)
        st.success(f"Saved as run {run_id[:8]}; reopen it under 'Saved monitoring session'.")
    except Exception as exc:
        show_error(exc)
