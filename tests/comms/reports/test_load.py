"""On-call load per person and team, worked out by hand: pages at chosen instants through the real
engine and outbox, read in each person's zone and against each team's working hours."""

import datetime as dt

import pytest

from comms.models import Channel, Notification
from comms.reports import DEFINITIONS, Period, oncall_load
from tests.comms.factories import ContactMethodFactory, NotificationRuleFactory
from tests.oncall.factories import ClosedDayFactory, LayerFactory, OverrideFactory, ScheduleFactory, TeamFactory, UserFactory

from .drive import on_call, page, utc

H = dt.timedelta(hours=1)


def team(name, zone, *members):
    found = TeamFactory(name=name, slug=name.lower(), time_zone=zone)
    found.members.set(members)
    return found


@pytest.fixture
def nia(db):
    return UserFactory(username="nia", first_name="Nia", last_name="Brooks", time_zone="America/New_York")


@pytest.fixture
def leo(db):
    return UserFactory(username="leo", first_name="Leo", last_name="Hart", time_zone="Europe/London")


@pytest.fixture
def teams(nia, leo):
    """Search works 09:00–17:00 New York time, Payments 09:00–17:00 London time, Monday to Friday."""
    return team("Search", "America/New_York", nia), team("Payments", "Europe/London", leo)


def by_name(report):
    return {person.name: person for person in report.people}


def test_a_page_at_3am_in_new_york_is_a_sleep_hour_page_and_the_same_instant_in_london_is_not(nia, leo, teams, outbox):
    on_call(nia, leo)
    # Leo's pages reach him by email and SMS at once: one page each time all the same.
    for channel, address in ((Channel.EMAIL, "leo@example.com"), (Channel.SMS, "+447700900002")):
        NotificationRuleFactory(contact_method=ContactMethodFactory(user=leo, channel=channel, address=address))
    # Each page's email leaves 5 s after the instant given.
    page(utc(2026, 3, 3, 8, 0), commander=leo)  # Tue: New York 03:00 EST (asleep, before work); London 08:00 GMT (awake, before work)
    page(utc(2026, 3, 3, 14, 0), commander=leo)  # New York 09:00, London 14:00: both at work
    page(utc(2026, 3, 3, 23, 30), commander=nia, is_restricted=True, title="Payroll export leaked")  # NY 18:30; London 23:30 (asleep)
    page(utc(2026, 3, 4, 3, 0), commander=nia, is_drill=True)  # a drill: not counted (Nia is paged as its participant)
    page(utc(2026, 3, 6, 8, 0), commander=nia)  # outside the period

    report = oncall_load(Period(utc(2026, 3, 3), utc(2026, 3, 5)))
    people = by_name(report)
    nia_load, leo_load = people["Nia Brooks"], people["Leo Hart"]
    assert (nia_load.pages, nia_load.outside_working_hours, nia_load.sleep_hours, nia_load.incidents_commanded) == (3, 2, 1, 1)
    assert (leo_load.pages, leo_load.outside_working_hours, leo_load.sleep_hours, leo_load.incidents_commanded) == (3, 2, 1, 2)
    assert nia_load.teams == ("Search",) and leo_load.teams == ("Payments",)
    assert Notification.objects.filter(recipient=leo, is_page=True, status="sent", incident__is_drill=False).count() == 2 * 4
    search, payments = sorted(report.teams, key=lambda row: row.name, reverse=True)
    assert (search.name, search.people, search.pages, search.outside_working_hours, search.sleep_hours, search.incidents_commanded) == (
        "Search", 1, 3, 2, 1, 1,
    )
    assert (payments.name, payments.pages, payments.sleep_hours, payments.incidents_commanded) == ("Payments", 3, 1, 2)
    # The restricted incident is counted and named nowhere.
    assert "Payroll" not in repr(report)

    # One team: its members only.
    only = oncall_load(Period(utc(2026, 3, 3), utc(2026, 3, 5), team=teams[1]))
    assert [(p.name, p.pages, p.sleep_hours) for p in only.people] == [("Leo Hart", 3, 1)]
    assert [(t.name, t.pages) for t in only.teams] == [("Payments", 3)]
    assert "22:00 and 07:00" in DEFINITIONS["sleep_hour_pages"]


