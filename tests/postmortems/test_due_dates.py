"""Due dates: business days on the team's calendar, counted from the day in the owner's zone."""

from datetime import UTC, date, datetime, timedelta

import pytest

from incidents.models import DueUnit, SeverityLevel
from oncall.clocks import SEARCH_DAYS, Calendar, NoWorkingTime
from postmortems.due_dates import DueDates, Offset, Policy, add_business_days, due_dates, local_date

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


def business_days(draft: int, review: int = 2, publish: int = 5) -> Policy:
    """The default policy's shape: every step in business days (review 2, publication 5 after the draft)."""
    return Policy(Offset(draft), Offset(review), Offset(publish))


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
    assert due_dates(at, business_days(2), time_zone="UTC").draft == TUE
    assert due_dates(at, business_days(2), time_zone="Asia/Tokyo").draft == WED


def test_thursday_evening_in_los_angeles_is_friday_in_utc():
    at = datetime(2026, 3, 6, 2, 0, tzinfo=UTC)  # Thursday 18:00 in Los Angeles
    assert due_dates(at, business_days(2), time_zone="America/Los_Angeles").draft == MON
    assert due_dates(at, business_days(2), time_zone="UTC").draft == TUE


def test_review_and_publish_follow_the_draft_in_business_days():
    at = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)  # Friday
    assert due_dates(at, business_days(2), time_zone="UTC") == DueDates(
        draft=TUE, review=THU, publish=date(2026, 3, 17)
    )


def test_review_and_publish_skip_the_teams_holidays_too():
    at = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)  # Tuesday before Easter
    assert due_dates(at, business_days(2), time_zone="Europe/London", calendar=ENGLAND) == DueDates(
        draft=date(2026, 4, 2), review=date(2026, 4, 8), publish=date(2026, 4, 13)
    )


def test_the_default_policy_is_five_business_days():
    at = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # Monday
    assert due_dates(at, Policy.of(SeverityLevel()), time_zone="UTC") == DueDates(
        draft=date(2026, 3, 16), review=date(2026, 3, 18), publish=date(2026, 3, 23)
    )


# --- Offsets in hours ---------------------------------------------------------------------------

HOURS = DueUnit.HOURS
THURSDAY_BEFORE_EASTER = datetime(2026, 4, 2, 14, 0, tzinfo=UTC)  # 15:00 in London


def test_a_procedures_48_hours_3_and_5_business_days_before_a_bank_holiday_weekend():
    policy = Policy(Offset(48, HOURS), Offset(3), Offset(5))
    # The draft: Saturday 15:00, on the clock. Review and publication: business days after
    # Saturday, skipping Easter Monday — Tuesday, Wednesday, Thursday / … Friday, Monday 13.
    assert due_dates(THURSDAY_BEFORE_EASTER, policy, time_zone="Europe/London", calendar=ENGLAND) == DueDates(
        draft=date(2026, 4, 4), review=date(2026, 4, 9), publish=date(2026, 4, 13)
    )


def test_draft_hours_end_on_a_day_of_the_owners_zone_and_midnight_ends_the_day_before():
    at = datetime(2026, 4, 2, 20, 0, tzinfo=UTC)  # Thursday: 13:00 in Los Angeles, Friday 05:00 in Tokyo
    four_hours = Policy(Offset(4, HOURS), Offset(2), Offset(5))
    assert due_dates(at, four_hours, time_zone="UTC").draft == date(2026, 4, 2)  # Friday 00:00 ends Thursday
    assert due_dates(at, four_hours, time_zone="America/Los_Angeles").draft == date(2026, 4, 2)
    assert due_dates(at, four_hours, time_zone="Asia/Tokyo").draft == date(2026, 4, 3)
    five_hours = Policy(Offset(5, HOURS), Offset(2), Offset(5))
    assert due_dates(at, five_hours, time_zone="UTC").draft == date(2026, 4, 3)


@pytest.mark.parametrize(
    ("hours", "expected"),
    [(1, date(2026, 4, 5)), (24, date(2026, 4, 5)), (25, date(2026, 4, 6)), (36, date(2026, 4, 6)),
     (48, date(2026, 4, 6)), (72, date(2026, 4, 7)), (168, date(2026, 4, 11))],
)
def test_review_and_publish_hours_count_whole_days_from_the_end_of_the_drafts_day(hours, expected):
    policy = Policy(Offset(48, HOURS), Offset(hours, HOURS), Offset(hours, HOURS))
    dates = due_dates(THURSDAY_BEFORE_EASTER, policy, time_zone="Europe/London", calendar=ENGLAND)
    assert dates.draft == date(2026, 4, 4)  # Saturday; holidays do not stop a clock in hours
    assert dates.review == dates.publish == expected


def test_hours_after_a_draft_in_business_days_count_from_the_end_of_its_day():
    policy = Policy(Offset(1), Offset(24, HOURS), Offset(0))
    dates = due_dates(THURSDAY_BEFORE_EASTER, policy, time_zone="Europe/London", calendar=ENGLAND)
    assert dates == DueDates(draft=date(2026, 4, 7), review=date(2026, 4, 8), publish=date(2026, 4, 7))


def test_the_policy_is_read_from_the_severity():
    sev = SeverityLevel(
        postmortem_draft_due=48, postmortem_draft_unit=HOURS, postmortem_review_due=3, postmortem_publish_due=168,
        postmortem_publish_unit=HOURS,
    )
    assert Policy.of(sev) == Policy(Offset(48, HOURS), Offset(3, DueUnit.BUSINESS_DAYS), Offset(168, HOURS))


def test_an_unknown_zone_reads_as_utc():
    assert local_date(datetime(2026, 3, 6, 23, 30, tzinfo=UTC), "Mars/Olympus") == FRI
