"""Who is on call: rotations across DST changes and hand-offs, restrictions, layers, overrides.

Dates are real 2026 clock changes: Europe/London springs forward on Sun 29 March (01:00 UTC)
and falls back on Sun 25 October (01:00 UTC); America/New_York on Sun 8 March (07:00 UTC) and
Sun 1 November (06:00 UTC).
"""

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oncall import schedules
from oncall.models import Layer, Schedule
from oncall.schedules import Shift, gaps, on_call_at, shifts, shifts_for_user
from tests.oncall.factories import LayerFactory, OverrideFactory, ScheduleFactory, UserFactory

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
LONDON = zoneinfo.ZoneInfo("Europe/London")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
HOUR = dt.timedelta(hours=1)
TICK = dt.timedelta(microseconds=1)


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def local(tz, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)


@pytest.fixture
def people(db):
    return [
        UserFactory(username=name.lower(), first_name=name, last_name="Chen" if name == "Alice" else "Smith")
        for name in ("Alice", "Bob", "Carol", "Dan")
    ]


def who(schedule, at) -> list[str]:
    return [user.username for user in on_call_at(schedule, at)]


def summary(timeline: list[Shift], tz=UTC) -> list[tuple[str, str, str]]:
    """Shifts as (local start, local end, username) for readable assertions."""
    fmt = "%a %d %H:%M"
    return [(s.start.astimezone(tz).strftime(fmt), s.end.astimezone(tz).strftime(fmt), s.user.username) for s in timeline]


# --- Daily and weekly rotations across DST: hand-off stays at the local time ------------------------


@pytest.mark.parametrize(
    "zone, before, after, hours",
    [
        # The shift that contains the change: 09:00 local to 09:00 local the next day.
        ("Europe/London", dt.date(2026, 3, 28), dt.date(2026, 3, 29), 23),
        ("Europe/London", dt.date(2026, 10, 24), dt.date(2026, 10, 25), 25),
        ("America/New_York", dt.date(2026, 3, 7), dt.date(2026, 3, 8), 23),
        ("America/New_York", dt.date(2026, 10, 31), dt.date(2026, 11, 1), 25),
    ],
)
def test_daily_shift_across_a_dst_change_lasts_23_or_25_hours(people, zone, before, after, hours):
    tz = zoneinfo.ZoneInfo(zone)
    schedule = ScheduleFactory(time_zone=zone)
    LayerFactory(schedule=schedule, rotation=Layer.Rotation.DAILY, start_date=dt.date(2026, 1, 1), members=people[:2])
    window_start = dt.datetime.combine(before, dt.time(0, 0), tzinfo=tz)
    timeline = shifts(schedule, window_start, window_start + dt.timedelta(days=3))

    change = next(s for s in timeline if s.start.astimezone(tz).date() == before and s.start.astimezone(tz).hour == 9)
    assert change.duration == dt.timedelta(hours=hours)
    assert change.end.astimezone(tz).date() == after
    # Every hand-off in the window is at 09:00 local, whatever the UTC offset.
    assert {s.start.astimezone(tz).time() for s in timeline[1:]} == {dt.time(9, 0)}
    assert {s.end.astimezone(tz).time() for s in timeline[:-1]} == {dt.time(9, 0)}
    # Alice and Bob alternate, one day each.
    assert [s.user.username for s in timeline[1:3]] != [timeline[1].user.username] * 2


