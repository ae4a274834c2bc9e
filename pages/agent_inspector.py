"""Agent Inspector: a portfolio context and a trade request through the four risk agents and the critic."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from app.safety import md
from app.widgets import download_buttons, fmt_table, get_store, show_error
from riskcore.agents.learned import PolicySource
from riskcore.agents.registry import ModelRegistry
from riskcore.errors import InputError
from riskcore.plots.policy import action_distribution_figure
from riskcore.plots.portfolio import (
    allocation_figure,
    correlation_figure,
    critic_scores_figure,
    decision_latency_figure,
    risk_state_figure,
)
from riskcore.portfolio.context import POSITION_COLUMNS, PortfolioContext, Preset, preset
from riskcore.portfolio.events import EventType, ResponseStatus, RiskEventProcessor, TradeStatus
from riskcore.reports.portfolio import decision_report_html
from riskcore.validate import real

RESULT_KEY = "agent-inspector-result"


@st.cache_resource(show_spinner=False)
def _preset(name: str) -> PortfolioContext:
    return preset(name)


@st.cache_resource(show_spinner=False, max_entries=8)
def _learned_source(db: str, name: str, version: int, content_hash: str) -> PolicySource:
    # keyed by the content hash too: a team deleted and saved again under the same version is reloaded
    return PolicySource.from_loaded(ModelRegistry(get_store()).load(name, version))


def _policy_source_picker(store) -> PolicySource:
    """Rules, or a saved team of the registry (the active one marked); the loaded team is cached."""
    saved = ModelRegistry(store).list()
    refs = [None, *((n, int(v)) for n, v in saved[["name", "version"]].itertuples(index=False, name=None))]
    active = {(n, int(v)) for n, v, a in saved[["name", "version", "active"]].itertuples(index=False, name=None) if a}
    pick = st.selectbox("Policy source", refs, key="ai-source",
                        format_func=lambda r: "Rules (PRD formulas)" if r is None else
                        f"Learned: {r[0]} v{r[1]}" + (" (active)" if r in active else ""),
                        help="Where the four agents' actions come from: the rule-based policies or a team saved on "
                             "the Agent Training page. Hard limits and emergency rules apply the same either way.")
    if pick is None:
        return PolicySource.rules()
    entry = ModelRegistry(store).entry(*pick)
    return _learned_source(str(store.path), entry.name, entry.version, entry.content_hash)


def _distributions(decision) -> None:
    """Each learned agent's action distribution for the request: a chart and the numbers."""
    st.markdown("**Learned agents' action distributions**")
    st.plotly_chart(action_distribution_figure(decision), width="stretch", key="ai-dists")
    rows = []
    for agent, d in decision.distributions.items():
        if d["kind"] == "categorical":
            values = ", ".join(f"{p:.3f}" for p in d["probabilities"])
            rows.append({"agent": agent, "distribution": "probabilities", "values": values})
        else:
            rows.append({"agent": agent, "distribution": "mode", "values": ", ".join(f"{v:.3f}" for v in d["mode"])})
            if "low_90" in d:
                rows.append({"agent": agent, "distribution": "90 % range",
                             "values": ", ".join(f"[{lo:.2f}, {hi:.2f}]" for lo, hi in zip(d["low_90"], d["high_90"],
                                                                                           strict=True))})
    with st.container(key="ai-dist-table"):
        fmt_table(pd.DataFrame(rows), hide_index=True)


def _context_editor(base: PortfolioContext, tag: str) -> PortfolioContext:
    # No min/max on the number inputs: a browser number box silently refuses an out-of-range entry and
    # keeps the old value, so the page would go on showing the old decision. The library validates and
    # the page shows its InputError instead.
    c = st.columns(4)
    equity = c[0].number_input("Account equity", value=float(base.account_equity), step=1000.0, key=f"ai-eq-{tag}")
    capital = c[1].number_input("Initial capital", value=float(base.initial_capital), step=1000.0,
                                key=f"ai-cap-{tag}")
    drawdown = c[2].number_input("Current drawdown (%)", value=float(base.current_drawdown_pct), step=0.1,
                                 key=f"ai-dd-{tag}")
    margin = c[3].number_input("Margin usage (%)", value=float(base.margin_usage_pct), step=1.0, key=f"ai-mg-{tag}")
    c = st.columns(4)
    regime = c[0].slider("Volatility regime (percentile)", 0.0, 1.0, float(base.volatility_regime), 0.01,
                         key=f"ai-vr-{tag}")
    stress = c[1].slider("Market stress", 0.0, 1.0, float(base.market_stress_level), 0.01, key=f"ai-ms-{tag}")
    liq = c[2].slider("Liquidity risk", 0.0, 1.0, float(base.liquidity_risk), 0.01, key=f"ai-lq-{tag}")
    tod = c[3].slider("Time-of-day risk", 0.0, 1.0, float(base.time_of_day_risk), 0.01, key=f"ai-td-{tag}")
    st.caption("Open positions (quantity < 0 is short; symbols must be one of "
               f"{', '.join(map(str, base.price_history.columns))}; ATR blank = 1 % of price)")
    frame = st.data_editor(base.positions_frame(), num_rows="dynamic", key=f"ai-pos-{tag}", width="stretch",
                           column_config={"strategy": st.column_config.NumberColumn(min_value=0, max_value=4)})
    ctx = base.replace(account_equity=equity, initial_capital=capital, current_drawdown_pct=drawdown,
                       margin_usage_pct=margin, volatility_regime=regime, market_stress_level=stress,
                       liquidity_risk=liq, time_of_day_risk=tod)
    return ctx.with_positions_frame(pd.DataFrame(frame, columns=list(POSITION_COLUMNS)))


