"""Appending to an incident's timeline: the event log every action writes and comms reacts to."""

from __future__ import annotations

from typing import Any

from . import clock
from .models import Incident, Source, TimelineEvent

Kind = TimelineEvent.Kind
Visibility = TimelineEvent.Visibility


def record(
    incident: Incident,
    kind: str,
    message: str,
    *,
    actor=None,
    source: str = Source.SYSTEM,
    data: dict[str, Any] | None = None,
    visibility: str = Visibility.INTERNAL,
) -> TimelineEvent:
    """Append one event. Called only from inside an action's transaction."""
    return TimelineEvent.objects.create(
        incident=incident,
        kind=kind,
        occurred_at=clock.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        source=source,
        message=message,
        data=data or {},
        visibility=visibility,
    )
