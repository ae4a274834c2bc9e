"""Live Monitor (AppTest): opening and reloading the page notify nothing and pile up no alerts; acknowledging;
severity and notification shown as one rating; simulated time labelled; the calm book is calm."""

from __future__ import annotations

import pandas as pd

from riskcore.monitor.routing import AlertRouter


def _open_table(at) -> pd.DataFrame:
    """The Live Monitor's table of active alerts (the one with acknowledgement columns)."""
    return next(d.value for d in at.dataframe if "acknowledged_at" in d.value.columns)


def _open_by_metric(store, source):
    df = store.list_alerts(source=source)
    return df[df.status.isin(["ACTIVE", "ACKNOWLEDGED"])].groupby("metric").size()


def test_opening_and_reloading_sends_nothing_and_adds_no_duplicates(app_test, tmp_store, monkeypatch):
    sent: list[str] = []
    real_dispatch = AlertRouter.dispatch

    def counting(self, alerts):
        alerts = list(alerts)
        sent.extend(a.alert_id for a in alerts)
        return real_dispatch(self, alerts)

    monkeypatch.setattr(AlertRouter, "dispatch", counting)
    at = app_test("live_monitor", timeout=120)
    assert not at.exception and not at.error, [e.value for e in at.error]
    source = at.session_state["lm_session"].monitor.source
    first = tmp_store.list_alerts()
    assert len(first[first.source == source]) >= 1          # the crash's end-of-priming state is stored ...
    assert sent == []                                        # ... but nobody was notified
    for _ in range(2):                                       # two reloads (new browser sessions)
        again = app_test("live_monitor", timeout=120)
        assert not again.error, [e.value for e in again.error]
    assert sent == []
    after = tmp_store.list_alerts()
    assert sorted(after.alert_id) == sorted(first.alert_id)  # no new row at all: not for the token, not for the book
    assert (_open_by_metric(tmp_store, source) == 1).all()
    # a live step on the reloaded page is monitoring: a new breach would be sent, the open ones are not re-sent
    again.button(key="lm_step").click().run()
    assert all(aid not in set(first.alert_id) for aid in sent)


def test_acknowledge_an_alert(app_test, tmp_store):
    at = app_test("live_monitor", timeout=120)
    sess = at.session_state["lm_session"]
    assert sess.open_alerts, "the crash preset should leave open alerts after priming"
    target = sess.open_alerts[0]
    at.selectbox(key="lm_ack_pick").set_value(target.alert_id)
    at.text_input(key="lm_ack_by").set_value("alice")
    at.button(key="lm_ack").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    stored = tmp_store.list_alert_records(target.source).set_index("alert_id")
    assert stored.loc[target.alert_id, "status"] == "ACKNOWLEDGED"
    assert stored.loc[target.alert_id, "acknowledged_by"] == "alice"
    table = _open_table(at)
    row = table[table["message"] == target.message].iloc[0]
    assert row["status"] == "ACKNOWLEDGED" and row["acknowledged_by"] == "alice"
    # the next visit shows the acknowledgement, read back from the store
    again = app_test("live_monitor", timeout=120)
    restored = {a.alert_id: a for a in again.session_state["lm_session"].open_alerts}
    assert restored[target.alert_id].acknowledged_by == "alice"


def test_one_rating_per_alert_and_simulated_time_is_labelled(app_test):
    at = app_test("live_monitor", timeout=120)
    table = _open_table(at)
    assert "level" not in table.columns and "notified via" in table.columns
    assert "raised at (simulated)" in table.columns
    high = table[table["severity"] == "HIGH"]
    assert not any("CRITICAL" in str(v) for v in high.to_numpy().ravel())   # no "HIGH … CRITICAL" in one row
    captions = " ".join(c.value for c in at.caption)
    assert "simulated" in captions and "not the wall clock" in captions
    assert "Stability risk level" in {m.label for m in at.metric}


def test_calm_book_raises_no_alert(app_test, tmp_store):
    at = app_test("live_monitor", timeout=120)
    pm = at.session_state["lm_portfolio"]
    assert pm.snapshots and not pm.engine.active, {m: str(a.severity) for m, a in pm.engine.active.items()}
    assert tmp_store.list_alerts(source="portfolio").empty
    assert isinstance(pm.frame(), pd.DataFrame)
