"""Chat in over HTTP: /api/v1/chat/command (an API key with the chat scope; the key's owner is the
bot, the person acting is the mapped chat user) and /api/v1/chat/slack (Slack slash commands,
signed by Slack's own signing code from slack_sdk)."""

import datetime as dt
import time
from urllib.parse import urlencode

import pytest
import time_machine
from slack_sdk.signature import SignatureVerifier

from django.utils import timezone

from comms.models import WarRoom
from incidents.models import Incident, Participant, Source, TimelineEvent
from tests.api.keys import bearer
from tests.comms.factories import ContactMethodFactory
from tests.incidents.factories import IncidentFactory
from tests.oncall.factories import (
    ApiKeyFactory,
    EscalationLevelFactory,
    EscalationPolicyFactory,
    ScheduleFactory,
    UserFactory,
)

pytestmark = pytest.mark.usefixtures("fresh_rate_windows")

COMMAND = "/api/v1/chat/command"
SLACK = "/api/v1/chat/slack"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def people(commander, responder, viewer, manager):
    for user in (commander, responder, viewer, manager):
        ContactMethodFactory(user=user, channel="chat")  # @ic, @responder, @viewer, @manager
    return commander, responder, viewer, manager


@pytest.fixture
def bot(db):
    """The chat bot's key: its owner is a service account with no incident permissions at all."""
    return ApiKeyFactory(owner=UserFactory(username="chatbot", is_staff=False), scopes=["chat"])


def run(client, key, text, user, **extra):
    return client.post(
        COMMAND, {"text": text, "user": user, **extra}, content_type="application/json", **bearer(key)
    )


def open_room(incident, channel_id, provider="slack"):
    return WarRoom.objects.create(
        incident=incident, provider=provider, channel_id=channel_id, name=f"inc-{incident.number}",
        state="open", created_at=timezone.now(),
    )


# --- /chat/command ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_command_end_to_end(client, bot, people, service):
    commander, responder, viewer, manager = people
    ScheduleFactory(name="Platform")
    policy = EscalationPolicyFactory(name="Checkout policy")
    EscalationLevelFactory(policy=policy, position=1, users=[responder])
    service.escalation_policy = policy
    service.save()

    created = run(client, bot, "create SEV-2 Checkout errors", "@responder")
    assert created.status_code == 200 and created.json()["response_type"] == "in_channel"
    incident = Incident.objects.get()
    ref = incident.reference
    assert created.json()["blocks"][0]["text"]["type"] == "mrkdwn" and ref in created.json()["text"]

    steps = [
        (f"ack {ref}", "@responder", "in_channel"),
        (f"status {ref}", "@viewer", "ephemeral"),
        ("status", "viewer", "ephemeral"),
        (f"update {ref} Rolled back", "@responder", "in_channel"),
        (f"update {ref} --external We are recovering", "@responder", "in_channel"),
        (f"severity {ref} sev1", "@ic", "in_channel"),
        (f"commander {ref} @ic", "@manager", "in_channel"),
        (f"timeline {incident.number}", "@viewer", "ephemeral"),
        ("oncall", "@viewer", "ephemeral"),
        ("oncall Checkout API", "@viewer", "ephemeral"),
        (f"resolve {ref} Fixed by the rollback", "@ic", "in_channel"),
        ("help", "@viewer", "ephemeral"),
    ]
    for text, user, response_type in steps:
        response = run(client, bot, text, user)
        assert response.status_code == 200, text
        body = response.json()
        assert body["response_type"] == response_type, (text, body["text"])
        assert ":warning:" not in body["text"] and ":no_entry:" not in body["text"], (text, body["text"])

    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED and incident.severity.name == "SEV-1"
    assert incident.participants.get(role=Participant.Role.COMMANDER, left_at=None).user == commander
    chat_events = incident.timeline.filter(source=Source.CHAT)
    assert set(chat_events.values_list("kind", flat=True)) >= {
        TimelineEvent.Kind.DECLARED, TimelineEvent.Kind.ACKNOWLEDGED, TimelineEvent.Kind.STATUS_UPDATE,
        TimelineEvent.Kind.SEVERITY_CHANGED, TimelineEvent.Kind.ROLE_ASSIGNED, TimelineEvent.Kind.RESOLVED,
    }
    # The people acted, not the bot.
    assert not chat_events.filter(actor=bot.owner).exists()
    assert list(incident.timeline.filter(kind=TimelineEvent.Kind.STATUS_UPDATE).order_by("occurred_at").values_list("visibility", flat=True)) == ["internal", "external"]
    oncall = run(client, bot, "oncall Checkout API", "@viewer").json()["text"]
    assert str(responder) in oncall


