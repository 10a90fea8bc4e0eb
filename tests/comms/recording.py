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


def reset() -> None:
    SENT.clear()
    FAIL_WITH.clear()


__all__ = ["RecordingSMSBackend", "SendThenDieSMSBackend", "SendThenDie", "SENT", "FAIL_WITH", "reset", "DeliveryError"]


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
