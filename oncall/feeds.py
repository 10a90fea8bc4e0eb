"""iCalendar (RFC 5545) feeds of on-call shifts, one per person or per schedule, behind secret URLs.

A feed's token is shown once, when it is made, and stored only as its SHA-256: the database
cannot give a subscription URL away. Making a new feed for the same person or schedule revokes
the old one, and a revoked or unknown token is a 404.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from icalendar import Calendar, Event, vDuration

from . import schedules
from .models import CalendarFeed, Schedule, User

# What a subscribed calendar shows: the recent past (for "when was I last on call") and what is ahead.
FEED_PAST = dt.timedelta(days=14)
FEED_AHEAD = dt.timedelta(days=90)
REFRESH = dt.timedelta(hours=1)
PRODID = "-//Vigil//On-call shifts//EN"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_feed(
    *, user: User | None = None, schedule: Schedule | None = None, created_by: User | None = None
) -> tuple[CalendarFeed, str]:
    """A new feed for one person's or one schedule's shifts, and its token — the only time the
    token is known: show it, never store it. Older feeds of the same person or schedule are revoked."""
    if (user is None) == (schedule is None):
        raise ValueError("a calendar feed is for a user or for a schedule")
    now = timezone.now()
    CalendarFeed.objects.filter(user=user, schedule=schedule, revoked_at=None).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        user=user, schedule=schedule, token_hash=hash_token(token), token_prefix=token[:8], created_by=created_by
    )
    return feed, token


def revoke_feeds(feeds) -> int:
    """Revoke the active feeds among `feeds` (a queryset); their URLs answer 404 from now on."""
    return feeds.filter(revoked_at=None).update(revoked_at=timezone.now())


def active_feed(token: str) -> CalendarFeed | None:
    """The live feed behind a token (the lookup is by hash, so it leaks nothing through timing)."""
    return (
        CalendarFeed.objects.filter(token_hash=hash_token(token), revoked_at=None).select_related("user", "schedule").first()
    )


def mark_used(feed: CalendarFeed, *, at: dt.datetime) -> None:
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=at)


def feed_shifts(feed: CalendarFeed, *, now: dt.datetime) -> list[schedules.Shift]:
    start, end = now - FEED_PAST, now + FEED_AHEAD
    if feed.user_id:
        return schedules.shifts_for_user(feed.user, start, end)
    schedule = schedules.prefetch_rotations([feed.schedule], start, end)[0]
    return schedules.shifts(schedule, start, end)


def calendar_name(feed: CalendarFeed) -> str:
    return f"On call: {feed.user}" if feed.user_id else f"On call: {feed.schedule.name}"


def render(feed: CalendarFeed, *, now: dt.datetime) -> bytes:
    """The feed as an iCalendar document: one VEVENT per shift, times in UTC."""
    now = now.astimezone(dt.timezone.utc)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", calendar_name(feed))
    calendar.add("x-wr-caldesc", "On-call shifts from Vigil. Times are UTC; your calendar shows them in your zone.")
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    for shift in feed_shifts(feed, now=now):
        calendar.add_component(_event(shift, now))
    return calendar.to_ical()


def _event(shift: schedules.Shift, now: dt.datetime) -> Event:
    event = Event()
    # Stable across refreshes, so calendar apps update an event instead of duplicating it.
    source = f"override-{shift.override.pk}" if shift.override else f"layer-{shift.layer.pk}"
    event.add("uid", f"{shift.schedule.pk}-{source}-{shift.user.pk}-{shift.start:%Y%m%dT%H%M%SZ}@vigil")
    event.add("dtstamp", now)
    event.add("dtstart", shift.start)
    event.add("dtend", shift.end)
    event.add("summary", f"On call: {shift.schedule.name} ({shift.user})")
    event.add("description", _description(shift))
    event.add("transp", "TRANSPARENT")  # being on call does not make anyone busy
    return event


def _description(shift: schedules.Shift) -> str:
    lines = [f"Schedule: {shift.schedule.name} (hand-offs in {shift.schedule.time_zone})"]
    if shift.override is not None:
        by = f" by {shift.override.created_by}" if shift.override.created_by_id else ""
        lines.append(f"Override{by}" + (f": {shift.override.reason}" if shift.override.reason else ""))
    else:
        lines.append(f"Layer: {shift.layer.name}")
    return "\n".join(lines)
