"""Settings: alert webhooks (validated, masked, with a test message and channel failures), risk-state snapshots
and the store."""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from app.snapshot_widgets import snapshot_section
from app.widgets import fmt_table, get_store, show_error
from riskcore.monitor.alerts import AlertStatus
from riskcore.monitor.routing import ESCALATION, AlertRouter, DeliveryStatus
from riskcore.monitor.webhooks import (
    ALLOW_PRIVATE_ENV,
    ENV_VAR,
    SETTING_KEY,
    configured_webhooks,
    parse_webhook_urls,
    redact_text,
    redact_url,
)

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
           f"(hooks.slack.com URLs are recognised). URLs in the environment variable `{ENV_VAR}` are used too. "
           "Saved URLs are never shown again in full: their secrets (tokens in the path or query, "
           "user:password@) are masked. Link-local and cloud-metadata addresses are refused; loopback and "
           f"private-network targets only when the operator sets `{ALLOW_PRIVATE_ENV}=1`.")

try:
    saved = store.get_setting(SETTING_KEY, []) or []
except Exception as exc:
    show_error(exc)
    saved = []
saved = [d for d in saved if isinstance(d, dict) and d.get("url")] if isinstance(saved, list) else []


def _label(d: dict) -> str:
    return f"{d.get('kind') or 'webhook'}: {redact_url(str(d['url']))}"


def _refused(d: dict) -> str:
    try:
        parse_webhook_urls([d])
        return ""
    except Exception as exc:  # shown next to the entry: why it is not used
        return redact_text(getattr(exc, "detail", exc))


if saved:
    st.caption("Saved webhooks (masked)")
    fmt_table(pd.DataFrame([{"kind": d.get("kind") or "webhook", "url": redact_url(str(d["url"])),
                             "not used because": _refused(d)} for d in saved]), hide_index=True)
text = st.text_area("Add webhook URLs", value="", height=100, key="set_urls",
                    placeholder="https://hooks.example.com/riskcore\nslack:https://hooks.slack.com/services/…")
c1, c2 = st.columns(2)
if c1.button("Save webhooks", key="set_save", icon=":material/save:", type="primary"):
    try:
        configs = parse_webhook_urls(text)
        merged = list(saved)
        have = {(d.get("kind") or "webhook", d["url"]) for d in saved}
        added = [c for c in configs if (c.kind, c.url) not in have]
        merged += [c.to_dict() for c in added]
        store.set_setting(SETTING_KEY, merged)
        st.success(f"Saved {len(added)} new webhook(s); {len(merged)} in all.", icon=":material/check_circle:")
        saved = merged
    except Exception as exc:
        show_error(exc)
if saved:
    remove = st.multiselect("Remove saved webhooks", options=list(range(len(saved))),
                            format_func=lambda i: _label(saved[i]), key="set_remove")
    if st.button("Remove selected", key="set_remove_btn", icon=":material/delete:", disabled=not remove):
        try:
            keep = [d for i, d in enumerate(saved) if i not in set(remove)]
            store.set_setting(SETTING_KEY, keep)
            st.success(f"Removed {len(saved) - len(keep)} webhook(s).", icon=":material/check_circle:")
            saved = keep
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
    st.caption("Channels in use (secrets masked)")
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
        ok = int((table["outcome"] == DeliveryStatus.DELIVERED).sum()) if not table.empty else 0
        (st.success if ok == len(results) else st.warning)(f"{ok} of {len(results)} channel(s) delivered.")
        fmt_table(table[["channel_kind", "channel", "outcome", "latency_ms", "error"]], hide_index=True)
    except Exception as exc:
        show_error(exc)

st.subheader("Channel failures")
st.caption("Reported by the live monitor's alert router: a channel that fails is recorded once when it starts "
           "failing and again when it delivers again. Each channel has its own sender, so a failing one never "
           "delays the others.")
try:
    health = store.list_alerts(source="channel", limit=200)
except Exception as exc:
    show_error(exc)
    health = pd.DataFrame()
if health.empty:
    st.caption("No channel has failed.")
else:
    latest = health.sort_values("created_at").groupby("alert_id", sort=False).tail(1)
    view = pd.DataFrame({
        "channel": [redact_text(a.split(":", 2)[-1]) for a in latest["alert_id"]],
        "state": ["failing" if st_ == AlertStatus.ACTIVE else "delivers again" for st_ in latest["status"]],
        "since": latest["created_at"].to_numpy(),
        "last error": [redact_text(m) for m in latest["message"]],
    }).sort_values("since", ascending=False)
    failing = int((view["state"] == "failing").sum())
    if failing:
        st.warning(f"{failing} channel(s) failing.", icon=":material/warning:")
    fmt_table(view, hide_index=True)

snapshot_section(store)

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
