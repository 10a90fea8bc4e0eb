"""The incident page as the commander's command centre, through the test client: the header (roles
with how to reach them, war room and call bridge), the timeline's filters and pages, the JSON the
page polls (checked as the page is checked), and queries that do not grow with the incident."""

import re

import pytest
from django.urls import reverse

from comms.models import Channel
from incidents import actions
from incidents.models import Participant, Source, TimelineEvent
from tests.comms.factories import ContactMethodFactory
from tests.incidents.factories import IncidentFactory, ServiceFactory, incident_type
from tests.oncall.factories import UserFactory
from tests.pages import text_of

Kind = TimelineEvent.Kind


def page_url(incident) -> str:
    return reverse("admin:incidents_incident_change", args=[incident.pk])


def timeline_url(incident) -> str:
    return reverse("admin:incidents_incident_timeline", args=[incident.pk])


def shown_events(response) -> list[str]:
    """The messages of the timeline's events on the page, top to bottom."""
    html = response.content.decode()
    listed = html[html.index('id="timeline-events"') : html.index("</ol>")]
    return [re.sub(r"\s+", " ", text).strip() for text in re.findall(r'<div class="vigil-message">(.*?)</div>', listed, re.S)]


def grow(incident, commander, *, size: int) -> None:
    """Give the incident `size` of everything the page lists."""
    for n in range(size):
        person = UserFactory(username=f"sme-{size}-{n}", responder=True)
        ContactMethodFactory(user=person, channel=Channel.SMS, address=f"+4477009{n:05d}")
        ContactMethodFactory(user=person, channel=Channel.CHAT, address=f"@sme{n}")
        actions.assign_role(incident, person, Participant.Role.SUBJECT_MATTER_EXPERT, actor=commander, source=Source.ADMIN)
        actions.add_task(incident, f"Task {n}", actor=commander, source=Source.ADMIN)
        actions.add_evidence(incident, f"https://logs.example.com/{n}", actor=commander, source=Source.ADMIN)
        incident.services.add(ServiceFactory(name=f"Service {size}-{n}", slug=f"service-{size}-{n}"))
        for m in range(10):
            actions.add_note(incident, f"Note {n}.{m}", actor=commander, source=Source.CHAT)
    actions.post_update(incident, "Still digging", actor=commander, source=Source.ADMIN, visibility="external")


@pytest.mark.parametrize("size", [1, 30])
def test_the_page_and_its_poll_read_a_fixed_number_of_queries(as_user, commander, incident, size, django_assert_max_num_queries):
    grow(incident, commander, size=size)
    client = as_user(commander)
    # 17: the session and user (4), the incident with its services, roles and commanders (4), the
    # events, contacts, the forms' severities and people (4), tasks, evidence, policy, deadlines.
    with django_assert_max_num_queries(17):
        response = client.get(page_url(incident))
    assert response.status_code == 200
    events = shown_events(response)
    assert events[0] == "Still digging" and len(events) == min(50, incident.timeline.count())
    header = text_of(response)
    assert f"+4477009{size - 1:05d}" in header and f"@sme{size - 1}" in header
    first = incident.timeline.order_by("pk").first().pk
    with django_assert_max_num_queries(9):
        polled = client.get(timeline_url(incident), {"after": first}).json()
    assert len(polled["events"]) == min(50, incident.timeline.count() - 1)


def test_the_header_names_each_role_with_how_to_reach_them(as_user, commander, responder, incident):
    ContactMethodFactory(user=commander, channel=Channel.SMS, address="+447700900123")
    ContactMethodFactory(user=commander, channel=Channel.CHAT, address="@ic")
    ContactMethodFactory(user=commander, channel=Channel.EMAIL, address="pager@example.com")
    actions.assign_role(incident, responder, Participant.Role.COMMUNICATIONS_LEAD, actor=commander, source=Source.ADMIN)
    html = as_user(commander).get(page_url(incident)).content.decode()
    roles = html[html.index('id="roles"') : html.index("</ul>", html.index('id="roles"'))]
    commander_item, comms_item = re.findall(r"<li>(.*?)</li>", roles, re.S)
    assert "Incident commander" in commander_item and str(commander) in commander_item
    assert '<a href="tel:+447700900123">+447700900123</a>' in commander_item and "@ic" in commander_item
    assert '<a href="mailto:pager@example.com">pager@example.com</a>' in commander_item
    assert commander.email not in commander_item  # an email contact method stands for the account's
    # Nothing in comms for this one: the account's email.
    assert "Communications lead" in comms_item and f'<a href="mailto:{responder.email}">{responder.email}</a>' in comms_item


