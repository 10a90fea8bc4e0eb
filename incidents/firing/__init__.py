"""The engine's firings: what a due deadline does — page or tell the people it resolves to at this
instant, record it on the timeline, mark it fired and plan what follows — one deadline at a time
(`fire_deadline`) or a tick's whole batch at once (`fire_due_batch`).

`engine.py` selects what is due and calls these; `rows.py` reads and writes a batch's rows,
`people.py` says whom a firing reaches, `paging.py` engages levels and words the timeline.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Max

from oncall import clocks

from .. import clock, deadlines, escalation, formatting, timeline
from ..actions.base import lock
from ..models import Deadline, TimelineEvent
from .paging import DRILL_NOTE, breach_message, engage, page, tell
from .people import Audience, describe, level_targets, names, targets_resolver
from .rows import PastFiring, PendingRow, Writes, add_responders, batch_rows

# What other modules use: the actions (a reopen pages as the engine does), the admin's preview,
# chat, and the engine.
__all__ = [
    "DRILL_NOTE", "Audience", "PastFiring", "PendingRow", "add_responders", "batch_rows", "describe",
    "fire_deadline", "fire_due_batch", "level_targets", "names",
]

Kind = timeline.Kind
Key = escalation.Key


class _Batch:
    """What the firings of one batch share: the instant, the writes collected for it, and what
    is read once for all its incidents (policies, on-call, who is told)."""

    def __init__(self, incidents, *, now, cache: deadlines.PlanCache | None = None):
        incidents = list(incidents)
        self.now = now
        self.writes = Writes([incident.pk for incident in incidents])
        self.people_at = targets_resolver(now)
        self.audience = Audience(incidents)
        self.cache = cache if cache is not None else deadlines.PlanCache()


def _fire(incident, row, rows: list, last_update_at, batch: _Batch, *, history=()) -> None:
    """Fire one pending deadline of a locked incident, collecting what it writes in `batch.writes`.
    `rows` are the incident's deadlines: model instances, or in the engine's batches its pending
    ones as `PendingRow`s with the fired ones apart in `history`."""
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
            told = engage(incident, sit, [row.level], by_position, reason="on schedule", **common)
            if not incident.is_drill:
                # Drills page only their participants: nobody joins them by being paged.
                add_responders(incident, told, now=now, writes=writes, reason="informed" if sit.informs(row.level) else "paged")
    elif row.kind == Deadline.Kind.ACK_TIMEOUT:
        told = _fire_ack_timeout(incident, row, sit, firing, by_position, batch, common)
    elif row.kind == Deadline.Kind.UPDATE_OVERDUE:
        if row.round - sit.earlier_update_misses == 1:
            people, whom = audience.commander_and_comms(incident), "reminding the commander and communications lead"
        else:
            people, whom = audience.managers(incident), "second miss, telling the manager"
        missed = _missed_update(incident, sit)
        told = tell(
            incident, Kind.UPDATE_OVERDUE, f"{missed.pop('words')}; {whom}",
            people, levels=levels, writes=writes, people_at=people_at,
            data={"round": row.round - sit.earlier_update_misses, **missed},
        )
    elif row.kind == Deadline.Kind.RESOLVE_BREACHED:
        people = list({u.pk: u for u in audience.commanders(incident) + audience.managers(incident)}.values())
        told = tell(
            incident, Kind.RESOLVE_TARGET_BREACHED,
            f"Not resolved within the {sev.name} target of {sev.resolve_target_text}; telling the commander and manager",
            people, levels=levels, writes=writes, people_at=people_at, data={},
        )
    elif row.kind == Deadline.Kind.STATUS_PAGE:
        people, whom = audience.communications_leads(incident), "the communications lead"
        if not people:
            people, whom = audience.commanders(incident), "the commander"
        window = sev.status_page_window or timedelta(0)
        told = tell(
            incident, Kind.STATUS_PAGE_OVERDUE,
            f"Not on the status page {formatting.duration(now - incident.declared_at)} after declaration "
            f"({sev.name} window: {clocks.describe(sev.update_clock, window, formatting.duration)}); reminding {whom}",
            people, levels=levels, writes=writes, people_at=people_at,
            data={"window_seconds": int(window.total_seconds())},
        )

    row.fired_at = now
    row.targets = describe(list({u.pk: u for u in told}.values()))
    writes.save(row)
    escalation.record(sit, firing, now)
    deadlines.sync(incident, now=now, snapshot=sit, rows=rows, save=writes.save)


def _fire_ack_timeout(incident, row, sit, firing, by_position, batch: _Batch, common: dict) -> list:
    """An acknowledge-SLA breach: page the levels it re-pages, say so, and engage what it engages
    early. Returns everyone it paged."""
    now, writes, people_at = batch.now, batch.writes, batch.people_at
    repaged, skipped = [], []
    for position in firing.repage_levels:
        fresh, recent = page(sit, people_at(by_position[position]), now)
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
            breach_message(incident, sit, row, firing, by_position, repaged, skipped, now=now),
            {
                "round": row.round, "level": firing.repage_levels[0] if firing.repage_levels else 1,
                "targets": describe(repaged), "page": True,
                "waiting": [
                    {"level": position, "level_name": by_position[position].name, "page_at": when.isoformat()}
                    for position, when in firing.waiting
                ],
            },
        )
    told = repaged + engage(incident, sit, list(firing.engage_levels), by_position, reason=reason, **common)
    if not incident.is_drill:
        # Drills page only their participants: nobody joins them by being paged.
        add_responders(incident, told, now=now, writes=writes)
    return told


@transaction.atomic
def fire_deadline(deadline: Deadline) -> Deadline:
    """Act on one due deadline: page or tell the people it resolves to at this instant, record it
    on the timeline, mark it fired, and plan what follows — in one transaction. Firing twice is
    harmless: a deadline that is no longer pending is left alone. Drills are recorded like any
    incident; notifications keep them to their participants."""
    incident = lock(deadline.incident)
    rows = list(incident.deadlines.select_for_update())
    row = next((r for r in rows if r.pk == deadline.pk), None)
    if row is None or row.state != "pending":
        return row or deadline
    from ..selectors import last_update_at

    batch = _Batch([incident], now=clock.now())
    _fire(incident, row, rows, last_update_at(incident), batch)
    batch.writes.flush()
    return row


@transaction.atomic
def fire_due_batch(batch: list[Deadline], *, cache: deadlines.PlanCache | None = None) -> list[PendingRow]:
    """The engine's batch form of `fire_deadline`, for rows the tick selected in this
    transaction with `FOR UPDATE OF deadline, incident` (so rows and incidents are locked and
    fresh): the batch's pending deadlines, fired history, last updates and the people it may
    tell are read in a few queries (policies once per tick, via `cache`), and its timeline
    events and deadline changes are written in a few statements. Returns the rows it fired."""
    if not batch:
        return []
    incidents = {row.incident_id: row.incident for row in batch}
    ids = list(incidents)
    rows_of, history_of = batch_rows(ids)
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


def _missed_update(incident, sit) -> dict:
    """Which update was missed — the first (its own interval, from declaration) or a later one
    (the update interval, from the last update or the reopen) — in the timeline's words, and as
    data a message says in the recipient's zone: `first`, `last_update_at`, `since_reopen`."""
    sev = incident.severity
    if sit.last_update_at is None:
        return {
            "words": f"First status update overdue ({sev.name} expects the first update {sev.first_update_due_text})",
            "first": True, "last_update_at": None, "since_reopen": False,
        }
    since_reopen = sit.reopened_at is not None and sit.last_update_at == sit.reopened_at
    return {
        "words": f"Status update overdue ({sev.name} expects one {sev.update_cadence_text()}"
        + (" since the reopen)" if since_reopen else " after the last)"),
        "first": False, "last_update_at": sit.last_update_at.isoformat(), "since_reopen": since_reopen,
    }

