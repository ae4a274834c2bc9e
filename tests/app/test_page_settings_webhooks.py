"""AppTest of the Settings page (issue 17 items 6 and 10): saved secrets are never shown in full,
private and metadata targets are refused, a channel's failures are shown."""

from __future__ import annotations

import pandas as pd

from riskcore.monitor.routing import AlertRouter
from riskcore.monitor.webhooks import WebhookChannel

SECRET = "abcdefghijklmnopqrstuvwx"
URL = f"https://bot:pw123456@hooks.slack.com/services/T0123ABCD/B0456EFGH/{SECRET}?token=tok999"


def _page_text(at) -> str:
    parts = [str(e.value) for kind in ("text_area", "text_input", "markdown", "caption", "success", "error",
                                       "warning", "info", "code") for e in getattr(at, kind)]
    parts += [e.value.to_csv() for e in at.dataframe]
    parts += [str(o) for m in at.multiselect for o in m.options]
    return "\n".join(parts)


def test_saved_secrets_are_masked_for_every_visitor(app_test, tmp_store, monkeypatch):
    monkeypatch.delenv("RISKCORE_WEBHOOK_ALLOW_PRIVATE", raising=False)
    tmp_store.set_setting("webhook_urls", [{"kind": "slack", "url": URL}])
    at = app_test("settings")
    assert not at.exception and not at.error
    text = _page_text(at)
    assert "hooks.slack.com/services/***/***/***" in text
    for secret in (SECRET, "pw123456", "tok999", "T0123ABCD"):
        assert secret not in text
    assert at.text_area(key="set_urls").value == ""  # nothing pre-filled
    # adding another one keeps the saved one (which the visitor never saw in full)
    at.text_area(key="set_urls").set_value("https://hooks.example.org/riskcore").run()
    at.button(key="set_save").click().run()
    assert not at.error, [e.value for e in at.error]
    assert [d["url"] for d in tmp_store.get_setting("webhook_urls")] == [URL, "https://hooks.example.org/riskcore"]
    at.multiselect(key="set_remove").set_value([0]).run()
    at.button(key="set_remove_btn").click().run()
    assert [d["url"] for d in tmp_store.get_setting("webhook_urls")] == ["https://hooks.example.org/riskcore"]


def test_private_and_metadata_targets_are_refused(app_test, tmp_store, monkeypatch):
    monkeypatch.delenv("RISKCORE_WEBHOOK_ALLOW_PRIVATE", raising=False)
    at = app_test("settings")
    for url, words in [("http://169.254.169.254/latest/meta-data", "always refused"),
                       ("http://0x7f000001:8080/hook", "RISKCORE_WEBHOOK_ALLOW_PRIVATE=1")]:
        at.text_area(key="set_urls").set_value(url).run()
        at.button(key="set_save").click().run()
        assert at.error and words in at.error[0].value
    assert tmp_store.get_setting("webhook_urls") is None


def test_channel_failures_are_shown(app_test, tmp_store, monkeypatch):
    monkeypatch.setenv("RISKCORE_WEBHOOK_ALLOW_PRIVATE", "1")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the block ends
    ch = WebhookChannel(f"http://127.0.0.1:{port}/hook/{SECRET}", timeout=0.5, retries=0)
    router = AlertRouter({"webhook": [ch]}, background=False)
    router.send_test()
    tmp_store.save_alerts(router.drain_reports())  # what the live monitor session persists
    at = app_test("settings")
    assert not at.exception and not at.error
    assert any("1 channel(s) failing" in w.value for w in at.warning)
    table = next(d.value for d in at.dataframe if "last error" in d.value.columns)
    assert isinstance(table, pd.DataFrame) and table["state"].tolist() == ["failing"]
    assert "Connection" in table["last error"].iloc[0] or "refused" in table["last error"].iloc[0].lower()
    assert SECRET not in _page_text(at)
