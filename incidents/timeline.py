"""Appending to an incident's timeline: the event log every action writes and comms reacts to."""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from . import clock
from .models import Incident, Source, TimelineEvent

Kind = TimelineEvent.Kind
Visibility = TimelineEvent.Visibility

# Sent inside the writing transaction, before the insert, with `events` (unsaved): a receiver
# may stamp `dispatched_at` on events nobody needs to hear about, so the outbox never has to
# look at them.
events_recording = Signal()
# Sent inside the writing transaction, after the insert, with `events` (saved, with primary
# keys). `comms` listens and dispatches them once the transaction commits; `incidents` never
# imports `comms`.
events_recorded = Signal()


def build(
    incident: Incident,
    kind: str,
    message: str,
    *,
    actor=None,
    source: str = Source.SYSTEM,
    data: dict[str, Any] | None = None,
    visibility: str = Visibility.INTERNAL,
) -> TimelineEvent:
    """An event not yet saved (see `record_many`)."""
    return TimelineEvent(
        incident=incident,
        kind=kind,
        occurred_at=clock.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        source=source,
        message=message,
        data=data or {},
        visibility=visibility,
    )


def record(incident: Incident, kind: str, message: str, **fields: Any) -> TimelineEvent:
    """Append one event. Called only from inside an action's transaction."""
    event = build(incident, kind, message, **fields)
    events_recording.send(sender=TimelineEvent, events=[event])
    event.save(force_insert=True)
    events_recorded.send(sender=TimelineEvent, events=[event])
    return event


def record_many(events: list[TimelineEvent]) -> list[TimelineEvent]:
    """Append several built events in one statement, in order (the engine's batches)."""
    if events:
        events_recording.send(sender=TimelineEvent, events=events)
    saved = TimelineEvent.objects.bulk_create(events)
    if saved:
        events_recorded.send(sender=TimelineEvent, events=saved)
    return saved
