"""Real servers for delivery tests: an SMTP server that keeps what it receives, a chat webhook
receiver that checks Vigil's signature, and ports that refuse or never answer.

Use them from a test module by importing the fixtures::

    from tests.comms.servers import django_smtp, smtp_server  # noqa: F401

- ``smtp_server`` → ``SMTPSink``: ``.host``, ``.port``, ``.messages`` (``email.message.EmailMessage``,
  parsed with the modern policy), ``.raw`` (the bytes of each message as received),
  ``.envelopes`` (``Envelope(mail_from, rcpt_tos)``), ``.wait_for(n, timeout)``,
  ``.refuse_recipients(reply)`` (e.g. ``"550 5.1.1 User unknown"``), ``.stall_after(n)`` (accept
  n more messages, then take each later one in and leave its sender waiting for the answer
  until ``.release()``: a message in flight, for killing a sender mid-batch).
- ``django_smtp`` → the same sink, with Django's SMTP email backend pointed at it.
- ``webhook_server`` → ``WebhookServer``: ``.url``, ``.secret``, ``.requests``
  (``ReceivedRequest`` with ``.path``, ``.headers``, ``.body``, ``.json``, ``.signature_valid``),
  ``.respond(status, body=, headers=, delay=)``, ``.redirect(location, status=302)``,
  ``.require_signature`` (answers 401 to an unsigned or badly signed request when on),
  ``.wait_for(n, timeout)``.
- ``django_chat_webhook`` → the same server, with Vigil's chat settings pointed at it (and
  ``VIGIL_CHAT_ALLOW_PRIVATE`` on, since it listens on 127.0.0.1).
- ``closed_port`` → ``(host, port)`` where nothing listens (connections are refused).
- ``silent_server`` → ``(host, port)`` that accepts connections and never says a word.
- ``unanswered_port`` → ``(host, port)`` whose handshake never completes, like a host that is
  down or behind a firewall that drops packets (connecting waits for its timeout).
- ``TCPForwarder(host, port)`` → a local port forwarded to a real server, ``.stop()`` (the
  server goes away: listener and every connection closed) and ``.start()`` (back on the same
  port): a broker that restarts.
"""

from __future__ import annotations

import asyncio
import email.policy
import hashlib
import hmac
import json
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

LOCALHOST = "127.0.0.1"


# --- SMTP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    rcpt_tos: list[str]


class SMTPSink:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.host = LOCALHOST
        self.port: int = 0
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.envelopes: list[Envelope] = []
        self.rcpt_reply: str | None = None
        self._arrived = threading.Condition()
        self._answer_until: int | None = None  # answer this many messages in all, then stall
        self._released = threading.Event()

    def refuse_recipients(self, reply: str = "550 5.1.1 User unknown") -> None:
        """Answer every RCPT TO with `reply` (a 4xx or 5xx line) from now on."""
        self.rcpt_reply = reply

    def stall_after(self, n: int) -> None:
        """Answer `n` more messages; from then on each message is received (and kept) but its
        sender waits for the answer until `release()`: the message is in flight."""
        with self._arrived:
            self._answer_until = len(self.messages) + n
        self._released.clear()

    def release(self) -> None:
        """Answer the stalled messages and every later one at once."""
        self._answer_until = None
        self._released.set()

    def django_settings(self) -> dict[str, Any]:
        """Django's SMTP email backend pointed at this sink: the settings `django_smtp` applies,
        and (as strings) the environment of a worker process that should mail here."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": self.host,
            "EMAIL_PORT": self.port,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_TIMEOUT": 5,
        }

    def wait_for(self, n: int = 1, timeout: float = 5.0) -> list[EmailMessage]:
        """The messages once at least `n` have arrived; fails the test after `timeout` seconds."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= n, timeout):
                raise AssertionError(f"expected {n} message(s) within {timeout} s, got {len(self.messages)}")
            return list(self.messages)

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = BytesParser(policy=email.policy.default).parsebytes(raw)
        with self._arrived:
            self.messages.append(message)
            self.raw.append(raw)
            self.envelopes.append(Envelope(envelope.mail_from, list(envelope.rcpt_tos)))
            stall = self._answer_until is not None and len(self.messages) > self._answer_until
            self._arrived.notify_all()
        # Bounded: a stalled sender is released by the test, or by the sink stopping.
        deadline = time.monotonic() + 120
        while stall and not self._released.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"


