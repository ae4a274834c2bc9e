"""Issue 17 items 6 and 10: channels cannot block each other, a delivery has a total deadline,
webhook targets are checked (encoded loopback, link-local, metadata, resolved names) and secrets masked.

Real HTTP servers on 127.0.0.1 only; names are "resolved" by a stand-in resolver, never by DNS.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from riskcore.errors import InputError
from riskcore.monitor import webhooks
from riskcore.monitor.alerts import AlertEngine
from riskcore.monitor.routing import AlertRouter
from riskcore.monitor.webhooks import (
    ALLOW_PRIVATE_ENV,
    WebhookChannel,
    configured_webhooks,
    redact_text,
    redact_url,
    validate_webhook_url,
)


class Healthy:
    def __init__(self):
        self.received: list[dict] = []
        self.hosts: list[str] = []
        self.event = threading.Event()
        self.want = 1
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.received.append(json.loads(body))
                outer.hosts.append(self.headers.get("Host", ""))
                self.send_response(200)
                self.end_headers()
                if len(outer.received) >= outer.want:
                    outer.event.set()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class RawServer:
    """Accepts connections; ``drip`` sends an HTTP reply one byte every 0.5 s, else never answers."""

    def __init__(self, drip: bool):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.drip, self.stop, self.conns = drip, threading.Event(), []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            if self.drip:
                threading.Thread(target=self._drip, args=(c,), daemon=True).start()

    def _drip(self, c):
        reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + b" " * 100
        for b in reply:
            if self.stop.wait(0.5):
                return
            try:
                c.sendall(bytes([b]))
            except OSError:
                return

    def close(self):
        self.stop.set()
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.fixture
def servers():
    made = []

    def make(kind):
        s = Healthy() if kind == "healthy" else RawServer(drip=kind == "drip")
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def test_hanging_and_dripping_channels_do_not_delay_a_healthy_one(servers):
    hang, drip, good = servers("hang"), servers("drip"), servers("healthy")
    good.want = 20
    chans = [WebhookChannel(hang.url, timeout=2.0, retries=0), WebhookChannel(drip.url, timeout=2.0, retries=0),
             WebhookChannel(good.url, timeout=2.0, retries=0)]
    router = AlertRouter({"webhook": chans}, background=True)
    alerts = [AlertEngine({"x": 1.0}).evaluate({"x": 1.2 + i})[0] for i in range(20)]
    assert len({a.alert_id for a in alerts}) == 20
    t0 = time.monotonic()
    router.dispatch(alerts)
    # one sender for all: the healthy endpoint waits 2 s per alert for each of the others (80 s in all)
    assert good.event.wait(30.0), f"healthy endpoint got {len(good.received)} of 20"
    elapsed = time.monotonic() - t0
    assert router.pending()[chans[0].name] > 0  # the hanging channel is still backed up
    assert elapsed < 2.0 * 20  # far less than the hanging channel's queue takes

    def delivered():
        out = router.deliveries_frame()
        return int(((out.channel == chans[2].name) & (out.outcome == "delivered")).sum())

    end = time.monotonic() + 10.0
    while delivered() < 20 and time.monotonic() < end:  # the last record lands just after the reply
        time.sleep(0.01)
    assert delivered() == 20
    router.close()


def test_dripping_endpoint_is_cut_at_the_deadline(servers):
    drip = servers("drip")
    ch = WebhookChannel(drip.url, timeout=1.5, retries=0)
    t0 = time.monotonic()
    assert ch.send({"n": 1}) is False
    elapsed = time.monotonic() - t0
    # the socket timeout applied per read: one byte every 0.5 s held a send for the whole reply (~50 s)
    assert elapsed < 5.0 and "deadline" in ch.last_error


def test_retries_share_one_total_deadline(servers):
    hang = servers("hang")
    ch = WebhookChannel(hang.url, timeout=1.0, retries=5, backoff=0.01)
    t0 = time.monotonic()
    assert ch.send({"n": 1}) is False
    assert time.monotonic() - t0 < 4.0


def test_settings_test_send_runs_channels_in_parallel(servers):
    hang, good = servers("hang"), servers("healthy")
    router = AlertRouter({"webhook": [WebhookChannel(hang.url, timeout=1.5, retries=0),
                                      WebhookChannel(good.url, timeout=1.5, retries=0)]}, background=False)
    out = router.send_test()
    assert [d.outcome for d in out] == ["failed", "delivered"] and "deadline" in out[0].error


LOOPBACK_FORMS = ["127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "0x7f.0.0.1", "[::1]",
                  "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "localhost", "LOCALHOST.", "a.localhost", "10.0.0.5",
                  "192.168.1.1", "[fd12::1]", "100.64.0.1", "[64:ff9b::7f00:1]", "[2002:7f00:1::]", "172.16.0.1"]
ALWAYS = ["169.254.169.254", "169.254.1.1", "[fe80::1]", "[::ffff:169.254.169.254]", "2852039166", "0xa9fea9fe",
          "metadata.google.internal", "[fd00:ec2::254]", "100.100.100.200", "0.0.0.0", "224.0.0.1", "[::]"]


@pytest.mark.parametrize("host", LOOPBACK_FORMS)
def test_private_and_encoded_loopback_hosts_need_the_operator_setting(host, monkeypatch):
    monkeypatch.delenv(ALLOW_PRIVATE_ENV, raising=False)
    with pytest.raises(InputError, match=ALLOW_PRIVATE_ENV):
        validate_webhook_url(f"http://{host}:8080/hook")
    monkeypatch.setenv(ALLOW_PRIVATE_ENV, "1")
    assert validate_webhook_url(f"http://{host}:8080/hook")


@pytest.mark.parametrize("host", ALWAYS)
def test_link_local_and_metadata_hosts_are_always_refused(host, monkeypatch):
    monkeypatch.setenv(ALLOW_PRIVATE_ENV, "1")
    with pytest.raises(InputError, match="always refused"):
        validate_webhook_url(f"http://{host}/latest/meta-data")


@pytest.mark.parametrize("url", ["https://hooks.slack.com/services/T/B/X", "https://93.184.216.34/x",
                                 "https://[2606:4700::1111]/x", "https://deadbeef.example/x", "https://1e100.net/"])
def test_public_targets_pass_without_the_setting(url, monkeypatch):
    monkeypatch.delenv(ALLOW_PRIVATE_ENV, raising=False)
    assert validate_webhook_url(url) == url


def test_resolved_addresses_are_checked_and_the_checked_one_is_used(servers, monkeypatch):
    good = servers("healthy")
    lookups = []

    def fake(host, port):
        lookups.append(host)
        return {"rebind.example": ["169.254.169.254"], "inside.example": ["127.0.0.1"]}[host]

    monkeypatch.setattr(webhooks, "_getaddrinfo", fake)
    evil = WebhookChannel("http://rebind.example/latest/meta-data", timeout=2.0, retries=2)
    assert evil.send({"n": 1}) is False and "resolves to 169.254.169.254" in evil.last_error
    assert evil.attempts_last_send == 1  # refused, not retried
    inside = WebhookChannel(f"http://inside.example:{good.port}/hook", timeout=2.0, retries=0)
    monkeypatch.delenv(ALLOW_PRIVATE_ENV, raising=False)
    assert inside.send({"n": 2}) is False and ALLOW_PRIVATE_ENV in inside.last_error
    monkeypatch.setenv(ALLOW_PRIVATE_ENV, "1")
    assert inside.send({"n": 3}) is True
    assert good.received == [{"n": 3}] and good.hosts == [f"inside.example:{good.port}"]
    assert lookups == ["rebind.example", "inside.example", "inside.example"]


@pytest.mark.parametrize("url, shown", [
    ("https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdefghijklmnopqrstuvwx",
     "https://hooks.slack.com/services/***/***/***"),
    ("https://bot:s3cret@example.org/hook?token=abc&channel=risk", "https://***@example.org/hook?token=***&channel=***"),
    ("https://discord.com/api/webhooks/123456789012345678/AbCdEf-ghIJ_kl0123456789xyz", "https://discord.com/api/webhooks/***/***"),
    ("http://user@example.org:8080/riskcore-alerts#frag", "http://***@example.org:8080/riskcore-alerts#***"),
    ("https://example.org/v1/hooks/risk", "https://example.org/v1/hooks/risk"),
])
def test_redact_url_masks_secrets(url, shown):
    assert redact_url(url) == shown
    assert redact_text(f"POST {url} failed") == f"POST {shown} failed"


def test_channel_name_and_errors_never_show_the_secret(monkeypatch):
    secret = "abcdefghijklmnopqrstuvwx"
    ch = WebhookChannel(f"https://bot:pw123456@hooks.example.org/services/{secret}?token=tok999", timeout=0.5)
    assert secret not in ch.name and "pw123456" not in ch.name and "tok999" not in ch.name
    assert secret not in ch.health().url and "tok999" not in ch.health().url
    with pytest.raises(InputError) as exc:
        validate_webhook_url(f"https://169.254.169.254/{secret}?token=tok999")
    assert secret not in str(exc.value) and "tok999" not in str(exc.value)


def test_configured_webhooks_skip_only_the_refused_entry(monkeypatch):
    monkeypatch.delenv(ALLOW_PRIVATE_ENV, raising=False)
    env = {"RISKCORE_WEBHOOK_URLS": "http://127.0.0.1:9/x, https://hooks.example.org/a"}
    assert [c.url for c in configured_webhooks(None, env)] == ["https://hooks.example.org/a"]
