"""Alert ingestion: monitoring events kept in the alert log and turned into incident actions.

Every accepted event gets its `AlertEvent` row in the transaction that applies its effect
(declare, join, acknowledge, resolve), so the row and the effect commit together with one WAL
flush; if applying fails, that transaction is rolled back and the event is stored alone as
`failed` with its error — an event answered 202 is never lost, and one is never applied twice.
Rows stored `received` (`receive()`, a failed event sent back by the admin) are processed by
`process()`, whose mark only succeeds on a row still `received`; `sweep_unprocessed` picks up
any left behind. Repeated triggers for one (integration, dedup key) join the
open `AlertGroup`; a partial unique constraint makes concurrent first triggers open one incident.
Heartbeats (a job that must ping) live here too. See docs/architecture.md, "Alert ingestion".
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils.dateparse import parse_datetime

from . import actions, clock, formatting
from .errors import DomainError, InvalidInput
from .models import (
    OPEN_STATUSES, AlertEvent, AlertGroup, Heartbeat, Incident, Integration, MaintenanceWindow, Service, SeverityLevel, Source,
)

log = logging.getLogger(__name__)

KEY_LENGTH = 32  # PagerDuty's routing keys are 32 characters; senders may check.
SEVERITIES = Integration.SEVERITIES
DEFAULT_SEVERITY_RANK = {"critical": 1, "error": 2, "warning": 3, "info": 4}
Action = AlertEvent.Action
ACTIONS = frozenset(Action.values)  # `Action.values` walks the enum on every call
EventStatus = AlertEvent.Status
TITLE_LIMIT = 200
SUMMARY_LIMIT = 1024


# --- Keys -----------------------------------------------------------------------------------


def new_key() -> str:
    """32 lowercase hex characters (128 random bits), the shape of a PagerDuty routing key."""
    return secrets.token_hex(KEY_LENGTH // 2)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def create_integration(*, name: str, service: Service, created_by=None, **severities: SeverityLevel | None) -> tuple[Integration, str]:
    """A new integration and its routing key — the only time the key is known: show it once."""
    key = new_key()
    integration = Integration(
        name=name, service=service, key_hash=hash_key(key), key_prefix=key[:6], created_by=created_by,
        **{f"{level}_severity": severities.get(level) for level in SEVERITIES},
    )
    integration.full_clean(exclude=["key_hash", "key_prefix"])
    integration.save()
    return integration, key


@transaction.atomic
def create_heartbeat(
    *, name: str, service: Service, interval_minutes: int = 60, grace_minutes: int = 5, severity: SeverityLevel | None = None,
    created_by=None,
) -> tuple[Heartbeat, str]:
    """A new heartbeat and its ping key (shown once)."""
    key = new_key()
    heartbeat = Heartbeat(
        name=name, service=service, key_hash=hash_key(key), key_prefix=key[:6], interval_minutes=interval_minutes,
        grace_minutes=grace_minutes, severity=severity, created_by=created_by,
    )
    heartbeat.full_clean(exclude=["key_hash", "key_prefix"])
    heartbeat.save()
    return heartbeat, key


# A sender's integration and "in maintenance now" are kept per process for a few seconds: at
# hundreds of events/s from a few senders the lookup is otherwise a query per event. So an
# integration made inactive, a severity mapping changed or a maintenance window scheduled may
# take up to LOOKUP_TTL to apply (a window that ends is honoured at its end: the entry expires
# then). Only active integrations are kept, so there is one entry per integration at most.
LOOKUP_TTL = timedelta(seconds=5)
_recent_lookups: dict[str, tuple[datetime, datetime, Integration]] = {}


def find_integration(key: str) -> Integration | None:
    """The active integration behind a routing key (looked up by hash), with its service and
    `maintenance_until` (the end of a maintenance window covering now, or None): one query, or
    none when the key was looked up less than LOOKUP_TTL ago in this process."""
    if not isinstance(key, str) or not key or len(key) > 200:
        return None
    key_hash = hash_key(key)
    now = clock.now()
    recent = _recent_lookups.get(key_hash)
    if recent is not None and recent[0] <= now < recent[1]:  # also expires when the clock goes back
        return recent[2]
    windows = MaintenanceWindow.objects.filter(service=OuterRef("service_id"), starts_at__lte=now, ends_at__gt=now)
    integration = (
        Integration.objects.select_related("service")
        .annotate(maintenance_until=Subquery(windows.order_by("-ends_at").values("ends_at")[:1]))
        .filter(key_hash=key_hash, is_active=True)
        .first()
    )
    if integration is None:
        _recent_lookups.pop(key_hash, None)
        return None
    fresh_until = now + LOOKUP_TTL
    if integration.maintenance_until is not None:
        fresh_until = min(fresh_until, integration.maintenance_until)
    _recent_lookups[key_hash] = (now, fresh_until, integration)
    return integration


def forget_lookups() -> None:
    """Drop this process's recent integration lookups (tests; a change that must apply at once)."""
    _recent_lookups.clear()


