"""Severity targets on business-hours and next-business-day clocks, configured through the admin as
an organisation would, run by the engine's own tick under time-machine, and checked on what people
receive (outbox rows) and on the timeline, the incident list's SLA badge and the API.

The organisation: a London team with England's bank holidays, owning the default policy;
SEV-3 "first update within 30 minutes, then every 2 hours during business hours"; SEV-4
"response: next business day".
"""

import zoneinfo
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
import time_machine
from django.urls import reverse

from comms import outbox
from comms.models import MessageKind, Notification
from incidents import actions, engine
from incidents.models import Deadline, SeverityLevel, Source, TimelineEvent
from oncall.models import ClosedDay, EscalationPolicy
from tests.admin_forms import english_team, form_data
from tests.incidents.factories import IncidentFactory, ServiceFactory, severity
from tests.oncall.factories import ApiKeyFactory, UserFactory

LONDON = zoneinfo.ZoneInfo("Europe/London")
UTC = dt_timezone.utc
Kind = TimelineEvent.Kind


def london(*args):
    return datetime(*args, tzinfo=LONDON)


@pytest.fixture
def org(db, client):
    """Configured through the admin pages: the team's zone and holidays, the default policy's team,
    two severities' clocks."""
    root = UserFactory(username="root", superuser=True)
    client.force_login(root)
    team = english_team(client)
    policy = EscalationPolicy.objects.get(is_default=True)
    assert policy.team == team
    for name, changes in {
        "SEV-3": {"first_update_interval": "30 min", "update_interval": "2 h", "update_clock": "business_hours",
                  "resolve_clock": "business_hours"},
        "SEV-4": {"ack_sla": "0", "ack_sla_clock": "next_business_day"},
    }.items():
        url = reverse("admin:incidents_severitylevel_change", args=[severity(name).pk])
        response = client.post(url, form_data(client.get(url), **changes))
        assert response.status_code == 302, response.context["adminform"].form.errors
    people = {name: UserFactory(username=name) for name in ("oncall", "ic")}
    policy.levels.get(position=1).users.set([people["oncall"]])
    return {"team": team, "client": client, **people}


def dispatch():
    ids = list(TimelineEvent.objects.filter(dispatched_at__isnull=True).order_by("pk").values_list("pk", flat=True))
    outbox.dispatch_events(ids)


def tick_at(moment):
    with time_machine.travel(moment, tick=False):
        engine.tick()
        dispatch()


def reminders_to(person) -> list[datetime]:
    rows = Notification.objects.filter(recipient=person, kind=MessageKind.UPDATE_OVERDUE).select_related("event")
    return sorted({row.event.occurred_at for row in rows})


def test_update_reminders_wait_for_business_hours_and_skip_the_bank_holiday(org):
    ic = org["ic"]
    with time_machine.travel(london(2026, 5, 22, 16, 0), tick=False):  # Friday before the Spring bank holiday
        incident = IncidentFactory(severity=severity("SEV-3"), actor=ic, commander=ic, acknowledged=True)
        dispatch()
    tick_at(london(2026, 5, 22, 16, 30))  # the first update is 30 minutes of working time late: remind
    assert reminders_to(ic) == [london(2026, 5, 22, 16, 30)]
    with time_machine.travel(london(2026, 5, 22, 16, 40), tick=False):
        actions.post_update(incident, "Mitigating; next update Tuesday.", actor=ic, source=Source.ADMIN)
        dispatch()

    # 2 h of business hours from Friday 16:40: 20 min on Friday, none over the weekend or on the
    # bank holiday, 1 h 40 min on Tuesday → due Tuesday 10:40 London.
    due = incident.deadlines.get(kind=Deadline.Kind.UPDATE_OVERDUE, fired_at=None, cancelled_at=None).due_at
    assert due == london(2026, 5, 26, 10, 40)
    for moment in (london(2026, 5, 22, 17, 55), london(2026, 5, 23, 12, 0), london(2026, 5, 25, 12, 0), london(2026, 5, 26, 10, 39)):
        tick_at(moment)
    assert reminders_to(ic) == [london(2026, 5, 22, 16, 30)]
    tick_at(london(2026, 5, 26, 10, 40))
    assert reminders_to(ic) == [london(2026, 5, 22, 16, 30), london(2026, 5, 26, 10, 40)]
    reminder = incident.timeline.filter(kind=Kind.UPDATE_OVERDUE).latest("occurred_at")
    assert "SEV-3 expects one every 2 h of business hours" in reminder.message

    # The API and the list's SLA badge agree with the engine: due at 10:40, so due soon at 10:35.
    client = org["client"]
    key = ApiKeyFactory(owner=UserFactory(username="reader", superuser=True), scopes=["read"])
    with time_machine.travel(london(2026, 5, 26, 10, 35), tick=False):
        api = client.get(f"/api/v1/incidents/{incident.reference}", HTTP_AUTHORIZATION=f"Bearer {key.secret}")
    assert api.json()["sla"]["target"] == "status update"
    assert api.json()["sla"]["due_at"].startswith("2026-05-26T09:40:00")  # 10:40 BST
    with time_machine.travel(london(2026, 5, 26, 10, 35), tick=False):
        page = client.get(reverse("admin:incidents_incident_changelist"))
    assert "due soon: status update" in page.content.decode()


