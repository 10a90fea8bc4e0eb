"""Due dates: business days on the team's calendar, counted from the day in the owner's zone."""

from datetime import UTC, date, datetime, timedelta

import pytest

from oncall.clocks import SEARCH_DAYS, Calendar, NoWorkingTime
from postmortems.due_dates import DueDates, add_business_days, due_dates, local_date

# 2026-03-06 is a Friday.
FRI, SAT, SUN, MON, TUE, WED, THU = (date(2026, 3, d) for d in (6, 7, 8, 9, 10, 11, 12))


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (FRI, 0, FRI),
        (FRI, 1, MON),
        (FRI, 2, TUE),
        (SAT, 1, MON),
        (SUN, 1, MON),
        (SUN, 2, TUE),
        (MON, 2, WED),
        (THU, 1, date(2026, 3, 13)),
        (THU, 2, date(2026, 3, 16)),  # over the weekend
        (MON, 5, date(2026, 3, 16)),  # a week later
        (MON, 10, date(2026, 3, 23)),
    ],
)
def test_add_business_days_skips_weekends(start, days, expected):
    assert add_business_days(start, days) == expected


ENGLAND = Calendar(time_zone="Europe/London", holiday_country="GB", holiday_subdivision="ENG")


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 4, 2), 1, date(2026, 4, 7)),  # Thursday: Good Friday, the weekend, Easter Monday
        (date(2026, 4, 2), 0, date(2026, 4, 2)),
        (date(2026, 4, 3), 1, date(2026, 4, 7)),  # from the holiday itself
        (date(2026, 12, 24), 1, date(2026, 12, 29)),  # Christmas, the weekend, Boxing Day observed
    ],
)
def test_add_business_days_skips_the_calendars_public_holidays(start, days, expected):
    assert add_business_days(start, days, ENGLAND) == expected


def test_add_business_days_skips_closed_days_and_the_teams_own_week():
    offsite = Calendar(closed_days=frozenset({MON, TUE}))
    assert add_business_days(FRI, 1, offsite) == WED
    every_day = Calendar(working_days=(1, 2, 3, 4, 5, 6, 7))
    assert add_business_days(FRI, 2, every_day) == SUN


def test_a_calendar_closed_for_ever_is_refused_not_searched_for_ever():
    shut = Calendar(closed_days=frozenset(MON + timedelta(days=n) for n in range(SEARCH_DAYS + 7)))
    with pytest.raises(NoWorkingTime):
        add_business_days(FRI, 1, shut)


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        add_business_days(MON, -1)


def test_friday_late_evening_utc_is_saturday_in_tokyo():
    at = datetime(2026, 3, 6, 23, 30, tzinfo=UTC)
    assert local_date(at, "UTC") == FRI
    assert local_date(at, "Asia/Tokyo") == SAT
    assert local_date(at, "America/Los_Angeles") == FRI


def test_sunday_late_utc_counts_from_monday_in_tokyo():
    at = datetime(2026, 3, 8, 23, 30, tzinfo=UTC)  # Sunday in UTC, Monday 08:30 in Tokyo
    assert due_dates(at, time_zone="UTC", draft_business_days=2).draft == TUE
    assert due_dates(at, time_zone="Asia/Tokyo", draft_business_days=2).draft == WED


def test_thursday_evening_in_los_angeles_is_friday_in_utc():
    at = datetime(2026, 3, 6, 2, 0, tzinfo=UTC)  # Thursday 18:00 in Los Angeles
    assert due_dates(at, time_zone="America/Los_Angeles", draft_business_days=2).draft == MON
    assert due_dates(at, time_zone="UTC", draft_business_days=2).draft == TUE


def test_review_and_publish_follow_the_draft_in_business_days():
    at = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)  # Friday
    assert due_dates(at, time_zone="UTC", draft_business_days=2) == DueDates(
        draft=TUE, review=THU, publish=date(2026, 3, 17)
    )


def test_review_and_publish_skip_the_teams_holidays_too():
    at = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)  # Tuesday before Easter
    assert due_dates(at, time_zone="Europe/London", draft_business_days=2, calendar=ENGLAND) == DueDates(
        draft=date(2026, 4, 2), review=date(2026, 4, 8), publish=date(2026, 4, 13)
    )


def test_no_days_on_the_severity_uses_the_default_of_five():
    at = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # Monday
    assert due_dates(at, time_zone="UTC", draft_business_days=None).draft == date(2026, 3, 16)


def test_an_unknown_zone_reads_as_utc():
    assert local_date(datetime(2026, 3, 6, 23, 30, tzinfo=UTC), "Mars/Olympus") == FRI