def severity_for(integration: Integration, level: str) -> SeverityLevel:
    """The integration's mapping of critical / error / warning / info, else SEV-1…SEV-4 by rank
    (else the least severe level there is)."""
    level = level if level in SEVERITIES else "error"
    chosen = getattr(integration, f"{level}_severity_id", None)
    if chosen:
        return SeverityLevel.objects.get(pk=chosen)
    return default_severity(DEFAULT_SEVERITY_RANK[level])


def default_severity(rank: int) -> SeverityLevel:
    return (
        SeverityLevel.objects.filter(rank=rank).first()
        or SeverityLevel.objects.filter(rank__gt=rank).order_by("rank").first()
        or SeverityLevel.objects.order_by("-rank").first()
    )


# --- Parsing ----------------------------------------------------------------------------------


class InvalidEvent(Exception):
    """The body is not an event we can accept (400, PagerDuty's "invalid event" shape)."""

    def __init__(self, errors: list[str], message: str = "Event object is invalid"):
        super().__init__(message)
        self.message = message
        self.errors = errors


@dataclass
class Event:
    """What an accepted event asks for, whatever format it came in."""

    action: str
    dedup_key: str
    summary: str = ""
    source: str = ""
    severity: str = ""
    detected_at: datetime | None = None
    details: dict = field(default_factory=dict)


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def parse_events_v2(body) -> tuple[str, Event]:
    """(routing key, event) from a PagerDuty Events API v2 body; InvalidEvent lists every problem."""
    if not isinstance(body, dict):
        raise InvalidEvent(["Event object must be a JSON object"])
    errors = []
    routing_key = body.get("routing_key")
    if not isinstance(routing_key, str) or not routing_key:
        errors.append("'routing_key' is missing or blank")
    elif len(routing_key) != KEY_LENGTH:
        errors.append(f"Length of 'routing_key' is incorrect (should be {KEY_LENGTH} characters)")
    action = body.get("event_action")
    if action not in ACTIONS:
        errors.append("'event_action' is missing or invalid (expected trigger, acknowledge or resolve)")
    dedup_key = body.get("dedup_key")
    if dedup_key is not None and not isinstance(dedup_key, str):
        errors.append("'dedup_key' must be a string")
    elif dedup_key is not None and len(dedup_key) > 255:
        errors.append("'dedup_key' must be at most 255 characters")
    elif action in (Action.ACKNOWLEDGE, Action.RESOLVE) and not _text(dedup_key):
        errors.append(f"'dedup_key' is required to {action} an alert")
    payload = body.get("payload")
    if not isinstance(payload, dict):
        if action == Action.TRIGGER:
            errors.append("'payload' is missing or not an object")
        payload = {}
    summary = source = severity = ""
    detected_at = None
    if payload:
        summary, source, severity = _text(payload.get("summary")), _text(payload.get("source")), payload.get("severity")
        if action == Action.TRIGGER:
            if not summary:
                errors.append("'payload.summary' is missing or blank")
            if not source:
                errors.append("'payload.source' is missing or blank")
            if severity not in SEVERITIES:
                errors.append("'payload.severity' is missing or invalid (expected critical, error, warning or info)")
        severity = severity if severity in SEVERITIES else ""
        stamp = payload.get("timestamp")
        if stamp is not None:
            try:
                detected_at = parse_datetime(stamp) if isinstance(stamp, str) else None
            except ValueError:
                detected_at = None
            if detected_at is None or detected_at.tzinfo is None:
                errors.append("'payload.timestamp' must be an ISO 8601 time with a time zone")
    if errors:
        raise InvalidEvent(errors)
    event = Event(
        action=action,
        dedup_key=_text(dedup_key) or uuid.uuid4().hex,  # PagerDuty makes one up too, and returns it
        summary=summary[:SUMMARY_LIMIT],
        source=source[:255],
        severity=severity,
        detected_at=detected_at,
        details={k: payload.get(k) for k in ("component", "group", "class") if _text(payload.get(k))},
    )
    return routing_key, event


