"""The war room against a local server that speaks Slack's Web API (tests/comms/fake_slack.py):
declaring opens one channel and brings the responders in, failures land on the timeline and the
sweeper retries, nothing is ever made twice, and the channel is archived when the incident closes.

Celery runs eagerly here (`eager`): the after-commit reactions queue the real tasks, which run at
once, against the real database and the fake server."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from comms import tasks
from comms.models import Channel, WarRoom, WarRoomMember
from comms.warroom import naming, rooms
from incidents import actions, engine
from incidents.models import Incident, Participant, Source, TimelineEvent
from tests.comms.factories import ContactMethodFactory
from tests.comms.fake_slack import FakeChannel
from tests.incidents.factories import IncidentFactory, publish_postmortem, severity
from tests.oncall.factories import UserFactory

Kind = TimelineEvent.Kind
ADMIN = Source.ADMIN



@pytest.fixture
def ic(db, fake_slack):
    """The commander: a chat contact holding their Slack member id."""
    user = UserFactory(username="ic-war", first_name="Iris", last_name="Cole", email="iris@example.com")
    ContactMethodFactory(user=user, channel=Channel.CHAT, address="U0IRIS001")
    fake_slack.add_user("iris-other@example.com", "U0IRIS001")
    return user


def declare(django_capture_on_commit_callbacks, **kwargs) -> Incident:
    with django_capture_on_commit_callbacks(execute=True):
        incident = IncidentFactory(**kwargs)
    incident.refresh_from_db()
    return incident


def act(django_capture_on_commit_callbacks, action, *args, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return action(*args, **kwargs)


def war_room_events(incident) -> list[tuple[str, str]]:
    kinds = [Kind.WAR_ROOM_OPENED, Kind.WAR_ROOM_FAILED, Kind.WAR_ROOM_ARCHIVED]
    return list(incident.timeline.filter(kind__in=kinds).order_by("pk").values_list("kind", "message"))


def sweep_later(django_capture_on_commit_callbacks, minutes: int) -> dict:
    """Beat's war-room sweep, `minutes` from now."""
    with time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=True):
        with django_capture_on_commit_callbacks(execute=True):
            return tasks.sweep_war_rooms()


def test_declaring_a_sev1_opens_one_channel_and_invites_the_commander_and_the_paged_engineer(
    eager, fake_slack, ic, oncall_engineer, service, django_capture_on_commit_callbacks, settings
):
    fake_slack.add_user("alice@example.com", "U0ALICE01")
    incident = declare(
        django_capture_on_commit_callbacks, title="Checkout API down", severity=severity("SEV-1"), actor=ic,
        commander=ic, services=[service],
    )
    name = f"inc-{incident.number}-checkout-api-down"
    assert [c.name for c in fake_slack.channels.values()] == [name]
    channel = fake_slack.channel_named(name)
    assert channel.is_private is False
    assert channel.topic == (
        f"{incident.reference} SEV-1: Checkout API down | {settings.VIGIL_BASE_URL}/admin/incidents/incident/{incident.pk}/change/"
    )
    assert channel.members == ["U0IRIS001"]
    assert (incident.war_room_name, incident.war_room_url) == (name, f"https://acme.slack.com/archives/{channel.id}")
    assert war_room_events(incident) == [(Kind.WAR_ROOM_OPENED, f"War room opened: #{name}")]

    # The engine pages Alice (level 1): she joins as a responder and is invited.
    with django_capture_on_commit_callbacks(execute=True):
        engine.tick()
    assert Participant.objects.filter(incident=incident, user=oncall_engineer, left_at=None).exists()
    assert channel.members == ["U0IRIS001", "U0ALICE01"]
    assert [c["users"] for c in fake_slack.called("conversations.invite")] == ["U0IRIS001", "U0ALICE01"]

    # The task again, and the sweeper: nothing new.
    assert tasks.open_war_room(incident.pk) == "nothing to do"
    assert sweep_later(django_capture_on_commit_callbacks, 10) == {"open": 0, "invite": 0, "archive": 0}
    assert len(fake_slack.called("conversations.create")) == 1 and len(fake_slack.channels) == 1


