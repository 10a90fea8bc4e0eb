"""Chat commands: the parser (every command and its malformed variants), who the chat user is,
and the executor against real incidents — permissions as in the admin, restricted incidents
hidden, domain errors as replies, Slack-safe text."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from comms import chat
from comms.chat import Ack, AssignRole, Create, Help, Oncall, ParseError, Resolve, Severity, Status, Timeline, Update
from incidents import actions
from incidents.models import Incident, Participant, Source, TimelineEvent
from tests.comms.factories import ContactMethodFactory
from tests.incidents.factories import IncidentFactory, ServiceFactory, severity
from tests.oncall.factories import (
    EscalationDelayFactory,
    EscalationLevelFactory,
    EscalationPolicyFactory,
    LayerFactory,
    ScheduleFactory,
    UserFactory,
)

# --- The parser ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, command",
    [
        ("create SEV-1 Checkout is down", Create("SEV-1", "Checkout is down")),
        ("create sev2   Payments   slow", Create("sev2", "Payments   slow")),
        ("declare 3 Search degraded", Create("3", "Search degraded")),
        ("/incident create sev-4 Typo on the status page", Create("sev-4", "Typo on the status page")),
        # Which words name the severity is the executor's to say: it knows the organisation's names.
        ("create critical Checkout down", Create("critical", "Checkout down")),
        ("create sev 1 Checkout down", Create("sev", "1 Checkout down")),
        ("ack INC-42", Ack(42)),
        ("ACK inc42", Ack(42)),
        ("acknowledge 42", Ack(42)),
        ("ack #7", Ack(7)),
        ("status", Status(None)),
        ("status INC-3", Status(3)),
        ("update INC-5 Rolled back the deploy", Update(5, "Rolled back the deploy", False)),
        ("update 5 --external We are investigating", Update(5, "We are investigating", True)),
        ("update -e INC-5 We are investigating", Update(5, "We are investigating", True)),
        ("update INC-5 Fixed for most users -e", Update(5, "Fixed for most users", True)),
        ("update INC-5 --internal Still digging", Update(5, "Still digging", False)),
        ("update 5 line one\nline two", Update(5, "line one\nline two", False)),
        ("severity INC-9 SEV-1", Severity(9, "SEV-1")),
        ("sev 9 sev2", Severity(9, "sev2")),
        ("severity 9 3", Severity(9, "3")),
        ("severity 5 high", Severity(5, "high")),
        ("severity 5 sev 1", Severity(5, "sev 1")),
        ("severity 5 1 2", Severity(5, "1 2")),
        ("commander INC-2 @alice", AssignRole(2, "commander", ("@alice",))),
        ("ic 2 alice", AssignRole(2, "commander", ("alice",))),
        ("commander 2 <@U024BE7LH|alice>", AssignRole(2, "commander", ("U024BE7LH", "@alice"))),
        ("commander 2 <@U024BE7LH>", AssignRole(2, "commander", ("U024BE7LH",))),
        ("resolve INC-4", Resolve(4, "")),
        ("resolve INC-4 Rolled back; error rate normal", Resolve(4, "Rolled back; error rate normal")),
        ("timeline INC-8", Timeline(8)),
        ("oncall", Oncall("")),
        ("oncall Checkout API", Oncall("Checkout API")),
        ("who checkout-api", Oncall("checkout-api")),
        ("help", Help("")),
        ("help ack", Help("ack")),
        ("help /acknowledge", Help("ack")),
        ("", Help("")),
        ("   ", Help("")),
        ("/incident", Help("")),
    ],
)
def test_the_parser_reads_every_command(text, command):
    assert chat.parse(text) == command


@pytest.mark.parametrize(
    "text, message, usage_of",
    [
        ("launch the rockets", "I don't know the command `launch`", ""),
        ("create", "how severe", "create"),
        ("create SEV-1", "needs a title", "create"),
        ("ack INC-x", "`INC-x` is not an incident reference", "ack"),
        ("ack 0", "`0` is not an incident reference; write `INC-42`, `#42` or `42`", "ack"),
        ("ack 42 43", "takes only the incident", "ack"),
        ("status 1 2", "at most one incident", "status"),
        ("status yesterday", "not an incident reference", "status"),
        ("update", "Say which incident", "update"),
        ("update 5", "needs some text", "update"),
        ("update 5 -e", "needs some text", "update"),
        ("update -e", "Say which incident", "update"),
        ("update -e 5 -i both", "either internal or external", "update"),
        ("severity", "Say the new severity", "severity"),
        ("severity 5", "new severity", "severity"),
        ("commander 5", "who takes command", "commander"),
        ("commander 5 @a @b", "who takes command", "commander"),
        ("timeline 1 2", "takes only the incident", "timeline"),
        ("ack <!channel>", "`&lt;!channel&gt;` is not an incident reference", "ack"),
    ],
)
def test_malformed_commands_say_what_is_wrong_and_whose_usage_to_show(text, message, usage_of):
    with pytest.raises(ParseError) as caught:
        chat.parse(text)
    assert message in caught.value.message
    assert caught.value.command == usage_of


@pytest.mark.django_db
def test_usage_lists_every_command_and_one_command_on_its_own():
    everything = chat.usage(prefix="/incident")
    for word in ("create", "ack", "status", "update", "severity", "commander", "resolve", "timeline", "oncall", "help"):
        assert f"`/incident {word}" in everything
    assert chat.usage("update").startswith("Usage: `update [<INC>] [--external|-e] <text>`")
    assert "e.g. `create SEV-2 Checkout errors`" in everything
    assert everything.endswith(
        "a severity is SEV-1 (Critical), SEV-2 (High), SEV-3 (Medium), SEV-4 (Low) or a rank 1–4; names and labels in any case."
    )


# --- Who is typing ------------------------------------------------------------------------------


def chat_handle(user, address=None, **kwargs):
    return ContactMethodFactory(user=user, channel="chat", **({"address": address} if address else {}), **kwargs)


@pytest.mark.django_db
def test_a_chat_user_is_found_by_handle_with_or_without_at_or_by_slack_id(responder):
    chat_handle(responder, "@Responder")
    other = UserFactory(username="slackperson")
    chat_handle(other, "U024BE7LH")
    assert chat.find_chat_user(["responder"]) == responder
    assert chat.find_chat_user(["@responder"]) == responder
    assert chat.find_chat_user(["U024BE7LH", "@responder"]) == other  # the id first
    assert chat.find_chat_user(["U999", "@responder"]) == responder  # then the name


@pytest.mark.django_db
def test_inactive_contacts_users_and_other_channels_do_not_map(responder, viewer):
    chat_handle(responder, "@gone", is_active=False)
    ContactMethodFactory(user=viewer, channel="email", address="viewer@example.com")
    leaver = UserFactory(username="leaver", is_active=False)
    chat_handle(leaver)
    for handle in ("@gone", "viewer@example.com", "@leaver"):
        with pytest.raises(chat.UnknownChatUser):
            chat.find_chat_user([handle])


@pytest.mark.django_db
def test_a_handle_on_two_people_is_refused_rather_than_guessed(responder, viewer):
    chat_handle(responder, "@ops")
    chat_handle(viewer, "ops")
    with pytest.raises(chat.UnknownChatUser) as caught:
        chat.find_chat_user(["@ops"])
    assert caught.value.ambiguous


@pytest.mark.django_db
def test_an_unknown_chat_user_gets_a_helpful_reply():
    reply = chat.respond("ack INC-1", ["@stranger"], prefix="/incident").as_slack()
    assert reply["response_type"] == "ephemeral"
    assert "I don't know who you are in Vigil" in reply["text"] and "@stranger" in reply["text"]
    assert "contact methods" in reply["text"] and "`/incident ack [<INC>]`" in reply["text"]


@pytest.mark.django_db
def test_help_needs_no_mapping():
    reply = chat.respond("help", ["@stranger"]).as_slack()
    assert reply["response_type"] == "ephemeral" and "`timeline [<INC>]`" in reply["text"]
    assert chat.respond("help resolve", []).text.startswith("Usage: `resolve [<INC>] [summary]`")


# --- The executor --------------------------------------------------------------------------------


@pytest.fixture
def people(commander, responder, viewer, manager):
    for user in (commander, responder, viewer, manager):
        chat_handle(user)
    return commander, responder, viewer, manager


def say(text, user):
    return chat.respond(text, [f"@{user.username}"])


@pytest.mark.django_db
def test_create_declares_through_the_action_as_the_chat_user(people):
    commander, responder, viewer, manager = people
    reply = say("create SEV-1 Checkout <!channel> & errors", responder)
    incident = Incident.objects.get()
    assert incident.severity.name == "SEV-1" and incident.title == "Checkout <!channel> & errors"
    declared = incident.timeline.get(kind=TimelineEvent.Kind.DECLARED)
    assert declared.source == Source.CHAT and declared.actor == responder
    slack = reply.as_slack()
    assert slack["response_type"] == "in_channel"
    assert incident.reference in slack["text"] and "Checkout &lt;!channel&gt; &amp; errors" in slack["text"]
    assert "<!channel>" not in slack["text"]
    assert all(block["type"] == "section" and block["text"]["type"] == "mrkdwn" for block in slack["blocks"])
    assert "<!channel>" not in str(slack["blocks"])


@pytest.mark.django_db
def test_create_is_refused_without_the_declare_permission_and_for_unknown_severities(people):
    commander, responder, viewer, manager = people
    reply = say("create sev1 Checkout down", viewer)
    assert not reply.ok and "may not declare incidents" in reply.text and "incidents.add_incident" in reply.text
    assert reply.as_slack()["response_type"] == "ephemeral"
    reply = say("create sev9 Checkout down", responder)
    assert "Unknown severity 'sev9'" in reply.text and "SEV-1 (Critical)" in reply.text
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_ack_acknowledges_and_a_second_ack_replies_with_the_domain_error(people, incident):
    commander, responder, viewer, manager = people
    assert not say(f"ack {incident.reference}", viewer).ok  # viewers may not respond
    reply = say(f"ack {incident.number}", responder)
    incident.refresh_from_db()
    assert incident.acknowledged_at is not None and incident.status == Incident.Status.INVESTIGATING
    assert reply.as_slack()["response_type"] == "in_channel" and "acknowledged *INC-" in reply.text
    event = incident.timeline.get(kind=TimelineEvent.Kind.ACKNOWLEDGED)
    assert event.actor == responder and event.source == Source.CHAT
    again = say(f"ack {incident.reference}", responder)
    assert not again.ok and "already acknowledged" in again.text
    assert again.as_slack()["response_type"] == "ephemeral"


@pytest.mark.django_db
def test_viewer_refusal_says_what_is_needed(people, incident):
    commander, responder, viewer, manager = people
    reply = say(f"ack {incident.reference}", viewer)
    assert f"may not acknowledge {incident.reference}" in reply.text and "respond permission" in reply.text
    assert Incident.objects.get(pk=incident.pk).acknowledged_at is None


@pytest.mark.django_db
def test_update_on_a_triggered_incident_says_it_is_still_unacknowledged(people, incident):
    commander, responder, viewer, manager = people
    reply = say(f"update {incident.reference} Looking at the database", responder)
    assert reply.ok and reply.sections[-1] == (
        f":warning: {incident.reference} is still not acknowledged (an update does not acknowledge it); "
        f"`ack {incident.reference}` stops the paging."
    )
    assert Incident.objects.get(pk=incident.pk).acknowledged_at is None
    say(f"ack {incident.reference}", responder)
    again = say(f"update {incident.reference} Failing over", responder)
    assert "acknowledge" not in again.text
    assert "it does not acknowledge" in chat.usage("update")


@pytest.mark.django_db
def test_update_is_internal_by_default_and_external_with_the_flag(people, incident):
    commander, responder, viewer, manager = people
    say(f"update {incident.reference} Rolled back <the> deploy", responder)
    reply = say(f"update {incident.reference} -e We are seeing errors at checkout", responder)
    updates = list(incident.timeline.filter(kind=TimelineEvent.Kind.STATUS_UPDATE).order_by("occurred_at", "pk"))
    assert [(u.message, u.visibility) for u in updates] == [
        ("Rolled back <the> deploy", "internal"),
        ("We are seeing errors at checkout", "external"),
    ]
    assert updates[0].source == Source.CHAT and updates[0].actor == responder
    assert reply.as_slack()["response_type"] == "in_channel" and "External (customer-facing) update" in reply.text
    assert not say(f"update {incident.reference} hello", viewer).ok


@pytest.mark.django_db
def test_severity_needs_the_command_permission(people, incident):
    commander, responder, viewer, manager = people
    refused = say(f"severity {incident.reference} SEV-1", responder)
    assert not refused.ok and "command permission" in refused.text
    reply = say(f"severity {incident.reference} sev1", manager)
    incident.refresh_from_db()
    assert incident.severity.name == "SEV-1"
    assert "escalated" in reply.text and reply.as_slack()["response_type"] == "in_channel"
    same = say(f"severity {incident.reference} 1", manager)
    assert not same.ok and "already SEV-1" in same.text


@pytest.mark.django_db
def test_a_severity_is_its_name_label_or_rank_and_may_be_typed_with_a_space(people, incident):
    commander, responder, viewer, manager = people
    say("create sev 1 Checkout  down", responder)
    say("create low Typo on the status page", responder)
    assert [(i.severity.name, i.title) for i in Incident.objects.exclude(pk=incident.pk).order_by("number")] == [
        ("SEV-1", "Checkout  down"), ("SEV-4", "Typo on the status page"),
    ]
    say(f"severity {incident.reference} critical", manager)
    assert Incident.objects.get(pk=incident.pk).severity.name == "SEV-1"
    say(f"severity {incident.reference} Sev 3", manager)
    assert Incident.objects.get(pk=incident.pk).severity.name == "SEV-3"
    refused = say(f"severity {incident.reference} 1 2", manager)
    assert not refused.ok and refused.text.startswith(
        ":warning: Unknown severity '1 2'; use one of SEV-1 (Critical), SEV-2 (High), SEV-3 (Medium), SEV-4 (Low) or a rank 1–4."
    )
    assert "Usage: `severity [<INC>] <severity>` — re-rate an incident, e.g. `severity INC-42 SEV-1`." in refused.text
    assert Incident.objects.get(pk=incident.pk).severity.name == "SEV-3"


@pytest.mark.django_db
def test_the_incidents_own_commander_may_command_it_without_the_group_permission(people):
    commander, responder, viewer, manager = people
    incident = IncidentFactory(actor=manager, commander=responder)
    reply = say(f"severity {incident.reference} SEV-3", responder)
    assert reply.ok and Incident.objects.get(pk=incident.pk).severity.name == "SEV-3"


@pytest.mark.django_db
def test_commander_hands_the_role_over_by_handle_or_slack_mention(people, incident):
    commander, responder, viewer, manager = people
    reply = say(f"commander {incident.reference} @responder", commander)
    assert reply.ok and reply.as_slack()["response_type"] == "in_channel"
    current = incident.participants.get(role=Participant.Role.COMMANDER, left_at=None)
    assert current.user == responder
    chat_handle(manager, "U0MANAGER1")
    say(f"commander {incident.reference} <@U0MANAGER1|someone>", responder)  # the new commander may hand over
    assert incident.participants.get(role=Participant.Role.COMMANDER, left_at=None).user == manager
    assert incident.timeline.filter(kind=TimelineEvent.Kind.ROLE_ASSIGNED, source=Source.CHAT).count() == 2


@pytest.mark.django_db
def test_commander_of_an_unknown_person_or_by_someone_without_the_right(people, incident):
    commander, responder, viewer, manager = people
    unknown = say(f"commander {incident.reference} @nobody", commander)
    assert not unknown.ok and "No active Vigil user has the chat handle @nobody" in unknown.text
    assert "Usage: `commander" in unknown.text
    refused = say(f"commander {incident.reference} @responder", viewer)
    assert not refused.ok and "may not assign the commander" in refused.text
    already = say(f"commander {incident.reference} @ic", commander)
    assert not already.ok and "already incident commander" in already.text


@pytest.mark.django_db
def test_a_username_works_as_the_commander_when_nobody_has_it_as_a_handle(people, incident):
    commander, responder, viewer, manager = people
    colleague = UserFactory(username="carol", commander=True)
    assert say(f"commander {incident.reference} @carol", commander).ok
    assert incident.participants.get(role=Participant.Role.COMMANDER, left_at=None).user == colleague


@pytest.mark.django_db
def test_resolve_with_and_without_a_summary_then_the_lifecycle_says_no(people, incident):
    commander, responder, viewer, manager = people
    assert not say(f"resolve {incident.reference}", responder).ok
    reply = say(f"resolve {incident.reference} Rolled back & verified", commander)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED and incident.resolution_summary == "Rolled back & verified"
    assert reply.as_slack()["response_type"] == "in_channel" and "\n> Rolled back &amp; verified" in reply.text
    again = say(f"resolve {incident.reference}", commander)
    assert not again.ok and again.as_slack()["response_type"] == "ephemeral"
    other = IncidentFactory(actor=commander, severity=severity("SEV-3"))  # SEV-3 may resolve without one
    assert say(f"resolve {other.reference}", manager).ok


@pytest.mark.django_db
def test_resolving_a_sev1_without_a_summary_says_what_to_write_and_how(people):
    commander, responder, viewer, manager = people
    incident = IncidentFactory(actor=commander, severity=severity("SEV-1"))
    reply = chat.respond(f"resolve {incident.reference}", [f"@{commander.username}"], prefix="/vigil")
    assert not reply.ok and reply.as_slack()["response_type"] == "ephemeral"
    assert reply.sections == [
        ":warning: SEV-1 incidents need a resolution summary: what was wrong, what fixed it, and what customers saw. "
        f"Write it after the incident: `resolve {incident.reference} <summary>`.",
        "Usage: `/vigil resolve [<INC>] [summary]` — resolve an incident.",
    ]
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED and incident.resolved_at is None
    assert not incident.timeline.filter(kind=TimelineEvent.Kind.RESOLVED).exists()

    reply = chat.respond(f"resolve {incident.reference} Bad deploy; rolled back; checkout failed for 10 min", [f"@{commander.username}"])
    incident.refresh_from_db()
    assert reply.ok and incident.status == Incident.Status.RESOLVED
    assert incident.resolution_summary == "Bad deploy; rolled back; checkout failed for 10 min"


@pytest.mark.django_db
def test_status_of_one_incident(people, incident):
    commander, responder, viewer, manager = people
    actions.post_update(incident, "Looking at the database", actor=commander, source=Source.ADMIN)
    reply = say(f"status {incident.reference}", viewer)
    slack = reply.as_slack()
    assert slack["response_type"] == "ephemeral"
    assert incident.reference in slack["text"] and "Triggered" in slack["text"] and "Not acknowledged" in slack["text"]
    assert str(commander) in slack["text"] and "Looking at the database" in slack["text"]
    assert "Checkout API" in slack["text"]


@pytest.mark.django_db
def test_status_lists_the_open_incidents_visible_to_the_user_most_severe_first_and_bounded(people):
    commander, responder, viewer, manager = people
    IncidentFactory(actor=commander, title="Minor typo", severity=severity("SEV-4"))
    IncidentFactory(actor=commander, title="Checkout down", severity=severity("SEV-1"))
    IncidentFactory(actor=commander, title="Old one", resolved=True)
    IncidentFactory(actor=manager, title="Secret breach", is_restricted=True)
    text = say("status", viewer).text
    assert text.index("Checkout down") < text.index("Minor typo")
    assert "Old one" not in text and "Secret breach" not in text
    assert "Secret breach" in say("status", manager).text
    for n in range(chat.STATUS_LIMIT):
        IncidentFactory(actor=commander, title=f"Flood {n}")
    text = say("status", viewer).text
    assert text.count("• ") == chat.STATUS_LIMIT
    assert "…and 2 more" in text


@pytest.mark.django_db
def test_status_with_no_open_incidents(people):
    assert "No open incidents" in say("status", people[2]).text


@pytest.mark.django_db
def test_restricted_incidents_the_user_may_not_see_do_not_exist_for_them(people):
    commander, responder, viewer, manager = people
    breach = IncidentFactory(actor=manager, title="Credential leak", is_restricted=True)
    for text in (f"status {breach.reference}", f"ack {breach.reference}", f"timeline {breach.number}",
                 f"resolve {breach.reference}", f"update {breach.reference} hi", f"severity {breach.reference} 1"):
        reply = say(text, responder)
        assert reply.text == f"No incident {breach.reference}.", text
    assert say("status INC-999", responder).text == "No incident INC-999."
    assert "Credential leak" in say(f"status {breach.reference}", manager).text
    assert Incident.objects.get(pk=breach.pk).acknowledged_at is None


@pytest.mark.django_db
def test_changes_to_a_restricted_incident_are_answered_to_the_person_typing_only(people):
    """The channel is wider than a restricted incident's participants: its changes are not
    announced there, while an ordinary incident's are."""
    commander, responder, viewer, manager = people
    breach = IncidentFactory(actor=manager, title="Credential leak", is_restricted=True)
    for text in (f"ack {breach.reference}", f"update {breach.reference} rotating keys",
                 f"severity {breach.reference} 1", f"resolve {breach.reference} keys rotated"):
        reply = say(text, manager)
        assert reply.ok, (text, reply.text)
        assert reply.as_slack()["response_type"] == "ephemeral", text
    ordinary = IncidentFactory(actor=manager, title="Checkout down")
    assert say(f"ack {ordinary.reference}", manager).as_slack()["response_type"] == "in_channel"
    created = say("create SEV-2 Leaked token", manager)
    assert created.as_slack()["response_type"] == "in_channel"


