"""Webhook channels: HTTP POST of JSON alerts, with retries, backoff and a hard time budget.

The PRD (§5.3.1) posts alerts to a generic webhook and to Slack with a 10 s timeout and only logs
failures. Here a channel:

* never raises: :meth:`WebhookChannel.send` returns ``True`` (delivered, HTTP 2xx) or ``False``;
* retries on connection errors, timeouts, HTTP 5xx and 429 with exponential backoff, but not on
  other 4xx (the request itself is wrong; retrying cannot help);
* finishes within ``timeout`` seconds in total, retries and backoff included, so a dead endpoint
  costs a bounded time;
* keeps its own health (last status, last error, counts), which the router reports as a
  channel-health record.

URLs come from ``$RISKCORE_WEBHOOK_URLS`` (comma or whitespace separated; a ``slack:`` prefix or a
``hooks.slack.com`` host makes a Slack channel) and from the Settings page (store setting
``webhook_urls``). Only ``http`` and ``https`` URLs are accepted.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from riskcore.errors import InputError

__all__ = [
    "WebhookChannel",
    "SlackWebhookChannel",
    "ChannelHealth",
    "WebhookConfig",
    "validate_webhook_url",
    "parse_webhook_urls",
    "configured_webhooks",
    "make_channel",
    "redact_url",
    "ENV_VAR",
    "SETTING_KEY",
    "SLACK_COLOURS",
]

ENV_VAR = "RISKCORE_WEBHOOK_URLS"
SETTING_KEY = "webhook_urls"

#: Slack attachment colours per routing level (PRD §5.3.1).
SLACK_COLOURS = {"INFO": "#36a64f", "WARNING": "#ff9500", "CRITICAL": "#ff0000", "EMERGENCY": "#8b0000"}

_KINDS = ("webhook", "slack")


def validate_webhook_url(url: Any, field: str = "webhook_url") -> str:
    """Return the stripped URL, or raise :class:`InputError` unless it is ``http(s)://host…``.

    Examples
    --------
    >>> validate_webhook_url(" https://example.org/hook ")
    'https://example.org/hook'
    >>> validate_webhook_url("file:///etc/passwd")
    Traceback (most recent call last):
    ...
    riskcore.errors.InputError: webhook_url: only http:// and https:// URLs are allowed (got 'file:///etc/passwd')
    """
    if not isinstance(url, str) or not url.strip():
        raise InputError(field, "must be a non-empty http:// or https:// URL", value=url)
    text = url.strip()
    if any(c.isspace() for c in text):
        raise InputError(field, "must not contain spaces", value=text)
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise InputError(field, "only http:// and https:// URLs are allowed", value=text)
    try:
        port = parts.port
    except ValueError:
        raise InputError(field, "has an invalid port", value=text) from None
    if not parts.hostname:
        raise InputError(field, "needs a host name, e.g. https://hooks.example.com/path", value=text)
    if port is not None and not 0 < port < 65536:
        raise InputError(field, "has an invalid port", value=text)
    return text


@dataclass(frozen=True)
class ChannelHealth:
    """Health of one channel after its last delivery attempt."""

    name: str
    kind: str
    url: str
    ok: bool | None
    n_sent: int
    n_failed: int
    consecutive_failures: int
    last_status: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    last_latency_ms: float | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def redact_url(url: str) -> str:
    """Scheme, host and the first path segment: webhook paths carry secrets (Slack tokens)."""
    p = urlsplit(url)
    first = p.path.strip("/").split("/")[0] if p.path.strip("/") else ""
    tail = "/…" if p.path.strip("/").count("/") or p.query else ""
    return f"{p.scheme}://{p.netloc}/{first}{tail}"


class WebhookChannel:
    """POST alerts as JSON to one URL.

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` endpoint (validated).
    timeout : float, default 5.0
        Total time budget of one :meth:`send` in seconds, all attempts and backoff included; each
        attempt's socket timeout is what is left of it.
    retries : int, default 2
        Further attempts after the first on a retryable failure (connection error, timeout,
        HTTP 5xx or 429).
    backoff : float, default 0.25
        Sleep before retry *k* (1-based) is ``backoff * 2**(k-1)`` seconds, cut to the budget left.
    name : str, optional
        Shown in health records; defaults to the redacted URL and a digest of the full one.
    headers : mapping, optional
        Extra HTTP headers.

    Examples
    --------
    >>> ch = WebhookChannel("http://127.0.0.1:9/none", timeout=0.5, retries=0)
    >>> ch.send({"title": "test"})   # nothing listens on port 9
    False
    """

    kind = "webhook"

    def __init__(self, url: str, *, timeout: float = 5.0, retries: int = 2, backoff: float = 0.25,
                 name: str | None = None, headers: Mapping[str, str] | None = None):
        self.url = validate_webhook_url(url)
        if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
            raise InputError("timeout", "must be a finite number of seconds > 0", value=timeout)
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
            raise InputError("retries", "must be an integer in [0, 10]", value=retries)
        if not (isinstance(backoff, (int, float)) and math.isfinite(backoff) and backoff >= 0):
            raise InputError("backoff", "must be a finite number of seconds >= 0", value=backoff)
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        # redacted for display, with a digest of the whole URL so two endpoints never share a name
        self.name = name or f"{redact_url(self.url)} #{hashlib.sha256(self.url.encode()).hexdigest()[:6]}"
        self.headers = {"Content-Type": "application/json", "User-Agent": "riskcore-monitor/0.1",
                        **dict(headers or {})}
        self._opener = _opener_for(self.url)
        self._lock = threading.Lock()
        self.n_sent = 0
        self.n_failed = 0
        self.consecutive_failures = 0
        self.last_status: int | None = None
        self.last_error: str | None = None
        self.last_attempt_at: datetime | None = None
        self.last_latency_ms: float | None = None
        self.attempts_last_send = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, timeout={self.timeout}, retries={self.retries})"

    def format(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON body for ``payload`` (a plain webhook sends it as it is)."""
        return dict(payload)

    def _post_once(self, body: bytes, budget: float) -> tuple[bool, bool, int | None, str | None]:
        """One POST. Returns (delivered, retryable, status, error)."""
        req = urllib.request.Request(self.url, data=body, headers=self.headers, method="POST")
        try:
            with self._opener.open(req, timeout=max(budget, 0.001)) as resp:
                status = resp.status
                resp.read(65536)
            return 200 <= status < 300, status >= 500 or status == 429, status, None
        except urllib.error.HTTPError as exc:
            status = exc.code
            with _quiet():
                exc.read(65536)
            return False, status >= 500 or status == 429, status, f"HTTP {status} {exc.reason}"
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            return False, True, None, f"{type(reason).__name__}: {reason}"
        except Exception as exc:  # never raise into the monitor
            return False, False, None, f"{type(exc).__name__}: {exc}"

    def send(self, payload: Mapping[str, Any]) -> bool:
        """POST ``payload`` as JSON; ``True`` when delivered (HTTP 2xx). Never raises.

        Notes
        -----
        Attempts stop at the first success, at a non-retryable failure, after ``1 + retries``
        attempts, or when the ``timeout`` budget is spent, whichever comes first.
        """
        start = time.monotonic()
        deadline = start + self.timeout
        try:
            body = json.dumps(self.format(payload), default=str, allow_nan=False).encode()
        except (TypeError, ValueError):
            try:
                body = json.dumps(_sanitize(self.format(payload)), default=str).encode()
            except Exception as exc:  # never raise into the monitor
                self._record(False, None, f"payload not JSON-serialisable: {exc}", start, 0)
                return False
        except Exception as exc:
            self._record(False, None, f"payload could not be formatted: {exc}", start, 0)
            return False
        ok, status, error, attempts = False, None, None, 0
        for attempt in range(self.retries + 1):
            left = deadline - time.monotonic()
            if left <= 0:
                error = error or "timeout budget spent"
                break
            attempts += 1
            ok, retryable, status, error = self._post_once(body, left)
            if ok or not retryable or attempt == self.retries:
                break
            pause = min(self.backoff * 2 ** attempt, deadline - time.monotonic())
            if pause <= 0:
                break
            time.sleep(pause)
        self._record(ok, status, None if ok else error, start, attempts)
        return ok

    def _record(self, ok: bool, status: int | None, error: str | None, start: float, attempts: int) -> None:
        with self._lock:
            self.attempts_last_send = attempts
            self.last_status = status
            self.last_error = error
            self.last_attempt_at = datetime.now(UTC).replace(tzinfo=None)
            self.last_latency_ms = (time.monotonic() - start) * 1e3
            if ok:
                self.n_sent += 1
                self.consecutive_failures = 0
            else:
                self.n_failed += 1
                self.consecutive_failures += 1

    def health(self) -> ChannelHealth:
        """Snapshot of this channel's delivery record."""
        with self._lock:
            ok = None if self.last_attempt_at is None else self.consecutive_failures == 0
            return ChannelHealth(self.name, self.kind, redact_url(self.url), ok, self.n_sent, self.n_failed,
                                 self.consecutive_failures, self.last_status, self.last_error,
                                 self.last_attempt_at, self.last_latency_ms)


class SlackWebhookChannel(WebhookChannel):
    """A Slack incoming webhook: the alert as a coloured attachment (PRD §5.3.1 ``_send_slack_alert``)."""

    kind = "slack"

    def format(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        level = str(payload.get("level", "INFO"))
        fields = [{"title": "Severity", "value": level, "short": True},
                  {"title": "Timestamp", "value": str(payload.get("timestamp", "")), "short": True}]
        context = payload.get("context") or {}
        for key in ("metric", "value", "threshold", "source"):
            if key in context:
                fields.append({"title": key.title(), "value": str(context[key]), "short": True})
        title = str(payload.get("title", "riskcore alert"))
        return {
            "text": f"{level}: {title}",
            "attachments": [{
                "color": SLACK_COLOURS.get(level, "#cccccc"),
                "title": f"\N{POLICE CARS REVOLVING LIGHT} {title}",
                "text": str(payload.get("message", "")),
                "fields": fields,
                "footer": str(payload.get("system", "riskcore")),
                "ts": int(time.time()),
            }],
        }


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook that redirects is misconfigured: report the 3xx instead of following it."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, D102
        return None


_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _opener_for(url: str) -> urllib.request.OpenerDirector:
    host = (urlsplit(url).hostname or "").lower()
    handlers: list[Any] = [_NoRedirect()]
    if host in _LOOPBACK or host.startswith("127."):
        handlers.append(urllib.request.ProxyHandler({}))  # never send loopback traffic to a proxy
    return urllib.request.build_opener(*handlers)


class _quiet:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> bool:
        return True


def _sanitize(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, Mapping):
        return {str(k): _sanitize(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_sanitize(v) for v in obj]
    return obj


@dataclass(frozen=True)
class WebhookConfig:
    """A configured endpoint: its kind (``"webhook"`` or ``"slack"``) and URL."""

    kind: str
    url: str
    origin: str = "settings"

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "url": self.url}


_SPLIT = re.compile(r"[\s,;]+")


def parse_webhook_urls(text: str | Sequence[Any] | None, origin: str = "settings") -> list[WebhookConfig]:
    """Parse URLs from text (one per line or comma separated) or from a list of URLs / dicts.

    A ``slack:`` prefix (``slack:https://hooks.slack.com/…``) or a ``hooks.slack.com`` host makes a
    Slack channel; ``webhook:`` forces a plain one. Duplicates are dropped. Raises
    :class:`InputError` naming the entry (1-based) that is not an http(s) URL.
    """
    if text is None:
        return []
    items: list[Any] = [t for t in _SPLIT.split(text) if t] if isinstance(text, str) else list(text)
    out: list[WebhookConfig] = []
    seen: set[tuple[str, str]] = set()
    for i, item in enumerate(items, start=1):
        if isinstance(item, Mapping):
            kind, url = str(item.get("kind") or "webhook").lower(), item.get("url")
        else:
            raw = str(item).strip()
            kind, url = "", raw
            m = re.match(r"^(slack|webhook):(?!//)(.*)$", raw, flags=re.IGNORECASE)
            if m:
                kind, url = m.group(1).lower(), m.group(2)
        try:
            url = validate_webhook_url(url)
        except InputError as exc:
            raise InputError(f"webhook_urls[{i}]", exc.detail, value=url) from None
        if kind not in _KINDS:
            kind = "slack" if (urlsplit(url).hostname or "").lower() == "hooks.slack.com" else "webhook"
        if (kind, url) not in seen:
            seen.add((kind, url))
            out.append(WebhookConfig(kind, url, origin))
    return out


def configured_webhooks(store: Any = None, env: Mapping[str, str] | None = None) -> list[WebhookConfig]:
    """Endpoints from ``$RISKCORE_WEBHOOK_URLS`` and from the store setting ``webhook_urls``.

    A malformed environment value is skipped rather than raised (the monitor must start); the
    Settings page validates what it saves.
    """
    env = os.environ if env is None else env
    out: list[WebhookConfig] = []
    try:
        out += parse_webhook_urls(env.get(ENV_VAR) or None, origin="env")
    except InputError:
        pass
    if store is not None:
        try:
            out += parse_webhook_urls(store.get_setting(SETTING_KEY, []) or [], origin="settings")
        except InputError:
            pass
    seen: set[tuple[str, str]] = set()
    unique = []
    for c in out:
        if (c.kind, c.url) not in seen:
            seen.add((c.kind, c.url))
            unique.append(c)
    return unique


def make_channel(config: WebhookConfig, **kwargs: Any) -> WebhookChannel:
    """The channel object for a :class:`WebhookConfig` (``timeout``, ``retries``, ``backoff`` passed on)."""
    cls = SlackWebhookChannel if config.kind == "slack" else WebhookChannel
    return cls(config.url, **kwargs)
