"""Channel backends: how a rendered notification leaves Vigil. Chosen by settings:
Django's `EMAIL_BACKEND` for email, `VIGIL_SMS_BACKEND` and `VIGIL_CHAT_BACKEND`; war-room
messages through the connected chat workspace (`war_room.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Message:
    """What a backend needs to send one message (built from a `Notification`)."""

    notification_id: int | None
    channel: str
    address: str  # email address, E.164 number or chat handle
    subject: str = ""
    body: str = ""
    html_body: str = ""
    webhook_url: str = ""  # chat: the person's own webhook, else VIGIL_CHAT_WEBHOOK_URL
    headers: dict = field(default_factory=dict)


class DeliveryError(Exception):
    """A send that did not happen. `transient` failures are retried with backoff; permanent
    ones (a bad address, a refused destination) fail the notification at once."""

    def __init__(self, message: str, *, transient: bool = True):
        super().__init__(message)
        self.transient = transient


class Backend:
    """One instance sends a batch: `open()`, `send()` per message, `close()` (a backend may keep
    a connection open between them; the default keeps nothing)."""

    channel = ""

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, message: Message) -> str:
        """Send it; return the provider's id for the message (or "" if it gives none).
        Raise `DeliveryError` when it was not sent."""
        raise NotImplementedError


def backend_for(channel: str) -> Backend:
    """The configured backend for a channel."""
    path = {
        "email": "comms.backends.email.EmailBackend",
        "sms": settings.VIGIL_SMS_BACKEND,
        "chat": settings.VIGIL_CHAT_BACKEND,
        "war_room": "comms.backends.war_room.WarRoomBackend",
    }[channel]
    return import_string(path)()
