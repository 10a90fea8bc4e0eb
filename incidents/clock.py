"""The time the actions stamp. Normally `timezone.now()`; `at()` replays history (demo data, imports)."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import datetime

from django.utils import timezone

_frozen: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("vigil_clock", default=None)


def now() -> datetime:
    return _frozen.get() or timezone.now()


@contextlib.contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Run the enclosed actions as if it were `moment` (must be time-zone aware)."""
    if timezone.is_naive(moment):
        raise ValueError("clock.at() needs an aware datetime")
    token = _frozen.set(moment)
    try:
        yield
    finally:
        _frozen.reset(token)
