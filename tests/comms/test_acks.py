"""Acknowledging a page from the message: the signed link and the SMS reply."""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from comms import acks
from comms.models import Channel, MessageKind, Notification
from incidents import actions
from incidents.models import Source, Status, TimelineEvent
from tests.comms.factories import NotificationFactory
from tests.incidents.factories import IncidentFactory
from tests.oncall.factories import UserFactory

BASE_URL = "https://vigil.example.com"
AUTH_TOKEN = "twilio-test-token"
PHONE = "+447700900123"

Kind = TimelineEvent.Kind


@pytest.fixture(autouse=True)
def ack_settings(settings):
    settings.VIGIL_BASE_URL = BASE_URL
    settings.VIGIL_ACK_LINK_HOURS = 24
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", first_name="Alice", last_name="Chen")


@pytest.fixture
def triggered(db, commander, sev1):
    return IncidentFactory(actor=commander, severity=sev1, title="Checkout API down", commander=commander)


def page(incident, recipient, **kwargs):
    fields = dict(
        incident=incident,
        recipient=recipient,
        kind=MessageKind.PAGE,
        is_page=True,
        ack_code=acks.new_code(),
        status=Notification.Status.SENT,
    )
    return NotificationFactory(**{**fields, **kwargs})


def path_of(url: str) -> str:
    return urlsplit(url).path


def acknowledgements(incident):
    return list(incident.timeline.filter(kind=Kind.ACKNOWLEDGED))


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- The API others call -----------------------------------------------------------------------------


def test_new_code_is_six_digits():
    codes = {acks.new_code() for _ in range(50)}
    assert all(re.fullmatch(r"\d{6}", code) for code in codes)
    assert len(codes) > 1


def test_link_is_absolute_under_the_public_base(triggered, alice):
    notification = page(triggered, alice)
    url = acks.link_for(notification)
    assert url.startswith(f"{BASE_URL}/ack/")
    assert path_of(url) == reverse("comms:ack", args=[path_of(url).split("/")[2]])


def test_link_needs_a_saved_notification_with_a_recipient(triggered, alice):
    with pytest.raises(ValueError):
        acks.link_for(Notification(incident=triggered, recipient=alice))


# --- The link ---------------------------------------------------------------------------------------------


def test_link_round_trip(client, triggered, alice):
    notification = page(triggered, alice)
    url = path_of(acks.link_for(notification))

    response = client.get(url)
    assert response.status_code == 200
    assert f"Acknowledge {triggered.reference} SEV-1: Checkout API down as Alice Chen?" in text(response)
    assert 'method="post"' in text(response) and "csrfmiddlewaretoken" in text(response)
    assert "no-store" in response["Cache-Control"]
    triggered.refresh_from_db()
    assert triggered.status == Status.TRIGGERED  # GET never acts
    assert acknowledgements(triggered) == []

    response = client.post(url)
    assert response.status_code == 200
    assert "Acknowledged" in text(response)
    triggered.refresh_from_db()
    assert triggered.status == Status.INVESTIGATING
    [event] = acknowledgements(triggered)
    assert (event.actor, event.source) == (alice, Source.PAGE)
    assert event.message == f"Alice Chen acknowledged {triggered.reference}"
    notification.refresh_from_db()
    assert notification.ack_used_at is not None

    again = client.post(url)
    assert again.status_code == 410
    assert "already used" in text(again)
    assert f"{triggered.reference} was acknowledged by Alice Chen" in text(again)
    assert len(acknowledgements(triggered)) == 1
    assert client.get(url).status_code == 410


def test_the_link_of_a_restricted_page_does_not_show_its_title(client, commander, sev1, alice):
    secret = IncidentFactory(actor=commander, severity=sev1, title="Customer data exposed", is_restricted=True)
    url = path_of(acks.link_for(page(secret, alice)))

    confirm = text(client.get(url))
    assert f"Acknowledge {secret.reference} SEV-1 (restricted) as Alice Chen?" in confirm
    done = text(client.post(url))
    assert f"acknowledged {secret.reference} SEV-1 (restricted) at" in done
    assert "Customer data exposed" not in confirm + done


