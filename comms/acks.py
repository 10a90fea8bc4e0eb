"""Acknowledging a page from the message itself: a signed single-use link, or an SMS reply "ACK <code>"."""

from __future__ import annotations

import re
import secrets
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from incidents import actions
from incidents.errors import DomainError
from incidents.models import Incident, Source, Status, TimelineEvent

from .models import Channel, Notification, normalize_phone

# Its own salt, so no other signed value in Vigil (sessions, feeds) can pass for a link.
_SALT = "vigil.comms.acks.link"
CODE_DIGITS = 6
# "ACK 123456", "ack123456", "  Ack   123456 ", "ACK: 123456." — anything between the word and the digits.
_REPLY = re.compile(r"\s*ack\W*(\d+)\W*", re.IGNORECASE)
REPLY_HINT = "Reply ACK <code> to acknowledge."


class AckRefused(DomainError):
    """A link or code that cannot acknowledge anything; `reason` is what the views turn into a status."""

    INVALID = "invalid"  # tampered, cut short, not a reply we understand
    EXPIRED = "expired"
    GONE = "gone"  # the page, its incident or its recipient no longer exists
    USED = "used"

    def __init__(self, reason: str, message: str, *, notification: Notification | None = None):
        super().__init__(message)
        self.reason = reason
        self.notification = notification


def new_code() -> str:
    """The code a page's SMS asks to reply with."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def link_for(notification: Notification) -> str:
    """The absolute acknowledge link for a saved page: signed over the notification and its
    recipient, so it acts as that person and only for that page."""
    if notification.pk is None or notification.recipient_id is None:
        raise ValueError("An acknowledge link needs a saved notification with a recipient.")
    token = signing.dumps([notification.pk, notification.recipient_id], salt=_SALT)
    return settings.VIGIL_BASE_URL.rstrip("/") + reverse("comms:ack", args=[token])


def _lifetime() -> timedelta:
    return timedelta(hours=settings.VIGIL_ACK_LINK_HOURS)


def page_for_link(token: str) -> Notification:
    """The page a link acknowledges, checked (signature, age, still a live page) but not locked."""
    hours = settings.VIGIL_ACK_LINK_HOURS
    try:
        notification_id, recipient_id = signing.loads(token, salt=_SALT, max_age=_lifetime())
    except signing.SignatureExpired:
        raise AckRefused(
            AckRefused.EXPIRED, f"This acknowledge link has expired: links work for {hours} hours after the page."
        ) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise AckRefused(
            AckRefused.INVALID,
            "This acknowledge link is not valid: it may have been cut short or changed when it was copied.",
        ) from None
    notification = (
        Notification.objects.select_related("incident__severity", "recipient").filter(pk=notification_id).first()
    )
    return _usable(notification, recipient_id=recipient_id, what="link")


def page_for_reply(phone: str, body: str) -> Notification:
    """The page an SMS reply acknowledges: the code must be one sent to this very number, within
    the link lifetime."""
    match = _REPLY.fullmatch(body or "")
    if match is None:
        raise AckRefused(AckRefused.INVALID, REPLY_HINT)
    code = match.group(1)
    candidates = Notification.objects.select_related("incident__severity", "recipient").filter(
        is_page=True,
        channel=Channel.SMS,
        address=normalize_phone((phone or "").strip()),
        ack_code=code,
        status__in=[Notification.Status.PENDING, Notification.Status.SENT],
        created_at__gte=timezone.now() - _lifetime(),
        incident__isnull=False,
        recipient__isnull=False,
    )
    notification = candidates.filter(ack_used_at=None).first() or candidates.first()
    if notification is None:
        raise AckRefused(
            AckRefused.GONE,
            f"No open page matches code {code} from this number. Reply ACK <code> with the code from the page.",
        )
    return _usable(notification, recipient_id=notification.recipient_id, what=f"code {code}")


def _usable(notification: Notification | None, *, recipient_id: int, what: str) -> Notification:
    if (
        notification is None
        or not notification.is_page
        or notification.incident is None
        or notification.recipient_id != recipient_id
    ):
        raise AckRefused(AckRefused.GONE, f"The page this {what} belongs to no longer exists in Vigil.")
    if not notification.recipient.is_active:
        raise AckRefused(AckRefused.GONE, f"The account this page was sent to is no longer active, so the {what} no longer works.")
    if notification.ack_used_at is not None:
        used = at(notification.ack_used_at, notification.recipient)
        raise AckRefused(
            AckRefused.USED, f"This {what} was already used ({used}); it works once.", notification=notification
        )
    return notification


@transaction.atomic
def acknowledge_page(notification: Notification) -> Incident:
    """Acknowledge a page's incident as the person paged, once: the notification row is locked
    and checked, so two clicks (or a click and an SMS reply) cannot both count. A refusal from
    the incident (already acknowledged, resolved) leaves the link or code unused."""
    locked = Notification.objects.select_for_update().filter(pk=notification.pk).first()
    if locked is None:
        raise AckRefused(AckRefused.GONE, "The page this link belongs to no longer exists in Vigil.")
    if locked.ack_used_at is not None:
        used = at(locked.ack_used_at, notification.recipient)
        raise AckRefused(AckRefused.USED, f"This page was already used to acknowledge ({used}); it works once.", notification=notification)
    incident = actions.acknowledge(notification.incident, actor=notification.recipient, source=Source.PAGE)
    locked.ack_used_at = timezone.now()
    locked.save(update_fields=["ack_used_at"])
    notification.ack_used_at = locked.ack_used_at
    return incident


# --- Saying where an incident stands, to the person paged --------------------------------------------


def at(moment: datetime, user) -> str:
    """'2025-03-04 14:02 CET', in the person's own time zone (UTC if theirs is unknown)."""
    try:
        zone = zoneinfo.ZoneInfo(getattr(user, "time_zone", "") or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    local = timezone.localtime(moment, zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


_DONE_KINDS = {
    "acknowledged": TimelineEvent.Kind.ACKNOWLEDGED,
    "resolved": TimelineEvent.Kind.RESOLVED,
    "closed": TimelineEvent.Kind.CLOSED,
}


def standing(incident: Incident, *, viewer) -> str | None:
    """Why a page no longer needs acknowledging ("INC-42 was acknowledged by Bob Lee at …"),
    or None while the incident still waits for someone."""
    if incident.status == Status.CLOSED:
        done = "closed"
    elif incident.status == Status.RESOLVED:
        done = "resolved"
    elif not incident.awaiting_acknowledgement:
        done = "acknowledged"  # the current round: the declaration's, or the latest reopen's
    else:
        return None
    event = (
        incident.timeline.filter(kind=_DONE_KINDS[done]).select_related("actor").order_by("-occurred_at", "-pk").first()
    )
    if event is None:
        return f"{incident.reference} is already {done}."
    who = str(event.actor) if event.actor else f"via {event.get_source_display()}"
    return f"{incident.reference} was {done} by {who} at {at(event.occurred_at, viewer)}."