def test_a_provider_that_times_out_after_making_the_channel_does_not_make_a_second(
    eager, fake_slack, ic, django_capture_on_commit_callbacks
):
    fake_slack.fail("conversations.create", "timeout", sleep=1.2)
    incident = declare(django_capture_on_commit_callbacks, title="Payments slow", severity=severity("SEV-1"), actor=ic, commander=ic)
    room = WarRoom.objects.get(incident=incident)
    assert (room.state, room.attempts, room.channel_id) == (WarRoom.State.OPENING, 1, "")
    assert "no answer within 0.5 s" in room.last_error
    assert war_room_events(incident) == [
        (Kind.WAR_ROOM_FAILED, "Could not open the war room: Slack conversations.create: no answer within 0.5 s. "
         "Vigil tries again in 30 s.")
    ]
    made = fake_slack.channel_named(f"inc-{incident.number}-payments-slow")
    assert made is not None  # Slack made it; the answer was lost

    # The task delivered twice: the second finds the room held for its retry.
    assert tasks.open_war_room(incident.pk) == "nothing to do"
    # The sweeper, once the retry is due: Slack says the name is taken, and it is ours.
    assert sweep_later(django_capture_on_commit_callbacks, 1)["open"] == 1
    room.refresh_from_db()
    assert (room.state, room.channel_id, room.name) == (WarRoom.State.OPEN, made.id, made.name)
    assert len(fake_slack.channels) == 1
    assert len(fake_slack.called("conversations.create")) == 2 and len(fake_slack.called("conversations.list")) == 1
    assert made.members == ["U0IRIS001"] and made.topic.startswith(f"{incident.reference} SEV-1: Payments slow")
    assert [kind for kind, _ in war_room_events(incident)] == [Kind.WAR_ROOM_FAILED, Kind.WAR_ROOM_OPENED]


def test_a_provider_that_is_down_leaves_the_incident_declared_and_the_sweeper_opens_it_later(
    eager, fake_slack, ic, django_capture_on_commit_callbacks
):
    fake_slack.down()
    incident = declare(django_capture_on_commit_callbacks, title="Search down", severity=severity("SEV-2"), actor=ic, commander=ic)
    assert incident.status == "triggered" and incident.war_room_name == ""
    [(kind, message)] = war_room_events(incident)
    assert kind == Kind.WAR_ROOM_FAILED
    assert message.startswith("Could not open the war room: Slack conversations.create: could not reach Slack")

    # Still down at the first retry: one more attempt, nothing more on the timeline.
    assert sweep_later(django_capture_on_commit_callbacks, 1)["open"] == 1
    assert WarRoom.objects.get(incident=incident).attempts == 2
    assert len(war_room_events(incident)) == 1
    # Not due yet (60 s backoff now): the sweeper leaves it.
    assert sweep_later(django_capture_on_commit_callbacks, 1)["open"] == 0

    fake_slack.up()
    assert sweep_later(django_capture_on_commit_callbacks, 3)["open"] == 1
    incident.refresh_from_db()
    assert incident.war_room_name == f"inc-{incident.number}-search-down"
    assert [kind for kind, _ in war_room_events(incident)] == [Kind.WAR_ROOM_FAILED, Kind.WAR_ROOM_OPENED]
    assert len(fake_slack.channels) == 1