def test_daily_rotation_in_london_spring_and_autumn_reads_as_a_person_expects(people):
    schedule = ScheduleFactory(time_zone="Europe/London")
    # 2026-01-01 is day 0 (Alice); 28 March is day 86 (Alice, as 86 is even).
    LayerFactory(schedule=schedule, rotation=Layer.Rotation.DAILY, start_date=dt.date(2026, 1, 1), members=people[:2])
    spring = shifts(schedule, local(LONDON, 2026, 3, 28, 9), local(LONDON, 2026, 3, 31, 9))
    assert [(s.start, s.end, s.user.username) for s in spring] == [
        (utc(2026, 3, 28, 9), utc(2026, 3, 29, 8), "alice"),  # 09:00 GMT → 09:00 BST: 23 h
        (utc(2026, 3, 29, 8), utc(2026, 3, 30, 8), "bob"),
        (utc(2026, 3, 30, 8), utc(2026, 3, 31, 8), "alice"),
    ]
    autumn = shifts(schedule, local(LONDON, 2026, 10, 24, 9), local(LONDON, 2026, 10, 26, 9))
    assert [(s.start, s.end) for s in autumn] == [
        (utc(2026, 10, 24, 8), utc(2026, 10, 25, 9)),  # 09:00 BST → 09:00 GMT: 25 h
        (utc(2026, 10, 25, 9), utc(2026, 10, 26, 9)),
    ]


@pytest.mark.parametrize(
    "zone, monday_before, hours",
    [
        ("Europe/London", dt.date(2026, 3, 23), 167),
        ("Europe/London", dt.date(2026, 10, 19), 169),
        ("America/New_York", dt.date(2026, 3, 2), 167),
        ("America/New_York", dt.date(2026, 10, 26), 169),
    ],
)
def test_weekly_shift_across_a_dst_change_is_an_hour_short_or_long(people, zone, monday_before, hours):
    tz = zoneinfo.ZoneInfo(zone)
    schedule = ScheduleFactory(time_zone=zone)
    LayerFactory(schedule=schedule, rotation=Layer.Rotation.WEEKLY, start_date=dt.date(2026, 1, 5), members=people[:3])
    start = dt.datetime.combine(monday_before, dt.time(9, 0), tzinfo=tz)
    timeline = shifts(schedule, start, start + dt.timedelta(days=14))
    assert [s.duration for s in timeline] == [dt.timedelta(hours=hours), dt.timedelta(hours=168)]
    for shift in timeline:
        assert shift.start.astimezone(tz).strftime("%a %H:%M") == "Mon 09:00"
        assert shift.end.astimezone(tz).strftime("%a %H:%M") == "Mon 09:00"


def test_weekly_rotation_hands_off_on_the_weekday_of_its_start_date(people):
    schedule = ScheduleFactory(time_zone="America/New_York")
    LayerFactory(
        schedule=schedule, rotation=Layer.Rotation.WEEKLY, start_date=dt.date(2026, 2, 4), handoff_time=dt.time(10, 30),
        members=people[:2],
    )  # a Wednesday
    timeline = shifts(schedule, local(NEW_YORK, 2026, 2, 1), local(NEW_YORK, 2026, 2, 22))
    assert summary(timeline, NEW_YORK) == [
        ("Wed 04 10:30", "Wed 11 10:30", "alice"),
        ("Wed 11 10:30", "Wed 18 10:30", "bob"),
        ("Wed 18 10:30", "Sun 22 00:00", "alice"),  # clipped to the window
    ]


def test_nobody_is_on_call_before_the_first_hand_off(people):
    schedule = ScheduleFactory(time_zone="Europe/London")
    LayerFactory(schedule=schedule, rotation=Layer.Rotation.DAILY, start_date=dt.date(2026, 6, 1), members=people[:2])
    assert who(schedule, local(LONDON, 2026, 6, 1, 8, 59)) == []
    assert who(schedule, local(LONDON, 2026, 6, 1, 9)) == ["alice"]
    assert gaps(schedule, local(LONDON, 2026, 5, 31), local(LONDON, 2026, 6, 2)) == [
        (local(LONDON, 2026, 5, 31), local(LONDON, 2026, 6, 1, 9))
    ]


# --- "Every N hours": fixed elapsed time ------------------------------------------------------------