@pytest.mark.django_db
def test_problems_with_the_command_are_200_replies_never_500(client, bot, people, incident):
    commander, responder, viewer, manager = people
    cases = [
        ("fly me to the moon", "@viewer", "I don't know the command"),
        ("ack", "@responder", "Say which incident"),
        ("create SEV-9 Something", "@responder", "Unknown severity 'SEV-9'"),
        ("ack INC-999", "@responder", "No incident INC-999."),
        (f"resolve {incident.reference}", "@viewer", "may not resolve"),
        (f"ack {incident.reference}", "@stranger", "I don't know who you are in Vigil"),
        (f"resolve {incident.reference} ok", "@ic", "resolved"),
        (f"resolve {incident.reference}", "@ic", "resolved"),  # the lifecycle refuses the second one
    ]
    for text, user, expected in cases:
        response = run(client, bot, text, user)
        assert response.status_code == 200, text
        assert expected in response.json()["text"], (text, response.json()["text"])
    assert run(client, bot, f"ack {incident.reference}", "@stranger").json()["response_type"] == "ephemeral"


@pytest.mark.django_db
def test_restricted_incidents_read_as_missing(client, bot, people):
    commander, responder, viewer, manager = people
    breach = IncidentFactory(actor=manager, is_restricted=True, title="Credential leak")
    reply = run(client, bot, f"status {breach.reference}", "@responder").json()
    assert reply["text"] == f"No incident {breach.reference}." and reply["response_type"] == "ephemeral"
    assert "Credential leak" in run(client, bot, f"status {breach.reference}", "@manager").json()["text"]


@pytest.mark.django_db
def test_no_key_is_401_and_a_key_without_the_chat_scope_is_403(client, people):
    response = client.post(COMMAND, {"text": "status", "user": "@viewer"}, content_type="application/json")
    assert response.status_code == 401 and "API key" in response.json()["detail"]
    reader = ApiKeyFactory(owner=people[3], scopes=["read", "write"])
    response = run(client, reader, "status", "@viewer")
    assert response.status_code == 403 and "'chat' scope" in response.json()["detail"]


@pytest.mark.django_db
def test_a_body_without_text_or_user_is_422(client, bot):
    response = client.post(COMMAND, {"text": "status"}, content_type="application/json", **bearer(bot))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "user"


# --- /chat/slack -------------------------------------------------------------------------------


def slack_form(text, *, user_id="U0RESPOND1", user_name="responder", command="/incident", channel_id="C2147483705"):
    return urlencode({
        "token": "deprecated-verification-token",
        "team_id": "T0001",
        "team_domain": "example",
        "channel_id": channel_id,
        "channel_name": "incidents",
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": "A123456",
        "response_url": "https://hooks.slack.com/commands/1234/5678",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
    })


