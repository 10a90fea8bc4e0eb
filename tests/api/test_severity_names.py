"""An organisation's own severity names, everywhere a severity is typed.

The organisation renames SEV-1…SEV-4 to P0…P3 (Critical, High, Medium, Low) on the admin's severity
pages, as its procedure names them. Then its people type those names, labels or ranks, in any
case: in Slack (`/incident create P0 …`, `/incident severity …`), through the API (declare, patch,
the list's filter) and in the admin's search. Refusals list P0…P3, and help shows them, never SEV-1.
"""

import pytest
from django.urls import reverse

from comms.models import MessageKind, Notification
from incidents.models import Incident, SeverityLevel, Source, TimelineEvent
from tests.admin_forms import form_data
from tests.api.keys import auth
from tests.api.test_chat_api import SECRET, post_slack, signed, slack_form
from tests.comms.delivery import dispatch_all, tick_and_dispatch
from tests.comms.factories import ContactMethodFactory
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import UserFactory, staff_default_policy

pytestmark = pytest.mark.usefixtures("fresh_rate_windows")

PROCEDURE = {"SEV-1": ("P0", "Critical"), "SEV-2": ("P1", "High"), "SEV-3": ("P2", "Medium"), "SEV-4": ("P3", "Low")}
NAMES_THERE_ARE = "use one of P0 (Critical), P1 (High), P2 (Medium), P3 (Low) or a rank 1–4."
INCIDENTS = "/api/v1/incidents"


@pytest.fixture
def root(db):
    return UserFactory(username="root", superuser=True)


@pytest.fixture
def renamed(client, root):
    """The severity levels renamed on their admin pages, as the organisation's admin would."""
    client.force_login(root)
    for seeded, (name, label) in PROCEDURE.items():
        url = reverse("admin:incidents_severitylevel_change", args=[severity(seeded).pk])
        response = client.post(url, form_data(client.get(url), name=name, label=label))
        assert response.status_code == 302, response.context["adminform"].form.errors
    client.logout()
    assert list(SeverityLevel.objects.values_list("name", "label")) == list(PROCEDURE.values())


@pytest.fixture
def slack(settings, renamed, responder, commander):
    """Slack as the responder (member U0RESPOND1) and the commander (U0IC000001) type in it."""
    settings.SLACK_SIGNING_SECRET = SECRET
    ContactMethodFactory(user=responder, channel="chat", address="U0RESPOND1")
    ContactMethodFactory(user=commander, channel="chat", address="U0IC000001")


def type_in_slack(client, text, *, user_id="U0RESPOND1"):
    body = slack_form(text, user_id=user_id, user_name="")
    response = post_slack(client, body, signed(body))
    assert response.status_code == 200
    return response.json()


# --- Chat ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_p0_in_slack_declares_a_p0_that_pages_on_call_in_its_name(client, slack, responder):
    oncall = UserFactory(username="oncall", email="oncall@example.com")
    staff_default_policy(oncall)

    reply = type_in_slack(client, "create P0 Checkout down")

    incident = Incident.objects.get()
    assert (incident.severity.name, incident.title, incident.created_by) == ("P0", "Checkout down", responder)
    assert reply["response_type"] == "in_channel"
    assert f"declared *{incident.reference}* · P0 · Checkout down" in reply["text"]
    declared = incident.timeline.get(kind=TimelineEvent.Kind.DECLARED)
    assert (declared.source, declared.actor) == (Source.CHAT, responder)
    assert declared.message == f"{responder} declared P0 {incident.reference}: Checkout down"
    dispatch_all()
    tick_and_dispatch()
    pages = Notification.objects.filter(incident=incident, recipient=oncall, kind=MessageKind.PAGE)
    assert pages.exists()
    for page in pages:
        assert "P0" in page.subject + page.body and "SEV-" not in page.subject + page.body


@pytest.mark.django_db
@pytest.mark.parametrize("typed, name", [("critical", "P0"), ("p1", "P1"), ("3", "P2"), ("Low", "P3"), ("p 0", "P0")])
def test_a_label_a_lower_case_name_or_a_rank_declares_too(client, slack, typed, name):
    reply = type_in_slack(client, f"create {typed} Search is slow")
    incident = Incident.objects.get()
    assert (incident.severity.name, incident.title) == (name, "Search is slow")
    assert f"· {name} · Search is slow" in reply["text"]


