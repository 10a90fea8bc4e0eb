"""The escalation matrix as a plan: which deadlines an incident has, and what firing one does.

Pure functions over a snapshot of the incident (`Situation`), shared by the engine (which
stores the plan as `Deadline` rows and fires them) and the admin's escalation preview
(which plays the plan forward in memory) — so the preview is what the engine will do.

Semantics (docs/architecture.md, "The engine"):

- While an incident is unresolved, each level of its policy is engaged when its delay for
  the incident's severity has elapsed since declaration (a "business hours" cell waits for
  the team's next working period). A level without a cell for the severity is never engaged.
- Each level lasts until acknowledged (paged; acknowledging cancels it if not yet engaged) or
  until resolved (engaged by elapsed time; after acknowledgement it is informed, not paged).
- If nobody has acknowledged when the severity's acknowledge SLA elapses, the SLA is
  breached: the engaged until-acknowledged levels (level 1) are paged again and the next
  level not yet engaged is engaged at once. This repeats every acknowledge-SLA period, up to
  the policy's loop count. A level whose cell is business hours is paged by a breach only in
  working hours: outside them its page waits (a `Key(ACK_TIMEOUT, level, round)` deadline) for
  the next working-hours start, and the next round counts from then.
- Acknowledging stops the re-paging and the until-acknowledged levels; resolving stops everything.
- Reopening starts a new acknowledge round: its re-pages count from the reopen, up to the
  loop count again (rounds fired before it are history); levels already engaged stay engaged.
- Nothing repeats faster than `MIN_PERIOD`, whatever the settings say, and no firing pages a
  person paged by the incident less than `MIN_PAGE_GAP` before (`split_recent`).
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

from oncall.clocks import WALL_CALENDAR, Calendar, Clock

ESCALATION = "escalation"
ACK_TIMEOUT = "ack_timeout"
UPDATE_OVERDUE = "update_overdue"
RESOLVE_BREACHED = "resolve_breached"
STATUS_PAGE = "status_page"

# How many missed updates are chased: the first reminds the IC and comms lead, the second the manager.
UPDATE_MISSES_CHASED = 2

UNTIL_ACKNOWLEDGED = "until_acknowledged"
UNTIL_RESOLVED = "until_resolved"

# The shortest period between two rounds of anything: an acknowledge SLA or update interval of
# zero or less (saved straight to the database) must not make every tick fire another round.
MIN_PERIOD = timedelta(minutes=1)
# One incident never pages the same person twice within this.
MIN_PAGE_GAP = timedelta(minutes=1)


@dataclasses.dataclass(frozen=True)
class LevelCell:
    """A level of the policy and its matrix cell for the incident's severity."""

    position: int
    name: str
    delay: timedelta | None  # None: never engaged for this severity
    business_hours: bool = False
    lasts: str = UNTIL_ACKNOWLEDGED

    @property
    def until_acknowledged(self) -> bool:
        return self.lasts != UNTIL_RESOLVED


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
    # How long the incident spent resolved before its reopens (level delays do not count it).
    time_spent_resolved: timedelta = timedelta(0)
    # Missed-update reminders fired before the last update (or reopen): history, numbered up to this.
    earlier_update_misses: int = 0
    # When the status-page reminder is due (None: the incident needs none).
    status_page_due: datetime | None = None
    # The owning team's working calendar, and the clock each severity target counts on
    # (`oncall.clocks`): business-hours cells and business-hours or next-business-day targets.
    calendar: Calendar = WALL_CALENDAR
    ack_clock: str = Clock.WALL
    update_clock: str = Clock.WALL
    resolve_clock: str = Clock.WALL
    # Pages an acknowledge-SLA breach put off until working hours, pending:
    # Key(ACK_TIMEOUT, level, round of the breach) → the working-hours start they wait for.
    waiting: dict[Key, datetime] = dataclasses.field(default_factory=dict)
    # When the incident last paged each person (by id): nobody is paged twice within MIN_PAGE_GAP.
    paged_at: dict[int, datetime] = dataclasses.field(default_factory=dict)

    def engaged(self, position: int) -> bool:
        return Key(ESCALATION, position) in self.fired

    def working_time(self, at: datetime) -> datetime:
        """`at` in working hours, else the next working-hours start (business-hours cells)."""
        return self.calendar.next_working_moment(at)

    def ack_due(self, start: datetime) -> datetime:
        return _due(self.calendar, self.ack_clock, start, self.ack_sla)

    def update_due(self, start: datetime, first: bool) -> datetime:
        return _due(self.calendar, self.update_clock, start, self.first_update_interval if first else self.update_interval)

    def resolve_due(self) -> datetime:
        return self.calendar.due(self.resolve_clock, self.declared_at, self.resolve_target)

    def fired_rounds(self, kind: str) -> int:
        # Level 0 rows are the rounds; an acknowledge round's waiting pages (level > 0) are not.
        return sum(1 for key in self.fired if key.kind == kind and key.level == 0)

    def cell(self, position: int) -> LevelCell | None:
        return next((cell for cell in self.levels if cell.position == position), None)

    def informs(self, position: int) -> bool:
        """Whether engaging this level now informs rather than pages: an until-resolved level
        engaged after acknowledgement."""
        cell = self.cell(position)
        return self.acknowledged and cell is not None and not cell.until_acknowledged


