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
