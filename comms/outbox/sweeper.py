"""What beat's sweep and the admin queue again: events no task dispatched, rows that fell due
(delayed rules, throttles, retry backoff) or whose task was lost, and the admin's "resend";
and the backlog `/api/v1/health` reports."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from incidents.models import TimelineEvent

from ..models import Notification

Status = Notification.Status


def due_for_enqueue(now=None, limit: int = 1000) -> list[tuple[int, bool]]:
    """Pending rows that are due and that no live task holds: (id, is_page). Marks them enqueued."""
    now = now or timezone.now()
    grace = now - dt.timedelta(seconds=settings.VIGIL_OUTBOX_GRACE_SECONDS)
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=Status.PENDING, send_after__lte=now)
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
            # Never enqueued; enqueued but no task took it within the grace period; or enqueued
            # before it fell due again (a throttle or a retry backoff moved it).
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=grace) | Q(enqueued_at__lt=F("send_after")))
            .order_by("send_after")
            .values_list("pk", "is_page")[:limit]
        )
        if rows:
            Notification.objects.filter(pk__in=[pk for pk, _ in rows]).update(enqueued_at=now)
    return rows


def undispatched_events(now=None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    grace = now - dt.timedelta(seconds=settings.VIGIL_OUTBOX_GRACE_SECONDS)
    return list(
        TimelineEvent.objects.filter(dispatched_at__isnull=True, occurred_at__lte=grace)
        .order_by("occurred_at")
        .values_list("pk", flat=True)[:limit]
    )


def mark_enqueued(ids: list[int]) -> None:
    if ids:
        Notification.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())


def resend(queryset) -> int:
    """The admin's "resend". A failed or suppressed notification is retried from scratch; a
    sent one is copied into a new row (the first delivery stays on record). Pending rows are
    left to their task. Returns how many were queued."""
    now = timezone.now()
    queued = []
    with transaction.atomic():
        for row in queryset.exclude(status=Status.PENDING).select_for_update():
            if row.status == Status.SENT:
                row.pk, row.key = None, f"{row.key}:resent:{now.timestamp():.6f}"[:200]
                row.status, row.sent_at, row.provider_id, row.bundled_into_id = Status.PENDING, None, "", None
                row.created_at = now
            row.status, row.send_after, row.locked_until, row.enqueued_at = Status.PENDING, now, None, None
            row.attempts, row.last_error = 0, ""
            row.save()
            queued.append((row.pk, row.is_page))
    from .. import tasks

    transaction.on_commit(lambda: tasks.enqueue_deliveries(queued))
    return len(queued)


def page_ids(ids: list[int]) -> list[int]:
    return list(Notification.objects.filter(pk__in=ids, is_page=True).values_list("pk", flat=True)) if ids else []


def health(now=None) -> dict:
    """The outbox's backlog for /api/v1/health: messages overdue for sending (due longer than
    the grace period ago and still pending: workers or the sweeper are not keeping up),
    events not yet dispatched past the grace period, and failures in the last 24 hours."""
    now = now or timezone.now()
    grace = now - dt.timedelta(seconds=settings.VIGIL_OUTBOX_GRACE_SECONDS)
    overdue = Notification.objects.filter(status=Status.PENDING, send_after__lt=grace)
    oldest = overdue.order_by("send_after").values_list("send_after", flat=True).first()
    stuck_events = TimelineEvent.objects.filter(dispatched_at__isnull=True, occurred_at__lt=grace).count()
    return {
        "status": "backlog" if oldest or stuck_events else "ok",
        "overdue_notifications": overdue.count(),
        "oldest_overdue_seconds": round((now - oldest).total_seconds(), 1) if oldest else None,
        "undispatched_events": stuck_events,
        "failed_last_24h": Notification.objects.filter(status=Status.FAILED, created_at__gte=now - dt.timedelta(days=1)).count(),
    }