def alertmanager_dedup_key(group_key: str) -> str:
    """Alertmanager's own PagerDuty receiver sends sha256(groupKey) as the dedup key; the same
    here, so moving a receiver between PagerDuty and Vigil keeps its keys."""
    return hashlib.sha256(group_key.encode()).hexdigest()


def parse_alertmanager(body) -> Event:
    """One event per Alertmanager notification (webhook version 4): the notification group is
    the unit, as with Alertmanager's PagerDuty receiver — `firing` triggers (or joins) the
    group's incident, `resolved` (every alert of the group resolved) resolves it."""
    if not isinstance(body, dict):
        raise InvalidEvent(["The webhook body must be a JSON object"])
    errors = []
    version = body.get("version")
    if version is not None and str(version) != "4":
        errors.append(f"Webhook version {version!r} is not supported (expected \"4\")")
    status = body.get("status")
    if status not in ("firing", "resolved"):
        errors.append("'status' must be firing or resolved")
    group_key = body.get("groupKey")
    if not isinstance(group_key, str) or not group_key:
        errors.append("'groupKey' is missing or blank")
    alerts = body.get("alerts")
    if not isinstance(alerts, list) or not all(isinstance(a, dict) for a in alerts):
        errors.append("'alerts' must be a list of objects")
    if errors:
        raise InvalidEvent(errors)

    def labels(of) -> dict:
        value = of.get("labels") if of is not None else None
        return value if isinstance(value, dict) else {}

    common = body.get("commonLabels") if isinstance(body.get("commonLabels"), dict) else {}
    annotations = body.get("commonAnnotations") if isinstance(body.get("commonAnnotations"), dict) else {}
    first = alerts[0] if alerts else None
    first_annotations = first.get("annotations") if first and isinstance(first.get("annotations"), dict) else {}
    firing = sum(1 for a in alerts if a.get("status") == "firing")
    name = _text(common.get("alertname")) or _text(labels(first).get("alertname")) or "alerts"
    described = _text(annotations.get("summary")) or _text(first_annotations.get("summary")) or _text(
        annotations.get("description")
    )
    count = firing if status == "firing" else len(alerts)
    summary = f"[{status.upper()}:{count}] {name}" + (f": {described}" if described else "")
    severity = _text(common.get("severity")).lower()
    source = _text(common.get("instance")) or _text(common.get("job")) or _text(labels(first).get("instance")) or _text(
        body.get("receiver")
    )
    return Event(
        action=Action.TRIGGER if status == "firing" else Action.RESOLVE,
        dedup_key=alertmanager_dedup_key(group_key),
        summary=summary[:SUMMARY_LIMIT],
        source=source[:255],
        severity=severity if severity in SEVERITIES else "error",
        details={"group_key": group_key[:500], "alerts": len(alerts), "firing": firing},
    )