def test_next_business_day_response_declared_on_christmas_eve(org):
    ic, oncall = org["ic"], org["oncall"]
    with time_machine.travel(london(2026, 12, 24, 15, 0), tick=False):
        incident = IncidentFactory(severity=severity("SEV-4"), actor=ic, commander=ic)
        dispatch()
    breach = incident.deadlines.get(kind=Deadline.Kind.ACK_TIMEOUT, fired_at=None, cancelled_at=None)
    # Christmas (Fri 25), Boxing Day observed (Mon 28), the weekend: due Tuesday 29 December 09:00.
    assert breach.due_at == london(2026, 12, 29, 9, 0)
    for moment in (london(2026, 12, 25, 12, 0), london(2026, 12, 28, 9, 0), london(2026, 12, 29, 8, 59)):
        tick_at(moment)
    assert not incident.timeline.filter(kind=Kind.ACK_SLA_BREACHED).exists()
    tick_at(london(2026, 12, 29, 9, 0))
    breached = incident.timeline.get(kind=Kind.ACK_SLA_BREACHED)
    assert "SEV-4 acknowledge SLA: next business day" in breached.message
    pages = Notification.objects.filter(recipient=oncall, kind=MessageKind.PAGE, event=breached)
    assert pages.exists()


def test_a_closed_day_added_in_the_admin_moves_the_due_time(org):
    client, team = org["client"], org["team"]
    url = reverse("admin:oncall_team_change", args=[team.pk])
    changes = {"closed_days-TOTAL_FORMS": "1", "closed_days-0-date": "2026-05-26", "closed_days-0-name": "Offsite"}
    response = client.post(url, form_data(client.get(url), **changes))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert ClosedDay.objects.get(team=team).name == "Offsite"
    with time_machine.travel(london(2026, 5, 20, 12, 0), tick=False):
        page = client.get(url).content.decode()
    # The team page lists the days its clocks will skip: England's bank holiday and the closed day.
    assert "Mon 25 May 2026 · Spring Bank Holiday" in page
    assert "Tue 26 May 2026 · Offsite" in page
    ic = org["ic"]
    with time_machine.travel(london(2026, 5, 22, 16, 40), tick=False):
        incident = IncidentFactory(severity=severity("SEV-3"), actor=ic, commander=ic)
        actions.post_update(incident, "Looking", actor=ic, source=Source.ADMIN)
    due = incident.deadlines.get(kind=Deadline.Kind.UPDATE_OVERDUE, fired_at=None, cancelled_at=None).due_at
    assert due == london(2026, 5, 27, 10, 40)  # Tuesday closed too


def test_zero_is_refused_on_the_wall_clock_and_a_bad_region_is_refused(org):
    client = org["client"]
    url = reverse("admin:incidents_severitylevel_change", args=[severity("SEV-2").pk])
    response = client.post(url, form_data(client.get(url), ack_sla="0"))
    assert response.context["adminform"].form.errors == {"ack_sla": ["Must be more than 0 s and at most 7 d."]}
    assert SeverityLevel.objects.get(name="SEV-2").ack_sla == timedelta(minutes=15)
    team_url = reverse("admin:oncall_team_change", args=[org["team"].pk])
    response = client.post(team_url, form_data(client.get(team_url), holiday_subdivision="XX"))
    errors = response.context["adminform"].form.errors
    assert "Not a region of United Kingdom" in errors["holiday_subdivision"][0]
    assert "ENG" in errors["holiday_subdivision"][0]


