"""Cursor pagination for the JSON API's lists: an opaque cursor (URL-safe base64 of the sort key
and the row's id) and the keyset page query, stable while rows are added."""

from __future__ import annotations

import base64
import binascii
import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from oncall.api_common import invalid

BAD_CURSOR = "Not a cursor this API gave out; start again without one."


def encode_cursor(*parts) -> str:
    return base64.urlsafe_b64encode("|".join(str(p) for p in parts).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, n: int) -> list[str]:
    """The cursor's `n` parts, the last one a row id; anything else is a 422 on `cursor`."""
    try:
        parts = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")
        if len(parts) != n or not parts[-1].isdigit() or len(parts[-1]) > 18:
            raise ValueError
        int(parts[-1])
        return parts
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise invalid("cursor", BAD_CURSOR) from None


def _moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
        if timezone.is_naive(moment):
            raise ValueError
        return moment.astimezone(dt.timezone.utc)
    except (ValueError, OverflowError):
        raise invalid("cursor", BAD_CURSOR) from None


def newest_first(qs: QuerySet, *, field: str, cursor: str | None, limit: int) -> tuple[list, str | None]:
    """A page newest first over (`field`, id), and the cursor of the next one (None on the last)."""
    if cursor:
        text, pk = decode_cursor(cursor, 2)
        moment = _moment(text)
        qs = qs.filter(Q(**{f"{field}__lt": moment}) | Q(**{field: moment, "pk__lt": int(pk)}))
    rows = list(qs.order_by(f"-{field}", "-pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if not more:
        return rows, None
    last = rows[-1]
    return rows, encode_cursor(getattr(last, field).astimezone(dt.timezone.utc).isoformat(), last.pk)


def oldest_id_first(qs: QuerySet, *, cursor: str | None, limit: int) -> tuple[list, str | None]:
    """A page in id order, and the cursor of the next one (None on the last)."""
    if cursor:
        [pk] = decode_cursor(cursor, 1)
        qs = qs.filter(pk__gt=int(pk))
    rows = list(qs.order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1].pk) if more else None)


__all__ = ["BAD_CURSOR", "decode_cursor", "encode_cursor", "newest_first", "oldest_id_first"]
