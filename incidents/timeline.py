"""Appending to an incident's timeline: the event log every action writes, and the reactions
that run after each append."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from django.db import transaction

from . import clock
from .models import Incident, Source, TimelineEvent

Kind = TimelineEvent.Kind
Visibility = TimelineEvent.Visibility

When = Literal["in_transaction", "after_commit"]


# --- Reactions --------------------------------------------------------------------------------
#
# After incident events are recorded, these reactions run, in registration order, each with the
# list of saved events (primary keys set):
# - "in_transaction": at once, inside the writing transaction, so what it writes commits or rolls
#   back with the action (postmortems opens a post-mortem on resolve);
# - "after_commit": once that transaction commits, never if it rolls back (comms enqueues the
#   dispatch of the notifications).
# Higher layers register theirs in `AppConfig.ready()`, one line per reaction: `incidents` never
# imports them. `registered()` lists them; tests/test_layering.py pins the list.


@dataclass(frozen=True)
class Reaction:
    name: str
    function: Callable[[list[TimelineEvent]], None]
    when: When

    @property
    def app(self) -> str:
        return self.function.__module__.split(".")[0]


reactions: list[Reaction] = []


def react(name: str, function: Callable[[list[TimelineEvent]], None], *, when: When = "in_transaction") -> None:
    """Run `function(events)` after every append, at `when`. Registering a name again replaces
    the earlier reaction in place (an app's `ready()` may run twice in tests)."""
    if when not in ("in_transaction", "after_commit"):
        raise ValueError(f"A reaction runs 'in_transaction' or 'after_commit', not {when!r}.")
    reaction = Reaction(name, function, when)
    for index, existing in enumerate(reactions):
        if existing.name == name:
            reactions[index] = reaction
            return
    reactions.append(reaction)


def registered() -> list[tuple[str, str, str]]:
    """(name, app, when) of every reaction, in the order they run."""
    return [(reaction.name, reaction.app, reaction.when) for reaction in reactions]


def _react(events: list[TimelineEvent]) -> None:
    for reaction in reactions:
        if reaction.when == "after_commit":
            transaction.on_commit(partial(reaction.function, events))
        else:
            reaction.function(events)


# --- Recording --------------------------------------------------------------------------------


def build(
    incident: Incident,
    kind: str,
    message: str,
    *,
    actor=None,
    source: str = Source.SYSTEM,
    data: dict[str, Any] | None = None,
    visibility: str = Visibility.INTERNAL,
) -> TimelineEvent:
    """An event not yet saved (see `record_many`)."""
    return TimelineEvent(
        incident=incident,
        kind=kind,
        occurred_at=clock.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        source=source,
        message=message,
        data=data or {},
        visibility=visibility,
    )


def record(incident: Incident, kind: str, message: str, **fields: Any) -> TimelineEvent:
    """Append one event. Called only from inside an action's transaction."""
    event = build(incident, kind, message, **fields)
    event.save(force_insert=True)
    _react([event])
    return event


def record_many(events: list[TimelineEvent]) -> list[TimelineEvent]:
    """Append several built events in one statement, in order (the engine's batches)."""
    saved = TimelineEvent.objects.bulk_create(events)
    if saved:
        _react(saved)
    return saved