def test_the_sweeper_gives_up_after_the_last_attempt_and_says_so(
    eager, fake_slack, ic, settings, django_capture_on_commit_callbacks
):
    settings.VIGIL_WAR_ROOM_MAX_ATTEMPTS = 2
    fake_slack.fail("conversations.create", "error", error="invalid_auth", times=5)
    incident = declare(django_capture_on_commit_callbacks, title="DB", severity=severity("SEV-1"), actor=ic, commander=ic)
    sweep_later(django_capture_on_commit_callbacks, 1)
    room = WarRoom.objects.get(incident=incident)
    assert (room.state, room.attempts, room.next_attempt_at) == (WarRoom.State.GAVE_UP, 2, None)
    assert [message for _, message in war_room_events(incident)] == [
        "Could not open the war room: Slack conversations.create: Slack refused the bot token: check the chat "
        "workspace's bot token. Vigil tries again in 30 s.",
        "Could not open the war room: Slack conversations.create: Slack refused the bot token: check the chat "
        "workspace's bot token. Gave up after 2 attempts.",
    ]
    assert sweep_later(django_capture_on_commit_callbacks, 120)["open"] == 0


def test_a_sev3_a_drill_and_no_workspace_open_nothing(eager, fake_slack, ic, settings, django_capture_on_commit_callbacks):
    declare(django_capture_on_commit_callbacks, severity=severity("SEV-3"), actor=ic, commander=ic)
    declare(django_capture_on_commit_callbacks, severity=severity("SEV-1"), actor=ic, commander=ic, is_drill=True)
    settings.VIGIL_CHAT_PROVIDER = "none"
    declare(django_capture_on_commit_callbacks, severity=severity("SEV-1"), actor=ic, commander=ic)
    assert fake_slack.calls == [] and not WarRoom.objects.exists()
    assert tasks.sweep_war_rooms() == {"open": 0, "invite": 0, "archive": 0}


def test_raising_the_severity_to_one_that_opens_war_rooms_opens_one(eager, fake_slack, ic, django_capture_on_commit_callbacks):
    incident = declare(django_capture_on_commit_callbacks, title="Latency", severity=severity("SEV-3"), actor=ic, commander=ic)
    assert fake_slack.calls == []
    act(django_capture_on_commit_callbacks, actions.change_severity, incident, severity("SEV-2"), actor=ic, source=ADMIN)
    assert [c.name for c in fake_slack.channels.values()] == [f"inc-{incident.number}-latency"]
    assert fake_slack.open_channels()[0].topic.startswith(f"{incident.reference} SEV-2: Latency")


def test_a_later_role_holder_is_invited_and_someone_without_a_chat_account_is_named_once(
    eager, fake_slack, ic, django_capture_on_commit_callbacks
):
    incident = declare(django_capture_on_commit_callbacks, title="Queue backlog", severity=severity("SEV-1"), actor=ic, commander=ic)
    bob = UserFactory(username="bob", first_name="Bob", last_name="Okafor", email="bob@example.com")
    fake_slack.add_user("bob@example.com", "U0BOB0001")  # found by his account's email
    act(django_capture_on_commit_callbacks, actions.assign_role, incident, bob, "technical_lead", actor=ic, source=ADMIN)
    channel = fake_slack.open_channels()[0]
    assert channel.members == ["U0IRIS001", "U0BOB0001"]
    assert fake_slack.called("users.lookupByEmail") == [{"email": "bob@example.com"}]

    carol = UserFactory(username="carol", first_name="Carol", last_name="Diaz", email="carol@example.com")
    act(django_capture_on_commit_callbacks, actions.assign_role, incident, carol, "scribe", actor=ic, source=ADMIN)
    act(django_capture_on_commit_callbacks, actions.assign_role, incident, carol, "sme", actor=ic, source=ADMIN)
    assert channel.members == ["U0IRIS001", "U0BOB0001"]
    failures = [m for k, m in war_room_events(incident) if k == Kind.WAR_ROOM_FAILED]
    assert failures == [
        f"Could not invite Carol Diaz to the war room #{channel.name}: no Slack account matches their chat contact "
        "or email. Add their chat member id as a chat contact method."
    ]
    assert WarRoomMember.objects.get(user=carol).chat_user_id == ""
    assert sweep_later(django_capture_on_commit_callbacks, 5)["invite"] == 0  # not retried for ever


