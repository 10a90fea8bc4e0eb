"""Chat commands in an incident's war-room channel: every command about one incident applies to the
channel's incident without a reference (an explicit one wins), every role from chat, `release`,
`mitigated`, `note` and `declare` — the procedures' exact forms, in a channel and outside one."""

import pytest
from django.utils import timezone

from comms import chat
from comms.chat import Ack, AssignRole, Mitigated, Note, ParseError, Release, Resolve, Severity, Status, Timeline, Update
from comms.models import WarRoom
from incidents import actions
from incidents.models import Incident, Participant, Source, TimelineEvent
from tests.comms.factories import ContactMethodFactory
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import UserFactory

ROOM = "C0WARROOM1"
Role = Participant.Role

# --- The parser: what a reference is, in a channel and outside one -----------------------------


@pytest.mark.parametrize(
    "text, in_channel, command",
    [
        # The procedures' forms, with and without a reference.
        ("/incident ack INC-123", False, Ack(123)),
        ("/incident ack", True, Ack(None)),
        ("/incident severity INC-123 SEV-2", False, Severity(123, "SEV-2")),
        ("/incident severity INC-123 SEV-2", True, Severity(123, "SEV-2")),
        ("/incident severity SEV-2", True, Severity(None, "SEV-2")),
        ("/incident commander @alice", True, AssignRole(None, "commander", ("@alice",))),
        ("/incident commander @alice", False, AssignRole(None, "commander", ("@alice",))),
        ("/incident tech-lead @bob", True, AssignRole(None, "technical_lead", ("@bob",))),
        ("/incident tech-lead INC-123 @bob", False, AssignRole(123, "technical_lead", ("@bob",))),
        ("/incident resolve INC-123", False, Resolve(123, "")),
        ("/incident resolve", True, Resolve(None, "")),
        # Every role and its aliases; a bare number before a person is the incident everywhere.
        ("tl 7 @bob", True, AssignRole(7, "technical_lead", ("@bob",))),
        ("tech_lead @bob", True, AssignRole(None, "technical_lead", ("@bob",))),
        ("techlead #7 @bob", True, AssignRole(7, "technical_lead", ("@bob",))),
        ("comms-lead @carol", True, AssignRole(None, "communications_lead", ("@carol",))),
        ("cl INC-7 @carol", True, AssignRole(7, "communications_lead", ("@carol",))),
        ("communications-lead @carol", True, AssignRole(None, "communications_lead", ("@carol",))),
        ("comms_lead @carol", True, AssignRole(None, "communications_lead", ("@carol",))),
        ("scribe <@U0DAN|dan>", True, AssignRole(None, "scribe", ("U0DAN", "@dan"))),
        ("sme INC-7 @erin", False, AssignRole(7, "sme", ("@erin",))),
        ("ic @alice", True, AssignRole(None, "commander", ("@alice",))),
        # release: a role, a person, or both.
        ("release tech-lead", True, Release(None, "technical_lead")),
        ("release tl", True, Release(None, "technical_lead")),
        ("release INC-7 sme @erin", False, Release(7, "sme", ("@erin",))),
        ("release 7 @erin", False, Release(7, "", ("@erin",))),
        ("release @erin", True, Release(None, "", ("@erin",))),
        ("release responder @erin", True, Release(None, "responder", ("@erin",))),
        # Free text: in a channel only INC-n / #n are references before it; outside, a bare number is.
        ("note 500 errors since 10:02", True, Note(None, "500 errors since 10:02")),
        ("note 500 errors since 10:02", False, Note(500, "errors since 10:02")),
        ("note #500 errors since 10:02", True, Note(500, "errors since 10:02")),
        ("note INC-500 errors since 10:02", True, Note(500, "errors since 10:02")),
        ("note Disk full on db-2", False, Note(None, "Disk full on db-2")),
        ("update 3 replicas down", True, Update(None, "3 replicas down", False)),
        ("update -e 3 regions affected", True, Update(None, "3 regions affected", True)),
        ("update -e #3 regions affected", True, Update(3, "regions affected", True)),
        ("update 5 Rolled back", False, Update(5, "Rolled back", False)),
        ("update Rolled back", False, Update(None, "Rolled back", False)),
        ("resolve 2 nodes replaced", True, Resolve(None, "2 nodes replaced")),
        ("resolve 2 nodes replaced", False, Resolve(2, "nodes replaced")),
        ("severity 2", True, Severity(None, "2")),
        ("mitigated Rolled back deploy 1234", True, Mitigated(None, "Rolled back deploy 1234", "rollback")),
        ("mitigated INC-7 failover to eu-west-2", True, Mitigated(7, "failover to eu-west-2", "failover")),
        ("mitigate 7 fix forward: patched the null check", False, Mitigated(7, "fix forward: patched the null check", "fix_forward")),
        ("mitigated 10 nodes added", True, Mitigated(None, "10 nodes added", "")),
        ("mitigated rollbacks disabled", True, Mitigated(None, "rollbacks disabled", "")),
        ("mitigated Degraded mode: search off", True, Mitigated(None, "Degraded mode: search off", "degraded_mode")),
        # No free text follows: a bare number is the incident, in a channel too.
        ("ack 7", True, Ack(7)),
        ("timeline", True, Timeline(None)),
        ("timeline 7", True, Timeline(7)),
        ("status", True, Status(None)),
        ("status 7", True, Status(7)),
        ("status all", True, Status(None, listing=True)),
    ],
)
def test_a_reference_is_optional_and_a_bare_number_before_text_is_text_in_a_channel(text, in_channel, command):
    assert chat.parse(text, in_channel=in_channel) == command


