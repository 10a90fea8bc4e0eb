"""Where an incident stands against its severity's response-time SLAs.

This is the read side used by lists and pages; the deadline engine that acts on the same
targets plans its rows from the same severity fields.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime, timedelta

from django.conf import settings

from oncall.clocks import WALL_CALENDAR, Calendar
from oncall.models import EscalationPolicy
from oncall.working_hours import calendars_for

from . import deadlines
from .models import Incident, Status


class SlaState(enum.Enum):
    ON_TIME = "on time"
    DUE_SOON = "due soon"
    BREACHED = "breached"


@dataclasses.dataclass(frozen=True)
class SlaTarget:
    name: str  # "acknowledge", "status update", "resolve"
    due_at: datetime
    window: timedelta  # how long the target allowed, e.g. the severity's ack SLA
    met_at: datetime | None = None

    @property
    def due_soon_from(self) -> datetime:
        """A quarter of the window before the deadline, but never more than VIGIL_SLA_DUE_SOON."""
        lead = min(timedelta(seconds=settings.VIGIL_SLA_DUE_SOON), self.window / 4)
        return self.due_at - lead

    def state(self, now: datetime) -> SlaState:
        if self.met_at is not None:
            return SlaState.ON_TIME if self.met_at <= self.due_at else SlaState.BREACHED
        if now > self.due_at:
            return SlaState.BREACHED
        if now >= self.due_soon_from:
            return SlaState.DUE_SOON
        return SlaState.ON_TIME


def targets(incident: Incident, *, last_update_at: datetime | None, calendar: Calendar | None = None) -> list[SlaTarget]:
    """The SLA targets of an incident under its current severity, each due on the severity's
    clock for it (`oncall.clocks`), as the engine plans them. `calendar`: the incident's working
    calendar if the caller has it (lists attach them in bulk: `attach_calendars`)."""
    sev = incident.severity
    calendar = calendar or incident_calendar(incident)

    def target(name: str, clock: str, start: datetime, period, met_at=None) -> SlaTarget:
        due = calendar.due(clock, start, period)
        return SlaTarget(name, due, due - start, met_at)

    result = [target("acknowledge", sev.ack_sla_clock, incident.declared_at, sev.ack_sla, incident.acknowledged_at or incident.resolved_at)]
    if incident.awaiting_acknowledgement and incident.reopened_at:
        # A reopen's acknowledge round, as the engine chases it; the first round stays as it was.
        result.append(target("acknowledge after the reopen", sev.ack_sla_clock, incident.reopened_at, sev.ack_sla))
    if incident.reopened_at and incident.is_open and (last_update_at is None or last_update_at < incident.reopened_at):
        last_update_at = incident.reopened_at  # a reopen restarts the update cadence, as the engine does
    if incident.status not in (Status.RESOLVED, Status.CLOSED):
        if last_update_at is None:
            result.append(target("status update", sev.update_clock, incident.declared_at, sev.first_update_interval))
        else:
            result.append(target("status update", sev.update_clock, last_update_at, sev.update_interval))
    result.append(target("resolve", sev.resolve_clock, incident.declared_at, sev.resolve_target, incident.resolved_at))
    return result


def incident_calendar(incident: Incident) -> Calendar:
    """The working calendar an incident's targets count on: attached by a list, else read (only
    when its severity has a target on a calendar clock)."""
    attached = getattr(incident, "_calendar", None)
    if attached is not None:
        return attached
    if not incident.severity.counts_working_time:
        return WALL_CALENDAR
    return deadlines.calendar_of(incident.escalation_policy)


def attach_calendars(incidents) -> None:
    """Give each incident of a page its working calendar: two queries at most for the page (the
    policies' teams and their closed days), none when every severity counts on the wall clock."""
    needing = [i for i in incidents if i.severity.counts_working_time]
    if not needing:
        return
    policies = EscalationPolicy.objects.select_related("team").in_bulk({i.escalation_policy_id for i in needing} - {None})
    teams = {policy.pk: policy.team for policy in policies.values() if policy.team_id}
    calendars = calendars_for(list({team.pk: team for team in teams.values()}.values()))
    for incident in needing:
        team = teams.get(incident.escalation_policy_id)
        incident._calendar = calendars[team.pk if team else None]


@dataclasses.dataclass(frozen=True)
class SlaSummary:
    state: SlaState
    target: SlaTarget  # the one that decided the state: the worst, then the soonest
    finished: bool = False  # resolved or closed: the targets are history

    @property
    def label(self) -> str:
        if self.finished and self.state is SlaState.ON_TIME:
            return "all targets met"
        return f"{self.state.value}: {self.target.name}"


_ORDER = {SlaState.BREACHED: 0, SlaState.DUE_SOON: 1, SlaState.ON_TIME: 2}


def summary(incident: Incident, *, now: datetime, last_update_at: datetime | None) -> SlaSummary:
    """The one state an operator needs to see: breached beats due soon beats on time.

    Open incidents are judged on their pending targets only (a late acknowledgement is
    history once it happened); resolved and closed ones on whether every target was met.
    """
    all_targets = targets(incident, last_update_at=last_update_at)
    if incident.is_open:
        pending = [t for t in all_targets if t.met_at is None]
        ranked = sorted(pending, key=lambda t: (_ORDER[t.state(now)], t.due_at))
    else:
        ranked = sorted(all_targets, key=lambda t: (_ORDER[t.state(now)], t.due_at))
    best = ranked[0]
    return SlaSummary(best.state(now), best, finished=not incident.is_open)


# The fields `held` stamps: what an incident was held to (docs/architecture.md, "Metrics").
HELD_FIELDS = (
    "ack_due_at", "first_update_due_at", "resolve_due_at", "held_update_interval", "held_mtta_target", "held_mttr_target"
)


def held(incident: Incident, calendar: Calendar | None = None) -> dict:
    """What `incident` is held to under its current severity: the acknowledge, first-update and
    resolve due instants from declaration on the severity's clocks (as the engine plans them), the
    update cadence, and the severity's MTTA/MTTR targets. The actions stamp these on the incident."""
    sev = incident.severity
    calendar = calendar or incident_calendar(incident)
    start = incident.declared_at
    return {
        "ack_due_at": calendar.due(sev.ack_sla_clock, start, sev.ack_sla),
        "first_update_due_at": calendar.due(sev.update_clock, start, sev.first_update_interval),
        "resolve_due_at": calendar.due(sev.resolve_clock, start, sev.resolve_target),
        "held_update_interval": sev.update_interval,
        "held_mtta_target": sev.mtta_target,
        "held_mttr_target": sev.mttr_target,
    }


def hold(incident: Incident) -> list[str]:
    """Stamp what `incident` is held to on it (not saved); returns the fields to save."""
    for name, value in held(incident).items():
        setattr(incident, name, value)
    return list(HELD_FIELDS)
