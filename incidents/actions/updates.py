"""What is said while an incident is worked: internal notes and status updates."""

from __future__ import annotations

from django.db import transaction

from .. import clock, deadlines, lifecycle, timeline
from ..errors import IllegalTransition, InvalidInput
from ..models import Incident
from .base import Kind, Visibility, clean_text, lock, require_not_closed
from .lifecycle import set_working_status


@transaction.atomic
def add_note(incident: Incident, text: str, *, actor, source: str) -> Incident:
    """An internal note on the timeline (what was tried, what was seen)."""
    incident = lock(incident)
    require_not_closed(incident, "take notes")
    text = clean_text(text, "The note", max_length=10_000)
    timeline.record(incident, Kind.NOTE, text, actor=actor, source=source)
    return incident


@transaction.atomic
def post_update(
    incident: Incident,
    text: str,
    *,
    actor,
    source: str,
    visibility: str = Visibility.INTERNAL,
    status: str | None = None,
) -> Incident:
    """A status update for stakeholders (internal) or customers (external). Resets the
    update-cadence SLA; may move the incident to another working status at the same time."""
    if visibility not in Visibility.values:
        raise InvalidInput(f"Unknown visibility {visibility!r}; expected internal or external.")
    incident = lock(incident)
    require_not_closed(incident, "take updates")
    text = clean_text(text, "The update", max_length=10_000)
    if status and status != incident.status:
        step = lifecycle.require(incident.reference, incident.status, status)
        if step not in ("acknowledge", "change_status"):
            raise IllegalTransition(f"Use resolve, reopen or close to move {incident.reference} to {status}.")
        set_working_status(incident, status, actor=actor, source=source)
    timeline.record(
        incident,
        Kind.STATUS_UPDATE,
        text,
        actor=actor,
        source=source,
        visibility=visibility,
        data={"status": incident.status},
    )
    incident.save(update_fields=["updated_at"])
    deadlines.sync(incident, now=clock.now(), reason="status update posted")
    return incident
