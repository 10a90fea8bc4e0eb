"""Messages the on-call app sends people (cover requests and their answers), handed to whoever
delivers them. `oncall` is the lowest layer and cannot import `comms`: comms registers its outbox
writer here in its `AppConfig.ready()` (`provide`), and `send` calls it inside the transaction
that made the change, so the messages commit with it (the outbox delivers them after commit)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .models import User


@dataclass(frozen=True)
class Notice:
    """One email to one person. `key` is unique per message: sending it twice sends it once."""

    key: str
    recipient: User
    subject: str
    body: str


_senders: dict[str, Callable[[list[Notice]], None]] = {}


def provide(name: str, sender: Callable[[list[Notice]], None]) -> None:
    """Register the function that delivers notices (comms' outbox); registering a name again replaces it."""
    _senders[name] = sender


def registered() -> list[str]:
    return list(_senders)


def send(notices: list[Notice]) -> None:
    for sender in _senders.values():
        sender(notices)
