"""Durations, ages and moments as an operator reads them: "45 s", "5 min", "2 h 10 min", "3 d 4 h".

In `oncall`, the lowest layer, so every app can use it."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from django.utils import timezone
from django.utils.duration import duration_string

EMPTY = "—"
# Admin columns: a stamp that sorts as text and reads the same in every locale.
MINUTE = "%Y-%m-%d %H:%M"
SECOND = "%Y-%m-%d %H:%M:%S"


def duration(delta: timedelta | None) -> str:
    """Two units at most: precise where it matters (seconds to acknowledge), short where it does not."""
    if delta is None:
        return EMPTY
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "-" + duration(-delta)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def typed_duration(delta: timedelta) -> str:
    """A duration as a form shows it to be typed back, exactly: "1 h 30 min", "1 d 2 h 15 s", "0 s".
    Negative or sub-second values keep Django's own form ("-1 23:55:00"), which reads back the same."""
    if delta < timedelta(0) or delta.microseconds:
        return duration_string(delta)
    hours, rest = divmod(delta.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((delta.days, "d"), (hours, "h"), (minutes, "min"), (seconds, "s")) if n]
    return " ".join(parts) or "0 s"


def age(since: datetime | None, now: datetime) -> str:
    """How long ago `since` was, never negative (a clock a little ahead reads as 0 s)."""
    if since is None:
        return EMPTY
    return duration(max(now - since, timedelta(0)))


WITH_YEAR = "%a %d %b %Y %H:%M"


def span(start: datetime, end: datetime, *, now: datetime | None = None, zone: tzinfo | None = None) -> str:
    """A window as an operator reads it, in `zone` (else the viewer's): "Mon 23 Nov 20:00 – Tue 24 Nov
    08:00 (12 h)". The year is shown on both ends whenever the window crosses a new year or lies in
    another year than `now`'s ("Thu 10 Dec 2026 12:00 – Wed 10 Dec 2036 12:00 (3653 d)"), so a
    long window never reads as a short one. A window starting at `now` reads "now – …"."""
    now = now or timezone.now()
    years = {timezone.localtime(moment, zone).year for moment in (start, end, now)}
    fmt = WITH_YEAR if len(years) > 1 else "%a %d %b %H:%M"
    begins = "now" if start == now else local(start, fmt, zone)
    return f"{begins} – {local(end, fmt, zone)} ({duration(end - start)})"


def local(moment: datetime | None, fmt: str = "%a %d %b %H:%M", zone: tzinfo | None = None) -> str:
    """A moment as text in `zone`, else in the viewer's zone (activated by UserTimezoneMiddleware)."""
    return timezone.localtime(moment, zone).strftime(fmt) if moment else EMPTY
