"""The escalation matrix as a plan: which deadlines an incident has, and what firing one does.

Pure functions over a snapshot of the incident (`Situation`), shared by the engine (which
stores the plan as `Deadline` rows and fires them) and the admin's escalation preview
(which plays the plan forward in memory) — so the preview is what the engine will do.

Semantics (docs/architecture.md, "The engine"):

- While an incident is unresolved, each level of its policy is engaged when its delay for
  the incident's severity has elapsed since declaration (a "business hours" cell waits for
  the team's next working period). A level without a cell for the severity is never engaged.
- If nobody has acknowledged when the severity's acknowledge SLA elapses, the SLA is
  breached: level 1 is paged again and the next level not yet engaged is engaged at once.
  This repeats every acknowledge-SLA period, up to the policy's loop count.
- Acknowledging stops the re-paging, not the matrix. Resolving stops everything.
- Reopening starts a new acknowledge round: its re-pages count from the reopen, up to the
  loop count again (rounds fired before it are history); levels already engaged stay engaged.
- The first status update is due the first-update interval after declaration, later ones
  the update interval after the last; a miss reminds the commander and communications
  lead, a second miss goes to the manager.
- The resolve target breached is told to the commander and the manager, once.
- A customer-facing incident not yet on the status page when its severity's window passes
  reminds the communications lead (else the commander), once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta

ESCALATION = "escalation"
ACK_TIMEOUT = "ack_timeout"
UPDATE_OVERDUE = "update_overdue"
RESOLVE_BREACHED = "resolve_breached"
STATUS_PAGE = "status_page"

# How many missed updates are chased: the first reminds the IC and comms lead, the second the manager.
UPDATE_MISSES_CHASED = 2


@dataclasses.dataclass(frozen=True)
class LevelCell:
    """A level of the policy and its matrix cell for the incident's severity."""

    position: int
    name: str
    delay: timedelta | None  # None: never engaged for this severity
    business_hours: bool = False


@dataclasses.dataclass(frozen=True)
class Key:
    kind: str
    level: int = 0
    round: int = 1


@dataclasses.dataclass
class Situation:
    """What the plan depends on, read from the incident and its policy."""

    declared_at: datetime
    ack_sla: timedelta
    first_update_interval: timedelta
    update_interval: timedelta
    resolve_target: timedelta
    levels: list[LevelCell]
    loop_count: int
    acknowledged: bool = False
    finished: bool = False  # resolved or closed
    last_update_at: datetime | None = None
    fired: set[Key] = dataclasses.field(default_factory=set)
    # When the latest acknowledge-SLA breach and missed-update reminder fired: the next round is
    # one period after it (so a severity change that puts rounds in the past fires one now,
    # not a burst of them).
    last_fired_at: dict[str, datetime] = dataclasses.field(default_factory=dict)
    # The current acknowledge round started at the latest reopen (None: at declaration); the
    # acknowledge-SLA rounds fired before it are history, numbered up to `earlier_ack_rounds`.
    reopened_at: datetime | None = None
    earlier_ack_rounds: int = 0
    # Missed-update reminders fired before the last update (or reopen): history, numbered up to this.
    earlier_update_misses: int = 0
    # When the status-page reminder is due (None: the incident needs none).
    status_page_due: datetime | None = None
    # Adjusts a moment to the next working-hours start (business-hours cells).
    working_time: Callable[[datetime], datetime] = lambda moment: moment

    def engaged(self, position: int) -> bool:
        return Key(ESCALATION, position) in self.fired

    def fired_rounds(self, kind: str) -> int:
        return sum(1 for key in self.fired if key.kind == kind)


def level_due(situation: Situation, cell: LevelCell) -> datetime:
    due = situation.declared_at + cell.delay
    return situation.working_time(due) if cell.business_hours else due


def planned(situation: Situation) -> dict[Key, datetime]:
    """The pending deadlines the incident should have right now, and when each is due."""
    if situation.finished:
        return {}
    plan: dict[Key, datetime] = {}
    for cell in situation.levels:
        if cell.delay is not None and not situation.engaged(cell.position):
            plan[Key(ESCALATION, cell.position)] = level_due(situation, cell)

    if not situation.acknowledged:
        # Rounds keep counting across reopens (one row per round), the loop count per round.
        next_round = situation.fired_rounds(ACK_TIMEOUT) + 1
        if next_round - situation.earlier_ack_rounds <= max(situation.loop_count, 1):
            start = situation.reopened_at or situation.declared_at
            base = situation.last_fired_at.get(ACK_TIMEOUT, start)
            plan[Key(ACK_TIMEOUT, 0, next_round)] = base + situation.ack_sla

    # Update rounds count misses since the last update (fired keys before it are history, their
    # numbers taken: one row per round).
    misses = situation.fired_rounds(UPDATE_OVERDUE) - situation.earlier_update_misses
    if misses < UPDATE_MISSES_CHASED:
        if situation.last_update_at is None:
            base, interval = situation.declared_at, situation.first_update_interval
        else:
            base, interval = situation.last_update_at, situation.update_interval
        base = situation.last_fired_at.get(UPDATE_OVERDUE, base)
        plan[Key(UPDATE_OVERDUE, 0, situation.earlier_update_misses + misses + 1)] = base + interval

    if Key(RESOLVE_BREACHED) not in situation.fired:
        plan[Key(RESOLVE_BREACHED)] = situation.declared_at + situation.resolve_target

    if situation.status_page_due is not None and Key(STATUS_PAGE) not in situation.fired:
        plan[Key(STATUS_PAGE)] = situation.status_page_due
    return plan


