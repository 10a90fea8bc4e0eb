"""Declaring an incident: the one action that creates one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max

from .. import bounds, bridge, clock, deadlines, sla, timeline
from ..errors import InvalidInput
from ..models import Incident, IncidentTask, IncidentType, Participant, Service, SeverityLevel
from .base import Kind, Role, actor_name, clean_text
from .roles import assign_locked


def _next_number() -> int:
    return (Incident.objects.aggregate(m=Max("number"))["m"] or 0) + 1


def _create_numbered(fields: dict) -> Incident:
    # Numbers are sequential: take max+1 and retry on the unique constraint when a
    # concurrent declaration got there first (never check-then-insert).
    for attempt in range(10):
        try:
            with transaction.atomic():
                incident = Incident.objects.create(number=_next_number(), **fields)
            break
        except IntegrityError:
            if attempt == 9:
                raise
    return incident


def _derived_flags(severity, incident_type, services, customer_facing, public_on_status_page, is_restricted, is_drill):
    """The flags a declaration leaves unset, derived: customer-facing from the services,
    restricted from the type, public from customer-facing and the severity's status-page policy."""
    if customer_facing is None:
        customer_facing = any(s.customer_facing for s in services)
    if is_restricted is None:
        is_restricted = bool(incident_type and incident_type.restricted_by_default)
    if public_on_status_page is None:
        # Public at once only where the severity's status-page window is zero; a longer window
        # leaves the choice to the communications lead, reminded when it passes.
        public_on_status_page = (
            customer_facing
            and severity.show_on_status_page
            and severity.status_page_window == timedelta(0)
            and not is_restricted
            and not is_drill
        )
    return customer_facing, public_on_status_page, is_restricted


@transaction.atomic
def declare(
    *,
    title: str,
    severity: SeverityLevel,
    actor,
    source: str,
    incident_type: IncidentType | None = None,
    services: Iterable[Service] = (),
    summary: str = "",
    origin: str = Incident.Origin.INTERNAL,
    commander=None,
    detected_at: datetime | None = None,
    customer_facing: bool | None = None,
    public_on_status_page: bool | None = None,
    is_restricted: bool | None = None,
    is_drill: bool = False,
    actor_label: str = "",
) -> Incident:
    """Open a new incident. Unset flags are derived: customer-facing from the services,
    restricted from the type, public from customer-facing and the severity's status-page policy
    (shown, with a window of zero)."""
    now = clock.now()
    title = clean_text(title, "The title", max_length=200)
    services = list(services)
    detected_at = bounds.detection_time(detected_at, now, now=now)
    if origin not in Incident.Origin.values:
        raise InvalidInput(f"Unknown source {origin!r}.")
    customer_facing, public_on_status_page, is_restricted = _derived_flags(
        severity, incident_type, services, customer_facing, public_on_status_page, is_restricted, is_drill
    )

    fields = dict(
        title=title,
        summary=(summary or "").strip(),
        severity=severity,
        incident_type=incident_type,
        origin=origin,
        customer_facing=customer_facing,
        public_on_status_page=public_on_status_page,
        is_restricted=is_restricted,
        is_drill=is_drill,
        detected_at=detected_at,
        declared_at=now,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        escalation_policy=deadlines.policy_for_services(services),
    )
    fields.update(sla.held(Incident(**fields)))  # what it is held to, from its severity now
    incident = _create_numbered(fields)
    incident.services.set(services)
    incident.call_bridge_url = bridge.for_incident(incident.number, services)
    if incident.call_bridge_url:
        Incident.objects.filter(pk=incident.pk).update(call_bridge_url=incident.call_bridge_url)
    checklist = list(incident_type.checklist) if incident_type else []
    IncidentTask.objects.bulk_create(
        IncidentTask(incident=incident, position=i, title=str(item)[:300]) for i, item in enumerate(checklist, 1)
    )

    flags = [label for flag, label in ((is_drill, "drill"), (is_restricted, "restricted")) if flag]
    timeline.record(
        incident,
        Kind.DECLARED,
        f"{actor_name(actor, source, actor_label)} declared {severity.name} {incident.reference}: {title}"
        + (f" ({', '.join(flags)})" if flags else ""),
        actor=actor,
        source=source,
        data={
            "severity": severity.name,
            "type": incident_type.name if incident_type else None,
            "services": [s.name for s in services],
            "origin": origin,
            "tasks": len(checklist),
        },
    )
    if commander is not None:
        assign_locked(incident, commander, Role.COMMANDER, actor=actor, source=source)
    if getattr(actor, "is_authenticated", False) and getattr(commander, "pk", None) != actor.pk:
        # Whoever declares is part of the response (and keeps seeing a restricted incident).
        Participant.objects.create(incident=incident, user=actor, role=Role.RESPONDER, joined_at=now)
    deadlines.sync(incident, now=now)
    return incident
