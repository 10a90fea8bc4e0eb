"""When scheduled reports are sent and which period each covers: local wall time across the
daylight-saving changes, the 31st in a 30-day month, and the gap and fold of the changes."""

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine

from comms.reports import schedule
from comms.reports.schedule import Cadence

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def weekly_at_eight() -> Cadence:
    return Cadence(schedule.WEEKLY, dt.time(8, 0), LONDON, weekday=1)


def test_a_weekly_report_stays_at_eight_in_london_across_the_spring_change():
    # British Summer Time starts Sunday 29 March 2026 at 01:00 UTC.
    cadence = weekly_at_eight()
    with time_machine.travel(utc(2026, 3, 24, 12), tick=False):
        before = schedule.next_run(cadence, dt.datetime.now(UTC))
    after = schedule.next_run(cadence, before.send_at)
    assert before.send_at == utc(2026, 3, 30, 7, 0)  # 08:00 BST
    assert after.send_at == utc(2026, 4, 6, 7, 0)
    assert [run.send_at.astimezone(LONDON).time() for run in (before, after)] == [dt.time(8, 0)] * 2
    # The week of the change is 167 hours long, Monday midnight to Monday midnight local.
    assert (before.start, before.end) == (utc(2026, 3, 23, 0), utc(2026, 3, 29, 23))
    assert before.end - before.start == dt.timedelta(hours=167)


def test_a_weekly_report_stays_at_eight_in_london_across_the_autumn_change():
    # BST ends Sunday 25 October 2026 at 01:00 UTC.
    cadence = weekly_at_eight()
    with time_machine.travel(utc(2026, 10, 20, 12), tick=False):
        before = schedule.next_run(cadence, dt.datetime.now(UTC))
    after = schedule.next_run(cadence, before.send_at)
    assert before.send_at == utc(2026, 10, 26, 8, 0)  # 08:00 GMT, not 09:00
    assert schedule.latest_due(cadence, utc(2026, 10, 26, 7, 59)).send_at == utc(2026, 10, 19, 7, 0)  # 08:00 BST the week before
    assert after.send_at == utc(2026, 11, 2, 8, 0)
    assert (before.start, before.end) == (utc(2026, 10, 18, 23), utc(2026, 10, 26, 0))
    assert before.end - before.start == dt.timedelta(hours=169)


def test_a_monthly_report_on_the_31st_goes_on_the_last_day_of_a_30_day_month():
    cadence = Cadence(schedule.MONTHLY, dt.time(8, 0), LONDON, day_of_month=31)
    with time_machine.travel(utc(2026, 4, 2), tick=False):
        april = schedule.next_run(cadence, dt.datetime.now(UTC))
    assert april.send_at == utc(2026, 4, 30, 7, 0)  # Thursday 30 April 08:00 BST
    assert (april.start, april.end) == (utc(2026, 3, 1, 0), utc(2026, 3, 31, 23))  # all of March, London midnights
    may = schedule.next_run(cadence, april.send_at)
    assert may.send_at == utc(2026, 5, 31, 7, 0)
    february = schedule.next_run(cadence, utc(2027, 2, 1))
    assert february.send_at == utc(2027, 2, 28, 8, 0)


def test_a_send_time_in_the_spring_gap_moves_to_the_first_valid_instant_and_an_ambiguous_one_takes_the_first():
    daily = Cadence(schedule.DAILY, dt.time(1, 30), LONDON)
    spring = schedule.next_run(daily, utc(2026, 3, 28, 12))
    assert spring.send_at == utc(2026, 3, 29, 1, 0)  # 01:30 does not exist: 02:00 BST
    autumn = schedule.next_run(daily, utc(2026, 10, 24, 12))
    assert autumn.send_at == utc(2026, 10, 25, 0, 30)  # 01:30 happens twice: the BST one


def test_the_latest_due_run_after_three_missed_weeks_is_the_last_one():
    cadence = weekly_at_eight()
    run = schedule.latest_due(cadence, utc(2026, 11, 24, 9))
    assert run.send_at == utc(2026, 11, 23, 8)
    assert (run.start, run.end) == (utc(2026, 11, 16), utc(2026, 11, 23))


def test_the_period_starting_a_day_snaps_to_the_cadence():
    weekly = weekly_at_eight()
    assert schedule.period_starting(weekly, dt.date(2026, 11, 25)) == (utc(2026, 11, 23), utc(2026, 11, 30))
    monthly = Cadence(schedule.MONTHLY, dt.time(8), ZoneInfo("UTC"))
    assert schedule.period_starting(monthly, dt.date(2026, 2, 1)) == (utc(2026, 2, 1), utc(2026, 3, 1))
    daily = Cadence(schedule.DAILY, dt.time(8), ZoneInfo("UTC"))
    assert schedule.period_starting(daily, dt.date(2026, 2, 1)) == (utc(2026, 2, 1), utc(2026, 2, 2))
