"""A team's working calendar: its working days and hours, its country's public holidays and the
days an administrator closed. The arithmetic is `oncall.clocks`; this module reads a team's rows.

A team works on `working_days` (ISO weekdays) from `working_hours_start` to `working_hours_end` in
its own `time_zone`. The admin and the model refuse an empty week (a team that works every day
lists all seven); an empty list that reaches here anyway is still read as every day. An end before
the start crosses midnight (a night team), an end equal to the start is a whole 24 hours, and such
a period belongs to the day it starts on, as schedule restrictions do.
No team means the default working week (Monday–Friday 09:00–17:00 UTC, no public holidays) with
the days closed for every team; an unsaved `Team(...)` is read from its fields alone.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from .clocks import Calendar, holiday_names
from .models import ClosedDay, Team


def calendar_for(team: Team | None) -> Calendar:
    """The calendar business-hours clocks count on for `team` (None: the default working week)."""
    if team is None:
        return _calendar(Team(), ClosedDay.objects.filter(team__isnull=True).values_list("date", flat=True))
    if team.pk is None:
        return _calendar(team, ())  # not a team of the database: its fields only
    return _calendar(team, ClosedDay.objects.filter(Q(team=team) | Q(team__isnull=True)).values_list("date", flat=True))


def calendars_for(teams: list[Team]) -> dict[int | None, Calendar]:
    """Calendars for several teams in one query of closed days, by team id; `None` gives the
    default working week's."""
    closed: dict[int | None, set] = {None: set()}
    rows = ClosedDay.objects.filter(Q(team__in=[t.pk for t in teams]) | Q(team__isnull=True)).values_list("team_id", "date")
    for team_id, day in rows:
        closed.setdefault(team_id, set()).add(day)
    return {
        None: _calendar(Team(), closed[None]),
        **{team.pk: _calendar(team, closed[None] | closed.get(team.pk, set())) for team in teams},
    }


def _calendar(team: Team, closed) -> Calendar:
    return Calendar(
        time_zone=team.time_zone,
        working_days=tuple(team.working_days or ()),
        start=team.working_hours_start,
        end=team.working_hours_end,
        holiday_country=team.holiday_country,
        holiday_subdivision=team.holiday_subdivision,
        closed_days=frozenset(closed),
    )


def days_off(team: Team, start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
    """The public holidays and closed days from `start` to `end` (inclusive), by date, named."""
    named = holiday_names(team.holiday_country, team.holiday_subdivision, start, end)
    closed = ClosedDay.objects.filter(Q(team=team) | Q(team__isnull=True), date__range=(start, end))
    for day in closed:
        named[day.date] = f"{named[day.date]}; {day.name}" if day.date in named else day.name
    return sorted(named.items())


def is_working_time(team: Team, at: dt.datetime) -> bool:
    """Whether instant `at` falls inside one of the team's working periods."""
    return calendar_for(team).is_working(at)


def next_working_moment(team: Team, at: dt.datetime) -> dt.datetime:
    """`at` itself inside working hours; otherwise the start of the team's next working period."""
    return calendar_for(team).next_working_moment(at)