@pytest.mark.parametrize(
    "text, message, usage_of",
    [
        ("tech-lead", "Say who becomes technical lead, e.g. `tech-lead @alice` in the incident's channel", "tech-lead"),
        ("tech-lead 7", "Say who becomes technical lead", "tech-lead"),
        ("sme 7 @a @b", "Say who joins as a subject-matter expert", "sme"),
        ("comms-lead soon @carol", "`soon` is not an incident reference", "comms-lead"),
        ("release", "Say which role or whom to release", "release"),
        ("release INC-7", "Say which role or whom to release", "release"),
        ("release boss @bob", "`boss` is not a role; the roles are `commander`, `tech-lead`", "release"),
        ("release 7 sme @a @b", "one person at most", "release"),
        ("note", "The note needs some text.", "note"),
        ("note INC-7", "The note needs some text after the incident.", "note"),
        ("mitigated", "Say how the impact was contained", "mitigated"),
        ("mitigated #7", "Say how the impact was contained", "mitigated"),
    ],
)
def test_malformed_new_commands_say_what_to_type(text, message, usage_of):
    with pytest.raises(ParseError) as caught:
        chat.parse(text, in_channel=True)
    assert message in caught.value.message
    assert caught.value.command == usage_of


@pytest.mark.django_db
def test_help_lists_the_new_commands_and_the_reference_rule():
    everything = chat.usage(prefix="/incident")
    for form in ("tech-lead [<INC>] <@user>", "comms-lead [<INC>] <@user>", "scribe [<INC>] <@user>",
                 "sme [<INC>] <@user>", "release [<INC>] <role> [<@user>]", "mitigated [<INC>] <how>",
                 "note [<INC>] <text>", "ack [<INC>]", "status [<INC>|all]"):
        assert f"`/incident {form}`" in everything, form
    assert "also `declare`" in everything
    assert "`note 500 errors since 10:02` is a note, not INC-500" in everything
    assert chat.respond("help tl", []).text.startswith("Usage: `tech-lead [<INC>] <@user>`")


# --- The executor in a channel ------------------------------------------------------------------


@pytest.fixture
def people(commander, responder, viewer, manager):
    for user in (commander, responder, viewer, manager):
        ContactMethodFactory(user=user, channel="chat")  # @ic, @responder, @viewer, @manager
    return commander, responder, viewer, manager


def open_room(incident, channel_id=ROOM):
    return WarRoom.objects.create(
        incident=incident, provider="slack", channel_id=channel_id, name=f"inc-{incident.number}",
        state="open", created_at=timezone.now(),
    )


@pytest.fixture
def room(incident):
    """INC-n's war room (`incident` from conftest: commanded by @ic)."""
    open_room(incident)
    return incident


def say(text, user, channel=""):
    return chat.respond(text, [f"@{user.username}"], prefix="/incident", channel=channel)


def holders(incident, role):
    return sorted(p.user.username for p in incident.participants.filter(role=role, left_at=None).select_related("user"))


