"""The context a message renders from: a flat dict of plain strings that describes an incident
(and the event a message is about) to one recipient, times in the recipient's zone.

For a fan-out, compute `base = base_context(incident)` once (a few queries) and pass `base=base`
to `context` for each recipient (no query).
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from incidents import selectors
from incidents.models import Participant, Status
from oncall import clocks
from oncall.formatting import duration

from ..status import PUBLIC_STATUSES
from .variables import EXTRA_VARIABLES, VARIABLES, Entries, Value, person


def format_moment(moment: datetime | None, zone: zoneinfo.ZoneInfo | None = None) -> str:
    """'22 Nov 2026 14:05 GMT' in `zone` (UTC when none)."""
    if moment is None:
        return ""
    local = moment.astimezone(zone or zoneinfo.ZoneInfo("UTC"))
    return f"{local.day} {local:%b %Y %H:%M} {local.tzname()}"


def format_due(moment: datetime, zone: zoneinfo.ZoneInfo) -> str:
    """'Tue 26 May 10:40 BST' in `zone`: a time soon enough that the weekday says more than the year."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %H:%M} {local.tzname()}"


def _zone(recipient) -> zoneinfo.ZoneInfo:
    name = getattr(recipient, "time_zone", None) or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _base_url() -> str:
    return settings.VIGIL_BASE_URL.rstrip("/")


def _impact_fields(incident) -> dict[str, str]:
    """The impact as recorded, field by field: numbers with thousands separators, levels by their
    label, blank where nothing was given."""

    def count(number: int | None) -> str:
        return f"{number:,}" if number is not None else ""

    return {
        "impact_description": incident.impact_description.strip(),
        "users_affected_estimated": count(incident.users_affected_estimated),
        "users_affected_confirmed": count(incident.users_affected_confirmed),
        "regions": ", ".join(str(region) for region in incident.regions or []),
        "revenue_impact": incident.get_revenue_impact_display(),
        "reputation_impact": incident.get_reputation_impact_display(),
        "compliance_impact": incident.get_compliance_impact_display(),
    }


def _impact(fields: dict[str, str]) -> str:
    """One sentence for `impact`: the description, else users affected (confirmed over estimated) and regions."""
    if fields["impact_description"]:
        return fields["impact_description"]
    if fields["users_affected_confirmed"]:
        users = f"{fields['users_affected_confirmed']} users affected"
    elif fields["users_affected_estimated"]:
        users = f"about {fields['users_affected_estimated']} users affected"
    else:
        users = ""
    regions = fields["regions"]
    if users and regions:
        sentence = f"{users} in {regions}."
    elif users:
        sentence = f"{users}."
    elif regions:
        sentence = f"affecting {regions}."
    else:
        return "Being assessed."
    return sentence[0].upper() + sentence[1:]


Role = Participant.Role
_SENIORITY = {role: rank for rank, role in enumerate(Role)}  # the order roles are declared in


def _roles(held: list[str]) -> str:
    """'Incident commander, Scribe': everyone listed responds, so "Responder" is said only of
    someone who holds no other role."""
    named = {role for role in held if role != Role.RESPONDER} or {Role.RESPONDER}
    return ", ".join(Role(role).label for role in sorted(named, key=_SENIORITY.__getitem__))


def _team(participants: list[Participant]) -> Entries:
    """The current participants, one entry per person with all their roles: the most senior role
    first, then whoever joined first."""
    held: dict[int, tuple[object, list[str]]] = {}
    for participant in participants:  # in the order they joined
        held.setdefault(participant.user_id, (participant.user, []))[1].append(participant.role)
    people = sorted(held.values(), key=lambda item: min(_SENIORITY[role] for role in item[1]))
    return Entries(person(str(user), _roles(roles), user.email) for user, roles in people)


def _acknowledger(incident) -> str:
    """Who acknowledged: the actor of the incident's acknowledgement on the timeline."""
    from incidents.models import TimelineEvent

    event = (
        TimelineEvent.objects.filter(incident=incident, kind=TimelineEvent.Kind.ACKNOWLEDGED)
        .select_related("actor")
        .order_by("-occurred_at", "-pk")
        .first()
    )
    return event.actor_label if event is not None else ""