@pytest.mark.django_db
def test_timeline_shows_the_last_ten_events_oldest_first_escaped(people, incident):
    commander, responder, viewer, manager = people
    for n in range(12):
        actions.add_note(incident, f"note {n} <@U123>", actor=commander, source=Source.ADMIN)
    reply = say(f"timeline {incident.reference}", viewer)
    text = reply.text
    assert "note 11" in text and "note 2 " in text and "note 1 " not in text and "Declared" not in text
    assert text.index("note 2 ") < text.index("note 11")
    assert "<@U123>" not in text and "&lt;@U123&gt;" in text
    assert f"last {chat.TIMELINE_LIMIT} of" in text
    assert reply.as_slack()["response_type"] == "ephemeral"


@pytest.mark.django_db
def test_timeline_times_are_in_the_users_zone(people, incident):
    commander, responder, viewer, manager = people
    viewer.time_zone = "Asia/Tokyo"
    viewer.save()
    declared = incident.timeline.get(kind=TimelineEvent.Kind.DECLARED).occurred_at
    local = timezone.localtime(declared, dt.timezone(dt.timedelta(hours=9)))
    assert f"{local:%d %b %H:%M}" in say(f"timeline {incident.reference}", viewer).text


@pytest.mark.django_db
@time_machine.travel(dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.timezone.utc), tick=False)
def test_oncall_names_each_schedules_current_person(people):
    commander, responder, viewer, manager = people
    platform = ScheduleFactory(name="Platform")
    LayerFactory(schedule=platform, members=[responder, commander])
    ScheduleFactory(name="Empty")
    reply = say("oncall", viewer)
    assert reply.as_slack()["response_type"] == "ephemeral"
    # Weekly from Monday 5 January 2026: 4 March is week 8, so the first member again.
    assert f"*Platform*: {responder}" in reply.text
    assert "*Empty*: nobody" in reply.text


