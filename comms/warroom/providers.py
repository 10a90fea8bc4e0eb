"""The chat providers a war room lives in: Slack (its official Web API client) and Mattermost
(REST API v4), behind one small interface. Nothing else in Vigil talks to the chat provider.

Every provider failure is a `ChatProviderError` with a message a person can act on and whether it
may pass by itself (`transient`: timeouts, 5xx, rate limits); `NameTaken` when a channel name is in
use. `connected()` is the provider the workspace is configured for (comms/warroom/workspace.py), or
None when it is "none".
"""

from __future__ import annotations

import re
import socket
import urllib.error
from dataclasses import dataclass
from typing import Protocol

import httpx
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from .workspace import Workspace, current

# Slack: member ids are U… (users) or W… (Enterprise Grid users).
SLACK_MEMBER_ID = re.compile(r"^[UW][A-Z0-9]{6,}$")

# Slack errors that pass by themselves: asking again later may work.
_SLACK_TRANSIENT = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
# Slack's words → what an operator should do about them.
_SLACK_MESSAGES = {
    "not_authed": "no bot token was sent: set the chat workspace's bot token",
    "invalid_auth": "Slack refused the bot token: check the chat workspace's bot token",
    "token_revoked": "the bot token was revoked: install the Slack app again and save its new token",
    "account_inactive": "the bot token belongs to a deactivated account",
    "missing_scope": "the Slack app lacks a scope it needs (channels:manage, channels:read, groups:write, groups:read, chat:write, users:read, users:read.email)",
    "ratelimited": "Slack is rate limiting Vigil",
    "restricted_action": "the workspace does not let the Vigil app do this",
    "invalid_name": "Slack refused the channel name",
    "invalid_name_specials": "Slack refused the channel name's characters",
    "users_not_found": "a member id Vigil used is not in this Slack workspace",
}


class ChatProviderError(Exception):
    """The chat provider could not do what was asked. `transient`: it may work later by itself."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


class NameTaken(ChatProviderError):
    """A channel with this name exists already (archived ones included)."""


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    url: str


class ChatProvider(Protocol):
    name: str  # "slack" | "mattermost"
    name_limit: int  # 80 for Slack, 64 for Mattermost

    def create_channel(self, name: str, *, private: bool) -> Channel: ...  # raises NameTaken

    def find_channel(self, name: str) -> Channel | None: ...

    def invite(self, channel_id: str, member_ids: list[str]) -> None: ...

    def set_topic(self, channel_id: str, topic: str) -> None: ...

    def post(self, channel_id: str, text: str) -> str: ...  # the provider's message id (Slack ts)

    def archive(self, channel_id: str) -> None: ...

    def find_member(self, *, handle: str = "", email: str = "") -> str | None: ...


def connected() -> ChatProvider | None:
    """The provider the chat workspace is connected to, or None ("none", the default)."""
    return provider_for(current())


def provider_for(workspace: Workspace) -> ChatProvider | None:
    if workspace.provider == "slack":
        return SlackProvider(workspace)
    if workspace.provider == "mattermost":
        return MattermostProvider(workspace)
    return None


# --- Slack ------------------------------------------------------------------------------------


class SlackProvider:
    """Slack through `slack_sdk.WebClient` with the bot token. The client's own retries are off:
    a failure comes back at once and the war room's sweeper decides when to ask again."""

    name = "slack"
    name_limit = 80

    def __init__(self, workspace: Workspace) -> None:
        base = workspace.slack_api_url if workspace.slack_api_url.endswith("/") else workspace.slack_api_url + "/"
        self.client = WebClient(
            token=workspace.token, base_url=base, timeout=max(1, round(workspace.timeout)), retry_handlers=[]
        )
        self.client.timeout = workspace.timeout  # WebClient keeps it as given; urllib takes a float
        self.workspace_url = workspace.workspace_url.rstrip("/")

    def _call(self, method: str, **params) -> dict:
        try:
            return self.client.api_call(method, json=params).data  # type: ignore[return-value]
        except SlackApiError as exc:
            error = _slack_error(exc)
            status = getattr(exc.response, "status_code", 200) or 200
            if error == "name_taken":
                raise NameTaken(f"Slack: the channel name {params.get('name', '')!r} is taken") from None
            if error in _SLACK_MESSAGES:
                words = _SLACK_MESSAGES[error]
            elif status != 200 or not error:  # a proxy's or an outage's page, not Slack's JSON
                words = f"HTTP {status}"
            else:
                words = error
            raise ChatProviderError(
                f"Slack {method}: {words}", transient=error in _SLACK_TRANSIENT or status >= 500 or status == 429
            ) from None
        except (TimeoutError, socket.timeout) as exc:
            raise ChatProviderError(f"Slack {method}: no answer within {self.client.timeout:g} s", transient=True) from exc
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (TimeoutError, socket.timeout)):
                raise ChatProviderError(f"Slack {method}: no answer within {self.client.timeout:g} s", transient=True) from exc
            raise ChatProviderError(f"Slack {method}: could not reach Slack ({reason})", transient=True) from exc
        except (OSError, SlackClientError, ValueError) as exc:
            raise ChatProviderError(f"Slack {method}: {exc}", transient=True) from exc

    def _channel(self, data: dict) -> Channel:
        channel_id, name = data["id"], data.get("name", "")
        if self.workspace_url:
            url = f"{self.workspace_url}/archives/{channel_id}"
        else:  # Slack's own redirect opens the channel in whichever workspace the reader is signed in to
            url = f"https://slack.com/app_redirect?channel={channel_id}"
        return Channel(id=channel_id, name=name, url=url)

    def create_channel(self, name: str, *, private: bool) -> Channel:
        return self._channel(self._call("conversations.create", name=name, is_private=private)["channel"])

    def find_channel(self, name: str) -> Channel | None:
        cursor = ""
        for _ in range(100):  # at most 100,000 channels: only the recovery path pages through them
            params = {"types": "public_channel,private_channel", "limit": 1000, "exclude_archived": True}
            if cursor:
                params["cursor"] = cursor
            data = self._call("conversations.list", **params)
            for channel in data.get("channels", []):
                if channel.get("name") == name:
                    return self._channel(channel)
            cursor = (data.get("response_metadata") or {}).get("next_cursor", "")
            if not cursor:
                return None
        return None

    def invite(self, channel_id: str, member_ids: list[str]) -> None:
        if not member_ids:
            return
        try:
            self._call("conversations.invite", channel=channel_id, users=",".join(member_ids), force=True)
        except ChatProviderError as exc:
            if "already_in_channel" in exc.message or "cant_invite_self" in exc.message:
                return  # they are in: what was asked for
            raise

    def set_topic(self, channel_id: str, topic: str) -> None:
        self._call("conversations.setTopic", channel=channel_id, topic=topic[:250])

    def post(self, channel_id: str, text: str) -> str:
        return self._call("chat.postMessage", channel=channel_id, text=text)["ts"]

    def archive(self, channel_id: str) -> None:
        try:
            self._call("conversations.archive", channel=channel_id)
        except ChatProviderError as exc:
            if "already_archived" not in exc.message:
                raise

    def find_member(self, *, handle: str = "", email: str = "") -> str | None:
        handle = handle.strip().lstrip("@")
        if SLACK_MEMBER_ID.match(handle):
            return handle
        if not email:
            return None
        try:
            return self._call("users.lookupByEmail", email=email)["user"]["id"]
        except ChatProviderError as exc:
            if "users_not_found" in exc.message or "not in this Slack workspace" in exc.message:
                return None
            raise


