"""Chat: posts a notification to a Slack-compatible incoming webhook, signed, to a checked address.

The request
-----------
``POST <webhook URL>`` with ``Content-Type: application/json`` and the body::

    {"text": "@alice INC-42 · SEV-1 · Checkout API down",
     "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "@alice INC-42 · …"}}]}

The URL is the contact's own webhook (``Message.webhook_url``), else
``settings.VIGIL_CHAT_WEBHOOK_URL``. A chat handle is mentioned at the start of the text
(``@alice``; a Slack member id such as ``U024BE7LH`` becomes ``<@U024BE7LH>``). The message
text is escaped as Slack asks (``&``, ``<``, ``>``), so an incident title cannot smuggle in
``<!channel>`` or a disguised link. ``X-Vigil-Notification-Id`` carries the notification's
id: a retried delivery carries the same one, so a receiver can drop duplicates.

The signature
-------------
When ``VIGIL_CHAT_WEBHOOK_SECRET`` is set, every request carries::

    X-Vigil-Timestamp: <unix time in whole seconds when it was sent>
    X-Vigil-Signature: v1=<hex HMAC-SHA256>

where the HMAC key is the secret (UTF-8) and the signed bytes are the timestamp, a full
stop, and the raw request body exactly as received: ``f"{timestamp}.".encode() + body``.
To verify, a receiver recomputes it over the body bytes *before* parsing the JSON, compares
in constant time, and rejects timestamps more than five minutes from its own clock (a
replay). The header may list several comma-separated ``v1=`` values (while a secret is
rotated); any one matching is enough. ``verify_signature()`` below does exactly this and
can be copied into a receiver. Without a secret, Vigil sends no signature headers (plain
Slack webhooks do not need them).

Where it may go
---------------
Only ``http`` and ``https`` URLs. The host is resolved once and every address it resolves
to must be public — not private, loopback, link-local (cloud metadata), multicast,
reserved, unspecified or otherwise not globally routable, including IPv4 addresses
embedded in IPv6 — unless ``VIGIL_CHAT_ALLOW_PRIVATE`` is on (a webhook URL must not become
a way to reach internal services). The connection then goes to the address that was
checked (``PinnedTransport``), with the URL's host name kept in the ``Host`` header and
used for TLS (SNI and certificate check), so a DNS answer that changes between the check
and the connection (DNS rebinding) cannot redirect it. Redirects are never followed.

Outcomes: 2xx → sent (provider id: the response's request-id header, else ``http-<status>``);
408, 429, 5xx, timeouts and connection errors → transient; 3xx and other 4xx → permanent.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import json
import re
import socket
import time

import httpx
from django.conf import settings

from comms.backends import Backend, DeliveryError, Message
from comms.slack import escape

SIGNATURE_VERSION = "v1"
TIMESTAMP_HEADER = "X-Vigil-Timestamp"
SIGNATURE_HEADER = "X-Vigil-Signature"
REQUEST_ID_HEADERS = ("X-Request-Id", "X-Slack-Req-Id", "Request-Id")
# Slack rejects a whole message whose section text is longer than this.
SECTION_TEXT_LIMIT = 3000
# Enough of an error response to say what went wrong, without reading an endless body.
ERROR_BODY_LIMIT = 500
SLACK_MEMBER_ID = re.compile(r"@?([UW][A-Z0-9]{6,})")


def sign(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """The `X-Vigil-Signature` value for a body sent at `timestamp`."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify_signature(
    secret: str | bytes,
    timestamp: str | int | None,
    body: bytes | str,
    header: str | None,
    tolerance: int = 300,
    *,
    now: float | None = None,
) -> bool:
    """Whether a request really came from Vigil: `header` (X-Vigil-Signature) signs the raw
    `body` at `timestamp` (X-Vigil-Timestamp) with `secret`, and the timestamp is within
    `tolerance` seconds of `now`."""
    if not secret or not header or timestamp is None:
        return False
    try:
        sent_at = int(str(timestamp).strip())
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent_at) > tolerance:
        return False
    raw = body.encode() if isinstance(body, str) else body
    expected = sign(secret, sent_at, raw).encode()
    candidates = [part.strip().encode() for part in header.split(",")]
    # Compare against every candidate (no early exit), each in constant time.
    return sum(hmac.compare_digest(expected, candidate) for candidate in candidates) > 0


