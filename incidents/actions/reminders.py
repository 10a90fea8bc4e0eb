"""What other apps ask to be said on an incident's timeline: comms' delivery failures and its
war room, postmortems' reminders and status moves."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from .. import firing, timeline
from ..models import Incident, Source, TimelineEvent
from .base import Kind, lock


# --- What comms reports back ----------------------------------------------------------------------


@transaction.atomic
def record_notification_failure(incident: Incident, message: str, *, data: dict | None = None) -> TimelineEvent:
    """A message about this incident could not be delivered (retries exhausted, or a person
    with no way to reach them): said on the timeline, so responders know who did not hear."""
    return timeline.record(
        incident, Kind.NOTIFICATION_FAILED, message[:2000], source=Source.SYSTEM, data=data or {}
    )


@transaction.atomic
def record_war_room_opened(incident: Incident, *, name: str, url: str, message: str = "") -> TimelineEvent:
    """Comms opened the incident's chat channel: its name and link go on the incident (the page,
    messages and the status reply show them) and the timeline says so."""
    incident = lock(incident)
    incident.war_room_name, incident.war_room_url = name[:100], url[:1000]
    incident.save(update_fields=["war_room_name", "war_room_url", "updated_at"])
    return timeline.record(
        incident,
        Kind.WAR_ROOM_OPENED,
        (message or f"War room opened: #{name}")[:2000],
        source=Source.SYSTEM,
        data={"name": name, "url": url},
    )


@transaction.atomic
def record_war_room_failure(incident: Incident, error: str, *, data: dict | None = None) -> TimelineEvent:
    """The chat channel could not be opened, joined or archived: the reason on the timeline
    ("could not open the war room: …"); comms' sweeper retries."""
    return timeline.record(
        incident, Kind.WAR_ROOM_FAILED, error[:2000], source=Source.SYSTEM, data={**(data or {}), "error": error[:500]}
    )


@transaction.atomic
def record_war_room_archived(incident: Incident, message: str = "") -> TimelineEvent:
    """The chat channel was archived (the incident closed); its link stays on the incident."""
    return timeline.record(
        incident, Kind.WAR_ROOM_ARCHIVED, (message or f"War room #{incident.war_room_name} archived")[:2000], source=Source.SYSTEM
    )


# --- What postmortems asks to be said -------------------------------------------------------------


@transaction.atomic
def record_postmortem_reminder(incident: Incident, message: str, *, targets: Iterable, data: dict | None = None) -> TimelineEvent:
    """A post-mortem (or one of its action items) is due soon or overdue: said on the incident's
    timeline with whom to remind (`data["targets"]`, the engine's shape), so comms tells them.
    `data["context"]` carries the message's extra words (due_date, item, postmortem_url)."""
    return timeline.record(
        incident,
        Kind.POSTMORTEM_REMINDER,
        message[:2000],
        source=Source.SYSTEM,
        data={**(data or {}), "targets": firing.describe(targets)},
    )


@transaction.atomic
def record_postmortem_status(incident: Incident, message: str, *, actor, source: str) -> TimelineEvent:
    """The post-mortem moved (submitted for review, back to draft, published): who did it, said
    on the incident's timeline as a note. A note notifies nobody; it is the record."""
    return timeline.record(incident, Kind.NOTE, message[:2000], actor=actor, source=source)
