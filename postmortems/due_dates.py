"""A post-mortem's due dates: business days (Monday–Friday) counted on the owner's calendar.

The day the count starts from is the resolution instant read in the owner's time zone, so an
incident resolved Friday 23:30 UTC starts from Saturday for an owner in Tokyo. Then:

- draft due   = that day + the severity's `postmortem_draft_business_days`
  (DEFAULT_DRAFT_BUSINESS_DAYS when the severity sets none, e.g. a post-mortem on request);
- review due  = draft due + REVIEW_BUSINESS_DAYS   (the review meeting has happened);
- publish due = draft due + PUBLISH_BUSINESS_DAYS  (the document is out).

Public holidays are not known to Vigil: only Saturdays and Sundays are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_DRAFT_BUSINESS_DAYS = 5
REVIEW_BUSINESS_DAYS = 2
PUBLISH_BUSINESS_DAYS = 5

_SATURDAY = 5


@dataclass(frozen=True)
class DueDates:
    draft: date
    review: date
    publish: date


def add_business_days(start: date, days: int) -> date:
    """The `days`-th weekday after `start` (`start` itself never counts, even on a weekday).

    From a weekend day the first business day is Monday: Saturday + 1 = Monday."""
    if days < 0:
        raise ValueError("business days to add must be zero or more")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if current.weekday() < _SATURDAY:
            remaining -= 1
    return current


def local_date(at: datetime, time_zone: str) -> date:
    """The calendar day `at` falls on in `time_zone` (an unknown zone reads as UTC)."""
    try:
        zone = ZoneInfo(time_zone or "UTC")
    except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        zone = ZoneInfo("UTC")
    return at.astimezone(zone).date()


def due_dates(resolved_at: datetime, *, time_zone: str, draft_business_days: int | None) -> DueDates:
    """The three due dates of a post-mortem on an incident resolved at `resolved_at` (aware)."""
    start = local_date(resolved_at, time_zone)
    days = DEFAULT_DRAFT_BUSINESS_DAYS if draft_business_days is None else draft_business_days
    draft = add_business_days(start, days)
    return DueDates(
        draft=draft,
        review=add_business_days(draft, REVIEW_BUSINESS_DAYS),
        publish=add_business_days(draft, PUBLISH_BUSINESS_DAYS),
    )
