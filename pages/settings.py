"""Settings: alert webhooks (validated, with a test message) and where the store is."""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from app.widgets import fmt_table, get_store, show_error
from riskcore.monitor.routing import ESCALATION, AlertRouter
from riskcore.monitor.webhooks import ENV_VAR, SETTING_KEY, configured_webhooks, parse_webhook_urls, redact_url

st.title("Settings")

try:
    store = get_store()
except Exception as exc:
    show_error(exc)
    st.stop()

st.header("Alert webhooks")
st.markdown(
    "Alerts are sent by level, as the risk PRD escalates them: "
    + "; ".join(f"**{lv}** → {', '.join(kinds)}" for lv, kinds in ESCALATION.items())
    + ". riskcore delivers to HTTP webhooks and Slack incoming webhooks; e-mail and SMS gateways are not part of "
    "it (those deliveries are recorded as *not configured*). A failing channel never stops monitoring: it is "
    "retried with backoff within a time budget and reported as a channel-health alert."
)
st.caption(f"One URL per line (http:// or https:// only). Prefix `slack:` for a Slack webhook "
           f"(hooks.slack.com URLs are recognised). URLs in the environment variable `{ENV_VAR}` are used too.")

try:
    saved = store.get_setting(SETTING_KEY, []) or []
except Exception as exc:
    show_error(exc)
    saved = []
current_text = "\n".join(f"slack:{d['url']}" if d.get("kind") == "slack" else d["url"] for d in saved
                         if isinstance(d, dict) and d.get("url"))
text = st.text_area("Webhook URLs", value=current_text, height=120, key="set_urls",
                    placeholder="https://hooks.example.com/riskcore\nslack:https://hooks.slack.com/services/…")
c1, c2 = st.columns(2)
if c1.button("Save webhooks", key="set_save", icon=":material/save:", type="primary"):
    try:
        configs = parse_webhook_urls(text)
        store.set_setting(SETTING_KEY, [c.to_dict() for c in configs])
        st.success(f"Saved {len(configs)} webhook(s).", icon=":material/check_circle:")
    except Exception as exc:
        show_error(exc)

timeout = c2.number_input("Test timeout (seconds)", min_value=0.5, max_value=30.0, value=5.0, step=0.5,
                          key="set_timeout")
try:
    configs = configured_webhooks(store)
except Exception as exc:
    show_error(exc)
    configs = []
if configs:
    st.caption("Configured channels (URL paths shortened: they often carry secrets)")
    fmt_table(pd.DataFrame([{"kind": c.kind, "url": redact_url(c.url), "from": c.origin} for c in configs]),
              hide_index=True)
else:
    st.info("No webhook configured: alerts are shown and saved, not sent.")

if st.button("Send test message", key="set_test", icon=":material/send:", disabled=not configs):
    try:
        router = AlertRouter.from_config(store, timeout=float(timeout), retries=1, backoff=0.25, background=False)
        with st.spinner("Sending…"):
            results = router.send_test()
        table = pd.DataFrame([d.to_dict() for d in results])
        ok = int((table["outcome"] == "delivered").sum()) if not table.empty else 0
        (st.success if ok == len(results) else st.warning)(f"{ok} of {len(results)} channel(s) delivered.")
        fmt_table(table[["channel_kind", "channel", "outcome", "latency_ms", "error"]], hide_index=True)
    except Exception as exc:
        show_error(exc)

st.header("Store")
st.code(str(store.path), language=None)
st.caption("DuckDB file shared by the app and notebooks; set `RISKCORE_DB` to use another one"
           + (f" (now `{os.environ['RISKCORE_DB']}`)." if os.environ.get("RISKCORE_DB") else "."))
try:
    counts = store.counts()
    fmt_table(pd.DataFrame({"rows": counts}).rename_axis("table"))
    feeds = store.list_feeds()
    if not feeds.empty:
        st.caption("Tick feeds")
        fmt_table(feeds, hide_index=True)
except Exception as exc:
    show_error(exc)