@pytest.mark.parametrize(
    "zone, first, local_handoffs",
    [
        # 12-hour shifts from Saturday 08:00: after the change the local hand-off moves by an hour.
        ("Europe/London", dt.date(2026, 3, 28), ["08:00", "20:00", "09:00", "21:00", "09:00"]),
        ("Europe/London", dt.date(2026, 10, 24), ["08:00", "20:00", "07:00", "19:00", "07:00"]),
        ("America/New_York", dt.date(2026, 3, 7), ["08:00", "20:00", "09:00", "21:00", "09:00"]),
        ("America/New_York", dt.date(2026, 10, 31), ["08:00", "20:00", "07:00", "19:00", "07:00"]),
    ],
)
def test_every_n_hours_rotation_counts_elapsed_hours_across_dst(people, zone, first, local_handoffs):
    tz = zoneinfo.ZoneInfo(zone)
    schedule = ScheduleFactory(time_zone=zone)
    LayerFactory(
        schedule=schedule, rotation=Layer.Rotation.HOURS, rotation_hours=12, start_date=first,
        handoff_time=dt.time(8, 0), members=people[:3],
    )
    start = dt.datetime.combine(first, dt.time(8, 0), tzinfo=tz).astimezone(UTC)  # UTC: + 60 h is elapsed time
    timeline = shifts(schedule, start, start + dt.timedelta(hours=60))
    assert [s.duration for s in timeline] == [dt.timedelta(hours=12)] * 5
    assert [s.start.astimezone(tz).strftime("%H:%M") for s in timeline] == local_handoffs
    assert [s.user.username for s in timeline] == ["alice", "bob", "carol", "alice", "bob"]


def test_hand_off_time_that_does_not_exist_on_the_spring_forward_day_is_read_with_the_old_offset(people):
    schedule = ScheduleFactory(time_zone="Europe/London")
    LayerFactory(
        schedule=schedule, rotation=Layer.Rotation.DAILY, start_date=dt.date(2026, 3, 1), handoff_time=dt.time(1, 30),
        members=people[:2],
    )
    timeline = shifts(schedule, utc(2026, 3, 28, 1, 30), utc(2026, 3, 30, 0, 30))
    # 01:30 on 29 March does not exist in London: the hand-off is at 01:30 GMT (02:30 BST).
    assert [(s.start, s.end) for s in timeline] == [
        (utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30)),
        (utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)),  # to 01:30 BST: 23 h
    ]


# --- Hand-off boundaries ---------------------------------------------------------------------------


@pytest.mark.parametrize("rotation", [Layer.Rotation.DAILY, Layer.Rotation.WEEKLY])
def test_exactly_at_hand_off_the_next_person_is_on_call(people, rotation):
    schedule = ScheduleFactory(time_zone="America/New_York")
    LayerFactory(schedule=schedule, rotation=rotation, start_date=dt.date(2026, 1, 5), members=people[:2])
    handoff = local(NEW_YORK, 2026, 1, 12 if rotation == Layer.Rotation.WEEKLY else 6, 9)
    assert who(schedule, handoff - TICK) == ["alice"]
    assert who(schedule, handoff) == ["bob"]
    # And the same across the spring-forward weekend (Monday 9 March is week 9: Bob).
    if rotation == Layer.Rotation.WEEKLY:
        monday = local(NEW_YORK, 2026, 3, 9, 9)
        assert monday == utc(2026, 3, 9, 13)
        assert who(schedule, monday - TICK) == ["alice"]
        assert who(schedule, monday) == ["bob"]


def test_hand_off_boundary_of_an_n_hour_rotation(people):
    schedule = ScheduleFactory(time_zone="Europe/London")
    LayerFactory(
        schedule=schedule, rotation=Layer.Rotation.HOURS, rotation_hours=8, start_date=dt.date(2026, 3, 29),
        handoff_time=dt.time(0, 0), members=people[:3],
    )
    # 00:00 GMT on the change day, then 08:00 and 16:00 UTC (09:00 and 17:00 BST).
    assert who(schedule, utc(2026, 3, 29, 8) - TICK) == ["alice"]
    assert who(schedule, utc(2026, 3, 29, 8)) == ["bob"]
    assert who(schedule, utc(2026, 3, 29, 16)) == ["carol"]
    assert who(schedule, utc(2026, 3, 30, 0)) == ["alice"]


# --- Layers and restrictions -----------------------------------------------------------------------


