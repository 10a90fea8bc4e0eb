"""The words the demo stories are written in: when a story starts, its steps, who acts in them and
the action calls they make, and references to the catalogue that are looked up only when the story
replays."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from incidents.models import EvidenceLink, Source


@dataclass(frozen=True)
class Ref:
    """A row of the demo catalogue, by key: `catalogue` is "users", "services", "severities" or "types"."""

    catalogue: str
    key: str


def person(username: str) -> Ref:
    return Ref("users", username)


def _services(slugs: list[str]) -> list[Ref]:
    return [Ref("services", slug) for slug in slugs]


def _severity(name: str) -> Ref:
    return Ref("severities", name)


def _incident_type(slug: str) -> Ref:
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


@dataclass(frozen=True)
class Player:
    """Someone acting in a story. Each method is one action call with the player as its actor, so
    a step reads as its script (`erin.notes(…)`, `alice.assigns(bob, Role.SCRIBE)`). People act
    in the admin; monitoring acts as the system, with no actor."""

    actor: Ref | OnCall | None
    source: str = Source.ADMIN

    def declares(
        self, *, severity: str, kind: str, services: list[str], commander: Player | None = None, **details
    ) -> Call:
        """Opens the story's incident: its severity by name, its type and services by slug, the rest
        as `actions.declare` takes it (title, summary, origin, detected_at, is_drill)."""
        if commander is not None:
            details["commander"] = commander.actor
        return self._call(
            "declare", severity=_severity(severity), incident_type=_incident_type(kind), services=_services(services), **details
        )

    def acknowledges(self) -> Call:
        return self._call("acknowledge")

    def assigns(self, holder: Player, role: str) -> Call:
        return self._call("assign_role", holder.actor, role)

    def notes(self, text: str) -> Call:
        return self._call("add_note", text)

    def updates(self, text: str, **status) -> Call:
        """An internal status update; `status=` moves the incident as well."""
        return self._call("post_update", text, **status)

    def updates_customers(self, text: str, **status) -> Call:
        """A status update customers read (external visibility)."""
        return self._call("post_update", text, visibility="external", **status)

    def moves_to(self, status: str, message: str) -> Call:
        return self._call("change_status", status, message=message)

    def changes_severity(self, name: str, reason: str) -> Call:
        return self._call("change_severity", _severity(name), reason=reason)

    def edits(self, *, services: list[str] | None = None, **details) -> Call:
        """Changes the incident's details (`actions.update_details`); affected services by slug."""
        if services is not None:
            details["services"] = _services(services)
        return self._call("update_details", **details)

    def links(self, url: str, title: str, kind: str = EvidenceLink.Kind.DASHBOARD) -> Call:
        return self._call("add_evidence", url, title=title, kind=kind)

    def ticks_off(self, task_start: str) -> Call:
        """Marks done the checklist task whose title starts with `task_start`."""
        return self._call("done", task_start)

    def resolves(self, summary: str, mitigation: str | None = None) -> Call:
        return self._call("resolve", summary=summary, mitigation=mitigation)

    def reopens(self, reason: str) -> Call:
        return self._call("reopen", reason=reason)

    def closes(self) -> Call:
        return self._call("close")

    def _call(self, verb: str, *args, **kwargs) -> Call:
        return Call(verb, args, {**kwargs, "actor": self.actor, "source": self.source})


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

    start: Start
    steps: tuple[Step, ...]