def payload(message: Message) -> dict:
    """The Slack-compatible JSON body for a message. The body is Slack mrkdwn as rendered by
    `comms.templating`, which has already escaped every value put into it (so a title cannot
    say `<!channel>`) while keeping the template's own links (`<url|label>`); it is sent as is."""
    text = message.body.strip()
    if message.subject.strip():
        text = f"*{escape(' '.join(message.subject.split()))}*\n{text}"
    mention = _mention(message.address)
    if mention:
        text = f"{mention} {text}"
    text = text.strip()
    if not text:
        raise DeliveryError("The chat notification has no text.", transient=False)
    section = text if len(text) <= SECTION_TEXT_LIMIT else text[: SECTION_TEXT_LIMIT - 1] + "…"
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": section}}]}


def resolve_destination(url: str, *, allow_private: bool, resolver=socket.getaddrinfo) -> tuple[httpx.URL, list[str]]:
    """The parsed webhook URL and the addresses it may be sent to, in the resolver's order.
    Raises a permanent `DeliveryError` for a URL that must not be used, a transient one
    when the name cannot be resolved right now."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise DeliveryError(f"The chat webhook URL is not valid: {exc}", transient=False) from exc
    if parsed.scheme not in ("http", "https"):
        raise DeliveryError(
            f"Chat webhooks must be http or https URLs, not {parsed.scheme or 'a relative URL'!r}.", transient=False
        )
    if not parsed.raw_host:
        raise DeliveryError("The chat webhook URL has no host.", transient=False)
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = resolver(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DeliveryError(f"Could not resolve the chat webhook host {host}: {exc}", transient=True) from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise DeliveryError(f"The chat webhook host {host} resolves to no address.", transient=True)
    if not allow_private:
        internal = [address for address in addresses if is_internal_address(address)]
        if internal:
            raise DeliveryError(
                f"Refused to post to the chat webhook at {host}: it resolves to the internal address "
                f"{', '.join(internal)}. Set VIGIL_CHAT_ALLOW_PRIVATE=True to allow internal webhooks.",
                transient=False,
            )
    return parsed, addresses


def is_internal_address(address: str) -> bool:
    """Whether an IP address is one a webhook must not reach (anything not globally routable)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        embedded = [ip.ipv4_mapped, ip.sixtofour]
        if ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if any(v4 is not None and is_internal_address(str(v4)) for v4 in embedded):
            return True
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        # Shared address space (100.64.0.0/10: carrier NAT, some clouds' metadata) and the rest.
        or not ip.is_global
    )


class PinnedTransport(httpx.HTTPTransport):
    """Connects to `address` whatever host the URL names; the URL's host stays in the `Host`
    header (set when the request was built) and is used for TLS server name and certificate
    checks, so the checked address is the one reached and HTTPS still verifies the name."""

    def __init__(self, address: str, **kwargs):
        super().__init__(**kwargs)
        self.address = address

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.raw_host.decode("ascii")
        if ipaddress.ip_address(self.address.split("%", 1)[0]) != _as_ip(host):
            if request.url.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": host}
            request.url = request.url.copy_with(host=self.address)
        return super().handle_request(request)