@pytest.fixture
def business_hours_on_top(people):
    """A 24/7 weekly base (Alice, Bob) under a weekday 09:00–17:00 layer (Carol), in London."""
    schedule = ScheduleFactory(name="Primary", time_zone="Europe/London")
    LayerFactory(schedule=schedule, name="24/7", priority=1, members=people[:2])
    LayerFactory(schedule=schedule, name="Business hours", priority=2, business_hours=True, members=[people[2]])
    return schedule


def test_business_hours_layer_covers_weekdays_and_the_base_layer_evenings_and_weekends(business_hours_on_top):
    schedule = business_hours_on_top
    # Week of Monday 23 March 2026 (week 11 since 5 January: Bob on the base layer).
    assert who(schedule, local(LONDON, 2026, 3, 23, 10)) == ["carol"]
    assert who(schedule, local(LONDON, 2026, 3, 23, 17) - TICK) == ["carol"]
    assert who(schedule, local(LONDON, 2026, 3, 23, 17)) == ["bob"]
    assert who(schedule, local(LONDON, 2026, 3, 24, 8, 59)) == ["bob"]
    assert who(schedule, local(LONDON, 2026, 3, 28, 12)) == ["bob"]  # Saturday
    # Monday 30 March, after the change: the restriction follows local time (09:00 BST = 08:00 UTC),
    # and so does the base layer's hand-off from Bob to Alice.
    assert who(schedule, utc(2026, 3, 30, 8) - TICK) == ["bob"]
    assert who(schedule, utc(2026, 3, 30, 8)) == ["carol"]
    assert who(schedule, utc(2026, 3, 30, 16)) == ["alice"]  # 17:00 BST


def test_shifts_of_a_layered_day(business_hours_on_top):
    timeline = shifts(business_hours_on_top, local(LONDON, 2026, 3, 24), local(LONDON, 2026, 3, 25))
    assert summary(timeline, LONDON) == [
        ("Tue 24 00:00", "Tue 24 09:00", "bob"),
        ("Tue 24 09:00", "Tue 24 17:00", "carol"),
        ("Tue 24 17:00", "Wed 25 00:00", "bob"),
    ]
    assert [s.layer.name for s in timeline] == ["24/7", "Business hours", "24/7"]


def test_a_higher_layer_with_nobody_on_it_covers_nothing(people):
    schedule = ScheduleFactory()
    LayerFactory(schedule=schedule, priority=1, members=[people[0]])
    LayerFactory(schedule=schedule, priority=5, members=[])
    assert who(schedule, utc(2026, 4, 1, 12)) == ["alice"]


def test_a_restricted_layer_alone_leaves_gaps(people):
    schedule = ScheduleFactory(time_zone="America/New_York")
    LayerFactory(schedule=schedule, business_hours=True, members=people[:2])
    friday, monday = local(NEW_YORK, 2026, 3, 6), local(NEW_YORK, 2026, 3, 10)
    assert gaps(schedule, friday, monday) == [
        (local(NEW_YORK, 2026, 3, 6), local(NEW_YORK, 2026, 3, 6, 9)),
        (local(NEW_YORK, 2026, 3, 6, 17), local(NEW_YORK, 2026, 3, 9, 9)),  # the weekend (and the change)
        (local(NEW_YORK, 2026, 3, 9, 17), local(NEW_YORK, 2026, 3, 10)),
    ]
    assert summary(shifts(schedule, friday, monday), NEW_YORK) == [
        ("Fri 06 09:00", "Fri 06 17:00", "alice"),
        ("Mon 09 09:00", "Mon 09 17:00", "bob"),
    ]
    assert who(schedule, local(NEW_YORK, 2026, 3, 7, 12)) == []