class _AnyPortController(Controller):
    """Binds port 0 and learns the port the system chose, so parallel runs never collide."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def smtp_server():
    sink = SMTPSink()
    controller = _AnyPortController(sink, hostname=LOCALHOST, port=0)
    controller.start()
    sink.port = controller.port
    try:
        yield sink
    finally:
        sink.release()
        controller.stop()


@pytest.fixture
def django_smtp(settings, smtp_server):
    for name, value in smtp_server.django_settings().items():
        setattr(settings, name, value)
    return smtp_server


# --- Chat webhook ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: Any  # http.client.HTTPMessage: case-insensitive .get()
    body: bytes
    json: Any
    signature_valid: bool


def _signature_valid(secret: str, headers, body: bytes, tolerance: int = 300) -> bool:
    """Vigil's documented scheme, written out again here so the backend is checked against the
    description rather than against itself: v1=hex(HMAC-SHA256(secret, f"{ts}." + body))."""
    timestamp, header = headers.get("X-Vigil-Timestamp"), headers.get("X-Vigil-Signature")
    if not timestamp or not header or not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, part.strip()) for part in header.split(","))


class _QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that refused our certificate or hung up: the test asserts on its side


class WebhookServer:
    """A chat webhook receiver on 127.0.0.1 (or over TLS with `ssl_context`) that records
    every request and answers what the test asks for."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None, hostname: str = LOCALHOST) -> None:
        self.secret = secrets.token_urlsafe(24)
        self.requests: list[ReceivedRequest] = []
        self.require_signature = True
        self.server_names: list[str | None] = []  # TLS: the SNI each client sent
        self.respond()
        self._arrived = threading.Condition()
        self._release = threading.Event()
        self._httpd = _QuietHTTPServer((LOCALHOST, 0), self._handler())
        if ssl_context is not None:
            ssl_context.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
            self._httpd.socket = ssl_context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        scheme = "https" if ssl_context is not None else "http"
        self.url = f"{scheme}://{hostname}:{self.port}/hooks/vigil"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="webhook-server", daemon=True
        )

    def respond(self, status: int = 200, *, body: bytes | str = b"ok", headers: dict | None = None, delay: float = 0.0) -> None:
        """How to answer from now on; `delay` seconds before answering (for timeouts)."""
        self.status = status
        self.response_body = body.encode() if isinstance(body, str) else body
        self.response_headers = dict(headers or {})
        self.delay = delay

    def redirect(self, location: str, status: int = 302) -> None:
        self.respond(status, body=b"", headers={"Location": location})

    def wait_for(self, n: int = 1, timeout: float = 5.0) -> list[ReceivedRequest]:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= n, timeout):
                raise AssertionError(f"expected {n} request(s) within {timeout} s, got {len(self.requests)}")
            return list(self.requests)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._release.set()  # let a handler that is holding back its answer finish
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _record(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        received = ReceivedRequest(
            method=handler.command,
            path=handler.path,
            headers=handler.headers,
            body=body,
            json=parsed,
            signature_valid=_signature_valid(self.secret, handler.headers, body),
        )
        with self._arrived:
            self.requests.append(received)
            self._arrived.notify_all()
        if self.require_signature and not received.signature_valid:
            self._answer(handler, 401, b"invalid signature", {})
            return
        if self.delay:
            self._release.wait(self.delay)
        self._answer(handler, self.status, self.response_body, self.response_headers)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict) -> None:
        try:
            handler.send_response(status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                server._record(self)

            do_GET = do_PUT = do_PATCH = do_DELETE = do_POST

            def log_message(self, format, *args):
                pass

        return Handler


@pytest.fixture
def webhook_server():
    server = WebhookServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def django_chat_webhook(settings, webhook_server):
    settings.VIGIL_CHAT_BACKEND = "comms.backends.chat.WebhookChatBackend"
    settings.VIGIL_CHAT_WEBHOOK_URL = webhook_server.url
    settings.VIGIL_CHAT_WEBHOOK_SECRET = webhook_server.secret
    settings.VIGIL_CHAT_TIMEOUT_SECONDS = 5.0
    settings.VIGIL_CHAT_ALLOW_PRIVATE = True
    return webhook_server


# --- Ports that do not help -------------------------------------------------------------------


@contextmanager
def _local_port(backlog: int | None = None) -> Iterator[socket.socket]:
    """A TCP socket bound to a free port on 127.0.0.1, listening if given a `backlog`; closed after."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((LOCALHOST, 0))
        if backlog is not None:
            sock.listen(backlog)
        yield sock
    finally:
        sock.close()


@pytest.fixture
def closed_port():
    """A port held bound but not listening: connecting to it is refused at once."""
    with _local_port() as sock:
        yield sock.getsockname()


@pytest.fixture
def silent_server():
    """A port that completes the TCP handshake (the kernel's backlog) and then says nothing."""
    with _local_port(backlog=8) as sock:
        yield sock.getsockname()


@pytest.fixture
def unanswered_port():
    """A listening port whose one-place accept queue is already full: the kernel drops further
    SYNs, so a connection attempt hears nothing until its own timeout."""
    with _local_port(backlog=0) as sock, closing(socket.create_connection(sock.getsockname(), timeout=5)):
        yield sock.getsockname()


def _shut_down(sock: socket.socket) -> None:
    """Shut both directions of a socket, if it is still connected (either end may have gone)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class TCPForwarder:
    """Forwards 127.0.0.1:<port> to a real server until stopped."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOCALHOST, self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            # Shut down first: a close alone leaves the thread blocked in accept() listening.
            _shut_down(self._listener)
            self._listener.close()
            self._listener = None
        for sock in self._sockets:
            _shut_down(sock)
            sock.close()
        self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            _shut_down(sock)