def test_post_needs_the_csrf_token_from_the_confirmation_page(triggered, alice):
    browser = Client(enforce_csrf_checks=True)
    url = path_of(acks.link_for(page(triggered, alice)))
    assert browser.post(url).status_code == 403
    assert acknowledgements(triggered) == []

    form = browser.get(url)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode()).group(1)
    assert browser.post(url, {"csrfmiddlewaretoken": csrf}).status_code == 200
    assert len(acknowledgements(triggered)) == 1


def test_expired_link(client, triggered, alice):
    url = path_of(acks.link_for(page(triggered, alice)))
    with time_machine.travel(timezone.now() + dt.timedelta(hours=23, minutes=59), tick=False):
        assert client.get(url).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(hours=24, minutes=1), tick=False):
        response = client.get(url)
        assert response.status_code == 410
        assert "expired" in text(response) and "Open Vigil" in text(response)
        assert client.post(url).status_code == 410
    triggered.refresh_from_db()
    assert triggered.status == Status.TRIGGERED
    assert acknowledgements(triggered) == []


def test_tampered_links_are_refused(client, triggered, alice):
    notification = page(triggered, alice)
    token = path_of(acks.link_for(notification)).split("/")[2]
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_person = signing.dumps([notification.pk, notification.recipient_id + 1], salt="vigil.comms.acks.link")
    other_salt = signing.dumps([notification.pk, notification.recipient_id])
    for bad in (flipped, "not-a-token", other_salt, token.replace(":", "", 1)):
        for method in (client.get, client.post):
            response = method(reverse("comms:ack", args=[bad]))
            assert response.status_code == 400, bad
            assert "not valid" in text(response)
    # A genuine signature over someone else's page is "gone", not a way to act as them.
    response = client.post(reverse("comms:ack", args=[other_person]))
    assert response.status_code == 410
    assert acknowledgements(triggered) == []


def test_deleted_or_non_page_notification(client, triggered, alice):
    notification = page(triggered, alice)
    url = path_of(acks.link_for(notification))
    Notification.objects.filter(pk=notification.pk).update(is_page=False)
    assert client.post(url).status_code == 410
    notification.delete()
    response = client.get(url)
    assert response.status_code == 410
    assert "no longer exists" in text(response)
    assert acknowledgements(triggered) == []


def test_inactive_recipient_cannot_acknowledge(client, triggered, alice):
    url = path_of(acks.link_for(page(triggered, alice)))
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert client.post(url).status_code == 410
    assert acknowledgements(triggered) == []


def test_already_acknowledged_incident(client, triggered, alice, commander):
    notification = page(triggered, alice)
    url = path_of(acks.link_for(notification))
    actions.acknowledge(triggered, actor=commander, source=Source.ADMIN)

    response = client.get(url)
    assert response.status_code == 200
    assert f"{triggered.reference} was acknowledged by {commander} at " in text(response)
    assert "<form" not in text(response)

    response = client.post(url)
    assert response.status_code == 409
    assert f"{triggered.reference} was acknowledged by {commander} at " in text(response)
    notification.refresh_from_db()
    assert notification.ack_used_at is None  # only a successful acknowledgement uses the link
    assert [e.actor for e in acknowledgements(triggered)] == [commander]


def test_resolved_incident(client, commander, alice):
    resolved = IncidentFactory(actor=commander, resolved=True)
    response = client.get(path_of(acks.link_for(page(resolved, alice))))
    assert response.status_code == 200
    assert f"{resolved.reference} was resolved by {commander} at " in text(response)


# --- SMS replies ------------------------------------------------------------------------------------------


def sms(client, body, *, sender=PHONE, token=AUTH_TOKEN, signature=None):
    params = {"MessageSid": "SM0123456789abcdef", "AccountSid": "AC123", "From": sender, "To": "+15005550006", "Body": body}
    url = reverse("comms:sms-inbound")
    if signature is None:
        signature = RequestValidator(token).compute_signature(BASE_URL + url, params)
    return client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)


