"""Celery tasks of the outbox. Every task re-reads the database and is idempotent; publishing
is best-effort (a broker that is down is logged, and beat's sweeper finds the work later)."""

from __future__ import annotations

import logging
import os

from celery import current_app, shared_task
from django.conf import settings

from . import outbox

log = logging.getLogger(__name__)

# Outside a worker — a web request, a management command — queueing a task may cost at most
# about this long when the broker is down, refuses, or never answers: one connection attempt
# and no retries (Celery's own default waits through retries for ~6 s). What could not be
# queued is found by the outbox sweeper within VIGIL_OUTBOX_GRACE_SECONDS.
PUBLISH_TIMEOUT_SECONDS = 0.2


def _publish(task, *args) -> bool:
    """Queue a task without retrying the broker: the caller has committed its data already,
    and the sweeper is the safety net. Never raises."""
    try:
        if current_app.current_worker_task is not None:
            # Inside a task: Celery's own pooled connection (no person is waiting on it).
            task.apply_async(args=args, retry=False)
            return True
        with _bounded_connections().acquire(block=True, timeout=PUBLISH_TIMEOUT_SECONDS) as connection:
            try:
                task.apply_async(args=args, retry=False, connection=connection)
            except Exception:
                connection.collect()  # never hand out a broken connection: the next use connects afresh
                raise
        return True
    except Exception as exc:  # kombu OperationalError, a refused connection, a timeout, a DNS failure…
        log.warning("Could not queue %s%r (%s); the outbox sweeper will pick it up", task.name, args, exc)
        return False


_POOLS: dict[tuple[int, str], object] = {}


def _bounded_connections():
    """This process's pool of connections for publishing outside a worker: a short connect and
    socket timeout, and no connection retries. Per process id, so a forked web worker never
    shares its parent's sockets; per broker URL, which Celery reads from the environment first."""
    url = current_app.conf.broker_url
    key = (os.getpid(), url)
    pool = _POOLS.get(key)
    if pool is None:
        options = {"max_retries": 0}
        if url.startswith(("redis://", "rediss://")):
            options.update(socket_connect_timeout=PUBLISH_TIMEOUT_SECONDS, socket_timeout=PUBLISH_TIMEOUT_SECONDS)
        connection = current_app.connection_for_write(connect_timeout=PUBLISH_TIMEOUT_SECONDS, transport_options=options)
        pool = _POOLS[key] = connection.Pool(limit=current_app.conf.broker_pool_limit or 10)
    return pool


def enqueue_dispatch(event_ids: list[int]) -> None:
    """After the commit that wrote these timeline events."""
    if event_ids:
        _publish(dispatch_events, list(event_ids))


# Messages that are not pages travel in batches: one task sends up to this many (one SMTP
# connection, a few statements), so a fan-out to thousands is a few hundred tasks, not thousands.
BATCH = 50


def enqueue_deliveries(rows: list[tuple[int, bool]]) -> None:
    """Queue delivery of (notification id, is page) rows: each page on its own task on the
    paging queue; the rest in batches on the default queue."""
    rest = []
    for pk, is_page in rows:
        if is_page:
            _publish(deliver_page, pk)
        else:
            rest.append(pk)
    for start in range(0, len(rest), BATCH):
        _publish(deliver_batch, rest[start : start + BATCH])


@shared_task(name="comms.tasks.dispatch_events")
def dispatch_events(event_ids: list[int]) -> int:
    due = outbox.dispatch_events(event_ids)
    outbox.mark_enqueued(due)
    pages = set(outbox.page_ids(due))
    enqueue_deliveries([(pk, pk in pages) for pk in due])
    return len(due)


@shared_task(name="comms.tasks.deliver_batch")
def deliver_batch(notification_ids: list[int]) -> dict:
    outcomes = outbox.deliver_many(notification_ids)
    return {outcome: sum(1 for o in outcomes.values() if o == outcome) for outcome in set(outcomes.values())}


@shared_task(name="comms.tasks.deliver_page")
def deliver_page(notification_id: int) -> str:
    """One page, on its own task on the paging queue (settings.CELERY_TASK_ROUTES), so a page
    never waits behind a batch of status updates."""
    return outbox.deliver(notification_id)


@shared_task(name="comms.tasks.sweep_outbox")
def sweep_outbox() -> dict:
    """Beat: dispatch events that were never dispatched and queue notifications that are due
    (delayed rules, throttles, retries) or whose task was lost."""
    events = outbox.undispatched_events()
    if events:
        log.warning("Dispatching %d timeline events no task picked up", len(events))
        dispatch_events(events)
    rows = outbox.due_for_enqueue()
    enqueue_deliveries(rows)
    return {"events": len(events), "notifications": len(rows), "grace": settings.VIGIL_OUTBOX_GRACE_SECONDS}


@shared_task(name="comms.tasks.worker_heartbeat", ignore_result=True, soft_time_limit=10, time_limit=15)
def worker_heartbeat() -> None:
    """Beat, every VIGIL_WORKER_HEARTBEAT_SECONDS on the default queue: a worker answered (/health's "worker")."""
    from .observability.health import record_worker_heartbeat

    record_worker_heartbeat()


@shared_task(name="comms.tasks.send_due_reports", ignore_result=True)
def send_due_reports() -> int:
    """Beat: find the scheduled reports due now and queue one task per report."""
    from django.utils import timezone

    from .reports import sending

    found = sending.due(timezone.now())
    for pk, run in found:
        _publish(send_report, pk, run.start.isoformat(), run.end.isoformat())
    return len(found)


@shared_task(name="comms.tasks.send_report", ignore_result=True, acks_late=True)
def send_report(subscription_id: int, start: str, end: str) -> int:
    """Claim one report period and write its messages (nothing if it was claimed already)."""
    import datetime as dt

    from .reports import sending

    run = sending.send_scheduled(subscription_id, dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end))
    return run.notifications if run else 0


# --- The war room (comms/warroom/) ----------------------------------------------------------------
# On the default queue (never the paging one): a slow chat provider must not delay a page. Each
# task claims its room under a lock and is idempotent; what a lost task leaves, the sweeper finds.


def enqueue_war_room(task_name: str, incident_ids) -> None:
    task = {"open": open_war_room, "invite": invite_to_war_room, "archive": archive_war_room}[task_name]
    for pk in incident_ids:
        _publish(task, pk)


@shared_task(name="comms.tasks.open_war_room", acks_late=True)
def open_war_room(incident_id: int) -> str:
    from .warroom import rooms

    return rooms.open_room(incident_id)


@shared_task(name="comms.tasks.invite_to_war_room", acks_late=True)
def invite_to_war_room(incident_id: int) -> int:
    from .warroom import rooms

    return rooms.invite(incident_id)


@shared_task(name="comms.tasks.archive_war_room", acks_late=True)
def archive_war_room(incident_id: int) -> str:
    from .warroom import rooms

    return rooms.archive_room(incident_id)


@shared_task(name="comms.tasks.sweep_war_rooms", ignore_result=True)
def sweep_war_rooms() -> dict:
    """Beat: queue the war rooms due to open (retries, lost tasks), with people to invite, or due
    to be archived — one task per incident."""
    from .warroom import rooms

    found = rooms.due()
    for kind, ids in found.items():
        enqueue_war_room(kind, ids)
    return {kind: len(ids) for kind, ids in found.items()}
