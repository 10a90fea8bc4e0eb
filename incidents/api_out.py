"""What the incidents API answers: an incident (in a list and in full), a timeline event and a
task as the plain dicts the `…Out` schemas in `api_schemas` describe, every instant in UTC."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from oncall.api_common import person

from . import sla
from .models import Incident, IncidentTask


def _iso(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.astimezone(dt.timezone.utc) if moment else None


def _admin_url(incident: Incident) -> str:
    return settings.VIGIL_BASE_URL.rstrip("/") + reverse("admin:incidents_incident_change", args=[incident.pk])


def incident_out(incident: Incident, now: dt.datetime) -> dict:
    summary = sla.summary(incident, now=now, last_update_at=incident.last_update_at)
    commanders = getattr(incident, "commanders", [])
    return {
        "reference": incident.reference,
        "number": incident.number,
        "title": incident.title,
        "summary": incident.summary,
        "severity": {"name": incident.severity.name, "rank": incident.severity.rank, "label": incident.severity.label},
        "status": incident.status,
        "type": incident.incident_type.slug if incident.incident_type else None,
        "services": [service.slug for service in incident.services.all()],
        "commander": person(commanders[0].user) if commanders else None,
        "customer_facing": incident.customer_facing,
        "restricted": incident.is_restricted,
        "drill": incident.is_drill,
        "detected_at": _iso(incident.detected_at),
        "declared_at": _iso(incident.declared_at),
        "acknowledged_at": _iso(incident.acknowledged_at),
        "mitigated_at": _iso(incident.mitigated_at),
        "resolved_at": _iso(incident.resolved_at),
        "closed_at": _iso(incident.closed_at),
        "sla": {
            "state": summary.state.value,
            "label": summary.label,
            "target": summary.target.name,
            "due_at": _iso(summary.target.due_at),
        },
        "url": _admin_url(incident),
    }


def detail_out(incident: Incident, warnings: list[str] | None = None) -> dict:
    current = [p for p in incident.participants.all() if p.left_at is None]
    return {
        **incident_out(incident, timezone.now()),
        "origin": incident.origin,
        "public_on_status_page": incident.public_on_status_page,
        "users_affected_estimated": incident.users_affected_estimated,
        "users_affected_confirmed": incident.users_affected_confirmed,
        "warnings": warnings or [],
        "mitigation": incident.mitigation,
        "resolution_summary": incident.resolution_summary,
        "participants": [
            {"username": p.user.get_username(), "name": str(p.user), "role": p.role, "joined_at": _iso(p.joined_at)}
            for p in current
        ],
    }


def event_out(event) -> dict:
    return {
        "id": event.pk,
        "kind": event.kind,
        "occurred_at": _iso(event.occurred_at),
        "actor": person(event.actor),
        "actor_label": event.actor_label,
        "source": event.source,
        "message": event.message,
        "visibility": event.visibility,
        "data": event.data if isinstance(event.data, dict) else {"value": event.data},
    }


def task_out(task: IncidentTask) -> dict:
    return {
        "id": task.pk,
        "position": task.position,
        "title": task.title,
        "done": task.is_done,
        "done_at": _iso(task.done_at),
        "done_by": person(task.done_by),
    }


__all__ = ["detail_out", "event_out", "incident_out", "task_out"]
