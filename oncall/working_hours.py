"""A team's working hours: when "business hours" escalation cells may fire.

A team works on `working_days` (ISO weekdays) from `working_hours_start` to `working_hours_end` in
its own `time_zone`. The admin and the model refuse an empty week (a team that works every day
lists all seven); an empty list that reaches here anyway is still read as every day. An end before
the start crosses midnight (a night team), an end equal to the start is a whole 24 hours, and such
a period belongs to the day it starts on, as schedule restrictions do.
Both questions read only the team's fields, so an unsaved `Team()` (the default working week,
Monday–Friday 09:00–17:00 UTC) works too.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from .models import Team
from .rotations import day_window

UTC = dt.timezone.utc


def is_working_time(team: Team, at: dt.datetime) -> bool:
    """Whether instant `at` falls inside one of the team's working periods."""
    return _period_containing(team, _aware(at)) is not None


def next_working_moment(team: Team, at: dt.datetime) -> dt.datetime:
    """`at` itself inside working hours; otherwise the start of the team's next working period (UTC)."""
    at = _aware(at)
    if _period_containing(team, at) is not None:
        return at
    tz = zoneinfo.ZoneInfo(team.time_zone)
    day = at.astimezone(tz).date()
    for offset in range(8):  # every weekday comes round within a week
        start, _ = _period(team, tz, day + dt.timedelta(days=offset)) or (None, None)
        if start is not None and start > at:
            return start
    raise ValueError(f"{team} has no working days")  # unreachable: empty working_days means every day


def _period(team: Team, tz, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
    """The working period that starts on local `day`, if the team works that day."""
    if team.working_days and day.isoweekday() not in team.working_days:
        return None
    return day_window(day, team.working_hours_start, team.working_hours_end, tz)


def _period_containing(team: Team, at: dt.datetime):
    tz = zoneinfo.ZoneInfo(team.time_zone)
    today = at.astimezone(tz).date()
    for day in (today - dt.timedelta(days=1), today):  # yesterday's night shift may run into today
        period = _period(team, tz, day)
        if period is not None and period[0] <= at < period[1]:
            return period
    return None


def _aware(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at!r} is naive: working hours need an aware datetime")
    return at
