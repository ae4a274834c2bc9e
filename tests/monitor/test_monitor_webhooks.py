"""Webhook channels against a real HTTP server on 127.0.0.1 (started in the test), and their config."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from riskcore.errors import InputError
from riskcore.monitor.alerts import AlertEngine
from riskcore.monitor.feeds import ReplayFeed
from riskcore.monitor.routing import AlertRouter
from riskcore.monitor.session import MonitorSession
from riskcore.monitor.token import TokenMonitor
from riskcore.monitor.webhooks import (
    SlackWebhookChannel,
    WebhookChannel,
    configured_webhooks,
    parse_webhook_urls,
    validate_webhook_url,
)


class _Server:
    """A loopback HTTP server: records JSON bodies, answers with the next scripted status."""

    def __init__(self, statuses=(200,), delay=0.0):
        self.received: list[dict] = []
        self.statuses = list(statuses)
        self.delay = delay
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.delay:
                    time.sleep(outer.delay)
                status = outer.statuses.pop(0) if len(outer.statuses) > 1 else outer.statuses[0]
                outer.received.append({"status": status, "json": json.loads(body)})
                try:
                    self.send_response(status)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the client gave up (timeout test)
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_delivered_payload_is_received():
    with _Server([200]) as srv:
        ch = WebhookChannel(srv.url, timeout=5, retries=0)
        assert ch.send({"title": "VaR breach", "value": 1.23}) is True
    assert srv.received[0]["json"] == {"title": "VaR breach", "value": 1.23}
    h = ch.health()
    assert h.ok is True and h.n_sent == 1 and h.last_status == 200


def test_retried_after_a_500_then_succeeds():
    with _Server([500, 200]) as srv:
        ch = WebhookChannel(srv.url, timeout=5, retries=2, backoff=0.01)
        assert ch.send({"n": 1}) is True
    assert [r["status"] for r in srv.received] == [500, 200]
    assert ch.attempts_last_send == 2


def test_4xx_is_not_retried_and_5xx_exhausts_retries():
    with _Server([404]) as srv:
        ch = WebhookChannel(srv.url, timeout=5, retries=3, backoff=0.01)
        assert ch.send({"n": 1}) is False
        assert len(srv.received) == 1 and ch.last_status == 404
    with _Server([503]) as srv:
        ch = WebhookChannel(srv.url, timeout=5, retries=2, backoff=0.1)
        t0 = time.monotonic()
        assert ch.send({"n": 1}) is False
        elapsed = time.monotonic() - t0
        assert len(srv.received) == 3 and "503" in ch.last_error
        # exponential backoff between the attempts: 0.1 s then 0.2 s
        assert 0.3 <= elapsed < 5.0


def test_closed_port_returns_false_within_its_timeout():
    # unbounded, the backoff alone would sleep 0.4 + 0.8 + 1.6 = 2.8 s; the budget stops it at 1 s
    ch = WebhookChannel(f"http://127.0.0.1:{_closed_port()}/hook", timeout=1.0, retries=3, backoff=0.4)
    t0 = time.monotonic()
    assert ch.send({"n": 1}) is False
    assert time.monotonic() - t0 < 1.0 + 0.5   # the whole send, retries and backoff included
    assert ch.health().ok is False and ch.n_failed == 1


def test_slow_server_returns_false_within_its_timeout():
    with _Server([200], delay=2.0) as srv:
        # unbounded: three attempts of 0.5 s each plus backoff; the budget ends the send at 0.5 s
        ch = WebhookChannel(srv.url, timeout=0.5, retries=2, backoff=0.05)
        t0 = time.monotonic()
        assert ch.send({"n": 1}) is False
        assert time.monotonic() - t0 < 0.5 + 0.5


def test_slack_format():
    with _Server([200]) as srv:
        ch = SlackWebhookChannel(srv.url, timeout=5, retries=0)
        assert ch.send({"level": "CRITICAL", "title": "VaR breach", "message": "m", "timestamp": "t",
                        "context": {"metric": "portfolio_var_pct", "value": 2.0}})
    body = srv.received[0]["json"]
    att = body["attachments"][0]
    assert att["color"] == "#ff0000" and "VaR breach" in att["title"] and att["text"] == "m"
    assert {"title": "Severity", "value": "CRITICAL", "short": True} in att["fields"]


def test_router_delivers_in_background_and_reports_a_failing_channel():
    with _Server([200]) as srv:
        good = WebhookChannel(srv.url, timeout=2, retries=0)
        bad = WebhookChannel(f"http://127.0.0.1:{_closed_port()}/x", timeout=0.5, retries=0)
        router = AlertRouter({"webhook": [good, bad]}, background=True)
        alert = AlertEngine({"x": 1.0}).evaluate({"x": 1.2})[0]      # MEDIUM -> WARNING: webhook, slack
        assert router.dispatch([alert]) == 1
        assert router.join(5)
        router.close()
    assert srv.received[0]["json"]["context"]["alert_id"] == alert.alert_id
    out = router.deliveries_frame().set_index("channel")
    assert out.loc[good.name, "outcome"] == "delivered" and out.loc[bad.name, "outcome"] == "failed"
    reports = router.drain_reports()
    assert len(reports) == 1 and reports[0]["status"] == "ACTIVE" and reports[0]["source"] == "channel"
    assert router.drain_reports() == []


def test_failing_channel_never_blocks_or_raises_into_the_monitor(tmp_store):
    class Exploding(WebhookChannel):
        def send(self, payload):
            raise RuntimeError("boom")

    import numpy as np
    import pandas as pd

    prices = pd.Series(np.r_[np.ones(40), np.full(20, 0.5)], index=pd.date_range("2024-01-01", periods=60))
    TokenMonitor(ensemble=False).update_many(prices.to_numpy())   # load the VaR kernels before timing
    dead = WebhookChannel(f"http://127.0.0.1:{_closed_port()}/x", timeout=3.0, retries=2, backoff=0.2)
    router = AlertRouter({"webhook": [dead, Exploding("http://127.0.0.1:9/x")]}, background=True)
    sess = MonitorSession(ReplayFeed(prices), TokenMonitor(ensemble=False), router, tmp_store)
    t0 = time.monotonic()
    res = sess.run(60)
    assert time.monotonic() - t0 < 2.0          # delivery happens on the router's thread
    assert len(res.new_alerts) >= 1
    assert router.join(15)
    sess.flush()
    stored = tmp_store.list_alerts(source="channel")
    assert len(stored) == 2 and set(stored["status"]) == {"ACTIVE"}   # both channels reported as failing
    router.close()


def test_url_validation_and_parsing(monkeypatch):
    assert validate_webhook_url("https://x.org/a") == "https://x.org/a"
    for bad in ("ftp://x.org", "file:///etc/passwd", "javascript:alert(1)", "http://", "x.org/hook", "",
                "http://exa mple.org"):
        with pytest.raises(InputError):
            validate_webhook_url(bad)
    cfg = parse_webhook_urls("https://a.org/1, slack:https://b.org/2\nhttps://hooks.slack.com/services/T/B/X")
    assert [(c.kind, c.url) for c in cfg] == [("webhook", "https://a.org/1"), ("slack", "https://b.org/2"),
                                              ("slack", "https://hooks.slack.com/services/T/B/X")]
    with pytest.raises(InputError, match=r"webhook_urls\[2\]"):
        parse_webhook_urls(["https://a.org", "ftp://b.org"])
    monkeypatch.setenv("RISKCORE_WEBHOOK_URLS", "https://env.org/h")
    assert [c.origin for c in configured_webhooks(None)] == ["env"]
    with pytest.raises(InputError):
        WebhookChannel("https://a.org", timeout=0)


def test_session_picks_up_webhooks_saved_later(tmp_store, monkeypatch):
    import numpy as np
    import pandas as pd

    monkeypatch.delenv("RISKCORE_WEBHOOK_URLS", raising=False)
    s = pd.Series(np.ones(5), index=pd.date_range("2024-01-01", periods=5))
    sess = MonitorSession(ReplayFeed(s), TokenMonitor(ensemble=False), store=tmp_store)
    assert sess.router.n_channels == 0 and sess.reload_channels() is False
    tmp_store.set_setting("webhook_urls", [{"kind": "slack", "url": "http://127.0.0.1:9/x"}])
    assert sess.reload_channels() is True
    assert list(sess.router.channels) == ["slack"] and sess.reload_channels() is False
    sess.close()
