"""Editing an incident's descriptive details (title, impact, flags…), said field by field on the
timeline."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction

from .. import bounds, clock, deadlines, timeline
from ..errors import InvalidField, InvalidInput
from ..models import Incident, Service
from .base import Kind, clean_text, lock, require_not_closed


EDITABLE_DETAILS = (
    "title",
    "summary",
    "incident_type",
    "origin",
    "detected_at",
    "users_affected_estimated",
    "users_affected_confirmed",
    "regions",
    "revenue_impact",
    "reputation_impact",
    "compliance_impact",
    "impact_description",
    "customer_facing",
    "public_on_status_page",
    "is_restricted",
    "is_drill",
    "mitigation",
    "mitigation_notes",
    "resolution_summary",
)


_CHOICE_FIELDS = {"origin", "revenue_impact", "reputation_impact", "compliance_impact", "mitigation"}


def _display(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    return str(value)


@transaction.atomic
def update_details(incident: Incident, *, actor, source: str, services: Iterable[Service] | None = None, **changes: Any) -> Incident:
    """Edit what is known about the incident (title, impact, flags, mitigation…). Records one
    timeline event listing every field that changed; recording a mitigation stamps
    `mitigated_at` if it was not yet set."""
    unknown = set(changes) - set(EDITABLE_DETAILS)
    if unknown:
        raise InvalidInput(f"These fields cannot be edited here: {', '.join(sorted(unknown))}.")
    incident = lock(incident)
    require_not_closed(incident, "be edited")
    if "title" in changes:
        changes["title"] = clean_text(changes["title"], "The title", max_length=200)
    if "detected_at" in changes:
        changes["detected_at"] = bounds.detection_time(changes["detected_at"], incident.declared_at, now=clock.now())
    for field in ("users_affected_estimated", "users_affected_confirmed"):
        refusal = bounds.users_refusal(changes.get(field))
        if refusal:
            raise InvalidField(field, refusal)
    if changes.get("mitigation") and changes["mitigation"] not in Incident.Mitigation.values:
        raise InvalidInput(f"Unknown mitigation {changes['mitigation']!r}.")

    changed: dict[str, list[str]] = {}
    for field, value in changes.items():
        old = getattr(incident, field)
        if old != value:
            if field in _CHOICE_FIELDS:
                labels = dict(Incident._meta.get_field(field).flatchoices)
                changed[field] = [_display(labels.get(old, old)), _display(labels.get(value, value))]
            else:
                changed[field] = [_display(old), _display(value)]
            setattr(incident, field, value)
    update_fields = list(changed)
    if "mitigation" in changed and incident.mitigation and incident.mitigated_at is None:
        incident.mitigated_at = clock.now()
        update_fields.append("mitigated_at")
    if services is not None:
        services = list(services)
        before = sorted(s.name for s in incident.services.all())
        after = sorted(s.name for s in services)
        if before != after:
            incident.services.set(services)
            changed["services"] = [_display(before), _display(after)]
    if not changed:
        return incident
    incident.save(update_fields=update_fields + ["updated_at"])
    if changed.keys() & {"public_on_status_page", "customer_facing", "is_restricted", "is_drill"}:
        # Whether the status-page reminder is still needed.
        reason = "published on the status page" if incident.public_on_status_page else "details changed"
        deadlines.sync(incident, now=clock.now(), reason=reason)
    labels = {f.name: str(f.verbose_name) for f in Incident._meta.get_fields() if hasattr(f, "verbose_name")}
    parts = [f"{labels.get(field, field)}: {old} → {new}" for field, (old, new) in changed.items()]
    timeline.record(incident, Kind.DETAILS_CHANGED, "Changed " + "; ".join(parts), actor=actor, source=source, data={"changes": changed})
    return incident
