"""Every change to an incident, one function each.

Each action runs in one transaction: it locks the incident row, checks the step against the
lifecycle (`lifecycle.py`), writes the new state, stamps the lifecycle timestamps and appends
a timeline event. The admin, the API, chat commands, alert ingestion and the engine all call
these; nothing else writes incident state. Permission checks belong to the caller (see
`permissions.py`): an action trusts that its caller may perform it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import Max

from . import clock, deadlines, escalation, formatting, lifecycle, timeline
from .errors import IllegalTransition, InvalidInput
from .models import (
    Deadline,
    EvidenceLink,
    Incident,
    IncidentTask,
    IncidentType,
    Participant,
    Service,
    SeverityLevel,
    Source,
    Status,
    TimelineEvent,
)

Kind = timeline.Kind
Visibility = timeline.Visibility
Role = Participant.Role

# A detection time a little ahead of the server's clock is a skewed laptop, not a typo.
_CLOCK_SKEW = timedelta(minutes=5)


def _lock(incident: Incident) -> Incident:
    return (
        Incident.objects.select_for_update(of=("self",))
        .select_related("severity", "escalation_policy__team")
        .get(pk=incident.pk)
    )


def _actor_name(actor, source: str, actor_label: str = "") -> str:
    if getattr(actor, "is_authenticated", False):
        return str(actor)
    # Without a person, the caller may name what acted (an integration, a heartbeat).
    return actor_label or Source(source).label


def _clean_text(value: str, what: str, *, max_length: int | None = None, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{what} cannot be empty.")
    if max_length and len(text) > max_length:
        raise InvalidInput(f"{what} is {len(text)} characters; the limit is {max_length}.")
    return text


def _require_not_closed(incident: Incident, doing: str) -> None:
    if incident.status == Status.CLOSED:
        raise IllegalTransition(f"{incident.reference} is closed; it can no longer {doing}.")


def _require_step(incident: Incident, target: str, step: str, refusal: str) -> None:
    """Check the lifecycle allows `target`, and that it is this action's step to take."""
    if lifecycle.require(incident.reference, incident.status, target) != step:
        raise IllegalTransition(f"{incident.reference} is {Status(incident.status).label.lower()}; {refusal}")


def _next_number() -> int:
    return (Incident.objects.aggregate(m=Max("number"))["m"] or 0) + 1