# --- Storing and processing -----------------------------------------------------------------


def receive(integration: Integration, event: Event, payload, *, format: str = AlertEvent.Format.EVENTS_V2) -> AlertEvent:
    """Commit the event to the alert log as received (autocommit: one INSERT, durable at once)."""
    return AlertEvent.objects.create(
        integration=integration,
        received_at=clock.now(),
        format=format,
        payload=payload,
        dedup_key=event.dedup_key,
        action=event.action,
        summary=event.summary,
        source=event.source,
        severity=event.severity,
    )


def ingest(integration: Integration, event: Event, payload, *, format: str = AlertEvent.Format.EVENTS_V2) -> AlertEvent:
    """Store the event and apply it, in one transaction: the alert-log row commits with its
    effect (one WAL flush per event — a commit costs ~3.5 ms on the reference machine against
    ~0.2 ms for a round trip, so a separate commit for the row would halve throughput). If
    applying fails, that transaction is rolled back and the event is stored on its own as
    `failed`, with the error, to be processed again from the admin: every accepted event has
    its row. Database errors propagate: the API answers 503 and the sender retries."""
    alert = AlertEvent(
        integration=integration,
        received_at=clock.now(),
        format=format,
        payload=payload,
        dedup_key=event.dedup_key,
        action=event.action,
        summary=event.summary,
        source=event.source,
        severity=event.severity,
    )
    return _apply(alert, integration, event)


class _AlreadyProcessed(Exception):
    """Someone else processed this event meanwhile: roll back what we did."""


def process(alert: AlertEvent, *, integration: Integration | None = None, event: Event | None = None) -> AlertEvent:
    """Apply an event already in the log as `received` (the sweeper, the admin's retry). Safe to
    call twice: only the first to mark it processed commits."""
    integration = integration or _integration_with_maintenance(alert.integration_id)
    event = event or Event(
        action=alert.action, dedup_key=alert.dedup_key, summary=alert.summary, source=alert.source, severity=alert.severity,
        detected_at=_payload_time(alert.payload),
    )
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


def _integration_with_maintenance(pk: int) -> Integration:
    now = clock.now()
    windows = MaintenanceWindow.objects.filter(service=OuterRef("service_id"), starts_at__lte=now, ends_at__gt=now)
    return (
        Integration.objects.select_related("service")
        .annotate(maintenance_until=Subquery(windows.order_by("-ends_at").values("ends_at")[:1]))
        .get(pk=pk)
    )


def _payload_time(payload) -> datetime | None:
    try:
        stamp = (payload or {}).get("payload", {}).get("timestamp")
        return parse_datetime(stamp) if isinstance(stamp, str) else None
    except (AttributeError, ValueError):
        return None


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


# --- Maintenance -------------------------------------------------------------------------------


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


# --- Heartbeats -----------------------------------------------------------------------------


def ping(key: str) -> Heartbeat | None:
    """Record a ping; a heartbeat that was down is back: its outage incident is resolved."""
    if not isinstance(key, str) or not key or len(key) > 200:
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
        in_maintenance = MaintenanceWindow.objects.filter(service=heartbeat.service, starts_at__lte=now, ends_at__gt=now).exists()
        incident = None
        if not in_maintenance:
            incident = actions.declare(
                title=f"Heartbeat missed: {heartbeat.name}"[:TITLE_LIMIT],
                severity=heartbeat.severity or default_severity(2),
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


__all__ = [
    "Event", "InvalidEvent", "KEY_LENGTH", "create_integration", "create_heartbeat", "find_integration", "severity_for",
    "parse_events_v2", "parse_alertmanager", "receive", "ingest", "process", "sweep_unprocessed", "reprocess",
    "ping", "check_heartbeats", "mark_missed", "schedule_maintenance",
]
