"""Chat in: `/api/v1/chat/command` for bots holding an API key with the chat scope,
`/api/v1/chat/slack` for Slack slash commands (signed with the app's signing secret) and
`/api/v1/chat/mattermost` for Mattermost slash commands (the command's token). Each passes the
channel the command was typed in: in an incident's war room, commands apply to that incident
without a reference.

Both answer 200 with a Slack-compatible reply for anything wrong with the command itself (chat
shows the reply); 401 and 403 only when the caller is not who it claims to be. The person acting
is the chat user (mapped through their chat contact method), never the key's owner: a key with
the chat scope is trusted to say who is typing, as Slack's signature is.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from oncall.api_auth import require_scope
from oncall.api_errors import ApiError, ErrorOut, ValidationErrorOut

from . import chat
from .slack import unescape as unescape_slack

router = Router(tags=["chat"])

# Slack's own rule: a request whose timestamp is more than five minutes from now is a replay.
SLACK_MAX_AGE_SECONDS = 5 * 60


class ChatCommandIn(Schema):
    text: str = Field(..., max_length=12_000, description="What was typed after the slash command, e.g. `ack INC-42`.")
    user: str = Field(..., max_length=254, description="The chat handle (`@alice`) or member id (`U024BE7LH`) of who typed it.")
    channel: str = Field(
        "", max_length=254,
        description="The id of the chat channel it was typed in (e.g. Slack's `C024BE91L`). In an incident's war-room "
        "channel, commands about one incident may leave the incident out (`ack`, `tech-lead @bob`, `note …`), and "
        "before free text only `INC-42` or `#42` name an incident; elsewhere, or empty, every such command names one.",
    )


class ChatReply(Schema):
    response_type: str = Field(..., description='"in_channel" for changes everyone should see, "ephemeral" otherwise.')
    text: str
    blocks: list[dict]




# The shapes config/api.py gives errors; 200 carries every problem with the command itself.
COMMAND_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 413: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut, 503: ErrorOut}
SLACK_ERRORS = {401: ErrorOut, 413: ErrorOut, 503: ErrorOut}
MATTERMOST_ERRORS = SLACK_ERRORS

def _form_body(fields: dict) -> dict:
    """The OpenAPI request body of a form-encoded slash command with these fields."""
    schema = {"type": "object", "properties": fields}
    return {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}}


_TEXT = {"type": "string", "description": "What was typed after it."}
_COMMAND = {"type": "string", "description": "The slash command, e.g. /incident."}
_CHANNEL = {
    "type": "string",
    "description": "Where it was typed: in an incident's war room, commands apply to it without a reference.",
}
# Slack sends more fields (team_domain, api_app_id, trigger_id…); these are the ones read.
SLACK_FORM = {
    **_form_body({
        "command": _COMMAND,
        "text": _TEXT,
        "user_id": {"type": "string", "description": "The Slack member id, e.g. U024BE7LH."},
        "user_name": {"type": "string"},
        "channel_id": _CHANNEL,
        "team_id": {"type": "string"},
        "response_url": {"type": "string"},
    }),
    "parameters": [
        {"in": "header", "name": "X-Slack-Request-Timestamp", "required": True, "schema": {"type": "string"}},
        {"in": "header", "name": "X-Slack-Signature", "required": True, "schema": {"type": "string"},
         "description": "v0=<hex HMAC-SHA256 of v0:<timestamp>:<raw body> with the signing secret>"},
    ],
}


@router.post("/command", response={200: ChatReply, **COMMAND_ERRORS})
def command(request: HttpRequest, payload: ChatCommandIn):
    """Run a chat command as the Vigil user whose chat contact method is `user`. Needs the chat scope."""
    require_scope(request, "chat")
    return chat.respond(payload.text, [payload.user], channel=payload.channel).as_slack()


@router.post("/slack", auth=None, response={200: ChatReply, **SLACK_ERRORS}, openapi_extra=SLACK_FORM)
def slack(request: HttpRequest):
    """A Slack slash command (form-encoded, as Slack sends it). The `X-Slack-Signature` over the
    raw body, with `SLACK_SIGNING_SECRET`, is the credential; the person is found by their Slack
    member id (`user_id`), then by `@user_name`."""
    body = request.body
    verify_slack_signature(
        body,
        timestamp=request.headers.get("X-Slack-Request-Timestamp", ""),
        signature=request.headers.get("X-Slack-Signature", ""),
    )
    form = _form(body)
    return _respond_to_form(form, text=unescape_slack(form.get("text", "")))


MATTERMOST_FORM = _form_body({
    "token": {"type": "string", "description": "The slash command's token, as Mattermost shows it when the command is made."},
    "command": _COMMAND,
    "text": _TEXT,
    "user_id": {"type": "string", "description": "The Mattermost user id."},
    "user_name": {"type": "string"},
    "channel_id": _CHANNEL,
})


@router.post("/mattermost", auth=None, response={200: ChatReply, **MATTERMOST_ERRORS}, openapi_extra=MATTERMOST_FORM)
def mattermost(request: HttpRequest):
    """A Mattermost slash command (form-encoded). Its `token`, compared with
    `MATTERMOST_COMMAND_TOKEN`, is the credential; the person is found by their Mattermost user id,
    then by `@user_name`. The reply is Slack-shaped, which Mattermost reads (`response_type`, `text`)."""
    form = _form(request.body)
    expected = settings.MATTERMOST_COMMAND_TOKEN
    if not expected:
        raise ApiError("Mattermost commands are not set up here: MATTERMOST_COMMAND_TOKEN is empty.", status=401)
    if not hmac.compare_digest(expected.encode(), form.get("token", "").encode()):
        raise ApiError("The Mattermost command token does not match.", status=401)
    return _respond_to_form(form, text=form.get("text", ""))


def _form(body: bytes) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def _respond_to_form(form: dict[str, str], *, text: str) -> dict:
    """A slash command's form (Slack and Mattermost name the fields alike) answered as its user,
    in its channel."""
    candidates = [form.get("user_id", ""), "@" + form["user_name"] if form.get("user_name") else ""]
    prefix = form.get("command", "").strip()[:40]
    channel = form.get("channel_id", "")[:254]
    return chat.respond(text, [c for c in candidates if c], prefix=prefix, channel=channel).as_slack()


def verify_slack_signature(body: bytes, *, timestamp: str, signature: str) -> None:
    """401 unless `signature` is Slack's v0 HMAC-SHA256 of `v0:<timestamp>:<body>` under the signing
    secret, and `timestamp` is within five minutes of now. No secret configured: nothing passes."""
    secret = settings.SLACK_SIGNING_SECRET
    if not secret:
        raise ApiError("Slack commands are not set up here: SLACK_SIGNING_SECRET is empty.", status=401)
    if not timestamp or not signature:
        raise ApiError("Missing X-Slack-Request-Timestamp or X-Slack-Signature header.", status=401)
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise ApiError("X-Slack-Request-Timestamp is not a Unix time.", status=401) from None
    if abs(timezone.now().timestamp() - sent_at) > SLACK_MAX_AGE_SECONDS:
        raise ApiError("The Slack request timestamp is more than five minutes from now (a replay, or a clock off).", status=401)
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise ApiError("The Slack signature does not match this request.", status=401)
