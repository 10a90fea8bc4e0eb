"""Reading what monitoring sends: PagerDuty Events v2 bodies and Alertmanager webhooks become
one `Event`, or an `InvalidEvent` listing every problem."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.dateparse import parse_datetime

from ..models import AlertEvent
from .keys import KEY_LENGTH, SEVERITIES

Action = AlertEvent.Action
ACTIONS = frozenset(Action.values)  # `Action.values` walks the enum on every call
TITLE_LIMIT = 200  # an incident's title
SUMMARY_LIMIT = 1024


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

    @classmethod
    def logged(cls, alert: AlertEvent) -> Event:
        """The event as the alert log kept it (the sweeper, the admin's retry)."""
        return cls(
            action=alert.action, dedup_key=alert.dedup_key, summary=alert.summary, source=alert.source,
            severity=alert.severity, detected_at=_payload_time(alert.payload),
        )


def _payload_time(payload) -> datetime | None:
    try:
        stamp = (payload or {}).get("payload", {}).get("timestamp")
        return parse_datetime(stamp) if isinstance(stamp, str) else None
    except (AttributeError, ValueError):
        return None


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
