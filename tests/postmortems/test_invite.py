"""The review meeting invitation: saved on the post-mortem, emailed through a real SMTP server to
every current participant and the owner, with an iCalendar REQUEST their calendar can accept."""

import datetime as dt

import pytest
import time_machine
from icalendar import Calendar

from incidents import actions
from incidents.errors import InvalidInput
from incidents.models import Participant, Source
from postmortems import invites
from postmortems.models import PostMortem
from tests.comms.servers import django_smtp, smtp_server  # noqa: F401
from tests.incidents.factories import IncidentFactory
from tests.oncall.factories import UserFactory
from tests.postmortems.factories import PostMortemFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)
STARTS = dt.datetime(2026, 11, 27, 14, 0, tzinfo=dt.timezone.utc)
Role = Participant.Role


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def people(db):
    return {
        name: UserFactory(username=name, first_name=name.title(), last_name="Tester", time_zone=zone)
        for name, zone in [("ivy", "Europe/London"), ("sam", "America/New_York"), ("olga", "UTC"), ("leo", "UTC")]
    }


@pytest.fixture
def postmortem(people, service, settings):
    settings.VIGIL_BASE_URL = "https://vigil.example.com"
    ivy, sam, leo = people["ivy"], people["sam"], people["leo"]
    incident = IncidentFactory(actor=ivy, services=[service], commander=ivy, title="Checkout down")
    actions.assign_role(incident, sam, Role.TECHNICAL_LEAD, actor=ivy, source=Source.ADMIN)
    left = actions.assign_role(incident, leo, Role.SCRIBE, actor=ivy, source=Source.ADMIN)
    actions.release_role(left, actor=ivy, source=Source.ADMIN)  # no longer a participant
    return PostMortemFactory(incident=incident, owner=people["olga"], draft_due=dt.date(2026, 11, 27))


def calendar_of(message) -> Calendar:
    [attachment] = [part for part in message.iter_attachments() if part.get_filename() == "invite.ics"]
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    return Calendar.from_ical(attachment.get_content())


def test_everyone_current_and_the_owner_get_an_invitation_their_calendar_accepts(postmortem, people, django_smtp):
    organizer = people["ivy"]

    invitation = invites.schedule_review(postmortem, STARTS, 45, organizer)

    postmortem.refresh_from_db()
    assert postmortem.review_meeting_at == STARTS
    assert postmortem.review_meeting_minutes == 45
    assert sorted(invitation.sent_to) == ["ivy@example.com", "olga@example.com", "sam@example.com"]
    messages = django_smtp.wait_for(3)
    assert sorted(rcpt for env in django_smtp.envelopes for rcpt in env.rcpt_tos) == [
        "ivy@example.com", "olga@example.com", "sam@example.com",
    ]  # leo left the incident: not invited
    ref = postmortem.incident.reference

    by_recipient = {message["To"]: message for message in messages}
    sam_mail = by_recipient["sam@example.com"]
    assert sam_mail["Subject"] == f"Post-mortem review: {ref} – Checkout down"
    assert sam_mail["Reply-To"] == "ivy@example.com"
    text = sam_mail.get_body(preferencelist=("plain",)).get_content()
    assert "When: 27 Nov 2026 09:00 EST (45 min)" in text  # in Sam's own zone
    assert f"https://vigil.example.com/" in text
    inline = [part for part in sam_mail.walk() if part.get_content_type() == "text/calendar" and not part.get_filename()]
    assert len(inline) == 1 and inline[0].get_param("method") == "REQUEST"

    calendar = calendar_of(sam_mail)
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"postmortem-review-{postmortem.pk}@vigil.example.com"
    assert event.decoded("DTSTART") == STARTS
    assert event.decoded("DTEND") == STARTS + dt.timedelta(minutes=45)
    assert event.decoded("DTSTART").utcoffset() == dt.timedelta(0)
    assert event["DTSTART"].to_ical() == b"20261127T140000Z"
    assert str(event["SUMMARY"]) == f"Post-mortem review: {ref} – Checkout down"
    assert "https://vigil.example.com/" in str(event["DESCRIPTION"])
    assert str(event["ORGANIZER"]) == "mailto:ivy@example.com"
    assert event["ORGANIZER"].params["CN"] == "Ivy Tester"
    attendees = event.get("ATTENDEE")
    assert sorted(str(a) for a in attendees) == [
        "mailto:ivy@example.com", "mailto:olga@example.com", "mailto:sam@example.com",
    ]
    assert all(a.params["RSVP"] == "TRUE" and a.params["PARTSTAT"] == "NEEDS-ACTION" for a in attendees)
    # Every invitee receives the same calendar object.
    assert {str(calendar_of(m).walk("VEVENT")[0]["UID"]) for m in messages} == {str(event["UID"])}


