"""An incident's deadlines in the database: the escalation plan (`escalation.py`) kept as rows.

`sync` is called by every action that can change the plan, inside its transaction; the
engine (`engine.py`) fires due rows through `actions.fire_due_batch`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from itertools import chain
from typing import NamedTuple

from oncall.models import EscalationLevel, EscalationPolicy, Team, User
from oncall.schedules import on_call_at
from oncall.working_hours import next_working_moment

from . import escalation
from .escalation import Key
from .models import Deadline, Incident, Participant, SeverityLevel, Status, TimelineEvent


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


def working_time_for(policy: EscalationPolicy | None):
    # A policy without a team uses the default working week (Monday–Friday 09:00–17:00 UTC).
    team = policy.team if policy and policy.team_id else Team()
    return lambda moment: next_working_moment(team, moment)


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
        cells, working_time = _cells(levels, severity.rank), working_time_for(policy)
    else:
        cells, working_time = cache.cells(policy, severity.rank), cache.working_time(policy)
    return escalation.Situation(
        declared_at=declared_at,
        ack_sla=severity.ack_sla,
        first_update_interval=severity.first_update_interval,
        update_interval=severity.update_interval,
        resolve_target=severity.resolve_target,
        levels=cells,
        loop_count=policy.loop_count if policy else 1,
        working_time=working_time,
    )


class PlanCache:
    """What a tick's firings share — severities, policies with their team, levels, matrix cells
    for each severity, working hours — loaded or built once per tick instead of once per
    deadline fired. The copies are shared between incidents and snapshots, which only read them."""

    def __init__(self):
        self._severities: dict = {}
        self._policies: dict = {}
        self._levels: dict = {}
        self._cells: dict = {}
        self._working_time: dict = {}

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

    def working_time(self, policy: EscalationPolicy | None):
        key = policy.pk if policy else None
        if key not in self._working_time:
            self._working_time[key] = working_time_for(policy)
        return self._working_time[key]


# --- The engine's batches read rows as plain values --------------------------------------------
# A batch reads every pending and fired deadline of a few hundred incidents and changes a few of
# them; a model instance for each row it reads would cost more than the firings themselves.


class PastFiring(NamedTuple):
    """A deadline fired before the current batch: all a plan needs of it."""

    kind: str
    level: int
    round: int
    fired_at: datetime
    targets: list


@dataclasses.dataclass(eq=False)
class PendingRow:
    """A pending deadline with the fields a firing reads and writes (`actions._Writes` saves
    it like a `Deadline`)."""

    pk: int
    kind: str
    level: int
    round: int
    due_at: datetime
    fired_at: datetime | None
    cancelled_at: datetime | None
    targets: list
    note: str

    state = Deadline.state


def batch_rows(incident_ids: list[int]) -> tuple[dict[int, list[PendingRow]], dict[int, list[PastFiring]]]:
    """The incidents' pending deadlines and fired history, in two queries. Cancelled rows play
    no part in a plan."""
    pending: dict[int, list[PendingRow]] = {pk: [] for pk in incident_ids}
    for incident_id, *values in (
        Deadline.objects.filter(incident_id__in=incident_ids, fired_at=None, cancelled_at=None)
        .order_by()
        .values_list("incident_id", *(field.name for field in dataclasses.fields(PendingRow)))
    ):
        pending[incident_id].append(PendingRow(*values))
    history: dict[int, list[PastFiring]] = {pk: [] for pk in incident_ids}
    for incident_id, *values in (
        Deadline.objects.filter(incident_id__in=incident_ids, fired_at__isnull=False)
        .order_by()
        .values_list("incident_id", *PastFiring._fields)
    ):
        history[incident_id].append(PastFiring(*values))
    return pending, history


_UNREAD = object()
# Deadlines whose targets were paged (until acknowledged; informing comes after, and pages no more).
_PAGING_KINDS = (Deadline.Kind.ESCALATION, Deadline.Kind.ACK_TIMEOUT)


def status_page_due(incident: Incident) -> datetime | None:
    """When the status-page reminder falls due: the severity's window after declaration, for a
    customer-facing, unrestricted, non-drill incident not yet public whose severity shows on the
    status page at all. None: no reminder."""
    window = incident.severity.status_page_window
    if window is None or not incident.severity.show_on_status_page:
        return None
    if incident.public_on_status_page or not incident.customer_facing:
        return None
    if incident.is_restricted or incident.is_drill:
        return None
    return incident.declared_at + window


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
    sit.status_page_due = status_page_due(incident)
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


class Audience:
    """Who the reminders and warnings of a set of incidents go to — current commanders,
    communications leads and managers — read for the whole set on first use: at most four
    queries however many incidents (the engine's batches), none if nobody needs telling."""

    _ROLES = (Participant.Role.COMMANDER, Participant.Role.COMMUNICATIONS_LEAD)

    def __init__(self, incidents):
        self._incidents = {incident.pk: incident for incident in incidents}
        self._holders: dict[int, list[tuple[str, User]]] | None = None
        self._managers: dict[int, list[User]] | None = None
        self._acknowledgers: dict[int, str] | None = None

    def commander_and_comms(self, incident: Incident) -> list:
        return self._current_holders(incident, *self._ROLES)

    def commanders(self, incident: Incident) -> list:
        return self._current_holders(incident, Participant.Role.COMMANDER)

    def communications_leads(self, incident: Incident) -> list:
        return self._current_holders(incident, Participant.Role.COMMUNICATIONS_LEAD)

    def _current_holders(self, incident: Incident, *roles: str) -> list:
        if self._holders is None:
            self._holders = self._read_holders()
        held = self._holders[incident.pk]
        return list({user.pk: user for role, user in held if role in roles and user.is_active}.values())

    def _read_holders(self) -> dict[int, list[tuple[str, User]]]:
        # The same few people hold the roles of many incidents: each is read once.
        holders = list(
            Participant.objects.filter(incident_id__in=list(self._incidents), role__in=self._ROLES, left_at=None)
            .order_by("role", "pk")
            .values_list("incident_id", "role", "user_id")
        )
        users = User.objects.in_bulk({user_id for _, _, user_id in holders})
        found: dict[int, list[tuple[str, User]]] = {pk: [] for pk in self._incidents}
        for incident_id, role, user_id in holders:
            found[incident_id].append((role, users[user_id]))
        return found

    def acknowledger(self, incident: Incident) -> str:
        """Who acknowledged the incident (the latest acknowledgement), as the timeline named them."""
        if self._acknowledgers is None:
            self._acknowledgers = self._read_acknowledgers()
        return self._acknowledgers.get(incident.pk, "")

    def _read_acknowledgers(self) -> dict[int, str]:
        found: dict[int, str] = {}
        rows = list(
            TimelineEvent.objects.filter(incident_id__in=list(self._incidents), kind=TimelineEvent.Kind.ACKNOWLEDGED)
            .order_by("occurred_at", "pk")
            .values_list("incident_id", "actor_id", "message")
        )
        users = User.objects.in_bulk({actor_id for _, actor_id, _ in rows if actor_id})
        for incident_id, actor_id, message in rows:
            # Without a person, the message names what acknowledged ("Slack bot acknowledged INC-7").
            found[incident_id] = str(users[actor_id]) if actor_id in users else message.split(" acknowledged ")[0]
        return found

    def managers(self, incident: Incident) -> list:
        """Managers to tell: the policy's team manager, then the managers of the services' owning teams."""
        if self._managers is None:
            self._managers = self._read_managers()
        return list(self._managers[incident.pk])

    def _read_managers(self) -> dict[int, list[User]]:
        wanted: dict[int, list[int]] = {}
        for pk, incident in self._incidents.items():
            policy = incident.escalation_policy
            wanted[pk] = [policy.team.manager_id] if policy and policy.team_id and policy.team.manager_id else []
        for incident_id, manager_id in (
            Incident.services.through.objects.filter(incident_id__in=list(self._incidents))
            .order_by("incident_id", "service__name")
            .values_list("incident_id", "service__owning_team__manager_id")
        ):
            if manager_id is not None:
                wanted[incident_id].append(manager_id)
        users = User.objects.in_bulk({user_id for ids in wanted.values() for user_id in ids})
        return {
            pk: list({user_id: users[user_id] for user_id in ids if users[user_id].is_active}.values())
            for pk, ids in wanted.items()
        }


def describe(people) -> list[dict]:
    return [{"id": u.pk, "username": u.get_username(), "name": str(u)} for u in people]


def names(people) -> str:
    return ", ".join(str(u) for u in people) or "nobody"