def test_a_restriction_window_crossing_midnight_belongs_to_the_day_it_starts(people):
    schedule = ScheduleFactory(time_zone="Europe/London")
    LayerFactory(
        schedule=schedule, rotation=Layer.Rotation.DAILY, start_date=dt.date(2026, 1, 1), members=[people[0]],
        restriction_days=[5], restriction_start=dt.time(22, 0), restriction_end=dt.time(6, 0),
    )
    assert who(schedule, local(LONDON, 2026, 5, 8, 23)) == ["alice"]  # Friday night
    assert who(schedule, local(LONDON, 2026, 5, 9, 5, 59)) == ["alice"]  # … into Saturday morning
    assert who(schedule, local(LONDON, 2026, 5, 9, 6)) == []
    assert who(schedule, local(LONDON, 2026, 5, 8, 2)) == []  # Friday 02:00 belongs to Thursday's night
    timeline = shifts(schedule, local(LONDON, 2026, 5, 4), local(LONDON, 2026, 5, 11))
    # One window, though the daily hand-off at 09:00 is outside it.
    assert summary(timeline, LONDON) == [("Fri 08 22:00", "Sat 09 06:00", "alice")]


def test_restriction_days_without_times_are_whole_local_days(people):
    schedule = ScheduleFactory(time_zone="Europe/London")
    LayerFactory(schedule=schedule, members=[people[0]], restriction_days=[6, 7])
    timeline = shifts(schedule, local(LONDON, 2026, 3, 23), local(LONDON, 2026, 3, 30, 12))
    # Saturday and Sunday (23 h long: the change) merge into one weekend shift.
    assert summary(timeline, LONDON) == [("Sat 28 00:00", "Mon 30 00:00", "alice")]
    assert timeline[0].duration == dt.timedelta(hours=47)


# --- Overrides -------------------------------------------------------------------------------------


def test_an_override_inside_a_shift_splits_it_into_three(people):
    schedule = ScheduleFactory(time_zone="Europe/London")
    LayerFactory(schedule=schedule, name="Primary", rotation=Layer.Rotation.DAILY, start_date=dt.date(2026, 5, 4), members=people[:2])
    cover = OverrideFactory(
        schedule=schedule, user=people[3], start=local(LONDON, 2026, 5, 4, 13), end=local(LONDON, 2026, 5, 4, 15), reason="Dentist"
    )
    timeline = shifts(schedule, local(LONDON, 2026, 5, 4, 9), local(LONDON, 2026, 5, 5, 9))
    assert summary(timeline, LONDON) == [
        ("Mon 04 09:00", "Mon 04 13:00", "alice"),
        ("Mon 04 13:00", "Mon 04 15:00", "dan"),
        ("Mon 04 15:00", "Tue 05 09:00", "alice"),
    ]
    assert [s.override for s in timeline] == [None, cover, None]
    assert timeline[1].layer is None and timeline[1].source == "Override: Dentist"
    assert who(schedule, local(LONDON, 2026, 5, 4, 13)) == ["dan"]
    assert who(schedule, local(LONDON, 2026, 5, 4, 15)) == ["alice"]
    assert who(schedule, local(LONDON, 2026, 5, 4, 15) - TICK) == ["dan"]


def test_an_override_across_a_hand_off_starts_in_one_shift_and_ends_in_the_next(people):
    schedule = ScheduleFactory(time_zone="America/New_York")
    LayerFactory(schedule=schedule, rotation=Layer.Rotation.DAILY, start_date=dt.date(2026, 3, 1), members=people[:2])
    # Sat 7 March 20:00 EST to Sun 8 March 12:00 EDT: across both the hand-off and the clock change.
    OverrideFactory(schedule=schedule, user=people[2], start=local(NEW_YORK, 2026, 3, 7, 20), end=local(NEW_YORK, 2026, 3, 8, 12))
    timeline = shifts(schedule, local(NEW_YORK, 2026, 3, 7, 9), local(NEW_YORK, 2026, 3, 9, 9))
    assert summary(timeline, NEW_YORK) == [
        ("Sat 07 09:00", "Sat 07 20:00", "alice"),
        ("Sat 07 20:00", "Sun 08 12:00", "carol"),
        ("Sun 08 12:00", "Mon 09 09:00", "bob"),
    ]
    assert timeline[1].duration == dt.timedelta(hours=15)