def test_rescheduling_keeps_the_uid_and_raises_the_sequence(postmortem, people, django_smtp, clock):
    invites.schedule_review(postmortem, STARTS, 60, people["ivy"])
    clock.move_to(NOW + dt.timedelta(hours=1))
    invites.schedule_review(postmortem, STARTS + dt.timedelta(days=1), 30, people["ivy"])

    messages = django_smtp.wait_for(6)
    first, last = calendar_of(messages[0]).walk("VEVENT")[0], calendar_of(messages[-1]).walk("VEVENT")[0]
    assert str(first["UID"]) == str(last["UID"])
    assert int(last["SEQUENCE"]) > int(first["SEQUENCE"])
    assert last.decoded("DTSTART") == STARTS + dt.timedelta(days=1)
    postmortem.refresh_from_db()
    assert postmortem.review_meeting_at == STARTS + dt.timedelta(days=1)


def test_people_without_an_email_address_are_named_not_mailed(postmortem, people, django_smtp):
    people["sam"].email = ""
    people["sam"].save(update_fields=["email"])

    invitation = invites.schedule_review(postmortem, STARTS, 60, people["ivy"])

    assert invitation.without_email == ["Sam Tester"]
    assert len(django_smtp.wait_for(2)) == 2


@pytest.mark.parametrize(
    ("starts_at", "minutes", "refusal"),
    [
        (STARTS, 5, "15 to 480 minutes"),
        (STARTS, 600, "15 to 480 minutes"),
        (NOW - dt.timedelta(days=1), 60, "cannot start in the past"),
        (STARTS.replace(tzinfo=None), 60, "time zone"),
        (dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone.utc), 480, "within a year"),
    ],
)
def test_a_meeting_that_cannot_be_is_refused_and_nothing_is_sent(postmortem, people, django_smtp, starts_at, minutes, refusal):
    with pytest.raises(InvalidInput, match=refusal):
        invites.schedule_review(postmortem, starts_at, minutes, people["ivy"])
    postmortem.refresh_from_db()
    assert postmortem.review_meeting_at is None
    assert django_smtp.messages == []


def test_a_published_post_mortem_has_no_review_left(postmortem, people, django_smtp):
    PostMortem.objects.filter(pk=postmortem.pk).update(status=PostMortem.Status.PUBLISHED, published_at=NOW)

    with pytest.raises(InvalidInput, match="is published"):
        invites.schedule_review(postmortem, STARTS, 60, people["ivy"])
    assert django_smtp.messages == []


def test_the_admin_schedules_the_review_from_the_post_mortem_page(postmortem, people, django_smtp, client, manager):
    client.force_login(manager)
    page = f"/admin/postmortems/postmortem/{postmortem.pk}/change/"
    assert "Schedule and invite the participants" in client.get(page).content.decode()

    # Europe/London is on GMT in November: 14:00 there is 14:00 UTC.
    manager.time_zone = "Europe/London"
    manager.save()
    response = client.post(
        f"/admin/postmortems/postmortem/{postmortem.pk}/review/", {"starts_at": "2026-11-27T14:00", "minutes": 45}, follow=True
    )
    assert "Review meeting scheduled; invitations sent to" in response.content.decode()
    postmortem.refresh_from_db()
    assert postmortem.review_meeting_at == STARTS and postmortem.review_meeting_minutes == 45
    mails = django_smtp.wait_for(3)
    assert {m["To"] for m in mails} >= {people["ivy"].email, people["sam"].email, people["olga"].email}

    refused = client.post(f"/admin/postmortems/postmortem/{postmortem.pk}/review/", {"starts_at": "2026-11-20T14:00", "minutes": 45}, follow=True)
    assert "Review meeting not scheduled" in refused.content.decode()
