"""The incident page as the commander's command centre: the header (badges, the next SLA deadline,
the roles and how to reach them, the war room and call bridge), the timeline beside the side panel
of actions, and the JSON the page polls to stay current (`timeline_json`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from .. import contacts, formatting, metrics, selectors, sla
from ..formatting import MINUTE, badge, badge_colors, local
from ..models import Incident, Participant, Status, TimelineEvent
from . import operations

STATUS_COLORS = {
    Status.TRIGGERED: "#c62828",
    Status.INVESTIGATING: "#ef6c00",
    Status.IDENTIFIED: "#ffb300",
    Status.MONITORING: "#1565c0",
    Status.RESOLVED: "#2e7d32",
    Status.CLOSED: "#757575",
}
SLA_COLORS = {sla.SlaState.ON_TIME: "#2e7d32", sla.SlaState.DUE_SOON: "#ffb300", sla.SlaState.BREACHED: "#c62828"}
EXTERNAL_COLOR = "#6a1b9a"

# How many events the page shows at once; older ones are a "show older" link away.
TIMELINE_SHOWN = 50
# The order roles are listed in the header.
ROLE_ORDER = [role for role, _label in Participant.Role.choices]


@dataclass(frozen=True)
class RoleHolder:
    role: str
    user: object
    contacts: list[contacts.Contact]


def next_due(incident: Incident) -> sla.SlaTarget | None:
    """The soonest SLA target still to meet (as the dashboard picks it); None when all are met."""
    if not incident.is_open:
        return None
    pending = [t for t in sla.targets(incident, last_update_at=incident.last_update_at) if t.met_at is None]
    return min(pending, key=lambda t: t.due_at) if pending else None


def role_holders(incident: Incident) -> list[RoleHolder]:
    """Who holds each role now, commander first, with how to reach them (one query for the contacts)."""
    current = sorted(
        (p for p in incident.participants.all() if p.left_at is None),
        key=lambda p: (ROLE_ORDER.index(p.role), p.joined_at, p.pk),
    )
    reach = contacts.reach(p.user for p in current)
    return [RoleHolder(p.get_role_display(), p.user, reach.get(p.user_id, [])) for p in current]


def state(incident: Incident, now: dt.datetime) -> dict:
    """The header's moving parts, for the page and its poll: status, severity, SLA, next deadline."""
    summary = sla.summary(incident, now=now, last_update_at=incident.last_update_at)
    due = next_due(incident)
    return {
        "status": incident.get_status_display(),
        "status_colors": badge_colors(STATUS_COLORS[incident.status]),
        "severity": incident.severity.name,
        "severity_label": incident.severity.label,
        "severity_colors": badge_colors(incident.severity.color),
        "sla": summary.label,
        "sla_colors": badge_colors(SLA_COLORS[summary.state]),
        "next_due": None if due is None else {
            "name": due.name,
            "due_at": due.due_at.isoformat(),
            "due_local": local(due.due_at, MINUTE),
            "countdown": formatting.countdown(due.due_at, now),
        },
    }


def event_json(event: TimelineEvent) -> dict:
    return {
        "id": event.pk,
        "when": date_format(timezone.localtime(event.occurred_at), "Y-m-d H:i:s"),
        "kind": event.kind,
        "what": event.get_kind_display(),
        "who": event.actor_label,
        # Where a person acted from ("Chat"); nothing when no person did (who is already the source).
        "via": event.get_source_display() if event.actor_id else "",
        "visibility": event.visibility,
        "message": event.message,
    }


def context(request, model_admin, incident: Incident) -> dict:
    """Everything the command centre shows, in a number of queries that does not grow with the
    incident's events, roles, tasks, services or evidence."""
    now = timezone.now()
    show = selectors.timeline_filter(request.GET.get("show"))
    before = request.GET.get("before")
    before = int(before) if before and before.isdigit() else None
    events = selectors.timeline_events(incident, show=show, before=before, limit=TIMELINE_SHOWN + 1)
    older = events[TIMELINE_SHOWN] if len(events) > TIMELINE_SHOWN else None
    events = events[:TIMELINE_SHOWN]
    offered = operations.offered(request.user, incident)
    header = state(incident, now)
    return {
        **model_admin.admin_site.each_context(request),
        "title": incident.reference,
        "subtitle": incident.title,
        "opts": model_admin.opts,
        "original": incident,
        "incident": incident,
        "is_nav_sidebar_enabled": False,  # the page needs the whole width of a laptop
        "state": header,
        "severity_badge": badge(header["severity"], incident.severity.color, title=header["severity_label"]),
        "status_badge": badge(header["status"], STATUS_COLORS[incident.status]),
        "sla_badge": badge(header["sla"], header["sla_colors"][0]),
        "roles": role_holders(incident),
        "can_edit_details": model_admin.has_change_permission(request, incident),
        "operations": offered,
        "side_operations": operations.side(offered),
        "update_form": offered.get("post_update"),
        "tasks": incident.tasks.select_related("done_by"),
        "services": incident.services.all(),
        "evidence": incident.evidence.select_related("added_by"),
        "events": events,
        "filters": [(name, label) for name, (label, _condition) in selectors.TIMELINE_FILTERS.items()],
        "show": show,
        "older_than": events[-1].pk if older is not None and events else None,
        "paged": before is not None,
        "latest_id": max((e.pk for e in events), default=0),
        "deadlines": incident.deadlines.order_by("due_at", "pk"),
        "held_targets": metrics.held_targets_text(incident),
        "refresh_seconds": settings.VIGIL_INCIDENT_REFRESH_SECONDS,
    }


def timeline_json(request, incident: Incident) -> JsonResponse:
    """GET `?after=<event id>&show=<filter>`: the events recorded since, oldest first (at most
    TIMELINE_SHOWN; the page asks again for the rest), and the header's state."""
    after = request.GET.get("after", "")
    show = selectors.timeline_filter(request.GET.get("show"))
    events = selectors.timeline_events(incident, show=show, after=int(after) if after.isdigit() else 0, limit=TIMELINE_SHOWN)
    return JsonResponse({"events": [event_json(e) for e in events], "state": state(incident, timezone.now())})
