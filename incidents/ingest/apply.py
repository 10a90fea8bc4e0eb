"""Applying an accepted event: it is stored in the alert log and triggers, joins, acknowledges or
resolves its incident, in one transaction (the package's docstring says why)."""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction

from oncall.copying import same_named

from .. import actions, clock
from ..errors import DomainError
from ..models import OPEN_STATUSES, AlertEvent, AlertGroup, Incident, Integration, Source
from .keys import severity_for, with_maintenance_until
from .parsing import TITLE_LIMIT, Action, Event

log = logging.getLogger(__name__)

EventStatus = AlertEvent.Status
# What the alert log keeps of an event under the same name (`Event.logged` reads them back).
_LOGGED = ("dedup_key", "action", "summary", "source", "severity")


def _new_alert(integration: Integration, event: Event, payload, format: str) -> AlertEvent:
    """The alert-log row of an accepted event, received now and not yet saved."""
    return AlertEvent(
        integration=integration, received_at=clock.now(), format=format, payload=payload, **same_named(event, _LOGGED),
    )


def receive(integration: Integration, event: Event, payload, *, format: str = AlertEvent.Format.EVENTS_V2) -> AlertEvent:
    """Commit the event to the alert log as received (autocommit: one INSERT, durable at once)."""
    alert = _new_alert(integration, event, payload, format)
    alert.save(force_insert=True)
    return alert


def ingest(integration: Integration, event: Event, payload, *, format: str = AlertEvent.Format.EVENTS_V2) -> AlertEvent:
    """Store the event and apply it, in one transaction: the alert-log row commits with its
    effect (one WAL flush per event — a commit costs ~3.5 ms on the reference machine against
    ~0.2 ms for a round trip, so a separate commit for the row would halve throughput). If
    applying fails, that transaction is rolled back and the event is stored on its own as
    `failed`, with the error, to be processed again from the admin: every accepted event has
    its row. Database errors propagate: the API answers 503 and the sender retries."""
    return _apply(_new_alert(integration, event, payload, format), integration, event)


class _AlreadyProcessed(Exception):
    """Someone else processed this event meanwhile: roll back what we did."""


def process(alert: AlertEvent, *, integration: Integration | None = None, event: Event | None = None) -> AlertEvent:
    """Apply an event already in the log as `received` (the sweeper, the admin's retry). Safe to
    call twice: only the first to mark it processed commits."""
    integration = integration or with_maintenance_until(clock.now()).get(pk=alert.integration_id)
    event = event or Event.logged(alert)
    return _apply(alert, integration, event)


def _apply(alert: AlertEvent, integration: Integration, event: Event) -> AlertEvent:
    new = alert.pk is None
    try:
        if event.action == Action.TRIGGER:
            _trigger(alert, integration, event)
        else:
            _acknowledge_or_resolve(alert, integration, event)
    except _AlreadyProcessed:
        pass
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:  # a bug or a refusal we did not expect: keep the event, say why
        log.exception("Alert event %s (%s %s) could not be processed", alert.pk or "(new)", event.action, event.dedup_key)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        now = clock.now()
        if new:
            alert.pk, alert._state.adding = None, True  # its transaction was rolled back
            alert.status, alert.error, alert.outcome, alert.incident, alert.processed_at = EventStatus.FAILED, error, "", None, now
            alert.save(force_insert=True)
        else:
            AlertEvent.objects.filter(pk=alert.pk, status=EventStatus.RECEIVED).update(
                status=EventStatus.FAILED, error=error, processed_at=now
            )
            alert.status, alert.error = EventStatus.FAILED, error
    return alert


def _mark(alert: AlertEvent, status: str, outcome: str, incident: Incident | None = None) -> None:
    """Write the event with its outcome in the transaction that applied it: a new event is
    inserted; a stored one is updated only if still `received` — if another process got there
    first, ours is undone."""
    now = clock.now()
    if alert.pk is None:
        alert.status, alert.outcome, alert.incident, alert.processed_at = status, outcome[:200], incident, now
        alert.save(force_insert=True)
        return
    done = AlertEvent.objects.filter(pk=alert.pk, status=EventStatus.RECEIVED).update(
        status=status, outcome=outcome[:200], incident=incident, processed_at=now, error=""
    )
    if not done:
        raise _AlreadyProcessed
    alert.status, alert.outcome, alert.incident, alert.processed_at = status, outcome[:200], incident, now


def _label(integration: Integration) -> str:
    return f"{integration.name} (integration)"