@pytest.mark.django_db
def test_the_procedures_forms_act_on_the_channels_incident(people, room):
    commander, responder, viewer, manager = people
    alice = UserFactory(username="alice", commander=True)
    ContactMethodFactory(user=alice, channel="chat")  # @alice
    bob = UserFactory(username="bob", responder=True)  # no handle: found by username
    other = IncidentFactory(actor=commander)

    reply = say("ack", responder, ROOM)
    room.refresh_from_db()
    assert reply.ok and reply.as_slack()["response_type"] == "in_channel", reply.text
    assert room.status == Incident.Status.INVESTIGATING and f"acknowledged *{room.reference}*" in reply.text
    assert room.timeline.get(kind=TimelineEvent.Kind.ACKNOWLEDGED).actor == responder

    assert say("severity SEV-1", commander, ROOM).ok
    assert Incident.objects.get(pk=room.pk).severity.name == "SEV-1"

    reply = say("commander @alice", commander, ROOM)
    assert reply.ok and f"{alice} is now incident commander of *{room.reference}*" in reply.text
    assert f"taking over from {commander} (set by {commander})" in reply.text
    assert reply.as_slack()["response_type"] == "in_channel"
    assert holders(room, Role.COMMANDER) == ["alice"]

    reply = say("tech-lead @bob", alice, ROOM)  # the new commander may assign the leads
    assert reply.ok and "technical lead of" in reply.text and reply.as_slack()["response_type"] == "in_channel"
    assert holders(room, Role.TECHNICAL_LEAD) == ["bob"]

    reply = say("resolve Rolled back; checkout healthy", alice, ROOM)
    room.refresh_from_db()
    assert reply.ok and room.status == Incident.Status.RESOLVED
    assert room.resolution_summary == "Rolled back; checkout healthy"
    # None of it touched the other incident.
    other.refresh_from_db()
    assert other.status == Incident.Status.TRIGGERED and other.severity.name == "SEV-2"
    assert not other.participants.filter(user__in=[alice, bob]).exists()
    assert set(room.timeline.filter(source=Source.CHAT).values_list("kind", flat=True)) == {
        TimelineEvent.Kind.ACKNOWLEDGED, TimelineEvent.Kind.SEVERITY_CHANGED, TimelineEvent.Kind.ROLE_ASSIGNED,
        TimelineEvent.Kind.RESOLVED,
    }


@pytest.mark.django_db
def test_an_explicit_reference_typed_in_a_channel_wins(people, room):
    commander, responder, viewer, manager = people
    other = IncidentFactory(actor=commander, severity=severity("SEV-3"))
    assert say(f"/incident ack {other.reference}", responder, ROOM).ok
    assert say(f"severity {other.reference} SEV-2", manager, ROOM).ok
    assert say(f"tech-lead {other.number} @responder", manager, ROOM).ok
    assert say(f"note #{other.number} Disk full on db-2", responder, ROOM).ok
    other.refresh_from_db()
    room.refresh_from_db()
    assert other.status == Incident.Status.INVESTIGATING and other.severity.name == "SEV-2"
    assert holders(other, Role.TECHNICAL_LEAD) == ["responder"]
    assert other.timeline.get(kind=TimelineEvent.Kind.NOTE).message == "Disk full on db-2"
    assert room.status == Incident.Status.TRIGGERED and not room.timeline.filter(source=Source.CHAT).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text, example",
    [
        ("ack", "ack INC-42"),
        ("severity SEV-2", "severity INC-42 &lt;severity&gt;"),
        ("commander @alice", "commander INC-42 @alice"),
        ("tech-lead @bob", "tech-lead INC-42 @bob"),
        ("comms-lead @carol", "comms-lead INC-42 @carol"),
        ("scribe @dan", "scribe INC-42 @dan"),
        ("sme @erin", "sme INC-42 @erin"),
        ("release tech-lead", "release INC-42 tech-lead"),
        ("mitigated Rolled back", "mitigated INC-42 &lt;how&gt;"),
        ("note Disk full", "note INC-42 &lt;text&gt;"),
        ("update Rolled back", "update INC-42 &lt;text&gt;"),
        ("resolve", "resolve INC-42 [summary]"),
        ("timeline", "timeline INC-42"),
    ],
)
def test_outside_an_incidents_channel_a_command_without_a_reference_says_what_to_type(people, incident, text, example):
    commander, responder, viewer, manager = people
    open_room(incident)
    for channel in ("", "C0GENERAL1"):  # no channel, or a channel that is no incident's war room
        reply = say(text, manager, channel)
        assert not reply.ok and reply.as_slack()["response_type"] == "ephemeral"
        assert reply.sections[0] == f":warning: Say which incident: `{example}`, or type it in the incident's channel.", reply.text
        assert reply.sections[1].startswith("Usage: `/incident ")
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED
    assert not incident.timeline.filter(source=Source.CHAT).exists()


