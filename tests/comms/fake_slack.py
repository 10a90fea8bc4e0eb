"""A real HTTP server that answers the Slack Web API methods Vigil's war room uses, like Slack does.

`FakeSlack` runs a `ThreadingHTTPServer` on 127.0.0.1 in a thread. It speaks
`conversations.create`, `conversations.list`, `conversations.invite`, `conversations.setTopic`,
`chat.postMessage`, `conversations.archive` and `users.lookupByEmail`: JSON or form bodies,
`Authorization: Bearer <token>` checked (`invalid_auth` otherwise), `{"ok": false, "error": …}`
answers (`name_taken`, `channel_not_found`, `already_archived`, `users_not_found`…).

What a test reads:
- `.calls`: every request in order, `Call(method, params, token)`; `.called(method)` the params of
  each call of one method;
- `.channels`: id → `FakeChannel(id, name, is_private, topic, members, archived, messages)`;
  `.channel_named(name)`;
- `.users`: email → member id (`.add_user(email, member_id)`).

What a test can make it do (each for the next `times` calls of `method`, or of any method):
- `.fail(method, "error", error="invalid_auth")`: answer 200 `{"ok": false, "error": …}`;
- `.fail(method, "500")`: answer HTTP 500 with an HTML body;
- `.fail(method, "ratelimited")`: answer 429 with `Retry-After` and `ratelimited`;
- `.fail(method, "timeout", sleep=2.0)`: do the work (the channel exists), then sleep past the
  client's timeout before answering — the answer is lost, the effect is not;
- `.down()` / `.up()`: nothing listens on the port (connections refused), then the same port again.

The pytest fixture `fake_slack` (tests/comms/conftest.py) starts one and points Vigil's chat
settings at it (provider slack, a bot token, a 0.5 s timeout).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "xoxb-test-vigil"


@dataclass
class Call:
    method: str
    params: dict
    token: str


@dataclass
class FakeChannel:
    id: str
    name: str
    is_private: bool
    topic: str = ""
    members: list[str] = field(default_factory=list)
    archived: bool = False
    messages: list[str] = field(default_factory=list)


@dataclass
class _Failure:
    mode: str
    error: str
    times: int
    sleep: float


class FakeSlack:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.channels: dict[str, FakeChannel] = {}
        self.users: dict[str, str] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 — http.server's name
                fake._handle(self)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def down(self) -> None:
        """Nothing listens any more: connections are refused."""
        self.stop()

    def up(self) -> None:
        """Back on the same port."""
        self.start()

    # --- what a test sets up and reads -------------------------------------------------------

    def add_user(self, email: str, member_id: str) -> str:
        self.users[email.lower()] = member_id
        return member_id

    def fail(self, method: str = "*", mode: str = "error", *, error: str = "internal_error", times: int = 1,
             sleep: float = 2.0) -> None:
        self._failures.setdefault(method, []).append(_Failure(mode, error, times, sleep))

    def called(self, method: str) -> list[dict]:
        return [call.params for call in self.calls if call.method == method]

    def channel_named(self, name: str) -> FakeChannel | None:
        return next((c for c in self.channels.values() if c.name == name), None)

    def open_channels(self) -> list[FakeChannel]:
        return [c for c in self.channels.values() if not c.archived]

    # --- the server --------------------------------------------------------------------------

    def _take_failure(self, method: str) -> _Failure | None:
        with self._lock:
            for key in (method, "*"):
                queue = self._failures.get(key) or []
                if queue:
                    failure = queue[0]
                    failure.times -= 1
                    if failure.times <= 0:
                        queue.pop(0)
                    return failure
        return None

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        method = request.path.rstrip("/").rsplit("/", 1)[-1]
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length).decode() if length else ""
        if "json" in (request.headers.get("Content-Type") or ""):
            params = json.loads(raw or "{}")
        else:
            params = {k: v[-1] for k, v in urllib.parse.parse_qs(raw).items()}
            params.update({k: v[-1] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(request.path).query).items()})
            method = urllib.parse.urlsplit(request.path).path.rstrip("/").rsplit("/", 1)[-1]
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        with self._lock:
            self.calls.append(Call(method, params, token))
        failure = self._take_failure(method)
        if failure and failure.mode == "500":
            return self._send(request, 500, "<html><body>Internal Server Error</body></html>", "text/html")
        if failure and failure.mode == "ratelimited":
            return self._send(request, 429, {"ok": False, "error": "ratelimited"}, headers={"Retry-After": "30"})
        if failure and failure.mode == "error":
            return self._send(request, 200, {"ok": False, "error": failure.error})
        if token != self.token:
            return self._send(request, 200, {"ok": False, "error": "invalid_auth" if token else "not_authed"})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return self._send(request, 200, {"ok": False, "error": "unknown_method"})
        with self._lock:
            answer = handler(params)
        if failure and failure.mode == "timeout":
            time.sleep(failure.sleep)  # the work is done; the client has given up by now
        try:
            self._send(request, 200, answer)
        except OSError:
            pass  # the client hung up after its timeout

    @staticmethod
    def _send(request, status: int, body, content_type: str = "application/json; charset=utf-8", headers=None) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)

    # --- Slack's methods (under the lock) -------------------------------------------------------

    def _channel_json(self, channel: FakeChannel) -> dict:
        return {
            "id": channel.id, "name": channel.name, "is_channel": True, "is_private": channel.is_private,
            "is_archived": channel.archived, "topic": {"value": channel.topic}, "num_members": len(channel.members),
        }

    def _get(self, params) -> FakeChannel | None:
        return self.channels.get(str(params.get("channel", "")))

    def _conversations_create(self, params) -> dict:
        name = str(params.get("name", ""))
        if not name or len(name) > 80 or name != name.lower() or any(c in name for c in " .,"):
            return {"ok": False, "error": "invalid_name_specials" if name else "invalid_name_required"}
        if any(c.name == name for c in self.channels.values()):
            return {"ok": False, "error": "name_taken"}
        private = params.get("is_private") in (True, "true", "1", 1)
        channel = FakeChannel(id=f"C{next(self._ids):08d}", name=name, is_private=private)
        self.channels[channel.id] = channel
        return {"ok": True, "channel": self._channel_json(channel)}

    def _conversations_list(self, params) -> dict:
        channels = [c for c in self.channels.values() if not (c.archived and params.get("exclude_archived") in (True, "true"))]
        limit = int(params.get("limit") or 100)
        start = int(params.get("cursor") or 0)
        page = channels[start : start + limit]
        cursor = str(start + limit) if start + limit < len(channels) else ""
        return {"ok": True, "channels": [self._channel_json(c) for c in page], "response_metadata": {"next_cursor": cursor}}

    def _conversations_invite(self, params) -> dict:
        channel = self._get(params)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if channel.archived:
            return {"ok": False, "error": "is_archived"}
        users = [u for u in str(params.get("users", "")).split(",") if u]
        known = set(self.users.values())
        missing = [u for u in users if u not in known]
        if missing:
            return {"ok": False, "error": "user_not_found", "errors": [{"user": u, "error": "user_not_found"} for u in missing]}
        new = [u for u in users if u not in channel.members]
        if not new:
            return {"ok": False, "error": "already_in_channel"}
        channel.members.extend(new)
        return {"ok": True, "channel": self._channel_json(channel)}

    def _conversations_setTopic(self, params) -> dict:  # noqa: N802 — Slack's method name
        channel = self._get(params)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        topic = str(params.get("topic", ""))
        if len(topic) > 250:
            return {"ok": False, "error": "too_long"}
        channel.topic = topic
        return {"ok": True, "channel": self._channel_json(channel)}

    def _chat_postMessage(self, params) -> dict:  # noqa: N802 — Slack's method name
        channel = self._get(params)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if channel.archived:
            return {"ok": False, "error": "is_archived"}
        channel.messages.append(str(params.get("text", "")))
        ts = f"{time.time():.6f}"
        return {"ok": True, "channel": channel.id, "ts": ts, "message": {"text": params.get("text", ""), "ts": ts}}

    def _conversations_archive(self, params) -> dict:
        channel = self._get(params)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if channel.archived:
            return {"ok": False, "error": "already_archived"}
        channel.archived = True
        return {"ok": True}

    def _users_lookupByEmail(self, params) -> dict:  # noqa: N802 — Slack's method name
        member = self.users.get(str(params.get("email", "")).lower())
        if member is None:
            return {"ok": False, "error": "users_not_found"}
        return {"ok": True, "user": {"id": member, "profile": {"email": params.get("email")}}}