def _due(calendar: Calendar, clock: str, start: datetime, period: timedelta) -> datetime:
    # A repeating target (acknowledge rounds, update reminders) never comes round faster than
    # MIN_PERIOD, whatever the settings say.
    return max(calendar.due(clock, start, period), start + MIN_PERIOD)


def page_at(situation: Situation, cell: LevelCell, at: datetime) -> datetime:
    """The earliest moment from `at` that a level may be paged: a business-hours cell waits for
    the team's next working-hours start, whatever pages it (its delay, a breach, a re-page)."""
    return situation.working_time(at) if cell.business_hours else at


def level_due(situation: Situation, cell: LevelCell) -> datetime:
    # Delays count the time the incident has run unresolved: time spent resolved before a
    # reopen moves them on, so a reopen never engages every level at once.
    return page_at(situation, cell, situation.declared_at + situation.time_spent_resolved + cell.delay)


def split_recent(situation: Situation, people: list, at: datetime) -> tuple[list, list]:
    """(people to page now, people skipped because the incident paged them less than
    MIN_PAGE_GAP ago). Call `mark_paged` with those actually paged."""
    fresh, recent = [], []
    for person in people:
        last = situation.paged_at.get(getattr(person, "pk", person))
        (recent if last is not None and at - last < MIN_PAGE_GAP else fresh).append(person)
    return fresh, recent


def mark_paged(situation: Situation, people: list, at: datetime) -> None:
    for person in people:
        situation.paged_at[getattr(person, "pk", person)] = at


def planned(situation: Situation) -> dict[Key, datetime]:
    """The pending deadlines the incident should have right now, and when each is due."""
    if situation.finished:
        return {}
    plan: dict[Key, datetime] = {}
    waiting = {} if situation.acknowledged else _still_waiting(situation)  # acknowledging stops them
    for cell in situation.levels:
        if cell.delay is None or situation.engaged(cell.position):
            continue
        if situation.acknowledged and cell.until_acknowledged:
            continue  # acknowledging stops a level that pages until acknowledged
        due = level_due(situation, cell)
        if any(key.level == cell.position and at <= due for key, at in waiting.items()):
            continue  # a breach's waiting page engages it first
        plan[Key(ESCALATION, cell.position)] = due

    if not situation.acknowledged:
        plan.update(waiting)
        # Rounds keep counting across reopens (one row per round), the loop count per round.
        next_round = situation.fired_rounds(ACK_TIMEOUT) + 1
        if next_round - situation.earlier_ack_rounds <= max(situation.loop_count, 1):
            # Counted from the previous breach of this round (else the declaration or the reopen),
            # or from the pages it put off until working hours.
            start = situation.reopened_at or situation.declared_at
            base = max([situation.last_fired_at.get(ACK_TIMEOUT, start), *waiting.values()])
            plan[Key(ACK_TIMEOUT, 0, next_round)] = situation.ack_due(base)

    # Update rounds count misses since the last update (fired keys before it are history, their
    # numbers taken: one row per round).
    misses = situation.fired_rounds(UPDATE_OVERDUE) - situation.earlier_update_misses
    if misses < UPDATE_MISSES_CHASED:
        first = situation.last_update_at is None
        base = situation.last_fired_at.get(UPDATE_OVERDUE, situation.declared_at if first else situation.last_update_at)
        plan[Key(UPDATE_OVERDUE, 0, situation.earlier_update_misses + misses + 1)] = situation.update_due(base, first)

    if Key(RESOLVE_BREACHED) not in situation.fired:
        plan[Key(RESOLVE_BREACHED)] = situation.resolve_due()

    if situation.status_page_due is not None and Key(STATUS_PAGE) not in situation.fired:
        plan[Key(STATUS_PAGE)] = situation.status_page_due
    return plan


def _still_waiting(situation: Situation) -> dict[Key, datetime]:
    """The held pages under the current matrix: a severity change that leaves a level without a
    business-hours cell lets its page go at once (it was due at the breach); a level without a
    cell for the new severity is no longer engaged early."""
    held = {}
    for key, at in situation.waiting.items():
        cell = situation.cell(key.level)
        if cell is None or (cell.delay is None and not situation.engaged(key.level)):
            continue
        held[key] = at if cell.business_hours else min(at, situation.last_fired_at.get(ACK_TIMEOUT, at))
    return held


