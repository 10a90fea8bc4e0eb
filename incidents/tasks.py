"""Celery tasks of the incident core."""

from celery import shared_task
from django.conf import settings


@shared_task(
    acks_late=True,
    ignore_result=True,
    soft_time_limit=settings.VIGIL_ENGINE_TICK_SECONDS * 6,
    time_limit=settings.VIGIL_ENGINE_TICK_SECONDS * 8,
)
def tick_deadlines() -> int:
    """Beat's engine tick: fire the due deadlines. Safe to run twice at once (SKIP LOCKED)."""
    from incidents.engine import tick

    return tick().fired


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=50, time_limit=60)
def check_ingestion() -> int:
    """Beat's minute check of alert ingestion: declare an incident for each heartbeat whose ping
    is overdue (once per outage: the row goes down under its lock), and process alert events
    that were stored but never processed. Safe to run twice at once."""
    from incidents.ingest import check_heartbeats, sweep_unprocessed

    declared = check_heartbeats()
    sweep_unprocessed()
    return declared