@pytest.mark.django_db
def test_a_bare_number_before_text_is_text_in_a_channel_and_the_incident_elsewhere(people, room):
    commander, responder, viewer, manager = people
    five_hundred = IncidentFactory(actor=commander)
    Incident.objects.filter(pk=five_hundred.pk).update(number=500)

    reply = say("note 500 errors since 10:02", responder, ROOM)
    assert reply.ok and f"Note on *{room.reference}*" in reply.text
    assert room.timeline.get(kind=TimelineEvent.Kind.NOTE).message == "500 errors since 10:02"
    assert not Incident.objects.get(number=500).timeline.filter(kind=TimelineEvent.Kind.NOTE).exists()

    assert say("note 500 errors since 10:02", responder).ok  # outside: INC-500, as always
    assert say("note 500 errors since 10:02", responder, "C0GENERAL1").ok  # a channel that is no war room
    assert list(Incident.objects.get(number=500).timeline.filter(kind=TimelineEvent.Kind.NOTE).values_list("message", flat=True)) == [
        "errors since 10:02", "errors since 10:02",
    ]
    assert room.timeline.filter(kind=TimelineEvent.Kind.NOTE).count() == 1


@pytest.mark.django_db
def test_every_role_from_the_channel_with_handovers_and_several_experts(people, room):
    commander, responder, viewer, manager = people
    for name in ("bob", "carol", "dan", "erin", "frank"):
        UserFactory(username=name, responder=True)
    for text in ("tl @bob", "cl @carol", "scribe @dan", "sme @erin", "expert @frank"):
        reply = say(text, commander, ROOM)
        assert reply.ok and reply.as_slack()["response_type"] == "in_channel", (text, reply.text)
    assert holders(room, Role.TECHNICAL_LEAD) == ["bob"]
    assert holders(room, Role.COMMUNICATIONS_LEAD) == ["carol"]
    assert holders(room, Role.SCRIBE) == ["dan"]
    assert holders(room, Role.SUBJECT_MATTER_EXPERT) == ["erin", "frank"]
    assert "joins *" in say("sme @responder", commander, ROOM).text
    assert holders(room, Role.SUBJECT_MATTER_EXPERT) == ["erin", "frank", "responder"]

    reply = say("comms-lead @bob", commander, ROOM)
    assert "is now communications lead of" in reply.text and "taking over from" in reply.text
    assert holders(room, Role.COMMUNICATIONS_LEAD) == ["bob"]
    events = room.timeline.filter(kind=TimelineEvent.Kind.ROLE_ASSIGNED, source=Source.CHAT)
    assert events.count() == 7 and not events.exclude(actor=commander).exists()

    again = say("sme @erin", commander, ROOM)
    assert not again.ok and "already subject-matter expert" in again.text


@pytest.mark.django_db
def test_role_refusals_name_the_permission_the_unknown_person_and_the_usage(people, room):
    commander, responder, viewer, manager = people
    refused = say("tech-lead @viewer", responder, ROOM)
    assert not refused.ok and f"may not assign the technical lead of {room.reference}" in refused.text
    assert "command permission" in refused.text and refused.as_slack()["response_type"] == "ephemeral"
    assert "may not add a subject-matter expert" in say("sme @viewer", viewer, ROOM).text
    unknown = say("scribe @nobody", commander, ROOM)
    assert not unknown.ok and "No active Vigil user has the chat handle @nobody" in unknown.text
    assert "Usage: `/incident scribe [<INC>] <@user>`" in unknown.text
    assert not room.participants.filter(role__in=[Role.TECHNICAL_LEAD, Role.SCRIBE, Role.SUBJECT_MATTER_EXPERT]).exists()


