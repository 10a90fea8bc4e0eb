"""A small real HTTP server answering the Mattermost REST API v4 calls Vigil's war room makes.

`FakeMattermost().start()`: `.url` (the server), `.token`, `.team_id`, `.calls` ((verb, path, body)),
`.channels` (id → dict with name, type, header, members, deleted), `.users` (id → (username,
email)), `.add_user(username, email)`. Answers like Mattermost: 401 for a wrong token, 400 with
`store.sql_channel.save_channel.exists.app_error` for a taken name, 404 for unknown users or
channels. `.fail_next(status)` answers the next call with that status.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeMattermost:
    def __init__(self, token: str = "mm-bot-token", team_id: str = "team0001") -> None:
        self.token, self.team_id = token, team_id
        self.calls: list[tuple[str, str, dict]] = []
        self.channels: dict[str, dict] = {}
        self.users: dict[str, tuple[str, str]] = {}
        self._fail: list[int] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeMattermost:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                fake._handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = _any  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def add_user(self, username: str, email: str) -> str:
        user_id = f"mmuser{next(self._ids):04d}"
        self.users[user_id] = (username, email)
        return user_id

    def fail_next(self, status: int) -> None:
        self._fail.append(status)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = json.loads(request.rfile.read(length) or b"{}") if length else {}
        path = request.path.removeprefix("/api/v4/")
        with self._lock:
            self.calls.append((request.command, path, body))
            if self._fail:
                return self._send(request, self._fail.pop(0), {"id": "api.error", "message": "failed"})
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                return self._send(request, 401, {"id": "api.context.session_expired.app_error", "message": "Invalid or expired session"})
            status, answer = self._route(request.command, path, body)
        self._send(request, status, answer)

    def _route(self, verb: str, path: str, body: dict):
        missing = (404, {"id": "app.channel.get.existing.app_error", "message": "Unable to find the existing channel."})
        if verb == "POST" and path == "channels":
            if any(c["name"] == body["name"] for c in self.channels.values()):
                return 400, {"id": "store.sql_channel.save_channel.exists.app_error", "message": "A channel with that name already exists on the same team."}
            channel_id = f"mmchan{next(self._ids):04d}"
            self.channels[channel_id] = {"id": channel_id, "name": body["name"], "type": body["type"], "header": "",
                                         "members": [], "deleted": False, "team_id": body["team_id"], "posts": []}
            return 201, self.channels[channel_id]
        if match := re.fullmatch(r"teams/(\w+)/channels/name/([\w-]+)", path):
            found = [c for c in self.channels.values() if c["name"] == match[2] and not c["deleted"]]
            return (200, found[0]) if found else missing
        if match := re.fullmatch(r"channels/(\w+)(/members|/patch)?", path):
            channel = self.channels.get(match[1])
            if channel is None:
                return missing
            if match[2] == "/members":
                channel["members"].extend(u for u in body["user_ids"] if u not in channel["members"])
                return 201, [{"user_id": u, "channel_id": channel["id"]} for u in body["user_ids"]]
            if match[2] == "/patch":
                channel["header"] = body.get("header", channel["header"])
                return 200, channel
            if verb == "DELETE":
                channel["deleted"] = True
                return 200, {"status": "OK"}
        if verb == "POST" and path == "posts":
            self.channels[body["channel_id"]]["posts"].append(body["message"])
            return 201, {"id": f"mmpost{next(self._ids):04d}"}
        if match := re.fullmatch(r"users/(username|email)/(.+)", path):
            index = 0 if match[1] == "username" else 1
            for user_id, fields in self.users.items():
                if fields[index] == match[2]:
                    return 200, {"id": user_id, "username": fields[0], "email": fields[1]}
            return 404, {"id": "app.user.missing_account.const", "message": "Unable to find the user."}
        return 404, {"id": "api.context.404.app_error", "message": "Sorry, we could not find the page."}

    @staticmethod
    def _send(request, status: int, body) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
