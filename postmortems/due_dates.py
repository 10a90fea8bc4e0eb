"""A post-mortem's due dates, from its severity's due-date policy, on the incident's team calendar.

Each severity says when each step of the post-mortem is due, as an offset in business days or in
hours (`SeverityLevel.postmortem_<step>_due` and `_unit`; by default the draft 5 business days
after the resolution, the review 2 and the publication 5 business days after the draft):

- **draft**: counted from the resolution instant. In business days, from the day it falls on in the
  owner's time zone — an incident resolved Friday 23:30 UTC starts from Saturday for an owner in
  Tokyo — that day itself never counting (0: due that day). In hours, due on the day the last hour
  ends, in the owner's zone: resolved Thursday 15:00, "within 48 hours" is due Saturday (a last
  hour ending at midnight ends the day before).
- **review** (the meeting has happened) and **publish** (the document is out): counted from the
  draft's due date, as procedures say ("review 3 days after the draft"). In business days, after that
  day. In hours, from the end of that day — a draft on time may arrive at its last minute, and the
  reviewers still get their hours — in whole days of 24 hours, so the due date is the day the last
  hour ends: 24 h is the day after the draft's, 36 h and 48 h the second day after. The draft's due
  date being a whole day, this is the same whichever unit the draft was counted in.

A business day is a day open on the calendar of the team the incident's escalation policy belongs
to (`incidents.deadlines.calendar_of`, the calendar of the business-hours clocks): one of its working
days that is neither a public holiday of its country nor a day an administrator closed. Without a
team, Monday–Friday less the days closed for every team. Due dates are stored on the post-mortem,
so reminders and overdue figures read them and never count again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from incidents.models import POSTMORTEM_STEPS, DueUnit, SeverityLevel
from oncall.clocks import SEARCH_DAYS, WALL_CALENDAR, Calendar, NoWorkingTime

HOURS_A_DAY = 24
_INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True)
class Offset:
    """How long after the moment it counts from a step is due: `count` business days or hours."""

    count: int
    unit: str = DueUnit.BUSINESS_DAYS


@dataclass(frozen=True)
class Policy:
    """When each step is due: the draft after the resolution, review and publication after the draft."""

    draft: Offset
    review: Offset
    publish: Offset

    @classmethod
    def of(cls, severity: SeverityLevel) -> Policy:
        """The policy a severity's admin form sets (`postmortem_<step>_due` and `_unit`)."""
        offsets = (
            Offset(getattr(severity, f"postmortem_{step}_due"), getattr(severity, f"postmortem_{step}_unit"))
            for step in POSTMORTEM_STEPS
        )
        return cls(*offsets)


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


def draft_due(resolved_at: datetime, offset: Offset, *, time_zone: str, calendar: Calendar) -> date:
    """The draft's due date: `offset` after the resolution instant, read in the owner's zone."""
    if offset.unit == DueUnit.HOURS:
        deadline = resolved_at + timedelta(hours=offset.count)
        return local_date(deadline - _INSTANT, time_zone)  # a deadline at midnight ends the day before
    return add_business_days(local_date(resolved_at, time_zone), offset.count, calendar)


def due_after_draft(draft: date, offset: Offset, *, calendar: Calendar) -> date:
    """A later step's due date: `offset` after the draft's due date (hours from the end of that day)."""
    if offset.unit == DueUnit.HOURS:
        return draft + timedelta(days=math.ceil(offset.count / HOURS_A_DAY))  # the day the last hour ends
    return add_business_days(draft, offset.count, calendar)


def due_dates(resolved_at: datetime, policy: Policy, *, time_zone: str, calendar: Calendar = WALL_CALENDAR) -> DueDates:
    """The three due dates of a post-mortem on an incident resolved at `resolved_at` (aware)."""
    draft = draft_due(resolved_at, policy.draft, time_zone=time_zone, calendar=calendar)
    return DueDates(
        draft=draft,
        review=due_after_draft(draft, policy.review, calendar=calendar),
        publish=due_after_draft(draft, policy.publish, calendar=calendar),
    )
