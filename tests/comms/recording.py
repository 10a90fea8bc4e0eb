"""An SMS backend for tests: Twilio's API cannot run here, so SMS "delivery" is recorded in
memory. Email and chat tests use a real SMTP server and a real HTTP server instead."""

import itertools

from comms.backends import Backend, DeliveryError, Message

SENT: list[Message] = []
FAIL_WITH: list[BaseException] = []  # raised (first in, first out) instead of sending
_ids = itertools.count(1)


class RecordingSMSBackend(Backend):
    channel = "sms"

    def send(self, message: Message) -> str:
        if FAIL_WITH:
            raise FAIL_WITH.pop(0)
        SENT.append(message)
        return f"SM{next(_ids):06d}"


class SendThenDie(BaseException):
    """What a worker killed by the OS looks like to the code after the send: nothing runs."""


class SendThenDieSMSBackend(Backend):
    """Sends, then dies before the outbox can record it (a SIGKILL between send and record)."""

    channel = "sms"

    def send(self, message: Message) -> str:
        SENT.append(message)
        raise SendThenDie()


class RecordKeepingSMSBackend(RecordingSMSBackend):
    """Records like `RecordingSMSBackend` and, at each send, notes in `ON_RECORD` which of the
    messages it sent before are already recorded as sent: what a kill at that instant keeps."""

    def send(self, message: Message) -> str:
        from comms.models import Notification

        earlier = [sent.notification_id for sent in SENT]
        ON_RECORD.append(
            set(Notification.objects.filter(pk__in=earlier, status=Notification.Status.SENT).values_list("pk", flat=True))
        )
        return super().send(message)


ON_RECORD: list[set[int]] = []


def reset() -> None:
    SENT.clear()
    FAIL_WITH.clear()
    ON_RECORD.clear()


__all__ = [
    "RecordingSMSBackend", "RecordKeepingSMSBackend", "SendThenDieSMSBackend", "SendThenDie", "SENT", "FAIL_WITH",
    "ON_RECORD", "reset", "DeliveryError",
]


class SendThenHangSMSBackend(Backend):
    """For a real worker process: writes the message to the file named by VIGIL_TEST_SENT_FILE
    (the "provider" received it), then hangs until the test kills the process with SIGKILL."""

    channel = "sms"

    def send(self, message: Message) -> str:
        import os
        import time

        with open(os.environ["VIGIL_TEST_SENT_FILE"], "a") as sent:
            sent.write(f"{message.notification_id}\t{message.address}\n")
        while True:
            time.sleep(1)
