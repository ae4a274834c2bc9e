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

Targets (server-side request forgery): link-local and cloud-metadata addresses (169.254.0.0/16,
fe80::/10, 169.254.169.254, fd00:ec2::254, 100.100.100.200, ``metadata.google.internal`` …),
multicast, unspecified and reserved addresses are always refused; loopback, private and other
non-global addresses only when the operator sets ``RISKCORE_WEBHOOK_ALLOW_PRIVATE=1`` (the tests
do, for their 127.0.0.1 servers). Hosts are checked as written, including the encodings a C
resolver accepts (decimal ``2130706433``, hex ``0x7f000001``, octal ``0177.0.0.1``, short
``127.1``, IPv6-mapped ``::ffff:127.0.0.1``, 6to4 and NAT64 forms), and again at each send after
DNS resolution: every resolved address must pass, and the connection goes to the checked address
(so a name cannot be re-pointed between the check and the connect). Connections are direct: HTTP
proxy settings are not used for webhooks.

Deadline: each :meth:`WebhookChannel.send` ends within its ``timeout`` in total (DNS, connect,
request, response, retries and backoff): a watchdog closes the connection at the deadline, so an
endpoint that drips one byte at a time cannot hold a send longer than that.

Secrets: webhook URLs carry them (Slack and Discord tokens in the path, ``?token=`` queries,
``user:password@``). Wherever a URL is shown or logged it goes through :func:`redact_url` (rule in
its docstring); the full URL is only sent.
"""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import http.client
import ipaddress
import json
import math
import os
import re
import socket
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

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
    "redact_text",
    "private_targets_allowed",
    "ENV_VAR",
    "ALLOW_PRIVATE_ENV",
    "SETTING_KEY",
    "SLACK_COLOURS",
]

ENV_VAR = "RISKCORE_WEBHOOK_URLS"
#: set to 1 to allow loopback and private-network webhook targets (never link-local / metadata)
ALLOW_PRIVATE_ENV = "RISKCORE_WEBHOOK_ALLOW_PRIVATE"
SETTING_KEY = "webhook_urls"

#: Slack attachment colours per routing level (PRD §5.3.1).
SLACK_COLOURS = {"INFO": "#36a64f", "WARNING": "#ff9500", "CRITICAL": "#ff0000", "EMERGENCY": "#8b0000"}

_KINDS = ("webhook", "slack")


#: cloud instance-metadata endpoints (refused always, whatever the range they fall in)
_METADATA_IPS = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "169.254.169.253", "fd00:ec2::254", "100.100.100.200", "192.0.0.192"))
_METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                             "instance-data.ec2.internal", "metadata.azure.com", "metadata.tencentyun.com"})
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_LOCAL_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".home.arpa", ".lan", ".intranet")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_ENV_TRUE = frozenset({"1", "true", "yes", "on"})


def private_targets_allowed(env: Mapping[str, str] | None = None) -> bool:
    """Whether ``$RISKCORE_WEBHOOK_ALLOW_PRIVATE`` allows loopback and private-network targets."""
    env = os.environ if env is None else env
    return str(env.get(ALLOW_PRIVATE_ENV, "")).strip().lower() in _ENV_TRUE


def _literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host written as an IP literal denotes, in any form a C resolver accepts."""
    h = host.strip("[]").split("%", 1)[0].rstrip(".")
    try:
        return ipaddress.ip_address(h)
    except ValueError:
        pass
    if h and re.fullmatch(r"[0-9a-fA-FxX.]+", h) and re.match(r"^(0[xX][0-9a-fA-F]*|\d)", h):
        try:  # decimal 2130706433, hex 0x7f000001, octal 0177.0.0.1, short 127.1
            return ipaddress.IPv4Address(socket.inet_aton(h))
        except OSError:
            return None
    return None


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if int(ip) >> 32 == 0 and int(ip) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(int(ip))
    return None