def test_the_nights_the_clocks_go_back_move_the_sleep_hours_and_the_working_day(nia, leo, teams, outbox):
    on_call(nia, leo)
    # London leaves BST (UTC+1) for GMT at 02:00 on Sunday 25 October 2026; New York leaves EDT
    # (UTC−4) for EST (UTC−5) at 02:00 on Sunday 1 November.
    page(utc(2026, 10, 23, 8, 30))  # Fri: London 09:30 BST, at work; New York 04:30 EDT, asleep
    page(utc(2026, 10, 24, 6, 30))  # Sat: London 07:30 BST, awake; New York 02:30 EDT, asleep
    page(utc(2026, 10, 25, 6, 30))  # Sun: London 06:30 GMT, asleep; New York 02:30 EDT, asleep
    page(utc(2026, 10, 26, 8, 30))  # Mon: London 08:30 GMT, before work; New York 04:30 EDT, asleep
    page(utc(2026, 10, 31, 11, 30))  # Sat: New York 07:30 EDT, awake; London 11:30 GMT
    page(utc(2026, 11, 1, 11, 30))  # Sun: New York 06:30 EST, asleep; London 11:30 GMT
    page(utc(2026, 11, 2, 13, 30))  # Mon: New York 08:30 EST, before work (a week earlier 09:30 EDT); London 13:30 at work

    people = by_name(oncall_load(Period(utc(2026, 10, 23), utc(2026, 11, 3))))
    leo_load, nia_load = people["Leo Hart"], people["Nia Brooks"]
    # Leo: outside work on Sat 24, Sun 25, Mon 26 (08:30 GMT), Sat 31, Sun 1; asleep only on Sun 25.
    assert (leo_load.pages, leo_load.outside_working_hours, leo_load.sleep_hours) == (7, 5, 1)
    # Nia: at work on none of them (Mon 2 is 08:30 EST); asleep on 23, 24, 25, 26 and 1.
    assert (nia_load.pages, nia_load.outside_working_hours, nia_load.sleep_hours) == (7, 7, 5)


def test_hours_on_call_from_a_weekly_rotation_with_an_override(db):
    alice, bob, carol = (UserFactory(username=name, first_name=name.title(), last_name="X") for name in ("alice", "bob", "carol"))
    crew = team("Platform", "UTC", alice, bob)
    schedule = ScheduleFactory(name="Platform primary", team=crew)
    # Weekly, handing off Mondays 09:00 UTC from Monday 5 January 2026: week 0 Alice, week 1 Bob…
    LayerFactory(schedule=schedule, members=[alice, bob])
    OverrideFactory(schedule=schedule, user=carol, start=utc(2026, 3, 4, 12), end=utc(2026, 3, 4, 18))
    # Carol is also on a second schedule that overlaps her override by 2 hours: counted once.
    second = ScheduleFactory(name="Carol's evening")
    OverrideFactory(schedule=second, user=carol, start=utc(2026, 3, 4, 16), end=utc(2026, 3, 4, 20))

    # Monday 2 March 00:00 to Monday 9 March 00:00: 2 March is week 8, Alice's, from 09:00; Bob
    # holds week 7 until then.
    report = oncall_load(Period(utc(2026, 3, 2), utc(2026, 3, 9)))
    people = by_name(report)
    assert people["Bob X"].hours_on_call == 9
    assert people["Alice X"].hours_on_call == 6 * 24 + 15 - 6  # 159 h less Carol's 6 h
    assert people["Carol X"].hours_on_call == 6 + 2  # 12:00–18:00, then 18:00–20:00 on the other
    [platform, nobody] = report.teams
    assert (platform.name, platform.people, platform.hours_on_call) == ("Platform", 2, 9 + 153)
    assert (nobody.name, nobody.hours_on_call) == ("No team", 8)


def test_the_load_reads_a_fixed_number_of_queries_however_many_pages_and_people(nia, leo, teams, outbox, django_assert_max_num_queries):
    period = Period(utc(2026, 3, 2), utc(2026, 3, 9))
    on_call(nia)
    page(utc(2026, 3, 3, 8, 0), commander=nia)
    LayerFactory(schedule=ScheduleFactory(), members=[nia])
    with django_assert_max_num_queries(12) as few:
        oncall_load(period)

    more = [UserFactory(username=f"extra{n}", time_zone="Asia/Tokyo") for n in range(3)]
    team("Tokyo", "Asia/Tokyo", *more)
    on_call(nia, leo, *more)
    for hour in (2, 6, 10):
        page(utc(2026, 3, 4, hour, 0), commander=more[hour % 3])
    LayerFactory(schedule=ScheduleFactory(), members=more)
    with django_assert_max_num_queries(12) as many:
        report = oncall_load(period)
    assert sum(p.pages for p in report.people) == 1 + 3 * 5
    assert len(many.captured_queries) == len(few.captured_queries)


def test_public_holidays_and_closed_days_are_outside_working_hours(leo, teams, outbox):
    payments = teams[1]
    payments.holiday_country, payments.holiday_subdivision = "GB", "ENG"
    payments.save()
    ClosedDayFactory(team=payments, date=dt.date(2026, 12, 29), name="Company shutdown")
    on_call(leo)
    page(utc(2026, 12, 24, 11, 0))  # Thursday 11:00 GMT: at work
    page(utc(2026, 12, 25, 11, 0))  # Friday, Christmas Day: a public holiday in England
    page(utc(2026, 12, 29, 11, 0))  # Tuesday, the team's closed day

    [leo_load] = oncall_load(Period(utc(2026, 12, 24), utc(2026, 12, 30), team=payments)).people
    assert (leo_load.pages, leo_load.outside_working_hours, leo_load.sleep_hours) == (3, 2, 0)
