"""Scheduled reports sent: a weekly report through a real SMTP server with figures worked out by
hand, restricted incidents counted and not named, drills left out; one report for a beat that
was down three weeks; two concurrent runs send once."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from comms.models import Notification, ReportRun, ReportSubscription
from comms.reports import sending
from comms.reports.render import render, viewer_for
from comms.reports.sections import DEFAULT_SECTIONS
from incidents import actions
from incidents.models import Source
from tests.comms.delivery import deliver_due
from tests.concurrency import all_at_once
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import UserFactory

UTC = dt.UTC


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def at(moment):
    return time_machine.travel(moment, tick=False)


# The week of Monday 23 – Sunday 29 November 2026 (London is on GMT, = UTC); the report goes at
# 08:00 on Monday 30 November.
SEND = utc(2026, 11, 30, 8, 0, 30)


@pytest.fixture
def week(db):
    """Six incidents around the week (see each line); the figures below are counted from them."""
    made = {}
    with at(utc(2026, 11, 22, 23)):  # Sunday before the week: open, not declared in it
        made["before"] = IncidentFactory(severity=severity("SEV-4"), title="Old disk warning")
    with at(utc(2026, 11, 24, 10)):  # declared and resolved in the week
        made["resolved"] = IncidentFactory(severity=severity("SEV-2"), title="Checkout slow", resolved=True)
    with at(utc(2026, 11, 25, 9)):  # SEV-3: its director cell is the weekly review
        made["sev3"] = IncidentFactory(severity=severity("SEV-3"), title="Search results stale")
    with at(utc(2026, 11, 26, 14)):  # restricted
        made["restricted"] = IncidentFactory(severity=severity("SEV-2"), title="Vault credentials exposed", is_restricted=True)
    with at(utc(2026, 11, 27, 9)):  # a drill: in no figure
        made["drill"] = IncidentFactory(severity=severity("SEV-1"), title="Drill datacentre fire", is_drill=True)
    with at(utc(2026, 11, 28, 11)):  # SEV-4: its manager cell is the weekly review (director: monthly)
        made["sev4"] = IncidentFactory(severity=severity("SEV-4"), title="Typo on status page")
    return made


@pytest.fixture
def people(db):
    # The migration's seeded reports go to the Managers group, Maya's: only this test's reports here.
    ReportSubscription.objects.all().delete()
    return {
        # A manager may see restricted incidents; reads in London.
        "maya": UserFactory(username="maya", first_name="Maya", last_name="Patel", manager=True, time_zone="Europe/London"),
        # A viewer may not; reads in New York.
        "victor": UserFactory(username="victor", first_name="Victor", last_name="Hale", viewer=True, time_zone="America/New_York"),
    }


@pytest.fixture
def weekly(people):
    with at(utc(2026, 11, 20)):
        report = ReportSubscription.objects.create(
            name="Weekly escalations", owner=people["maya"], frequency="weekly", weekday=1, send_time=dt.time(8, 0),
            time_zone="Europe/London", sections=DEFAULT_SECTIONS, name_restricted=True, addresses="audit@example.org",
        )
    # Victor joined after the report was set to name restricted incidents: checked again at send time.
    report.users.add(people["maya"], people["victor"])
    return report


def beat(now):
    """What beat's task and the tasks it queues do, run here in order."""
    with at(now):
        return [sending.send_scheduled(pk, run.start, run.end) for pk, run in sending.due(now)]