def _open_group(integration: Integration, dedup_key: str) -> AlertGroup | None:
    """The open group for this key, locked, with its incident; a group whose incident someone
    resolved meanwhile is closed on the way (the next trigger opens a new incident)."""
    group = (
        AlertGroup.objects.select_for_update(of=("self",))
        .select_related("incident")
        .filter(integration=integration, dedup_key=dedup_key, closed_at=None)
        .first()
    )
    if group is not None and (group.incident is None or not group.incident.is_open):
        group.closed_at = clock.now()
        group.save(update_fields=["closed_at"])
        return None
    return group


def _trigger(alert: AlertEvent, integration: Integration, event: Event) -> None:
    if integration.maintenance_until is not None:
        until = f"{integration.maintenance_until:%Y-%m-%d %H:%M} UTC"
        with transaction.atomic():
            _mark(alert, EventStatus.SUPPRESSED, f"{integration.service} is in maintenance until {until}: no incident, no page")
        return
    new = alert.pk is None
    if new and _join_quietly(alert, integration, event):
        return
    # Exactly one incident per open key: claim the group row first (a partial unique index);
    # a concurrent claimer waits for ours to commit, fails, and joins on the next attempt.
    for attempt in range(5):
        try:
            with transaction.atomic():
                group = _open_group(integration, event.dedup_key)
                if group is not None:
                    _join(alert, integration, event, group)
                    return
                now = clock.now()
                group = AlertGroup.objects.create(
                    integration=integration, dedup_key=event.dedup_key, opened_at=now, last_alert_at=now, last_noted_at=now
                )
                incident = _declare(integration, event)
                group.incident = incident
                group.save(update_fields=["incident"])
                _mark(alert, EventStatus.PROCESSED, f"Declared {incident.reference}", incident)
                return
        except IntegrityError:
            if new:  # rolled back with everything else; insert it on the next attempt
                alert.pk, alert._state.adding = None, True
            if attempt == 4:
                raise


def _declare(integration: Integration, event: Event) -> Incident:
    title = event.summary if len(event.summary) <= TITLE_LIMIT else event.summary[: TITLE_LIMIT - 1] + "…"
    lines = [f"Opened by the {integration.name} integration from a monitoring alert (dedup key {event.dedup_key})."]
    if event.source:
        lines.append(f"Source: {event.source}")
    lines += [f"{name.title()}: {value}" for name, value in event.details.items() if isinstance(value, str)]
    if len(event.summary) > TITLE_LIMIT:
        lines.append(f"Alert: {event.summary}")
    now = clock.now()
    detected = event.detected_at if event.detected_at and event.detected_at <= now else None
    return actions.declare(
        title=title or "Monitoring alert",
        severity=severity_for(integration, event.severity),
        actor=None,
        source=Source.INTEGRATION,
        services=[integration.service],
        summary="\n".join(lines),
        origin=Incident.Origin.MONITORING,
        detected_at=detected,
        actor_label=_label(integration),
    )


_QUIET_JOIN = f"""
    WITH joined AS (
        UPDATE {AlertGroup._meta.db_table} AS g
        SET alert_count = g.alert_count + 1, last_alert_at = %(now)s
        FROM {Incident._meta.db_table} AS i
        WHERE g.integration_id = %(integration)s AND g.dedup_key = %(dedup_key)s AND g.closed_at IS NULL
          AND g.last_noted_at > %(note_due)s AND i.id = g.incident_id AND i.status = ANY(%(open)s)
        RETURNING g.incident_id, g.alert_count, i.number
    )
    INSERT INTO {AlertEvent._meta.db_table} (
        integration_id, received_at, format, payload, dedup_key, action, summary, source, severity,
        status, outcome, error, processed_at, incident_id
    )
    SELECT %(integration)s, %(received_at)s, %(format)s, %(payload)s::jsonb, %(dedup_key)s, %(action)s, %(summary)s,
        %(source)s, %(severity)s, %(status)s, 'Joined INC-' || number || ' (alert ' || alert_count || ')', '', %(now)s,
        incident_id
    FROM joined
    RETURNING id, incident_id, outcome
"""