def test_an_invite_that_fails_for_a_passing_reason_is_retried_by_the_sweeper(
    eager, fake_slack, ic, django_capture_on_commit_callbacks
):
    incident = declare(django_capture_on_commit_callbacks, title="CDN", severity=severity("SEV-1"), actor=ic, commander=ic)
    bob = UserFactory(username="bob", email="bob@example.com")
    fake_slack.add_user("bob@example.com", "U0BOB0001")
    fake_slack.fail("conversations.invite", "500")
    act(django_capture_on_commit_callbacks, actions.assign_role, incident, bob, "sme", actor=ic, source=ADMIN)
    channel = fake_slack.open_channels()[0]
    assert "U0BOB0001" not in channel.members
    assert sweep_later(django_capture_on_commit_callbacks, 1)["invite"] == 1
    assert channel.members == ["U0IRIS001", "U0BOB0001"]


def test_a_restricted_incident_gets_a_private_channel_and_a_topic_without_its_title(
    eager, fake_slack, ic, django_capture_on_commit_callbacks, settings
):
    settings.VIGIL_CALL_BRIDGE_URL = "https://meet.jit.si/acme-{reference}"
    incident = declare(
        django_capture_on_commit_callbacks, title="Breach at Acme", severity=severity("SEV-1"), actor=ic, commander=ic,
        is_restricted=True,
    )
    [channel] = fake_slack.channels.values()
    assert channel.is_private is True
    assert channel.name == incident.war_room_name == f"inc-{incident.number}"  # the template's {slug} left empty
    assert "Breach" not in channel.topic
    assert channel.topic.startswith(f"{incident.reference} SEV-1 (restricted) | ")
    assert channel.topic.endswith(f" | Call: https://meet.jit.si/acme-{incident.reference}")
    assert fake_slack.called("conversations.create")[0]["is_private"] is True


