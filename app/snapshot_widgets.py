"""The Settings page's "Risk-state snapshots" section and the app's risk state it saves and restores.

What the app's risk state is: one :class:`riskcore.recovery.RiskRuntime` per store and server
process (a risk event processor on the calm book and a portfolio monitor that continues the stored
portfolio alert episodes), whose monitor is this session's Live Monitor portfolio monitor when the
session has one. "Snapshot now" saves that; a restore replaces it and hands the restored monitor
(thresholds, active alerts, history) to this session's Live Monitor. No maths here.
"""

from __future__ import annotations

import threading
import warnings

import pandas as pd
import streamlit as st

from app.widgets import fmt_table, show_error
from riskcore.monitor.alerts import open_alerts
from riskcore.monitor.portfolio import PortfolioMonitor
from riskcore.portfolio.events import RiskEventProcessor
from riskcore.recovery import RiskRuntime, list_snapshots, restore, snapshot

#: the Live Monitor's session-state key of its portfolio monitor (pages/live_monitor.py PORTFOLIO_KEY)
LIVE_MONITOR_PORTFOLIO_KEY = "lm_portfolio"
CONFIRM_KEY = "snap_confirm"
RESULT_KEY = "snap_restored"

_guard = threading.Lock()
_runtimes: dict[str, RiskRuntime] = {}


def app_runtime(store) -> RiskRuntime:
    """The process-wide runtime of ``store`` (built on first use), with this session's portfolio monitor."""
    key = str(store.path)
    with _guard:
        rt = _runtimes.get(key)
        if rt is None:
            monitor = PortfolioMonitor(n_simulations=2000)
            monitor.engine.restore(open_alerts(store, monitor.engine.source))
            rt = _runtimes[key] = RiskRuntime(RiskEventProcessor(n_simulations=1000), monitor)
    session_monitor = st.session_state.get(LIVE_MONITOR_PORTFOLIO_KEY)
    if isinstance(session_monitor, PortfolioMonitor):
        rt.monitor = session_monitor
    return rt


def set_app_runtime(store, rt: RiskRuntime) -> None:
    with _guard:
        _runtimes[str(store.path)] = rt
    if rt.monitor is not None:
        st.session_state[LIVE_MONITOR_PORTFOLIO_KEY] = rt.monitor


def reset() -> None:
    """Forget every process-wide runtime (tests)."""
    with _guard:
        _runtimes.clear()


def _label(row: pd.Series) -> str:
    reason = f" · {row['reason']}" if isinstance(row["reason"], str) and row["reason"] else ""
    return f"{pd.Timestamp(row['created_at']):%Y-%m-%d %H:%M:%S} · {row['kind']}{reason} · {row['snapshot_id']}"


def snapshot_section(store) -> None:
    """List snapshots, take one now, restore one after a confirmation."""
    st.header("Risk-state snapshots")
    st.caption("A snapshot holds the risk state (PRD §5.2): active team, critic, risk metrics, portfolio, VaR "
               "engine, correlation matrix, alert thresholds and active alerts, price and volume windows, volatility "
               "state. The app's risk state is this server's risk event processor (calm book) and the portfolio "
               "monitor of this session's Live Monitor (or the server's own). Scheduled snapshots (hourly, 24 "
               "kept) and emergency backups come from the library's scheduler.")
    c1, c2 = st.columns([3, 1])
    reason = c1.text_input("Reason (optional)", key="snap_reason", max_chars=500)
    if c2.button("Snapshot now", key="snap_now", icon=":material/save:"):
        try:
            info = snapshot(store, app_runtime(store), reason=reason or None)
            st.success(f"Snapshot {info.snapshot_id} saved ({info.n_bytes / 1024:.0f} KiB).",
                       icon=":material/check_circle:")
        except Exception as exc:
            show_error(exc)
    try:
        rows = list_snapshots(store)
    except Exception as exc:
        show_error(exc)
        return
    if rows.empty:
        st.info("No snapshot yet.")
        return
    view = pd.DataFrame({"time (UTC)": rows["created_at"], "kind": rows["kind"],
                         "reason": rows["reason"].fillna(""), "size (KiB)": (rows["n_bytes"] / 1024).round(1),
                         "id": rows["snapshot_id"]})
    fmt_table(view, hide_index=True)
    labels = {r["snapshot_id"]: _label(r) for _, r in rows.iterrows()}
    pick = st.selectbox("Snapshot to restore", list(labels), format_func=labels.get, key="snap_pick")
    st.button("Restore…", key="snap_restore", icon=":material/restore:",
              on_click=lambda: st.session_state.__setitem__(CONFIRM_KEY, pick))
    pending = st.session_state.get(CONFIRM_KEY)
    if pending is not None:
        st.warning(f"Restore {labels.get(pending, pending)}? This replaces the app's risk state (positions, "
                   "risk state, alerts) with the snapshot's.", icon=":material/warning:")
        y, n = st.columns(2)
        yes = y.button("Yes, restore", key="snap_confirm_yes", type="primary")
        n.button("Cancel", key="snap_confirm_no", on_click=lambda: st.session_state.pop(CONFIRM_KEY, None))
        if yes:
            st.session_state.pop(CONFIRM_KEY, None)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the result's messages are shown below
                    result = restore(store, pending)
                set_app_runtime(store, result.runtime)
                st.session_state[RESULT_KEY] = result
            except Exception as exc:
                show_error(exc)
    result = st.session_state.get(RESULT_KEY)
    if result is not None:
        st.success(f"Restored snapshot {result.info.snapshot_id} in {result.seconds * 1e3:.0f} ms: the app's risk "
                   "state is the snapshot's; the Live Monitor of this session shows its portfolio alerts.",
                   icon=":material/check_circle:")
        for m in result.messages:
            st.warning(m, icon=":material/warning:")
        fmt_table(result.summary().astype(str))
