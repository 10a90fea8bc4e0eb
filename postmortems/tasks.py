"""Celery tasks of the post-mortems app."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=50, time_limit=60)
def send_due_reminders() -> int:
    """Beat's daily reminders of post-mortems and action items due soon or overdue. Safe to run
    twice (each reminder is claimed once per person and day); returns the events recorded."""
    from postmortems.reminders import send_due_reminders as send

    return send().events
