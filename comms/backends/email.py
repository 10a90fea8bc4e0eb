"""Email: sends a notification through Django's configured email backend (`EMAIL_BACKEND`).

SMTP failures are sorted for the outbox: a server that cannot be reached, times out, drops
the connection or answers 4xx may accept the message later (transient, retried); a 5xx
answer — the recipient refused, the message rejected, authentication failed — will not
change by retrying (permanent).
"""

from __future__ import annotations

import smtplib
from email.header import Header
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.core.mail.utils import DNS_NAME

from comms.backends import Backend, DeliveryError, Message

# Django's SMTP backend waits forever when EMAIL_TIMEOUT is unset; a page must not hang a
# worker on a mail server that accepted the connection and went quiet.
DEFAULT_SMTP_TIMEOUT_SECONDS = 30
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class EmailBackend(Backend):
    channel = "email"

    def __init__(self) -> None:
        self._shared = False
        self._connection = None

    def open(self) -> None:
        """Share one SMTP connection across a batch: opened by its first send (so a server that
        is down fails that send, not the batch), reopened after a failed send."""
        self._shared = True

    def close(self) -> None:
        self._shared = False
        self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # closing a broken connection must not hide the send's result
                pass
            self._connection = None

    def send(self, message: Message) -> str:
        if not self._shared:
            return self._send(message, _connection())  # Django opens and closes it around the send
        if self._connection is None:
            connection = _connection()
            try:
                connection.open()
            except (smtplib.SMTPException, OSError) as exc:
                raise DeliveryError(f"Could not reach the mail server: {exc!r}", transient=True) from exc
            self._connection = connection
        try:
            return self._send(message, self._connection)
        except DeliveryError:
            self._drop()
            raise

    def _send(self, message: Message, connection) -> str:
        if not message.address:
            raise DeliveryError("The email notification has no address.", transient=False)
        message_id = make_msgid(idstring=f"vigil.{message.notification_id or 'adhoc'}", domain=str(DNS_NAME))
        email = _Email(
            # A rendered subject may end in a newline; a header cannot hold one.
            subject=" ".join(message.subject.split()),
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.address],
            headers={**message.headers, "Message-ID": message_id},
            connection=connection,
        )
        if message.html_body:
            email.attach_alternative(message.html_body, "text/html")
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            replies = "; ".join(f"{code} {_text(reply)}" for code, reply in exc.recipients.values())
            raise DeliveryError(
                f"The mail server refused {message.address}: {replies}",
                transient=not codes or any(code < 500 for code in codes),
            ) from exc
        except smtplib.SMTPResponseException as exc:
            # Sender refused, data rejected, authentication failed, 421 service not available…
            raise DeliveryError(
                f"The mail server answered {exc.smtp_code} {_text(exc.smtp_error)}",
                transient=not 500 <= exc.smtp_code < 600,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Refused or reset connections, timeouts, TLS failures, a server that hung up.
            raise DeliveryError(f"Could not reach the mail server: {exc!r}", transient=True) from exc
        except (BadHeaderError, ValueError) as exc:
            raise DeliveryError(f"The email could not be built: {exc}", transient=False) from exc
        return message_id


class _Email(EmailMultiAlternatives):
    """Django's message with the subject folded as `subject_header` folds it."""

    def message(self, *args, **kwargs):
        built = super().message(*args, **kwargs)
        built.replace_header("Subject", subject_header(self.subject))
        return built


# An ASCII word longer than this cannot follow "Subject: " on a 78-character line.
LONGEST_ASCII_WORD = 78 - len("Subject: ")


def subject_header(subject: str) -> Header:
    """The Subject header, folded with "Subject: " counted on its first line. Django folds the
    value as if it stood alone, so a long non-ASCII subject (or one with a long word) left the
    first line empty, and mail clients showed a leading space. Plain ASCII stays readable;
    anything else is UTF-8 encoded words, which may be split anywhere."""
    try:
        subject.encode("ascii")
        charset = "us-ascii" if all(len(word) <= LONGEST_ASCII_WORD for word in subject.split()) else "utf-8"
    except UnicodeEncodeError:
        charset = "utf-8"
    return Header(subject, charset, header_name="Subject")


def _connection():
    kwargs = {}
    if settings.EMAIL_BACKEND == SMTP_BACKEND and getattr(settings, "EMAIL_TIMEOUT", None) is None:
        kwargs["timeout"] = DEFAULT_SMTP_TIMEOUT_SECONDS
    return get_connection(fail_silently=False, **kwargs)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