def signed(body, *, secret=SECRET, timestamp=None):
    timestamp = str(int(time.time())) if timestamp is None else str(timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {"HTTP_X_SLACK_REQUEST_TIMESTAMP": timestamp, "HTTP_X_SLACK_SIGNATURE": signature}


def post_slack(client, body, headers):
    return client.post(SLACK, body, content_type="application/x-www-form-urlencoded", **headers)


@pytest.fixture
def slack_secret(settings):
    settings.SLACK_SIGNING_SECRET = SECRET
    return SECRET


@pytest.mark.django_db
def test_a_signed_slash_command_acts_as_the_slack_user(client, slack_secret, people, incident):
    commander, responder, viewer, manager = people
    ContactMethodFactory(user=responder, channel="chat", address="U0RESPOND1")
    body = slack_form(f"ack {incident.reference}")
    response = post_slack(client, body, signed(body))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response.json()["response_type"] == "in_channel"
    event = Incident.objects.get(pk=incident.pk).timeline.get(kind=TimelineEvent.Kind.ACKNOWLEDGED)
    assert event.actor == responder and event.source == Source.CHAT


@pytest.mark.django_db
def test_slack_falls_back_to_the_user_name_and_unescapes_what_slack_escaped(client, slack_secret, people):
    commander, responder, viewer, manager = people
    # No contact method with the member id: "@responder" (from user_name) maps.
    body = slack_form("create sev3 Search &lt;slow&gt; &amp; flaky", user_id="U0UNKNOWN9")
    response = post_slack(client, body, signed(body))
    assert response.status_code == 200 and response.json()["response_type"] == "in_channel"
    incident = Incident.objects.get()
    assert incident.title == "Search <slow> & flaky" and incident.created_by == responder
    assert "Search &lt;slow&gt; &amp; flaky" in response.json()["text"]


@pytest.mark.django_db
def test_slack_unknown_user_and_bad_commands_get_ephemeral_replies_with_the_slash_command(client, slack_secret, people):
    body = slack_form("ack INC-1", user_id="U0NOBODY11", user_name="nobody")
    reply = post_slack(client, body, signed(body)).json()
    assert reply["response_type"] == "ephemeral"
    assert "I don't know who you are in Vigil" in reply["text"] and "U0NOBODY11 or @nobody" in reply["text"]
    body = slack_form("frobnicate", command="/vigil")
    reply = post_slack(client, body, signed(body)).json()
    assert "I don't know the command" in reply["text"] and "`/vigil ack [<INC>]`" in reply["text"]


@pytest.mark.django_db
def test_slack_mentions_name_the_commander(client, slack_secret, people, incident):
    commander, responder, viewer, manager = people
    ContactMethodFactory(user=responder, channel="chat", address="U0RESPOND1")
    body = slack_form(f"commander {incident.reference} <@U0RESPOND1|responder>", user_id="U0IC000001", user_name="ic")
    assert post_slack(client, body, signed(body)).status_code == 200
    assert incident.participants.get(role=Participant.Role.COMMANDER, left_at=None).user == responder


@pytest.mark.django_db
def test_a_wrong_signature_is_401(client, slack_secret, people, incident):
    body = slack_form(f"ack {incident.reference}")
    headers = signed(body, secret="not-the-secret")
    response = post_slack(client, body, headers)
    assert response.status_code == 401 and "signature does not match" in response.json()["detail"]
    # A body changed after signing.
    headers = signed(body)
    response = post_slack(client, body.replace("ack", "resolve"), headers)
    assert response.status_code == 401
    assert Incident.objects.get(pk=incident.pk).acknowledged_at is None


@pytest.mark.django_db
def test_a_stale_or_future_timestamp_is_401(client, slack_secret, people, incident):
    body = slack_form(f"ack {incident.reference}")
    headers = signed(body)
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5, seconds=30), tick=False):
        response = post_slack(client, body, headers)
    assert response.status_code == 401 and "five minutes" in response.json()["detail"]
    future = signed(body, timestamp=int(time.time()) + 6 * 60)
    assert post_slack(client, body, future).status_code == 401
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=4), tick=False):
        assert post_slack(client, body, headers).status_code == 200  # within five minutes


@pytest.mark.django_db
@pytest.mark.parametrize("drop", ["HTTP_X_SLACK_SIGNATURE", "HTTP_X_SLACK_REQUEST_TIMESTAMP"])
def test_missing_headers_are_401(client, slack_secret, drop):
    body = slack_form("status")
    headers = signed(body)
    del headers[drop]
    response = post_slack(client, body, headers)
    assert response.status_code == 401 and "Missing" in response.json()["detail"]


@pytest.mark.django_db
def test_a_timestamp_that_is_not_a_number_is_401(client, slack_secret):
    body = slack_form("status")
    headers = signed(body, timestamp="yesterday")
    assert post_slack(client, body, headers).status_code == 401


