"""Monitor tests post to HTTP servers on 127.0.0.1: allow loopback webhook targets, as an operator would.

Tests that check the refusal of private targets remove the setting themselves.
"""

import pytest


@pytest.fixture(autouse=True)
def _allow_loopback_webhooks(monkeypatch):
    monkeypatch.setenv("RISKCORE_WEBHOOK_ALLOW_PRIVATE", "1")
