"""AppTest of the Settings page: URL validation, saving, a test message to a loopback server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def test_settings_validates_saves_and_sends_a_test(app_test, tmp_store, monkeypatch):
    monkeypatch.setenv("RISKCORE_WEBHOOK_ALLOW_PRIVATE", "1")  # the test server is on 127.0.0.1
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    try:
        at = app_test("settings")
        assert not at.exception and not at.error
        assert any("No webhook configured" in i.value for i in at.info)
        at.text_area(key="set_urls").set_value("ftp://example.org/x").run()
        at.button(key="set_save").click().run()
        assert at.error and "webhook_urls[1]" in at.error[0].value and "http" in at.error[0].value
        assert tmp_store.get_setting("webhook_urls") is None      # nothing saved on bad input
        at.text_area(key="set_urls").set_value(url).run()
        at.button(key="set_save").click().run()
        assert not at.error, [e.value for e in at.error]
        assert tmp_store.get_setting("webhook_urls") == [{"kind": "webhook", "url": url}]
        at.button(key="set_test").click().run()
        assert not at.error, [e.value for e in at.error]
        assert any("1 of 1 channel(s) delivered" in s.value for s in at.success)
        assert received and received[0]["title"] == "riskcore test alert"
        assert any(str(tmp_store.path) in c.value for c in at.code)
    finally:
        httpd.shutdown()
        httpd.server_close()