def _trade_form(ctx: PortfolioContext) -> tuple[dict, bool]:
    symbols = list(map(str, ctx.price_history.columns))
    with st.form("ai-trade"):
        c = st.columns(4)
        symbol = c[0].selectbox("Symbol", symbols, key="ai-sym")
        direction = c[1].radio("Direction", ["Long", "Short"], horizontal=True, key="ai-dir")
        qty = c[2].number_input("Requested contracts (1–1000)", value=2, step=1, key="ai-qty")
        last = float(ctx.price_history[symbol].iloc[-1])
        entry = c[3].number_input("Entry price (0 = last price)", value=0.0, key="ai-entry")
        c = st.columns(4)
        conf = c[0].slider("Win probability", 0.0, 1.0, 0.6, 0.01, key="ai-p")
        avg_win = c[1].number_input("Average win", value=200.0, key="ai-win")
        avg_loss = c[2].number_input("Average loss", value=100.0, key="ai-loss")
        atr = c[3].number_input("ATR (0 = 1 % of entry)", value=0.0, key="ai-atr")
        submitted = st.form_submit_button("Submit trade request", type="primary", key="ai-submit")
    # the library checks quantity, price and ATR; the two PnL averages are checked here (a negative
    # average loss would otherwise be read as a loss of that size)
    real("avg_win", avg_win, lo=0.0)
    real("avg_loss", avg_loss, lo=0.0)
    trade = {"symbol": symbol, "direction": 1 if direction == "Long" else -1, "base_quantity": int(qty),
             "entry_price": float(entry) if entry != 0 else last, "strategy_confidence": float(conf),
             "avg_win": float(avg_win), "avg_loss": float(avg_loss)}
    if atr != 0:
        trade["atr"] = float(atr)
    return trade, submitted


#: badge colour of each aggregated decision
_DECISION_COLOURS = {"NORMAL": "green", "EMERGENCY": "red"}


def _verdict(resp: dict, decision) -> bool:
    """The verdict banner; False (and only the error) when the request was invalid."""
    status = resp.get("status")
    if status == ResponseStatus.ERROR:
        # an invalid request has no decision: show the error alone, never the figures of another request
        st.error(f"Invalid request — {resp.get('error')}", icon=":material/error:")
        return False
    if decision is not None and decision.is_emergency:
        e = decision.emergency
        st.error(f"**EMERGENCY** — {e.recommended_action.value} ({', '.join(e.conditions)}): trade rejected",
                 icon=":material/emergency:")
    elif status == TradeStatus.APPROVED:
        st.success(f"**APPROVED** {resp['approved_quantity']} contract(s) — {resp['reason']}",
                   icon=":material/check_circle:")
    elif status == TradeStatus.APPROVED_REDUCED:
        st.warning(f"**APPROVED (REDUCED)** {resp['approved_quantity']} contract(s) — {resp['reason']}",
                   icon=":material/trending_down:")
    else:
        st.error(f"**REJECTED** — {resp.get('reason')}", icon=":material/block:")
    if decision is not None:
        # a badge, not st.metric: a metric column truncates "EMERGENCY" to "EMERGE…"
        action = decision.action_type.value
        with st.container(key="ai-decision"):
            st.markdown(f"Decision: :{_DECISION_COLOURS.get(action, 'gray')}-badge[{action}]")
    c = st.columns(4)
    c[0].metric("Approved contracts", resp.get("approved_quantity", 0))
    c[1].metric("Stop loss", "—" if resp.get("stop_loss_price") is None else f"{resp['stop_loss_price']:,.2f}")
    c[2].metric("Take profit", "—" if resp.get("take_profit_price") is None else f"{resp['take_profit_price']:,.2f}")
    c[3].metric("Processing time", f"{resp.get('processing_time_ms', 0):.2f} ms")
    return True


