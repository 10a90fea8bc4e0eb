"""Where an incident stands against its severity's response-time SLAs.

This is the read side used by lists and pages; the deadline engine that acts on the same
targets plans its rows from the same severity fields.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime, timedelta

from django.conf import settings

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


def targets(incident: Incident, *, last_update_at: datetime | None) -> list[SlaTarget]:
    """The SLA targets of an incident under its current severity."""
    sev = incident.severity
    result = [
        SlaTarget("acknowledge", incident.declared_at + sev.ack_sla, sev.ack_sla, incident.acknowledged_at or incident.resolved_at)
    ]
    if incident.awaiting_acknowledgement and incident.reopened_at:
        # A reopen's acknowledge round, as the engine chases it; the first round stays as it was.
        result.append(SlaTarget("acknowledge after the reopen", incident.reopened_at + sev.ack_sla, sev.ack_sla))
    if incident.reopened_at and incident.is_open and (last_update_at is None or last_update_at < incident.reopened_at):
        last_update_at = incident.reopened_at  # a reopen restarts the update cadence, as the engine does
    if incident.status not in (Status.RESOLVED, Status.CLOSED):
        if last_update_at is None:
            update = SlaTarget("status update", incident.declared_at + sev.first_update_interval, sev.first_update_interval)
        else:
            update = SlaTarget("status update", last_update_at + sev.update_interval, sev.update_interval)
        result.append(update)
    result.append(SlaTarget("resolve", incident.declared_at + sev.resolve_target, sev.resolve_target, incident.resolved_at))
    return result


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
