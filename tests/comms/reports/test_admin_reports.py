"""Report subscriptions in the admin: who sees which, the restricted-names rule as a form error,
the preview rendered as sent, "Send now" outside the schedule's ledger, the CSV; and the API."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from comms.models import Notification, ReportRun, ReportSubscription
from comms.reports.sections import DEFAULT_SECTIONS
from tests.api.keys import auth
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import UserFactory


def url(name, *args):
    return reverse(f"admin:comms_{name}", args=args)


@pytest.fixture
def viewer_owned(db, viewer):
    return ReportSubscription.objects.create(name="Viewer's own", owner=viewer, sections=DEFAULT_SECTIONS, addresses="me@example.org")


@pytest.fixture
def managers_report(db, manager):
    report = ReportSubscription.objects.create(
        name="Managers' weekly", owner=manager, sections=DEFAULT_SECTIONS, time_zone="Europe/London"
    )
    report.users.add(manager)
    return report


def form(**changes):
    data = {
        "name": "Ops weekly", "owner": "", "is_active": "on", "frequency": "weekly", "weekday": "1", "day_of_month": "1",
        "send_time": "08:00", "time_zone": "Europe/London", "addresses": "", "sections": ["open_incidents", "noise"],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_person_without_the_change_permission_sees_only_their_own_reports(as_user, viewer, viewer_owned, managers_report):
    page = as_user(viewer).get(url("reportsubscription_changelist"))
    assert page.status_code == 200
    assert "Viewer&#x27;s own" in page.content.decode() and "Managers&#x27; weekly" not in page.content.decode()
    assert as_user(viewer).get(url("reportsubscription_change", managers_report.pk)).status_code == 302  # not found: back to the list
    assert as_user(viewer).post(url("reportsubscription_add"), form()).status_code == 403


def test_a_manager_adds_a_report_and_the_list_page_queries_are_bounded(as_user, manager, managers_report, django_assert_max_num_queries):
    client = as_user(manager)
    response = client.post(url("reportsubscription_add"), form(users=[manager.pk], addresses="cto@example.org"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    added = ReportSubscription.objects.get(name="Ops weekly")
    assert added.sections == ["open_incidents", "noise"] and added.address_list() == ["cto@example.org"]
    for n in range(5):
        ReportSubscription.objects.create(name=f"More {n}", owner=manager, sections=["noise"], addresses="x@example.org")
    with django_assert_max_num_queries(12):
        assert client.get(url("reportsubscription_changelist")).status_code == 200


def test_naming_restricted_incidents_is_refused_while_a_recipient_may_not_see_them(as_user, manager, viewer):
    response = as_user(manager).post(
        url("reportsubscription_add"), form(users=[manager.pk, viewer.pk], name_restricted="on", addresses="cfo@example.org")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["name_restricted"][0]
    assert errors.endswith(f"these may not: {viewer}, cfo@example.org.")
    assert not ReportSubscription.objects.filter(name="Ops weekly").exists()
    ok = as_user(manager).post(url("reportsubscription_add"), form(users=[manager.pk], name_restricted="on"))
    assert ok.status_code == 302


def test_bad_addresses_and_a_team_with_services_are_form_errors(as_user, manager, service):
    response = as_user(manager).post(
        url("reportsubscription_add"), form(addresses="not-an-address", team=str(service.owning_team_id), services=[service.pk])
    )
    form_ = response.context["adminform"].form
    assert "Not email addresses: not-an-address." in form_.errors["addresses"]
    assert "Choose one team or some services, not both" in str(form_.non_field_errors())


def test_the_preview_is_the_report_as_sent_and_send_now_leaves_the_schedule_alone(as_user, manager, managers_report):
    IncidentFactory(severity=severity("SEV-1"), title="Payments down", is_restricted=True)
    client = as_user(manager)
    preview_url = url("reportsubscription_preview", managers_report.pk)
    with time_machine.travel(dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC), tick=False):
        page = client.get(preview_url, {"period": "2026-11-25"})
        assert page.status_code == 200
        sent = client.post(preview_url + "?period=2026-11-25", {"to": "me"})
    report = page.context["report"]
    assert "Mon 23 Nov – Sun 29 Nov 2026" in report.html
    assert "1 open incident now." in report.text
    assert "Payments down" not in report.html  # this report does not name restricted incidents
    assert "1 restricted incident, not named" in report.html
    assert 'id="report-html"' in page.content.decode()

    assert sent.status_code == 302
    run = ReportRun.objects.get()
    assert (run.manual, run.period_start, run.notifications, run.requested_by) == (
        True, dt.datetime(2026, 11, 23, tzinfo=dt.UTC), 1, manager
    )
    mail = Notification.objects.get(kind="report")
    assert (mail.address, mail.subject, mail.body, mail.html_body) == (manager.email, report.subject, report.text, report.html)
    # Sending by hand never fills the schedule's ledger: the scheduled run of that week still goes.
    from comms.reports import sending

    assert sending.send_scheduled(managers_report.pk, run.period_start, run.period_end) is not None


def test_the_csv_holds_the_reports_tables(as_user, manager, managers_report):
    IncidentFactory(severity=severity("SEV-2"), title="Slow search")
    csv = as_user(manager).get(url("reportsubscription_preview", managers_report.pk), {"period": "2026-11-25", "format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    assert csv["Content-Disposition"] == f'attachment; filename="report-{managers_report.pk}-2026-11-23.csv"'
    lines = csv.content.decode().splitlines()
    assert lines[:2] == ["Open incidents,\"Open incidents, most severe first\"", "Incident,Severity,Status,SLA,Age"]
    assert "Slow search" in lines[2] and ",SEV-2,Triggered," in lines[2]


def test_send_now_to_every_recipient_needs_the_change_permission(as_user, viewer, viewer_owned):
    client = as_user(viewer)
    preview_url = url("reportsubscription_preview", viewer_owned.pk)
    assert client.get(preview_url).status_code == 200
    assert client.post(preview_url, {"to": "all"}).status_code == 403
    assert client.post(preview_url, {"to": "me"}).status_code == 302
    assert list(Notification.objects.values_list("address", flat=True)) == [viewer.email]


def test_the_send_now_action_sends_the_latest_period_to_every_recipient(as_user, manager, managers_report):
    managers_report.addresses = "board@example.org"
    managers_report.save()
    response = as_user(manager).post(
        url("reportsubscription_changelist"), {"action": "send_now_to_all", "_selected_action": [managers_report.pk]}
    )
    assert response.status_code == 302
    assert sorted(Notification.objects.values_list("address", flat=True)) == ["board@example.org", manager.email]
    assert ReportRun.objects.get().manual


def test_the_api_returns_the_report_as_json_to_its_owner_or_a_manager(client, manager, viewer, viewer_owned, managers_report):
    IncidentFactory(severity=severity("SEV-2"), title="Slow search")
    response = client.get(f"/api/v1/reports/{managers_report.pk}", {"period": "2026-11-23"}, **auth(manager, "read"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["period_start"], body["period_end"]) == ("2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z")
    opened = next(s for s in body["sections"] if s["key"] == "open_incidents")
    assert opened["figures"] == ["1 open incident now."]
    assert "Slow search" in opened["tables"][0]["rows"][0][0]
    assert client.get(f"/api/v1/reports/{viewer_owned.pk}", **auth(manager, "read")).status_code == 200  # a manager
    assert client.get(f"/api/v1/reports/{viewer_owned.pk}", **auth(viewer, "read")).status_code == 200  # its owner
    assert client.get(f"/api/v1/reports/{managers_report.pk}", **auth(viewer, "read")).status_code == 404
    assert client.get(f"/api/v1/reports/{managers_report.pk}", {"period": "0001-01-01"}, **auth(manager, "read")).status_code == 400
    assert client.get(f"/api/v1/reports/{managers_report.pk}").status_code == 401
    other = UserFactory(username="other", responder=True)
    assert client.get(f"/api/v1/reports/{viewer_owned.pk}", **auth(other, "read")).status_code == 404


def test_the_ledger_is_read_only_and_its_list_queries_are_bounded(as_user, manager, managers_report, django_assert_max_num_queries):
    from comms.reports import sending

    for day in (2, 9, 16):
        start = dt.datetime(2026, 11, day, tzinfo=dt.UTC)
        sending.send_scheduled(managers_report.pk, start, start + dt.timedelta(days=7))
    client = as_user(manager)
    with django_assert_max_num_queries(10):
        page = client.get(url("reportrun_changelist"))
    assert page.status_code == 200 and page.content.decode().count("Managers&#x27; weekly") == 3
    run = ReportRun.objects.first()
    assert client.post(url("reportrun_change", run.pk), {"status": "failed"}).status_code == 403
