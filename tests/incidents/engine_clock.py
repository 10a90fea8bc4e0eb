"""The engine tests' clock: T0, a Tuesday morning inside the default working hours
(Mon–Fri 09:00–17:00 UTC), and the engine ticking minute by minute after it."""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import time_machine

from incidents import engine

T0 = datetime(2026, 3, 3, 10, 0, tzinfo=dt_timezone.utc)


def at(minute: float):
    """The clock stopped `minute` minutes after T0 (a context manager)."""
    return time_machine.travel(T0 + timedelta(minutes=minute), tick=False)


def run(first: int, last: int) -> None:
    """The engine ticking every minute from `first` to `last` (inclusive) after T0."""
    for minute in range(first, last + 1):
        with at(minute):
            engine.tick()
