"""The operator dashboard (the admin home): what is open now, worst first, with the next SLA
deadline of each; who is on call for every schedule, and the gaps of the next 24 hours.

Read-only, a fixed number of queries whatever the table size: the open incidents are read as
the incident list reads them (`incidents.selectors.incident_list`, restricted incidents only for
those who may see them), at most `OPEN_SHOWN` of them, and counted up to `OPEN_COUNTED`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from incidents import selectors, sla
from incidents.models import OPEN_STATUSES, Incident
from oncall import schedules
from oncall.models import Schedule, User

OPEN_SHOWN = 50
OPEN_COUNTED = 1000
ON_CALL_HOURS = 24

_SLA_ORDER = {sla.SlaState.BREACHED: 0, sla.SlaState.DUE_SOON: 1, sla.SlaState.ON_TIME: 2}


@dataclass(frozen=True)
class OpenRow:
    incident: Incident
    commanders: list[User]
    sla: sla.SlaSummary
    next_due: sla.SlaTarget | None  # the soonest target still to meet; None when all are met

    @property
    def sort_key(self) -> tuple:
        """Worst first: severity, then breached before due soon before on time, then the
        soonest deadline, then the oldest."""
        due = self.next_due.due_at if self.next_due else dt.datetime.max.replace(tzinfo=dt.UTC)
        return (self.incident.severity.rank, _SLA_ORDER[self.sla.state], due, self.incident.declared_at)


@dataclass(frozen=True)
class OpenBoard:
    rows: list[OpenRow]
    count: int  # how many open incidents the user may see, up to OPEN_COUNTED
    more: bool  # more than OPEN_COUNTED

    @property
    def count_text(self) -> str:
        return f"{self.count:,}+" if self.more else f"{self.count:,}"


def open_incidents(user: User, *, now: dt.datetime) -> OpenBoard:
    """The open incidents `user` may see, worst first (four queries, five with a restricted one)."""
    if not user.has_perm("incidents.view_incident"):
        return OpenBoard(rows=[], count=0, more=False)
    open_ = selectors.incident_list(user).filter(status__in=OPEN_STATUSES)
    # The worst by severity first (a SEV-1 is never left off for older SEV-4s), then ordered by
    # their SLA state here, which the database cannot compute.
    incidents = list(open_.order_by("severity__rank", "declared_at", "pk")[:OPEN_SHOWN])
    sla.attach_calendars(incidents)
    rows = []
    for incident in incidents:
        targets = sla.targets(incident, last_update_at=incident.last_update_at)
        pending = sorted((t for t in targets if t.met_at is None), key=lambda t: t.due_at)
        rows.append(
            OpenRow(
                incident=incident,
                commanders=selectors.commanders_of(incident),
                sla=sla.summary(incident, now=now, last_update_at=incident.last_update_at),
                next_due=pending[0] if pending else None,
            )
        )
    rows.sort(key=lambda row: row.sort_key)
    counted = len(incidents) if len(incidents) < OPEN_SHOWN else open_.order_by().values("pk")[: OPEN_COUNTED + 1].count()
    return OpenBoard(rows=rows, count=min(counted, OPEN_COUNTED), more=counted > OPEN_COUNTED)


@dataclass(frozen=True)
class OnCall:
    schedule: Schedule
    now: list[User]  # on call at this moment; empty is a gap now
    gaps: list[tuple[dt.datetime, dt.datetime]]  # nobody on call, within the next ON_CALL_HOURS


def on_call(*, now: dt.datetime) -> list[OnCall]:
    """Every schedule: who is on call now and its gaps in the next 24 hours (three queries)."""
    found = list(Schedule.objects.order_by("name"))
    outlooks = schedules.outlooks(found, now=now, days=ON_CALL_HOURS / 24)
    return [OnCall(schedule=o.schedule, now=o.on_call_now, gaps=o.gaps) for o in outlooks]