@pytest.mark.django_db
def test_release_by_role_by_person_and_the_refusals(people, room):
    commander, responder, viewer, manager = people
    erin = UserFactory(username="erin", responder=True)
    bob = UserFactory(username="bob", responder=True)
    for text in ("tl @bob", "sme @erin", "sme @bob"):
        assert say(text, commander, ROOM).ok

    nobody = say("release scribe", commander, ROOM)
    assert not nobody.ok and nobody.text == f"Nobody is scribe of {room.reference}."
    which = say("release sme", commander, ROOM)
    assert not which.ok and f"{room.reference} has 2 subject-matter experts: " in which.text
    assert str(erin) in which.text and str(bob) in which.text and f"`release {room.reference} sme @" in which.text
    wrong = say("release tech-lead @erin", commander, ROOM)
    assert not wrong.ok and f"is not technical lead of {room.reference} ({bob} is)" in wrong.text
    assert not say("release tl", responder, ROOM).ok  # releasing needs command rights
    unknown = say("release @nobody", commander, ROOM)
    assert "No active Vigil user has the chat handle @nobody" in unknown.text and "Usage: `/incident release" in unknown.text
    assert not room.timeline.filter(kind=TimelineEvent.Kind.ROLE_RELEASED).exists()

    reply = say("release sme @erin", commander, ROOM)
    assert reply.ok and reply.as_slack()["response_type"] == "in_channel"
    assert f"{erin} is no longer subject-matter expert of *{room.reference}*" in reply.text
    assert holders(room, Role.SUBJECT_MATTER_EXPERT) == ["bob"]

    reply = say("release @bob", commander, ROOM)  # every role bob holds
    assert reply.ok and "is no longer technical lead and subject-matter expert" in reply.text
    assert holders(room, Role.TECHNICAL_LEAD) == [] and holders(room, Role.SUBJECT_MATTER_EXPERT) == []
    released = room.timeline.filter(kind=TimelineEvent.Kind.ROLE_RELEASED, source=Source.CHAT, actor=commander)
    assert released.count() == 3
    assert say("release @bob", commander, ROOM).text == f"{bob} holds no role on {room.reference}."
    other = IncidentFactory(actor=commander, commander=responder)
    assert say(f"release {other.reference} commander", manager, ROOM).ok  # an explicit reference wins
    assert holders(other, Role.COMMANDER) == [] and holders(room, Role.COMMANDER) == ["ic"]


@pytest.mark.django_db
def test_mitigated_moves_the_incident_to_monitoring_with_how(people, room):
    commander, responder, viewer, manager = people
    assert not say("mitigated Rolled back", viewer, ROOM).ok
    say("ack", responder, ROOM)
    reply = say("mitigated Rolled back deploy 1234 <!channel>", responder, ROOM)
    room.refresh_from_db()
    assert reply.ok and reply.as_slack()["response_type"] == "in_channel", reply.text
    assert f"marked *{room.reference}*" in reply.text and "mitigated (Rollback); it is now monitoring" in reply.text
    assert "&lt;!channel&gt;" in reply.text and "<!channel>" not in reply.text
    assert room.status == Incident.Status.MONITORING and room.mitigated_at is not None
    assert room.mitigation == Incident.Mitigation.ROLLBACK
    assert room.mitigation_notes == "Rolled back deploy 1234 <!channel>"
    event = room.timeline.filter(source=Source.CHAT).latest("occurred_at", "pk")
    assert event.kind == TimelineEvent.Kind.STATUS_CHANGED and event.actor == responder
    assert event.message == "Status investigating → monitoring: mitigated — Rolled back deploy 1234 <!channel>"
    assert room.timeline.filter(source=Source.CHAT, kind=TimelineEvent.Kind.STATUS_CHANGED).count() == 1

    again = say("mitigated still fine", responder, ROOM)
    assert not again.ok and f"{room.reference} is already monitoring." in again.text


@pytest.mark.django_db
def test_mitigated_from_triggered_acknowledges_and_a_resolved_incident_refuses(people, incident):
    commander, responder, viewer, manager = people
    reply = say(f"mitigated {incident.reference} failed over to eu-west-2", responder)
    incident.refresh_from_db()
    assert reply.ok and incident.status == Incident.Status.MONITORING and incident.acknowledged_at is not None
    assert incident.mitigation == Incident.Mitigation.FAILOVER
    assert incident.timeline.get(kind=TimelineEvent.Kind.ACKNOWLEDGED).actor == responder
    resolved = IncidentFactory(actor=commander, resolved=True)
    refused = say(f"mitigated {resolved.reference} nodes replaced", commander)
    assert not refused.ok and f"{resolved.reference} is resolved; reopen it first." in refused.text


