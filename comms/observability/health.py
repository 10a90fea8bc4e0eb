"""`/health`'s checks: the database, the cache, the broker, beat's engine tick, a worker's
heartbeat and the outbox's backlog. Each answers `{"status": "ok"}` or `{"status": "fail",
"reason": …}`; reasons name no host, address or secret (the page needs no authentication).

Redis can hang rather than refuse, so the cache and broker checks run in a small thread pool
while the database checks run in the request's thread, and /health waits at most
CHECK_TIMEOUT_SECONDS for them: it answers within about a second whatever is down."""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.utils import timezone

from comms.outbox import health as outbox_health
from incidents import engine
from incidents.models import EngineHeartbeat

logger = logging.getLogger(__name__)

# The worker heartbeat's row, next to the engine's own ("deadline-engine").
WORKER_HEARTBEAT = "worker"
# How long /health waits for the cache and the broker (each Redis call's socket timeout too).
CHECK_TIMEOUT_SECONDS = 1.0

# Two threads per check that may hang: a Redis that stopped answering holds them until its
# sockets time out; meanwhile further checks time out here and report it, and no threads pile up.
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="vigil-health")

OK = {"status": "ok"}


def fail(reason: str, **figures) -> dict:
    return {"status": "fail", "reason": reason, **figures}


def run_checks(now: dt.datetime | None = None) -> dict[str, dict]:
    """Every check's answer, by name, in a fixed order."""
    now = now or timezone.now()
    deadline = time.monotonic() + CHECK_TIMEOUT_SECONDS
    pending = {"cache": _pool.submit(check_cache), "broker": _pool.submit(check_broker)}
    results = {"database": check_database()}
    if results["database"]["status"] == "ok":
        results["engine"] = check_engine(now)
        results["worker"] = check_worker(now)
        results["outbox"] = check_outbox(now)
    else:
        skipped = fail("not checked: the database is unavailable")
        results.update(engine=skipped, worker=skipped, outbox=skipped)
    for name, future in pending.items():
        try:
            results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            results[name] = fail(f"no answer within {CHECK_TIMEOUT_SECONDS:g} s")
    order = ("database", "cache", "broker", "engine", "worker", "outbox")
    return {name: results[name] for name in order}


def _unreachable(what: str, exc: Exception) -> dict:
    # The exception's text often names the host and port: it goes to the log, not the answer.
    logger.warning("health: %s check failed: %s", what, exc)
    return fail(f"unreachable ({type(exc).__name__})")


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return _unreachable("database", exc)
    return OK


def check_cache() -> dict:
    """A value set in Django's cache reads back (Redis when REDIS_URL is set)."""
    cache = caches["default"]
    key, value = f"vigil:health:{uuid.uuid4().hex}", uuid.uuid4().hex
    try:
        cache.set(key, value, timeout=30)
        read = cache.get(key)
        cache.delete(key)
    except Exception as exc:  # redis-py's ConnectionError, TimeoutError…
        return _unreachable("cache", exc)
    return OK if read == value else fail("a value set in the cache did not read back")


def check_broker() -> dict:
    """Redis answers PING; the file-system broker's folder is writable; other transports are not
    checked (Vigil documents these two)."""
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS)
        try:
            client.ping()
        except Exception as exc:
            return _unreachable("broker", exc)
        finally:
            client.close()
        return OK
    if url.startswith("filesystem://"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", "")
        if folder and os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
            return OK
        return fail("the file-system broker's folder is missing or not writable")
    return {"status": "ok", "detail": "not checked for this transport"}


def check_engine(now: dt.datetime) -> dict:
    """Beat's engine tick is recent (VIGIL_ENGINE_STALE_AFTER_SECONDS)."""
    state = engine.health(now)
    if state["status"] == "never ran":
        return fail("the SLA engine has never ticked: is beat running?")
    age = state["seconds_since_last_tick"]
    if state["status"] != "ok":
        return fail(
            f"the SLA engine last ticked {age:.0f} s ago (stale after {settings.VIGIL_ENGINE_STALE_AFTER} s): "
            "beat or the paging queue's workers have stopped",
            seconds_since_last_tick=age,
        )
    return {**OK, "seconds_since_last_tick": age}


def record_worker_heartbeat(now: dt.datetime | None = None) -> None:
    """What the periodic heartbeat task does on a worker: one UPDATE (the first run inserts)."""
    now = now or timezone.now()
    if not EngineHeartbeat.objects.filter(name=WORKER_HEARTBEAT).update(last_tick_at=now):
        EngineHeartbeat.objects.get_or_create(name=WORKER_HEARTBEAT, defaults={"last_tick_at": now})


def check_worker(now: dt.datetime) -> dict:
    """A worker of the default queue ran the heartbeat task recently (VIGIL_WORKER_STALE_AFTER_SECONDS)."""
    beat = EngineHeartbeat.objects.filter(name=WORKER_HEARTBEAT).first()
    if beat is None:
        return fail("no worker has run the heartbeat task yet: are beat and a worker on the default queue running?")
    age = round((now - beat.last_tick_at).total_seconds(), 1)
    if age > settings.VIGIL_WORKER_STALE_AFTER:
        return fail(
            f"no worker has run the heartbeat task for {age:.0f} s (stale after {settings.VIGIL_WORKER_STALE_AFTER} s)",
            seconds_since_heartbeat=age,
        )
    return {**OK, "seconds_since_heartbeat": age}


def check_outbox(now: dt.datetime) -> dict:
    """No notification has waited past its due time for longer than VIGIL_HEALTH_OUTBOX_BACKLOG_SECONDS."""
    backlog = outbox_health(now)
    figures = {key: backlog[key] for key in ("overdue_notifications", "oldest_overdue_seconds", "undispatched_events")}
    oldest = backlog["oldest_overdue_seconds"] or 0
    if oldest > settings.VIGIL_HEALTH_OUTBOX_BACKLOG_SECONDS:
        return fail(
            f"{backlog['overdue_notifications']} notification(s) overdue, the oldest by {oldest:.0f} s "
            f"(allowed {settings.VIGIL_HEALTH_OUTBOX_BACKLOG_SECONDS} s): the workers are not keeping up",
            **figures,
        )
    return {**OK, **figures}
