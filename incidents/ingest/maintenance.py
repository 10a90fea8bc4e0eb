"""Maintenance windows: planned work on a service, during which its alerts open no incident."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet

from .. import clock
from ..errors import InvalidInput
from ..models import MaintenanceWindow, Service


def windows_at(now: datetime, *, service) -> QuerySet[MaintenanceWindow]:
    """The windows covering `now` on a service (a `Service`, or an `OuterRef` to one in a subquery)."""
    return MaintenanceWindow.objects.filter(service=service, starts_at__lte=now, ends_at__gt=now)


def schedule_maintenance(
    service: Service, *, reason: str, starts_at: datetime | None = None, ends_at: datetime | None = None,
    duration_minutes: int | None = None, created_by=None,
) -> MaintenanceWindow:
    """A maintenance window on a service: its triggers are logged as suppressed meanwhile."""
    now = clock.now()
    starts_at = starts_at or now
    if (ends_at is None) == (duration_minutes is None):
        raise InvalidInput("Give either ends_at or duration_minutes.")
    ends_at = ends_at or starts_at + timedelta(minutes=duration_minutes)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why (the reason is shown on suppressed alerts).")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("Give times with a time zone (e.g. 2026-05-01T22:00:00Z).")
    if ends_at <= starts_at:
        raise InvalidInput("The window must end after it starts.")
    if ends_at <= now:
        raise InvalidInput("The window is entirely in the past.")
    return MaintenanceWindow.objects.create(
        service=service, starts_at=starts_at, ends_at=ends_at, reason=reason[:300],
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
