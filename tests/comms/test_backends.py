"""Channel backends against real servers: SMTP (aiosmtpd), a signed chat webhook, and Twilio
through a stand-in client (its API cannot be reached from here)."""

from __future__ import annotations

import socket
import ssl
import subprocess
import time
import uuid
from unittest import mock

import httpx
import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from comms.backends import DeliveryError, Message, backend_for
from comms.backends.chat import (
    PinnedTransport,
    WebhookChatBackend,
    is_internal_address,
    payload,
    resolve_destination,
    sign,
    verify_signature,
)
from comms.backends.email import EmailBackend
from comms.backends.sms import TWILIO_TIMEOUT_SECONDS, ConsoleSMSBackend, TwilioSMSBackend
from tests.comms.servers import (  # noqa: F401  (fixtures)
    WebhookServer,
    closed_port,
    django_chat_webhook,
    django_smtp,
    silent_server,
    smtp_server,
    webhook_server,
)


def email(**kwargs) -> Message:
    fields = {"notification_id": 7, "channel": "email", "address": "alice@example.com", "subject": "INC-42 · SEV-1 · Checkout API down", "body": "Checkout is failing for all users."}
    return Message(**{**fields, **kwargs})


def sms(**kwargs) -> Message:
    return Message(**{"notification_id": 8, "channel": "sms", "address": "+447700900123", "body": "INC-42 SEV-1 Checkout API down. Reply ACK 4821", **kwargs})


def chat(**kwargs) -> Message:
    return Message(**{"notification_id": 9, "channel": "chat", "address": "@alice", "body": "INC-42 · SEV-1 · Checkout API down", **kwargs})


def test_backend_for_each_channel_is_the_configured_class(settings):
    settings.VIGIL_SMS_BACKEND = "comms.backends.sms.TwilioSMSBackend"
    settings.VIGIL_CHAT_BACKEND = "comms.backends.chat.WebhookChatBackend"
    assert type(backend_for("email")) is EmailBackend
    assert type(backend_for("sms")) is TwilioSMSBackend
    assert type(backend_for("chat")) is WebhookChatBackend
    settings.VIGIL_SMS_BACKEND = "comms.backends.sms.ConsoleSMSBackend"
    assert type(backend_for("sms")) is ConsoleSMSBackend


# --- Email ------------------------------------------------------------------------------------


def test_email_arrives_with_text_and_html_parts_from_the_default_sender(settings, django_smtp):
    settings.DEFAULT_FROM_EMAIL = "Vigil <vigil@example.com>"

    provider_id = EmailBackend().send(
        email(html_body="<p>Checkout is <b>failing</b>.</p>", headers={"X-Vigil-Incident": "INC-42"})
    )

    [received] = django_smtp.wait_for(1)
    assert received["Subject"] == "INC-42 · SEV-1 · Checkout API down"
    assert received["From"] == "Vigil <vigil@example.com>"
    assert received["To"] == "alice@example.com"
    assert received["X-Vigil-Incident"] == "INC-42"
    assert received["Message-ID"] == provider_id
    assert provider_id.startswith("<") and provider_id.endswith(">")
    assert received.get_content_type() == "multipart/alternative"
    assert received.get_body(("plain",)).get_content().strip() == "Checkout is failing for all users."
    assert received.get_body(("html",)).get_content().strip() == "<p>Checkout is <b>failing</b>.</p>"
    assert django_smtp.envelopes[0].mail_from == "vigil@example.com"
    assert django_smtp.envelopes[0].rcpt_tos == ["alice@example.com"]


def test_email_without_html_is_plain_text_and_each_send_has_its_own_message_id(django_smtp):
    first = EmailBackend().send(email())
    second = EmailBackend().send(email())

    received = django_smtp.wait_for(2)
    assert [m.get_content_type() for m in received] == ["text/plain", "text/plain"]
    assert received[0].get_content().strip() == "Checkout is failing for all users."
    assert first != second
    assert [m["Message-ID"] for m in received] == [first, second]