@dataclasses.dataclass(frozen=True)
class Firing:
    """What firing one deadline does: the levels to page (in order) and why."""

    key: Key
    page_levels: tuple[int, ...] = ()  # levels whose targets are paged now
    engage_levels: tuple[int, ...] = ()  # levels engaged now (early or on time), a subset of page_levels
    repage_level_one: bool = False


def next_unengaged(situation: Situation, after: int = 0) -> LevelCell | None:
    """The next level after `after` that the matrix engages for this severity and is not engaged yet."""
    for cell in situation.levels:
        if cell.position > after and cell.delay is not None and not situation.engaged(cell.position):
            return cell
    return None


def fire(situation: Situation, key: Key) -> Firing:
    """Decide what firing `key` does. Does not change `situation`; see `record`."""
    if key.kind == ESCALATION:
        return Firing(key, page_levels=(key.level,), engage_levels=(key.level,))
    if key.kind == ACK_TIMEOUT:
        early = next_unengaged(situation)
        first = situation.levels[0].position if situation.levels else None
        levels = tuple(p for p in (first, early.position if early else None) if p is not None)
        engage = (early.position,) if early else ()
        return Firing(key, page_levels=tuple(dict.fromkeys(levels)), engage_levels=engage, repage_level_one=first is not None)
    return Firing(key)


def record(situation: Situation, firing: Firing, at: datetime) -> None:
    """Update the snapshot after a firing (levels a handover engaged are added as they engage)."""
    situation.fired.add(firing.key)
    if firing.key.kind in (ACK_TIMEOUT, UPDATE_OVERDUE):
        situation.last_fired_at[firing.key.kind] = at
    for position in firing.engage_levels:
        situation.fired.add(Key(ESCALATION, position))


@dataclasses.dataclass
class PreviewStep:
    at: datetime
    key: Key
    firing: Firing
    pages: list[tuple[int, list]] = dataclasses.field(default_factory=list)  # (level, people) in order
    nobody: list[int] = dataclasses.field(default_factory=list)  # levels that resolved to nobody


def engage_with_handover(situation: Situation, positions, people_at: Callable[[int], list]) -> list[tuple[int, list]]:
    """Engage levels in order; a level that resolves to nobody hands over to the next level not yet
    engaged, at once. Returns (level, people) in the order engaged, people empty for a level that
    had nobody. The engine (`actions.fire_deadline`) and the preview both engage through this."""
    outcome = []
    queue = list(positions)
    while queue:
        position = queue.pop(0)
        situation.fired.add(Key(ESCALATION, position))
        people = people_at(position)
        outcome.append((position, people))
        if not people:
            following = next_unengaged(situation, after=position)
            if following:
                queue.insert(0, following.position)
    return outcome


def play_forward(
    situation: Situation,
    *,
    until: datetime,
    people_at: Callable[[int, datetime], list] = lambda position, at: [],
    acknowledge_at: datetime | None = None,
) -> list[PreviewStep]:
    """Every firing, in order, if nobody resolves (and nobody acknowledges, unless `acknowledge_at`)
    and nobody posts an update — the engine's own plan, run in memory. `people_at(level, at)`
    resolves a level's targets at a future instant (schedules included)."""
    steps: list[PreviewStep] = []
    for _ in range(1000):  # a plan is finite; this only guards against a bug looping forever
        pending = planned(situation)
        if acknowledge_at is not None and not situation.acknowledged and (not pending or min(pending.values()) > acknowledge_at):
            situation.acknowledged = True
            pending = planned(situation)
        if not pending:
            break
        key, at = min(pending.items(), key=lambda item: (item[1], item[0].kind != ACK_TIMEOUT, item[0].level))
        if at > until:
            break
        firing = fire(situation, key)
        step = PreviewStep(at, key, firing)
        if firing.repage_level_one:
            step.pages.append((situation.levels[0].position, people_at(situation.levels[0].position, at)))
        for position, people in engage_with_handover(situation, firing.engage_levels, lambda p: people_at(p, at)):
            (step.pages.append((position, people)) if people else step.nobody.append(position))
        steps.append(step)
        record(situation, firing, at)
    return steps
