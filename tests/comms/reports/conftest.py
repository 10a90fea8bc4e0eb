"""Fixtures of the reports' tests: email to a real SMTP server, SMS recorded in memory."""

import pytest

from tests.comms import recording, servers

smtp_server = servers.smtp_server
django_smtp = servers.django_smtp


@pytest.fixture
def sms(settings):
    """SMS recorded in memory (Twilio's API cannot run here)."""
    settings.VIGIL_SMS_BACKEND = "tests.comms.recording.RecordingSMSBackend"
    recording.reset()
    yield recording.SENT
    recording.reset()


@pytest.fixture
def outbox(django_smtp, sms):
    """Email to a real SMTP server, SMS recorded."""
    return django_smtp