def _address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> tuple[bool, str] | None:
    """``(always_refused, reason)`` for an address a webhook must not reach; None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        v4 = _embedded_v4(ip)
        if v4 is not None:
            return _address_problem(v4)
    if ip in _METADATA_IPS:
        return True, "is a cloud metadata address"
    if ip.is_link_local:
        return True, "is a link-local address (cloud metadata lives there)"
    if ip.is_loopback:  # before "reserved": ::1 lies in the reserved ::/8
        return False, "is a loopback address"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return True, "is a multicast, unspecified or reserved address"
    if ip.is_private or not ip.is_global:
        return False, "is a private-network address"
    return None


def _host_problem(host: str) -> tuple[bool, str] | None:
    name = host.strip("[]").rstrip(".").lower()
    ip = _literal_ip(name)
    if ip is not None:
        return _address_problem(ip)
    if name in _METADATA_NAMES:
        return True, "is a cloud metadata host"
    if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
        return False, "is a local host name"
    return None


def _refusal(problem: tuple[bool, str] | None, allow_private: bool) -> str | None:
    if problem is None:
        return None
    always, reason = problem
    if always:
        return f"{reason}: webhook targets there are always refused"
    if allow_private:
        return None
    return f"{reason}: refused unless the operator sets {ALLOW_PRIVATE_ENV}=1"


def validate_webhook_url(url: Any, field: str = "webhook_url", *, allow_private: bool | None = None) -> str:
    """Return the stripped URL, or raise :class:`InputError` unless it is ``http(s)://host…``.

    The host must not be link-local or a cloud-metadata endpoint, nor (unless ``allow_private``,
    default ``$RISKCORE_WEBHOOK_ALLOW_PRIVATE``) loopback or private, in whatever encoding it is
    written (see the module notes). Names are resolved and checked again at each send; here no
    lookup is made, so validating never touches the network.

    Examples
    --------
    >>> validate_webhook_url(" https://example.org/hook ")
    'https://example.org/hook'
    >>> validate_webhook_url("file:///etc/passwd")
    Traceback (most recent call last):
    ...
    riskcore.errors.InputError: webhook_url: only http:// and https:// URLs are allowed (got 'file:///etc/passwd')
    >>> validate_webhook_url("http://169.254.169.254/latest/meta-data")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskcore.errors.InputError: webhook_url: host '169.254.169.254' is a cloud metadata address: ...
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
    allow = private_targets_allowed() if allow_private is None else bool(allow_private)
    why = _refusal(_host_problem(parts.hostname), allow)
    if why is not None:
        raise InputError(field, f"host {parts.hostname!r} {why}", value=redact_url(text))
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


_MASK = "***"


def _secret_segment(seg: str) -> bool:
    """A path segment that looks like a token: 16+ characters, or 8+ mixing letters and digits."""
    if len(seg) >= 16:
        return True
    return len(seg) >= 8 and bool(re.search(r"\d", seg)) and bool(re.search(r"[A-Za-z]", seg))


def redact_url(url: str) -> str:
    """The URL with its secrets masked, for display and logs.

    Rule: the user-info (``user:password@``) becomes ``***@``; every query value and the
    fragment become ``***`` (names kept); a path segment that looks like a token (16 or more
    characters, or 8 or more mixing letters and digits: Slack's ``T…/B…/xxxx``, Discord's id and
    token, UUIDs) becomes ``***``. Scheme, host, port and plain words (``services``, ``hooks``,
    ``v1``) stay, so an operator can still tell endpoints apart.

    Examples
    --------
    >>> redact_url("https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdefghijklmnopqrstuvwx")
    'https://hooks.slack.com/services/***/***/***'
    >>> redact_url("https://bot:s3cret@example.org/hook?token=abc&channel=risk")
    'https://***@example.org/hook?token=***&channel=***'
    """
    try:
        p = urlsplit(str(url).strip())
        host = p.hostname or ""
        port = p.port
    except ValueError:
        return _MASK
    if ":" in host:
        host = f"[{host}]"
    netloc = ("***@" if p.username is not None or p.password is not None else "") + host
    if port is not None:
        netloc += f":{port}"
    path = "/".join(_MASK if _secret_segment(seg) else seg for seg in p.path.split("/"))
    out = f"{p.scheme}://{netloc}{path}"
    if p.query:
        out += "?" + "&".join(f"{q.split('=', 1)[0]}={_MASK}" if "=" in q else _MASK for q in p.query.split("&"))
    if p.fragment:
        out += "#" + _MASK
    return out