def _decision_log(store) -> None:
    c = st.columns(4)
    etype = c[0].selectbox("Event type", ["(all)", *[e.value for e in EventType], "RISK_RESPONSE"], key="ai-log-type",
                           help="RISK_RESPONSE rows are the Live Monitor's automatic responses to alerts")
    status = c[1].selectbox("Status", ["(all)", "approved", "approved_reduced", "rejected", "error", "state_updated",
                                       "update_required", "no_update_required", "position_closed",
                                       "emergency_response", "RECORDED"], key="ai-log-status")
    kind = c[2].selectbox("Decision", ["(all)", "NORMAL", "EMERGENCY"], key="ai-log-kind",
                          help="The aggregated decision: normal, or an emergency that overrides everything")
    limit = c[3].number_input("Rows", 10, 5000, 200, 10, key="ai-log-limit")
    log = store.list_decisions(event_type=None if etype == "(all)" else etype,
                               status=None if status == "(all)" else status, limit=int(limit))
    records = [r if isinstance(r, dict) else {} for r in log.record]
    responses = [r.get("response") if isinstance(r.get("response"), dict) else r for r in records]
    log = log.assign(
        symbol=[(r.get("event") or {}).get("symbol") if isinstance(r.get("event"), dict) else None for r in records],
        approved=[r.get("approved_quantity") for r in responses],
        decision=[r.get("action_type") for r in responses],
        reason=[r.get("reason") or r.get("error") or r.get("action") for r in responses],
    )
    if kind != "(all)":
        log = log[log["decision"] == kind]
    if log.empty:
        st.info("No decisions logged with these filters: submit a trade request above (each submission is logged).")
        return
    flat = log.drop(columns=["record"])
    counts = log["status"].fillna("none").value_counts()
    with st.container(key="ai-log-summary"):
        st.caption(f"{len(log)} decision(s) shown · " + " · ".join(f"{k}: {v}" for k, v in counts.items()))
    fmt_table(flat, hide_index=True)
    st.plotly_chart(decision_latency_figure(log), width="stretch", key="ai-log-latency")
    # keyed by the newest row so that a new decision is the one shown (a kept selection would hide it)
    pick = st.selectbox("Inspect decision", list(log.decision_id), key=f"ai-log-pick-{log.decision_id.iloc[0]}",
                        format_func=lambda i: f"{i} · {flat.set_index('decision_id').loc[i, 'status']}")
    st.json(json.loads(json.dumps(log.set_index("decision_id").loc[pick, "record"], default=str)), expanded=1)
    download_buttons("decision_log", flat, key="ai-log-dl")


st.title("Agent Inspector")
st.caption("A portfolio context and a trade request through the four risk agents (the rule-based policies or a "
           "team saved on the Agent Training page, behind the Policy interface), the critic and the PRD's "
           "aggregation; emergencies override everything.")

try:
    store = get_store()
    source = _policy_source_picker(store)
    name = st.selectbox("Preset", [p.value for p in Preset], key="ai-preset",
                        help="calm · volatile · correlated crash (correlation emergency) · margin squeeze")
    with st.expander("Portfolio context", expanded=True):
        ctx = _context_editor(_preset(name), name.replace(" ", "-"))
    trade, submitted = _trade_form(ctx)
    with st.spinner("Risk decision…"):
        proc = RiskEventProcessor(context=ctx, store=store if submitted else None, n_simulations=5000, seed=0,
                                  policy_source=source)
        resp = proc.process_risk_event(EventType.NEW_TRADE_REQUEST, trade)
        proc.flush()
    decision = proc.last_decision
    if submitted:
        st.toast("Decision logged", icon=":material/save:")
    else:
        st.caption("Showing the default trade request; press **Submit trade request** to log a decision.")
    with st.container(key="ai-source-label"):
        st.caption(f"Policy source: **{md(source.label)}**")
    with st.container(key="ai-verdict"):
        valid = _verdict(resp, decision)
    if not valid:
        st.stop()

    tab_state, tab_agents, tab_critic, tab_log = st.tabs(["Risk state", "Agents", "Critic", "Decision log"])
    with tab_state:
        rs = proc.risk_state
        st.plotly_chart(risk_state_figure(rs.vector), width="stretch", key="ai-state")
        c = st.columns(2)
        with c[0]:
            fmt_table(rs.summary(), hide_index=False)
        with c[1]:
            if rs.correlation is not None:
                st.plotly_chart(correlation_figure(rs.correlation), width="stretch", key="ai-corr")
            st.metric("Portfolio VaR (1 day, 5 % tail)", f"{rs.var_currency:,.0f}")
    with tab_agents:
        if decision is None:
            st.info("No agent decision: " + str(resp.get("reason") or resp.get("error")))
        else:
            table = decision.summary()
            fmt_table(table, hide_index=True)
            if decision.distributions:
                _distributions(decision)
            download_buttons("agent_decision", table, html=decision_report_html(decision, resp, proc.risk_state),
                             key="ai-agents-dl")
            c = st.columns(2)
            c[0].plotly_chart(allocation_figure(decision), width="stretch", key="ai-alloc")
            with c[1]:
                st.markdown("**Stop/target updates of open positions**")
                if decision.stop_target_updates:
                    fmt_table(pd.DataFrame(decision.stop_target_updates).T)
                else:
                    st.caption("No open positions.")
    with tab_critic:
        if decision is not None:
            st.plotly_chart(critic_scores_figure(decision), width="stretch", key="ai-critic")
            for alert in decision.alerts:
                st.warning(alert)
            e = decision.emergency
            st.markdown(f"**Emergency check:** {e.severity} · conditions: {', '.join(e.conditions) or 'none'} · "
                        f"recommended: {e.recommended_action.value}")
    with tab_log:
        _decision_log(store)
except InputError as exc:
    show_error(exc)
except Exception as exc:  # never a traceback on the page
    show_error(exc)