def test_a_weekly_report_arrives_by_smtp_in_both_parts_with_the_figures_of_the_week(week, weekly, people, outbox):
    runs = beat(SEND)
    assert [(run.period_start, run.period_end, run.notifications) for run in runs] == [(utc(2026, 11, 23), utc(2026, 11, 30), 3)]
    with at(SEND):
        deliver_due()
    received = {m["To"]: m for m in outbox.wait_for(3)}
    assert set(received) == {"maya@example.com", "victor@example.com", "audit@example.org"}

    maya = received["maya@example.com"]
    assert maya["Subject"] == "Weekly escalations: Mon 23 Nov – Sun 29 Nov 2026"
    text = maya.get_body(("plain",)).get_content()
    html = maya.get_body(("html",)).get_content()
    # Open now: before, sev3, restricted, sev4 (the drill is open too, and left out).
    assert "4 open incidents now." in text and "4 open incidents now." in html
    # Declared in the week: SEV-2 ×2 (resolved, restricted), SEV-3 ×1, SEV-4 ×1; resolved: the SEV-2.
    assert "4 declared, 1 resolved." in text
    assert "SEV-2 | 2 | 1" in text and "SEV-3 | 1 | 0" in text and "SEV-4 | 1 | 0" in text and "SEV-1 | 0 | 0" in text
    # Deferred to the weekly review: the SEV-3 (director) and the SEV-4 (engineering manager).
    assert "2 incidents for the weekly review." in text
    assert f"{week['sev3'].reference} Search results stale | SEV-3 | Director" in text
    assert f"{week['sev4'].reference} Typo on status page | SEV-4 | Engineering manager" in text
    # Maya may see restricted incidents and the report names them.
    assert "Vault credentials exposed" in text and "Vault credentials exposed" in html
    assert "Drill datacentre fire" not in text and "Drill datacentre fire" not in html
    assert f"/admin/incidents/incident/{week['sev3'].pk}/change/" in html
    assert "<script" not in html and "<link" not in html and "src=" not in html

    victor = received["victor@example.com"]
    victor_text = victor.get_body(("plain",)).get_content()
    victor_html = victor.get_body(("html",)).get_content()
    assert "Vault credentials exposed" not in victor_text + victor_html + victor["Subject"]
    assert "1 restricted incident, not named" in victor_text and "1 restricted incident, not named" in victor_html
    assert "4 open incidents now." in victor_text  # counted all the same
    assert "Drill datacentre fire" not in victor_text
    # His zone: the week as instants in New York, and the times of the list.
    assert victor["Subject"] == "Weekly escalations: Sun 22 Nov 2026 19:00 – Sun 29 Nov 2026 19:00 EST"
    assert "Tue 24 Nov 2026 05:00" in victor_text  # the resolved SEV-2, declared 10:00 UTC

    # Mean times by severity against held targets: the resolved SEV-2 was acknowledged and resolved
    # the moment it was declared (0 s, met); nothing else was acknowledged. No week before to compare.
    assert "- SEV-2 | 2 | — | 0 s (met) | 15 min | — | 0 s (met) | 4 h | —" in victor_text
    assert "- SEV-3 | 1 | — | — | 1 h | — | — | 1 d | —" in victor_text
    # Acknowledge SLA: the SEV-3 (declared 09:00 UTC, 1 h) and the SEV-4 (11:00 UTC, 24 h) missed it,
    # due at 05:00 and 06:00 New York time; the restricted SEV-2 missed it too, counted, not named.
    assert "- SEV-2 | 2 | 50% (1 missed of 2)" in victor_text and "- SEV-3 | 1 | 0% (1 missed of 1)" in victor_text
    missed = victor_text.split("Acknowledged on time: missed:")[1].split("First update on time: missed:")[0]
    assert f"{week['sev3'].reference} Search results stale | SEV-3 | Wed 25 Nov 2026 05:00" in missed
    assert f"{week['sev4'].reference} Typo on status page | SEV-4 | Sun 29 Nov 2026 06:00" in missed
    assert "1 restricted incident, not named" in missed and "Vault" not in missed
    maya_missed = text.split("Acknowledged on time: missed:")[1].split("First update on time: missed:")[0]
    assert f"{week['restricted'].reference} Vault credentials exposed | SEV-2 | Thu 26 Nov 2026 14:15" in maya_missed
    audit = received["audit@example.org"].get_body(("plain",)).get_content()
    assert "Vault credentials exposed" not in audit and "1 restricted incident, not named" in audit
    assert "times in Europe/London" in audit

    run = ReportRun.objects.get()
    assert (run.status, run.sent_at, run.manual) == ("sent", SEND, False)
    assert Notification.objects.filter(kind="report", status="sent").count() == 3


def test_a_beat_down_for_three_weeks_sends_one_report_for_the_latest_week(weekly, people):
    later = utc(2026, 12, 21, 9)  # the sends of 30 Nov, 7 Dec, 14 Dec and 21 Dec were all missed
    first = beat(later)
    assert [(run.period_start, run.period_end) for run in first] == [(utc(2026, 12, 14), utc(2026, 12, 21))]
    assert beat(later + dt.timedelta(minutes=5)) == []  # the next beat finds it in the ledger
    assert beat(utc(2026, 12, 27, 23)) == []  # and nothing until the next Monday
    assert ReportRun.objects.count() == 1
    assert Notification.objects.filter(kind="report").count() == 3


def test_a_report_is_not_sent_for_a_period_due_before_it_existed(people):
    with at(utc(2026, 12, 2)):  # a Wednesday: last Monday's send predates it
        ReportSubscription.objects.create(name="New", owner=people["maya"], weekday=1, sections=["open_incidents"])
    assert beat(utc(2026, 12, 2, 0, 5)) == []
    assert len(beat(utc(2026, 12, 7, 8, 1))) == 1


def test_the_same_period_sent_twice_in_a_row_is_claimed_once(weekly):
    with at(SEND):
        first = sending.send_scheduled(weekly.pk, utc(2026, 11, 23), utc(2026, 11, 30))
        again = sending.send_scheduled(weekly.pk, utc(2026, 11, 23), utc(2026, 11, 30))  # a retried task
    assert first is not None and again is None
    assert Notification.objects.filter(kind="report").count() == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_runs_of_the_same_period_send_once(weekly):
    def run():
        run = sending.send_scheduled(weekly.pk, utc(2026, 11, 23), utc(2026, 11, 30))
        return run.pk if run else None

    results, errors = all_at_once(run, threads=4)
    assert errors == []
    assert len([r for r in results if r]) == 1
    assert ReportRun.objects.count() == 1
    assert Notification.objects.filter(kind="report").count() == 3