_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_text(text: Any) -> str:
    """``text`` with every URL in it passed through :func:`redact_url` (for error messages and logs)."""
    return _URL_RE.sub(lambda m: redact_url(m.group(0)), str(text))


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
    >>> import os
    >>> os.environ["RISKCORE_WEBHOOK_ALLOW_PRIVATE"] = "1"  # loopback targets are an operator's opt-in
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
        """One POST within ``budget`` seconds in all. Returns (delivered, retryable, status, error)."""
        deadline = time.monotonic() + budget
        parts = urlsplit(self.url)
        https = parts.scheme.lower() == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if https else 80)
        try:
            addresses = _checked_addresses(host, port, budget)
        except _Refused as exc:  # the target itself is not allowed: retrying cannot help
            return False, False, None, str(exc)
        except (OSError, concurrent.futures.TimeoutError) as exc:
            return False, True, None, f"DNS lookup of {host!r} failed: {type(exc).__name__}: {exc}"
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = dict(self.headers)
        if parts.username is not None:
            cred = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(cred).decode()
        conn = _PinnedConnection(host, port, addresses, https=https, timeout=max(budget, 0.001))
        watchdog = threading.Timer(max(deadline - time.monotonic(), 0.0), conn.abort)
        watchdog.daemon = True
        watchdog.start()
        status = None
        try:
            conn.request("POST", target, body=body, headers=headers)
            resp = conn.getresponse()
            status = resp.status
            if 300 <= status < 400:
                return False, False, status, f"HTTP {status}: redirects are not followed (fix the URL)"
            try:
                resp.read(65536)
            except (OSError, http.client.HTTPException):
                pass  # the status is what counts; the body may be cut at the deadline
            if 200 <= status < 300:
                return True, False, status, None
            return False, status >= 500 or status == 429, status, f"HTTP {status} {resp.reason}"
        except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
            if conn.aborted:
                return False, True, status, f"deadline of {budget:.2f} s exceeded (endpoint too slow)"
            return False, True, status, f"{type(exc).__name__}: {redact_text(exc)}"
        except Exception as exc:  # never raise into the monitor
            return False, False, status, f"{type(exc).__name__}: {redact_text(exc)}"
        finally:
            watchdog.cancel()
            conn.close()

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


class _Refused(Exception):
    """The target (as resolved) is not an allowed webhook address."""


#: DNS lookups run here so that a hanging resolver cannot hold a send past its deadline
_DNS_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="riskcore-webhook-dns")


def _getaddrinfo(host: str, port: int) -> list[str]:
    """Addresses of ``host`` (tests replace this to resolve names without a network)."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def _checked_addresses(host: str, port: int, budget: float) -> list[str]:
    """Resolved addresses of ``host``, each checked like the host itself; raises :class:`_Refused`."""
    allow = private_targets_allowed()
    why = _refusal(_host_problem(host), allow)
    if why is not None:
        raise _Refused(f"host {host!r} {why}")
    literal = _literal_ip(host)
    if literal is not None:
        return [str(literal)]
    addresses = list(dict.fromkeys(_DNS_POOL.submit(_getaddrinfo, host, port).result(timeout=max(budget, 0.001))))
    if not addresses:
        raise OSError(f"no address for {host!r}")
    for a in addresses:
        why = _refusal(_address_problem(ipaddress.ip_address(a.split("%", 1)[0])), allow)
        if why is not None:
            raise _Refused(f"host {host!r} resolves to {a}, which {why}")
    return addresses


class _PinnedConnection(http.client.HTTPSConnection):
    """HTTP(S) to ``host`` over a socket to one of the already checked ``addresses``.

    The ``Host`` header, TLS server name and certificate check use ``host``; :meth:`abort`
    (the deadline watchdog) shuts the socket down from another thread, which ends any blocked
    read at once.
    """

    def __init__(self, host: str, port: int, addresses: list[str], *, https: bool, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context() if https else None)
        self._addresses, self._https = addresses, https
        self._raw: socket.socket | None = None
        self.aborted = False

    def connect(self) -> None:
        err: Exception | None = None
        for a in self._addresses:
            if self.aborted:
                break
            try:
                self._raw = socket.create_connection((a, self.port), self.timeout)
                break
            except OSError as exc:
                err = exc
        if self._raw is None or self.aborted:
            raise err or OSError("connection aborted at the deadline")
        self.sock = self._context.wrap_socket(self._raw, server_hostname=self.host) if self._https else self._raw

    def abort(self) -> None:
        self.aborted = True
        raw = self._raw
        if raw is not None:
            try:
                raw.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


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
    raw_env = env.get(ENV_VAR) or ""
    entries: list[tuple[Any, str]] = [(t, "env") for t in _SPLIT.split(raw_env) if t]
    if store is not None:
        saved = store.get_setting(SETTING_KEY, []) or []
        entries += [(t, "settings") for t in (saved if isinstance(saved, list) else [])]
    for item, origin in entries:  # one by one: a refused entry (e.g. a private target) skips only itself
        try:
            out += parse_webhook_urls([item], origin=origin)
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
