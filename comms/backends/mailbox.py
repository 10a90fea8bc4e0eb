"""Development delivery (`make run`): each message sent prints one line on the terminal and is
written whole to a file under VIGIL_MAIL_DIR (var/mail/): an email as an .eml file any mail
client opens, an SMS as text, a chat message as the JSON body it would post.

    email → alice.chen@example.com: [SEV-1] INC-10 Checkout API down  (var/mail/20261206-221503-1a2b3c.eml)

The defaults while DEBUG is on and no backend is chosen (config/settings.py); Django's test
runner replaces the email backend with its own, and the tests point VIGIL_MAIL_DIR elsewhere.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from comms.backends import Backend, DeliveryError, Message

SUMMARY_CHARACTERS = 100


def deliver(channel: str, address: str, summary: str, content: bytes, suffix: str, stream=None) -> Path:
    """Write `content` to a new file in the mail directory and print the one line naming it."""
    folder = Path(settings.VIGIL_MAIL_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}{suffix}"
    path.write_bytes(content)
    summary = " ".join(summary.split())
    if len(summary) > SUMMARY_CHARACTERS:
        summary = summary[: SUMMARY_CHARACTERS - 1] + "…"
    # The real terminal: a Celery worker turns sys.stdout into warning-level log lines.
    out = stream or sys.__stdout__
    out.write(f"{channel} → {address}: {summary}  ({_shown(path)})\n")
    out.flush()
    return path


class EmailBackend(BaseEmailBackend):
    """A Django email backend: one .eml file per recipient's message, one line each."""

    def __init__(self, *args, stream=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stream = stream

    def send_messages(self, email_messages) -> int:
        for email in email_messages:
            deliver("email", ", ".join(email.recipients()), email.subject, email.message().as_bytes(linesep="\n"), ".eml", self.stream)
        return len(email_messages)


class SMSBackend(Backend):
    """SMS: the text in a .txt file, its start on the line."""

    channel = "sms"

    def __init__(self, stream=None):
        self.stream = stream

    def send(self, message: Message) -> str:
        if not message.address:
            raise DeliveryError("The SMS notification has no phone number.", transient=False)
        content = f"To: {message.address}\n\n{message.body}\n".encode()
        path = deliver("sms", message.address, message.body, content, ".txt", self.stream)
        return f"file-{path.stem}"


class ChatBackend(Backend):
    """Chat: the Slack-compatible body it would post, in a .json file."""

    channel = "chat"

    def __init__(self, stream=None):
        self.stream = stream

    def send(self, message: Message) -> str:
        from comms.backends.chat import payload

        body = payload(message)
        to = message.address or message.webhook_url or "the shared webhook"
        content = json.dumps({"webhook": message.webhook_url or "(shared)", **body}, ensure_ascii=False, indent=2).encode()
        path = deliver("chat", to, message.subject or message.body, content, ".json", self.stream)
        return f"file-{path.stem}"


def _shown(path: Path) -> str:
    """The file as the person at the terminal can open it: relative to where they are, if inside."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        return str(path)
