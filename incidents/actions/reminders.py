"""What other apps ask to be said on an incident's timeline: comms' delivery failures and
postmortems' reminders and status moves."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from .. import firing, timeline
from ..models import Incident, Source, TimelineEvent
from .base import Kind


# --- What comms reports back ----------------------------------------------------------------------


@transaction.atomic
def record_notification_failure(incident: Incident, message: str, *, data: dict | None = None) -> TimelineEvent:
    """A message about this incident could not be delivered (retries exhausted, or a person
    with no way to reach them): said on the timeline, so responders know who did not hear."""
    return timeline.record(
        incident, Kind.NOTIFICATION_FAILED, message[:2000], source=Source.SYSTEM, data=data or {}
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
