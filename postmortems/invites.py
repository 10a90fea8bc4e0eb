"""The post-mortem review meeting: set its time and invite everyone by email with an iCalendar
(RFC 5546 METHOD:REQUEST) invitation their calendar can accept.

The invitation goes straight through Django's mail (`EmailMultiAlternatives`), not through the
comms outbox: the outbox renders text from templates and has no attachments, and `postmortems`
cannot import `comms` anyway. Rescheduling sends the same UID with a higher SEQUENCE, so
calendars move the meeting instead of adding a second one.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from incidents.errors import InvalidInput
from incidents.models import Participant

from .models import PostMortem
from .reminders import postmortem_url

PRODID = "-//Vigil//Post-mortem review//EN"
MIN_MINUTES, MAX_MINUTES = 15, 480
MAX_AHEAD = dt.timedelta(days=366)
# SEQUENCE must grow with every revision of the invitation; seconds since this moment do.
_SEQUENCE_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


@dataclass
class Invitation:
    """What `schedule_review` did: the meeting, who was emailed, who had no email address."""

    postmortem: PostMortem
    starts_at: dt.datetime
    ends_at: dt.datetime
    sent_to: list[str] = field(default_factory=list)
    without_email: list[str] = field(default_factory=list)
    ics: bytes = b""


def uid_for(postmortem: PostMortem) -> str:
    host = urlsplit(settings.VIGIL_BASE_URL).hostname or "vigil"
    return f"postmortem-review-{postmortem.pk}@{host}"


def attendees(postmortem: PostMortem) -> list:
    """The incident's current participants and the post-mortem's owner (active people, once each)."""
    people = [
        p.user
        for p in Participant.objects.filter(incident_id=postmortem.incident_id, left_at__isnull=True)
        .select_related("user")
        .order_by("joined_at", "pk")
    ]
    if postmortem.owner is not None:
        people.append(postmortem.owner)
    seen, found = set(), []
    for person in people:
        if person.is_active and person.pk not in seen:
            seen.add(person.pk)
            found.append(person)
    return found


def _address(person, role: str | None = None) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = vText(str(person))
    if role:
        address.params["ROLE"] = vText(role)
        address.params["PARTSTAT"] = vText("NEEDS-ACTION")
        address.params["RSVP"] = vText("TRUE")
    return address


def _summary(postmortem: PostMortem) -> str:
    incident = postmortem.incident
    return f"Post-mortem review: {incident.reference} – {incident.title}"


def _description(postmortem: PostMortem) -> str:
    incident = postmortem.incident
    lines = [
        f"Review of the post-mortem of {incident.reference} ({incident.severity.name}: {incident.title}).",
        f"Post-mortem: {postmortem_url(postmortem)}",
    ]
    if postmortem.owner is not None:
        lines.append(f"Owner: {postmortem.owner}")
    lines.append(f"To be published by {postmortem.publish_due:%d %b %Y}.")
    return "\n".join(lines)


def build_ics(postmortem: PostMortem, *, starts_at: dt.datetime, ends_at: dt.datetime, organizer, people, now=None) -> bytes:
    """The invitation: one VEVENT, times in UTC, a UID stable for the post-mortem."""
    now = now or timezone.now()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", uid_for(postmortem))
    event.add("sequence", int((now - _SEQUENCE_EPOCH).total_seconds()))
    event.add("dtstamp", now.astimezone(dt.timezone.utc))
    event.add("dtstart", starts_at.astimezone(dt.timezone.utc))
    event.add("dtend", ends_at.astimezone(dt.timezone.utc))
    event.add("summary", _summary(postmortem))
    event.add("description", _description(postmortem))
    event.add("url", postmortem_url(postmortem))
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    if organizer is not None and organizer.email:
        event.add("organizer", _address(organizer))
    for person in people:
        event.add("attendee", _address(person, "REQ-PARTICIPANT"), encode=0)
    calendar.add_component(event)
    return calendar.to_ical()


def _body(postmortem: PostMortem, starts_at: dt.datetime, minutes: int, person) -> str:
    """The text part, with the time in the invitee's own zone."""
    try:
        local = starts_at.astimezone(zoneinfo.ZoneInfo(getattr(person, "time_zone", None) or "UTC"))
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        local = starts_at.astimezone(dt.timezone.utc)
    incident = postmortem.incident
    return "\n".join(
        [
            f"Hello {person},",
            "",
            f"You are invited to review the post-mortem of {incident.reference}: {incident.title}.",
            f"When: {local.day} {local:%b %Y %H:%M} {local.tzname()} ({minutes} min)",
            f"Post-mortem: {postmortem_url(postmortem)}",
            "",
            "The attached invitation adds it to your calendar.",
        ]
    )


def _clean(starts_at: dt.datetime, minutes: int) -> dt.datetime:
    if timezone.is_naive(starts_at):
        raise InvalidInput("Give the review meeting's start with a time zone (or in UTC).")
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise InvalidInput(f"A review meeting lasts {MIN_MINUTES} to {MAX_MINUTES} minutes, not {minutes}.")
    if starts_at < timezone.now() - dt.timedelta(minutes=5):
        raise InvalidInput("The review meeting cannot start in the past.")
    if starts_at > timezone.now() + MAX_AHEAD:
        raise InvalidInput("Schedule the review meeting within a year.")
    return starts_at.astimezone(dt.timezone.utc).replace(microsecond=0)


def schedule_review(postmortem: PostMortem, starts_at: dt.datetime, minutes: int, organizer) -> Invitation:
    """Set the post-mortem's review meeting and email an invitation (.ics) to every current
    participant of the incident and the owner. Raises InvalidInput for a published post-mortem,
    a start in the past or without a zone, or a length outside 15–480 minutes.

    The meeting is saved first (its own transaction); the mail goes after, so an SMTP failure
    raises to the caller with the meeting kept — scheduling again resends with the same UID."""
    starts_at = _clean(starts_at, minutes)
    with transaction.atomic():
        postmortem = (
            PostMortem.objects.select_for_update(of=("self",))
            .select_related("incident__severity", "owner")
            .get(pk=postmortem.pk)
        )
        if postmortem.status == PostMortem.Status.PUBLISHED:
            raise InvalidInput(f"The post-mortem of {postmortem.incident.reference} is published; there is nothing left to review.")
        postmortem.review_meeting_at = starts_at
        postmortem.review_meeting_minutes = minutes
        postmortem.save(update_fields=["review_meeting_at", "review_meeting_minutes"])
    ends_at = starts_at + dt.timedelta(minutes=minutes)
    people = attendees(postmortem)
    invited = [person for person in people if person.email]
    invitation = Invitation(
        postmortem, starts_at, ends_at, without_email=[str(person) for person in people if not person.email]
    )
    invitation.ics = build_ics(postmortem, starts_at=starts_at, ends_at=ends_at, organizer=organizer, people=invited)
    reply_to = [organizer.email] if organizer is not None and organizer.email else []
    messages = []
    for person in invited:
        message = EmailMultiAlternatives(
            subject=_summary(postmortem),
            body=_body(postmortem, starts_at, minutes, person),
            to=[person.email],
            reply_to=reply_to,
        )
        # Inline (calendar clients show Accept/Decline) and as a file (for those that want one).
        message.attach_alternative(invitation.ics.decode(), "text/calendar; method=REQUEST")
        message.attach("invite.ics", invitation.ics.decode(), "text/calendar; method=REQUEST")
        messages.append(message)
    if messages:
        get_connection().send_messages(messages)
    invitation.sent_to = [person.email for person in invited]
    return invitation
