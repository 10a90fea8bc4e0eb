"""An incident's deadlines in the database: the escalation plan (`escalation.py`) kept as rows.

`sync` is called by every action that can change the plan, inside its transaction; the
engine (`engine.py`) fires due rows through `firing.fire_due_batch`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import chain
from typing import TYPE_CHECKING

from oncall.clocks import WALL_CALENDAR, Calendar
from oncall.models import EscalationLevel, EscalationPolicy
from oncall.working_hours import calendar_for

from . import escalation
from .escalation import Key
from .models import Deadline, Incident, SeverityLevel, Status

if TYPE_CHECKING:
    from .firing.rows import PastFiring


def default_policy() -> EscalationPolicy | None:
    return EscalationPolicy.objects.filter(is_default=True).first()


def policy_for_services(services) -> EscalationPolicy | None:
    """The first affected service (by name) with a policy of its own, else the default policy."""
    for service in sorted(services, key=lambda s: s.name):
        if service.escalation_policy_id:
            return service.escalation_policy
    return default_policy()


def policy_levels(policy: EscalationPolicy | None) -> list[EscalationLevel]:
    """A policy's levels with their cells and targets."""
    if policy is None:
        return []
    return list(policy.levels.prefetch_related("delays", "users", "schedules").order_by("position"))


def _cells(levels: list[EscalationLevel], severity_rank: int) -> list[escalation.LevelCell]:
    cells = []
    for level in levels:
        cell = next((d for d in level.delays.all() if d.severity_rank == severity_rank), None)
        cells.append(
            escalation.LevelCell(
                level.position,
                level.name,
                cell.delay if cell else None,
                cell.business_hours if cell else False,
                level.lasts,
            )
        )
    return cells


def calendar_of(policy: EscalationPolicy | None) -> Calendar:
    """The working calendar an incident's clocks count on: its policy's team's; a policy without a
    team (or no policy) uses the default working week, Monday–Friday 09:00–17:00 UTC."""
    return calendar_for(policy.team if policy and policy.team_id else None)


def situation_for(
    *,
    policy: EscalationPolicy | None,
    levels: list[EscalationLevel],
    severity,
    declared_at: datetime,
    cache: PlanCache | None = None,
) -> escalation.Situation:
    """A fresh plan for a policy and severity (used by the preview for "what if declared now");
    with a tick's `cache`, the policy's cells and working hours come from it."""
    if cache is None:
        cells = _cells(levels, severity.rank)
        # Only business-hours cells and targets off the wall clock read the calendar: an action on
        # any other incident reads no team or closed days.
        needed = severity.counts_working_time or any(cell.business_hours for cell in cells)
        calendar = calendar_of(policy) if needed else WALL_CALENDAR
    else:
        cells, calendar = cache.cells(policy, severity.rank), cache.calendar(policy)
    return escalation.Situation(
        declared_at=declared_at,
        ack_sla=severity.ack_sla,
        first_update_interval=severity.first_update_interval,
        update_interval=severity.update_interval,
        resolve_target=severity.resolve_target,
        levels=cells,
        loop_count=policy.loop_count if policy else 1,
        calendar=calendar,
        ack_clock=severity.ack_sla_clock,
        update_clock=severity.update_clock,
        resolve_clock=severity.resolve_clock,
    )


class PlanCache:
    """What a tick's firings share — severities, policies with their team, levels, matrix cells
    for each severity, working calendars — loaded or built once per tick instead of once per
    deadline fired. The copies are shared between incidents and snapshots, which only read them."""

    def __init__(self):
        self._severities: dict = {}
        self._policies: dict = {}
        self._levels: dict = {}
        self._cells: dict = {}
        self._calendars: dict = {}

    def attach(self, incidents: list[Incident]) -> None:
        """Give each incident its severity and escalation policy (with its team) from the tick's
        copies: two small queries at most, rather than three more tables joined into every
        due row."""
        severities = {i.severity_id for i in incidents} - self._severities.keys()
        if severities:
            self._severities.update(SeverityLevel.objects.in_bulk(severities))
        policies = {i.escalation_policy_id for i in incidents} - self._policies.keys() - {None}
        if policies:
            self._policies.update(EscalationPolicy.objects.select_related("team").in_bulk(policies))
        for incident in incidents:
            incident.severity = self._severities[incident.severity_id]
            if incident.escalation_policy_id is not None:
                incident.escalation_policy = self._policies[incident.escalation_policy_id]

    def levels(self, policy: EscalationPolicy | None) -> list[EscalationLevel]:
        key = policy.pk if policy else None
        if key not in self._levels:
            self._levels[key] = policy_levels(policy)
        return self._levels[key]

    def cells(self, policy: EscalationPolicy | None, severity_rank: int) -> list[escalation.LevelCell]:
        key = (policy.pk if policy else None, severity_rank)
        if key not in self._cells:
            self._cells[key] = _cells(self.levels(policy), severity_rank)
        return self._cells[key]

    def calendar(self, policy: EscalationPolicy | None) -> Calendar:
        key = policy.team_id if policy else None
        if key not in self._calendars:
            self._calendars[key] = calendar_of(policy)
        return self._calendars[key]


_UNREAD = object()
# Deadlines whose targets were paged (until acknowledged; informing comes after, and pages no more).
_PAGING_KINDS = (Deadline.Kind.ESCALATION, Deadline.Kind.ACK_TIMEOUT)


