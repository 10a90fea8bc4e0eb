"""Fixtures of the reports' tests: email to a real SMTP server, SMS recorded in memory."""

import pytest

from tests.comms import servers

smtp_server = servers.smtp_server
django_smtp = servers.django_smtp


@pytest.fixture
def outbox(django_smtp, sms):
    """Email to a real SMTP server, SMS recorded."""
    return django_smtp