def reply(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    match = re.fullmatch(r'<\?xml version="1.0" encoding="UTF-8"\?><Response><Message>(.*)</Message></Response>', response.content.decode())
    assert match, response.content
    return match.group(1)


@pytest.fixture
def sms_page(triggered, alice):
    return page(triggered, alice, channel=Channel.SMS, address=PHONE, ack_code="123456")


@pytest.mark.parametrize("body", ["ACK 123456", "ack123456", "  Ack   123456  ", "ACK: 123456."])
def test_sms_reply_acknowledges(client, sms_page, triggered, alice, body):
    assert reply(sms(client, body)) == f"{triggered.reference} acknowledged. Thank you, Alice."
    triggered.refresh_from_db()
    assert triggered.status == Status.INVESTIGATING
    [event] = acknowledgements(triggered)
    assert (event.actor, event.source) == (alice, Source.PAGE)
    sms_page.refresh_from_db()
    assert sms_page.ack_used_at is not None


def test_sms_code_is_single_use(client, sms_page, triggered):
    reply(sms(client, "ACK 123456"))
    again = reply(sms(client, "ACK 123456"))
    assert "already used" in again and f"{triggered.reference} was acknowledged by Alice Chen" in again
    assert len(acknowledgements(triggered)) == 1


@pytest.mark.parametrize(
    "signature, token",
    [("", AUTH_TOKEN), ("bm90IGEgc2lnbmF0dXJl", AUTH_TOKEN), (None, "someone-elses-token")],
)
def test_sms_bad_signature_is_forbidden(client, sms_page, triggered, signature, token):
    assert sms(client, "ACK 123456", signature=signature, token=token).status_code == 403
    assert acknowledgements(triggered) == []


def test_sms_refused_without_an_auth_token(client, settings, sms_page, triggered):
    settings.TWILIO_AUTH_TOKEN = ""
    assert sms(client, "ACK 123456", token="").status_code == 403
    assert acknowledgements(triggered) == []


def test_sms_signature_covers_the_public_url(client, settings, sms_page, triggered):
    settings.VIGIL_BASE_URL = "https://other.example.com"
    assert sms(client, "ACK 123456").status_code == 403


@pytest.mark.parametrize(
    "body, sender, expected",
    [
        ("ACK 654321", PHONE, "No open page matches code 654321 from this number. Reply ACK &lt;code&gt; with the code from the page."),
        ("ACK 123456", "+447700900999", "No open page matches code 123456 from this number. Reply ACK &lt;code&gt; with the code from the page."),
        ("hello", PHONE, "Reply ACK &lt;code&gt; to acknowledge."),
        ("", PHONE, "Reply ACK &lt;code&gt; to acknowledge."),
        ("ACK", PHONE, "Reply ACK &lt;code&gt; to acknowledge."),
        ("ACK 123 456", PHONE, "Reply ACK &lt;code&gt; to acknowledge."),
        ("ACK 123456", "", "No open page matches code 123456 from this number. Reply ACK &lt;code&gt; with the code from the page."),
        ("ACK 123456", "not a number <x>", "No open page matches code 123456 from this number. Reply ACK &lt;code&gt; with the code from the page."),
    ],
)
def test_sms_bad_replies_get_help(client, sms_page, triggered, body, sender, expected):
    assert reply(sms(client, body, sender=sender)) == expected
    assert acknowledgements(triggered) == []


def test_sms_code_expires(client, sms_page, triggered):
    with time_machine.travel(timezone.now() + dt.timedelta(hours=24, minutes=1), tick=False):
        assert reply(sms(client, "ACK 123456")).startswith("No open page matches code 123456")
    assert acknowledgements(triggered) == []


def test_sms_code_of_a_failed_or_email_page_does_not_match(client, triggered, alice):
    page(triggered, alice, channel=Channel.SMS, address=PHONE, ack_code="111111", status=Notification.Status.FAILED)
    page(triggered, alice, channel=Channel.EMAIL, address="alice@example.com", ack_code="222222")
    for code in ("111111", "222222"):
        assert reply(sms(client, f"ACK {code}")).startswith(f"No open page matches code {code}")
    assert acknowledgements(triggered) == []


def test_sms_reply_for_an_already_acknowledged_incident(client, sms_page, triggered, commander):
    actions.acknowledge(triggered, actor=commander, source=Source.ADMIN)
    answer = reply(sms(client, "ACK 123456"))
    assert answer.startswith(f"{triggered.reference} was acknowledged by {commander} at ")
    sms_page.refresh_from_db()
    assert sms_page.ack_used_at is None


def test_sms_webhook_only_takes_posts(client):
    assert client.get(reverse("comms:sms-inbound")).status_code == 405