def _join_quietly(alert: AlertEvent, integration: Integration, event: Event) -> bool:
    """The common case of a noisy alert — a repeat joining an open group whose incident is open
    and whose timeline note is not due — as one statement on PostgreSQL: the group's count goes
    up and the event's row is inserted (`outcome` as `_join` words it, `Incident.reference` being
    INC-<number>), both committed by that statement alone. Raw SQL because the ORM's way (lock
    the group, fetch the incident, update, insert: five round trips, query compilation and model
    instances) cost ~5x the time of the work itself. False when it does not apply (no open group,
    incident closed, a note due, another database): the general path below decides."""
    if connection.vendor != "postgresql":
        return False
    now = clock.now()
    params = {
        "now": now, "integration": integration.pk, "dedup_key": event.dedup_key,
        "note_due": now - timedelta(seconds=settings.VIGIL_ALERT_REPEAT_NOTE_SECONDS),
        "open": [str(status) for status in OPEN_STATUSES], "received_at": alert.received_at, "format": alert.format,
        "payload": json.dumps(alert.payload), "action": alert.action, "summary": alert.summary, "source": alert.source,
        "severity": alert.severity, "status": EventStatus.PROCESSED,
    }
    # Under autocommit the statement is its own transaction (no BEGIN/COMMIT round trips);
    # inside someone's transaction, a savepoint keeps a failure from aborting theirs.
    with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
        with connection.cursor() as cursor:
            cursor.execute(_QUIET_JOIN, params)
            row = cursor.fetchone()
    if row is None:
        return False
    alert.pk, alert.incident_id, alert.outcome = row
    alert.status, alert.processed_at, alert._state.adding = EventStatus.PROCESSED, now, False
    return True


def _join(alert: AlertEvent, integration: Integration, event: Event, group: AlertGroup) -> None:
    """A repeat of an open alert: counted on its group; said on the timeline at most once per
    VIGIL_ALERT_REPEAT_NOTE_SECONDS (a flapping check must not flood the timeline or the pager)."""
    now = clock.now()
    group.alert_count += 1
    group.last_alert_at = now
    fields = ["alert_count", "last_alert_at"]
    quiet = timedelta(seconds=settings.VIGIL_ALERT_REPEAT_NOTE_SECONDS)
    incident = group.incident
    if now - group.last_noted_at >= quiet:
        repeats = group.alert_count - group.noted_count
        actions.add_note(
            incident,
            f"Alert repeated {repeats} time{'s' if repeats != 1 else ''} since "
            f"{group.last_noted_at:%H:%M} UTC ({group.alert_count} in all) via {integration.name}: {event.summary}",
            actor=None,
            source=Source.INTEGRATION,
        )
        group.last_noted_at, group.noted_count = now, group.alert_count
        fields += ["last_noted_at", "noted_count"]
    AlertGroup.objects.filter(pk=group.pk).update(**{name: getattr(group, name) for name in fields})
    _mark(alert, EventStatus.PROCESSED, f"Joined {incident.reference} (alert {group.alert_count})", incident)


def _acknowledge_or_resolve(alert: AlertEvent, integration: Integration, event: Event) -> None:
    with transaction.atomic():
        group = _open_group(integration, event.dedup_key)
        if group is None:
            _mark(alert, EventStatus.PROCESSED, f"No open incident for this dedup key: nothing to {event.action}")
            return
        incident = group.incident
        try:
            with transaction.atomic():
                if event.action == Action.ACKNOWLEDGE:
                    if incident.round_acknowledged_at is not None:
                        _mark(alert, EventStatus.PROCESSED, f"{incident.reference} was already acknowledged", incident)
                        return
                    actions.acknowledge(incident, actor=None, source=Source.INTEGRATION, actor_label=_label(integration))
                    outcome = f"Acknowledged {incident.reference}"
                else:
                    actions.resolve(incident, actor=None, source=Source.INTEGRATION, actor_label=_label(integration))
                    group.closed_at = clock.now()
                    group.save(update_fields=["closed_at"])
                    outcome = f"Resolved {incident.reference}"
        except DomainError as exc:  # the lifecycle refused (e.g. already resolved): nothing to do
            outcome = f"{incident.reference}: {exc}"
        _mark(alert, EventStatus.PROCESSED, outcome, incident)


def sweep_unprocessed(*, older_than: timedelta = timedelta(minutes=1), limit: int = 100) -> int:
    """Process events stored but left `received` (the process died, or the database went away
    between storing and processing). Returns how many it processed."""
    cutoff = clock.now() - older_than
    ids = list(
        AlertEvent.objects.filter(status=EventStatus.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    for alert in AlertEvent.objects.filter(pk__in=ids).order_by("received_at", "pk"):
        process(alert)
    return len(ids)


def reprocess(alert: AlertEvent) -> AlertEvent:
    """Try a failed event again (the admin's action)."""
    if alert.status != EventStatus.FAILED:
        return alert
    AlertEvent.objects.filter(pk=alert.pk, status=EventStatus.FAILED).update(status=EventStatus.RECEIVED, error="")
    alert.refresh_from_db()
    return process(alert)