def test_a_name_taken_by_another_channel_gets_a_number(eager, fake_slack, ic, django_capture_on_commit_callbacks):
    number = (Incident.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    fake_slack.channels["CTAKEN001"] = FakeChannel(id="CTAKEN001", name=f"inc-{number}-db-down", is_private=False)
    fake_slack.channels["CTAKEN002"] = FakeChannel(id="CTAKEN002", name=f"inc-{number}-db-down-2", is_private=False)
    incident = declare(django_capture_on_commit_callbacks, title="DB down", severity=severity("SEV-1"), actor=ic, commander=ic)
    assert incident.number == number
    assert incident.war_room_name == f"inc-{number}-db-down-3"
    assert [c["name"] for c in fake_slack.called("conversations.create")] == [
        f"inc-{number}-db-down", f"inc-{number}-db-down-2", f"inc-{number}-db-down-3"
    ]
    assert fake_slack.called("conversations.list") == []  # names never asked for are someone else's


def test_archived_when_the_incident_closes(eager, fake_slack, ic, django_capture_on_commit_callbacks):
    incident = declare(django_capture_on_commit_callbacks, title="Login errors", severity=severity("SEV-2"), actor=ic, commander=ic)
    with django_capture_on_commit_callbacks(execute=True):
        incident = actions.acknowledge(incident, actor=ic, source=ADMIN)
        incident = actions.resolve(incident, actor=ic, source=ADMIN, summary="Rolled back")
        back = incident.severity.observation_period
        Incident.objects.filter(pk=incident.pk).update(
            **{f: getattr(incident, f) - back for f in ("detected_at", "declared_at", "acknowledged_at", "mitigated_at", "resolved_at") if getattr(incident, f)}
        )
        incident.refresh_from_db()
        publish_postmortem(incident)
    assert not fake_slack.called("conversations.archive")  # resolved is not closed
    act(django_capture_on_commit_callbacks, actions.close, incident, actor=ic, source=ADMIN)
    [channel] = fake_slack.channels.values()
    assert channel.archived
    assert WarRoom.objects.get(incident=incident).state == WarRoom.State.ARCHIVED
    assert war_room_events(incident)[-1] == (Kind.WAR_ROOM_ARCHIVED, f"War room #{channel.name} archived")


def test_not_archived_when_the_workspace_keeps_rooms(eager, fake_slack, ic, settings, django_capture_on_commit_callbacks):
    settings.VIGIL_WAR_ROOM_ARCHIVE_ON_CLOSE = False
    incident = declare(django_capture_on_commit_callbacks, severity=severity("SEV-2"), actor=ic, commander=ic)
    assert rooms.archive_room(incident.pk) == "nothing to do"
    assert not fake_slack.called("conversations.archive")


@pytest.mark.parametrize(
    "title, template, limit, expected",
    [
        ("Checkout API down", "inc-{number}-{slug}", 80, "inc-42-checkout-api-down"),
        ("Checkout. API down!", "{reference}_{date}", 80, "inc-42_2026-02-10"),
        ("Ünïcode Ärger in Zürich", "inc-{number}-{slug}", 80, "inc-42-unicode-arger-in-zurich"),
        ("x" * 200, "inc-{number}-{slug}", 80, "inc-42-" + "x" * 73),
        ("word " * 40, "{slug}-inc-{number}", 64, "word-" * 11 + "wo-inc-42"),
        ("", "inc-{number}-{slug}", 80, "inc-42"),
    ],
)
def test_channel_names_follow_the_template_within_the_limit(title, template, limit, expected):
    import datetime as dt

    name = naming.channel_name(template, number=42, title=title, declared_at=dt.datetime(2026, 2, 10), limit=limit)
    assert name == expected and len(name) <= limit


def test_suffixes_fit_the_limit():
    assert naming.with_suffix("inc-42-db", 1, 80) == "inc-42-db"
    assert naming.with_suffix("inc-42-db", 3, 80) == "inc-42-db-3"
    assert naming.with_suffix("inc-42-" + "x" * 73, 12, 80) == "inc-42-" + "x" * 70 + "-12"


def test_a_lost_task_is_made_up_by_the_sweeper(eager, fake_slack, ic, django_capture_on_commit_callbacks):
    """The broker lost the after-commit task (here: the commit's callbacks never run): the row
    written with the declaration is found by the sweeper once the outbox's grace period is over."""
    with django_capture_on_commit_callbacks(execute=False):
        incident = IncidentFactory(title="Lost", severity=severity("SEV-1"), actor=ic, commander=ic)
    assert fake_slack.calls == [] and WarRoom.objects.get(incident=incident).state == WarRoom.State.OPENING
    assert tasks.sweep_war_rooms()["open"] == 0  # within the grace period the task may still come
    assert sweep_later(django_capture_on_commit_callbacks, 1)["open"] == 1
    assert [c.name for c in fake_slack.open_channels()] == [f"inc-{incident.number}-lost"]


def test_the_declaration_and_an_update_appear_in_the_channel_through_the_outbox(
    eager, fake_slack, ic, django_capture_on_commit_callbacks, settings
):
    settings.VIGIL_CALL_BRIDGE_URL = "https://meet.jit.si/acme-{reference}"
    incident = declare(django_capture_on_commit_callbacks, title="Checkout API down", severity=severity("SEV-1"), actor=ic, commander=ic)
    channel = fake_slack.channel_named(incident.war_room_name)
    # The declaration waited for the room and went out as soon as it opened, with the bridge.
    assert channel.messages[0].startswith(f":rotating_light: *{incident.reference}* SEV-1 · Iris Cole declared SEV-1")
    assert f"<https://meet.jit.si/acme-{incident.reference}|Join the call>" in channel.messages[0]
    assert f"| Call: https://meet.jit.si/acme-{incident.reference}" in channel.topic

    act(django_capture_on_commit_callbacks, actions.post_update, incident, "Rolled back build 8812.", actor=ic, source=ADMIN)
    assert channel.messages[-1] == (
        f":memo: *{incident.reference}* SEV-1 · Internal update by Iris Cole:\n> Rolled back build 8812."
    )
    rows = incident.notifications.filter(channel=Channel.WAR_ROOM).order_by("pk")
    assert [(row.status, row.provider_id != "") for row in rows] == [("sent", True)] * len(channel.messages)
