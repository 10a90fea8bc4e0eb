"""Clocks on a team's calendar: business hours, next business day, public holidays and closed days,
across weekends, DST changes and zones (`oncall.clocks`)."""

import datetime as dt
import zoneinfo

import pytest

from oncall.clocks import Calendar, Clock, NoWorkingTime
from oncall.models import ClosedDay
from oncall.working_hours import calendar_for, calendars_for
from tests.oncall.factories import TeamFactory

UTC = dt.timezone.utc
LONDON = zoneinfo.ZoneInfo("Europe/London")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
H, MIN = dt.timedelta(hours=1), dt.timedelta(minutes=1)

LONDON_WEEK = Calendar(time_zone="Europe/London", holiday_country="GB", holiday_subdivision="ENG")


def at(*args, tz=LONDON):
    return dt.datetime(*args, tzinfo=tz)


def test_the_wall_clock_counts_nights_and_weekends():
    friday = at(2026, 5, 8, 16, 30)
    assert LONDON_WEEK.due(Clock.WALL, friday, 30 * MIN) == at(2026, 5, 8, 17, 0)
    assert LONDON_WEEK.due(Clock.WALL, friday, 2 * H) == at(2026, 5, 8, 18, 30)


def test_business_hours_stop_at_the_end_of_friday_and_resume_on_monday():
    friday = at(2026, 5, 8, 16, 30)
    assert LONDON_WEEK.due(Clock.BUSINESS_HOURS, friday, 30 * MIN) == at(2026, 5, 8, 17, 0)  # due at the close
    assert LONDON_WEEK.due(Clock.BUSINESS_HOURS, friday, 2 * H) == at(2026, 5, 11, 10, 30)
    # From outside working hours the count starts at the next opening.
    assert LONDON_WEEK.due(Clock.BUSINESS_HOURS, at(2026, 5, 9, 3, 0), 30 * MIN) == at(2026, 5, 11, 9, 30)


def test_business_hours_skip_a_bank_holiday():
    # Monday 25 May 2026 is the Spring bank holiday in England.
    friday = at(2026, 5, 22, 16, 0)
    assert LONDON_WEEK.due(Clock.BUSINESS_HOURS, friday, 2 * H) == at(2026, 5, 26, 10, 0)
    # Without the country, Monday is a working day.
    plain = Calendar(time_zone="Europe/London")
    assert plain.due(Clock.BUSINESS_HOURS, friday, 2 * H) == at(2026, 5, 25, 10, 0)


def test_next_business_day_is_the_next_days_opening_plus_an_offset():
    tuesday_noon = at(2026, 5, 5, 12, 0)
    assert LONDON_WEEK.due(Clock.NEXT_BUSINESS_DAY, tuesday_noon, dt.timedelta(0)) == at(2026, 5, 6, 9, 0)
    assert LONDON_WEEK.due(Clock.NEXT_BUSINESS_DAY, tuesday_noon, 2 * H) == at(2026, 5, 6, 11, 0)
    # The offset counts working time: 10 h from Wednesday's opening is Thursday 11:00.
    assert LONDON_WEEK.due(Clock.NEXT_BUSINESS_DAY, tuesday_noon, 10 * H) == at(2026, 5, 7, 11, 0)
    # Before the opening on a working day, "next" is still the following day.
    assert LONDON_WEEK.due(Clock.NEXT_BUSINESS_DAY, at(2026, 5, 5, 7, 0), dt.timedelta(0)) == at(2026, 5, 6, 9, 0)
    # Friday evening → Monday.
    assert LONDON_WEEK.due(Clock.NEXT_BUSINESS_DAY, at(2026, 5, 8, 20, 0), dt.timedelta(0)) == at(2026, 5, 11, 9, 0)


def test_next_business_day_declared_on_the_eve_of_christmas_is_due_after_the_holidays():
    # 2026: Christmas is a Friday, Boxing Day a Saturday, observed on Monday 28 December.
    christmas_eve = at(2026, 12, 24, 15, 0)
    assert LONDON_WEEK.due(Clock.NEXT_BUSINESS_DAY, christmas_eve, dt.timedelta(0)) == at(2026, 12, 29, 9, 0)


def test_the_eve_of_a_single_bank_holiday():
    # Easter Monday 6 April 2026; declared on the Thursday before Good Friday (3 April).
    thursday = at(2026, 4, 2, 18, 0)
    assert LONDON_WEEK.due(Clock.NEXT_BUSINESS_DAY, thursday, dt.timedelta(0)) == at(2026, 4, 7, 9, 0)