def _blank_base() -> dict[str, Value]:
    values: dict[str, Value] = {name: "" for name in VARIABLES}
    values["participants"] = Entries()
    values.update(status_page_url=f"{_base_url()}/status/", customer_facing="no", is_drill="no", commander="unassigned")
    values["organisation_name"] = settings.VIGIL_ORGANISATION_NAME
    return values


def base_context(incident) -> dict[str, Value]:
    """What every recipient of a message about `incident` shares, computed once (a few queries).

    Pass it as `context(..., base=...)` for each recipient. Instants are kept as ISO strings
    (`_declared_iso`…) and put in each recipient's time zone by `context`. `incident` may be
    None (a report about no one incident)."""
    values = _blank_base()
    values.update(_declared_iso="", _resolved_iso="", _started_iso="", _next_update_iso="", _acknowledged_iso="", _first_update_rule="")
    if incident is None:
        return values
    severity = incident.severity
    services = list(incident.services.all())
    participants = selectors.current_participants(incident)
    commanders = [participant.user for participant in participants if participant.role == Role.COMMANDER]
    team = _team(participants)
    next_update = selectors.next_update_due(incident)
    window = getattr(severity, "status_page_window", None)
    impact = _impact_fields(incident)
    values.update(impact)
    values.update(
        ref=incident.reference,
        title=incident.title,
        severity=severity.name,
        severity_label=severity.label,
        **_status_values(incident.status),
        summary=incident.summary,
        impact=_impact(impact),
        services=", ".join(service.name for service in services),
        customer_services=", ".join(service.name for service in services if service.customer_facing),
        customer_facing="yes" if incident.customer_facing else "no",
        is_drill="yes" if incident.is_drill else "no",
        commander=", ".join(str(user) for user in commanders) or "unassigned",
        response_team=str(team),
        participants=team,
        update_interval=severity.update_interval_text,
        _update_within=severity.update_cadence_text("within"),
        update_rule=f"{severity.name} incidents need an update {severity.update_cadence_text()}.",
        _first_update_rule=f"The first update on {severity.name} incidents is due {severity.first_update_due_text}.",
        postmortem_policy=severity.get_postmortem_policy_display(),
        resolution_summary=incident.resolution_summary,
        incident_url=_base_url() + reverse("admin:incidents_incident_change", args=[incident.pk]),
        call_bridge_url=incident.call_bridge_url,
        war_room=f"#{incident.war_room_name}" if incident.war_room_name else "",
        war_room_url=incident.war_room_url,
        _declared_iso=incident.declared_at.isoformat(),
        _resolved_iso=incident.resolved_at.isoformat() if incident.resolved_at else "",
        _started_iso=incident.started_at.isoformat(),
        _next_update_iso=next_update.isoformat() if next_update else "",
        # The latest acknowledgement (the reopen round's once there is one), as `acknowledged_by`.
        _acknowledged_iso=(incident.round_acknowledged_at or incident.acknowledged_at).isoformat() if incident.acknowledged_at else "",
        acknowledged_by=_acknowledger(incident) if incident.acknowledged_at else "",
        status_page_window=clocks.describe(severity.update_clock, window, duration) if window else "",
    )
    return values