@pytest.mark.django_db
@time_machine.travel(dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.timezone.utc), tick=False)
def test_oncall_for_a_service_is_its_policys_level_one_targets_now(people):
    commander, responder, viewer, manager = people
    schedule = ScheduleFactory(name="Payments rota")
    LayerFactory(schedule=schedule, members=[commander])
    policy = EscalationPolicyFactory(name="Payments policy")
    first = EscalationLevelFactory(policy=policy, position=1, name="On-call engineer", users=[manager], schedules=[schedule])
    EscalationDelayFactory(level=first, severity_rank=1, delay=dt.timedelta(0))
    EscalationLevelFactory(policy=policy, position=2, name="Team lead", users=[viewer])
    ServiceFactory(name="Payments", slug="payments", escalation_policy=policy)
    for name in ("Payments", "payments", "PAYMENTS"):
        text = say(f"oncall {name}", viewer).text
        assert str(manager) in text and str(commander) in text and str(viewer) not in text
        assert "Payments policy, level 1: On-call engineer" in text
    unknown = say("oncall Billing", viewer)
    assert not unknown.ok and "no service called `Billing`" in unknown.text and "Payments" in unknown.text


@pytest.mark.django_db
def test_oncall_needs_the_schedule_permission(people):
    nobody = UserFactory(username="nobody")
    chat_handle(nobody)
    assert "may not see who is on call" in say("oncall", nobody).text


@pytest.mark.django_db
def test_execute_takes_parsed_commands_directly(people, incident):
    commander, responder, viewer, manager = people
    reply = chat.execute(Ack(incident.number), responder)
    assert reply.ok and Incident.objects.get(pk=incident.pk).acknowledged_at is not None


@pytest.mark.django_db
def test_long_text_is_clipped_to_slacks_limits(people, incident):
    commander, responder, viewer, manager = people
    reply = say(f"update {incident.reference} {'x' * 9000}", responder)
    assert reply.ok
    assert all(len(block["text"]["text"]) <= 3000 for block in reply.as_slack()["blocks"])
