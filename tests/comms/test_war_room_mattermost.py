"""The war room on Mattermost (REST API v4) against a local fake server: the same opening,
invitations and archive as on Slack, through the same interface."""

import pytest

from comms.models import Channel
from comms.warroom import providers
from comms.warroom.providers import ChatProviderError, NameTaken
from tests.comms.factories import ContactMethodFactory
from tests.comms.fake_mattermost import FakeMattermost
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import UserFactory


@pytest.fixture
def mattermost(settings, db):
    server = FakeMattermost().start()
    settings.VIGIL_CHAT_PROVIDER = "mattermost"
    settings.VIGIL_MATTERMOST_URL = server.url
    settings.VIGIL_MATTERMOST_TOKEN = server.token
    settings.VIGIL_MATTERMOST_TEAM_ID = server.team_id
    settings.VIGIL_MATTERMOST_TEAM_NAME = "acme"
    settings.VIGIL_WAR_ROOM_TIMEOUT_SECONDS = 0.5
    yield server
    server.stop()



def test_the_provider_speaks_rest_v4(mattermost):
    provider = providers.connected()
    assert (provider.name, provider.name_limit) == ("mattermost", 64)
    channel = provider.create_channel("inc-9-db", private=True)
    assert channel.url == f"{mattermost.url}/acme/channels/inc-9-db"
    assert mattermost.channels[channel.id]["type"] == "P"
    with pytest.raises(NameTaken):
        provider.create_channel("inc-9-db", private=True)
    assert provider.find_channel("inc-9-db") == channel and provider.find_channel("nope") is None
    dana = mattermost.add_user("dana", "dana@example.com")
    assert provider.find_member(handle="@dana") == dana
    assert provider.find_member(email="dana@example.com") == dana
    assert provider.find_member(handle="@nobody", email="nobody@example.com") is None
    provider.invite(channel.id, [dana])
    provider.set_topic(channel.id, "INC-9 SEV-1")
    assert provider.post(channel.id, "hello").startswith("mmpost")
    provider.archive(channel.id)
    assert (mattermost.channels[channel.id]["members"], mattermost.channels[channel.id]["header"]) == ([dana], "INC-9 SEV-1")
    assert mattermost.channels[channel.id]["deleted"] is True


def test_errors_say_whether_they_pass(mattermost, settings):
    provider = providers.connected()
    mattermost.fail_next(503)
    with pytest.raises(ChatProviderError) as caught:
        provider.create_channel("inc-1", private=False)
    assert caught.value.transient
    settings.VIGIL_MATTERMOST_TOKEN = "wrong"
    with pytest.raises(ChatProviderError) as caught:
        providers.connected().create_channel("inc-1", private=False)
    assert not caught.value.transient and "Invalid or expired session" in caught.value.message


def test_declaring_opens_the_channel_and_invites_by_username(mattermost, eager, django_capture_on_commit_callbacks):
    ic = UserFactory(username="ic-mm", email="ic@example.com")
    member = mattermost.add_user("iris", "someone-else@example.com")
    ContactMethodFactory(user=ic, channel=Channel.CHAT, address="@iris")
    with django_capture_on_commit_callbacks(execute=True):
        incident = IncidentFactory(title="Queue stuck", severity=severity("SEV-1"), actor=ic, commander=ic)
    [channel] = mattermost.channels.values()
    assert channel["name"] == f"inc-{incident.number}-queue-stuck" and channel["members"] == [member]
    assert channel["header"].startswith(f"{incident.reference} SEV-1: Queue stuck")
    incident.refresh_from_db()
    assert incident.war_room_url == f"{mattermost.url}/acme/channels/{channel['name']}"
    assert len([c for c in mattermost.calls if c[:2] == ("POST", "channels")]) == 1
