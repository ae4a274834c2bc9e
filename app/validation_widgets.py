"""Widgets of the validation work shared by pages (layout only)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.widgets import fmt_table
from riskcore.var.beyond_coverage import BEYOND_COLUMNS


def beyond_coverage_table(summary: pd.DataFrame) -> None:
    """The backtest summary's duration, DQ, Z2 and McNeil–Frey columns, with a one-line legend."""
    cols = [c for c in BEYOND_COLUMNS if c in summary.columns]
    if not cols:
        return
    st.markdown("**Beyond coverage** (the coverage table follows) — duration (Christoffersen–Pelletier, "
                "Monte Carlo p), dynamic quantile (Engle–Manganelli), ES backtests Z2 (Acerbi–Székely, "
                "simulated p and 5 % critical value) and McNeil–Frey (bootstrap p)")
    fmt_table(summary[cols], key="var-bt-beyond")
    st.caption("p < 0.05 rejects: durations not memoryless (dur_b < 1: clustered), violations predictable (DQ), "
               "tail losses beyond the forecast ES (Z2 below its critical value, McNeil–Frey).")
