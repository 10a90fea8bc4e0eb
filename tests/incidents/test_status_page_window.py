"""Status-page publication follows the severity: SEV-1 is public at once, SEV-2 and SEV-3 within
their window (the communications lead is reminded when it passes), SEV-4 optional."""

from datetime import timedelta

import pytest
from django.urls import reverse

from incidents import actions
from incidents.models import Deadline, Incident, Participant, SeverityLevel, Source, TimelineEvent
from oncall.models import EscalationPolicy
from tests.incidents.engine_clock import T0, at, run
from tests.incidents.factories import IncidentFactory, ServiceFactory, incident_type, severity
from tests.oncall.factories import UserFactory

Kind = TimelineEvent.Kind
ADMIN = Source.ADMIN
DECLARE_URL = reverse("admin:incidents_incident_add")


@pytest.fixture
def facing(db):
    return ServiceFactory(name="Checkout API", slug="checkout-api", customer_facing=True)


@pytest.fixture
def oncall(db):
    """Level 1 of the default policy."""
    person = UserFactory(username="oncall", first_name="Omar", last_name="Oncall")
    EscalationPolicy.objects.get(is_default=True).levels.get(position=1).users.set([person])
    return person


def reminders(incident) -> list[TimelineEvent]:
    return list(incident.timeline.filter(kind=Kind.STATUS_PAGE_OVERDUE).order_by("occurred_at"))


def status_page_row(incident) -> Deadline:
    return incident.deadlines.get(kind=Deadline.Kind.STATUS_PAGE)


# --- Defaults ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_matrix_carries_a_window_per_severity():
    assert dict(SeverityLevel.objects.values_list("name", "status_page_window")) == {
        "SEV-1": timedelta(0),
        "SEV-2": timedelta(minutes=15),
        "SEV-3": timedelta(hours=1),
        "SEV-4": None,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sev", "flags", "public"),
    [
        ("SEV-1", {}, True),
        ("SEV-2", {}, False),
        ("SEV-3", {}, False),
        ("SEV-4", {}, False),
        ("SEV-1", {"is_restricted": True}, False),
        ("SEV-1", {"is_drill": True}, False),
    ],
)
def test_declaring_is_public_at_once_only_where_the_window_is_zero(facing, sev, flags, public):
    incident = IncidentFactory(severity=severity(sev), services=[facing], **flags)
    assert incident.public_on_status_page is public


@pytest.mark.django_db
def test_an_internal_incident_is_never_public_by_default(db):
    internal = ServiceFactory(name="Ledger", slug="ledger", customer_facing=False)
    assert IncidentFactory(severity=severity("SEV-1"), services=[internal]).public_on_status_page is False


# --- The declare page (the API: tests/api/test_incidents_api.py) --------------------------------------------------------------


@pytest.mark.django_db
def test_the_declare_page_offers_the_choice_with_each_severitys_window(client, commander, facing):
    client.force_login(commander)
    html = client.get(DECLARE_URL).content.decode()
    assert "Public on status page" in html
    assert "SEV-1 at once; SEV-2 within 15 min; SEV-3 within 1 h; SEV-4 optional" in html

    def declare(title, sev, **fields):
        data = {"title": title, "severity": severity(sev).pk, "services": [facing.pk], "commander": commander.pk, **fields}
        return client.post(DECLARE_URL, data)

    assert declare("As the severity says", "SEV-2").status_code == 302
    assert declare("Published now", "SEV-2", public_on_status_page="yes").status_code == 302
    assert declare("Kept off", "SEV-1", public_on_status_page="no").status_code == 302
    assert declare("Defaulted", "SEV-1").status_code == 302
    assert dict(Incident.objects.values_list("title", "public_on_status_page")) == {
        "As the severity says": False,
        "Published now": True,
        "Kept off": False,
        "Defaulted": True,
    }

    for fields, refusal in [
        ({"is_restricted": "on"}, "A restricted incident is never shown on the status page."),
        ({"is_drill": "on"}, "A drill is never shown on the status page."),
        ({"incident_type": incident_type("security").pk}, "A restricted incident is never shown on the status page."),
    ]:
        response = declare("Refused", "SEV-1", public_on_status_page="yes", **fields)
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["public_on_status_page"] == [refusal]
    assert not Incident.objects.filter(title="Refused").exists()