@pytest.mark.parametrize(
    "friday, monday_opening_utc",
    [
        (at(2026, 3, 27, 16, 0), dt.datetime(2026, 3, 30, 8, 0, tzinfo=UTC)),  # clocks go forward: 09:00 BST
        (at(2026, 10, 23, 16, 0), dt.datetime(2026, 10, 26, 9, 0, tzinfo=UTC)),  # clocks go back: 09:00 GMT
    ],
)
def test_business_hours_across_a_dst_change_keep_local_opening_times(friday, monday_opening_utc):
    due = LONDON_WEEK.due(Clock.BUSINESS_HOURS, friday, 90 * MIN)
    assert due == monday_opening_utc + 30 * MIN
    assert LONDON_WEEK.working_time_between(friday, due) == 90 * MIN


def test_a_team_in_another_zone_counts_its_own_hours():
    tokyo = Calendar(time_zone="Asia/Tokyo", holiday_country="JP")
    # 08:00 UTC on Tuesday 5 May 2026 is 17:00 in Tokyo, and 5 May is Children's Day (and the 6th a
    # substitute holiday): the next opening is Thursday 7 May 09:00 JST.
    start = dt.datetime(2026, 5, 5, 8, 0, tzinfo=UTC)
    assert tokyo.due(Clock.BUSINESS_HOURS, start, H) == at(2026, 5, 7, 10, 0, tz=TOKYO)
    assert LONDON_WEEK.due(Clock.BUSINESS_HOURS, start, H) == at(2026, 5, 5, 10, 0)


def test_a_night_team_period_that_starts_on_a_holiday_is_closed():
    night = Calendar(time_zone="Europe/London", working_days=(1, 2, 3, 4, 5), start=dt.time(22), end=dt.time(6),
                     holiday_country="GB", holiday_subdivision="ENG")
    # Friday 22 May 22:00 → Saturday 06:00 is open; Monday 25 May (bank holiday) has no night.
    assert night.is_working(at(2026, 5, 23, 3, 0))
    assert night.next_working_moment(at(2026, 5, 23, 7, 0)) == at(2026, 5, 26, 22, 0)


def test_working_time_between_two_instants():
    assert LONDON_WEEK.working_time_between(at(2026, 5, 8, 16, 0), at(2026, 5, 11, 10, 0)) == 2 * H
    assert LONDON_WEEK.working_time_between(at(2026, 5, 11, 10, 0), at(2026, 5, 8, 16, 0)) == dt.timedelta(0)


def test_a_calendar_with_every_day_closed_is_refused_not_searched_for_ever():
    closed = Calendar(closed_days=frozenset(dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(800)))
    with pytest.raises(NoWorkingTime):
        closed.due(Clock.BUSINESS_HOURS, dt.datetime(2026, 1, 1, tzinfo=UTC), H)


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="naive"):
        LONDON_WEEK.next_working_moment(dt.datetime(2026, 5, 8, 12, 0))


@pytest.mark.django_db
def test_closed_days_of_a_team_and_of_every_team():
    payments = TeamFactory(slug="payments", time_zone="Europe/London")
    search = TeamFactory(slug="search", time_zone="Europe/London")
    ClosedDay.objects.create(team=payments, date=dt.date(2026, 5, 11), name="Payments offsite")
    ClosedDay.objects.create(team=None, date=dt.date(2026, 5, 12), name="Company shutdown")
    friday = at(2026, 5, 8, 16, 0)
    assert calendar_for(payments).due(Clock.BUSINESS_HOURS, friday, 2 * H) == at(2026, 5, 13, 10, 0)
    assert calendar_for(search).due(Clock.BUSINESS_HOURS, friday, 2 * H) == at(2026, 5, 11, 10, 0)
    assert calendar_for(None).due(Clock.NEXT_BUSINESS_DAY, friday, dt.timedelta(0)) == dt.datetime(2026, 5, 11, 9, 0, tzinfo=UTC)
    assert calendar_for(None).due(Clock.NEXT_BUSINESS_DAY, at(2026, 5, 11, 12), dt.timedelta(0)) == dt.datetime(
        2026, 5, 13, 9, 0, tzinfo=UTC
    )
    both = calendars_for([payments, search])
    assert both[payments.pk] == calendar_for(payments)
    assert both[search.pk] == calendar_for(search)
    assert both[None] == calendar_for(None)
