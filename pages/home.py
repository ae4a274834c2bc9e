"""Home: what riskcore is, where to start, and what is in the store."""

from pathlib import Path

import streamlit as st

from app.widgets import fmt_table, get_store, show_error
from riskcore.store.groups import list_top_runs

st.title("riskcore workbench")
st.markdown(
    "Risk analytics for **stable tokens** (jump-diffusion peg model, Monte Carlo stress tests, calibration) "
    "and **trading portfolios** (Value at Risk with backtests, position sizing, risk agents, live monitoring). "
    "Everything here is also a library call: `from riskcore import ...` in a notebook gives the same numbers "
    "and reads the same store."
)

PAGES_DIR = Path(__file__).resolve().parent
START = [
    ("pages/scenario_lab.py", "Scenario Lab", "Stress the peg under bank runs, fiat flight, crashes."),
    ("pages/calibration.py", "Calibration", "Upload a price CSV and fit the model by maximum likelihood."),
    ("pages/var_lab.py", "VaR Lab", "Five VaR methods, their ensemble and rolling backtests."),
    ("pages/agent_inspector.py", "Agent Inspector", "Submit a trade to the four risk agents and the critic."),
    ("pages/live_monitor.py", "Live Monitor", "Stability score and alerts on a live feed."),
    ("pages/stability_review.py", "Stability Review", "Stability over time, worst periods, their alerts."),
]
cols = st.columns(3)
for i, (path, label, help_text) in enumerate(START):
    with cols[i % 3]:
        try:
            st.page_link(str(PAGES_DIR.parent / path), label=label, icon=":material/arrow_forward:")
        except Exception:  # a page missing from this build: show the name only
            st.caption(label)
        st.caption(help_text)

try:
    store = get_store()
    counts = store.counts()
    cols = st.columns(4)
    cols[0].metric("Runs", counts["runs"])
    cols[1].metric("Datasets", counts["datasets"])
    cols[2].metric("Parameter sets", counts["param_sets"])
    cols[3].metric("Alerts", counts["alerts"])

    with st.container(key="home-recent"):
        st.subheader("Recent runs")
        # runs of a stress report are listed under it (n_children), not one line each
        runs = list_top_runs(store, limit=20)
        if runs.empty:
            st.info("No runs yet. Start with the Scenario Lab or the VaR Lab.")
        else:
            fmt_table(runs.rename(columns={"n_children": "runs in it"}), hide_index=True)

    left, right = st.columns(2)
    with left:
        st.subheader("Datasets")
        datasets = store.list_datasets()
        if datasets.empty:
            st.info("No datasets yet. Upload a price CSV on the Calibration page.")
        else:
            fmt_table(datasets[["name", "source_name", "n_rows", "start_date", "end_date", "created_at"]],
                      hide_index=True)
    with right:
        st.subheader("Parameter sets")
        param_sets = store.list_param_sets()
        if param_sets.empty:
            st.info("No saved parameter sets. Calibrate, then save the fit as a named set.")
        else:
            fmt_table(param_sets, hide_index=True)

    alerts = store.list_alerts(limit=10)
    if not alerts.empty:
        st.subheader("Latest alerts")
        fmt_table(alerts[["created_at", "source", "metric", "severity", "status", "value", "threshold", "message"]],
                  hide_index=True)
except Exception as exc:
    show_error(exc)
