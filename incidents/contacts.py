"""How to reach the people holding roles on an incident (the incident page's header). Contact
methods live in `comms`, which `incidents` may not import: comms registers a reader here in its
`AppConfig.ready()` (`provide`); without one, a person's account email is all the page shows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Contact:
    kind: str  # "phone", "chat" or "email"
    value: str  # what a person reads: "+447700900123", "@alice", "alice@example.com"
    href: str = ""  # a link that reaches them ("tel:…", "mailto:…"), or none


# Channel names as comms stores them → the words and links of the page.
_KINDS = {"sms": "phone", "chat": "chat", "email": "email"}
_ORDER = {"phone": 0, "chat": 1, "email": 2}

_readers: dict[str, Callable[[list], dict[int, list[Contact]]]] = {}


def provide(name: str, reader: Callable[[list], dict[int, list[Contact]]]) -> None:
    """Register `reader(users) → {user_id: [Contact]}`, which must read every user's contacts in one
    query; registering a name again replaces it."""
    _readers[name] = reader


def registered() -> list[str]:
    return list(_readers)


def grouped(rows: Iterable[tuple[int, str, str]]) -> dict[int, list[Contact]]:
    """(user id, channel, address) rows as each user's contacts, phone first, then chat, then email."""
    found: dict[int, list[Contact]] = {}
    for user_id, channel, address in rows:
        kind = _KINDS.get(channel)
        if kind is None or not address:
            continue  # a chat contact with only a webhook has nothing a person can use
        found.setdefault(user_id, []).append(Contact(kind, address, _href(kind, address)))
    for contacts in found.values():
        contacts.sort(key=lambda contact: _ORDER[contact.kind])
    return found


def _href(kind: str, address: str) -> str:
    if kind == "phone":
        return "tel:" + quote(address, safe="+")
    if kind == "email":
        return "mailto:" + quote(address, safe="@.+-_")
    return ""


def reach(users: Iterable) -> dict[int, list[Contact]]:
    """How to reach each of `users`, by user id: what the registered readers know, and the
    account's email when they know no email address (no query: the users are already loaded)."""
    users = list({user.pk: user for user in users}.values())
    found: dict[int, list[Contact]] = {}
    if users:
        for reader in _readers.values():
            for user_id, contacts in reader(users).items():
                found.setdefault(user_id, []).extend(contacts)
    for user in users:
        known = found.setdefault(user.pk, [])
        if user.email and not any(contact.kind == "email" for contact in known):
            known.append(Contact("email", user.email, _href("email", user.email)))
    return found
