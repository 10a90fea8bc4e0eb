"""When a scheduled report is sent and which period it covers: pure functions of a cadence
(frequency, weekday or day of month, local send time, time zone) and an instant.

Local wall times become UTC instants with zoneinfo: a weekly 08:00 Europe/London stays at 08:00
local across both daylight-saving changes; a send time that does not exist that day (the spring
gap) moves to the first valid instant after the gap, an ambiguous one (the autumn hour that
happens twice) takes the first of the two.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

DAILY, WEEKLY, MONTHLY = "daily", "weekly", "monthly"
# How far back or forward to look for a send date: more than a month and a bit.
_SEARCH_DAYS = 70


@dataclasses.dataclass(frozen=True)
class Cadence:
    frequency: str
    send_time: dt.time
    zone: ZoneInfo
    weekday: int = 1  # ISO: 1 = Monday
    day_of_month: int = 1  # 31 in a 30-day month: its last day


@dataclasses.dataclass(frozen=True)
class Run:
    """One scheduled send: when, and the period (UTC instants, start included) it covers."""

    send_at: dt.datetime
    start: dt.datetime
    end: dt.datetime


def cadence_of(subscription) -> Cadence:
    return Cadence(
        frequency=subscription.frequency,
        send_time=subscription.send_time,
        zone=ZoneInfo(subscription.zone_name),
        weekday=subscription.weekday,
        day_of_month=subscription.day_of_month,
    )


def local_instant(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of a local wall time: the first of two when it is ambiguous, the first
    valid instant after the gap when it does not exist."""
    wall = dt.datetime.combine(day, at.replace(tzinfo=None), tzinfo=zone)  # fold=0: the earlier
    instant = wall.astimezone(dt.UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return instant
    # In a gap: fold=1 reads the wall time with the offset after the change, an instant before
    # the gap ends; the first instant whose local time is at or past the wall time ends it.
    target = wall.replace(tzinfo=None)
    low, high = int(wall.replace(fold=1).astimezone(dt.UTC).timestamp()), int(instant.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if dt.datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= target:
            high = middle
        else:
            low = middle
    return dt.datetime.fromtimestamp(high, dt.UTC)


def is_send_day(cadence: Cadence, day: dt.date) -> bool:
    if cadence.frequency == DAILY:
        return True
    if cadence.frequency == WEEKLY:
        return day.isoweekday() == cadence.weekday
    last = calendar.monthrange(day.year, day.month)[1]
    return day.day == min(cadence.day_of_month, last)


def period_for(cadence: Cadence, send_day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The period a report sent on `send_day` (local) covers, as UTC instants: the previous day,
    the previous Monday–Sunday week, or the previous calendar month, midnight to midnight local."""
    if cadence.frequency == DAILY:
        first, last = send_day - dt.timedelta(days=1), send_day
    elif cadence.frequency == WEEKLY:
        monday = send_day - dt.timedelta(days=send_day.isoweekday() - 1)
        first, last = monday - dt.timedelta(days=7), monday
    else:
        last = send_day.replace(day=1)
        first = (last - dt.timedelta(days=1)).replace(day=1)
    midnight = dt.time(0, 0)
    return local_instant(first, midnight, cadence.zone), local_instant(last, midnight, cadence.zone)


def _run(cadence: Cadence, day: dt.date) -> Run:
    start, end = period_for(cadence, day)
    return Run(send_at=local_instant(day, cadence.send_time, cadence.zone), start=start, end=end)


def next_run(cadence: Cadence, after: dt.datetime) -> Run:
    """The first scheduled send strictly after `after`."""
    day = after.astimezone(cadence.zone).date() - dt.timedelta(days=1)
    for offset in range(_SEARCH_DAYS):
        candidate = day + dt.timedelta(days=offset)
        if is_send_day(cadence, candidate):
            run = _run(cadence, candidate)
            if run.send_at > after:
                return run
    raise ValueError(f"No send day within {_SEARCH_DAYS} days of {after}")  # pragma: no cover


def latest_due(cadence: Cadence, now: dt.datetime) -> Run:
    """The latest scheduled send at or before `now`: the only one a late beat sends."""
    day = now.astimezone(cadence.zone).date() + dt.timedelta(days=1)
    for offset in range(_SEARCH_DAYS):
        candidate = day - dt.timedelta(days=offset)
        if is_send_day(cadence, candidate):
            run = _run(cadence, candidate)
            if run.send_at <= now:
                return run
    raise ValueError(f"No send day within {_SEARCH_DAYS} days of {now}")  # pragma: no cover


def period_starting(cadence: Cadence, start_day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The period that starts on `start_day` (local; the admin's and API's `period=YYYY-MM-DD`),
    snapped to the cadence: that day, its Monday–Sunday week, or its calendar month."""
    if cadence.frequency == DAILY:
        send_day = start_day + dt.timedelta(days=1)
    elif cadence.frequency == WEEKLY:
        send_day = start_day - dt.timedelta(days=start_day.isoweekday() - 1) + dt.timedelta(days=7)
    else:
        send_day = (start_day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return period_for(cadence, send_day)