def test_an_override_fills_a_gap_and_the_latest_created_wins_where_overrides_overlap(people):
    schedule = ScheduleFactory()
    LayerFactory(schedule=schedule, business_hours=True, members=[people[0]])
    OverrideFactory(schedule=schedule, user=people[1], start=utc(2026, 5, 9, 8), end=utc(2026, 5, 9, 20))  # Saturday
    OverrideFactory(schedule=schedule, user=people[2], start=utc(2026, 5, 9, 12), end=utc(2026, 5, 9, 14))  # made later
    timeline = shifts(schedule, utc(2026, 5, 9), utc(2026, 5, 10))
    assert summary(timeline) == [
        ("Sat 09 08:00", "Sat 09 12:00", "bob"),
        ("Sat 09 12:00", "Sat 09 14:00", "carol"),
        ("Sat 09 14:00", "Sat 09 20:00", "bob"),
    ]
    assert who(schedule, utc(2026, 5, 9, 13)) == ["carol"]
    assert gaps(schedule, utc(2026, 5, 9), utc(2026, 5, 10)) == [
        (utc(2026, 5, 9), utc(2026, 5, 9, 8)),
        (utc(2026, 5, 9, 20), utc(2026, 5, 10)),
    ]


def test_an_override_for_the_person_already_on_call_is_still_marked(people):
    schedule = ScheduleFactory()
    LayerFactory(schedule=schedule, members=[people[0]])
    OverrideFactory(schedule=schedule, user=people[0], start=utc(2026, 5, 5, 10), end=utc(2026, 5, 5, 12))
    timeline = shifts(schedule, utc(2026, 5, 5), utc(2026, 5, 6))
    assert [(s.user.username, s.override is not None) for s in timeline] == [("alice", False), ("alice", True), ("alice", False)]


# --- The timeline's shape ----------------------------------------------------------------------------


def test_the_same_person_from_the_same_layer_is_one_shift(people):
    schedule = ScheduleFactory()
    LayerFactory(schedule=schedule, rotation=Layer.Rotation.DAILY, start_date=dt.date(2026, 1, 1), members=[people[0]])
    timeline = shifts(schedule, utc(2026, 5, 1, 3), utc(2026, 5, 8, 3))
    assert summary(timeline) == [("Fri 01 03:00", "Fri 08 03:00", "alice")]


def test_empty_and_reversed_windows_and_naive_times():
    schedule = ScheduleFactory()
    assert shifts(schedule, utc(2026, 5, 2), utc(2026, 5, 1)) == []
    assert gaps(schedule, utc(2026, 5, 1), utc(2026, 5, 2)) == [(utc(2026, 5, 1), utc(2026, 5, 2))]
    assert on_call_at(schedule, utc(2026, 5, 1)) == []
    with pytest.raises(ValueError, match="naive"):
        on_call_at(schedule, dt.datetime(2026, 5, 1))


def test_on_call_at_agrees_with_shifts_everywhere(people):
    """Sample a month, every hand-off and override edge included, against one complex schedule."""
    schedule = ScheduleFactory(time_zone="Europe/London")
    LayerFactory(schedule=schedule, priority=1, rotation=Layer.Rotation.WEEKLY, members=people[:3])
    LayerFactory(schedule=schedule, priority=2, business_hours=True, rotation=Layer.Rotation.DAILY, members=people[2:])
    LayerFactory(
        schedule=schedule, priority=3, rotation=Layer.Rotation.HOURS, rotation_hours=5, start_date=dt.date(2026, 3, 20),
        members=people[1:3], restriction_days=[6], restriction_start=dt.time(20, 0), restriction_end=dt.time(2, 0),
    )
    OverrideFactory(schedule=schedule, user=people[3], start=utc(2026, 3, 27, 15, 30), end=utc(2026, 3, 29, 1, 30))
    OverrideFactory(schedule=schedule, user=people[0], start=utc(2026, 3, 28, 6), end=utc(2026, 3, 28, 7))
    start, end = utc(2026, 3, 15), utc(2026, 4, 15)
    timeline = shifts(schedule, start, end)

    instants = {start + k * dt.timedelta(minutes=30) for k in range(31 * 48)}
    instants |= {edge + delta for s in timeline for edge in (s.start, s.end) for delta in (-TICK, dt.timedelta(0))}
    for at in sorted(i for i in instants if start <= i < end):
        covering = [s.user.username for s in timeline if s.start <= at < s.end]
        assert who(schedule, at) == covering, at
    # Consecutive, non-overlapping, and never two pieces that should have been one.
    for first, second in zip(timeline, timeline[1:]):
        assert first.end <= second.start
        assert not (first.end == second.start and first._same_source(second))


