"""Development delivery (`make run`): one line on the terminal per message, the whole message in
a file under VIGIL_MAIL_DIR — an email any mail client opens, an SMS's text, a chat body."""

import email
import io
import json
import re
from email import policy
from pathlib import Path

import pytest

from comms.backends import Message, backend_for
from comms.backends.mailbox import ChatBackend, SMSBackend

LINE = re.compile(r"^(?P<channel>\w+) → (?P<to>[^:]+): (?P<summary>.*)  \((?P<file>[^)]+)\)$")


@pytest.fixture
def terminal(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr("sys.__stdout__", stream)
    return stream


@pytest.fixture
def mail_dir(settings, tmp_path):
    settings.VIGIL_MAIL_DIR = str(tmp_path / "mail")
    settings.EMAIL_BACKEND = "comms.backends.mailbox.EmailBackend"
    return tmp_path / "mail"


def printed(terminal) -> list[dict]:
    lines = terminal.getvalue().splitlines()
    matches = [LINE.match(line) for line in lines]
    assert all(matches), lines
    return [m.groupdict() for m in matches]


def test_an_email_is_one_line_and_a_file_a_mail_client_opens(terminal, mail_dir):
    html = "<html><body>" + "<p>Checkout API returns 502 for every card payment.</p>" * 200 + "</body></html>"
    message = Message(
        notification_id=7, channel="email", address="alice@example.com",
        subject="[SEV-1] INC-10 Checkout API down", body="Checkout API returns 502.\nAcknowledge: http://x/ack/1", html_body=html,
    )

    provider_id = backend_for("email").send(message)

    [line] = printed(terminal)
    assert line["channel"] == "email" and line["to"] == "alice@example.com"
    assert line["summary"] == "[SEV-1] INC-10 Checkout API down"
    [file] = mail_dir.iterdir()
    assert file.suffix == ".eml" and Path(line["file"]).resolve() == file.resolve()
    parsed = email.message_from_bytes(file.read_bytes(), policy=policy.default)
    assert parsed["To"] == "alice@example.com" and parsed["Subject"] == "[SEV-1] INC-10 Checkout API down"
    assert parsed["Message-ID"] == provider_id
    assert "Acknowledge: http://x/ack/1" in parsed.get_body(("plain",)).get_content()
    assert parsed.get_body(("html",)).get_content().count("every card payment") == 200


def test_an_sms_is_one_line_and_its_text_in_a_file(terminal, mail_dir):
    body = "INC-42 SEV-1 Checkout API down.\nReply ACK 4821"

    provider_id = SMSBackend().send(Message(notification_id=1, channel="sms", address="+447700900123", body=body))

    [line] = printed(terminal)
    assert (line["channel"], line["to"], line["summary"]) == ("sms", "+447700900123", "INC-42 SEV-1 Checkout API down. Reply ACK 4821")
    [file] = mail_dir.iterdir()
    assert file.read_text() == f"To: +447700900123\n\n{body}\n" and provider_id == f"file-{file.stem}"


def test_a_chat_message_is_one_line_and_its_body_in_a_file(terminal, mail_dir):
    long_body = "Search is slow; " * 40

    ChatBackend().send(Message(notification_id=1, channel="chat", address="@erin", subject="INC-7 · SEV-2", body=long_body))

    [line] = printed(terminal)
    assert (line["channel"], line["to"], line["summary"]) == ("chat", "@erin", "INC-7 · SEV-2")
    [file] = mail_dir.iterdir()
    posted = json.loads(file.read_text())
    assert posted["text"].startswith("@erin *INC-7 · SEV-2*\nSearch is slow;") and posted["webhook"] == "(shared)"


def test_a_long_summary_is_cut_to_one_short_line(terminal, mail_dir):
    SMSBackend().send(Message(notification_id=1, channel="sms", address="+447700900123", body="word " * 100))

    [line] = printed(terminal)
    assert len(line["summary"]) == 100 and line["summary"].endswith("…")


def test_development_defaults_write_files_and_production_keeps_the_console(settings):
    from tests.test_settings import clean_env, run

    show = "import django; django.setup(); from django.conf import settings as s; print(s.EMAIL_BACKEND, s.VIGIL_SMS_BACKEND, s.VIGIL_CHAT_BACKEND)"
    development = run(["-c", show], clean_env()).stdout.split()
    assert development == ["comms.backends.mailbox.EmailBackend", "comms.backends.mailbox.SMSBackend", "comms.backends.mailbox.ChatBackend"]
    production = run(["-c", show], clean_env(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50, DJANGO_ALLOWED_HOSTS="h")).stdout.split()
    assert production[:2] == ["django.core.mail.backends.console.EmailBackend", "comms.backends.sms.ConsoleSMSBackend"]
