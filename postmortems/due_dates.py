"""A post-mortem's due dates: business days counted on the incident's team calendar.

The day the count starts from is the resolution instant read in the owner's time zone, so an
incident resolved Friday 23:30 UTC starts from Saturday for an owner in Tokyo. Then:

- draft due   = that day + the severity's `postmortem_draft_business_days`
  (DEFAULT_DRAFT_BUSINESS_DAYS when the severity sets none, e.g. a post-mortem on request);
- review due  = draft due + REVIEW_BUSINESS_DAYS   (the review meeting has happened);
- publish due = draft due + PUBLISH_BUSINESS_DAYS  (the document is out).

A business day is a day open on the calendar of the team the incident's escalation policy belongs
to (`incidents.deadlines.calendar_of`): one of its working days that is neither a public holiday
of its country nor a day an administrator closed. Without a team, Monday–Friday (less the days
closed for every team).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from oncall.clocks import SEARCH_DAYS, WALL_CALENDAR, Calendar, NoWorkingTime

DEFAULT_DRAFT_BUSINESS_DAYS = 5
REVIEW_BUSINESS_DAYS = 2
PUBLISH_BUSINESS_DAYS = 5


@dataclass(frozen=True)
class DueDates:
    draft: date
    review: date
    publish: date


def add_business_days(start: date, days: int, calendar: Calendar = WALL_CALENDAR) -> date:
    """The `days`-th day open on `calendar` after `start` (`start` itself never counts, even when open).

    From a closed day the first business day is the next open one: Saturday + 1 = Monday. A
    calendar with no open day for SEARCH_DAYS raises NoWorkingTime, as its clocks do."""
    if days < 0:
        raise ValueError("business days to add must be zero or more")
    current = last_open = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if not calendar.is_closed(current):
            remaining -= 1
            last_open = current
        elif (current - last_open).days > SEARCH_DAYS:
            raise NoWorkingTime(f"no business day within {SEARCH_DAYS} days of {last_open:%Y-%m-%d}")
    return current


def local_date(at: datetime, time_zone: str) -> date:
    """The calendar day `at` falls on in `time_zone` (an unknown zone reads as UTC)."""
    try:
        zone = ZoneInfo(time_zone or "UTC")
    except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        zone = ZoneInfo("UTC")
    return at.astimezone(zone).date()


def due_dates(
    resolved_at: datetime, *, time_zone: str, draft_business_days: int | None, calendar: Calendar = WALL_CALENDAR
) -> DueDates:
    """The three due dates of a post-mortem on an incident resolved at `resolved_at` (aware),
    business days counted on `calendar`."""
    start = local_date(resolved_at, time_zone)
    days = DEFAULT_DRAFT_BUSINESS_DAYS if draft_business_days is None else draft_business_days
    draft = add_business_days(start, days, calendar)
    return DueDates(
        draft=draft,
        review=add_business_days(draft, REVIEW_BUSINESS_DAYS, calendar),
        publish=add_business_days(draft, PUBLISH_BUSINESS_DAYS, calendar),
    )