@pytest.mark.django_db
def test_note_needs_the_respond_permission_and_is_internal(people, room):
    commander, responder, viewer, manager = people
    refused = say("note checking the db", viewer, ROOM)
    assert not refused.ok and f"may not take notes on {room.reference}" in refused.text
    reply = say("note checking the db", responder, ROOM)
    note = room.timeline.get(kind=TimelineEvent.Kind.NOTE)
    assert reply.ok and note.actor == responder and note.source == Source.CHAT
    assert note.visibility == TimelineEvent.Visibility.INTERNAL and note.message == "checking the db"


@pytest.mark.django_db
def test_status_and_timeline_without_an_argument_show_the_channels_incident(people, room):
    commander, responder, viewer, manager = people
    IncidentFactory(actor=commander, title="Search slow")
    actions.add_note(room, "Looking at the load balancer", actor=commander, source=Source.ADMIN)
    status = say("status", viewer, ROOM)
    assert status.sections[0].startswith(f"*{room.reference}*") and "Search slow" not in status.text
    assert status.as_slack()["response_type"] == "ephemeral"
    timeline = say("timeline", viewer, ROOM)
    assert timeline.sections[0].startswith(f"*{room.reference}*") and "Looking at the load balancer" in timeline.text
    everything = say("status all", viewer, ROOM).text
    assert "*Open incidents*" in everything and "Search slow" in everything and room.title in everything
    assert "*Open incidents*" in say("status", viewer).text  # outside a channel: the list, as before


@pytest.mark.django_db
def test_declare_is_create(people):
    commander, responder, viewer, manager = people
    reply = say("declare SEV-2 Checkout errors", responder, ROOM)
    incident = Incident.objects.get()
    assert reply.ok and incident.title == "Checkout errors" and incident.severity.name == "SEV-2"
    assert incident.timeline.get(kind=TimelineEvent.Kind.DECLARED).source == Source.CHAT


@pytest.mark.django_db
def test_a_restricted_incidents_channel_answers_only_the_person_typing(people):
    commander, responder, viewer, manager = people
    breach = IncidentFactory(actor=manager, title="Credential leak", is_restricted=True)
    open_room(breach, "G0PRIVATE1")
    for text in ("ack", "note rotating keys", "tech-lead @responder", "status"):
        reply = say(text, responder, "G0PRIVATE1")  # not a participant: the incident does not exist for them
        assert reply.text == f"No incident {breach.reference}.", text
    for text in ("ack", "note rotating keys", "tech-lead @responder", "mitigated keys rotated", "release tech-lead"):
        reply = say(text, manager, "G0PRIVATE1")
        assert reply.ok, (text, reply.text)
        assert reply.as_slack()["response_type"] == "ephemeral", text
    breach.refresh_from_db()
    assert breach.status == Incident.Status.MONITORING and holders(breach, Role.TECHNICAL_LEAD) == []


@pytest.mark.django_db
def test_execute_fills_the_incident_from_the_channel_or_refuses(people, incident):
    commander, responder, viewer, manager = people
    refused = chat.execute(Ack(None), responder)
    assert not refused.ok and "Say which incident: `ack INC-42`" in refused.text
    assert chat.execute(Ack(None), responder, channel_incident=incident).ok
    assert Incident.objects.get(pk=incident.pk).status == Incident.Status.INVESTIGATING


@pytest.mark.django_db
def test_lookups_in_a_channel_take_a_bounded_number_of_queries(people, room, django_assert_max_num_queries):
    commander, responder, viewer, manager = people
    for n in range(5):
        IncidentFactory(actor=commander, title=f"Other {n}")
    for n in range(20):
        actions.add_note(room, f"note {n}", actor=commander, source=Source.ADMIN)
    for text in ("status", "timeline"):
        with django_assert_max_num_queries(10):
            reply = say(text, viewer, ROOM)
        assert reply.ok and reply.sections[0].startswith(f"*{room.reference}*"), text


@pytest.mark.django_db
def test_a_release_of_nothing_built_by_hand_is_refused_with_the_usage(people, incident):
    commander, responder, viewer, manager = people
    reply = chat.execute(Release(incident.number), manager, prefix="/incident")
    assert not reply.ok and reply.sections[0] == ":warning: Say which role or whom to release."
    assert reply.sections[1].startswith("Usage: `/incident release [<INC>] <role> [<@user>]`")
