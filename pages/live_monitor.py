"""Live Monitor: a stable token's risk as it moves — price and VaR band, stability, alerts.

The panel is a fragment that reruns itself every ``REFRESH_S`` seconds while the feed runs; each run
processes the ticks due since the last one (``MonitorSession.step``), so no background thread drives
the feed. The maths is in :mod:`riskcore.monitor`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.data_widgets import price_source_picker
from app.safety import md
from app.widgets import current_params, download_buttons, fmt_table, get_store, show_error
from riskcore.errors import InputError
from riskcore.monitor.alerts import (
    SEVERITY_COLOURS,
    AlertStatus,
    Severity,
    excess_ratio,
    open_alerts,
    with_channels,
)
from riskcore.monitor.feeds import ReplayFeed, SimulatedFeed
from riskcore.monitor.portfolio import PortfolioMonitor
from riskcore.monitor.routing import AlertRouter
from riskcore.monitor.session import MonitorSession
from riskcore.monitor.token import TOKEN_THRESHOLDS, TokenMonitor
from riskcore.peg.scenarios import PRESETS
from riskcore.plots.monitor import live_price_data, live_price_spec, stability_gauge
from riskcore.portfolio.context import Preset, preset

SESSION_KEY = "lm_session"
PORTFOLIO_KEY = "lm_portfolio"
#: seconds between two panel refreshes while the feed runs (a new tick shows within this)
REFRESH_S = 0.5
#: ticks processed at once when a feed is created, so the panel has something to show
PRIME_TICKS = 40
MARKETS = ("Simulated token market", "Replay a dataset")
#: how severity and notification level relate, shown next to every alert table. One rating is shown: the
#: severity (how far the metric is beyond its limit, or the seed table's fixed severity). The PRD's
#: notification level (INFO … EMERGENCY, riskcore.monitor.routing.level_for) only decides the channels,
#: so the tables show those channels instead of a second word that could contradict the first.
SEVERITY_NOTE = ("Severity is the one rating of an alert; it decides who is notified: LOW → webhook · MEDIUM → "
                 "webhook, Slack · HIGH and CRITICAL → webhook, Slack, e-mail · CRITICAL drawdown, margin or "
                 "liquidity → also SMS. Status: ACTIVE → ACKNOWLEDGED (someone has seen it, still open) → CLEARED "
                 "(back within the limit).")


def _severity_style(df: pd.DataFrame) -> pd.io.formats.style.Styler | pd.DataFrame:
    """Colour the rows of an alert table by severity (the PRD dashboard's colours)."""
    if df.empty or "severity" not in df:
        return df

    def row_style(row: pd.Series) -> list[str]:
        try:
            colour = SEVERITY_COLOURS[Severity(str(row["severity"]))]
        except ValueError:
            return [""] * len(row)
        return [f"background-color: {colour}33"] * len(row)

    return df.style.apply(row_style, axis=1)


#: severity markers for long alert tables (a pandas Styler costs ~0.6 ms per row on every refresh)
_MARKERS = {"CRITICAL": "🔴", "HIGH": "🟠", "MEDIUM": "🟡", "LOW": "🔵"}


def _marked(df: pd.DataFrame) -> pd.DataFrame:
    """The table with its severity prefixed by a coloured marker (cheap colouring for long tables)."""
    if df.empty or "severity" not in df:
        return df
    return df.assign(severity=[f"{_MARKERS.get(str(v), '⚪')} {v}" for v in df["severity"]])


def _build_session(store, market: str, scenario: str, seed: int, series, speed: float) -> MonitorSession:
    if market == MARKETS[0]:
        feed = SimulatedFeed(current_params(), PRESETS[scenario], seed=int(seed), speed=speed)
    else:
        if series is None:
            raise InputError("price data", "choose a price series to replay")
        feed = ReplayFeed(series, speed=speed, name=series.name)
    # the alerts' source is the market (feed.source_key): a reload continues the stored episodes
    sess = MonitorSession(feed, TokenMonitor(source=feed.source_key), AlertRouter.from_config(store), store)
    sess.prime(PRIME_TICKS)   # history: nothing is sent until Start or Step
    return sess


st.title("Live Monitor")
st.caption("Stable-token risk tick by tick: ensemble VaR in price terms, stability score (price 40 %, liquidity "
           "30 %, network 20 %, VaR 10 %), the source's alert table with the active / acknowledged / cleared life "
           "cycle. A new feed is primed with 40 ticks of history, which notify nobody; alerts of live ticks (Start, "
           "Step) go to the webhooks of the Settings page, once per episode, and are saved with the ticks. "
           "Reopening the page on the same market continues its saved episodes.")

try:
    store = get_store()
except Exception as exc:
    show_error(exc)
    st.stop()

with st.expander("Feed", expanded=SESSION_KEY not in st.session_state):
    market = st.radio("Market", MARKETS, horizontal=True, key="lm_market")
    series = None
    scenario, seed = "crash", 7
    if market == MARKETS[0]:
        c1, c2 = st.columns(2)
        scenario = c1.selectbox("Scenario", list(PRESETS), index=list(PRESETS).index("crash"), key="lm_scenario",
                                help="Presets of the Scenario Lab; model parameters are the current ones "
                                     "(Calibration writes them).")
        seed = c2.number_input("Seed", min_value=0, max_value=2**31 - 1, value=7, step=1, key="lm_seed")
        st.caption(PRESETS[scenario].description)
    else:
        series = price_source_picker("lm_data", store)
    build = st.button("Create feed with these settings", key="lm_build", icon=":material/restart_alt:")

speed = st.slider("Speed (ticks per second)", min_value=1, max_value=50, value=4, key="lm_speed")

# One slot for the spinner and any set-up error, present on every run: an element that is there on the first
# run only (the spinner) would shift the position of everything below, so the panel fragment would get a
# new identity on the next run and its chart would be rebuilt from blank.
setup = st.container()
if build or SESSION_KEY not in st.session_state:
    old = st.session_state.get(SESSION_KEY)
    with setup:
        try:
            with st.spinner("Preparing the feed…"):
                st.session_state[SESSION_KEY] = _build_session(store, market, scenario, seed, series, float(speed))
            if old is not None:
                old.close()
        except Exception as exc:
            show_error(exc)

sess: MonitorSession | None = st.session_state.get(SESSION_KEY)
if sess is None:
    st.stop()
if sess.feed.speed != float(speed):
    sess.feed.set_speed(float(speed))
try:
    if sess.reload_channels():
        st.toast("Webhook channels reloaded from the settings.")
except Exception as exc:
    with setup:
        show_error(exc)


def _start() -> None:
    st.session_state[SESSION_KEY].feed.start()


def _stop() -> None:
    s: MonitorSession = st.session_state[SESSION_KEY]
    s.feed.stop()
    s.flush()


# Start / Stop act in callbacks, before the script reruns: one rerun renders the buttons' new state and
# the fragment with (or without) its refresh timer, so the first tick shows one refresh after the click.
b1, b2, b3, b4 = st.columns(4)
b1.button("Start", key="lm_start", icon=":material/play_arrow:", disabled=sess.feed.running or sess.feed.exhausted,
          type="primary",
          on_click=_start)
b2.button("Stop", key="lm_stop", icon=":material/pause:", disabled=not sess.feed.running, on_click=_stop)
if b3.button("Step 10 ticks", key="lm_step", icon=":material/skip_next:", disabled=sess.feed.running):
    try:
        sess.run(10)
    except Exception as exc:
        show_error(exc)
if b4.button("Save session", key="lm_save", icon=":material/save:"):
    try:
        run_id = sess.save()
        st.success(f"Saved as run {run_id[:8]} (kind 'monitor'): open it in the Stability Review.")
    except Exception as exc:
        show_error(exc)


def _time_label(s: MonitorSession) -> str:
    return "raised at (simulated)" if getattr(s.feed, "kind", "") == "simulated" else "raised at (data time)"


@st.fragment(run_every=REFRESH_S if sess.feed.running else None)
def panel() -> None:
    """The live panel. Its layout is the same on every run (a fixed slot for notices, the chart always at
    the same place with the same key and the same traces), so a refresh updates the elements in place."""
    s: MonitorSession = st.session_state[SESSION_KEY]
    was_running = s.feed.running
    status_box = st.container(key="lm_status")
    notice = st.empty()       # one slot for a step error, a store warning or "no tick yet"
    try:
        s.step()
        step_error = None
    except Exception as exc:  # a bad tick or a store problem is shown, the panel keeps running
        step_error = exc
    if was_running and not s.feed.running:   # a replay reached its end: stop the timer, update the buttons
        st.rerun()
    snap = s.last
    state = "running" if s.feed.running else ("finished" if s.feed.exhausted else "stopped")
    clock = (f"tick times are **simulated** (1 tick = 1 simulated day from {s.feed.start_ts:%Y-%m-%d}), not the "
             "wall clock" if s.feed.kind == "simulated" else "tick times are the dataset's dates")
    status_box.caption(f"Feed **{md(s.feed.feed_id)}** ({s.feed.kind}) · {state} · {s.feed.speed:g} ticks/s · "
                       f"channels configured: {s.router.n_channels} · {clock}")
    with notice.container():
        if step_error is not None:
            show_error(step_error)
        elif s.store_error:
            st.warning(f"Store write failed, will retry: {md(s.store_error)}", icon=":material/warning:")
        elif snap is None:
            st.info("No tick yet.")
    if snap is None:
        return
    m = st.columns(4)
    with m[0].container(key="lm_ticks"):
        st.metric("Ticks processed", f"{s.n_ticks:,}")
    m[1].metric("Price", f"{snap.price:.4f}", f"{snap.ret:+.2%}" if snap.ret == snap.ret else None)
    m[2].metric("Stability score", f"{snap.stability_score:.1f}")
    m[3].metric("Stability risk level", str(snap.risk_level).upper(),
                help="From the stability score (≥ 90 low, ≥ 75 medium, ≥ 60 high, else critical); alert "
                     "severities below are rated separately, by each alert's own rule.")
    m = st.columns(4)
    m[0].metric("VaR 99 % (price)", "warming up" if snap.var_99_price != snap.var_99_price
                else f"{snap.var_99_price:.4f}")
    m[1].metric("Volatility (10 ticks)", "—" if snap.volatility != snap.volatility else f"{snap.volatility:.2%}")
    m[2].metric("Liquidity pool", f"{snap.liquidity_pool / 1e6:.3f} M")
    m[3].metric("Network health", f"{snap.network_health:.0%}")
    frame = s.frame()
    history = s.monitor.engine.history_frame()
    c1, c2 = st.columns([3, 1])
    # Vega-Lite, not Plotly: the spec is the same on every refresh and only the data changes, so Streamlit
    # keeps the element and swaps the dataset inside the drawn view. st.plotly_chart hashes its element id
    # from the figure, so each refresh mounted a new plot that stayed blank for a few frames (issue 11.3).
    with c1.container(key="lm_price"):
        st.vega_lite_chart(live_price_data(frame, history, last=300),
                           live_price_spec(simulated_time=s.feed.kind == "simulated"), width="stretch")
    c2.plotly_chart(stability_gauge(snap.stability_score, snap.risk_level), width="stretch", key="lm_gauge")
    report = s.monitor.report()
    with c2:
        if report.risk_factors:
            st.markdown("**Risk factors**\n" + "\n".join(f"- {f}" for f in report.risk_factors))
        if report.recommendations:
            st.markdown("**Recommendations**\n" + "\n".join(f"- {r}" for r in report.recommendations))
    st.subheader(f"Active alerts ({len(s.monitor.engine.active)})")
    st.caption(SEVERITY_NOTE)
    active = s.monitor.engine.active_frame()
    when = _time_label(s)
    if active.empty:
        st.success("No active alerts.", icon=":material/check_circle:")
    else:
        cols = ["severity", "status", "level", "alert_type", "message", "value", "threshold", "created_at", "seq",
                "acknowledged_by", "acknowledged_at"]
        st.dataframe(_severity_style(with_channels(active[cols]).rename(columns={"created_at": when})), width="stretch",
                     hide_index=True, key="lm_open_alerts")
    with st.expander(f"Alert history ({len(history)})"):
        if not history.empty:
            cols = ["status", "severity", "level", "alert_type", "message", "created_at", "cleared_at", "seq",
                    "cleared_seq", "acknowledged_by"]
            st.dataframe(_marked(with_channels(history[cols]).rename(columns={"created_at": when})), width="stretch",
                         hide_index=True)
    with st.expander("Recorded responses and deliveries"):
        st.caption("Automatic responses are recorded as decisions, never executed (riskcore does not trade).")
        if s.monitor.engine.decisions:
            fmt_table(pd.DataFrame(s.monitor.engine.decisions), hide_index=True)
        health = s.router.health()
        if not health.empty:
            fmt_table(health, hide_index=True)
        fmt_table(s.router.deliveries_frame().tail(50), hide_index=True)
panel()


def _alert_label(a) -> str:
    ack = " · acknowledged" if a.status is AlertStatus.ACKNOWLEDGED else ""
    return f"{a.severity} · {a.message}{ack}"


with st.expander(f"Acknowledge an alert ({len(sess.open_alerts)} open)"):
    st.caption("Acknowledging records who has seen an alert and when (wall clock); the alert stays open until its "
               "metric is back within the limit, and no new alert is raised for it meanwhile.")
    unacked = [a for a in sess.open_alerts if a.status is AlertStatus.ACTIVE]
    if not unacked:
        st.caption("No unacknowledged alert.")
    else:
        a1, a2, a3 = st.columns([3, 2, 1], vertical_alignment="bottom")
        labels = {a.alert_id: _alert_label(a) for a in unacked}
        pick = a1.selectbox("Alert", list(labels), format_func=labels.get, key="lm_ack_pick")
        who = a2.text_input("Acknowledged by", key="lm_ack_by", max_chars=100, placeholder="your name (optional)")
        if a3.button("Acknowledge", key="lm_ack", icon=":material/done:"):
            try:
                acked = sess.acknowledge(pick, by=who)
                st.toast(f"Acknowledged: {acked.message}", icon=":material/done:")
                st.rerun()
            except Exception as exc:
                show_error(exc)

if not sess.feed.running:
    frame = sess.frame()
    if not frame.empty:
        download_buttons(f"live_monitor_{sess.feed.feed_id}", frame, key="lm_dl")

try:
    saved_alerts = store.list_alerts(limit=500)
except Exception as exc:
    show_error(exc)
    saved_alerts = pd.DataFrame()
with st.expander(f"Alert log saved in the store ({len(saved_alerts)} most recent, every feed and session)"):
    st.caption("Alerts are written to the store as they are raised and cleared (with the ticks), so they outlive "
               "this browser session: reload the page or open the Stability Review to see them again. Channel "
               "failures appear here with source 'channel'.")
    if saved_alerts.empty:
        st.info("No alert saved yet.")
    else:
        st.caption("created_at is the tick time of the alert: simulated for simulated feeds (source "
                   "'simulated:…'), the data's dates for replays.")
        cols = ["created_at", "source", "severity", "level", "status", "message", "value", "threshold", "cleared_at"]
        st.dataframe(_marked(with_channels(saved_alerts[[c for c in cols if c in saved_alerts]])), width="stretch",
                     hide_index=True)

with st.expander("Token alert thresholds (the source's table, in price terms)"):
    fmt_table(pd.DataFrame([t.to_dict() for t in TOKEN_THRESHOLDS]), hide_index=True)

st.header("Portfolio monitor")
st.caption("The risk PRD's thresholds: VaR 1 % of equity, concentration 30 %, correlation 0.7, drawdown 1.5 %, "
           "margin 80 %. Severity by how far a metric is beyond its limit (≥ 1.1 MEDIUM, ≥ 1.25 HIGH, ≥ 1.5 "
           "CRITICAL); CRITICAL and HIGH record the PRD's automatic response (never executed).")
pc1, pc2 = st.columns([2, 1])
book = pc1.selectbox("Portfolio", [p.value for p in Preset], key="lm_book",
                     help="Presets of the Agent Inspector; evaluate one after another to see alerts raised and "
                          "cleared.")
evaluate = pc2.button("Evaluate portfolio", key="lm_eval", icon=":material/calculate:")
if evaluate or PORTFOLIO_KEY not in st.session_state:
    try:
        pm = st.session_state.get(PORTFOLIO_KEY)
        if pm is None:   # continue the stored portfolio episodes instead of raising them again
            pm = PortfolioMonitor(n_simulations=2000)
            pm.engine.restore(open_alerts(store, pm.engine.source))
            st.session_state[PORTFOLIO_KEY] = pm
        pm.update(preset(book))
        pm.flush(store)
    except Exception as exc:
        show_error(exc)
pm: PortfolioMonitor | None = st.session_state.get(PORTFOLIO_KEY)
if pm is not None and pm.snapshots:
    psnap = pm.snapshots[-1]
    rows = []
    for th in pm.engine.thresholds:
        value = psnap.metrics.get(th.metric, float("nan"))
        breached = th.breached(value)
        rows.append({"metric": th.metric, "value": value, "limit": th.limit,
                     "excess ratio": excess_ratio(value, th.limit, th.direction) if value == value else None,
                     "severity": str(th.severity_of(value)) if breached else "",
                     "status": str(AlertStatus.ACTIVE) if th.metric in pm.engine.active else "ok"})
    q1, q2 = st.columns([2, 1])
    with q1:
        st.dataframe(_severity_style(pd.DataFrame(rows)), width="stretch", hide_index=True)
    q2.metric("Overall risk score (PRD dashboard)", f"{psnap.overall_risk_score:.1f} / 100")
    q2.metric("Portfolio alerts active", len(pm.engine.active))
    hist = pm.engine.history_frame()
    if not hist.empty:
        with st.expander(f"Portfolio alert history ({len(hist)})"):
            cols = ["status", "severity", "level", "metric", "message", "created_at"]
            st.dataframe(_marked(with_channels(hist[cols])), width="stretch", hide_index=True)
    if pm.engine.decisions:
        with st.expander(f"Recorded responses ({len(pm.engine.decisions)})"):
            fmt_table(pd.DataFrame(pm.engine.decisions), hide_index=True)