def test_the_war_room_and_call_bridge_open_in_a_new_tab(as_user, commander, incident):
    actions.record_war_room_opened(incident, name="inc-1-checkout", url="https://chat.example.com/archives/C1")
    type(incident).objects.filter(pk=incident.pk).update(call_bridge_url="https://meet.example.com/inc-1")
    html = as_user(commander).get(page_url(incident)).content.decode()
    assert re.search(r'<a id="war-room-link" href="https://chat.example.com/archives/C1" target="_blank" rel="noopener noreferrer">#inc-1-checkout</a>', html)
    assert re.search(r'<a id="call-bridge-link" href="https://meet.example.com/inc-1" target="_blank" rel="noopener noreferrer">', html)


def test_without_a_war_room_or_bridge_there_are_no_links(as_user, commander, incident):
    html = as_user(commander).get(page_url(incident)).content.decode()
    assert 'id="war-room-link"' not in html and 'id="call-bridge-link"' not in html


def test_the_timeline_filters(as_user, commander, incident):
    actions.add_note(incident, "Pool exhausted", actor=commander, source=Source.CHAT)
    actions.post_update(incident, "Investigating", actor=commander, source=Source.ADMIN)
    actions.post_update(incident, "Customers see errors", actor=commander, source=Source.API, visibility="external")
    actions.record_war_room_failure(incident, "could not open the war room: provider down")
    client = as_user(commander)

    def shown(show):
        return shown_events(client.get(page_url(incident), {"show": show}))

    assert shown("updates") == ["Customers see errors", "Investigating"]
    assert shown("external") == ["Customers see errors"]
    assert "Customers see errors" not in shown("internal") and "Pool exhausted" in shown("internal")
    assert shown("engine") == ["could not open the war room: provider down"]
    assert shown("nonsense") == shown("all") and len(shown("all")) == incident.timeline.count()
    html = client.get(page_url(incident), {"show": "external"}).content.decode()
    assert re.search(r'<a href="\?show=external" aria-current="true"', html)


def test_the_page_shows_the_latest_fifty_events_and_the_older_ones_a_link_away(as_user, commander, incident):
    for n in range(60):
        actions.add_note(incident, f"Note {n}", actor=commander, source=Source.ADMIN)
    client = as_user(commander)
    response = client.get(page_url(incident))
    events = shown_events(response)
    assert events[0] == "Note 59" and events[-1] == "Note 10" and len(events) == 50
    older = re.search(r'id="show-older"><a href="([^"]+)"', response.content.decode()).group(1).replace("&amp;", "&")
    events = shown_events(client.get(page_url(incident) + older))
    assert events[:2] == ["Note 9", "Note 8"] and len(events) == 12  # ten notes, the commander's role, the declaration
    assert events[-1].endswith(f"declared SEV-2 {incident.reference}: {incident.title}")


