"""The on-call writes: covering a shift with an override and taking it off. The admin and the API
both call these, so a cover is checked and refused with the same words wherever it is made."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction

from .errors import InvalidOverride
from .models import Override, Schedule, User

ENDS_BEFORE_START = "The override must end after it starts."
NOBODY = "Say who is on call instead."


def longest_override() -> dt.timedelta:
    return dt.timedelta(days=settings.VIGIL_MAX_OVERRIDE_DAYS)


def too_long() -> str:
    days = settings.VIGIL_MAX_OVERRIDE_DAYS
    return f"An override lasts at most {days} days; split a longer absence into several overrides."


def override_errors(*, start: dt.datetime | None, end: dt.datetime | None, user: User | None, named: bool = True) -> dict[str, str]:
    """What is wrong with putting `user` on call from `start` to `end`, per field ("end", "user").
    A value left out (None) is not judged here, unless `named` says a user was asked for and
    nobody answers to it."""
    errors = {}
    if start and end and end <= start:
        errors["end"] = ENDS_BEFORE_START
    elif start and end and end - start > longest_override():
        errors["end"] = too_long()
    if user is None and named:
        errors["user"] = NOBODY
    elif user is not None and not user.is_active:
        errors["user"] = f"{user} is not an active user."
    return errors


@transaction.atomic
def add_override(
    schedule: Schedule, *, user: User | None, start: dt.datetime, end: dt.datetime, reason: str = "", created_by: User | None
) -> Override:
    """Put `user` on call for `schedule` from `start` to `end`: the override beats every layer.
    Raises InvalidOverride when the window is empty or too long, or the user cannot be paged."""
    errors = override_errors(start=start, end=end, user=user)
    if errors:
        raise InvalidOverride(errors)
    return Override.objects.create(schedule=schedule, user=user, start=start, end=end, reason=reason, created_by=created_by)


@transaction.atomic
def remove_override(override_id: int, *, schedule_id: int) -> bool:
    """Take an override off its schedule, so the layers decide again for its window. False when the
    schedule has no such override."""
    deleted, _ = Override.objects.filter(pk=override_id, schedule_id=schedule_id).delete()
    return bool(deleted)
