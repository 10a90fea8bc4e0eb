"""An incident's deadlines in the database: the escalation plan (`escalation.py`) kept as rows.

`sync` is called by every action that can change the plan, inside its transaction; the
engine (`engine.py`) fires due rows through `actions.fire_deadline`.
"""

from __future__ import annotations

from datetime import datetime

from oncall.models import EscalationLevel, EscalationPolicy, Team
from oncall.schedules import on_call_at
from oncall.working_hours import next_working_moment

from . import escalation
from .escalation import Key
from .models import Deadline, Incident, Participant, Status


def default_policy() -> EscalationPolicy | None:
    return EscalationPolicy.objects.filter(is_default=True).first()


def policy_for_services(services) -> EscalationPolicy | None:
    """The first affected service (by name) with a policy of its own, else the default policy."""
    for service in sorted(services, key=lambda s: s.name):
        if service.escalation_policy_id:
            return service.escalation_policy
    return default_policy()


def policy_levels(policy: EscalationPolicy | None, *, cache: dict | None = None) -> list[EscalationLevel]:
    """A policy's levels with their cells and targets; `cache` (policy id → levels) spares a
    tick from loading the same policy for every deadline it fires."""
    if policy is None:
        return []
    if cache is not None and policy.pk in cache:
        return cache[policy.pk]
    levels = list(policy.levels.prefetch_related("delays", "users", "schedules").order_by("position"))
    if cache is not None:
        cache[policy.pk] = levels
    return levels


def _cells(levels: list[EscalationLevel], severity_rank: int) -> list[escalation.LevelCell]:
    cells = []
    for level in levels:
        cell = next((d for d in level.delays.all() if d.severity_rank == severity_rank), None)
        cells.append(
            escalation.LevelCell(
                level.position, level.name, cell.delay if cell else None, cell.business_hours if cell else False
            )
        )
    return cells


def working_time_for(policy: EscalationPolicy | None):
    # A policy without a team uses the default working week (Monday–Friday 09:00–17:00 UTC).
    team = policy.team if policy and policy.team_id else Team()
    return lambda moment: next_working_moment(team, moment)


def situation_for(
    *, policy: EscalationPolicy | None, levels: list[EscalationLevel], severity, declared_at: datetime
) -> escalation.Situation:
    """A fresh plan for a policy and severity (used by the preview for "what if declared now")."""
    return escalation.Situation(
        declared_at=declared_at,
        ack_sla=severity.ack_sla,
        first_update_interval=severity.first_update_interval,
        update_interval=severity.update_interval,
        resolve_target=severity.resolve_target,
        levels=_cells(levels, severity.rank),
        loop_count=policy.loop_count if policy else 1,
        working_time=working_time_for(policy),
    )


_UNREAD = object()


def situation(
    incident: Incident,
    levels: list[EscalationLevel] | None = None,
    rows: list[Deadline] | None = None,
    *,
    last_update_at=_UNREAD,
) -> escalation.Situation:
    """Snapshot of what the plan depends on, read from the database — except what the caller
    passes in already (its levels, its deadline rows, its last status update time)."""
    from . import selectors

    policy = incident.escalation_policy
    if levels is None:
        levels = policy_levels(policy)
    if rows is None:
        rows = list(incident.deadlines.all())
    sit = situation_for(policy=policy, levels=levels, severity=incident.severity, declared_at=incident.declared_at)
    sit.acknowledged = incident.acknowledged_at is not None
    sit.finished = incident.status in (Status.RESOLVED, Status.CLOSED)
    sit.last_update_at = selectors.last_update_at(incident) if last_update_at is _UNREAD else last_update_at
    for row in rows:
        if row.fired_at is None:
            continue
        if row.kind == Deadline.Kind.UPDATE_OVERDUE and sit.last_update_at and row.fired_at <= sit.last_update_at:
            continue  # an update since then starts the count again
        sit.fired.add(Key(row.kind, row.level, row.round))
        if row.kind in (Deadline.Kind.ACK_TIMEOUT, Deadline.Kind.UPDATE_OVERDUE):
            sit.last_fired_at[row.kind] = max(row.fired_at, sit.last_fired_at.get(row.kind, row.fired_at))
    return sit


def sync(
    incident: Incident,
    *,
    now: datetime,
    reason: str = "",
    snapshot: escalation.Situation | None = None,
    rows: list[Deadline] | None = None,
    save=None,
) -> None:
    """Make the incident's pending deadlines match its plan: cancel what no longer applies,
    move what changed, add what is missing. Idempotent. A caller that has just brought the
    snapshot and the rows up to date (the engine, after a firing) passes them to save
    reading them again, and a `save(row)` that collects the writes for its batch; new rows
    are appended to `rows` so the batch's next firing sees them."""
    if rows is None:
        rows = list(incident.deadlines.all())
    desired = escalation.planned(snapshot or situation(incident, rows=rows))
    pending = {Key(d.kind, d.level, d.round): d for d in rows if d.fired_at is None and d.cancelled_at is None}
    changed, created = [], []
    for key, row in pending.items():
        if key not in desired:
            row.cancelled_at = now
            row.note = (reason or "no longer planned")[:200]
            changed.append(row)
        elif row.due_at != desired[key]:
            row.due_at = desired[key]
            changed.append(row)
    for key, due in desired.items():
        if key not in pending:
            created.append(Deadline(incident=incident, kind=key.kind, level=key.level, round=key.round, due_at=due))
    rows.extend(created)
    if save is not None:
        for row in (*changed, *created):
            save(row)
        return
    for row in changed:
        row.save(update_fields=["cancelled_at", "note", "due_at"])
    Deadline.objects.bulk_create(created)


# --- Who is paged or told ------------------------------------------------------------------------


def level_targets(level: EscalationLevel, at: datetime, *, on_call_cache: dict | None = None) -> list:
    """The people a level reaches at instant `at`: its users and whoever is on call on its
    schedules (`on_call_cache`, schedule id → people, asks each schedule once per batch)."""
    people = [u for u in level.users.all() if u.is_active]
    for schedule in level.schedules.all():
        if on_call_cache is None:
            on_call = on_call_at(schedule, at)
        elif schedule.pk in on_call_cache:
            on_call = on_call_cache[schedule.pk]
        else:
            on_call = on_call_cache[schedule.pk] = on_call_at(schedule, at)
        people.extend(u for u in on_call if u.is_active)
    return list({u.pk: u for u in people}.values())


def current_holders(incident: Incident, *roles: str) -> list:
    rows = incident.participants.filter(role__in=roles, left_at=None).select_related("user").order_by("role")
    return list({p.user.pk: p.user for p in rows if p.user.is_active}.values())


def managers(incident: Incident) -> list:
    """Managers to tell: the policy's team manager, then the managers of the services' owning teams."""
    people = []
    policy = incident.escalation_policy
    if policy and policy.team_id and policy.team.manager_id:
        people.append(policy.team.manager)
    for service in incident.services.select_related("owning_team__manager"):
        if service.owning_team and service.owning_team.manager:
            people.append(service.owning_team.manager)
    return list({u.pk: u for u in people if u.is_active}.values())


def commander_and_comms(incident: Incident) -> list:
    return current_holders(incident, Participant.Role.COMMANDER, Participant.Role.COMMUNICATIONS_LEAD)


def describe(people) -> list[dict]:
    return [{"id": u.pk, "username": u.get_username(), "name": str(u)} for u in people]


def names(people) -> str:
    return ", ".join(str(u) for u in people) or "nobody"