def test_a_subject_rendered_over_several_lines_goes_out_on_one(django_smtp):
    EmailBackend().send(email(subject="INC-42 resolved\n  after 38 minutes\n"))

    [received] = django_smtp.wait_for(1)
    assert received["Subject"] == "INC-42 resolved after 38 minutes"


@pytest.mark.parametrize(
    "subject",
    [
        "[URGENT] Production Incident – INC-42 SEV-1: Zahlungen schlagen fehl für Kunden in München und "
        "Zürich, der Checkout antwortet mit 502 – Ursache unbekannt, Rollback läuft",
        "[URGENT] INC-42 SEV-1: " + "ü" * 120,
        "[URGENT] INC-42 SEV-1: checkout down, see https://grafana.example.com/d/checkout-latency-p99-overview?from=now-1h",
        "x" * 200,
        "[URGENT] Production Incident - INC-42 SEV-1: Payments are failing for customers in Munich and Zurich",
        "INC-42 SEV-1: Zürich",
    ],
    ids=["long-non-ascii", "non-ascii-word", "long-url", "one-long-word", "long-ascii", "short"],
)
def test_a_subject_starts_on_the_subject_line_and_reads_back_exactly(django_smtp, subject):
    EmailBackend().send(email(subject=subject))

    [received] = django_smtp.wait_for(1)
    raw = django_smtp.raw[0]
    head = raw[: raw.index(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.index(b"\n\n")]
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    start = next(n for n, line in enumerate(lines) if line.lower().startswith(b"subject:"))
    folded = [lines[start], *(line for line in _continuations(lines[start + 1 :]))]
    # The value begins on the Subject line itself: no empty first line, so no leading space.
    assert folded[0][len(b"Subject:") :].startswith(b" ") and folded[0][len(b"Subject: ") :].strip()
    assert all(len(line) <= 78 for line in folded), folded
    assert received["Subject"] == subject


def _continuations(lines):
    for line in lines:
        if not line[:1] in (b" ", b"\t"):
            return
        yield line


@pytest.mark.parametrize(
    "reply, transient, said",
    [
        ("550 5.1.1 <alice@example.com>: User unknown", False, ["550", "User unknown"]),
        ("450 4.2.1 Mailbox busy, try later", True, ["450"]),
    ],
    ids=["refused with 550 is permanent", "deferred with 450 is transient"],
)
def test_a_recipient_the_server_will_not_take(django_smtp, reply, transient, said):
    django_smtp.refuse_recipients(reply)

    with pytest.raises(DeliveryError) as caught:
        EmailBackend().send(email())

    assert caught.value.transient is transient
    assert all(words in str(caught.value) for words in said)
    assert django_smtp.messages == []


def test_no_mail_server_listening_is_transient(settings, django_smtp, closed_port):
    settings.EMAIL_HOST, settings.EMAIL_PORT = closed_port

    with pytest.raises(DeliveryError) as caught:
        EmailBackend().send(email())

    assert caught.value.transient is True
    assert "Could not reach the mail server" in str(caught.value)


def test_a_mail_server_that_never_answers_times_out_as_transient(settings, django_smtp, silent_server):
    settings.EMAIL_HOST, settings.EMAIL_PORT = silent_server
    settings.EMAIL_TIMEOUT = 0.5
    started = time.monotonic()

    with pytest.raises(DeliveryError) as caught:
        EmailBackend().send(email())

    assert caught.value.transient is True
    assert time.monotonic() - started < 5


def test_email_without_an_address_is_permanent(django_smtp):
    with pytest.raises(DeliveryError) as caught:
        EmailBackend().send(email(address=""))
    assert caught.value.transient is False


# --- SMS ---------------------------------------------------------------------------------------


def test_console_sms_prints_the_text_and_returns_a_console_id(capsys):
    first = ConsoleSMSBackend().send(sms())
    second = ConsoleSMSBackend().send(sms())

    assert capsys.readouterr().out.splitlines() == [
        "SMS to +447700900123: INC-42 SEV-1 Checkout API down. Reply ACK 4821",
    ] * 2
    assert first.startswith("console-") and uuid.UUID(first.removeprefix("console-"))
    assert first != second


@pytest.fixture
def twilio(settings, monkeypatch):
    """Twilio's REST API is not reachable here: the `Client` is replaced by a mock, and the
    tests check what Vigil asks of it and how its answers and errors are read."""
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "token"
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    client_class = mock.Mock(name="Client")
    client_class.return_value.messages.create.return_value = mock.Mock(sid="SM" + "a" * 32)
    monkeypatch.setattr("comms.backends.sms.Client", client_class)
    return client_class


def test_twilio_sends_from_the_configured_number_and_returns_the_sid(twilio):
    assert TwilioSMSBackend().send(sms()) == "SM" + "a" * 32

    args, kwargs = twilio.call_args
    assert args == ("AC" + "0" * 32, "token")
    assert kwargs["http_client"].timeout == TWILIO_TIMEOUT_SECONDS
    twilio.return_value.messages.create.assert_called_once_with(
        to="+447700900123", from_="+15005550006", body="INC-42 SEV-1 Checkout API down. Reply ACK 4821"
    )


def test_twilio_sends_through_a_messaging_service_when_configured(settings, twilio):
    settings.TWILIO_FROM_NUMBER = "MG" + "1" * 32

    TwilioSMSBackend().send(sms())

    twilio.return_value.messages.create.assert_called_once_with(
        to="+447700900123", messaging_service_sid="MG" + "1" * 32, body="INC-42 SEV-1 Checkout API down. Reply ACK 4821"
    )


@pytest.mark.parametrize("missing", ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"])
def test_twilio_without_credentials_is_a_permanent_error_naming_the_setting(settings, twilio, missing):
    setattr(settings, missing, "")

    with pytest.raises(DeliveryError) as caught:
        TwilioSMSBackend().send(sms())

    assert caught.value.transient is False
    assert f"set {missing}" in str(caught.value)
    twilio.assert_not_called()


@pytest.mark.parametrize(
    ("status", "code", "transient"),
    [
        (429, 20429, True),  # too many requests
        (500, None, True),
        (503, 20503, True),
        (400, 21211, False),  # invalid 'To' phone number
        (400, 21610, False),  # recipient unsubscribed (replied STOP)
        (401, 20003, False),  # authentication failed
        (404, 20404, False),
    ],
)
def test_twilio_errors_are_transient_only_for_rate_limits_and_server_errors(twilio, status, code, transient):
    twilio.return_value.messages.create.side_effect = TwilioRestException(
        status, "https://api.twilio.com/2010-04-01/Accounts/AC…/Messages.json", msg="The answer", code=code, method="POST"
    )

    with pytest.raises(DeliveryError) as caught:
        TwilioSMSBackend().send(sms())

    assert caught.value.transient is transient
    assert str(status) in str(caught.value) and "The answer" in str(caught.value)
    if code:
        assert str(code) in str(caught.value)


@pytest.mark.parametrize("error", [requests.ConnectionError("connection reset"), requests.ReadTimeout("read timed out")])
def test_twilio_unreachable_is_transient(twilio, error):
    twilio.return_value.messages.create.side_effect = error

    with pytest.raises(DeliveryError) as caught:
        TwilioSMSBackend().send(sms())

    assert caught.value.transient is True
    assert "Could not reach Twilio" in str(caught.value)


# --- Chat: what is sent ----------------------------------------------------------------------------


def test_chat_posts_a_signed_slack_compatible_body(django_chat_webhook):
    # Bodies arrive rendered as Slack mrkdwn (values escaped by comms.templating): sent as is.
    provider_id = WebhookChatBackend().send(chat(body="<https://vigil.example.com/i/42|INC-42> · SEV-1 · Checkout &lt;!channel&gt;"))

    assert provider_id == "http-200"
    [request] = django_chat_webhook.requests
    assert request.method == "POST"
    assert request.path == "/hooks/vigil"
    assert request.signature_valid
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.headers["X-Vigil-Notification-Id"] == "9"
    text = "@alice <https://vigil.example.com/i/42|INC-42> · SEV-1 · Checkout &lt;!channel&gt;"
    assert request.json == {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}
    # The helper receivers are told to use accepts what the backend sent.
    assert verify_signature(
        django_chat_webhook.secret, request.headers["X-Vigil-Timestamp"], request.body, request.headers["X-Vigil-Signature"]
    )


def test_chat_returns_the_receivers_request_id(django_chat_webhook):
    django_chat_webhook.respond(200, headers={"X-Request-Id": "req-5f2c"})

    assert WebhookChatBackend().send(chat()) == "req-5f2c"


def test_chat_prefers_the_contacts_own_webhook_over_the_default(settings, django_chat_webhook):
    settings.VIGIL_CHAT_WEBHOOK_URL = django_chat_webhook.url.replace("/hooks/vigil", "/hooks/default")

    WebhookChatBackend().send(chat(webhook_url=django_chat_webhook.url.replace("/hooks/vigil", "/hooks/alice")))

    assert [r.path for r in django_chat_webhook.requests] == ["/hooks/alice"]


def test_chat_without_a_webhook_says_which_setting_to_set(settings, django_chat_webhook):
    settings.VIGIL_CHAT_WEBHOOK_URL = ""

    with pytest.raises(DeliveryError) as caught:
        WebhookChatBackend().send(chat())

    assert caught.value.transient is False
    assert "VIGIL_CHAT_WEBHOOK_URL" in str(caught.value)


def test_chat_signed_with_another_secret_is_refused_by_the_receiver(settings, django_chat_webhook):
    settings.VIGIL_CHAT_WEBHOOK_SECRET = "not-the-receivers-secret"

    with pytest.raises(DeliveryError) as caught:
        WebhookChatBackend().send(chat())

    assert caught.value.transient is False
    assert "401" in str(caught.value)
    assert django_chat_webhook.requests[0].signature_valid is False


def test_chat_without_a_secret_sends_no_signature(settings, django_chat_webhook):
    settings.VIGIL_CHAT_WEBHOOK_SECRET = ""
    django_chat_webhook.require_signature = False

    WebhookChatBackend().send(chat())

    [request] = django_chat_webhook.requests
    assert request.headers.get("X-Vigil-Signature") is None
    assert request.headers.get("X-Vigil-Timestamp") is None


def test_payload_mentions_slack_member_ids_and_leaves_channels_alone():
    assert payload(chat(address="U024BE7LH"))["text"].startswith("<@U024BE7LH> INC-42")
    assert payload(chat(address="@W0123ABCD"))["text"].startswith("<@W0123ABCD> INC-42")
    assert payload(chat(address="bob"))["text"].startswith("@bob INC-42")
    assert payload(chat(address="#ops"))["text"].startswith("INC-42")
    assert payload(chat(address=""))["text"] == "INC-42 · SEV-1 · Checkout API down"


def test_payload_keeps_the_section_within_slacks_limit():
    body = "x" * 5000
    sent = payload(chat(address="", body=body))
    assert sent["text"] == body
    section = sent["blocks"][0]["text"]["text"]
    assert len(section) == 3000 and section.endswith("…")


def test_payload_of_an_empty_message_is_a_permanent_error():
    with pytest.raises(DeliveryError) as caught:
        payload(chat(address="", body="  "))
    assert caught.value.transient is False


# --- Chat: how answers are read ------------------------------------------------------------------


@pytest.mark.parametrize(("status", "transient"), [(500, True), (502, True), (503, True), (429, True), (408, True), (404, False), (400, False), (403, False), (410, False)])
def test_chat_answer_statuses(django_chat_webhook, status, transient):
    django_chat_webhook.respond(status, body="no_service")

    with pytest.raises(DeliveryError) as caught:
        WebhookChatBackend().send(chat())

    assert caught.value.transient is transient
    assert f"answered {status}: no_service" in str(caught.value)


def test_chat_error_quotes_only_the_start_of_a_long_answer(django_chat_webhook):
    django_chat_webhook.respond(400, body="invalid_payload " + "x" * 1_000_000)

    with pytest.raises(DeliveryError) as caught:
        WebhookChatBackend().send(chat())

    assert "invalid_payload" in str(caught.value)
    assert len(str(caught.value)) < 1000


def test_chat_redirect_is_permanent_and_not_followed(django_chat_webhook):
    final = django_chat_webhook.url.replace("/hooks/vigil", "/hooks/moved")
    django_chat_webhook.redirect(final, status=301)

    with pytest.raises(DeliveryError) as caught:
        WebhookChatBackend().send(chat())

    assert caught.value.transient is False
    assert "webhook redirected" in str(caught.value) and "configure the final URL" in str(caught.value)
    assert final in str(caught.value)
    assert [r.path for r in django_chat_webhook.requests] == ["/hooks/vigil"]


def test_chat_timeout_is_transient(settings, django_chat_webhook):
    settings.VIGIL_CHAT_TIMEOUT_SECONDS = 0.3
    django_chat_webhook.respond(200, delay=10)
    started = time.monotonic()

    with pytest.raises(DeliveryError) as caught:
        WebhookChatBackend().send(chat())

    assert caught.value.transient is True
    assert "timed out" in str(caught.value)
    assert time.monotonic() - started < 3
    assert len(django_chat_webhook.requests) == 1


def test_chat_connection_refused_is_transient(settings, django_chat_webhook, closed_port):
    host, port = closed_port
    settings.VIGIL_CHAT_WEBHOOK_URL = f"http://{host}:{port}/hooks/vigil"

    with pytest.raises(DeliveryError) as caught:
        WebhookChatBackend().send(chat())

    assert caught.value.transient is True
    assert "Could not connect" in str(caught.value)


# --- Chat: where it may go --------------------------------------------------------------------------


def test_chat_to_loopback_is_refused_unless_private_webhooks_are_allowed(settings, django_chat_webhook):
    settings.VIGIL_CHAT_ALLOW_PRIVATE = False

    with pytest.raises(DeliveryError) as caught:
        WebhookChatBackend().send(chat())

    assert caught.value.transient is False
    assert "127.0.0.1" in str(caught.value) and "VIGIL_CHAT_ALLOW_PRIVATE" in str(caught.value)
    assert django_chat_webhook.requests == []


@pytest.mark.parametrize(
    "host",
    [
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.10",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space (carrier NAT)
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "2130706433",  # 127.0.0.1 written as one number
        "0x7f.1",  # and in hex
        "[::1]",
        "[::]",
        "[fd00::1]",
        "[fe80::1]",
        "[ff02::1]",
        "[::ffff:127.0.0.1]",  # IPv4-mapped
        "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
        "[2002:a00:1::]",  # 6to4 of 10.0.0.1
    ],
)
def test_chat_to_internal_addresses_is_refused(settings, django_chat_webhook, host):
    settings.VIGIL_CHAT_ALLOW_PRIVATE = False
    settings.VIGIL_CHAT_TIMEOUT_SECONDS = 0.5  # if the guard let one through, fail fast

    with pytest.raises(DeliveryError) as caught:
        WebhookChatBackend().send(chat(webhook_url=f"http://{host}/hooks/vigil"))

    assert caught.value.transient is False
    assert "Refused to post" in str(caught.value)


def test_chat_to_a_host_name_resolving_to_loopback_is_refused(settings, django_chat_webhook):
    settings.VIGIL_CHAT_ALLOW_PRIVATE = False

    with pytest.raises(DeliveryError) as caught:
        WebhookChatBackend().send(chat(webhook_url=f"http://localhost:{django_chat_webhook.port}/hooks/vigil"))

    assert caught.value.transient is False
    assert "localhost" in str(caught.value) and "127.0.0.1" in str(caught.value)
    assert django_chat_webhook.requests == []


@pytest.mark.parametrize("url", ["ftp://hooks.example.com/vigil", "file:///etc/passwd", "gopher://hooks.example.com/", "/hooks/vigil"])
def test_chat_only_posts_to_http_urls(settings, django_chat_webhook, url):
    with pytest.raises(DeliveryError) as caught:
        WebhookChatBackend().send(chat(webhook_url=url))
    assert caught.value.transient is False
    assert "http or https" in str(caught.value)


@pytest.mark.parametrize(("url", "address"), [("https://1.1.1.1/hooks", "1.1.1.1"), ("http://[2606:4700:4700::1111]:8080/", "2606:4700:4700::1111")])
def test_public_addresses_pass_the_guard(url, address):
    parsed, addresses = resolve_destination(url, allow_private=False)
    assert addresses == [address]
    assert not is_internal_address(address)


class FakeDNS:
    """Answers for names of our own (a test cannot change the machine's DNS): the first lookup
    of a name gets `first`, every later one `later`, as a rebinding attacker's server would."""

    def __init__(self, first: str | list[str], later: str = "192.0.2.1"):
        self.first = [first] if isinstance(first, str) else first
        self.later, self.lookups = [later], []

    def __call__(self, host, port, *args, **kwargs):
        addresses = self.first if not self.lookups else self.later
        self.lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses]


def test_chat_connects_to_the_address_it_checked(settings, django_chat_webhook):
    dns = FakeDNS(first="127.0.0.1", later="192.0.2.1")  # a later answer would go nowhere
    settings.VIGIL_CHAT_TIMEOUT_SECONDS = 2
    url = f"http://hooks.vigil.test:{django_chat_webhook.port}/hooks/vigil"

    WebhookChatBackend(resolver=dns).send(chat(webhook_url=url))

    [request] = django_chat_webhook.requests
    assert request.headers["Host"] == f"hooks.vigil.test:{django_chat_webhook.port}"
    assert request.signature_valid
    assert dns.lookups == ["hooks.vigil.test"]


def test_chat_tries_the_next_address_when_one_refuses_the_connection(django_chat_webhook):
    # The receiver listens on 127.0.0.1 only: 127.0.0.2 refuses the connection.
    dns = FakeDNS(first=["127.0.0.2", "127.0.0.1"])
    url = f"http://hooks.vigil.test:{django_chat_webhook.port}/hooks/vigil"

    assert WebhookChatBackend(resolver=dns).send(chat(webhook_url=url)) == "http-200"

    assert len(django_chat_webhook.requests) == 1
    assert dns.lookups == ["hooks.vigil.test"]


def test_chat_to_a_name_resolving_to_loopback_is_refused_before_connecting(settings, django_chat_webhook):
    settings.VIGIL_CHAT_ALLOW_PRIVATE = False
    url = f"http://hooks.vigil.test:{django_chat_webhook.port}/hooks/vigil"

    with pytest.raises(DeliveryError) as caught:
        WebhookChatBackend(resolver=FakeDNS(first="127.0.0.1")).send(chat(webhook_url=url))

    assert caught.value.transient is False
    assert django_chat_webhook.requests == []


def test_pinned_transport_never_resolves_the_url_host(webhook_server):
    webhook_server.require_signature = False
    url = f"http://name-that-does-not-resolve.invalid:{webhook_server.port}/hooks/vigil"

    with httpx.Client(transport=PinnedTransport("127.0.0.1"), trust_env=False) as client:
        response = client.post(url, content=b"{}")

    assert response.status_code == 200
    assert webhook_server.requests[0].headers["Host"] == f"name-that-does-not-resolve.invalid:{webhook_server.port}"


# --- Chat over TLS: pinned address, name still verified ---------------------------------------------


@pytest.fixture
def tls_webhook(tmp_path, settings):
    """A webhook receiver over HTTPS with a certificate for hooks.vigil.test, and a client
    context that trusts only that certificate."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=hooks.vigil.test",
         "-addext", "subjectAltName=DNS:hooks.vigil.test"],
        check=True, capture_output=True,
    )  # fmt: skip
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server = WebhookServer(ssl_context=server_context, hostname="hooks.vigil.test")
    server.start()
    settings.VIGIL_CHAT_WEBHOOK_SECRET = server.secret
    settings.VIGIL_CHAT_ALLOW_PRIVATE = True
    settings.VIGIL_CHAT_TIMEOUT_SECONDS = 5.0
    try:
        yield server, ssl.create_default_context(cafile=str(cert))
    finally:
        server.stop()


def test_chat_over_https_to_a_pinned_address_still_verifies_the_host_name(tls_webhook):
    server, client_context = tls_webhook

    result = WebhookChatBackend(verify=client_context, resolver=FakeDNS("127.0.0.1")).send(chat(webhook_url=server.url))

    assert result == "http-200"
    assert server.server_names == ["hooks.vigil.test"]
    assert server.requests[0].headers["Host"] == f"hooks.vigil.test:{server.port}"
    assert server.requests[0].signature_valid


def test_chat_over_https_refuses_a_certificate_for_another_name(tls_webhook):
    server, client_context = tls_webhook
    url = server.url.replace("hooks.vigil.test", "other.vigil.test")

    with pytest.raises(DeliveryError) as caught:
        WebhookChatBackend(verify=client_context, resolver=FakeDNS("127.0.0.1")).send(chat(webhook_url=url))

    assert "certificate" in str(caught.value).lower()
    assert server.requests == []


# --- The signature scheme ------------------------------------------------------------------------------


def test_signature_scheme_matches_the_documented_example():
    # HMAC-SHA256(key="s3cret", msg=b'1700000000.{"text":"hi"}') in hex, worked out once by
    # hand; a receiver can check its implementation against the same vector.
    assert sign("s3cret", 1700000000, b'{"text":"hi"}') == "v1=a4abab2c9ec335a751cf8c3848e413a84a4e0eef17a9660d993911fafacadb66"


def test_verify_signature():
    body, now = b'{"text":"INC-42"}', 1_700_000_000
    header = sign("s3cret", now, body)

    assert verify_signature("s3cret", str(now), body, header, now=now)
    assert verify_signature("s3cret", now, body.decode(), header, now=now + 299)
    assert verify_signature("s3cret", now, body, f"v1=deadbeef, {header}", now=now)  # rotation
    assert not verify_signature("s3cret", now, body + b" ", header, now=now)  # body changed
    assert not verify_signature("other", now, body, header, now=now)
    assert not verify_signature("s3cret", now, body, header, now=now + 301)  # replayed later
    assert not verify_signature("s3cret", now, body, header, tolerance=10, now=now - 11)
    assert not verify_signature("s3cret", now + 1, body, header, now=now)  # timestamp changed
    assert not verify_signature("s3cret", "yesterday", body, header, now=now)
    assert not verify_signature("s3cret", now, body, None, now=now)
    assert not verify_signature("", now, body, sign("", now, body), now=now)


def test_the_console_chat_backend_prints_the_body_it_would_post():
    import io
    import json as json_

    from comms.backends.chat import ConsoleChatBackend

    stream = io.StringIO()
    provider_id = ConsoleChatBackend(stream=stream).send(chat(body="INC-7 · SEV-2 · search is slow"))
    printed = stream.getvalue()
    assert provider_id.startswith("console-")
    assert printed.startswith("Chat to ")
    assert json_.loads(printed.split(": ", 1)[1])["text"] == "@alice INC-7 · SEV-2 · search is slow"


def test_webhooks_share_one_tls_context_and_the_console_backend_is_a_plain_class():
    from comms.backends import chat as chat_backend

    # Loading the CA bundle costs ~0.15 s: once per process, not once per message.
    assert chat_backend._default_ssl_context() is chat_backend._default_ssl_context()
    assert isinstance(chat_backend.ConsoleChatBackend, type)