def status_page_due(incident: Incident, calendar: Calendar) -> datetime | None:
    """When the status-page reminder falls due: the severity's window after declaration (on the
    severity's update clock: the status page is part of the update cadence), for a
    customer-facing, unrestricted, non-drill incident not yet public whose severity shows on the
    status page at all. None: no reminder."""
    window = incident.severity.status_page_window
    if window is None or not incident.severity.show_on_status_page:
        return None
    if incident.public_on_status_page or not incident.customer_facing:
        return None
    if incident.is_restricted or incident.is_drill:
        return None
    return calendar.due(incident.severity.update_clock, incident.declared_at, window)


def situation(
    incident: Incident,
    levels: list[EscalationLevel] | None = None,
    rows: list[Deadline] | None = None,
    *,
    last_update_at=_UNREAD,
    history: Iterable[PastFiring] = (),
    cache: PlanCache | None = None,
) -> escalation.Situation:
    """Snapshot of what the plan depends on, read from the database — except what the caller
    passes in already (its levels, its deadline rows, its last status update time). The
    engine's batches pass rows read as plain values: the pending ones as `rows`
    (`PendingRow`), the fired ones apart as `history` (`PastFiring`)."""
    from . import selectors

    policy = incident.escalation_policy
    if levels is None:
        levels = cache.levels(policy) if cache else policy_levels(policy)
    if rows is None:
        rows = list(incident.deadlines.all())
    sit = situation_for(
        policy=policy, levels=levels, severity=incident.severity, declared_at=incident.declared_at, cache=cache
    )
    sit.acknowledged = incident.round_acknowledged_at is not None
    sit.finished = incident.status in (Status.RESOLVED, Status.CLOSED)
    sit.last_update_at = selectors.last_update_at(incident) if last_update_at is _UNREAD else last_update_at
    sit.reopened_at = incident.reopened_at
    sit.time_spent_resolved = incident.time_spent_resolved
    if sit.reopened_at and (sit.last_update_at is None or sit.last_update_at < sit.reopened_at):
        # A reopen starts the update cadence again, as an update does.
        sit.last_update_at = sit.reopened_at
    sit.status_page_due = status_page_due(incident, sit.calendar)
    for row in chain(history, rows):
        if row.fired_at is None:
            if row.kind == Deadline.Kind.ACK_TIMEOUT and row.level and getattr(row, "cancelled_at", None) is None:
                sit.waiting[Key(row.kind, row.level, row.round)] = row.due_at  # a breach's page waiting for working hours
            continue
        if row.kind in _PAGING_KINDS:
            for target in row.targets or ():
                if target.get("id") is not None and sit.paged_at.get(target["id"], row.fired_at) <= row.fired_at:
                    sit.paged_at[target["id"]] = row.fired_at
        if row.kind == Deadline.Kind.ACK_TIMEOUT and sit.reopened_at and row.fired_at <= sit.reopened_at:
            # A round of an earlier acknowledge round: history, but its number stays taken.
            sit.fired.add(Key(row.kind, row.level, row.round))
            sit.earlier_ack_rounds = max(sit.earlier_ack_rounds, row.round)
            continue
        if row.kind == Deadline.Kind.UPDATE_OVERDUE and sit.last_update_at and row.fired_at <= sit.last_update_at:
            # An update (or a reopen) since then starts the count again; the number stays taken.
            sit.fired.add(Key(row.kind, row.level, row.round))
            sit.earlier_update_misses = max(sit.earlier_update_misses, row.round)
            continue
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
    # A key planned again after it was cancelled (resolve then reopen, a severity there and
    # back) revives its row, so each planned deadline keeps one row and its history in the note.
    cancelled = {
        Key(d.kind, d.level, d.round): d
        for d in sorted((d for d in rows if d.cancelled_at is not None), key=lambda d: d.cancelled_at)
    }
    changed, created = [], []
    for key, row in pending.items():
        if key not in desired:
            row.cancelled_at = now
            row.note = _history(row.note, reason or "no longer planned")
            changed.append(row)
        elif row.due_at != desired[key]:
            row.due_at = desired[key]
            changed.append(row)
    for key, due in desired.items():
        if key in pending:
            continue
        row = cancelled.get(key)
        if row is None:
            created.append(Deadline(incident=incident, kind=key.kind, level=key.level, round=key.round, due_at=due))
            continue
        row.note = _history(f"{row.note} {row.cancelled_at:%Y-%m-%d %H:%M}", f"{reason or 're-planned'} {now:%Y-%m-%d %H:%M}")
        row.cancelled_at, row.due_at = None, due
        changed.append(row)
    rows.extend(created)
    if save is not None:
        for row in (*changed, *created):
            save(row)
        return
    for row in changed:
        row.save(update_fields=["cancelled_at", "note", "due_at"])
    Deadline.objects.bulk_create(created)


def _history(note: str, step: str) -> str:
    """A deadline's note: why it was cancelled, and when it was cancelled and re-planned before
    ("resolved 2026-03-03 10:03, reopened 2026-03-03 10:10, resolved"), its oldest part cut
    first when it grows past the column."""
    text = f"{note.strip()}, {step}" if note.strip() else step
    return text if len(text) <= 200 else "…" + text[-199:]
