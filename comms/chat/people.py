"""Who is typing: a chat identity (`@alice`, `alice`, a Slack member id such as `U024BE7LH`)
mapped to a Vigil user through an active chat `ContactMethod`."""

from __future__ import annotations

from django.db.models import Q

from oncall.models import User

from ..models import Channel, ContactMethod
from ..slack import escape


class UnknownChatUser(Exception):
    """Nobody (or more than one person) has the handle: `handles` as tried, escaped for Slack."""

    def __init__(self, handles: str, *, ambiguous: bool = False):
        super().__init__(handles)
        self.handles = handles
        self.ambiguous = ambiguous

    def describe(self, who: str) -> str:
        if self.ambiguous:
            return (
                f"The chat handle {self.handles} belongs to more than one Vigil user; "
                "ask an admin to keep it on one person's contact methods."
            )
        return f"{who} the chat handle {self.handles}."


def find_chat_user(candidates: tuple[str, ...] | list[str], *, usernames: bool = False) -> User:
    """The active Vigil user whose active chat contact method has one of `candidates` as its
    address (tried in order; `alice` and `@alice` are the same handle, case ignored). With
    `usernames`, a handle nobody has as a chat address may also be a Vigil username.
    Raises `UnknownChatUser` with a message for the person typing."""
    tried = []
    for candidate in candidates:
        bare = (candidate or "").strip().lstrip("@")
        if not bare or len(bare) > 250:
            continue
        tried.append(candidate.strip())
        users = {
            method.user_id: method.user
            for method in ContactMethod.objects.filter(
                Q(address__iexact=bare) | Q(address__iexact="@" + bare),
                channel=Channel.CHAT,
                is_active=True,
                user__is_active=True,
            ).select_related("user")
        }
        if len(users) > 1:
            raise UnknownChatUser(escape(candidate.strip()), ambiguous=True)
        if users:
            return next(iter(users.values()))
    if usernames:
        for candidate in candidates:
            bare = (candidate or "").strip().lstrip("@")
            user = User.objects.filter(username__iexact=bare, is_active=True).first() if bare else None
            if user is not None:
                return user
    shown = " or ".join(escape(c) for c in tried) or "(no handle)"
    raise UnknownChatUser(shown)
