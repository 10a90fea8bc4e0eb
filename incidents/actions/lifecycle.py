"""The lifecycle's steps: acknowledge, change status or severity, resolve, reopen, close."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from .. import clock, deadlines, firing, formatting, lifecycle, sla, timeline
from ..errors import IllegalTransition, InvalidField, InvalidInput
from ..models import Incident, Participant, SeverityLevel, Source, Status
from .base import Kind, Role, actor_name, clean_text, lock, require_not_closed, require_step


def _stamp_acknowledged(incident: Incident, actor, source: str, *, now: datetime, actor_label: str = "") -> None:
    incident.acknowledged_at = now
    message = f"{actor_name(actor, source, actor_label)} acknowledged {incident.reference}"
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
        f"{actor_name(actor, source, actor_label)} acknowledged reopened {incident.reference} "
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
    incident = lock(incident)
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
    require_step(incident, Status.INVESTIGATING, "acknowledge", "only a triggered incident can be acknowledged.")
    now = clock.now()
    _stamp_acknowledged(incident, actor, source, now=now, actor_label=actor_label)
    incident.status = Status.INVESTIGATING
    incident.save(update_fields=["status", "acknowledged_at", "updated_at"])
    deadlines.sync(incident, now=now, reason="acknowledged")
    return incident


def set_working_status(incident: Incident, target: str, *, actor, source: str, message: str = "") -> None:
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
    locked = lock(incident)
    step = lifecycle.require(locked.reference, locked.status, status)
    if step == "resolve":
        return resolve(locked, actor=actor, source=source, summary=message)
    if step == "reopen":
        return reopen(locked, actor=actor, source=source, reason=message or "Reopened")
    if step == "close":
        return close(locked, actor=actor, source=source)
    set_working_status(locked, status, actor=actor, source=source, message=message.strip())
    return locked


@transaction.atomic
def mitigate(incident: Incident, how: str, *, actor, source: str, mitigation: str | None = None) -> Incident:
    """The impact is contained: the incident moves to monitoring (acknowledging it if nobody had),
    `how` is added to its mitigation notes and `mitigation` (a kind such as rollback) recorded when
    given. One status-change event says how."""
    how = clean_text(how, "How it was mitigated", max_length=10_000)
    if mitigation and mitigation not in Incident.Mitigation.values:
        raise InvalidInput(f"Unknown mitigation {mitigation!r}.")
    incident = lock(incident)
    lifecycle.require(incident.reference, incident.status, Status.MONITORING)
    incident.mitigation_notes = f"{incident.mitigation_notes.rstrip()}\n{how}".lstrip("\n")
    if mitigation:
        incident.mitigation = mitigation
    incident.save(update_fields=["mitigation_notes", "mitigation", "updated_at"])
    set_working_status(incident, Status.MONITORING, actor=actor, source=source, message=f"mitigated — {how}")
    return incident


@transaction.atomic
def change_severity(incident: Incident, severity: SeverityLevel, *, actor, source: str, reason: str = "") -> Incident:
    """Re-rate the incident; its SLA targets follow the new severity from the declaration."""
    incident = lock(incident)
    require_not_closed(incident, "change severity")
    previous = incident.severity
    if previous.pk == severity.pk:
        raise InvalidInput(f"{incident.reference} is already {severity.name}.")
    direction = "escalated" if severity.rank < previous.rank else "downgraded"
    incident.severity = severity
    # From now on the incident is held to the new severity's targets, counted from the declaration.
    incident.save(update_fields=["severity", "updated_at", *sla.hold(incident)])
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


def summary_refusal(severity: SeverityLevel) -> str | None:
    """Why an incident of `severity` may not be resolved without a resolution summary, or None."""
    if not severity.resolution_requires_summary:
        return None
    return f"{severity.name} incidents need a resolution summary: what was wrong, what fixed it, and what customers saw."


@transaction.atomic
def resolve(
    incident: Incident,
    *,
    actor,
    source: str,
    summary: str = "",
    mitigation: str | None = None,
    actor_label: str = "",
    public_update: str = "",
) -> Incident:
    """The impact is over. Stamps mitigation too if it was never recorded. A severity that
    requires a resolution summary refuses to resolve without one (given now, or already in the
    details), except for monitoring resolving its own alert: it has no words to give.
    `public_update` is what customers are told (the status page's resolved entry, the customer
    email); the summary is internal."""
    incident = lock(incident)
    lifecycle.require(incident.reference, incident.status, Status.RESOLVED)
    if mitigation and mitigation not in Incident.Mitigation.values:
        raise InvalidInput(f"Unknown mitigation {mitigation!r}.")
    summary = (summary or "").strip()
    if not summary and not incident.resolution_summary.strip() and source != Source.INTEGRATION:
        refusal = summary_refusal(incident.severity)
        if refusal:
            raise InvalidField("summary", refusal)
    now = clock.now()
    previous = incident.status
    incident.status = Status.RESOLVED
    incident.resolved_at = now
    incident.mitigated_at = incident.mitigated_at or now
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
        f"{actor_name(actor, source, actor_label)} resolved {incident.reference}" + (f": {summary}" if summary else ""),
        actor=actor,
        source=source,
        data={
            "from": previous, "seconds_to_resolve": int(duration.total_seconds()), "mitigation": incident.mitigation,
            "public_update": (public_update or "").strip()[:10_000],
        },
    )
    return incident


@transaction.atomic
def reopen(incident: Incident, *, actor, source: str, reason: str, public_update: str = "") -> Incident:
    """The problem is back: a resolved incident returns to investigating and a new acknowledge
    round starts — its deadlines are planned again and level 1's current targets are paged,
    unless the person who reopened it is the one they would page (they have taken it). Levels
    engaged before the resolution stay engaged."""
    incident = lock(incident)
    require_step(incident, Status.INVESTIGATING, "reopen", "only a resolved incident can be reopened.")
    reason = clean_text(reason, "The reason for reopening", max_length=2000)
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
    name = actor_name(actor, source)
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
        data={
            "reason": reason, "paged": bool(people) and not taken and waits_until is None,
            # What customers are told (the reason is internal); blank: the shipped words.
            "public_update": (public_update or "").strip()[:2000],
        },
    )
    if level is not None and not taken and waits_until is None:
        label = f"level {level.position} · {level.name}"
        if people:
            if not incident.is_drill:
                firing.add_responders(incident, people, now=now)
            timeline.record(
                incident, Kind.ESCALATED,
                f"Reopened: paging {label} for a new acknowledge round: {firing.names(people)}"
                + (firing.DRILL_NOTE if incident.is_drill else ""),
                actor=actor, source=Source.ENGINE,
                data={
                    "level": level.position, "level_name": level.name, "reason": "reopened", "page": True,
                    "targets": firing.describe(people),
                },
            )
        else:
            timeline.record(
                incident, Kind.NOBODY_TO_PAGE,
                f"Reopened: {label} has nobody to page; the acknowledge SLA engages the next level "
                f"if nobody acknowledges within {incident.severity.ack_sla_text}",
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
    return level, firing.level_targets(level, now), None


@transaction.atomic
def close(incident: Incident, *, actor, source: str) -> Incident:
    """Final: allowed once the severity's observation period after resolution has passed and
    every registered close guard agrees (`lifecycle.close_guards`)."""
    incident = lock(incident)
    lifecycle.require(incident.reference, incident.status, Status.CLOSED)
    now = clock.now()
    refusal = lifecycle.close_refusal(incident, now)
    if refusal:
        raise IllegalTransition(refusal)
    incident.status = Status.CLOSED
    incident.closed_at = now
    incident.save(update_fields=["status", "closed_at", "updated_at"])
    timeline.record(incident, Kind.CLOSED, f"{actor_name(actor, source)} closed {incident.reference}", actor=actor, source=source)
    return incident
