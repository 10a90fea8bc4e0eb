"""The incident lifecycle: which status may follow which, and the action that takes each step.

    triggered → investigating → identified → monitoring → resolved → closed
                      ↑______________|___________|            |
                      └──────────── reopen ───────────────────┘

Working statuses (investigating, identified, monitoring) may move among themselves in any
order; leaving `triggered` for any of them acknowledges the incident. `resolved` is reached
only through `resolve`, `closed` only through `close`, and `resolved → investigating` is a
reopen. `closed` is final. Nothing ever returns to `triggered`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .errors import IllegalTransition
from .formatting import duration
from .models import Incident, Status

WORKING = (Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING)

# (from, to) → the action that performs that step.
TRANSITIONS: dict[tuple[Status, Status], str] = {
    **{(Status.TRIGGERED, to): "acknowledge" for to in WORKING},
    (Status.TRIGGERED, Status.RESOLVED): "resolve",
    **{(a, b): "change_status" for a in WORKING for b in WORKING if a != b},
    **{(a, Status.RESOLVED): "resolve" for a in WORKING},
    (Status.RESOLVED, Status.INVESTIGATING): "reopen",
    (Status.RESOLVED, Status.CLOSED): "close",
}


def allowed_targets(current: str) -> list[Status]:
    return [to for (frm, to) in TRANSITIONS if frm == current]


def require(reference: str, current: str, target: str) -> str:
    """Return the action that takes `current → target`, or raise IllegalTransition saying why not."""
    try:
        return TRANSITIONS[(Status(current), Status(target))]
    except KeyError:
        pass
    current_label, target_label = Status(current).label.lower(), Status(target).label.lower()
    if current == target:
        raise IllegalTransition(f"{reference} is already {current_label}.")
    if current == Status.CLOSED:
        raise IllegalTransition(f"{reference} is closed; a closed incident cannot change. Declare a new incident.")
    if current == Status.RESOLVED:
        raise IllegalTransition(f"{reference} is resolved; reopen it first.")
    if target == Status.TRIGGERED:
        raise IllegalTransition(f"{reference} cannot go back to triggered once it is being worked.")
    if target == Status.CLOSED:
        raise IllegalTransition(f"{reference} is {current_label}; resolve it before closing.")
    raise IllegalTransition(f"{reference} cannot move from {current_label} to {target_label}.")


# What else must be true before an incident closes, registered by higher layers that
# `incidents` cannot import (postmortems: "its post-mortem is published"). A guard returns
# why the incident may not close yet, or None. `actions.close` asks each one.
close_guards: list[Callable[[Incident], str | None]] = []


def closable_from(incident: Incident) -> datetime:
    """When a resolved incident's observation period (its severity's) is over."""
    return incident.resolved_at + incident.severity.observation_period


def close_refusal(incident: Incident, now: datetime) -> str | None:
    """Why the resolved `incident` may not close at `now` — still under observation, or the first
    registered guard's refusal — or None. `actions.close` refuses with it; the incident page offers
    its Close button only when it is None."""
    watch_until = closable_from(incident)
    if now < watch_until:
        return (
            f"{incident.reference} is under observation until {watch_until:%Y-%m-%d %H:%M} UTC "
            f"({incident.severity.name} is watched for {duration(incident.severity.observation_period)} after resolution)."
        )
    for guard in close_guards:
        refusal = guard(incident)
        if refusal:
            return refusal
    return None