def test_lists_read_the_calendars_once_a_page(org, django_assert_max_num_queries):
    """Business clocks cost a list two queries (the policies' teams, their closed days), not two a row."""
    ic, client = org["ic"], org["client"]
    with time_machine.travel(london(2026, 5, 22, 16, 0), tick=False):
        for _ in range(12):
            IncidentFactory(severity=severity("SEV-3"), actor=ic, commander=ic)
    key = ApiKeyFactory(owner=UserFactory(username="reader", superuser=True), scopes=["read"])
    with time_machine.travel(london(2026, 5, 22, 16, 10), tick=False):
        client.get("/api/v1/incidents", HTTP_AUTHORIZATION=f"Bearer {key.secret}")  # warm the session and key
        with django_assert_max_num_queries(12):
            api = client.get("/api/v1/incidents?limit=12", HTTP_AUTHORIZATION=f"Bearer {key.secret}")
        with django_assert_max_num_queries(16):
            page = client.get(reverse("admin:incidents_incident_changelist"))
    # Due at 16:30 on the business-hours clock, as the engine planned it.
    assert {item["sla"]["due_at"][:16] for item in api.json()["items"]} == {"2026-05-22T15:30"}
    assert page.content.decode().count("on time: status update") == 12


def test_the_status_page_window_counts_on_the_update_clock(org):
    """SEV-2's 15-minute status-page window, on business hours: declared on the Saturday of a bank
    holiday weekend, the communications lead is reminded on Tuesday at 09:15, not at 10:15 Saturday."""
    client, ic = org["client"], org["ic"]
    url = reverse("admin:incidents_severitylevel_change", args=[severity("SEV-2").pk])
    response = client.post(url, form_data(client.get(url), update_clock="business_hours"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    facing = ServiceFactory(name="Checkout API", slug="checkout-api", customer_facing=True)
    with time_machine.travel(london(2026, 5, 23, 10, 0), tick=False):
        incident = IncidentFactory(severity=severity("SEV-2"), services=[facing], actor=ic, commander=ic, acknowledged=True)
    assert incident.deadlines.get(kind=Deadline.Kind.STATUS_PAGE).due_at == london(2026, 5, 26, 9, 15)
    tick_at(london(2026, 5, 23, 10, 15))
    assert not incident.timeline.filter(kind=Kind.STATUS_PAGE_OVERDUE).exists()
    tick_at(london(2026, 5, 26, 9, 15))
    reminder = incident.timeline.get(kind=Kind.STATUS_PAGE_OVERDUE)
    assert "(SEV-2 window: 15 min of business hours)" in reminder.message
    assert Notification.objects.filter(event=reminder, recipient=ic).exists()


def test_words_on_the_next_business_day_clock_and_the_matrix_headed_by_the_organisations_names(org):
    """A cadence of "next business day" reads "by the next business day", never "every next
    business day"; the escalation matrix heads its columns with the severities' own names."""
    client = org["client"]
    sev4 = severity("SEV-4")
    sev4.update_clock, sev4.first_update_interval = "next_business_day", timedelta(0)
    sev4.save()
    assert sev4.update_cadence_text(first=True) == "by the next business day"
    assert severity("SEV-3").update_cadence_text() == "every 2 h of business hours"
    assert severity("SEV-3").update_cadence_text("within", first=True) == "within 30 min of business hours"
    url = reverse("admin:incidents_severitylevel_change", args=[severity("SEV-1").pk])
    response = client.post(url, form_data(client.get(url), name="P0"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    policy = EscalationPolicy.objects.get(is_default=True)
    page = client.get(reverse("admin:oncall_escalationpolicy_change", args=[policy.pk])).content.decode()
    assert '<th title="severity rank 1">P0</th>' in page
    assert '<th title="severity rank 2">SEV-2</th>' in page
