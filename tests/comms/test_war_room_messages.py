"""What the war room hears: events that change how an incident is run, posted in its channel
through the outbox (retried and visible like every other message), in the timeline's words,
oldest first, one message each; held while the room is opening; never lost to an outage."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from comms import outbox, routing
from comms.models import Audience, Channel, Notification, WarRoom
from incidents import actions
from incidents.models import Participant, Source, TimelineEvent
from tests.comms.delivery import deliver_due, dispatch_all
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import UserFactory

Kind = TimelineEvent.Kind
Status = Notification.Status


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", first_name="Alice", last_name="Chen", email="alice@example.com")


def open_room(fake_slack, incident, name="inc-war-room") -> str:
    """The incident's room as the opening task leaves it: a channel at the fake Slack, the row open."""
    channel_id = f"C{incident.pk:08d}"
    from tests.comms.fake_slack import FakeChannel

    fake_slack.channels[channel_id] = FakeChannel(channel_id, name, is_private=incident.is_restricted)
    WarRoom.objects.update_or_create(
        incident=incident,
        defaults=dict(provider="slack", state=WarRoom.State.OPEN, name=name, channel_id=channel_id, created_at=timezone.now()),
    )
    return channel_id


def posted(fake_slack, channel_id) -> list[str]:
    """What the channel shows, in order (failed calls left nothing there)."""
    return list(fake_slack.channels[channel_id].messages)


def war_room_rows(incident):
    return Notification.objects.filter(incident=incident, channel=Channel.WAR_ROOM).order_by("pk")


@pytest.mark.django_db
def test_the_room_hears_each_change_in_order_one_message_each_in_the_timelines_words(fake_slack, alice):
    incident = IncidentFactory(title="Checkout <!channel> errors", severity=severity("SEV-1"), actor=alice, commander=alice)
    room = open_room(fake_slack, incident)
    bob = UserFactory(first_name="Bob", last_name="Okafor")
    dispatch_all()  # each event is dispatched as its action commits
    for act in (
        lambda: actions.acknowledge(incident, actor=alice, source=Source.ADMIN),
        lambda: actions.assign_role(incident, bob, Participant.Role.TECHNICAL_LEAD, actor=alice, source=Source.ADMIN),
        lambda: actions.post_update(incident, "Rolled back build 8812.\nErrors falling.", actor=alice, source=Source.ADMIN),
        lambda: actions.post_update(incident, "We are investigating slow checkouts.", actor=alice, source=Source.API, visibility="external"),
        lambda: actions.change_severity(incident, severity("SEV-2"), actor=alice, source=Source.ADMIN, reason="contained"),
        lambda: actions.resolve(incident, actor=alice, source=Source.ADMIN, summary="Bad build rolled back"),
    ):
        act()
        dispatch_all()
    assert set(deliver_due()) <= {"sent", "skipped"}  # the first delivery takes the room's other due rows

    messages = posted(fake_slack, room)
    ref = incident.reference
    assert len(messages) == 8  # declared, commander, acknowledged, tech lead, two updates, severity, resolved
    assert messages[0].startswith(f":rotating_light: *{ref}* SEV-1 · Alice Chen declared SEV-1 {ref}: Checkout &lt;!channel&gt; errors")
    assert "Open in Vigil>" in messages[0] and f"/admin/incidents/incident/{incident.pk}/change/" in messages[0]
    assert any("Bob Okafor" in m and "technical lead" in m.lower() for m in messages)
    update = next(m for m in messages if "Internal update" in m)
    assert update.endswith("by Alice Chen:\n> Rolled back build 8812.\n> Errors falling.")
    assert any("External (customer-facing) update by Alice Chen:\n> We are investigating slow checkouts." in m for m in messages)
    assert any("SEV-1 → SEV-2: contained" in m for m in messages)
    assert messages[-1].startswith(f":white_check_mark: *{ref}* SEV-2") and "Bad build rolled back" in messages[-1]
    # Each row is on record with the provider's id, in the war room's own audience.
    rows = war_room_rows(incident)
    assert {(r.audience, r.status) for r in rows} == {(Audience.WAR_ROOM, Status.SENT)}
    assert all(r.provider_id for r in rows)