class WebhookChatBackend(Backend):
    channel = "chat"

    def __init__(self, *, verify=True, resolver=socket.getaddrinfo):
        # `verify`: True, a CA bundle path or an `ssl.SSLContext` (an internal CA).
        # `resolver`: getaddrinfo-compatible; replaceable so a test can stand in for DNS.
        self.verify = verify
        self.resolver = resolver

    def send(self, message: Message) -> str:
        url = message.webhook_url or settings.VIGIL_CHAT_WEBHOOK_URL
        if not url:
            raise DeliveryError(
                "No chat webhook to post to: set VIGIL_CHAT_WEBHOOK_URL or give the contact a webhook URL.",
                transient=False,
            )
        parsed, addresses = resolve_destination(
            url, allow_private=settings.VIGIL_CHAT_ALLOW_PRIVATE, resolver=self.resolver
        )
        body = json.dumps(payload(message), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Vigil"}
        if message.notification_id is not None:
            headers["X-Vigil-Notification-Id"] = str(message.notification_id)
        if settings.VIGIL_CHAT_WEBHOOK_SECRET:
            timestamp = int(time.time())
            headers[TIMESTAMP_HEADER] = str(timestamp)
            headers[SIGNATURE_HEADER] = sign(settings.VIGIL_CHAT_WEBHOOK_SECRET, timestamp, body)

        timeout = settings.VIGIL_CHAT_TIMEOUT_SECONDS
        host = parsed.host
        for index, address in enumerate(addresses):
            try:
                status, response_headers, snippet = self._post(parsed, address, body, headers, timeout)
                break
            except httpx.ConnectError as exc:
                # Nothing was sent: the next address of the same host may answer.
                if index + 1 < len(addresses):
                    continue
                raise DeliveryError(f"Could not connect to the chat webhook at {host}: {exc}", transient=True) from exc
            except httpx.TimeoutException as exc:
                raise DeliveryError(f"The chat webhook at {host} timed out after {timeout:g} s.", transient=True) from exc
            except httpx.HTTPError as exc:
                raise DeliveryError(f"The chat webhook at {host} failed: {exc!r}", transient=True) from exc

        if 200 <= status < 300:
            for name in REQUEST_ID_HEADERS:
                if response_headers.get(name):
                    return response_headers[name][:200]
            return f"http-{status}"
        if 300 <= status < 400:
            location = response_headers.get("Location", "")
            raise DeliveryError(
                f"The chat webhook redirected ({status} to {location or 'nowhere'}); configure the final URL.",
                transient=False,
            )
        transient = status in (408, 429) or status >= 500
        answer = f"{status}: {snippet}" if snippet else str(status)
        raise DeliveryError(f"The chat webhook at {host} answered {answer}", transient=transient)

    def _post(self, url: httpx.URL, address: str, body: bytes, headers: dict, timeout: float):
        verify = _default_ssl_context() if self.verify is True else self.verify
        transport = PinnedTransport(address, verify=verify)
        with httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            # Proxies from the environment would resolve the host themselves: no pinning.
            trust_env=False,
        ) as client:
            with client.stream("POST", url, content=body, headers=headers) as response:
                snippet = b""
                if not 200 <= response.status_code < 300:
                    for chunk in response.iter_bytes():
                        snippet += chunk
                        if len(snippet) >= ERROR_BODY_LIMIT:
                            break
                return response.status_code, response.headers, snippet[:ERROR_BODY_LIMIT].decode("utf-8", "replace").strip()


class ConsoleChatBackend(Backend):
    """Development: writes the Slack-compatible body it would post to standard output. The
    default while DEBUG is on and no VIGIL_CHAT_WEBHOOK_URL is set."""

    channel = "chat"

    def __init__(self, stream=None):
        self.stream = stream

    def send(self, message: Message) -> str:
        import sys
        import uuid

        body = payload(message)
        stream = self.stream or sys.stdout
        stream.write(f"Chat to {message.webhook_url or 'the shared webhook'}: {json.dumps(body, ensure_ascii=False)}\n")
        stream.flush()
        return f"console-{uuid.uuid4()}"


@functools.cache
def _default_ssl_context():
    # Loading the CA bundle takes ~0.15 s; every webhook shares one context (read-only use).
    return httpx.create_ssl_context()


def _as_ip(host: str):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _mention(address: str) -> str:
    handle = address.strip()
    if not handle or handle.startswith("#"):
        return ""
    member = SLACK_MEMBER_ID.fullmatch(handle)
    if member:
        return f"<@{member.group(1)}>"
    return "@" + escape(handle.lstrip("@"))
