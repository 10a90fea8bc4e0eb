"""The words the demo stories are written in: when a story starts, its steps, the action calls
each step makes, and references to the catalogue that are looked up only when the story replays."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone


@dataclass(frozen=True)
class Ref:
    """A row of the demo catalogue, by key: `catalogue` is "users", "services", "severities" or "types"."""

    catalogue: str
    key: str


def person(username: str) -> Ref:
    return Ref("users", username)


def service(slug: str) -> Ref:
    return Ref("services", slug)


def severity(name: str) -> Ref:
    return Ref("severities", name)


def kind(slug: str) -> Ref:
    """An incident type."""
    return Ref("types", slug)


@dataclass(frozen=True)
class Earlier:
    """An instant this long before the step that mentions it (a detection time, say)."""

    delta: timedelta


def earlier(**delta: int) -> Earlier:
    return Earlier(timedelta(**delta))


@dataclass(frozen=True)
class OnCall:
    """Whoever `schedule` had on call when the story started (the person its first page went to),
    or `fallback` when nobody was."""

    schedule: str
    fallback: Ref


@dataclass(frozen=True)
class Call:
    """One call of an action on the story's incident (`declare` creates it; `done` ticks off the
    checklist task whose title starts with the given text)."""

    verb: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


def do(verb: str, *args, **kwargs) -> Call:
    return Call(verb, args, kwargs)


@dataclass(frozen=True)
class Step:
    """Calls made at one instant: `after` the previous step (the first step counts from the story's
    start), or `before_present` for steps placed relative to now (the latest update, say)."""

    calls: tuple[Call, ...]
    after: timedelta | None = None
    before_present: timedelta | None = None


def after(delay: int | timedelta, *calls: Call) -> Step:
    """A step `delay` after the previous one (an int counts minutes)."""
    return Step(calls, after=delay if isinstance(delay, timedelta) else timedelta(minutes=delay))


def until(before_present: timedelta, *calls: Call) -> Step:
    return Step(calls, before_present=before_present)


@dataclass(frozen=True)
class Start:
    """When a story begins: `before` the present, at a whole `hour`:`minute` of that day when given.
    `wall_clock` counts from the real clock instead of the whole minute the present is rounded to."""

    before: timedelta
    hour: int | None = None
    minute: int = 0
    wall_clock: bool = False

    def instant(self, present: datetime) -> datetime:
        base = timezone.now().replace(microsecond=0) if self.wall_clock else present
        start = base - self.before
        return start if self.hour is None else start.replace(hour=self.hour, minute=self.minute)


def days_ago(days: int, hour: int, minute: int) -> Start:
    return Start(timedelta(days=days), hour=hour, minute=minute)


def ago(**delta: int) -> Start:
    return Start(timedelta(**delta))


def ago_wall_clock(**delta: int) -> Start:
    return Start(timedelta(**delta), wall_clock=True)


@dataclass(frozen=True)
class Story:
    """One demo incident's history, replayed step by step through `incidents.actions`."""

    name: str
    start: Start
    steps: tuple[Step, ...]
