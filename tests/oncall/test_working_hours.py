"""A team's working hours, in the team's zone: when business-hours escalation cells may fire."""

import datetime as dt
import zoneinfo

import pytest

from oncall.models import Team
from oncall.working_hours import is_working_time, next_working_moment
from tests.oncall.factories import TeamFactory

UTC = dt.timezone.utc
LONDON = zoneinfo.ZoneInfo("Europe/London")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
TICK = dt.timedelta(microseconds=1)


def team(zone="Europe/London", **fields) -> Team:
    return Team(name="Payments", slug="payments", time_zone=zone, **fields)


def test_friday_evening_waits_for_monday_morning_in_the_teams_zone():
    payments = team()
    friday = dt.datetime(2026, 5, 8, 17, 30, tzinfo=LONDON)
    assert not is_working_time(payments, friday)
    assert next_working_moment(payments, friday) == dt.datetime(2026, 5, 11, 9, 0, tzinfo=LONDON)
    assert next_working_moment(payments, friday) == dt.datetime(2026, 5, 11, 8, 0, tzinfo=UTC)  # 09:00 BST


@pytest.mark.parametrize(
    "zone, friday, monday_utc",
    [
        # The weekend of the change: Monday's 09:00 is at a different UTC hour from Friday's.
        ("Europe/London", dt.date(2026, 3, 27), dt.datetime(2026, 3, 30, 8, tzinfo=UTC)),  # 09:00 BST
        ("Europe/London", dt.date(2026, 10, 23), dt.datetime(2026, 10, 26, 9, tzinfo=UTC)),  # 09:00 GMT
        ("America/New_York", dt.date(2026, 3, 6), dt.datetime(2026, 3, 9, 13, tzinfo=UTC)),  # 09:00 EDT
        ("America/New_York", dt.date(2026, 10, 30), dt.datetime(2026, 11, 2, 14, tzinfo=UTC)),  # 09:00 EST
    ],
)
def test_friday_to_monday_across_a_dst_change(zone, friday, monday_utc):
    tz = zoneinfo.ZoneInfo(zone)
    at = dt.datetime.combine(friday, dt.time(17, 30), tzinfo=tz)
    assert next_working_moment(team(zone), at) == monday_utc


def test_inside_working_hours_is_now_and_the_edges_are_exact():
    payments = team("America/New_York")
    tuesday_noon = dt.datetime(2026, 5, 5, 16, tzinfo=UTC)  # 12:00 EDT
    assert is_working_time(payments, tuesday_noon)
    assert next_working_moment(payments, tuesday_noon) is tuesday_noon
    opening = dt.datetime(2026, 5, 5, 9, tzinfo=NEW_YORK)
    closing = dt.datetime(2026, 5, 5, 17, tzinfo=NEW_YORK)
    assert is_working_time(payments, opening)
    assert not is_working_time(payments, opening - TICK)
    assert next_working_moment(payments, opening - TICK) == opening
    assert is_working_time(payments, closing - TICK)
    assert not is_working_time(payments, closing)
    assert next_working_moment(payments, closing) == opening + dt.timedelta(days=1)


def test_early_morning_waits_for_the_same_days_opening():
    payments = team(working_hours_start=dt.time(8, 30), working_hours_end=dt.time(16, 30))
    assert next_working_moment(payments, dt.datetime(2026, 5, 6, 3, tzinfo=LONDON)) == dt.datetime(2026, 5, 6, 8, 30, tzinfo=LONDON)


def test_custom_working_days():
    weekend_team = team(working_days=[6, 7])
    thursday = dt.datetime(2026, 5, 7, 12, tzinfo=LONDON)
    assert next_working_moment(weekend_team, thursday) == dt.datetime(2026, 5, 9, 9, tzinfo=LONDON)
    assert is_working_time(weekend_team, dt.datetime(2026, 5, 10, 16, tzinfo=LONDON))


def test_a_night_team_crossing_midnight():
    night = team(working_hours_start=dt.time(22, 0), working_hours_end=dt.time(6, 0))
    # Friday's night runs into Saturday morning; Saturday evening waits for Monday night.
    assert is_working_time(night, dt.datetime(2026, 5, 9, 3, tzinfo=LONDON))
    assert not is_working_time(night, dt.datetime(2026, 5, 4, 3, tzinfo=LONDON))  # Monday 03:00: Sunday had no shift
    assert next_working_moment(night, dt.datetime(2026, 5, 9, 7, tzinfo=LONDON)) == dt.datetime(2026, 5, 11, 22, tzinfo=LONDON)


def test_no_working_days_means_every_day():
    always = team(working_days=[])
    sunday = dt.datetime(2026, 5, 10, 10, tzinfo=LONDON)
    assert is_working_time(always, sunday)


def test_the_default_working_week_of_an_unsaved_team():
    default = Team()  # what the engine uses for a policy without a team: Monday–Friday 09:00–17:00 UTC
    saturday = dt.datetime(2026, 5, 9, 12, tzinfo=UTC)
    assert next_working_moment(default, saturday) == dt.datetime(2026, 5, 11, 9, tzinfo=UTC)


@pytest.mark.django_db
def test_a_saved_team_and_naive_times():
    payments = TeamFactory(time_zone="Europe/London")
    payments.refresh_from_db()
    assert next_working_moment(payments, dt.datetime(2026, 5, 9, 12, tzinfo=UTC)) == dt.datetime(2026, 5, 11, 8, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        next_working_moment(payments, dt.datetime(2026, 5, 9, 12))