def _moment(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def context(incident, *, event=None, recipient=None, extra: dict | None = None, base: dict | None = None) -> dict[str, Value]:
    """The flat context a template renders from, for one recipient of one event: plain strings,
    and the participants as a read-only list of entries of plain strings.

    With `base` (from `base_context(incident)`) it costs no query: only the recipient's,
    the event's and `extra`'s fields are added."""
    values = dict(base if base is not None else base_context(incident))
    zone = _zone(recipient)
    now = timezone.now()
    declared, resolved = _moment(values.pop("_declared_iso", "")), _moment(values.pop("_resolved_iso", ""))
    started, next_update = _moment(values.pop("_started_iso", "")), _moment(values.pop("_next_update_iso", ""))
    acknowledged = _moment(values.pop("_acknowledged_iso", ""))
    update_within = values.pop("_update_within", "")
    first_update_rule = values.pop("_first_update_rule", "")
    values["declared_at"] = format_moment(declared, zone)
    values["acknowledged_at"] = format_moment(acknowledged, zone)
    values["resolved_at"] = format_moment(resolved, zone)
    values["now"] = format_moment(now, zone)
    if declared is not None:
        values["running_for"] = duration(max(now - declared, timedelta(0)))
    if started is not None:
        values["duration"] = duration(max((resolved or now) - started, timedelta(0)))
    if values.get("ref") and values.get("public_status") != "resolved":
        if next_update is not None:
            values["next_update"] = f"by {format_moment(next_update, zone)}"
            values["next_update_due"] = format_due(next_update, zone)
        elif update_within:
            values["next_update"] = update_within
    values["recipient_name"] = str(recipient) if recipient is not None else ""
    if event is not None:
        values.update(_event_values(event, declared, zone))
        if event.kind == "update_overdue":
            values["update_rule"] = _missed_update_rule(event.data or {}, values["update_rule"], first_update_rule, zone)
    for name in EXTRA_VARIABLES:
        values.setdefault(name, "")
    values.setdefault("ack_url", "")
    values.setdefault("ack_code", "")
    for name, value in (extra or {}).items():
        values[str(name)] = "" if value is None else value
    # Plain `str` (or a list of entries) only: choices enums and numbers become their text.
    return {name: value if type(value) in (str, Entries) else str(value) for name, value in values.items()}


def _status_values(status: str) -> dict[str, str]:
    return {"status": status, "status_label": Status(status).label, "public_status": PUBLIC_STATUSES[status]}


def _missed_update_rule(data: dict, rule: str, first_rule: str, zone: zoneinfo.ZoneInfo) -> str:
    """The cadence an update-overdue reminder says was missed: the first update's (due from
    declaration) or the later updates' (from the last update, or from the reopen)."""
    if data.get("first"):
        return first_rule
    last = _moment(str(data.get("last_update_at") or ""))
    if last is None:
        return rule
    since = "none since the reopen at" if data.get("since_reopen") else "the last one was at"
    return f"{rule[:-1]}; {since} {format_moment(last, zone)}."


def _event_values(event, declared: datetime | None, zone: zoneinfo.ZoneInfo) -> dict[str, str]:
    """What a message says about the timeline event it is for: its kind, time, text and actor,
    how long the incident had run by then, and a page's level, reason and targets."""
    data = event.data or {}
    is_update = event.kind == "status_update"
    values = {
        "event_kind": event.kind,
        "occurred_at": format_moment(event.occurred_at, zone),
        "message": event.message,
        "actor": event.actor_label,
        "update": event.message if is_update else "",
        "public_update": event.message if is_update and event.visibility == "external" else "",
        "level_name": str(data.get("level_name") or ""),
        "reason": str(data.get("reason") or ""),
        "targets": ", ".join(
            str(target.get("name") or target.get("username") or "") if isinstance(target, dict) else str(target)
            for target in data.get("targets") or []
        ),
    }
    if event.kind in ("reopened", "resolved"):
        # The reopen's reason and the resolution summary are internal; customers get words given
        # for them, if any.
        values["public_update"] = str(data.get("public_update") or "")
    if is_update and data.get("status") in PUBLIC_STATUSES:
        # An update speaks of the status it was posted in, even when it is sent after the incident
        # moved on (resolved before the update was dispatched): its text and its status agree.
        values.update(_status_values(data["status"]))
    if declared is not None:
        values["running_for"] = duration(max(event.occurred_at - declared, timedelta(0)))
    if data.get("window_seconds"):
        values["status_page_window"] = duration(timedelta(seconds=int(data["window_seconds"])))
    if data.get("level") is not None:
        values["level"] = str(data["level"])
    return values
