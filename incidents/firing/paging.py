"""Engaging levels and telling people, with the timeline's words for each: what a firing pages,
informs or reminds, and how an acknowledge-SLA breach reads."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .. import escalation, formatting, timeline
from ..models import Deadline
from .people import describe, names

Kind = timeline.Kind
DRILL_NOTE = " (drill: only its participants are notified)"


def _local(incident, moment: datetime, fmt: str = "%a %H:%M") -> str:
    """A moment in the policy team's zone (its working hours are read there), else UTC."""
    policy = incident.escalation_policy
    return formatting.local(moment, fmt, ZoneInfo(policy.team.time_zone if policy and policy.team_id else "UTC"))


def _skipped_note(skipped) -> str:
    return f"; {names(skipped)} paged less than a minute ago, not paged again" if skipped else ""


def page(sit, people, now) -> tuple[list, list]:
    """(people to page now, people this incident paged less than a minute ago: skipped)."""
    people, skipped = escalation.split_recent(sit, people, now)
    escalation.mark_paged(sit, people, now)
    return people, skipped


def engage(incident, sit, positions, by_position, *, now, reason: str, current: Deadline, rows, writes, people_at, audience):
    """Engage levels: page their targets now (or, for a level that lasts until resolved engaged
    after acknowledgement, inform them), record each on the timeline, mark their deadlines
    fired. A level that resolves to nobody says so and hands over to the next level at once."""
    paged = []
    outcome = escalation.engage_with_handover(sit, positions, lambda position: people_at(by_position[position]))
    drill = DRILL_NOTE if incident.is_drill else ""
    for index, (position, people) in enumerate(outcome):
        level = by_position[position]
        inform = bool(people) and sit.informs(position)
        skipped = []
        if people and not inform:
            people, skipped = page(sit, people, now)
        if not (current.kind == Deadline.Kind.ESCALATION and current.level == position):
            row = next(
                (r for r in rows if (r.kind, r.level) == (Deadline.Kind.ESCALATION, position) and r.state == "pending"), None
            )
            if row is None:
                row = Deadline(incident=incident, kind=Deadline.Kind.ESCALATION, level=position, due_at=now)
                rows.append(row)
            row.fired_at, row.targets, row.note = now, describe(people), reason[:200]
            writes.save(row)
        label = f"level {position} · {level.name}"
        data = {
            "level": position, "level_name": level.name, "reason": reason, "targets": describe(people),
            "page": not inform,
        }
        if inform:
            writes.event(incident, Kind.ESCALATED, f"{_informed(incident, label, reason, now, audience)}: telling {names(people)}{drill}", data)
            paged.extend(people)
            continue
        if people or skipped:
            if skipped:
                data["skipped"] = describe(skipped)
            writes.event(
                incident,
                Kind.ESCALATED,
                f"Escalated to {label} ({reason}): paging {names(people)}{_skipped_note(skipped)}{drill}",
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
    return text + (f", commander {names(commanders)}" if commanders else ", no commander")


def tell(incident, kind: str, message: str, people, *, levels, writes, people_at, data: dict):
    """Remind or warn people; with nobody to tell, fall back to level 1 — never silent."""
    fallback = ""
    if not people and levels:
        people = people_at(levels[0])
        fallback = f"; nobody holds that role, so level 1 · {levels[0].name} is told"
    told = f": {names(people)}" if people else ": nobody to tell"
    writes.event(incident, kind, f"{message}{fallback}{told}{DRILL_NOTE if incident.is_drill else ''}", {**data, "targets": describe(people)})
    return people


def breach_message(incident, sit, row, firing, by_position, repaged, skipped, *, now) -> str:
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
    late = f"{since} ({sev.name} acknowledge SLA: {sev.ack_sla_text})"
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
        parts.append(f"paging level{'s' if len(firing.repage_levels) > 1 else ''} {which} again ({names(repaged)})")
    for position, when in firing.waiting:
        parts.append(f"level {position} · {by_position[position].name} is business-hours only, paging at {_local(incident, when)}")
    if not parts:
        parts.append("engaging the next level" if firing.engage_levels else "no level is left to page")
    return (
        f"{head}: {'; '.join(parts)}{_skipped_note(skipped)}, round {round_number} of {loops}"
        f"{DRILL_NOTE if incident.is_drill else ''}"
    )
