"""Heartbeats: jobs that must ping regularly. A missed ping declares an incident on the job's
service (beat's minute check); the next ping resolves it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction

from .. import actions, clock, formatting
from ..errors import DomainError
from ..models import Heartbeat, Incident, Service, SeverityLevel, Source
from .keys import create_with_key, default_severity, hash_key, is_plausible_key
from .maintenance import windows_at
from .parsing import TITLE_LIMIT

log = logging.getLogger(__name__)

# The rank of the incident a missed ping opens when the heartbeat names no severity.
MISSED_SEVERITY_RANK = 2


@transaction.atomic
def create_heartbeat(
    *, name: str, service: Service, interval_minutes: int = 60, grace_minutes: int = 5, severity: SeverityLevel | None = None,
    created_by=None,
) -> tuple[Heartbeat, str]:
    """A new heartbeat and its ping key (shown once)."""
    return create_with_key(
        Heartbeat, name=name, service=service, interval_minutes=interval_minutes, grace_minutes=grace_minutes,
        severity=severity, created_by=created_by,
    )


def ping(key: str) -> Heartbeat | None:
    """Record a ping; a heartbeat that was down is back: its outage incident is resolved."""
    if not is_plausible_key(key):
        return None
    with transaction.atomic():
        heartbeat = (
            Heartbeat.objects.select_for_update(of=("self",))
            .select_related("incident")
            .filter(key_hash=hash_key(key), is_active=True)
            .first()
        )
        if heartbeat is None:
            return None
        now = clock.now()
        was_down = heartbeat.state == Heartbeat.State.DOWN
        heartbeat.last_ping_at = now
        heartbeat.state = Heartbeat.State.UP
        fields = ["last_ping_at", "state"]
        if was_down:
            incident = heartbeat.incident
            if incident is not None and incident.is_open:
                silence = formatting.duration(now - heartbeat.down_since) if heartbeat.down_since else "a while"
                try:
                    with transaction.atomic():
                        actions.resolve(
                            incident, actor=None, source=Source.INTEGRATION, actor_label=f"Heartbeat {heartbeat.name}",
                            summary=f"Pings resumed at {now:%Y-%m-%d %H:%M} UTC after {silence} overdue.",
                        )
                except DomainError as exc:
                    log.info("Heartbeat %s is back; %s left as is: %s", heartbeat.pk, incident.reference, exc)
            heartbeat.incident, heartbeat.down_since = None, None
            fields += ["incident", "down_since"]
        heartbeat.save(update_fields=fields)
        return heartbeat


def overdue_heartbeats(now: datetime | None = None) -> list[int]:
    """Ids of heartbeats that are up and whose next ping is overdue (interval + grace)."""
    now = now or clock.now()
    rows = Heartbeat.objects.filter(
        is_active=True, state=Heartbeat.State.UP, last_ping_at__lt=now - timedelta(minutes=1)
    ).values_list("pk", "last_ping_at", "interval_minutes", "grace_minutes")
    return [pk for pk, last, interval, grace in rows if last + timedelta(minutes=interval + grace) < now]


def mark_missed(heartbeat_id: int) -> Incident | None:
    """Declare the outage of one overdue heartbeat — once: the row is locked and must still be up
    and overdue, and becomes down. During maintenance of its service it goes down quietly."""
    with transaction.atomic():
        heartbeat = (
            Heartbeat.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("service", "severity")
            .filter(pk=heartbeat_id, is_active=True, state=Heartbeat.State.UP)
            .first()
        )
        now = clock.now()
        if heartbeat is None or heartbeat.due_by is None or heartbeat.due_by >= now:
            return None
        heartbeat.state, heartbeat.down_since = Heartbeat.State.DOWN, heartbeat.due_by
        in_maintenance = windows_at(now, service=heartbeat.service).exists()
        incident = None
        if not in_maintenance:
            incident = actions.declare(
                title=f"Heartbeat missed: {heartbeat.name}"[:TITLE_LIMIT],
                severity=heartbeat.severity or default_severity(MISSED_SEVERITY_RANK),
                actor=None,
                source=Source.INTEGRATION,
                services=[heartbeat.service],
                summary=(
                    f"No ping from {heartbeat.name} since {heartbeat.last_ping_at:%Y-%m-%d %H:%M} UTC "
                    f"(expected every {heartbeat.interval_minutes} min, {heartbeat.grace_minutes} min grace)."
                ),
                origin=Incident.Origin.MONITORING,
                detected_at=heartbeat.due_by,
                actor_label=f"Heartbeat {heartbeat.name}",
            )
        heartbeat.incident = incident
        heartbeat.save(update_fields=["state", "down_since", "incident"])
        return incident


def check_heartbeats(now: datetime | None = None) -> int:
    """Beat's minute check: declare each newly missed heartbeat. Returns incidents declared."""
    declared = 0
    for pk in overdue_heartbeats(now):
        if mark_missed(pk) is not None:
            declared += 1
    return declared