@pytest.mark.django_db
def test_an_empty_signing_secret_refuses_everything(client, settings, people):
    settings.SLACK_SIGNING_SECRET = ""
    body = slack_form("status")
    # Even a request "signed" with an empty key (what an unconfigured server would compute).
    import hashlib
    import hmac

    timestamp = str(int(time.time()))
    forged = "v0=" + hmac.new(b"", f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    response = post_slack(client, body, {"HTTP_X_SLACK_REQUEST_TIMESTAMP": timestamp, "HTTP_X_SLACK_SIGNATURE": forged})
    assert response.status_code == 401 and "SLACK_SIGNING_SECRET" in response.json()["detail"]
    assert post_slack(client, body, signed(body)).status_code == 401


@pytest.mark.django_db
def test_slack_needs_no_api_key_or_csrf_token_and_ignores_a_bad_key(people, slack_secret):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    body = slack_form("status", user_id="U0VIEWER01", user_name="viewer")
    response = post_slack(client, body, signed(body))
    assert response.status_code == 200 and "No open incidents" in response.json()["text"]
    response = post_slack(client, body, {**signed(body), "HTTP_AUTHORIZATION": "Bearer vigil_wrong"})
    assert response.status_code == 200


# --- In an incident's war-room channel ------------------------------------------------------------


@pytest.mark.django_db
def test_slack_commands_in_the_war_room_need_no_reference(client, slack_secret, people, incident):
    commander, responder, viewer, manager = people
    ContactMethodFactory(user=responder, channel="chat", address="U0RESPOND1")
    ContactMethodFactory(user=commander, channel="chat", address="U0IC000001")
    bob = UserFactory(username="bob", responder=True)
    ContactMethodFactory(user=bob, channel="chat", address="U0BOB00001")
    open_room(incident, "C0WARROOM1")
    other = IncidentFactory(actor=commander)

    def slash(text, user_id, user_name):
        body = slack_form(text, user_id=user_id, user_name=user_name, channel_id="C0WARROOM1")
        response = post_slack(client, body, signed(body))
        assert response.status_code == 200, text
        return response.json()

    steps = [
        ("ack", "U0RESPOND1", "responder"),
        ("severity SEV-1", "U0IC000001", "ic"),
        ("tech-lead <@U0BOB00001|bob>", "U0IC000001", "ic"),
        ("comms-lead @responder", "U0IC000001", "ic"),
        ("note 500 errors since 10:02", "U0RESPOND1", "responder"),
        ("mitigated rolled back deploy 1234", "U0RESPOND1", "responder"),
        ("release comms-lead", "U0IC000001", "ic"),
        ("resolve Rolled back; checkout healthy", "U0IC000001", "ic"),
    ]
    for text, user_id, user_name in steps:
        reply = slash(text, user_id, user_name)
        assert reply["response_type"] == "in_channel", (text, reply["text"])
        assert incident.reference in reply["text"], (text, reply["text"])
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED and incident.severity.name == "SEV-1"
    assert incident.mitigation == Incident.Mitigation.ROLLBACK and incident.mitigation_notes == "rolled back deploy 1234"
    assert incident.participants.get(role=Participant.Role.TECHNICAL_LEAD, left_at=None).user == bob
    assert not incident.participants.filter(role=Participant.Role.COMMUNICATIONS_LEAD, left_at=None).exists()
    assert incident.timeline.get(kind=TimelineEvent.Kind.NOTE).message == "500 errors since 10:02"
    assert not other.timeline.filter(source=Source.CHAT).exists()

    # An explicit reference wins; the slash command's own form is kept in refusals.
    assert slash(f"ack {other.reference}", "U0RESPOND1", "responder")["response_type"] == "in_channel"
    assert Incident.objects.get(pk=other.pk).status == Incident.Status.INVESTIGATING
    body = slack_form("tech-lead @bob", user_id="U0IC000001", user_name="ic", channel_id="C0GENERAL1")
    reply = post_slack(client, body, signed(body)).json()
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith(
        ":warning: Say which incident: `tech-lead INC-42 @bob`, or type it in the incident's channel."
    )
    assert "`/incident tech-lead [<INC>] <@user>`" in reply["text"]


@pytest.mark.django_db
def test_the_command_endpoint_takes_the_channel(client, bot, people, incident):
    commander, responder, viewer, manager = people
    open_room(incident, "C0WARROOM1")
    reply = run(client, bot, "ack", "@responder", channel="C0WARROOM1").json()
    assert reply["response_type"] == "in_channel" and incident.reference in reply["text"]
    assert Incident.objects.get(pk=incident.pk).status == Incident.Status.INVESTIGATING
    reply = run(client, bot, "sme @viewer", "@ic", channel="C0WARROOM1").json()
    assert reply["response_type"] == "in_channel", reply["text"]
    assert incident.participants.get(role=Participant.Role.SUBJECT_MATTER_EXPERT).user == viewer
    reply = run(client, bot, "note checking replicas", "@responder").json()  # no channel: say which
    assert reply["response_type"] == "ephemeral" and "Say which incident: `note INC-42 &lt;text&gt;`" in reply["text"]
    too_long = run(client, bot, "ack", "@responder", channel="C" * 255)
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "channel"
    described = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["ChatCommandIn"]["properties"]["channel"]
    assert "war-room channel" in described["description"]


# --- /chat/mattermost ----------------------------------------------------------------------------

MATTERMOST = "/api/v1/chat/mattermost"
MM_TOKEN = "xbxo9pkmz3gdbyjgpu7kpw5ppq"


def mattermost_form(text, *, token=MM_TOKEN, user_id="rrr9t1x4mjfzbq6oc5ycw8fjyo", user_name="responder", channel_id="mmroom000000000000000000aa"):
    return urlencode({
        "channel_id": channel_id, "channel_name": "inc-1-checkout", "command": "/incident", "response_url": "http://mm/hooks/x",
        "team_domain": "example", "team_id": "tttt", "text": text, "token": token, "trigger_id": "abc",
        "user_id": user_id, "user_name": user_name,
    })


def post_mattermost(client, body):
    return client.post(MATTERMOST, body, content_type="application/x-www-form-urlencoded")


@pytest.mark.django_db
def test_a_mattermost_slash_command_with_its_token_acts_in_its_channel(client, settings, people, incident):
    commander, responder, viewer, manager = people
    settings.MATTERMOST_COMMAND_TOKEN = MM_TOKEN
    open_room(incident, "mmroom000000000000000000aa", provider="mattermost")
    response = post_mattermost(client, mattermost_form("ack"))
    assert response.status_code == 200 and response.json()["response_type"] == "in_channel"
    event = Incident.objects.get(pk=incident.pk).timeline.get(kind=TimelineEvent.Kind.ACKNOWLEDGED)
    assert event.actor == responder and event.source == Source.CHAT  # found by @user_name
    reply = post_mattermost(client, mattermost_form("tech-lead @viewer", user_name="ic")).json()
    assert reply["response_type"] == "in_channel" and "technical lead" in reply["text"]
    assert incident.participants.get(role=Participant.Role.TECHNICAL_LEAD, left_at=None).user == viewer
    reply = post_mattermost(client, mattermost_form("frobnicate")).json()
    assert reply["response_type"] == "ephemeral" and "`/incident ack [<INC>]`" in reply["text"]


@pytest.mark.django_db
def test_a_wrong_or_unset_mattermost_token_is_401(client, settings, people, incident):
    settings.MATTERMOST_COMMAND_TOKEN = MM_TOKEN
    response = post_mattermost(client, mattermost_form(f"ack {incident.reference}", token="not-the-token"))
    assert response.status_code == 401 and "token does not match" in response.json()["detail"]
    assert post_mattermost(client, mattermost_form(f"ack {incident.reference}", token="")).status_code == 401
    settings.MATTERMOST_COMMAND_TOKEN = ""
    response = post_mattermost(client, mattermost_form(f"ack {incident.reference}", token=""))
    assert response.status_code == 401 and "MATTERMOST_COMMAND_TOKEN" in response.json()["detail"]
    assert Incident.objects.get(pk=incident.pk).acknowledged_at is None