def test_rendering_a_report_takes_a_bounded_number_of_queries_whatever_the_incidents(week, weekly, people):
    viewer = viewer_for(weekly, people["maya"])

    def queries() -> int:
        with at(SEND), CaptureQueriesContext(connection) as captured:
            report = render(weekly, utc(2026, 11, 23), utc(2026, 11, 30), viewer)
        return len(captured), report

    before, _ = queries()
    for n, name in enumerate(["SEV-1", "SEV-3", "SEV-4"]):
        with at(utc(2026, 11, 26, 10 + n)):
            IncidentFactory(severity=severity(name), title=f"One more {n}", is_restricted=n == 1)
    after, report = queries()
    assert "7 open incidents now." in report.text
    # Nine sections, a few queries each (the incident figures: the period and the one before it, SLA
    # compliance and three breach lists; SQLite reads the durations once more for percentiles).
    assert after == before <= 36


def test_a_section_that_fails_marks_the_run_failed_and_sends_nothing(weekly, monkeypatch):
    from comms.reports import sections

    def broken(scope, period, viewer):
        raise RuntimeError("the figures are unavailable")

    monkeypatch.setitem(sections.SECTIONS, "noise", sections.Section("noise", "Noise", broken))
    with at(SEND):
        run = sending.send_scheduled(weekly.pk, utc(2026, 11, 23), utc(2026, 11, 30))
    run.refresh_from_db()
    assert (run.status, run.notifications) == ("failed", 0)
    assert "the figures are unavailable" in run.error
    assert not Notification.objects.filter(kind="report").exists()


def test_an_incident_resolved_in_the_week_is_counted_resolved_once(weekly, people):
    with at(utc(2026, 11, 20, 12)):  # declared the week before
        incident = IncidentFactory(severity=severity("SEV-2"), title="Long one", acknowledged=True)
    with at(utc(2026, 11, 25, 12)):
        actions.resolve(incident, actor=people["maya"], source=Source.ADMIN, summary="Fixed")
    with at(SEND):
        report = render(weekly, utc(2026, 11, 23), utc(2026, 11, 30), viewer_for(weekly, people["maya"]))
    assert "0 declared, 1 resolved." in report.text


def test_a_monthly_report_lists_the_monthly_review_cells_only(week, people):
    monthly = ReportSubscription.objects.create(
        name="Monthly", owner=people["maya"], frequency="monthly", time_zone="UTC", sections=["deferred_review"]
    )
    with at(utc(2026, 12, 1, 8)):
        report = render(monthly, utc(2026, 11, 1), utc(2026, 12, 1), viewer_for(monthly, people["maya"]))
    # The SEV-4s of November (the one of 22 Nov and the one of 28 Nov): their director cell.
    assert "2 incidents for the monthly review." in report.text
    assert f"{week['sev4'].reference} Typo on status page | SEV-4 | Director" in report.text
    assert f"{week['before'].reference} Old disk warning | SEV-4 | Director" in report.text
    assert "Search results stale" not in report.text  # the SEV-3's cell is the weekly review


def test_readers_in_the_same_zone_who_see_the_same_names_share_one_rendering(weekly, people):
    for n in range(10):
        weekly.users.add(UserFactory(username=f"reader{n}", viewer=True, time_zone="America/New_York"))
    with at(SEND), CaptureQueriesContext(connection) as captured:
        run = sending.send_scheduled(weekly.pk, utc(2026, 11, 23), utc(2026, 11, 30))
    assert run.notifications == 13
    # Three renderings (London and naming, New York, the report's zone for the address), not
    # thirteen: the open-incidents count runs once per rendering.
    renderings = [q for q in captured.captured_queries if q["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "incidents_incident"')]
    assert len(renderings) == 3
    bodies = set(Notification.objects.filter(address__startswith="reader").values_list("body", flat=True))
    assert len(bodies) == 1 and bodies == {Notification.objects.get(address="victor@example.com").body}


def test_the_send_task_called_twice_with_the_same_period_sends_once(weekly):
    from comms import tasks

    with at(SEND):
        first = tasks.send_report(weekly.pk, "2026-11-23T00:00:00+00:00", "2026-11-30T00:00:00+00:00")
        again = tasks.send_report(weekly.pk, "2026-11-23T00:00:00+00:00", "2026-11-30T00:00:00+00:00")
    assert (first, again) == (3, 0)
    assert ReportRun.objects.get().notifications == 3