def test_the_poll_answers_new_events_oldest_first_and_the_header_state(as_user, commander, incident):
    client = as_user(commander)
    latest = incident.timeline.order_by("-pk").first().pk
    answer = client.get(timeline_url(incident), {"after": latest}).json()
    assert answer["events"] == []
    assert answer["state"]["status"] == "Triggered" and answer["state"]["next_due"]["name"] == "acknowledge"

    actions.post_update(incident, "<script>alert(1)</script>", status="investigating", actor=commander, source=Source.CHAT)
    actions.add_note(incident, "Second", actor=commander, source=Source.CHAT)
    answer = client.get(timeline_url(incident), {"after": latest}).json()
    kinds = [e["kind"] for e in answer["events"]]
    assert kinds[0] == Kind.ACKNOWLEDGED and kinds[-2:] == [Kind.STATUS_UPDATE, Kind.NOTE]
    update = answer["events"][-2]
    assert update["message"] == "<script>alert(1)</script>"  # text: the page's script sets textContent
    assert update["via"] == "Chat" and update["who"] == str(commander) and update["visibility"] == "internal"
    assert answer["state"]["status"] == "Investigating" and answer["state"]["next_due"]["name"] == "status update"
    only_updates = client.get(timeline_url(incident), {"after": latest, "show": "updates"}).json()
    assert [e["kind"] for e in only_updates["events"]] == [Kind.STATUS_UPDATE]


def test_the_poll_is_checked_as_the_page_is(client, as_user, commander, responder, manager):
    secret = IncidentFactory(actor=commander, commander=commander, incident_type=incident_type("security"))
    assert client.get(timeline_url(secret)).status_code == 302  # signed out: to the login page
    outsider = as_user(responder)
    assert outsider.get(page_url(secret)).status_code == 404
    assert outsider.get(timeline_url(secret)).status_code == 404
    actions.assign_role(secret, responder, Participant.Role.SUBJECT_MATTER_EXPERT, actor=commander, source=Source.ADMIN)
    assert outsider.get(timeline_url(secret)).status_code == 200
    nobody = UserFactory(username="no-perms", is_staff=True)
    public = IncidentFactory(actor=commander)
    assert as_user(nobody).get(page_url(public)).status_code in (403, 404)
    assert as_user(nobody).get(timeline_url(public)).status_code == as_user(nobody).get(page_url(public)).status_code


def test_the_page_is_only_read_details_are_saved_on_their_own_page(as_user, commander, incident):
    response = as_user(commander).post(page_url(incident), {"title": "Changed"})
    assert response.status_code == 405
    incident.refresh_from_db()
    assert incident.title != "Changed"


def test_a_viewer_reads_the_details_page(as_user, viewer, incident):
    response = as_user(viewer).get(reverse("admin:incidents_incident_details", args=[incident.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="title"' not in html and incident.title in html and "Incident page" in html


def test_the_header_flags_restricted_and_drill_and_counts_down_only_while_targets_are_pending(as_user, commander):
    client = as_user(commander)
    drill = IncidentFactory(actor=commander, commander=commander, is_drill=True, is_restricted=True)
    html = client.get(page_url(drill)).content.decode()
    assert 'id="flag-restricted">restricted<' in html and 'id="flag-drill">drill<' in html
    countdown = re.search(r'<span class="vigil-countdown" id="countdown"([^>]*)>(.*?)</span>\s*</div>', html, re.S)
    assert 'data-due="' in countdown.group(1) and re.search(r"acknowledge</span> <span class=\"left\">in \d+ min \d\d s", countdown.group(2))

    resolved = IncidentFactory(actor=commander, commander=commander, resolved=True)
    html = client.get(page_url(resolved)).content.decode()
    assert 'id="flag-drill"' not in html and 'id="flag-restricted"' not in html
    countdown = re.search(r'<span class="vigil-countdown" id="countdown"([^>]*)>(.*?)</span>\s*</div>', html, re.S)
    assert "data-due" not in countdown.group(1) and "no SLA deadline pending" in countdown.group(2)


def test_a_chat_contact_with_only_a_webhook_is_not_shown_as_a_way_to_reach_someone(as_user, commander, incident):
    ContactMethodFactory(user=commander, channel=Channel.CHAT, address="", webhook_url="https://hooks.example.com/T1")
    html = as_user(commander).get(page_url(incident)).content.decode()
    roles = html[html.index('id="roles"') : html.index("</ul>", html.index('id="roles"'))]
    assert "hooks.example.com" not in roles and "vigil-contact-chat" not in roles
    assert f"mailto:{commander.email}" in roles
