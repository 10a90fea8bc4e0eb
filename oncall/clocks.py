"""Clocks: when a duration counted from an instant falls due, on a team's working calendar.

A response target ("acknowledge within 1 h", "an update every 30 minutes during business
hours", "response: next business day") is a duration on one of three clocks:

- **wall**: the duration as elapsed time, nights and weekends included;
- **business hours**: only the team's working time counts. From outside working hours the
  count starts at the next working period; a count that ends exactly at a period's end is due
  then (17:00), not at the next start;
- **next business day**: due at the start of the first working period that begins on a later
  local day than the start instant, plus the duration as an offset counted in working time
  (0: at the start of that day).

A team's calendar is its working days and hours in its zone (`Team.working_days`,
`working_hours_*`, `time_zone`), minus its country's public holidays (the `holidays` package,
by country and subdivision) and the closed days an administrator adds (`ClosedDay`, for one team
or for every team). A working period belongs to the local day it starts on, so a night team's
period that starts on a holiday is closed, and one that starts the evening before runs into it.
Every due instant the engine plans, the SLA badges show and the previews list comes from here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import zoneinfo

import re

import holidays
from django.db import models
from holidays.registry import COUNTRIES

UTC = dt.timezone.utc
# A calendar whose every day is closed for this long has no working time at all (an admin closed
# two years of days): refused rather than searched for ever.
SEARCH_DAYS = 2 * 366


class Clock(models.TextChoices):
    WALL = "wall", "Wall clock"
    BUSINESS_HOURS = "business_hours", "Business hours"
    NEXT_BUSINESS_DAY = "next_business_day", "Next business day (+ offset)"


class NoWorkingTime(ValueError):
    """The calendar has no working period within SEARCH_DAYS of the instant."""


@functools.lru_cache(maxsize=256)
def public_holidays(country: str, subdivision: str, year: int) -> frozenset[dt.date]:
    """A country's (and subdivision's) public holidays in one year, observed days included."""
    return frozenset(_holidays(country, subdivision, year).keys())


def holiday_names(country: str, subdivision: str, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """The public holidays from `start` to `end` inclusive, with their names (for the admin)."""
    calendar = _holidays(country, subdivision, range(start.year, end.year + 1))
    return {day: name for day, name in sorted(calendar.items()) if start <= day <= end}


def _holidays(country: str, subdivision: str, years) -> dict[dt.date, str]:
    """The holidays of a country (and region). `Team.clean` refuses an unknown country or region;
    one written past it reads as no holidays, or the country's national ones, never an error."""
    if country not in holidays.list_supported_countries():
        return {}
    if subdivision not in holiday_subdivisions(country):
        subdivision = ""
    return holidays.country_holidays(country, subdiv=subdivision or None, years=years)


@functools.cache
def holiday_countries() -> list[tuple[str, str]]:
    """(ISO code, name) of every country the `holidays` package knows, by name."""
    names = {entry[1]: re.sub(r"(?<=[a-z])(?=[A-Z])", " ", entry[0]) for entry in COUNTRIES.values()}
    return sorted(names.items(), key=lambda item: item[1])


def holiday_subdivisions(country: str) -> tuple[str, ...]:
    """The codes of a country's regions with holidays of their own (ENG, SCT… for GB)."""
    return tuple(holidays.country_holidays(country).subdivisions) if country else ()