@pytest.mark.django_db
def test_a_chat_command_is_answered_where_it_was_typed_not_posted_twice(fake_slack, alice):
    incident = IncidentFactory(severity=severity("SEV-1"), actor=alice)
    room = open_room(fake_slack, incident)
    dispatch_all()
    deliver_due()
    before = len(posted(fake_slack, room))
    actions.acknowledge(incident, actor=alice, source=Source.CHAT)
    dispatch_all()
    deliver_due()
    assert len(posted(fake_slack, room)) == before


@pytest.mark.django_db
def test_messages_wait_for_the_room_without_spending_attempts_then_go_out_in_order(fake_slack, alice):
    incident = IncidentFactory(severity=severity("SEV-1"), actor=alice)
    actions.post_update(incident, "First look: the database.", actor=alice, source=Source.ADMIN)
    dispatch_all()
    assert war_room_rows(incident).count() == 2
    deliver_due()
    waiting = list(war_room_rows(incident))
    assert {(r.status, r.attempts) for r in waiting} == {(Status.PENDING, 0)}
    assert all(r.send_after > timezone.now() for r in waiting)

    room = open_room(fake_slack, incident)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=30)):
        deliver_due()
    messages = posted(fake_slack, room)
    assert len(messages) == 2 and "declared" in messages[0] and "First look: the database." in messages[1]


@pytest.mark.django_db
def test_a_room_given_up_suppresses_its_messages_quietly(fake_slack, alice):
    incident = IncidentFactory(severity=severity("SEV-1"), actor=alice)
    room = WarRoom.objects.get(incident=incident)  # wanted as it was declared, still opening
    dispatch_all()
    WarRoom.objects.filter(pk=room.pk).update(state=WarRoom.State.GAVE_UP)
    deliver_due()
    [row] = war_room_rows(incident)
    assert row.status == Status.SUPPRESSED and "could not be opened" in row.last_error
    assert not incident.timeline.filter(kind=Kind.NOTIFICATION_FAILED).exists()
    assert fake_slack.called("chat.postMessage") == []
    # Given up before an event: nothing is even queued for the room.
    actions.post_update(incident, "Still looking.", actor=alice, source=Source.ADMIN)
    dispatch_all()
    assert war_room_rows(incident).count() == 1


@pytest.mark.django_db
def test_a_provider_outage_is_retried_and_a_lost_channel_is_said_on_the_timeline(fake_slack, alice, settings):
    incident = IncidentFactory(severity=severity("SEV-1"), actor=alice)
    room = open_room(fake_slack, incident)
    fake_slack.fail("chat.postMessage", "500")
    dispatch_all()
    assert deliver_due() == ["retry"]
    [row] = war_room_rows(incident)
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    with time_machine.travel(row.send_after + dt.timedelta(seconds=1)):
        assert deliver_due() == ["sent"]
    assert len(posted(fake_slack, room)) == 1

    fake_slack.fail("chat.postMessage", "error", error="channel_not_found")
    actions.post_update(incident, "Still digging.", actor=alice, source=Source.ADMIN)
    dispatch_all()
    assert deliver_due() == ["failed"]
    failure = incident.timeline.filter(kind=Kind.NOTIFICATION_FAILED).get()
    assert "War room" in failure.message and "failed after 1 attempt" in failure.message


@pytest.mark.django_db
def test_only_severities_with_a_war_room_and_a_connected_workspace_get_one(fake_slack, alice, settings):
    minor = IncidentFactory(severity=severity("SEV-3"), actor=alice)
    grave = IncidentFactory(severity=severity("SEV-1"), actor=alice)
    dispatch_all()
    assert not war_room_rows(minor).exists() and war_room_rows(grave).count() == 1
    # A room opened at SEV-1 keeps hearing after a downgrade to a severity that opens none.
    open_room(fake_slack, grave)
    actions.change_severity(grave, severity("SEV-3"), actor=alice, source=Source.ADMIN)
    dispatch_all()
    assert war_room_rows(grave).count() == 2

    settings.VIGIL_CHAT_PROVIDER = "none"
    again = IncidentFactory(severity=severity("SEV-1"), actor=alice)
    dispatch_all()
    assert not war_room_rows(again).exists()


@pytest.mark.django_db
def test_events_only_the_room_hears_are_stamped_dispatched_when_there_is_no_room(alice):
    incident = IncidentFactory(severity=severity("SEV-3"), actor=alice)
    actions.assign_role(incident, UserFactory(), Participant.Role.SCRIBE, actor=alice, source=Source.ADMIN)
    event = incident.timeline.get(kind=Kind.ROLE_ASSIGNED)
    assert event.dispatched_at is not None  # the sweeper and the health backlog never wait on it
    assert not routing.routed(event)