def _slack_error(exc: SlackApiError) -> str:
    response = exc.response
    data = getattr(response, "data", None)
    if isinstance(data, dict):
        return str(data.get("error", ""))
    return ""


# --- Mattermost -------------------------------------------------------------------------------


class MattermostProvider:
    """Mattermost through REST API v4 (a bot account's token, the server URL and the team id)."""

    name = "mattermost"
    name_limit = 64

    def __init__(self, workspace: Workspace) -> None:
        self.server = workspace.mattermost_url.rstrip("/")
        self.team_id = workspace.mattermost_team_id
        self.team_name = workspace.mattermost_team_name
        self.http = httpx.Client(
            base_url=f"{self.server}/api/v4/",
            headers={"Authorization": f"Bearer {workspace.token}"},
            timeout=workspace.timeout,
            follow_redirects=False,
        )

    def _call(self, verb: str, path: str, **kwargs) -> dict | list:
        try:
            response = self.http.request(verb, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ChatProviderError(f"Mattermost {path}: no answer within {self.http.timeout.read:g} s", transient=True) from exc
        except httpx.HTTPError as exc:
            raise ChatProviderError(f"Mattermost {path}: could not reach the server ({exc})", transient=True) from exc
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            body = body if isinstance(body, dict) else {}
            message = body.get("message") or f"HTTP {response.status_code}"
            error_id = body.get("id", "")
            if error_id == "store.sql_channel.save_channel.exists.app_error":
                raise NameTaken(f"Mattermost: the channel name {kwargs.get('json', {}).get('name', '')!r} is taken")
            transient = response.status_code >= 500 or response.status_code == 429
            raise ChatProviderError(f"Mattermost {path}: {message}", transient=transient)
        return response.json() if response.content else {}

    def _channel(self, data: dict) -> Channel:
        team = self.team_name or self.team_id
        return Channel(id=data["id"], name=data["name"], url=f"{self.server}/{team}/channels/{data['name']}")

    def create_channel(self, name: str, *, private: bool) -> Channel:
        body = {"team_id": self.team_id, "name": name, "display_name": name, "type": "P" if private else "O"}
        return self._channel(self._call("POST", "channels", json=body))  # type: ignore[arg-type]

    def find_channel(self, name: str) -> Channel | None:
        try:
            return self._channel(self._call("GET", f"teams/{self.team_id}/channels/name/{name}"))  # type: ignore[arg-type]
        except ChatProviderError as exc:
            if not exc.transient:  # 404: no such channel
                return None
            raise

    def invite(self, channel_id: str, member_ids: list[str]) -> None:
        if member_ids:
            self._call("POST", f"channels/{channel_id}/members", json={"user_ids": member_ids})

    def set_topic(self, channel_id: str, topic: str) -> None:
        self._call("PUT", f"channels/{channel_id}/patch", json={"header": topic[:1024]})

    def post(self, channel_id: str, text: str) -> str:
        return self._call("POST", "posts", json={"channel_id": channel_id, "message": text})["id"]  # type: ignore[index]

    def archive(self, channel_id: str) -> None:
        self._call("DELETE", f"channels/{channel_id}")

    def find_member(self, *, handle: str = "", email: str = "") -> str | None:
        handle = handle.strip().lstrip("@")
        for path in ([f"users/username/{handle}"] if handle else []) + ([f"users/email/{email}"] if email else []):
            try:
                return self._call("GET", path)["id"]  # type: ignore[index]
            except ChatProviderError as exc:
                if exc.transient:
                    raise
        return None