@dataclasses.dataclass(frozen=True)
class Firing:
    """What firing one deadline does: the levels to page (in order) and why."""

    key: Key
    page_levels: tuple[int, ...] = ()  # levels whose targets are paged (or informed) now
    engage_levels: tuple[int, ...] = ()  # levels engaged now (early or on time), a subset of page_levels
    repage_levels: tuple[int, ...] = ()  # engaged until-acknowledged levels paged again now
    # Levels an acknowledge-SLA breach would page but whose cell is business hours, with the
    # working-hours start they wait for (said on the timeline; kept as deadlines in `waiting`).
    waiting: tuple[tuple[int, datetime], ...] = ()

    @property
    def repage_level_one(self) -> bool:
        return bool(self.repage_levels)


def next_unengaged(situation: Situation, after: int = 0) -> LevelCell | None:
    """The next level after `after` that the matrix engages for this severity, not engaged yet
    nor waiting for working hours to be engaged."""
    waiting = {key.level for key in situation.waiting}
    for cell in situation.levels:
        if (
            cell.position > after
            and cell.delay is not None
            and not situation.engaged(cell.position)
            and cell.position not in waiting
        ):
            return cell
    return None


def fire(situation: Situation, key: Key, at: datetime | None = None) -> Firing:
    """Decide what firing `key` at `at` does. Does not change `situation`; see `record`."""
    if key.kind == ESCALATION:
        return Firing(key, page_levels=(key.level,), engage_levels=(key.level,))
    if key.kind == ACK_TIMEOUT and key.level:
        # A breach's page that waited for working hours: engage the level, or page it again.
        if not situation.engaged(key.level):
            return Firing(key, page_levels=(key.level,), engage_levels=(key.level,))
        cell = situation.cell(key.level)
        repage = (key.level,) if cell is not None and cell.until_acknowledged else ()
        return Firing(key, page_levels=repage, repage_levels=repage)
    if key.kind == ACK_TIMEOUT:
        at = at or situation.declared_at
        waiting_levels = {k.level for k in situation.waiting}
        repage, engage, waiting = [], [], []
        for cell in situation.levels:
            if cell.until_acknowledged and situation.engaged(cell.position) and cell.position not in waiting_levels:
                when = page_at(situation, cell, at)
                (repage.append(cell.position) if when <= at else waiting.append((cell.position, when)))
        early = next_unengaged(situation)
        if early is not None:
            when = page_at(situation, early, at)
            (engage.append(early.position) if when <= at else waiting.append((early.position, when)))
        return Firing(
            key,
            page_levels=tuple(dict.fromkeys(repage + engage)),
            engage_levels=tuple(engage),
            repage_levels=tuple(repage),
            waiting=tuple(waiting),
        )
    return Firing(key)


def record(situation: Situation, firing: Firing, at: datetime) -> None:
    """Update the snapshot after a firing (levels a handover engaged are added as they engage)."""
    situation.fired.add(firing.key)
    situation.waiting.pop(firing.key, None)
    if firing.key.kind in (ACK_TIMEOUT, UPDATE_OVERDUE):
        situation.last_fired_at[firing.key.kind] = at
    for position in firing.engage_levels:
        situation.fired.add(Key(ESCALATION, position))
    for position, when in firing.waiting:
        situation.waiting[Key(ACK_TIMEOUT, position, firing.key.round)] = when


@dataclasses.dataclass
class PreviewStep:
    at: datetime
    key: Key
    firing: Firing
    # (level, people) in order: the re-paged levels first, then the levels engaged
    pages: list[tuple[int, list]] = dataclasses.field(default_factory=list)
    nobody: list[int] = dataclasses.field(default_factory=list)  # levels that resolved to nobody
    informed: set[int] = dataclasses.field(default_factory=set)  # levels engaged to inform, not page
    skipped: list = dataclasses.field(default_factory=list)  # people paged less than MIN_PAGE_GAP before


def engage_with_handover(situation: Situation, positions, people_at: Callable[[int], list]) -> list[tuple[int, list]]:
    """Engage levels in order; a level that resolves to nobody hands over to the next level not yet
    engaged, at once. Returns (level, people) in the order engaged, people empty for a level that
    had nobody. The engine (`firing.fire_deadline`) and the preview both engage through this."""
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
        firing = fire(situation, key, at)
        step = PreviewStep(at, key, firing)
        for position in firing.repage_levels:
            step.pages.append((position, _page(situation, step, people_at(position, at), at)))
        for position, people in engage_with_handover(situation, firing.engage_levels, lambda p: people_at(p, at)):
            if not people:
                step.nobody.append(position)
            elif situation.informs(position):
                step.informed.add(position)
                step.pages.append((position, people))
            else:
                step.pages.append((position, _page(situation, step, people, at)))
        steps.append(step)
        record(situation, firing, at)
    return steps


def _page(situation: Situation, step: PreviewStep, people: list, at: datetime) -> list:
    fresh, recent = split_recent(situation, people, at)
    step.skipped.extend(recent)
    mark_paged(situation, fresh, at)
    return fresh