# --- A person's shifts -------------------------------------------------------------------------------


def test_shifts_for_user_across_two_schedules(people):
    alice, bob = people[0], people[1]
    primary = ScheduleFactory(name="Primary", time_zone="Europe/London")
    LayerFactory(schedule=primary, rotation=Layer.Rotation.DAILY, start_date=dt.date(2026, 5, 4), members=[alice, bob])
    database = ScheduleFactory(name="Database", time_zone="America/New_York")
    LayerFactory(schedule=database, business_hours=True, members=[bob])
    OverrideFactory(schedule=database, user=alice, start=local(NEW_YORK, 2026, 5, 5, 12), end=local(NEW_YORK, 2026, 5, 5, 14))
    unrelated = ScheduleFactory(name="Unrelated")
    LayerFactory(schedule=unrelated, members=[people[2]])

    found = shifts_for_user(alice, utc(2026, 5, 4), utc(2026, 5, 7))
    assert [(s.schedule.name, s.start, s.end, s.override is not None) for s in found] == [
        ("Primary", utc(2026, 5, 4, 8), utc(2026, 5, 5, 8), False),  # 09:00 BST
        ("Database", utc(2026, 5, 5, 16), utc(2026, 5, 5, 18), True),  # 12:00–14:00 EDT
        ("Primary", utc(2026, 5, 6, 8), utc(2026, 5, 7, 0), False),
    ]
    assert all(s.user == alice for s in found)
    assert shifts_for_user(people[3], utc(2026, 5, 4), utc(2026, 5, 7)) == []


# --- Queries ---------------------------------------------------------------------------------------


def queries(func, *args) -> tuple[object, int]:
    with CaptureQueriesContext(connection) as captured:
        result = func(*args)
    return result, len(captured)


def test_questions_cost_a_fixed_number_of_queries(people):
    schedule = ScheduleFactory()
    for priority in range(1, 6):
        LayerFactory(schedule=schedule, priority=priority, business_hours=priority > 1, members=people)
    OverrideFactory(schedule=schedule, user=people[0], start=utc(2026, 5, 4, 12), end=utc(2026, 5, 4, 13))
    at = utc(2026, 5, 4, 20)

    assert queries(on_call_at, schedule, at)[1] == 3  # override, layers, members (with users)
    assert queries(on_call_at, schedule, utc(2026, 5, 4, 12, 30))[1] == 1  # an override answers at once
    assert queries(shifts, schedule, utc(2026, 5, 1), utc(2026, 5, 15))[1] == 3

    loaded = schedules.prefetch_rotations([Schedule.objects.get(pk=schedule.pk)], utc(2026, 5, 1), utc(2026, 5, 15))[0]
    assert queries(on_call_at, loaded, at) == ([people[1]], 0)  # week 17 of the base rotation: Bob
    assert queries(shifts, loaded, utc(2026, 5, 2), utc(2026, 5, 14))[1] == 0
    # Outside the loaded window the overrides are asked for again (the layers are still loaded).
    assert queries(on_call_at, loaded, utc(2026, 6, 1))[1] == 1


def test_shifts_for_user_costs_the_same_for_one_schedule_or_many(people):
    for n in range(6):
        schedule = ScheduleFactory()
        LayerFactory(schedule=schedule, members=people[:2])
        OverrideFactory(schedule=schedule, user=people[0], start=utc(2026, 5, 4, n), end=utc(2026, 5, 4, n + 1))
    found, count = queries(shifts_for_user, people[0], utc(2026, 5, 1), utc(2026, 5, 15))
    assert found and count == 4
