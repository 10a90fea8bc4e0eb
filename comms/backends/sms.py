"""SMS: a console backend for development and a Twilio backend (`VIGIL_SMS_BACKEND`)."""

from __future__ import annotations

import logging
import sys
import uuid

from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from comms.backends import Backend, DeliveryError, Message

logger = logging.getLogger(__name__)

# Twilio's HTTP client waits forever by default; a page must not hang a worker on it.
TWILIO_TIMEOUT_SECONDS = 10


class ConsoleSMSBackend(Backend):
    """Writes the text to standard output (like Django's console email backend) and the log."""

    channel = "sms"

    def __init__(self, stream=None):
        self.stream = stream

    def send(self, message: Message) -> str:
        if not message.address:
            raise DeliveryError("The SMS notification has no phone number.", transient=False)
        provider_id = f"console-{uuid.uuid4()}"
        stream = self.stream or sys.stdout
        stream.write(f"SMS to {message.address}: {message.body}\n")
        stream.flush()
        logger.info("SMS to %s (%s): %s", message.address, provider_id, message.body)
        return provider_id


class TwilioSMSBackend(Backend):
    """Sends through Twilio's Messages API from TWILIO_FROM_NUMBER (a number in E.164, or a
    Messaging Service SID starting "MG"); returns the message SID."""

    channel = "sms"

    def send(self, message: Message) -> str:
        missing = [
            name
            for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
            if not getattr(settings, name, "")
        ]
        if missing:
            raise DeliveryError(
                f"SMS through Twilio is not configured: set {', '.join(missing)}.", transient=False
            )
        if not message.address:
            raise DeliveryError("The SMS notification has no phone number.", transient=False)

        sender = settings.TWILIO_FROM_NUMBER
        origin = {"messaging_service_sid": sender} if sender.startswith("MG") else {"from_": sender}
        client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=TwilioHttpClient(timeout=TWILIO_TIMEOUT_SECONDS),
        )
        try:
            sent = client.messages.create(to=message.address, body=message.body, **origin)
        except TwilioRestException as exc:
            # 429 (rate limited) and 5xx are Twilio's trouble and pass; other 4xx — an invalid
            # 'To' number (21211), an unsubscribed recipient (21610), bad credentials (20003) —
            # fail the same way every time.
            transient = exc.status == 429 or exc.status >= 500
            code = f" (Twilio error {exc.code})" if exc.code else ""
            raise DeliveryError(f"Twilio answered {exc.status}{code}: {exc.msg}", transient=transient) from exc
        except OSError as exc:  # requests' ConnectionError, Timeout… are OSErrors
            raise DeliveryError(f"Could not reach Twilio: {exc!r}", transient=True) from exc
        except TwilioException as exc:
            raise DeliveryError(f"Twilio failed: {exc!r}", transient=True) from exc
        return sent.sid
