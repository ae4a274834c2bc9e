"""Home: what riskcore is, and what is in the store."""

import streamlit as st

from app.widgets import fmt_table, get_store, show_error

st.title("riskcore workbench")
st.markdown(
    "Risk analytics for **stable tokens** (jump-diffusion peg model, Monte Carlo stress tests, calibration) "
    "and **trading portfolios** (Value at Risk with backtests, position sizing, risk agents, live monitoring). "
    "Everything here is also a library call: `from riskcore import ...` in a notebook gives the same numbers."
)

try:
    store = get_store()
    counts = store.counts()
    cols = st.columns(4)
    cols[0].metric("Runs", counts["runs"])
    cols[1].metric("Datasets", counts["datasets"])
    cols[2].metric("Parameter sets", counts["param_sets"])
    cols[3].metric("Alerts", counts["alerts"])

    st.subheader("Recent runs")
    runs = store.list_runs(limit=20)
    if runs.empty:
        st.info("No runs yet. Start with the Scenario Lab or the VaR Lab.")
    else:
        fmt_table(runs, hide_index=True)

    st.subheader("Datasets")
    datasets = store.list_datasets()
    if datasets.empty:
        st.info("No datasets yet. Upload a price CSV on the Calibration page.")
    else:
        fmt_table(datasets, hide_index=True)
except Exception as exc:
    show_error(exc)
