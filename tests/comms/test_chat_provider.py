"""The Slack provider against a local server that speaks Slack's Web API: what it sends, and how
each kind of failure comes back (a name taken, an error, a 500, a rate limit, a timeout, a server
that is down)."""

import time

import pytest

from comms.warroom import providers
from comms.warroom.providers import ChatProviderError, NameTaken


@pytest.fixture
def slack(fake_slack, db):
    provider = providers.connected()
    assert provider is not None and provider.name == "slack" and provider.name_limit == 80
    return provider


def test_none_is_the_default_and_connects_nothing(db):
    assert providers.connected() is None


def test_a_channel_is_made_with_the_bot_token_and_linked_in_the_workspace(slack, fake_slack):
    channel = slack.create_channel("inc-42-checkout-down", private=False)
    assert channel.name == "inc-42-checkout-down"
    assert channel.url == f"https://acme.slack.com/archives/{channel.id}"
    assert fake_slack.calls[0].method == "conversations.create"
    assert fake_slack.calls[0].token == fake_slack.token
    assert fake_slack.channels[channel.id].is_private is False

    slack.set_topic(channel.id, "INC-42 SEV-1 Checkout down")
    ts = slack.post(channel.id, "Declared.")
    assert ts and fake_slack.channels[channel.id].topic == "INC-42 SEV-1 Checkout down"
    assert fake_slack.channels[channel.id].messages == ["Declared."]
    slack.archive(channel.id)
    slack.archive(channel.id)  # already archived: done
    assert fake_slack.channels[channel.id].archived


def test_a_private_channel_for_a_restricted_incident(slack, fake_slack):
    channel = slack.create_channel("inc-7", private=True)
    assert fake_slack.channels[channel.id].is_private is True


def test_a_taken_name_is_name_taken_and_find_channel_finds_it(slack, fake_slack):
    made = slack.create_channel("inc-1-db", private=False)
    with pytest.raises(NameTaken):
        slack.create_channel("inc-1-db", private=False)
    assert slack.find_channel("inc-1-db") == made
    assert slack.find_channel("inc-2") is None


def test_members_by_id_or_by_email(slack, fake_slack):
    fake_slack.add_user("bob@example.com", "U0BOB0001")
    assert slack.find_member(handle="U0ALICE01") == "U0ALICE01"  # a member id is used as is, no call
    assert fake_slack.calls == []
    assert slack.find_member(handle="@alice", email="bob@example.com") == "U0BOB0001"
    assert slack.find_member(email="nobody@example.com") is None


def test_invite_in_one_call_and_again_is_harmless(slack, fake_slack):
    fake_slack.add_user("a@example.com", "U0A000001")
    fake_slack.add_user("b@example.com", "U0B000001")
    channel = slack.create_channel("inc-3", private=False)
    slack.invite(channel.id, ["U0A000001", "U0B000001"])
    slack.invite(channel.id, ["U0A000001"])  # already in: Slack says already_in_channel
    assert fake_slack.channels[channel.id].members == ["U0A000001", "U0B000001"]
    assert [c["users"] for c in fake_slack.called("conversations.invite")] == ["U0A000001,U0B000001", "U0A000001"]


@pytest.mark.parametrize(
    "mode, error, transient, words",
    [
        ("error", "invalid_auth", False, "Slack refused the bot token"),
        ("error", "ratelimited", True, "rate limiting"),
        ("500", "", True, "HTTP 500"),
        ("ratelimited", "", True, "rate limiting"),
    ],
)
def test_provider_errors_say_what_happened_and_whether_it_may_pass(slack, fake_slack, mode, error, transient, words):
    fake_slack.fail("conversations.create", mode, error=error)
    with pytest.raises(ChatProviderError) as caught:
        slack.create_channel("inc-4", private=False)
    assert not isinstance(caught.value, NameTaken)
    assert caught.value.transient is transient
    assert words in caught.value.message and "conversations.create" in caught.value.message


def test_a_timeout_is_transient_and_the_channel_may_exist_anyway(slack, fake_slack):
    fake_slack.fail("conversations.create", "timeout", sleep=1.5)
    started = time.monotonic()
    with pytest.raises(ChatProviderError) as caught:
        slack.create_channel("inc-5", private=False)
    assert time.monotonic() - started < 1.4
    assert caught.value.transient and "no answer within 0.5 s" in caught.value.message
    assert fake_slack.channel_named("inc-5") is not None


def test_a_server_that_is_down_is_transient(slack, fake_slack):
    fake_slack.down()
    with pytest.raises(ChatProviderError) as caught:
        slack.create_channel("inc-6", private=False)
    assert caught.value.transient and "could not reach Slack" in caught.value.message
    fake_slack.up()
    assert slack.create_channel("inc-6", private=False).name == "inc-6"


def test_a_wrong_token_is_refused(fake_slack, settings, db):
    settings.VIGIL_SLACK_BOT_TOKEN = "xoxb-wrong"
    with pytest.raises(ChatProviderError) as caught:
        providers.connected().create_channel("inc-8", private=False)
    assert not caught.value.transient and "bot token" in caught.value.message
