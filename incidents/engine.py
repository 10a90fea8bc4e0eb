"""The deadline engine: fire what is due, in small batches, safely alongside other ticks.

Each tick selects due, pending deadlines with `SELECT … FOR UPDATE SKIP LOCKED`, locking the
incident rows with them, so concurrent ticks (two beats, a re-run after a crash) split the
work instead of repeating it; each batch is fired by `firing.fire_due_batch` (or, if it
fails, deadline by deadline through `firing.fire_deadline`), which re-checks that a row is
still pending. Cost grows with the number of due deadlines, not with open incidents: the
query walks the partial index on pending `due_at`.
"""

from __future__ import annotations

import dataclasses
import logging
import time

from django.conf import settings
from django.db import transaction

from . import clock, deadlines, firing
from .models import Deadline, EngineHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT = "deadline-engine"


@dataclasses.dataclass
class TickResult:
    fired: int = 0
    failed: int = 0
    max_lag_seconds: float = 0.0
    seconds: float = 0.0


def _due_batch(now, size: int, cache: deadlines.PlanCache) -> list[Deadline]:
    batch = list(
        Deadline.objects.filter(fired_at=None, cancelled_at=None, due_at__lte=now)
        .select_related("incident")
        .select_for_update(of=("self", "incident"), skip_locked=True)
        .order_by("due_at")[:size]
    )
    cache.attach([row.incident for row in batch])
    return batch


def tick(*, batch_size: int | None = None, max_batches: int | None = None) -> TickResult:
    """Fire every deadline due now. One transaction per batch, written in a few statements
    (`firing.fire_due_batch`); if a batch fails, its deadlines are fired one by one so a bad
    one is logged and retried next tick without blocking the rest."""
    batch_size = batch_size or settings.VIGIL_ENGINE_BATCH_SIZE
    max_batches = max_batches or settings.VIGIL_ENGINE_MAX_BATCHES
    started = time.monotonic()
    result = TickResult()
    now = clock.now()
    cache = deadlines.PlanCache()  # severities, policies and their levels, read once per tick
    for _ in range(max_batches):
        with transaction.atomic():
            batch = _due_batch(now, batch_size, cache)
            if not batch:
                break
            try:
                with transaction.atomic():
                    fired = firing.fire_due_batch(batch, cache=cache)
            except Exception:
                # One bad deadline must not hold up the others: fire the batch one by one,
                # each in its own savepoint, and leave the failing ones for the next tick.
                logger.exception("engine batch of %d failed; firing one by one", len(batch))
                fired = []
                for deadline in batch:
                    try:
                        row = firing.fire_deadline(deadline)
                    except Exception:
                        result.failed += 1
                        logger.exception("deadline %s of incident %s failed to fire", deadline.pk, deadline.incident_id)
                    else:
                        if row.fired_at is not None:
                            fired.append(row)
            fired_at = clock.now()
            for deadline in fired:
                result.fired += 1
                result.max_lag_seconds = max(result.max_lag_seconds, (fired_at - deadline.due_at).total_seconds())
        if len(batch) < batch_size:
            break
    result.seconds = time.monotonic() - started
    beat = {
        "last_tick_at": clock.now(),
        "last_tick_seconds": result.seconds,
        "last_fired": result.fired,
        "last_lag_seconds": result.max_lag_seconds,
    }
    # One UPDATE per tick; the row is created by the very first tick only.
    if not EngineHeartbeat.objects.filter(name=HEARTBEAT).update(**beat):
        EngineHeartbeat.objects.get_or_create(name=HEARTBEAT, defaults=beat)
    if result.fired or result.failed:
        logger.info("engine tick fired %d deadline(s), %d failed, max lag %.2fs", result.fired, result.failed, result.max_lag_seconds)
    return result


def health(now=None) -> dict:
    """Whether beat and the workers are alive: the last tick must be recent."""
    now = now or clock.now()
    beat = EngineHeartbeat.objects.filter(name=HEARTBEAT).first()
    if beat is None:
        return {"status": "never ran", "last_tick_at": None}
    age = (now - beat.last_tick_at).total_seconds()
    stale = age > settings.VIGIL_ENGINE_STALE_AFTER
    return {
        "status": "stale" if stale else "ok",
        "last_tick_at": beat.last_tick_at.isoformat(),
        "seconds_since_last_tick": round(age, 1),
        "last_tick_seconds": round(beat.last_tick_seconds, 3),
        "last_fired": beat.last_fired,
        "last_lag_seconds": round(beat.last_lag_seconds, 3),
    }