@dataclasses.dataclass(frozen=True)
class Calendar:
    """A team's working time. Build one with `calendar_for(team)`; it reads nothing more."""

    time_zone: str = "UTC"
    working_days: tuple[int, ...] = (1, 2, 3, 4, 5)
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(17, 0)
    holiday_country: str = ""
    holiday_subdivision: str = ""
    closed_days: frozenset[dt.date] = frozenset()

    @functools.cached_property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def is_closed(self, day: dt.date) -> bool:
        """Not a working day: outside the working week, a public holiday or a closed day."""
        if self.working_days and day.isoweekday() not in self.working_days:
            return True
        return day in self.closed_days or day in public_holidays(self.holiday_country, self.holiday_subdivision, day.year)

    def period_on(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The working period that starts on local `day` (UTC instants), if the day is open."""
        if self.is_closed(day):
            return None
        return day_window(day, self.start, self.end, self.tz)

    def periods_from(self, at: dt.datetime):
        """The working periods that end after `at`, in order (the one containing it first)."""
        day = _aware(at).astimezone(self.tz).date() - dt.timedelta(days=1)  # yesterday's night shift
        for _ in range(SEARCH_DAYS):
            period = self.period_on(day)
            if period is not None and period[1] > at:
                yield period
            day += dt.timedelta(days=1)
        raise NoWorkingTime(f"no working day within {SEARCH_DAYS} days of {at:%Y-%m-%d}")

    def is_working(self, at: dt.datetime) -> bool:
        """Whether instant `at` falls inside a working period."""
        start, _ = next(self.periods_from(at))
        return start <= at

    def next_working_moment(self, at: dt.datetime) -> dt.datetime:
        """`at` itself inside working hours; otherwise the start of the next working period."""
        start, _ = next(self.periods_from(at))
        return max(start, at)

    def add_working_time(self, at: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The instant at which `duration` of working time has passed since `at`."""
        remaining = duration
        for start, end in self.periods_from(at):
            begin = max(start, at)
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        raise AssertionError("unreachable: periods_from raises when it runs out")

    def working_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """How much working time lies between two instants (zero if `end` is not after `start`)."""
        total = dt.timedelta(0)
        if end <= start:
            return total
        for period_start, period_end in self.periods_from(start):
            if period_start >= end:
                break
            total += min(period_end, end) - max(period_start, start)
        return total

    def next_business_day(self, at: dt.datetime, offset: dt.timedelta = dt.timedelta(0)) -> dt.datetime:
        """The start of the first working period on a later local day than `at`'s, plus `offset`
        of working time."""
        today = _aware(at).astimezone(self.tz).date()
        for start, _ in self.periods_from(at):
            if start.astimezone(self.tz).date() > today and start > at:
                return self.add_working_time(start, offset) if offset else start
        raise AssertionError("unreachable: periods_from raises when it runs out")

    def due(self, clock: str, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """When a target of `duration` on `clock`, counted from `start`, falls due."""
        if clock == Clock.BUSINESS_HOURS:
            return self.add_working_time(start, duration)
        if clock == Clock.NEXT_BUSINESS_DAY:
            return self.next_business_day(start, duration)
        return start + duration


def day_window(day: dt.date, start: dt.time, end: dt.time, tz) -> tuple[dt.datetime, dt.datetime]:
    """The instants of a daily local window that starts on `day`: `end` at or before `start`
    means it ends the next day (equal: 24 hours later in local time). A wall-clock time a DST
    change skips or repeats is read with fold=0 (the earlier offset)."""
    end_day = day + dt.timedelta(days=1) if end <= start else day
    return wall_instant(day, start, tz), wall_instant(end_day, end, tz)


def wall_instant(day: dt.date, time: dt.time, tz) -> dt.datetime:
    """A local wall-clock moment as a UTC instant (fold=0)."""
    return dt.datetime.combine(day, time.replace(tzinfo=None), tzinfo=tz).astimezone(UTC)


WALL_CALENDAR = Calendar()  # the default working week, Monday–Friday 09:00–17:00 UTC


def describe(clock: str, duration: dt.timedelta, words) -> str:
    """A target in words: "1 h", "2 h of business hours", "next business day", "next business
    day + 2 h". `words` formats a duration (the caller's own formatting)."""
    if clock == Clock.BUSINESS_HOURS:
        return f"{words(duration)} of business hours"
    if clock == Clock.NEXT_BUSINESS_DAY:
        return "next business day" + (f" + {words(duration)}" if duration else "")
    return words(duration)


def _aware(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at!r} is naive: working hours need an aware datetime")
    return at
