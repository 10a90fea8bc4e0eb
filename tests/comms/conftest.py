"""Fixtures the comms tests share: the on-call engineer who is paged, and the mail that arrives."""

import pytest

from comms.models import Channel
from tests.comms import recording
from tests.comms.factories import ContactMethodFactory
from tests.oncall.factories import UserFactory, staff_default_policy


@pytest.fixture
def oncall_engineer(db):
    """Alice is level 1 of the default policy, reachable by email and SMS, with default rules."""
    alice = UserFactory(username="alice", first_name="Alice", last_name="Chen", email="alice@example.com")
    ContactMethodFactory(user=alice, channel=Channel.SMS, address="+447700900001")
    staff_default_policy(alice)
    return alice


@pytest.fixture
def mail(settings, mailoutbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return mailoutbox


@pytest.fixture
def sms(settings):
    """SMS recorded in memory (Twilio's API cannot run here): what was sent, in order."""
    settings.VIGIL_SMS_BACKEND = "tests.comms.recording.RecordingSMSBackend"
    recording.reset()
    yield recording.SENT
    recording.reset()


@pytest.fixture
def fake_slack(settings):
    """A local server speaking Slack's Web API (tests/comms/fake_slack.py), with Vigil's chat
    workspace pointed at it: provider slack, its bot token, a 0.5 s timeout."""
    from tests.comms.fake_slack import FakeSlack

    server = FakeSlack().start()
    settings.VIGIL_CHAT_PROVIDER = "slack"
    settings.VIGIL_SLACK_BOT_TOKEN = server.token
    settings.VIGIL_SLACK_API_URL = server.url
    settings.VIGIL_SLACK_WORKSPACE_URL = "https://acme.slack.com"
    settings.VIGIL_WAR_ROOM_TIMEOUT_SECONDS = 0.5
    yield server
    server.stop()


@pytest.fixture
def eager():
    """Celery tasks run where they are queued (after the commit), as a worker would run them."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
