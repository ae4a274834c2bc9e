"""AppTest of the Live Monitor page: renders on first load, steps, starts and stops, saves a session."""

from __future__ import annotations


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_live_monitor_first_load_step_and_save(app_test, tmp_store):
    at = app_test("live_monitor", timeout=120)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert _metric(at, "Ticks processed") == "40"            # the feed is primed on first load
    assert len(at.get("vega_lite_chart")) == 1                # price/VaR band (updated in place while live)
    assert len(at.get("plotly_chart")) >= 1                   # the stability gauge
    at.button(key="lm_step").click().run()
    assert _metric(at, "Ticks processed") == "50"
    # the crash preset shocks the price by -30 % on day 10: the VaR price levels fall below the limits
    assert any("Active alerts" in s.value for s in at.subheader)
    assert at.session_state["lm_session"].monitor.engine.n_raised >= 1
    at.button(key="lm_save").click().run()
    assert not at.error, [e.value for e in at.error]
    assert len(tmp_store.list_runs("monitor")) == 1
    assert len(tmp_store.load_ticks(at.session_state["lm_session"].feed.feed_id)) == 50
    assert len(tmp_store.list_alerts()) >= 1
    # a reload is a new browser session (new session state): the saved alerts come back from the store
    # the alerts' source is the market, not the feed instance: a new feed on the same market shares it
    old_feed = at.session_state["lm_session"].feed.feed_id
    old_source = at.session_state["lm_session"].monitor.source
    n_saved = len(tmp_store.list_alerts())
    again = app_test("live_monitor", timeout=120)
    assert not again.error, [e.value for e in again.error]
    assert again.session_state["lm_session"].feed.feed_id != old_feed
    assert again.session_state["lm_session"].monitor.source == old_source
    log = next(e for e in again.expander if e.label.startswith("Alert log saved in the store"))
    shown = log.dataframe[0].value
    assert old_source in set(shown["source"]) and len(shown) >= n_saved


def test_live_monitor_start_stop_and_replay(app_test):
    at = app_test("live_monitor", timeout=120)
    at.button(key="lm_start").click().run()
    assert at.session_state["lm_session"].feed.running
    # the callbacks act before the rerun: the buttons already show the new state
    assert at.button(key="lm_start").disabled and not at.button(key="lm_stop").disabled
    at.slider(key="lm_speed").set_value(20).run()
    assert at.session_state["lm_session"].feed.speed == 20.0
    at.button(key="lm_stop").click().run()
    assert not at.session_state["lm_session"].feed.running
    assert not at.button(key="lm_start").disabled and at.button(key="lm_stop").disabled
    at.radio(key="lm_market").set_value("Replay a dataset").run()
    at.button(key="lm_build").click().run()
    assert not at.error, [e.value for e in at.error]
    sess = at.session_state["lm_session"]
    assert sess.feed.kind == "replay" and sess.n_ticks == 40


def test_live_monitor_portfolio_section_raises_and_clears(app_test, tmp_store):
    at = app_test("live_monitor", timeout=120)
    assert not at.error, [e.value for e in at.error]
    pm = at.session_state["lm_portfolio"]
    assert len(pm.snapshots) == 1                              # evaluated on first load (calm book)
    at.selectbox(key="lm_book").set_value("margin squeeze").run()
    at.button(key="lm_eval").click().run()
    assert not at.error, [e.value for e in at.error]
    pm = at.session_state["lm_portfolio"]
    assert "margin_usage_pct" in pm.engine.active
    at.selectbox(key="lm_book").set_value("calm").run()
    at.button(key="lm_eval").click().run()
    assert "margin_usage_pct" not in at.session_state["lm_portfolio"].engine.active
    stored = tmp_store.list_alerts(source="portfolio").set_index("metric")
    assert stored.loc["margin_usage_pct", "status"] == "CLEARED"