# --- The reminder ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_window_passing_unpublished_reminds_the_communications_lead_once(facing, commander, oncall):
    dana = UserFactory(username="dana", first_name="Dana", last_name="Scully")
    with at(0):
        incident = IncidentFactory(severity=severity("SEV-2"), services=[facing], actor=commander, commander=commander)
        actions.assign_role(incident, dana, Participant.Role.COMMUNICATIONS_LEAD, actor=commander, source=ADMIN)
    assert status_page_row(incident).due_at == T0 + timedelta(minutes=15)

    run(0, 14)
    assert reminders(incident) == []
    run(15, 40)
    [reminder] = reminders(incident)
    assert reminder.occurred_at == T0 + timedelta(minutes=15)
    assert reminder.message == (
        "Not on the status page 15 min after declaration (SEV-2 window: 15 min); "
        "reminding the communications lead: Dana Scully"
    )
    assert [t["username"] for t in reminder.data["targets"]] == ["dana"]
    assert reminder.source == Source.ENGINE
    row = status_page_row(incident)
    assert row.fired_at == T0 + timedelta(minutes=15) and [t["username"] for t in row.targets] == ["dana"]


@pytest.mark.django_db
def test_without_a_communications_lead_the_commander_is_reminded_else_level_one(facing, commander, oncall):
    with at(0):
        led = IncidentFactory(severity=severity("SEV-2"), services=[facing], actor=commander, commander=commander)
        nobody = IncidentFactory(severity=severity("SEV-2"), services=[facing], actor=commander)
    run(15, 15)
    [to_commander] = reminders(led)
    assert to_commander.message.endswith(f"reminding the commander: {commander}")
    [to_level_one] = reminders(nobody)
    assert [t["username"] for t in to_level_one.data["targets"]] == ["oncall"]
    assert "level 1 · On-call engineer is told: Omar Oncall" in to_level_one.message


@pytest.mark.django_db
def test_publishing_cancels_the_reminder_and_a_severity_change_moves_it(facing, commander, oncall):
    with at(0):
        published = IncidentFactory(severity=severity("SEV-2"), services=[facing], actor=commander, commander=commander)
        re_rated = IncidentFactory(severity=severity("SEV-3"), services=[facing], actor=commander, commander=commander)
        optional = IncidentFactory(severity=severity("SEV-4"), services=[facing], actor=commander, commander=commander)
    assert status_page_row(re_rated).due_at == T0 + timedelta(hours=1)
    assert not optional.deadlines.filter(kind=Deadline.Kind.STATUS_PAGE).exists()  # SEV-4: optional, never reminded

    with at(5):
        actions.update_details(published, actor=commander, source=ADMIN, public_on_status_page=True)
        actions.change_severity(re_rated, severity("SEV-2"), actor=commander, source=ADMIN)
    row = status_page_row(published)
    assert row.cancelled_at == T0 + timedelta(minutes=5) and row.note == "published on the status page"
    assert status_page_row(re_rated).due_at == T0 + timedelta(minutes=15)

    run(5, 70)
    assert reminders(published) == [] and reminders(optional) == []
    assert len(reminders(re_rated)) == 1


@pytest.mark.django_db
def test_resolving_cancels_the_reminder(facing, commander):
    with at(0):
        incident = IncidentFactory(severity=severity("SEV-3"), services=[facing], actor=commander, commander=commander)
    with at(10):
        actions.acknowledge(incident, actor=commander, source=ADMIN)
        actions.resolve(incident, actor=commander, source=ADMIN, summary="Fixed")
    assert status_page_row(incident).cancelled_at == T0 + timedelta(minutes=10)
    run(60, 61)
    assert reminders(incident) == []


@pytest.mark.django_db
def test_a_severity_kept_off_the_status_page_never_asks_to_publish(facing, commander):
    """A window on a severity that does not show on the status page would chase a publication
    that cannot happen: no reminder is planned."""
    SeverityLevel.objects.filter(name="SEV-3").update(show_on_status_page=False)
    with at(0):
        incident = IncidentFactory(severity=severity("SEV-3"), services=[facing], actor=commander, commander=commander)
    assert not incident.deadlines.filter(kind=Deadline.Kind.STATUS_PAGE).exists()
    run(60, 61)
    assert reminders(incident) == []