@pytest.mark.django_db
def test_the_severity_command_takes_the_new_names(client, slack, responder, commander):
    incident = IncidentFactory(actor=responder, severity=severity("P2"), commander=commander)
    reply = type_in_slack(client, f"severity {incident.reference} critical", user_id="U0IC000001")
    assert f"escalated {incident.reference} P2 → *P0*" in reply["text"]
    changed = incident.timeline.get(kind=TimelineEvent.Kind.SEVERITY_CHANGED)
    assert changed.source == Source.CHAT and "P2 → P0" in changed.message
    assert Incident.objects.get(pk=incident.pk).severity.name == "P0"


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["create P7 Checkout down", "create SEV-1 Checkout down"])
def test_an_unknown_name_is_refused_naming_p0_to_p3(client, slack, text):
    typed = text.split()[1]
    reply = type_in_slack(client, text)
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith(f":warning: Unknown severity '{typed}'; {NAMES_THERE_ARE}")
    assert "e.g. `create P1 Checkout errors`" in reply["text"]
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_help_shows_the_organisations_names(client, slack):
    reply = type_in_slack(client, "help")
    assert "`create P1 Checkout errors`" in reply["text"] and "`severity INC-42 P0`" in reply["text"]
    assert f"a severity is {NAMES_THERE_ARE.removeprefix('use one of ').removesuffix('.')}" in reply["text"]
    assert "SEV-" not in reply["text"]
    assert "SEV-" not in type_in_slack(client, "help severity")["text"]


# --- The API -------------------------------------------------------------------------------------


def post(client, headers, body):
    return client.post(INCIDENTS, body, content_type="application/json", **headers)


@pytest.mark.django_db
def test_the_api_declares_patches_and_filters_by_the_new_names(client, renamed, commander):
    headers = auth(commander)
    p0 = post(client, headers, {"title": "Checkout down", "severity": "p0"})
    critical = post(client, headers, {"title": "Payments down", "severity": "Critical"})
    assert p0.status_code == critical.status_code == 201
    assert p0.json()["severity"] == critical.json()["severity"] == {"name": "P0", "rank": 1, "label": "Critical"}
    high = post(client, headers, {"title": "Search slow", "severity": "high"}).json()
    low = post(client, headers, {"title": "Typo", "severity": "4"}).json()
    patched = client.patch(
        f"{INCIDENTS}/{critical.json()['reference']}", {"severity": "P 2"}, content_type="application/json", **headers
    )
    assert patched.status_code == 200 and patched.json()["severity"]["name"] == "P2"

    listed = client.get(INCIDENTS, {"severity": "P1,critical"}, **headers)
    assert {i["reference"] for i in listed.json()["items"]} == {p0.json()["reference"], high["reference"]}
    assert low["severity"]["name"] == "P3"


@pytest.mark.django_db
def test_the_api_refuses_an_unknown_name_with_a_422_listing_the_names(client, renamed, commander):
    headers = auth(commander)
    for response in (
        post(client, headers, {"title": "Down", "severity": "SEV-1"}),
        client.get(INCIDENTS, {"severity": "P1,SEV-1"}, **headers),
    ):
        assert response.status_code == 422
        assert response.json()["errors"] == [{"field": "severity", "message": f"Unknown severity 'SEV-1'; {NAMES_THERE_ARE}"}]
    assert not Incident.objects.exists()


# --- The admin -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_filters_and_searches_by_the_new_names_and_says_them_in_help(client, renamed, root, commander):
    p0 = IncidentFactory(actor=commander, severity=severity("P0"), title="Checkout down")
    IncidentFactory(actor=commander, severity=severity("P3"), title="Typo")
    client.force_login(root)
    page = client.get(reverse("admin:incidents_incident_changelist"))
    severity_filter = next(spec for spec in page.context["cl"].filter_specs if spec.title == "severity")
    assert [label for _, label in severity_filter.lookup_choices] == ["P0 Critical", "P1 High", "P2 Medium", "P3 Low"]
    for term in ("p0", "Critical", "P-0"):
        found = client.get(reverse("admin:incidents_incident_changelist"), {"q": term}).context["cl"].result_list
        assert [incident.pk for incident in found] == [p0.pk], term
    form = client.get(reverse("admin:incidents_integration_add")).context["adminform"].form
    assert form.fields["critical_severity"].help_text == "Empty: P0 (Critical)."
    assert form.fields["info_severity"].help_text == "Empty: P3 (Low)."
