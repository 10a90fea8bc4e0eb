"""The operator's admin, through the test client as real users: list, declare page, incident page
and its operations. Every change must arrive through an action and show up on the timeline."""

import re
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse

from incidents import actions
from incidents.errors import InvalidInput
from incidents.formatting import badge, duration
from incidents.models import EvidenceLink, Incident, IncidentType, Participant, Source, Status, TimelineEvent
from tests.incidents.factories import IncidentFactory, IncidentTypeFactory, ServiceFactory, incident_type, publish_postmortem
from tests.oncall.factories import UserFactory
from tests.pages import messages_of

Kind = TimelineEvent.Kind
LIST_URL = reverse("admin:incidents_incident_changelist")
DECLARE_URL = reverse("admin:incidents_incident_add")


def page_url(incident) -> str:
    return reverse("admin:incidents_incident_change", args=[incident.pk])


def details_url(incident) -> str:
    return reverse("admin:incidents_incident_details", args=[incident.pk])


def op_url(incident, operation: str) -> str:
    return reverse("admin:incidents_incident_operate", args=[incident.pk, operation])


def listed(response) -> set[int]:
    return {incident.number for incident in response.context["cl"].result_list}


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", superuser=True)


def operate(client, incident, operation: str, **fields):
    """POST one operation form of the incident page (fields prefixed as the page prefixes them) and
    follow the redirect back to the page, where the outcome is shown as a message."""
    data = {f"{operation}-{name}": value for name, value in fields.items()}
    response = client.post(op_url(incident, operation), data, follow=True)
    incident.refresh_from_db()
    return response


def kinds(incident) -> list[str]:
    return list(incident.timeline.values_list("kind", flat=True))


# --- formatting -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "delta, text",
    [
        (None, "—"),
        (timedelta(seconds=45), "45 s"),
        (timedelta(minutes=5, seconds=59), "5 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=2, minutes=10), "2 h 10 min"),
        (timedelta(days=3, hours=4, minutes=59), "3 d 4 h"),
        (timedelta(days=14), "14 d"),
        (timedelta(minutes=-3), "-3 min"),
    ],
)
def test_durations_read_as_an_operator_says_them(delta, text):
    assert duration(delta) == text


def test_badges_escape_labels_and_only_take_hex_colours():
    html = badge("<b>SEV-1</b>", "red;background:url(https://evil.example)")
    assert "&lt;b&gt;SEV-1&lt;/b&gt;" in html
    assert "background-color:#666666" in html and "evil" not in html
    assert "color:#000" in badge("Identified", "#ffb300") and "color:#fff" in badge("Triggered", "#c62828")


# --- the list ---------------------------------------------------------------------------------------


@pytest.fixture
def many_incidents(db, commander, responder, service, sev1, sev2):
    """200 incidents of every kind: open and resolved, restricted, with services and commanders."""
    other = ServiceFactory(name="Search", slug="search")
    for n in range(200):
        incident = actions.declare(
            title=f"Incident {n}",
            severity=sev1 if n % 2 else sev2,
            services=[service, other] if n % 3 else [other],
            commander=commander if n % 4 else None,
            is_restricted=n % 5 == 0,
            is_drill=n % 7 == 0,
            actor=commander,
            source=Source.ADMIN,
        )
        if n % 10 == 0:
            actions.assign_role(incident, responder, Participant.Role.SCRIBE, actor=commander, source=Source.ADMIN)
        if n % 6 == 0:
            actions.post_update(incident, "Still digging", actor=commander, source=Source.ADMIN)
        if n % 8 == 0:
            actions.resolve(incident, actor=commander, source=Source.ADMIN, summary="Fixed")


@pytest.mark.parametrize("limit", [10_000, 20])  # counted exactly; past the limit, estimated (PostgreSQL)
@pytest.mark.parametrize("who", ["superuser", "responder", "commander"])
def test_list_page_queries_do_not_grow_with_rows(
    request, as_user, many_incidents, sev2, django_assert_max_num_queries, who, limit, settings
):
    settings.VIGIL_ADMIN_EXACT_COUNT_LIMIT = limit
    # The page's 12, and on PostgreSQL the planner's estimate (asked first; past the limit it
    # replaces the count, below it the count follows).
    bound = 13
    client = as_user(request.getfixturevalue(who))
    with django_assert_max_num_queries(bound):
        response = client.get(LIST_URL)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 50
    with django_assert_max_num_queries(bound):
        response = client.get(LIST_URL, {"status": Status.TRIGGERED, "severity__id__exact": sev2.pk})
    assert response.status_code == 200
    # A search adds one small query: the severities the text may name, as ids, so that the title's
    # index still serves the search (a subquery OR'd with the title would read the whole table).
    with django_assert_max_num_queries(bound + 1):
        response = client.get(LIST_URL, {"state": "open", "mine": "yes", "q": "Incident", "p": 1})
    assert response.status_code == 200