# --- Declaring ------------------------------------------------------------------------------


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
    title = _clean_text(title, "The title", max_length=200)
    services = list(services)
    if detected_at is not None and detected_at > now + _CLOCK_SKEW:
        raise InvalidInput("The detection time is in the future.")
    if origin not in Incident.Origin.values:
        raise InvalidInput(f"Unknown source {origin!r}.")
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
    incident.services.set(services)
    checklist = list(incident_type.checklist) if incident_type else []
    IncidentTask.objects.bulk_create(
        IncidentTask(incident=incident, position=i, title=str(item)[:300]) for i, item in enumerate(checklist, 1)
    )

    flags = [label for flag, label in ((is_drill, "drill"), (is_restricted, "restricted")) if flag]
    timeline.record(
        incident,
        Kind.DECLARED,
        f"{_actor_name(actor, source, actor_label)} declared {severity.name} {incident.reference}: {title}"
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
        _assign(incident, commander, Role.COMMANDER, actor=actor, source=source)
    if getattr(actor, "is_authenticated", False) and getattr(commander, "pk", None) != actor.pk:
        # Whoever declares is part of the response (and keeps seeing a restricted incident).
        Participant.objects.create(incident=incident, user=actor, role=Role.RESPONDER, joined_at=now)
    deadlines.sync(incident, now=now)
    return incident


# --- Working ----------------------------------------------------------------------------------


def _stamp_acknowledged(incident: Incident, actor, source: str, *, now: datetime, actor_label: str = "") -> None:
    incident.acknowledged_at = now
    message = f"{_actor_name(actor, source, actor_label)} acknowledged {incident.reference}"
    timeline.record(
        incident,
        Kind.ACKNOWLEDGED,
        message,
        actor=actor,
        source=source,
        data={"seconds_to_acknowledge": int((now - incident.declared_at).total_seconds())},
    )
    if getattr(actor, "is_authenticated", False) and not incident.participants.filter(user=actor, left_at=None).exists():
        Participant.objects.create(incident=incident, user=actor, role=Role.RESPONDER, joined_at=now)


def _acknowledge_reopen_round(incident: Incident, actor, source: str, *, now: datetime, actor_label: str = "") -> None:
    """The reopen's acknowledge round is taken; the first acknowledgement (time to acknowledge)
    stays as it was."""
    incident.reopen_acknowledged_at = now
    timeline.record(
        incident,
        Kind.ACKNOWLEDGED,
        f"{_actor_name(actor, source, actor_label)} acknowledged reopened {incident.reference} "
        f"({formatting.duration(now - incident.reopened_at)} after the reopen)",
        actor=actor,
        source=source,
        data={"round": "reopened", "seconds_since_reopen": int((now - incident.reopened_at).total_seconds())},
    )
    if getattr(actor, "is_authenticated", False) and not incident.participants.filter(user=actor, left_at=None).exists():
        Participant.objects.create(incident=incident, user=actor, role=Role.RESPONDER, joined_at=now)


@transaction.atomic
def acknowledge(incident: Incident, *, actor, source: str, actor_label: str = "") -> Incident:
    """Someone is on it: stops the acknowledge SLA and moves a triggered incident to investigating.
    A reopened incident is acknowledged again, once per reopen (its status stays)."""
    incident = _lock(incident)
    if incident.awaiting_acknowledgement and incident.reopened_at:
        now = clock.now()
        _acknowledge_reopen_round(incident, actor, source, now=now, actor_label=actor_label)
        incident.save(update_fields=["reopen_acknowledged_at", "updated_at"])
        deadlines.sync(incident, now=now, reason="acknowledged")
        return incident
    if incident.round_acknowledged_at is not None and incident.is_open:
        when = incident.round_acknowledged_at.isoformat(timespec="minutes")
        again = " after it was reopened" if incident.reopened_at else ""
        raise IllegalTransition(f"{incident.reference} was already acknowledged{again} at {when}.")
    _require_step(incident, Status.INVESTIGATING, "acknowledge", "only a triggered incident can be acknowledged.")
    now = clock.now()
    _stamp_acknowledged(incident, actor, source, now=now, actor_label=actor_label)
    incident.status = Status.INVESTIGATING
    incident.save(update_fields=["status", "acknowledged_at", "updated_at"])
    deadlines.sync(incident, now=now, reason="acknowledged")
    return incident


def _set_status(incident: Incident, target: str, *, actor, source: str, message: str = "") -> None:
    """Move between working statuses (caller holds the lock and has checked the lifecycle)."""
    now = clock.now()
    previous = incident.status
    update_fields = ["status", "updated_at"]
    if previous == Status.TRIGGERED:
        _stamp_acknowledged(incident, actor, source, now=now)
        update_fields.append("acknowledged_at")
    elif incident.awaiting_acknowledgement:
        # Working a reopened incident takes its acknowledge round, as leaving triggered does.
        _acknowledge_reopen_round(incident, actor, source, now=now)
        update_fields.append("reopen_acknowledged_at")
    acknowledging = "acknowledged_at" in update_fields or "reopen_acknowledged_at" in update_fields
    if target == Status.MONITORING and incident.mitigated_at is None:
        incident.mitigated_at = now
        update_fields.append("mitigated_at")
    incident.status = target
    incident.save(update_fields=update_fields)
    if acknowledging:
        deadlines.sync(incident, now=now, reason="acknowledged")
    text = f"Status {Status(previous).label.lower()} → {Status(target).label.lower()}"
    timeline.record(
        incident,
        Kind.STATUS_CHANGED,
        f"{text}: {message}" if message else text,
        actor=actor,
        source=source,
        data={"from": previous, "to": target},
    )


@transaction.atomic
def change_status(incident: Incident, status: str, *, actor, source: str, message: str = "") -> Incident:
    """Take any lifecycle step by its target status; resolving, reopening and closing are
    handed to their own actions so they keep their own rules."""
    if status not in Status.values:
        raise InvalidInput(f"Unknown status {status!r}; expected one of {', '.join(Status.values)}.")
    locked = _lock(incident)
    step = lifecycle.require(locked.reference, locked.status, status)
    if step == "resolve":
        return resolve(locked, actor=actor, source=source, summary=message)
    if step == "reopen":
        return reopen(locked, actor=actor, source=source, reason=message or "Reopened")
    if step == "close":
        return close(locked, actor=actor, source=source)
    _set_status(locked, status, actor=actor, source=source, message=message.strip())
    return locked


@transaction.atomic
def change_severity(incident: Incident, severity: SeverityLevel, *, actor, source: str, reason: str = "") -> Incident:
    """Re-rate the incident; its SLA targets follow the new severity from the declaration."""
    incident = _lock(incident)
    _require_not_closed(incident, "change severity")
    previous = incident.severity
    if previous.pk == severity.pk:
        raise InvalidInput(f"{incident.reference} is already {severity.name}.")
    direction = "escalated" if severity.rank < previous.rank else "downgraded"
    incident.severity = severity
    incident.save(update_fields=["severity", "updated_at"])
    # Every target is re-planned from the declaration under the new severity: levels whose new
    # delay has already passed fall due now, and the next tick engages them.
    deadlines.sync(incident, now=clock.now(), reason=f"severity changed to {severity.name}")
    reason = (reason or "").strip()
    timeline.record(
        incident,
        Kind.SEVERITY_CHANGED,
        f"Severity {direction} {previous.name} → {severity.name}" + (f": {reason}" if reason else ""),
        actor=actor,
        source=source,
        data={"from": previous.name, "to": severity.name, "reason": reason},
    )
    return incident


def _assign(incident: Incident, user, role: str, *, actor, source: str) -> Participant:
    now = clock.now()
    current = list(incident.participants.filter(role=role, left_at=None).select_related("user"))
    if any(p.user_id == user.pk for p in current):
        raise InvalidInput(f"{user} is already {Role(role).label.lower()} of {incident.reference}.")
    handed_over_from = None
    if role in Participant.SINGLE_HOLDER_ROLES and current:
        handed_over_from = current[0]
        handed_over_from.left_at = now
        handed_over_from.save(update_fields=["left_at"])
    participant = Participant.objects.create(incident=incident, user=user, role=role, joined_at=now)
    message = f"{user} is now {Role(role).label.lower()}"
    if handed_over_from:
        message += f", taking over from {handed_over_from.user}"
    timeline.record(
        incident,
        Kind.ROLE_ASSIGNED,
        message,
        actor=actor,
        source=source,
        data={
            "role": role,
            "user": user.get_username(),
            "previous": handed_over_from.user.get_username() if handed_over_from else None,
        },
    )
    return participant


@transaction.atomic
def assign_role(incident: Incident, user, role: str, *, actor, source: str) -> Participant:
    """Give someone a role. Commander, technical lead, communications lead and scribe have one
    holder at a time: assigning one hands the role over."""
    if role not in Role.values:
        raise InvalidInput(f"Unknown role {role!r}.")
    if not user.is_active:
        raise InvalidInput(f"{user} is not an active user.")
    incident = _lock(incident)
    _require_not_closed(incident, "change roles")
    return _assign(incident, user, role, actor=actor, source=source)


@transaction.atomic
def release_role(participant: Participant, *, actor, source: str) -> Participant:
    """Someone leaves a role; the record of when they held it stays."""
    incident = _lock(participant.incident)
    _require_not_closed(incident, "change roles")
    participant = Participant.objects.select_for_update().select_related("user").get(pk=participant.pk)
    if participant.left_at is not None:
        raise InvalidInput(f"{participant.user} already left that role.")
    participant.left_at = clock.now()
    participant.save(update_fields=["left_at"])
    timeline.record(
        incident,
        Kind.ROLE_RELEASED,
        f"{participant.user} is no longer {participant.get_role_display().lower()}",
        actor=actor,
        source=source,
        data={"role": participant.role, "user": participant.user.get_username()},
    )
    return participant


@transaction.atomic
def add_note(incident: Incident, text: str, *, actor, source: str) -> Incident:
    """An internal note on the timeline (what was tried, what was seen)."""
    incident = _lock(incident)
    _require_not_closed(incident, "take notes")
    text = _clean_text(text, "The note", max_length=10_000)
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
    incident = _lock(incident)
    _require_not_closed(incident, "take updates")
    text = _clean_text(text, "The update", max_length=10_000)
    if status and status != incident.status:
        step = lifecycle.require(incident.reference, incident.status, status)
        if step not in ("acknowledge", "change_status"):
            raise IllegalTransition(f"Use resolve, reopen or close to move {incident.reference} to {status}.")
        _set_status(incident, status, actor=actor, source=source)
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


@transaction.atomic
def resolve(
    incident: Incident,
    *,
    actor,
    source: str,
    summary: str = "",
    mitigation: str | None = None,
    actor_label: str = "",
) -> Incident:
    """The impact is over. Stamps mitigation too if it was never recorded."""
    incident = _lock(incident)
    lifecycle.require(incident.reference, incident.status, Status.RESOLVED)
    if mitigation and mitigation not in Incident.Mitigation.values:
        raise InvalidInput(f"Unknown mitigation {mitigation!r}.")
    now = clock.now()
    previous = incident.status
    incident.status = Status.RESOLVED
    incident.resolved_at = now
    incident.mitigated_at = incident.mitigated_at or now
    summary = (summary or "").strip()
    if summary:
        incident.resolution_summary = summary
    if mitigation:
        incident.mitigation = mitigation
    incident.save(update_fields=["status", "resolved_at", "mitigated_at", "resolution_summary", "mitigation", "updated_at"])
    deadlines.sync(incident, now=now, reason="resolved")
    duration = now - incident.started_at
    timeline.record(
        incident,
        Kind.RESOLVED,
        f"{_actor_name(actor, source, actor_label)} resolved {incident.reference}" + (f": {summary}" if summary else ""),
        actor=actor,
        source=source,
        data={"from": previous, "seconds_to_resolve": int(duration.total_seconds()), "mitigation": incident.mitigation},
    )
    return incident


@transaction.atomic
def reopen(incident: Incident, *, actor, source: str, reason: str) -> Incident:
    """The problem is back: a resolved incident returns to investigating and a new acknowledge
    round starts — its deadlines are planned again and level 1's current targets are paged,
    unless the person who reopened it is the one they would page (they have taken it). Levels
    engaged before the resolution stay engaged."""
    incident = _lock(incident)
    _require_step(incident, Status.INVESTIGATING, "reopen", "only a resolved incident can be reopened.")
    reason = _clean_text(reason, "The reason for reopening", max_length=2000)
    now = clock.now()
    incident.status = Status.INVESTIGATING
    incident.time_spent_resolved += now - incident.resolved_at  # escalation delays count unresolved time
    incident.resolved_at = None
    incident.reopened_at, incident.reopen_acknowledged_at = now, None
    fields = ["status", "resolved_at", "time_spent_resolved", "reopened_at", "reopen_acknowledged_at", "updated_at"]
    taken_on = ""
    if incident.acknowledged_at is None:
        # Resolved before anyone acknowledged it: whoever reopens it is working it now (a
        # working status needs an acknowledgement).
        incident.acknowledged_at = now
        fields.append("acknowledged_at")
        taken_on = " and acknowledged it"
    level, people, waits_until = _reopen_page(incident, now)
    taken = getattr(actor, "is_authenticated", False) and any(u.pk == actor.pk for u in people)
    if taken:
        incident.reopen_acknowledged_at = now
    incident.save(update_fields=fields)
    name = _actor_name(actor, source)
    message = f"{name} reopened {incident.reference}{taken_on}: {reason}"
    if taken:
        message += f". Not paging level {level.position} · {level.name}: {name} is who it would page, and takes the new round"
    elif waits_until is not None:
        message += (
            f". Not paging level {level.position} · {level.name} now: it is paged in working hours only, "
            f"not before {waits_until:%Y-%m-%d %H:%M} UTC"
        )
    timeline.record(
        incident, Kind.REOPENED, message, actor=actor, source=source,
        data={"reason": reason, "paged": bool(people) and not taken and waits_until is None},
    )
    if level is not None and not taken and waits_until is None:
        label = f"level {level.position} · {level.name}"
        if people:
            if not incident.is_drill:
                _add_responders(incident, people, now=now)
            timeline.record(
                incident, Kind.ESCALATED,
                f"Reopened: paging {label} for a new acknowledge round: {deadlines.names(people)}"
                + (_DRILL_NOTE if incident.is_drill else ""),
                actor=actor, source=Source.ENGINE,
                data={
                    "level": level.position, "level_name": level.name, "reason": "reopened", "page": True,
                    "targets": deadlines.describe(people),
                },
            )
        else:
            timeline.record(
                incident, Kind.NOBODY_TO_PAGE,
                f"Reopened: {label} has nobody to page; the acknowledge SLA engages the next level "
                f"if nobody acknowledges within {formatting.duration(incident.severity.ack_sla)}",
                actor=actor, source=Source.ENGINE,
                data={"level": level.position, "level_name": level.name, "next_level": None, "reason": "reopened"},
            )
    deadlines.sync(incident, now=now, reason="reopened")
    return incident


def _reopen_page(incident: Incident, now: datetime):
    """Whom a reopen pages: the first level the matrix engages for the incident's severity, its
    targets at `now`, and — for a working-hours-only cell outside working hours — when it may be
    paged instead (then nobody is paged now)."""
    levels = deadlines.policy_levels(incident.escalation_policy)
    cells = deadlines.situation_for(
        policy=incident.escalation_policy, levels=levels, severity=incident.severity, declared_at=incident.declared_at
    )
    cell = next((c for c in cells.levels if c.delay is not None), None)
    if cell is None:
        return None, [], None
    level = next(lv for lv in levels if lv.position == cell.position)
    if cell.business_hours:
        opens = cells.working_time(now)
        if opens > now:
            return level, [], opens
    return level, deadlines.level_targets(level, now), None


@transaction.atomic
def close(incident: Incident, *, actor, source: str) -> Incident:
    """Final: allowed once the severity's observation period after resolution has passed and
    every registered close guard agrees (`lifecycle.close_guards`)."""
    incident = _lock(incident)
    lifecycle.require(incident.reference, incident.status, Status.CLOSED)
    now = clock.now()
    watch_until = incident.resolved_at + incident.severity.observation_period
    if now < watch_until:
        raise IllegalTransition(
            f"{incident.reference} is under observation until {watch_until:%Y-%m-%d %H:%M} UTC "
            f"({incident.severity.name} is watched for {formatting.duration(incident.severity.observation_period)} after resolution)."
        )
    lifecycle.require_closable(incident)
    incident.status = Status.CLOSED
    incident.closed_at = now
    incident.save(update_fields=["status", "closed_at", "updated_at"])
    timeline.record(incident, Kind.CLOSED, f"{_actor_name(actor, source)} closed {incident.reference}", actor=actor, source=source)
    return incident


# --- Details, tasks and evidence ---------------------------------------------------------------

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
    incident = _lock(incident)
    _require_not_closed(incident, "be edited")
    if "title" in changes:
        changes["title"] = _clean_text(changes["title"], "The title", max_length=200)
    if changes.get("detected_at") and changes["detected_at"] > clock.now() + _CLOCK_SKEW:
        raise InvalidInput("The detection time is in the future.")
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


@transaction.atomic
def add_task(incident: Incident, title: str, *, actor, source: str) -> IncidentTask:
    incident = _lock(incident)
    _require_not_closed(incident, "take new tasks")
    title = _clean_text(title, "The task", max_length=300)
    position = (incident.tasks.aggregate(m=Max("position"))["m"] or 0) + 1
    task = IncidentTask.objects.create(incident=incident, position=position, title=title)
    timeline.record(incident, Kind.TASK_ADDED, f"Task added: {title}", actor=actor, source=source, data={"task": task.pk})
    return task


@transaction.atomic
def set_task_done(task: IncidentTask, done: bool, *, actor, source: str) -> IncidentTask:
    """Tick a task off (or untick it)."""
    incident = _lock(task.incident)
    _require_not_closed(incident, "change its tasks")
    task = IncidentTask.objects.select_for_update().get(pk=task.pk)
    if task.is_done == done:
        raise InvalidInput(f"“{task.title}” is already {'done' if done else 'open'}.")
    task.done_at = clock.now() if done else None
    task.done_by = actor if done and getattr(actor, "is_authenticated", False) else None
    task.save(update_fields=["done_at", "done_by"])
    kind = Kind.TASK_DONE if done else Kind.TASK_REOPENED
    timeline.record(
        incident, kind, f"Task {'done' if done else 'reopened'}: {task.title}", actor=actor, source=source, data={"task": task.pk}
    )
    return task


@transaction.atomic
def add_evidence(incident: Incident, url: str, *, actor, source: str, kind: str = EvidenceLink.Kind.DASHBOARD, title: str = "") -> EvidenceLink:
    """Attach a dashboard, log snapshot or trace link."""
    if kind not in EvidenceLink.Kind.values:
        raise InvalidInput(f"Unknown evidence kind {kind!r}.")
    url = _clean_text(url, "The link", max_length=1000)
    if not url.startswith(("https://", "http://")):
        raise InvalidInput("Evidence links must be http(s) URLs.")
    incident = _lock(incident)
    _require_not_closed(incident, "take evidence")
    link = EvidenceLink.objects.create(
        incident=incident,
        kind=kind,
        url=url,
        title=(title or "").strip()[:200],
        added_by=actor if getattr(actor, "is_authenticated", False) else None,
        added_at=clock.now(),
    )
    timeline.record(
        incident,
        Kind.EVIDENCE_ADDED,
        f"{EvidenceLink.Kind(kind).label} added: {link.title or url}",
        actor=actor,
        source=source,
        data={"url": url, "kind": kind},
    )
    return link


# --- The engine's action ------------------------------------------------------------------------

Key = escalation.Key
_DRILL_NOTE = " (drill: only its participants are notified)"


class _Writes:
    """What firings write, collected so that a tick's whole batch goes out in a few statements."""

    def __init__(self, incident_ids: Iterable[int] = ()):
        self.events: list = []
        self.changed: dict[int, Deadline] = {}
        self.created: list[Deadline] = []
        self._created_ids: set[int] = set()
        self.participants: list[Participant] = []
        self._incident_ids = list(incident_ids)
        self._current: dict[int, set[int]] | None = None

    def current_participants(self, incident_id: int) -> set[int]:
        """Ids of the incident's current participants (any role), with those joining in this batch:
        read for every incident of the batch in one query, on first need."""
        if self._current is None:
            self._current = self._read_current(self._incident_ids or [incident_id])
        if incident_id not in self._current:
            self._current.update(self._read_current([incident_id]))
        return self._current[incident_id]

    @staticmethod
    def _read_current(incident_ids) -> dict[int, set[int]]:
        current: dict[int, set[int]] = {pk: set() for pk in incident_ids}
        for incident_id, user_id in Participant.objects.filter(incident_id__in=incident_ids, left_at=None).values_list(
            "incident_id", "user_id"
        ):
            current[incident_id].add(user_id)
        return current

    def event(self, incident, kind: str, message: str, data: dict, *, source: str = Source.ENGINE) -> None:
        self.events.append(timeline.build(incident, kind, message, source=source, data=data))

    def save(self, row: Deadline) -> None:
        if row.pk:
            self.changed[row.pk] = row
        elif id(row) not in self._created_ids:
            self._created_ids.add(id(row))
            self.created.append(row)

    _FIELDS = ("due_at", "fired_at", "cancelled_at", "targets", "note")

    def flush(self) -> None:
        timeline.record_many(self.events)
        if self.changed:
            _update_deadlines(list(self.changed.values()), self._FIELDS)
        Deadline.objects.bulk_create(self.created)
        Participant.objects.bulk_create(self.participants)


def _add_responders(
    incident, people, *, now, writes: _Writes | None = None, reason: str = "paged", source: str = Source.ENGINE
) -> list:
    """Whoever was paged or informed joins the incident as a responder (a current participant),
    unless they already take part: a restricted incident then reaches them and opens for them in
    the admin, the API and chat. Said on the timeline in one `role_assigned` event. In the
    engine's batches, `writes` collects the rows: the batch's current participants are read in one
    query and the new ones written in one insert. Returns the people who joined."""
    own = writes is None
    if own:
        writes = _Writes([incident.pk])
    current = writes.current_participants(incident.pk)
    joining = [user for user in {u.pk: u for u in people}.values() if user.pk not in current]
    if joining:
        current.update(user.pk for user in joining)
        writes.participants.extend(
            Participant(incident=incident, user=user, role=Role.RESPONDER, joined_at=now) for user in joining
        )
        plural = len(joining) > 1
        writes.event(
            incident,
            Kind.ROLE_ASSIGNED,
            f"{deadlines.names(joining)} {'join' if plural else 'joins'} as responder{'s' if plural else ''} ({reason})",
            {"role": Role.RESPONDER, "users": [user.get_username() for user in joining], "reason": reason, "previous": None},
            source=source,
        )
    if own:
        writes.flush()
    return joining


def _update_deadlines(rows: list, names) -> None:
    """Write these fields of every row (`Deadline`s or `deadlines.PendingRow`s): on PostgreSQL in
    one UPDATE … FROM unnest() with one array per column, elsewhere with one prepared UPDATE
    sent for every row (executemany). bulk_update's CASE WHEN per field and row costs more
    Python than the firings themselves at a thousand rows, and on PostgreSQL executemany takes
    about twice as long as the single statement."""
    pk = Deadline._meta.pk
    fields = [Deadline._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    table = quote(Deadline._meta.db_table)
    values = [[field.get_db_prep_save(getattr(row, field.attname), connection) for row in rows] for field in fields]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{field.cast_db_type(connection)}[]" for field in (pk, *fields))
            cursor.execute(
                f"UPDATE {table} SET "
                + ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in fields)
                + f" FROM unnest({arrays}) AS v({', '.join(quote(field.column) for field in (pk, *fields))})"
                + f" WHERE {table}.{quote(pk.column)} = v.{quote(pk.column)}",
                [[row.pk for row in rows], *values],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET "
                + ", ".join(f"{quote(field.column)} = %s" for field in fields)
                + f" WHERE {quote(pk.column)} = %s",
                [[*columns, row.pk] for row, *columns in zip(rows, *values)],
            )


def _local(incident, moment: datetime, fmt: str = "%a %H:%M") -> str:
    """A moment in the policy team's zone (its working hours are read there), else UTC."""
    policy = incident.escalation_policy
    zone = ZoneInfo(policy.team.time_zone if policy and policy.team_id else "UTC")
    return moment.astimezone(zone).strftime(fmt)


def _skipped_note(skipped) -> str:
    return f"; {deadlines.names(skipped)} paged less than a minute ago, not paged again" if skipped else ""


def _page(sit, people, now) -> tuple[list, list]:
    """(people to page now, people this incident paged less than a minute ago: skipped)."""
    people, skipped = escalation.split_recent(sit, people, now)
    escalation.mark_paged(sit, people, now)
    return people, skipped


def _engage(incident, sit, positions, by_position, *, now, reason: str, current: Deadline, rows, writes, people_at, audience):
    """Engage levels: page their targets now (or, for a level that lasts until resolved engaged
    after acknowledgement, inform them), record each on the timeline, mark their deadlines
    fired. A level that resolves to nobody says so and hands over to the next level at once."""
    paged = []
    outcome = escalation.engage_with_handover(sit, positions, lambda position: people_at(by_position[position]))
    drill = _DRILL_NOTE if incident.is_drill else ""
    for index, (position, people) in enumerate(outcome):
        level = by_position[position]
        inform = bool(people) and sit.informs(position)
        skipped = []
        if people and not inform:
            people, skipped = _page(sit, people, now)
        if not (current.kind == Deadline.Kind.ESCALATION and current.level == position):
            row = next(
                (r for r in rows if (r.kind, r.level) == (Deadline.Kind.ESCALATION, position) and r.state == "pending"), None
            )
            if row is None:
                row = Deadline(incident=incident, kind=Deadline.Kind.ESCALATION, level=position, due_at=now)
                rows.append(row)
            row.fired_at, row.targets, row.note = now, deadlines.describe(people), reason[:200]
            writes.save(row)
        label = f"level {position} · {level.name}"
        data = {
            "level": position, "level_name": level.name, "reason": reason, "targets": deadlines.describe(people),
            "page": not inform,
        }
        if inform:
            writes.event(incident, Kind.ESCALATED, f"{_informed(incident, label, reason, now, audience)}: telling {deadlines.names(people)}{drill}", data)
            paged.extend(people)
            continue
        if people or skipped:
            if skipped:
                data["skipped"] = deadlines.describe(skipped)
            writes.event(
                incident,
                Kind.ESCALATED,
                f"Escalated to {label} ({reason}): paging {deadlines.names(people)}{_skipped_note(skipped)}{drill}",
                data,
            )
            paged.extend(people)
            continue
        following = by_position[outcome[index + 1][0]] if index + 1 < len(outcome) else None
        writes.event(
            incident,
            Kind.NOBODY_TO_PAGE,
            f"Level {position} · {level.name} has nobody to page"
            + (f"; escalating to level {following.position} · {following.name} at once" if following else "; no level is left"),
            {"level": position, "level_name": level.name, "next_level": following.position if following else None},
        )
        reason = f"level {position} had nobody to page"
    return paged


def _informed(incident, label: str, reason: str, now, audience) -> str:
    """'Level 2 · Team lead informed (on schedule): INC-12 SEV-1 has run 15 min, acknowledged by
    Bob Okafor at 04:41, commander Alice Chen'."""
    text = (
        f"{label[0].upper()}{label[1:]} informed ({reason}): {incident.reference} {incident.severity.name} has run "
        f"{formatting.duration(now - incident.declared_at)}"
    )
    if incident.acknowledged_at is not None:
        who = audience.acknowledger(incident)
        text += f", acknowledged{f' by {who}' if who else ''} at {_local(incident, incident.acknowledged_at, '%H:%M')}"
    commanders = audience.commanders(incident)
    return text + (f", commander {deadlines.names(commanders)}" if commanders else ", no commander")


def _tell(incident, kind: str, message: str, people, *, levels, writes, people_at, data: dict):
    """Remind or warn people; with nobody to tell, fall back to level 1 — never silent."""
    fallback = ""
    if not people and levels:
        people = people_at(levels[0])
        fallback = f"; nobody holds that role, so level 1 · {levels[0].name} is told"
    told = f": {deadlines.names(people)}" if people else ": nobody to tell"
    writes.event(incident, kind, f"{message}{fallback}{told}{_DRILL_NOTE if incident.is_drill else ''}", {**data, "targets": deadlines.describe(people)})
    return people


class _Batch:
    """What the firings of one batch share: the instant, the writes collected for it, and what
    is read once for all its incidents (policies, on-call, who is told)."""

    def __init__(self, incidents, *, now, cache: deadlines.PlanCache | None = None):
        incidents = list(incidents)
        self.now = now
        self.writes = _Writes([incident.pk for incident in incidents])
        self.people_at = _targets_resolver(now)
        self.audience = deadlines.Audience(incidents)
        self.cache = cache if cache is not None else deadlines.PlanCache()


def _fire(incident, row, rows: list, last_update_at, batch: _Batch, *, history=()) -> None:
    """Fire one pending deadline of a locked incident, collecting what it writes in `batch.writes`.
    `rows` are the incident's deadlines: model instances, or in the engine's batches its pending
    ones as `deadlines.PendingRow`s with the fired ones apart in `history`."""
    now, writes, people_at, audience = batch.now, batch.writes, batch.people_at, batch.audience
    levels = batch.cache.levels(incident.escalation_policy)
    by_position = {level.position: level for level in levels}
    sit = deadlines.situation(incident, levels, rows, last_update_at=last_update_at, history=history, cache=batch.cache)
    firing = escalation.fire(sit, Key(row.kind, row.level, row.round), now)
    sev = incident.severity
    told = []
    common = dict(now=now, current=row, rows=rows, writes=writes, people_at=people_at, audience=audience)

    if row.kind == Deadline.Kind.ESCALATION:
        if row.level in by_position:
            told = _engage(incident, sit, [row.level], by_position, reason="on schedule", **common)
            if not incident.is_drill:
                # Drills page only their participants: nobody joins them by being paged.
                _add_responders(incident, told, now=now, writes=writes, reason="informed" if sit.informs(row.level) else "paged")
    elif row.kind == Deadline.Kind.ACK_TIMEOUT:
        repaged, skipped = [], []
        for position in firing.repage_levels:
            fresh, recent = _page(sit, people_at(by_position[position]), now)
            repaged += fresh
            skipped += recent
        repaged = list({u.pk: u for u in repaged}.values())
        if row.level:
            reason = f"acknowledge SLA breached (round {row.round - sit.earlier_ack_rounds}), waited for working hours"
        else:
            reason = "acknowledge SLA breached"
        if firing.repage_levels or not row.level:
            writes.event(
                incident,
                Kind.ACK_SLA_BREACHED,
                _breach_message(incident, sit, row, firing, by_position, repaged, skipped, now=now),
                {
                    "round": row.round, "level": firing.repage_levels[0] if firing.repage_levels else 1,
                    "targets": deadlines.describe(repaged), "page": True,
                    "waiting": [
                        {"level": position, "level_name": by_position[position].name, "page_at": when.isoformat()}
                        for position, when in firing.waiting
                    ],
                },
            )
        told = repaged + _engage(incident, sit, list(firing.engage_levels), by_position, reason=reason, **common)
        if not incident.is_drill:
            # Drills page only their participants: nobody joins them by being paged.
            _add_responders(incident, told, now=now, writes=writes)
    elif row.kind == Deadline.Kind.UPDATE_OVERDUE:
        interval = sev.first_update_interval if sit.last_update_at is None else sev.update_interval
        if row.round - sit.earlier_update_misses == 1:
            people, whom = audience.commander_and_comms(incident), "reminding the commander and communications lead"
        else:
            people, whom = audience.managers(incident), "second miss, telling the manager"
        told = _tell(
            incident, Kind.UPDATE_OVERDUE,
            f"Status update overdue ({sev.name} expects one every {formatting.duration(interval)}); {whom}",
            people, levels=levels, writes=writes, people_at=people_at, data={"round": row.round - sit.earlier_update_misses},
        )
    elif row.kind == Deadline.Kind.RESOLVE_BREACHED:
        people = list({u.pk: u for u in audience.commanders(incident) + audience.managers(incident)}.values())
        told = _tell(
            incident, Kind.RESOLVE_TARGET_BREACHED,
            f"Not resolved within the {sev.name} target of {formatting.duration(sev.resolve_target)}; telling the commander and manager",
            people, levels=levels, writes=writes, people_at=people_at, data={},
        )
    elif row.kind == Deadline.Kind.STATUS_PAGE:
        people, whom = audience.communications_leads(incident), "the communications lead"
        if not people:
            people, whom = audience.commanders(incident), "the commander"
        window = sev.status_page_window or timedelta(0)
        told = _tell(
            incident, Kind.STATUS_PAGE_OVERDUE,
            f"Not on the status page {formatting.duration(now - incident.declared_at)} after declaration "
            f"({sev.name} window: {formatting.duration(window)}); reminding {whom}",
            people, levels=levels, writes=writes, people_at=people_at,
            data={"window_seconds": int(window.total_seconds())},
        )

    row.fired_at = now
    row.targets = deadlines.describe(list({u.pk: u for u in told}.values()))
    writes.save(row)
    escalation.record(sit, firing, now)
    deadlines.sync(incident, now=now, snapshot=sit, rows=rows, save=writes.save)


def _breach_message(incident, sit, row, firing, by_position, repaged, skipped, *, now) -> str:
    """What an acknowledge-SLA breach does, in words: whom it pages again, and which levels
    wait for working hours (and until when). After a reopen, the round counts from the reopen
    (its rounds numbered after the earlier ones)."""
    sev = incident.severity
    loops = incident.escalation_policy.loop_count if incident.escalation_policy else 1
    since = (
        f"{formatting.duration(now - sit.reopened_at)} after the reopen"
        if sit.reopened_at
        else f"{formatting.duration(now - incident.declared_at)} after declaration"
    )
    late = f"{since} ({sev.name} acknowledge SLA: {formatting.duration(sev.ack_sla)})"
    round_number = row.round - sit.earlier_ack_rounds
    if row.level:
        head = f"Acknowledge SLA breach of round {round_number} waited for working hours; not acknowledged {late}"
    elif firing.waiting:
        head = f"Acknowledge SLA breached at {_local(incident, now)}, {late}"
    else:
        head = f"Not acknowledged {late}"
    parts = []
    if firing.repage_levels:
        which = ", ".join(str(p) for p in firing.repage_levels)
        parts.append(f"paging level{'s' if len(firing.repage_levels) > 1 else ''} {which} again ({deadlines.names(repaged)})")
    for position, when in firing.waiting:
        parts.append(f"level {position} · {by_position[position].name} is business-hours only, paging at {_local(incident, when)}")
    if not parts:
        parts.append("engaging the next level" if firing.engage_levels else "no level is left to page")
    return (
        f"{head}: {'; '.join(parts)}{_skipped_note(skipped)}, round {round_number} of {loops}"
        f"{_DRILL_NOTE if incident.is_drill else ''}"
    )


def _targets_resolver(now):
    """Level targets at `now`: every firing of a batch happens at that one instant, so each
    level is resolved, and each schedule asked, once per batch."""
    on_call: dict = {}
    resolved: dict = {}

    def people_at(level):
        if level.pk not in resolved:
            resolved[level.pk] = deadlines.level_targets(level, now, on_call_cache=on_call)
        return list(resolved[level.pk])

    return people_at


@transaction.atomic
def fire_deadline(deadline: Deadline) -> Deadline:
    """Act on one due deadline: page or tell the people it resolves to at this instant, record it
    on the timeline, mark it fired, and plan what follows — in one transaction. Firing twice is
    harmless: a deadline that is no longer pending is left alone. Drills are recorded like any
    incident; notifications keep them to their participants."""
    incident = _lock(deadline.incident)
    rows = list(incident.deadlines.select_for_update())
    row = next((r for r in rows if r.pk == deadline.pk), None)
    if row is None or row.state != "pending":
        return row or deadline
    from .selectors import last_update_at

    batch = _Batch([incident], now=clock.now())
    _fire(incident, row, rows, last_update_at(incident), batch)
    batch.writes.flush()
    return row


@transaction.atomic
def fire_due_batch(batch: list[Deadline], *, cache: deadlines.PlanCache | None = None) -> list[deadlines.PendingRow]:
    """The engine's batch form of `fire_deadline`, for rows the tick selected in this
    transaction with `FOR UPDATE OF deadline, incident` (so rows and incidents are locked and
    fresh): the batch's pending deadlines, fired history, last updates and the people it may
    tell are read in a few queries (policies once per tick, via `cache`), and its timeline
    events and deadline changes are written in a few statements. Returns the rows it fired."""
    if not batch:
        return []
    incidents = {row.incident_id: row.incident for row in batch}
    ids = list(incidents)
    rows_of, history_of = deadlines.batch_rows(ids)
    last_updates = dict(
        TimelineEvent.objects.filter(incident_id__in=ids, kind=Kind.STATUS_UPDATE)
        .values("incident_id")
        .annotate(latest=Max("occurred_at"))
        .values_list("incident_id", "latest")
    )
    context = _Batch(incidents.values(), now=clock.now(), cache=cache)
    fired = []
    # An incident's rows in the order the preview plays them (`escalation.play_forward`): by due
    # time, an acknowledge round before the levels due with it, then by level.
    for due in sorted(batch, key=lambda r: (r.incident_id, r.due_at, r.kind != Deadline.Kind.ACK_TIMEOUT, r.level, r.pk)):
        rows = rows_of[due.incident_id]
        row = next((r for r in rows if r.pk == due.pk), None)
        if row is None or row.state != "pending":
            continue  # an earlier firing in this batch engaged it already
        _fire(
            incidents[due.incident_id], row, rows, last_updates.get(due.incident_id), context,
            history=history_of[due.incident_id],
        )
        fired.append(row)
    context.writes.flush()
    return fired


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
        data={**(data or {}), "targets": deadlines.describe(targets)},
    )


@transaction.atomic
def record_postmortem_status(incident: Incident, message: str, *, actor, source: str) -> TimelineEvent:
    """The post-mortem moved (submitted for review, back to draft, published): who did it, said
    on the incident's timeline as a note. A note notifies nobody; it is the record."""
    return timeline.record(incident, Kind.NOTE, message[:2000], actor=actor, source=source)
