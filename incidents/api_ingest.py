"""Alerts in: the PagerDuty Events API v2 (`POST /api/v1/events`), Alertmanager's webhook,
heartbeat pings, and maintenance windows per service.

The three ingestion endpoints take no API key (`auth=None`): the routing key or the URL's key is
the credential, and nothing on their path needs Redis (no rate limiter, no cache; notifications
are queued after commit and a broker that is down only delays them). `/events` answers in
PagerDuty's own shapes so any tool that pages PagerDuty pages Vigil by changing one URL."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from oncall.api_auth import require_perm, require_scope
from oncall.api_errors import ApiError
from oncall.api_common import utc
from oncall.api_json import BodyNotJSON, read_json

from . import clock, ingest
from .models import AlertEvent, MaintenanceWindow, Service

log = logging.getLogger(__name__)
router = Router(tags=["alerts"])


class EventAccepted(Schema):
    status: str = Field(..., examples=["success"])
    message: str = Field(..., examples=["Event processed"])
    dedup_key: str


class EventInvalid(Schema):
    status: str = Field(..., examples=["invalid event"])
    message: str
    errors: list[str]


class Detail(Schema):
    detail: str


class FieldError(Schema):
    field: str
    message: str


class InvalidRequest(Schema):
    detail: str
    errors: list[FieldError]


# What a keyed request may also get: no key (401), scope or permission (403), unknown service
# (404), invalid parameters (422), rate limit (429), database down (503); writes: 400 and 413.
KEYED_READ = {401: Detail, 403: Detail, 404: Detail, 422: InvalidRequest, 429: Detail, 503: Detail}
KEYED_WRITE = {**KEYED_READ, 400: Detail, 413: Detail}


class HeartbeatAccepted(Schema):
    status: str = Field(..., examples=["ok"])
    state: str


_EVENT_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["routing_key", "event_action"],
                "properties": {
                    "routing_key": {"type": "string", "minLength": 32, "maxLength": 32},
                    "event_action": {"type": "string", "enum": ["trigger", "acknowledge", "resolve"]},
                    "dedup_key": {"type": "string", "maxLength": 255},
                    "payload": {
                        "type": "object",
                        "properties": {
                            "summary": {"type": "string", "maxLength": 1024},
                            "source": {"type": "string"},
                            "severity": {"type": "string", "enum": ["critical", "error", "warning", "info"]},
                            "timestamp": {"type": "string", "format": "date-time"},
                            "component": {"type": "string"},
                            "group": {"type": "string"},
                            "class": {"type": "string"},
                            "custom_details": {"type": "object"},
                        },
                    },
                    "client": {"type": "string"},
                    "client_url": {"type": "string"},
                    "links": {"type": "array", "items": {"type": "object"}},
                    "images": {"type": "array", "items": {"type": "object"}},
                },
            }
        }
    },
}


def _invalid(errors: list[str], message: str = "Event object is invalid"):
    return Status(400, {"status": "invalid event", "message": message, "errors": errors})


def _json(request: HttpRequest):
    try:
        return read_json(request.body or b"")
    except BodyNotJSON as exc:
        raise ingest.InvalidEvent([str(exc)]) from None


def _accepted(alert: AlertEvent):
    return Status(202, {"status": "success", "message": "Event processed", "dedup_key": alert.dedup_key})


@router.post(
    "/events",
    auth=None,
    response={202: EventAccepted, 400: EventInvalid, 413: Detail, 503: Detail},
    openapi_extra={"requestBody": _EVENT_BODY},
    summary="Send an alert event (PagerDuty Events API v2)",
)
def send_event(request: HttpRequest):
    """PagerDuty's Events API v2 (`/v2/enqueue`): `routing_key` (an integration's key, made in
    the admin or with `manage.py integration create`), `event_action` trigger / acknowledge /
    resolve, `dedup_key` (made up and returned when a trigger has none), `payload` (summary,
    source, severity critical / error / warning / info, timestamp…). Triggers with the same
    dedup key join the one open incident; acknowledge and resolve act on it. Every accepted
    event is kept in the alert log. An unknown or inactive routing key is an invalid event
    (400), as with PagerDuty, so senders do not retry it."""
    try:
        body = _json(request)
        routing_key, event = ingest.parse_events_v2(body)
    except ingest.InvalidEvent as exc:
        return _invalid(exc.errors, exc.message)
    integration = ingest.find_integration(routing_key)
    if integration is None:
        log.warning("Event refused: unknown or inactive routing key %s…", routing_key[:6])
        return _invalid(["Invalid routing key: no active integration has it"])
    return _accepted(ingest.ingest(integration, event, body))


@router.post(
    "/integrations/alertmanager/{key}",
    auth=None,
    response={202: EventAccepted, 400: EventInvalid, 404: Detail, 413: Detail, 503: Detail},
    summary="Prometheus Alertmanager webhook",
)
def alertmanager_webhook(request: HttpRequest, key: str):
    """Alertmanager's webhook (version 4) as a receiver: `webhook_configs: [{url:
    <vigil>/api/v1/integrations/alertmanager/<routing key>}]`. One notification group is one
    alert: `firing` opens (or joins) its incident, `resolved` resolves it; the dedup key is
    sha256(groupKey), as Alertmanager's own PagerDuty receiver sends. Severity comes from the
    common label `severity` (critical / error / warning / info; else error). A body that is
    not JSON, or is nested too deep, is refused (400) before the key is looked up."""
    try:
        body = _json(request)
    except ingest.InvalidEvent as exc:
        return _invalid(exc.errors, exc.message)
    integration = ingest.find_integration(key)
    if integration is None:
        raise ApiError("No active integration has this key.", status=404)
    try:
        event = ingest.parse_alertmanager(body)
    except ingest.InvalidEvent as exc:
        return _invalid(exc.errors, exc.message)
    return _accepted(ingest.ingest(integration, event, body, format=AlertEvent.Format.ALERTMANAGER))


@router.post(
    "/heartbeats/{key}",
    auth=None,
    response={202: HeartbeatAccepted, 404: Detail, 413: Detail, 503: Detail},
    summary="Heartbeat ping",
)
def heartbeat_ping(request: HttpRequest, key: str):
    """A job's "still alive": `curl -fsS -X POST <vigil>/api/v1/heartbeats/<key>`. A heartbeat
    whose ping is overdue (interval + grace) has an incident declared on its service, once per
    outage; the next ping resolves it. No body needed."""
    heartbeat = ingest.ping(key)
    if heartbeat is None:
        raise ApiError("No active heartbeat has this key.", status=404)
    return Status(202, {"status": "ok", "state": heartbeat.state})


# --- Maintenance windows ------------------------------------------------------------------------


class MaintenanceIn(Schema):
    starts_at: datetime | None = Field(None, description="Default: now.")
    ends_at: datetime | None = Field(None, description="Give this or duration_minutes.")
    duration_minutes: int | None = Field(None, ge=1, le=60 * 24 * 31)
    reason: str = Field(..., min_length=1, max_length=300)


class MaintenanceOut(Schema):
    id: int
    service: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str | None
    active: bool


def _window_out(window: MaintenanceWindow, now) -> dict:
    return {
        "id": window.pk,
        "service": window.service.slug,
        "starts_at": window.starts_at,
        "ends_at": window.ends_at,
        "reason": window.reason,
        "created_by": window.created_by.get_username() if window.created_by else None,
        "active": window.starts_at <= now < window.ends_at,
    }


@router.get("/services/{slug}/maintenance", response={200: list[MaintenanceOut], **KEYED_READ}, summary="Maintenance windows of a service")
def list_maintenance(request: HttpRequest, slug: str, include_past: bool = False):
    """Current and future maintenance windows (with `include_past`, the last 30 days' too).
    Needs the read scope."""
    require_scope(request, "read")
    service = get_object_or_404(Service, slug=slug)
    now = clock.now()
    windows = service.maintenance_windows.select_related("service", "created_by").order_by("starts_at")
    windows = windows.filter(ends_at__gt=now - timedelta(days=30) if include_past else now)
    return [_window_out(w, now) for w in windows]


@router.post(
    "/services/{slug}/maintenance", response={201: MaintenanceOut, **KEYED_WRITE}, summary="Schedule maintenance on a service"
)
def create_maintenance(request: HttpRequest, slug: str, data: MaintenanceIn):
    """Alerts for the service during the window are kept in the alert log as suppressed, open no
    incident and page nobody. Needs the write scope and permission to add maintenance windows."""
    require_scope(request, "write")
    require_perm(request, "incidents.add_maintenancewindow", "schedule maintenance")
    try:
        service = Service.objects.get(slug=slug)
    except Service.DoesNotExist:
        raise Http404(f"No service {slug!r}.") from None
    # Stored in UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 lets a body carry.
    window = ingest.schedule_maintenance(
        service, starts_at=utc(data.starts_at, "starts_at"), ends_at=utc(data.ends_at, "ends_at"),
        duration_minutes=data.duration_minutes,
        reason=data.reason, created_by=request.user,
    )
    return Status(201, _window_out(window, clock.now()))

