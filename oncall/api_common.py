"""What every router of the JSON API reads and writes the same way: a 422 naming a field, an
instant read as aware UTC, and a person as `{username, name}`."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja.errors import ValidationError


def invalid(field: str, message: str) -> ValidationError:
    """A 422 naming the field, in the shared `errors: [{field, message}]` shape (config/api.py)."""
    return ValidationError([{"loc": (field,), "msg": message}])


def utc(moment: dt.datetime | None, field: str) -> dt.datetime | None:
    """An aware UTC datetime (no zone given = UTC); out-of-range instants are a 422, not a 500."""
    if moment is None:
        return None
    try:
        if timezone.is_naive(moment):
            return moment.replace(tzinfo=dt.timezone.utc)
        return moment.astimezone(dt.timezone.utc)
    except (OverflowError, ValueError):
        raise invalid(field, "That instant is out of range.") from None


def person(user) -> dict | None:
    """Who someone is in every answer (None stays None)."""
    return {"username": user.get_username(), "name": str(user)} if user is not None else None


__all__ = ["invalid", "person", "utc"]