@pytest.mark.django_db
def test_a_restricted_incidents_room_hears_what_happened_not_the_details(fake_slack, alice):
    incident = IncidentFactory(title="Payroll export leaked", severity=severity("SEV-1"), actor=alice, is_restricted=True)
    room = open_room(fake_slack, incident)
    actions.post_update(incident, "Customer data in the export", actor=alice, source=Source.ADMIN)
    dispatch_all()
    deliver_due()
    messages = posted(fake_slack, room)
    assert len(messages) == 2
    assert all(incident.reference in m and "Payroll" not in m and "Customer data" not in m for m in messages)
    assert "status update" in messages[1]


@pytest.mark.django_db
def test_war_room_messages_are_never_bundled_even_when_many_are_due(fake_slack, alice):
    incident = IncidentFactory(severity=severity("SEV-1"), actor=alice)
    room = open_room(fake_slack, incident)
    for n in range(7):
        actions.add_note(incident, f"note {n}", actor=alice, source=Source.ADMIN)  # notes are not posted
        actions.post_update(incident, f"update {n}", actor=alice, source=Source.ADMIN)
    dispatch_all()
    ids = [pk for pk, _ in outbox.due_for_enqueue()]
    outbox.deliver_many(ids)
    messages = posted(fake_slack, room)
    assert [m.rsplit("\n> ", 1)[-1] for m in messages[1:]] == [f"update {n}" for n in range(7)]


@pytest.mark.django_db
def test_pages_and_declarations_say_where_to_meet(alice, settings):
    from comms import templating
    from comms.models import MessageKind

    settings.VIGIL_CALL_BRIDGE_URL = "https://meet.jit.si/acme-{reference}"
    incident = IncidentFactory(title="Checkout down", severity=severity("SEV-1"), actor=alice)
    actions.record_war_room_opened(incident, name="inc-9-checkout-down", url="https://acme.slack.com/archives/C9")
    incident.refresh_from_db()
    renderer = templating.Renderer()
    ctx = templating.context(incident, event=incident.timeline.get(kind=Kind.DECLARED))
    bridge = f"https://meet.jit.si/acme-{incident.reference}"
    email = renderer.render(MessageKind.PAGE, Audience.RESPONDERS, Channel.EMAIL, ctx).body
    assert email.endswith(f"Call bridge: {bridge}\nWar room: #inc-9-checkout-down https://acme.slack.com/archives/C9")
    chat = renderer.render(MessageKind.DECLARED, Audience.INTERNAL, Channel.CHAT, ctx).body
    assert chat.endswith(f"<{bridge}|Join the call> · <https://acme.slack.com/archives/C9|#inc-9-checkout-down>")

    settings.VIGIL_CALL_BRIDGE_URL = ""
    plain = IncidentFactory(severity=severity("SEV-3"), actor=alice)
    ctx = templating.context(plain, event=plain.timeline.get(kind=Kind.DECLARED))
    body = renderer.render(MessageKind.DECLARED, Audience.RESPONDERS, Channel.EMAIL, ctx).body
    assert "Call bridge" not in body and "War room" not in body and body.rstrip() == body


@pytest.mark.django_db
def test_a_drill_opens_no_room_so_nothing_waits_for_one(fake_slack, alice):
    drill = IncidentFactory(severity=severity("SEV-1"), actor=alice, commander=alice, is_drill=True)
    actions.post_update(drill, "Game day: failing over the primary.", actor=alice, source=Source.ADMIN)
    dispatch_all()
    assert not WarRoom.objects.filter(incident=drill).exists()
    assert not war_room_rows(drill).exists()
    assert drill.timeline.get(kind=Kind.ROLE_ASSIGNED).dispatched_at is not None


@pytest.mark.django_db
def test_raising_the_severity_to_one_with_a_war_room_posts_the_change_there(fake_slack, alice):
    incident = IncidentFactory(severity=severity("SEV-3"), actor=alice)
    dispatch_all()  # the SEV-3 declaration: no room, none for it
    actions.change_severity(incident, severity("SEV-1"), actor=alice, source=Source.ADMIN, reason="checkout down too")
    dispatch_all()
    room = open_room(fake_slack, incident)
    deliver_due()
    assert [m.split(" · ", 1)[1] for m in posted(fake_slack, room)] == ["Severity escalated SEV-3 → SEV-1: checkout down too"]