def test_list_shows_badges_commander_services_and_declare_button(as_user, commander, incident):
    response = as_user(commander).get(LIST_URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert f">{incident.reference}<" in html
    assert "SEV-2" in html and "background-color:#e65100" in html  # the severity's own colour
    assert "Triggered" in html and "background-color:#c62828" in html
    assert str(commander) in html
    assert "Checkout API" in html
    assert "Declare incident" in html
    assert "Add incident" not in html


def test_list_filters(as_user, commander, responder, service, sev1):
    other = ServiceFactory(name="Search", slug="search")
    triggered = IncidentFactory(actor=commander, services=[service], severity=sev1)
    resolved = IncidentFactory(actor=commander, resolved=True, services=[other])
    closed = IncidentFactory(actor=commander, closed=True, incident_type=incident_type("performance"))
    drill = IncidentFactory(actor=commander, acknowledged=True, is_drill=True)
    mine = IncidentFactory(actor=commander)
    actions.assign_role(mine, responder, Participant.Role.TECHNICAL_LEAD, actor=commander, source=Source.ADMIN)
    left = IncidentFactory(actor=commander)
    held = actions.assign_role(left, responder, Participant.Role.SCRIBE, actor=commander, source=Source.ADMIN)
    actions.release_role(held, actor=commander, source=Source.ADMIN)
    client = as_user(responder)

    def numbers(**params):
        response = client.get(LIST_URL, params)
        assert response.status_code == 200
        return listed(response)

    everything = {i.number for i in (triggered, resolved, closed, drill, mine, left)}
    assert numbers() == everything
    assert numbers(state="open") == everything - {resolved.number, closed.number}
    assert numbers(state="closed") == {resolved.number, closed.number}
    assert numbers(mine="yes") == {mine.number}
    assert numbers(is_drill__exact="1") == {drill.number}
    assert numbers(status__exact="resolved") == {resolved.number}
    assert numbers(severity__id__exact=sev1.pk) == {triggered.number}
    assert numbers(services__id__exact=other.pk) == {resolved.number}
    assert numbers(incident_type__id__exact=incident_type("performance").pk) == {closed.number}


def test_search_by_reference_or_title(as_user, commander):
    target = IncidentFactory(actor=commander, title="Payments are slow")
    other = IncidentFactory(actor=commander, title="Search is down")
    client = as_user(commander)
    for term in (target.reference, target.reference.lower(), str(target.number), f" INC{target.number} "):
        assert listed(client.get(LIST_URL, {"q": term})) == {target.number}, term
    assert listed(client.get(LIST_URL, {"q": "search down"})) == {other.number}


def test_search_by_severity_name_or_label_also_finds_titles(as_user, commander, sev1):
    gravest = IncidentFactory(actor=commander, title="Payments are down", severity=sev1)
    worded = IncidentFactory(actor=commander, title="Critical path slow")
    IncidentFactory(actor=commander, title="Search is down")
    client = as_user(commander)
    for term in ("SEV-1", "sev 1", "sev1"):
        assert listed(client.get(LIST_URL, {"q": term})) == {gravest.number}, term
    assert listed(client.get(LIST_URL, {"q": "critical"})) == {gravest.number, worded.number}
    assert listed(client.get(LIST_URL, {"q": "payments critical"})) == set()  # not one severity: title words


def test_sla_badge_on_time_then_breached(as_user, commander, sev1):
    start = datetime(2025, 3, 3, 9, 0, tzinfo=dt_timezone.utc)
    client = as_user(commander)
    with time_machine.travel(start, tick=False) as traveller:
        IncidentFactory(actor=commander, severity=sev1)
        html = client.get(LIST_URL).content.decode()
        assert "on time: acknowledge" in html
        assert "breached" not in html

        traveller.shift(timedelta(minutes=10))
        html = client.get(LIST_URL).content.decode()
        assert "breached: acknowledge" in html
        assert ">10 min<" in html  # the age column


def test_resolved_incident_shows_how_long_it_lasted(as_user, commander):
    start = datetime(2025, 3, 3, 9, 0, tzinfo=dt_timezone.utc)
    with time_machine.travel(start, tick=False) as traveller:
        incident = IncidentFactory(actor=commander, acknowledged=True)
        traveller.shift(timedelta(hours=2, minutes=10))
        actions.resolve(incident, actor=commander, source=Source.ADMIN, summary="Fixed")
        traveller.shift(timedelta(days=1))
        html = as_user(commander).get(LIST_URL).content.decode()
    assert "lasted 2 h 10 min" in html


# --- declaring -----------------------------------------------------------------------------------


def test_declare_creates_the_incident_with_its_checklist(as_user, commander, service, sev1):
    availability = incident_type("availability")
    client = as_user(commander)
    assert client.get(DECLARE_URL).status_code == 200
    response = client.post(
        DECLARE_URL,
        {
            "title": "Checkout returns 500s",
            "severity": sev1.pk,
            "incident_type": availability.pk,
            "services": [service.pk],
            "summary": "Error rate 40%",
            "commander": commander.pk,
            "detected_at_0": "",
            "detected_at_1": "",
        },
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == page_url(incident)
    assert messages_of(response) == [f"{incident.reference} declared."]
    assert incident.title == "Checkout returns 500s" and incident.severity == sev1
    assert incident.customer_facing  # derived from the service by actions.declare
    assert list(incident.tasks.values_list("title", flat=True)) == availability.checklist
    assert incident.participants.get(left_at=None).user == commander
    assert incident.timeline.filter(kind=Kind.DECLARED, source=Source.ADMIN, actor=commander).exists()


def test_declare_reads_detection_time_in_the_users_zone_and_keeps_security_restricted(as_user, sev2):
    tokyo = UserFactory(username="tokyo", commander=True, time_zone="Asia/Tokyo")
    with time_machine.travel(datetime(2025, 3, 3, 9, 0, tzinfo=dt_timezone.utc), tick=False):
        response = as_user(tokyo).post(
            DECLARE_URL,
            {
                "title": "Credentials in a public repo",
                "severity": sev2.pk,
                "incident_type": incident_type("security").pk,
                "detected_at_0": "2025-03-03",
                "detected_at_1": "17:30",
            },
        )
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.detected_at == datetime(2025, 3, 3, 8, 30, tzinfo=dt_timezone.utc)
    assert incident.is_restricted  # the type says so, even unticked
    # Commander left blank: the declarer joins as a responder, so the restricted incident stays theirs to see.
    assert [(p.user, p.role) for p in incident.participants.all()] == [(tokyo, "responder")]


def test_declare_refuses_a_blank_title_and_creates_nothing(as_user, commander, sev1):
    response = as_user(commander).post(DECLARE_URL, {"title": "  ", "severity": sev1.pk})
    assert response.status_code == 200
    assert "title" in response.context["adminform"].form.errors
    assert "This field is required." in response.content.decode()
    assert not Incident.objects.exists()


def test_declare_shows_a_domain_refusal_as_a_form_error(as_user, commander, sev1):
    with time_machine.travel(datetime(2025, 3, 3, 9, 0, tzinfo=dt_timezone.utc), tick=False):
        response = as_user(commander).post(
            DECLARE_URL, {"title": "Future", "severity": sev1.pk, "detected_at_0": "2025-03-04", "detected_at_1": "09:00"}
        )
    assert response.status_code == 200
    assert "The detection time is in the future." in response.content.decode()
    assert not Incident.objects.exists()


def test_viewer_cannot_declare(as_user, viewer, sev1):
    client = as_user(viewer)
    assert client.get(DECLARE_URL).status_code == 403
    assert client.post(DECLARE_URL, {"title": "x", "severity": sev1.pk}).status_code == 403
    assert "Declare incident" not in client.get(LIST_URL).content.decode()
    assert not Incident.objects.exists()


# --- the incident page ------------------------------------------------------------------------


def test_page_shows_the_timeline_newest_first_with_actor_names(as_user, commander, responder, incident):
    actions.add_note(incident, "First look: pool exhausted", actor=responder, source=Source.CHAT)
    actions.post_update(incident, "Customers see errors", actor=commander, source=Source.ADMIN, visibility="external")
    html = as_user(commander).get(page_url(incident)).content.decode()
    timeline = html[html.index('id="timeline"') :]
    update, note, declared = (timeline.index(text) for text in ("Customers see errors", "First look", "declared SEV-2"))
    assert update < note < declared
    assert str(responder) in timeline and str(commander) in timeline
    assert ">external<" in timeline and ">Chat<" in timeline


def test_page_shows_times_in_the_users_time_zone(as_user, sev2):
    tokyo = UserFactory(username="tokyo", commander=True, time_zone="Asia/Tokyo")
    with time_machine.travel(datetime(2025, 3, 3, 23, 15, tzinfo=dt_timezone.utc), tick=False):
        incident = IncidentFactory(actor=tokyo, severity=sev2)
        html = as_user(tokyo).get(page_url(incident)).content.decode()
    assert "2025-03-04 08:15" in html  # declared, in Tokyo
    assert "Asia/Tokyo" in html


def test_page_queries_are_bounded_with_a_long_timeline(as_user, commander, incident, django_assert_max_num_queries):
    for n in range(100):
        actions.add_note(incident, f"Note {n}", actor=commander, source=Source.ADMIN)
    client = as_user(commander)
    with django_assert_max_num_queries(20):
        response = client.get(page_url(incident))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("Note ") == 50 and "Note 99" in html and "Note 49<" not in html  # the latest 50, then "show older"


def test_operations_need_the_csrf_token(commander, incident):
    client = Client(enforce_csrf_checks=True)
    client.force_login(commander)
    assert client.post(op_url(incident, "acknowledge")).status_code == 403
    incident.refresh_from_db()
    assert incident.status == Status.TRIGGERED


def test_operation_get_is_refused(as_user, commander, incident):
    assert as_user(commander).get(op_url(incident, "acknowledge")).status_code == 405


def test_unknown_operation_and_unknown_incident_are_404(as_user, commander, incident):
    client = as_user(commander)
    assert client.post(op_url(incident, "delete_everything")).status_code == 404
    assert client.get(reverse("admin:incidents_incident_change", args=[999999])).status_code == 404
    assert client.get(reverse("admin:incidents_incident_change", args=["nope"])).status_code == 404


def test_incidents_cannot_be_deleted(as_user, superuser, incident):
    response = as_user(superuser).get(reverse("admin:incidents_incident_delete", args=[incident.pk]))
    assert response.status_code == 403
    assert Incident.objects.filter(pk=incident.pk).exists()


# --- operations ---------------------------------------------------------------------------------


def test_acknowledge(as_user, commander, incident):
    response = operate(as_user(commander), incident, "acknowledge")
    assert response.redirect_chain == [(page_url(incident), 302)]
    assert messages_of(response) == [f"{incident.reference} acknowledged."]
    assert incident.status == Status.INVESTIGATING and incident.acknowledged_at
    event = incident.timeline.first()
    assert (event.kind, event.actor, event.source) == (Kind.ACKNOWLEDGED, commander, Source.ADMIN)


@pytest.mark.parametrize("visibility", ["internal", "external"])
def test_post_update(as_user, commander, incident, visibility):
    actions.acknowledge(incident, actor=commander, source=Source.ADMIN)
    response = operate(as_user(commander), incident, "post_update", text="DB failover started", visibility=visibility, status="identified")
    assert messages_of(response) == [f"{visibility.capitalize()} update posted on {incident.reference}."]
    update = incident.timeline.get(kind=Kind.STATUS_UPDATE)
    assert (update.message, update.visibility) == ("DB failover started", visibility)
    assert incident.status == Status.IDENTIFIED


@pytest.mark.parametrize(
    "visibility, status, said",
    [("internal", "investigating", "Internal update posted; {ref} acknowledged."),
     ("external", "identified", "External update posted; {ref} acknowledged, now identified.")],
)
def test_an_update_that_moves_a_triggered_incident_says_it_acknowledged_it(as_user, responder, incident, visibility, status, said):
    response = operate(as_user(responder), incident, "post_update", text="Looking at the database", visibility=visibility, status=status)
    assert messages_of(response) == [said.format(ref=incident.reference)]
    assert incident.status == status and incident.acknowledged_at is not None
    acknowledged = incident.timeline.get(kind=Kind.ACKNOWLEDGED)
    assert (acknowledged.actor, acknowledged.source) == (responder, Source.ADMIN)
    assert incident.participants.filter(user=responder, left_at=None).exists()


def test_an_update_alone_says_the_incident_is_still_unacknowledged(as_user, responder, incident):
    response = operate(as_user(responder), incident, "post_update", text="Looking", visibility="internal")
    assert messages_of(response) == [
        f"Internal update posted on {incident.reference}; it is still not acknowledged, so paging goes on."
    ]
    assert incident.status == Status.TRIGGERED and incident.acknowledged_at is None


def test_the_update_form_says_when_it_acknowledges(as_user, commander, incident):
    client = as_user(commander)
    said = f"{incident.reference} is not acknowledged yet. Choosing a status also acknowledges it"
    assert said in client.get(page_url(incident)).content.decode()
    actions.acknowledge(incident, actor=commander, source=Source.ADMIN)
    assert "Choosing a status also acknowledges" not in client.get(page_url(incident)).content.decode()


def test_post_update_without_text_is_a_form_error(as_user, commander, incident):
    before = kinds(incident)
    response = operate(as_user(commander), incident, "post_update", text="", visibility="internal")
    assert messages_of(response) == ["Update: This field is required."]
    assert kinds(incident) == before


def test_change_status(as_user, commander, incident):
    actions.acknowledge(incident, actor=commander, source=Source.ADMIN)
    operate(as_user(commander), incident, "change_status", status="monitoring", message="Fix deployed")
    assert incident.status == Status.MONITORING and incident.mitigated_at
    assert incident.timeline.first().message == "Status investigating → monitoring: Fix deployed"


def test_change_status_refuses_a_status_not_offered(as_user, commander, incident):
    response = operate(as_user(commander), incident, "change_status", status="closed")
    assert "Select a valid choice" in messages_of(response)[0]
    assert incident.status == Status.TRIGGERED


def test_change_severity(as_user, commander, incident, sev1):
    response = operate(as_user(commander), incident, "change_severity", severity=sev1.pk, reason="All regions down")
    assert messages_of(response) == [f"{incident.reference} is now SEV-1."]
    assert incident.severity == sev1
    assert incident.timeline.first().message == "Severity escalated SEV-2 → SEV-1: All regions down"


def test_assign_role_hands_over_the_commander(as_user, commander, incident):
    successor = UserFactory(username="next-ic", commander=True)
    client = as_user(commander)
    response = operate(client, incident, "assign_role", user=successor.pk, role="commander")
    assert messages_of(response) == [f"{successor} is now incident commander."]
    roles = {(p.user, p.left_at is None) for p in incident.participants.filter(role="commander")}
    assert roles == {(commander, False), (successor, True)}
    html = client.get(page_url(incident)).content.decode()
    people = html[html.index('id="participants"') : html.index('id="tasks"')]
    assert str(commander) in people and str(successor) in people
    assert f"{successor} is now incident commander, taking over from {commander}" in html


def test_release_role(as_user, commander, responder, incident):
    held = actions.assign_role(incident, responder, Participant.Role.SCRIBE, actor=commander, source=Source.ADMIN)
    response = operate(as_user(commander), incident, "release_role", participant=held.pk)
    assert messages_of(response) == [f"{responder} is no longer scribe."]
    held.refresh_from_db()
    assert held.left_at is not None
    assert incident.timeline.first().kind == Kind.ROLE_RELEASED


def test_release_of_another_incidents_participant_is_refused(as_user, commander, incident):
    elsewhere = IncidentFactory(actor=commander, commander=commander)
    stranger = elsewhere.participants.get()
    response = operate(as_user(commander), incident, "release_role", participant=stranger.pk)
    assert "Select a valid choice" in messages_of(response)[0]
    stranger.refresh_from_db()
    assert stranger.left_at is None


def test_add_note(as_user, responder, incident):
    response = operate(as_user(responder), incident, "add_note", text="Rolled back 1.4.2")
    assert messages_of(response) == ["Note added."]
    note = incident.timeline.first()
    assert (note.kind, note.message, note.actor) == (Kind.NOTE, "Rolled back 1.4.2", responder)


def test_tasks_add_done_and_undo(as_user, commander, incident):
    client = as_user(commander)
    operate(client, incident, "add_task", title="Call the vendor")
    task = incident.tasks.get(title="Call the vendor")
    operate(client, incident, "task_done", task=task.pk, done="true")
    task.refresh_from_db()
    assert task.is_done and task.done_by == commander
    html = client.get(page_url(incident)).content.decode()
    assert 'class="vigil-done">Call the vendor' in html
    response = operate(client, incident, "task_done", task=task.pk, done="false")
    assert messages_of(response) == ["Task reopened: Call the vendor"]
    task.refresh_from_db()
    assert not task.is_done
    assert kinds(incident)[:3] == [Kind.TASK_REOPENED, Kind.TASK_DONE, Kind.TASK_ADDED]


def test_add_evidence(as_user, responder, incident):
    response = operate(
        as_user(responder), incident, "add_evidence", url="https://grafana.example.com/d/1", kind="dashboard", title="Errors"
    )
    assert messages_of(response) == ["Dashboard added: Errors"]
    link = incident.evidence.get()
    assert (link.url, link.added_by) == ("https://grafana.example.com/d/1", responder)
    assert "https://grafana.example.com/d/1" in as_user(responder).get(page_url(incident)).content.decode()


def test_evidence_must_be_a_web_link(as_user, responder, incident):
    response = operate(as_user(responder), incident, "add_evidence", url="javascript:alert(1)", kind="other")
    assert messages_of(response) == ["Link: Enter a valid URL."]
    assert not EvidenceLink.objects.exists()


def operation_card(response, operation: str) -> str:
    """The HTML of one operation's card on the incident page: its form, with the summary that names
    it when the side panel folds it."""
    found = re.search(
        rf'(?:<details[^>]*>\s*<summary>[^<]*</summary>\s*)?<form[^>]*id="op-{operation}".*?</form>', response.content.decode(), re.S
    )
    assert found, f"no {operation} card"
    return found.group(0)


def text_of_html(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_resolve_reopen_and_close(as_user, commander):
    client = as_user(commander)
    start = datetime(2025, 3, 3, 9, 0, tzinfo=dt_timezone.utc)
    with time_machine.travel(start, tick=False) as traveller:
        incident = IncidentFactory(actor=commander, commander=commander)
        actions.acknowledge(incident, actor=commander, source=Source.ADMIN)
        response = operate(client, incident, "resolve", summary="Rolled back", mitigation="rollback")
        assert messages_of(response) == [f"{incident.reference} resolved."]
        assert (incident.status, incident.mitigation, incident.resolution_summary) == (Status.RESOLVED, "rollback", "Rolled back")

        response = operate(client, incident, "reopen", reason="")
        assert messages_of(response) == ["Reason: This field is required."]
        assert incident.status == Status.RESOLVED

        response = operate(client, incident, "reopen", reason="Errors are back")
        assert messages_of(response) == [f"{incident.reference} reopened."]
        assert incident.status == Status.INVESTIGATING

        operate(client, incident, "resolve", summary="Really fixed")
        before = kinds(incident)
        response = operate(client, incident, "close")  # SEV-2 is watched for 12 h
        assert "is under observation until" in messages_of(response)[0]
        assert incident.status == Status.RESOLVED and kinds(incident) == before
        # The page says when it can be closed instead of offering a button that would be refused.
        card = operation_card(client.get(page_url(incident)), "close")
        assert text_of_html(card) == "Close Can be closed from Mon 03 Mar 21:00 (observation period)."
        assert 'type="submit"' not in card

        traveller.shift(timedelta(hours=13))
        publish_postmortem(incident)  # SEV-2 also needs its post-mortem published
        response = operate(client, incident, "close")
        assert messages_of(response) == [f"{incident.reference} closed."]
        assert incident.status == Status.CLOSED


def test_an_illegal_step_shows_the_error_and_changes_nothing(as_user, commander):
    incident = IncidentFactory(actor=commander, commander=commander, resolved=True)
    before = kinds(incident)
    response = operate(as_user(commander), incident, "acknowledge")
    assert response.redirect_chain == [(page_url(incident), 302)]
    assert messages_of(response) == [f"{incident.reference} is resolved; only a triggered incident can be acknowledged."]
    assert incident.status == Status.RESOLVED and kinds(incident) == before


def test_page_offers_only_what_fits_the_status(as_user, commander):
    client = as_user(commander)
    triggered = IncidentFactory(actor=commander)
    html = client.get(page_url(triggered)).content.decode()
    assert 'id="op-acknowledge"' in html and 'id="op-resolve"' in html
    assert 'id="op-reopen"' not in html and 'id="op-close"' not in html

    resolved = IncidentFactory(actor=commander, resolved=True)
    html = client.get(page_url(resolved)).content.decode()
    assert 'id="op-reopen"' in html and 'id="op-close"' in html
    assert 'id="op-acknowledge"' not in html and 'id="op-resolve"' not in html
    assert 'id="op-change_status"' not in html  # back to investigating is a reopen, with a reason
    assert 'value="investigating"' not in html  # nor may an update reopen it

    closed = IncidentFactory(actor=commander, closed=True)
    html = client.get(page_url(closed)).content.decode()
    assert re.findall(r'id="op-(\w+)"', html) == ["add_note"]
    assert 'name="_save"' not in client.get(details_url(closed)).content.decode()  # a closed incident's details are final


# --- permissions and visibility ---------------------------------------------------------------


def test_viewer_sees_the_page_but_no_operations(as_user, viewer, incident):
    client = as_user(viewer)
    response = client.get(page_url(incident))
    html = response.content.decode()
    assert response.status_code == 200
    assert "/do/" not in html and 'name="_save"' not in client.get(details_url(incident)).content.decode()
    for operation in ("acknowledge", "add_note", "post_update", "resolve", "add_evidence"):
        assert operate(client, incident, operation, text="x").status_code == 403, operation
    assert incident.status == Status.TRIGGERED and kinds(incident) == [Kind.ROLE_ASSIGNED, Kind.DECLARED]


def test_responder_responds_but_does_not_command(as_user, responder, incident, sev1):
    client = as_user(responder)
    html = client.get(page_url(incident)).content.decode()
    assert 'id="op-acknowledge"' in html and 'id="op-post_update"' in html
    assert 'id="op-resolve"' not in html and 'id="op-change_severity"' not in html

    operate(client, incident, "acknowledge")
    operate(client, incident, "post_update", text="Looking", visibility="internal")
    assert incident.status == Status.INVESTIGATING
    assert operate(client, incident, "resolve", summary="done").status_code == 403
    assert operate(client, incident, "change_severity", severity=sev1.pk).status_code == 403
    assert incident.status == Status.INVESTIGATING and incident.severity.name == "SEV-2"


def test_a_responder_who_becomes_commander_may_command(as_user, commander, responder, incident):
    actions.assign_role(incident, responder, Participant.Role.COMMANDER, actor=commander, source=Source.ADMIN)
    operate(as_user(responder), incident, "resolve", summary="Fixed")
    assert incident.status == Status.RESOLVED


def test_restricted_incident_is_hidden_from_outsiders(as_user, commander, responder, manager):
    secret = IncidentFactory(actor=commander, commander=commander, incident_type=incident_type("security"))
    public = IncidentFactory(actor=commander)
    assert secret.is_restricted

    client = as_user(responder)
    assert listed(client.get(LIST_URL)) == {public.number}
    assert listed(client.get(LIST_URL, {"q": secret.reference})) == set()
    assert client.get(page_url(secret)).status_code == 404
    assert client.post(op_url(secret, "add_note"), {"add_note-text": "hi"}).status_code == 404

    actions.assign_role(secret, responder, Participant.Role.SUBJECT_MATTER_EXPERT, actor=commander, source=Source.ADMIN)
    assert listed(client.get(LIST_URL)) == {public.number, secret.number}
    assert client.get(page_url(secret)).status_code == 200

    manager_client = as_user(manager)
    assert secret.number in listed(manager_client.get(LIST_URL))
    assert manager_client.get(page_url(secret)).status_code == 200


# --- editing details ------------------------------------------------------------------------------


def details(incident, **changes) -> dict:
    """The details form as the page would post it back unchanged, with `changes` applied."""
    data = {
        "title": incident.title,
        "summary": incident.summary,
        "incident_type": incident.incident_type_id or "",
        "origin": incident.origin,
        "services": [s.pk for s in incident.services.all()],
        "detected_at_0": "",
        "detected_at_1": "",
        "users_affected_estimated": incident.users_affected_estimated or "",
        "users_affected_confirmed": incident.users_affected_confirmed or "",
        "regions": ", ".join(incident.regions),
        "revenue_impact": incident.revenue_impact,
        "reputation_impact": incident.reputation_impact,
        "compliance_impact": incident.compliance_impact,
        "impact_description": incident.impact_description,
        "mitigation": incident.mitigation,
        "mitigation_notes": incident.mitigation_notes,
        "resolution_summary": incident.resolution_summary,
        "_continue": "1",
    }
    flags = {name: getattr(incident, name) for name in ("customer_facing", "public_on_status_page", "is_restricted", "is_drill")}
    flags.update({k: v for k, v in changes.items() if k in flags})
    data.update({k: v for k, v in changes.items() if k not in flags})
    data.update({name: "on" for name, on in flags.items() if on})
    return data


def test_editing_details_goes_through_update_details(as_user, commander, incident):
    other = ServiceFactory(name="Search", slug="search")
    client = as_user(commander)
    response = client.post(
        details_url(incident),
        details(incident, title="Checkout down in EU", regions="eu-west-1, eu-central-1", services=[other.pk], mitigation="failover"),
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "Checkout down in EU"
    assert incident.regions == ["eu-west-1", "eu-central-1"]
    assert list(incident.services.all()) == [other]
    assert incident.mitigated_at is not None  # update_details stamps it with the mitigation
    event = incident.timeline.get(kind=Kind.DETAILS_CHANGED)
    assert (event.actor, event.source) == (commander, Source.ADMIN)
    assert set(event.data["changes"]) == {"title", "regions", "services", "mitigation"}
    assert "title: Incident" in event.message and "Checkout down in EU" in event.message


def test_saving_unchanged_details_records_nothing(as_user, commander, incident):
    before = kinds(incident)
    response = as_user(commander).post(details_url(incident), details(incident))
    assert response.status_code == 302
    assert kinds(incident) == before


def test_invalid_details_are_form_errors(as_user, commander, incident):
    with time_machine.travel(datetime(2025, 3, 3, 9, 0, tzinfo=dt_timezone.utc), tick=False):
        response = as_user(commander).post(
            details_url(incident), details(incident, title="", detected_at_0="2025-03-05", detected_at_1="10:00")
        )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"title", "detected_at"}
    assert not incident.timeline.filter(kind=Kind.DETAILS_CHANGED).exists()


def test_details_of_a_closed_incident_cannot_be_changed(as_user, commander):
    closed = IncidentFactory(actor=commander, commander=commander, closed=True)
    response = as_user(commander).post(details_url(closed), details(closed, title="Rewritten"))
    assert response.status_code == 403
    closed.refresh_from_db()
    assert closed.title != "Rewritten"


def test_a_refusal_while_saving_details_is_a_message_and_saves_nothing(as_user, commander, incident, monkeypatch):
    def refuse(incident, **changes):
        raise InvalidInput("INC-1 cannot be edited right now.")

    monkeypatch.setattr(actions, "update_details", refuse)
    response = as_user(commander).post(details_url(incident), details(incident, title="Changed"), follow=True)
    assert response.redirect_chain == [(details_url(incident), 302)]
    assert messages_of(response) == ["INC-1 cannot be edited right now."]
    incident.refresh_from_db()
    assert incident.title != "Changed"
    assert not LogEntry.objects.exists()


def test_responder_sees_details_read_only_and_cannot_post_them(as_user, commander, responder, incident):
    actions.update_details(incident, regions=["eu-west-1", "us-east-1"], actor=commander, source=Source.ADMIN)
    client = as_user(responder)
    html = client.get(details_url(incident)).content.decode()
    assert 'name="title"' not in html
    assert "eu-west-1, us-east-1" in html
    assert client.post(details_url(incident), details(incident, title="Hijacked")).status_code == 403
    incident.refresh_from_db()
    assert incident.title != "Hijacked"


# --- the catalog --------------------------------------------------------------------------------------


def test_catalog_lists_load(as_user, superuser, service):
    client = as_user(superuser)
    for model in ("severitylevel", "incidenttype", "service"):
        response = client.get(reverse(f"admin:incidents_{model}_changelist"))
        assert response.status_code == 200, model
    html = client.get(reverse("admin:incidents_severitylevel_changelist")).content.decode()
    assert "5 min" in html and "14 d" in html  # SEV-1 acknowledge, SEV-4 resolve target


def test_incident_type_checklist_is_edited_one_item_per_line(as_user, manager):
    client = as_user(manager)
    response = client.post(
        reverse("admin:incidents_incidenttype_add"),
        {"name": "Vendor", "slug": "vendor", "checklist": "Open a ticket\r\n\r\n  Check their status page \r\n"},
    )
    assert response.status_code == 302
    vendor = IncidentType.objects.get(slug="vendor")
    assert vendor.checklist == ["Open a ticket", "Check their status page"]
    html = client.get(reverse("admin:incidents_incidenttype_change", args=[vendor.pk])).content.decode()
    assert "Open a ticket\nCheck their status page</textarea>" in html


def test_service_list_counts_dependencies(as_user, superuser, django_assert_max_num_queries):
    database = ServiceFactory(name="Database", slug="database")
    for n in range(20):
        ServiceFactory(name=f"API {n}", slug=f"api-{n}").depends_on.add(database)
    client = as_user(superuser)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("admin:incidents_service_changelist"))
    assert response.status_code == 200
    assert all(service._dependencies == 1 for service in response.context["cl"].result_list if service.name.startswith("API"))


def test_incident_type_factory_checklist_becomes_tasks(as_user, commander, sev2):
    custom = IncidentTypeFactory()
    as_user(commander).post(DECLARE_URL, {"title": "Custom", "severity": sev2.pk, "incident_type": custom.pk})
    assert list(Incident.objects.get().tasks.values_list("title", flat=True)) == custom.checklist


def test_saving_the_details_stays_on_the_incident(as_user, commander, incident):
    data = {**details(incident, title="Checkout down in EU"), "_save": "Save"}
    del data["_continue"]
    response = as_user(commander).post(details_url(incident), data, follow=True)
    assert response.redirect_chain == [(page_url(incident), 302)]
    assert f"{incident.reference}&#x27;s details were saved." in response.content.decode()
    incident.refresh_from_db()
    assert incident.title == "Checkout down in EU"
