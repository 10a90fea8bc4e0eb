"""Replays the demo stories through `incidents.actions` at their past instants, with the deadline
engine ticking along, so escalations, re-pages and overdue-update reminders sit in the timelines
where they would really have happened."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

from django.core.management.base import CommandError

from incidents import actions, clock, engine
from incidents.demo.steps import Call, Earlier, OnCall, Ref, Story
from incidents.demo.stories import STORIES
from incidents.demo.stories.cast import CAST
from incidents.models import Deadline, Incident
from oncall.schedules import on_call_at


def run_engine_until(moment: datetime, *, not_before: datetime | None = None) -> int:
    """Let the deadline engine catch up to `moment`: one tick at each pending deadline's due time
    (but not before `not_before`), in order, so every escalation, re-page and reminder is stamped
    when it would really have fired, and what a firing plans next fires in turn. Returns how
    many deadlines fired."""
    fired = 0
    while True:
        due = (
            Deadline.objects.filter(fired_at=None, cancelled_at=None, due_at__lte=moment)
            .order_by("due_at")
            .values_list("due_at", flat=True)
            .first()
        )
        if due is None:
            return fired
        with clock.at(max(due, not_before) if not_before else due):
            result = engine.tick()
        if result.failed or not result.fired:
            raise CommandError(
                f"The deadline engine could not fire what was due at {due:%Y-%m-%d %H:%M:%S} UTC (see the log)."
            )
        fired += result.fired


class Replay:
    """Plays one incident's history forward from `start`: each step moves the clock on and runs its
    actions at that past instant.

    The engine ticks along: before a step, every deadline that fell due since the last one
    fires at its due time; after it, whatever the step made due at once (a severity change
    whose new levels are already late) fires at the step's instant, as the next tick would."""

    def __init__(self, start: datetime, *, present: datetime):
        self.now = start
        self.present = present

    @contextlib.contextmanager
    def until(self, moment: datetime) -> Iterator[None]:
        if moment < self.now:
            raise CommandError(f"The demo story went back in time ({moment:%Y-%m-%d %H:%M} UTC).")
        if moment > self.present:
            raise CommandError(f"The demo story ran into the future ({moment:%Y-%m-%d %H:%M} UTC).")
        run_engine_until(moment)
        self.now = moment
        with clock.at(moment):
            yield
        run_engine_until(moment, not_before=moment)


def replay_stories(catalogue: dict, *, present: datetime) -> list[Incident]:
    """The demo incidents, oldest story first. Every change goes through an action."""
    missing = set(CAST) - set(catalogue["users"])
    if missing:
        raise CommandError(f"Demo users missing: {', '.join(sorted(missing))}.")
    return [play(story, catalogue, present=present) for story in STORIES]


def play(story: Story, catalogue: dict, *, present: datetime) -> Incident:
    replay = Replay(story.start.instant(present), present=present)
    started = replay.now
    incident = None
    for step in story.steps:
        if step.before_present is not None:
            moment = present - step.before_present
        else:
            moment = replay.now + step.after
        with replay.until(moment):
            for call in step.calls:
                look_up = _Lookup(catalogue, now=moment, started=started)
                incident = _perform(call, incident, look_up)
    return incident


def _perform(call: Call, incident: Incident | None, look_up: _Lookup) -> Incident:
    args = [look_up(value) for value in call.args]
    kwargs = {name: look_up(value) for name, value in call.kwargs.items()}
    if call.verb == "declare":
        return actions.declare(*args, **kwargs)
    if call.verb == "done":
        (task_start,) = args
        task = incident.tasks.get(title__startswith=task_start)
        actions.set_task_done(task, True, actor=kwargs["actor"], source=kwargs["source"])
        return incident
    getattr(actions, call.verb)(incident, *args, **kwargs)
    return incident


class _Lookup:
    """Turns a step's references into catalogue rows and instants."""

    def __init__(self, catalogue: dict, *, now: datetime, started: datetime):
        self.catalogue = catalogue
        self.now = now
        self.started = started

    def __call__(self, value):
        if isinstance(value, Ref):
            return self.catalogue[value.catalogue][value.key]
        if isinstance(value, Earlier):
            return self.now - value.delta
        if isinstance(value, OnCall):
            people = on_call_at(self.catalogue["schedules"][value.schedule], self.started)
            return people[0] if people else self(value.fallback)
        if isinstance(value, list):
            return [self(item) for item in value]
        return value
