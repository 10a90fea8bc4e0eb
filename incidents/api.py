"""The incidents part of the JSON API: list, declare, read and work incidents (by reference,
INC-42), their timelines and tasks. The service catalog is `api_services` (mounted here), the
answers' shapes `api_out`, cursor pages `api_pages`.

Every operation: check the key's scope → the caller's permissions (as the admin applies them)
→ select through `selectors` (scoped to what the caller may see: anything else is a 404, so a
restricted incident's existence is not confirmed) → one action with `Source.API` → the `…Out`
shape. Domain errors become 409/400 in `config/api.py`.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Query, Router
from ninja.responses import Status as Reply

from oncall.api_auth import require_perm, require_scope
from oncall.api_errors import Forbidden
from oncall.api_common import invalid, utc

from . import actions, bounds, export, lifecycle, permissions, selectors, sla
from .api_out import detail_out, event_out, incident_out, task_out
from .api_pages import newest_first
from .api_services import SLUG
from .api_metrics import router as metrics_router
from .api_services import router as services_router
from .api_schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    DeclareIn,
    IncidentDetailOut,
    IncidentPageOut,
    IncidentPatchIn,
    ReopenIn,
    ResolveIn,
    RoleIn,
    TaskIn,
    TaskListOut,
    TaskOut,
    TaskPatchIn,
    TimelinePageOut,
    UpdateIn,
)
from .errors import InvalidField, UnknownSeverity
from .models import OPEN_STATUSES, Incident, IncidentTask, IncidentType, Participant, Service, SeverityLevel, Source, Status
from .search import search
from .severities import find_severity, severity_levels

router = Router()
router.add_router("", services_router)
router.add_router("", metrics_router)  # GET /metrics, /metrics/compliance

INCIDENTS = ["incidents"]
MAX_LIMIT, DEFAULT_LIMIT = 200, 50
USERS = ("users_affected_estimated", "users_affected_confirmed")
VIEW = "incidents.view_incident"


# --- Helpers --------------------------------------------------------------------------------------


def _can_read(request: HttpRequest) -> None:
    require_scope(request, "read")
    require_perm(request, VIEW, "see incidents")


def _refuse_unless(allowed: bool, request: HttpRequest, what: str, needs: str) -> None:
    if not allowed:
        raise Forbidden(f"{request.user} may not {what} (needs {needs}).")


def _need(request, incident, step: str | None, what: str) -> None:
    """Refuse unless the caller may take `step` (`permissions.may`), naming the right it needs."""
    if permissions.required_for(step) == permissions.RESPOND:
        needs = f"the {permissions.RESPOND} permission or a role on the incident"
    else:
        needs = f"the {permissions.COMMAND} permission or the commander role"
    _refuse_unless(permissions.may(request.user, incident, step), request, f"{what} {incident.reference}", needs)


def _split(values: list[str] | None) -> list[str]:
    """Repeatable parameters that may also be comma lists: ?status=a&status=b,c."""
    return [part.strip() for value in values or () for part in value.split(",") if part.strip()]


def _severity(value: str, field: str, levels: list[SeverityLevel] | None = None) -> SeverityLevel:
    """The severity `value` names (`severities.find_severity`: name, label or rank, any case), or a
    422 on `field` naming the levels there are."""
    try:
        return find_severity(value, levels)
    except UnknownSeverity as exc:
        raise invalid(field, str(exc)) from None


def _services(slugs: list[str], field: str) -> list[Service]:
    wanted = list(dict.fromkeys(slugs))
    bad = [slug for slug in wanted if not SLUG.fullmatch(slug)]
    found = {s.slug: s for s in Service.objects.filter(slug__in=[s for s in wanted if s not in bad])}
    missing = [slug for slug in wanted if slug not in found]
    if missing:
        raise invalid(field, f"Unknown service{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.")
    return [found[slug] for slug in wanted]


def _staff_user(username: str, field: str):
    """Someone who can hold a role: an active staff user (as the admin's person pickers offer)."""
    user = get_user_model().objects.filter(username=username, is_active=True, is_staff=True).first()
    if user is None:
        raise invalid(field, f"No active staff user {username!r}.")
    return user


# --- Incidents: reading ---------------------------------------------------------------------------


def _detail_queryset(user) -> QuerySet[Incident]:
    return selectors.incident_list(user).prefetch_related(
        Prefetch("participants", queryset=Participant.objects.select_related("user"))
    )


def _incident(request: HttpRequest, ref: str) -> Incident:
    """The incident `ref` names if the caller may see it; otherwise the same 404 whether it exists or not."""
    number = Incident.number_from_reference(ref)
    shown = f"INC-{number}" if number else "".join(ch for ch in ref[:40] if ch.isprintable())
    incident = _detail_queryset(request.user).filter(number=number).first() if number else None
    if incident is None:
        raise Http404(f"No incident {shown}.")
    return incident


def _filtered(qs: QuerySet[Incident], status, severity, service, since, q) -> QuerySet[Incident]:
    """`qs` (the caller's incidents) narrowed by the list's filters: the JSON list's and the CSV export's."""
    statuses = set()
    for value in _split(status):
        if value.lower() == "open":
            statuses.update(OPEN_STATUSES)
        elif value.lower() in Status.values:
            statuses.add(value.lower())
        else:
            raise invalid("status", f"Unknown status {value!r}; expected open or one of {', '.join(Status.values)}.")
    if statuses:
        qs = qs.filter(status__in=statuses)
    typed_severities = _split(severity)
    if typed_severities:
        levels = severity_levels()
        qs = qs.filter(severity__in=[_severity(value, "severity", levels) for value in typed_severities])
    slugs = _split(service)
    if slugs:
        chosen = _services(slugs, "service")
        qs = qs.filter(pk__in=Incident.services.through.objects.filter(service__in=chosen).values("incident_id"))
    if since is not None:
        qs = qs.filter(declared_at__gte=utc(since, "since"))
    if q:
        qs = search(qs, q)
    return qs


# The list's filters, described once for the JSON list and the CSV export.
STATUS_HELP = 'Repeatable or comma-separated; "open" means every open status.'
SEVERITY_HELP = "Severity names, labels or ranks, in any case; repeatable or comma-separated."
SERVICE_HELP = "Affected service slugs; repeatable or comma-separated."
SINCE_HELP = "Declared at or after this instant (ISO 8601; no zone = UTC)."
Q_HELP = (
    'A reference ("INC-42", "42": that incident only), or words the title contains in any case '
    '("a quoted phrase" is one word), or a severity\'s name or label — as the admin\'s search.'
)


@router.get("/incidents", response={200: IncidentPageOut, **READ_ERRORS}, tags=INCIDENTS)
def list_incidents(
    request: HttpRequest,
    status: list[str] | None = Query(None, description=STATUS_HELP),
    severity: list[str] | None = Query(None, description=SEVERITY_HELP),
    service: list[str] | None = Query(None, description=SERVICE_HELP),
    since: dt.datetime | None = Query(None, description=SINCE_HELP),
    q: str | None = Query(None, max_length=200, description=Q_HELP),
    cursor: str | None = Query(None, max_length=200, description="`next_cursor` of the previous page."),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
):
    """Incidents the caller may see, newest declared first, a page at a time (a fixed number of
    queries per page whatever its size)."""
    _can_read(request)
    qs = _filtered(selectors.incident_list(request.user), status, severity, service, since, q)
    rows, next_cursor = newest_first(qs, field="declared_at", cursor=cursor, limit=limit)
    sla.attach_calendars(rows)
    now = timezone.now()
    return {"items": [incident_out(incident, now) for incident in rows], "next_cursor": next_cursor}


CSV_RESPONSE = {"200": {"description": "UTF-8 CSV with a header row: " + ", ".join(export.HEADER) + ".", "content": {"text/csv": {}}}}


@router.get("/incidents.csv", response=READ_ERRORS, tags=INCIDENTS, openapi_extra={"responses": CSV_RESPONSE})
def export_incidents(
    request: HttpRequest,
    status: list[str] | None = Query(None, description=STATUS_HELP),
    severity: list[str] | None = Query(None, description=SEVERITY_HELP),
    service: list[str] | None = Query(None, description=SERVICE_HELP),
    since: dt.datetime | None = Query(None, description=SINCE_HELP),
    q: str | None = Query(None, max_length=200, description=Q_HELP),
):
    """Every incident the caller may see that the list's filters select, as one CSV file, newest
    declared first; times in the key owner's time zone with their offset. Streamed: its size is
    not limited and the memory it takes does not grow with it."""
    _can_read(request)
    qs = _filtered(selectors.visible_incidents(request.user), status, severity, service, since, q)
    return export.response(request.user, qs.order_by("-declared_at", "-pk"))


@router.get("/incidents/{ref}", response={200: IncidentDetailOut, **READ_ERRORS}, tags=INCIDENTS)
def get_incident(request: HttpRequest, ref: str):
    """One incident by reference (INC-42 or 42), with who holds which role now."""
    _can_read(request)
    return detail_out(_incident(request, ref))


# --- Incidents: changing --------------------------------------------------------------------------


def _can_write(request: HttpRequest) -> None:
    require_scope(request, "write")
    require_perm(request, VIEW, "see incidents")


def _for_step(request: HttpRequest, ref: str, step: str, what: str) -> Incident:
    """The incident `ref` names, for a caller with the write scope who may take `step` on it;
    otherwise 403 (saying they may not `what` it) or the 404 of an incident they cannot see."""
    _can_write(request)
    incident = _incident(request, ref)
    _need(request, incident, step, what)
    return incident


def _after(request: HttpRequest, incident: Incident, warnings: list[str] | None = None) -> dict:
    fresh = _detail_queryset(request.user).filter(pk=incident.pk).first()
    if fresh is None:  # they made it invisible to themselves (e.g. restricted it and left)
        raise Http404(f"No incident {incident.reference}.")
    return detail_out(fresh, warnings)


@router.post("/incidents", response={201: IncidentDetailOut, **WRITE_ERRORS}, tags=INCIDENTS)
def declare(request: HttpRequest, payload: DeclareIn):
    """Declare an incident. Needs the write scope and `incidents.add_incident`; the caller joins
    it as a responder (or as its commander)."""
    require_scope(request, "write")
    require_perm(request, permissions.DECLARE, "declare incidents")
    severity = _severity(payload.severity, "severity")
    services = _services(payload.services, "services")
    incident_type = None
    if payload.type:
        incident_type = IncidentType.objects.filter(slug=payload.type).first()
        if incident_type is None:
            raise invalid("type", f"Unknown incident type {payload.type!r}.")
    commander = _staff_user(payload.commander, "commander") if payload.commander else None
    if payload.public_on_status_page and (
        payload.restricted or payload.drill or (incident_type and incident_type.restricted_by_default)
    ):
        raise invalid("public_on_status_page", "A restricted incident or a drill is never shown on the status page.")
    incident = actions.declare(
        title=payload.title,
        severity=severity,
        incident_type=incident_type,
        services=services,
        summary=payload.summary,
        commander=commander,
        detected_at=utc(payload.detected_at, "detected_at"),
        # Unset means "as the type says", so a security incident cannot start public by mistake.
        is_restricted=True if payload.restricted else None,
        is_drill=payload.drill,
        public_on_status_page=payload.public_on_status_page,
        actor=request.user,
        source=Source.API,
    )
    return Reply(201, _after(request, incident))


def _status_step(incident: Incident, target: str) -> str | None:
    return lifecycle.TRANSITIONS.get((Status(incident.status), Status(target)))


@router.patch("/incidents/{ref}", response={200: IncidentDetailOut, **WRITE_ERRORS}, tags=INCIDENTS)
def patch_incident(request: HttpRequest, ref: str, payload: IncidentPatchIn):
    """Change title, summary and users affected (edit rights), severity (command rights) and status
    (a working status needs responder rights; resolving, reopening and closing need command
    rights). Only the fields sent change, all or nothing; a value equal to the current one is left
    alone. Far more users confirmed than estimated is accepted, with a warning in `warnings`."""
    _can_write(request)
    incident = _incident(request, ref)
    sent = payload.model_dump(exclude_unset=True)
    for field in ("title", "severity", "status"):
        if field in sent and sent[field] is None:
            raise invalid(field, "May not be null.")
    user = request.user
    details = {name: sent[name] or "" for name in ("title", "summary") if name in sent}
    details.update({name: sent[name] for name in USERS if name in sent})
    details = {name: value for name, value in details.items() if value != getattr(incident, name)}
    if details:
        _refuse_unless(
            permissions.can_edit_details(user, incident),
            request, f"edit {incident.reference}", f"the {permissions.EDIT_DETAILS} permission or command rights",
        )
    severity = _severity(sent["severity"], "severity") if "severity" in sent else None
    if severity is not None and severity.pk == incident.severity_id:
        severity = None
    if severity is not None:
        _need(request, incident, "change_severity", "change the severity of")
    status = sent.get("status")
    if status == incident.status:
        status = None
    if status is not None:
        step = _status_step(incident, status)  # None for a step the lifecycle refuses (409 below)
        responding = permissions.required_for(step) == permissions.RESPOND
        _need(request, incident, step, "change the status of" if responding else f"move to {status}")
    with transaction.atomic():
        if details:
            incident = actions.update_details(incident, actor=user, source=Source.API, **details)
        if severity is not None:
            actions.change_severity(incident, severity, actor=user, source=Source.API)
        if status is not None:
            try:
                actions.change_status(incident, status, actor=user, source=Source.API)
            except InvalidField as refusal:  # resolving needs a summary this body cannot carry
                raise invalid("status", f"{refusal} Send it to POST /api/v1/incidents/{incident.reference}/resolve.") from None
    warning = bounds.users_out_of_proportion(incident.users_affected_estimated, incident.users_affected_confirmed)
    return _after(request, incident, [warning] if warning and details.keys() & set(USERS) else [])


@router.post("/incidents/{ref}/acknowledge", response={200: IncidentDetailOut, **WRITE_ERRORS}, tags=INCIDENTS)
def acknowledge(request: HttpRequest, ref: str):
    """Someone is on it: a triggered incident moves to investigating and stops re-paging."""
    incident = _for_step(request, ref, "acknowledge", "acknowledge")
    actions.acknowledge(incident, actor=request.user, source=Source.API)
    return _after(request, incident)


@router.post("/incidents/{ref}/resolve", response={200: IncidentDetailOut, **WRITE_ERRORS}, tags=INCIDENTS)
def resolve(request: HttpRequest, ref: str, payload: ResolveIn):
    """The impact is over (command rights)."""
    incident = _for_step(request, ref, "resolve", "resolve")
    actions.resolve(
        incident, actor=request.user, source=Source.API, summary=payload.summary, mitigation=payload.mitigation,
        public_update=payload.public_update,
    )
    return _after(request, incident)


@router.post("/incidents/{ref}/reopen", response={200: IncidentDetailOut, **WRITE_ERRORS}, tags=INCIDENTS)
def reopen(request: HttpRequest, ref: str, payload: ReopenIn):
    """The problem is back: a resolved incident returns to investigating (command rights)."""
    incident = _for_step(request, ref, "reopen", "reopen")
    actions.reopen(incident, actor=request.user, source=Source.API, reason=payload.reason, public_update=payload.public_update)
    return _after(request, incident)


@router.post("/incidents/{ref}/roles", response={200: IncidentDetailOut, **WRITE_ERRORS}, tags=INCIDENTS)
def assign_role(request: HttpRequest, ref: str, payload: RoleIn):
    """Give an active staff user a role; commander, leads and scribe are handed over (command rights)."""
    incident = _for_step(request, ref, "assign_role", "assign roles on")
    person = _staff_user(payload.username, "username")
    actions.assign_role(incident, person, payload.role, actor=request.user, source=Source.API)
    return _after(request, incident)


@router.post("/incidents/{ref}/updates", response={200: IncidentDetailOut, **WRITE_ERRORS}, tags=INCIDENTS)
def post_update(request: HttpRequest, ref: str, payload: UpdateIn):
    """A status update, internal (stakeholders) or external (customers, status page); may move
    the incident to another working status at the same time (responder rights). Moving a
    triggered incident acknowledges it: the response then has `acknowledged_at` set."""
    incident = _for_step(request, ref, "post_update", "post updates on")
    actions.post_update(
        incident, payload.text, actor=request.user, source=Source.API, visibility=payload.visibility, status=payload.status
    )
    return _after(request, incident)


# --- Timeline and tasks ---------------------------------------------------------------------------


@router.get("/incidents/{ref}/timeline", response={200: TimelinePageOut, **READ_ERRORS}, tags=INCIDENTS)
def timeline(
    request: HttpRequest,
    ref: str,
    cursor: str | None = Query(None, max_length=200, description="`next_cursor` of the previous page."),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
):
    """The incident's event log, newest first, a page at a time."""
    _can_read(request)
    incident = _incident(request, ref)
    rows, next_cursor = newest_first(incident.timeline.select_related("actor"), field="occurred_at", cursor=cursor, limit=limit)
    return {"items": [event_out(event) for event in rows], "next_cursor": next_cursor}


@router.get("/incidents/{ref}/tasks", response={200: TaskListOut, **READ_ERRORS}, tags=INCIDENTS)
def tasks(request: HttpRequest, ref: str):
    """The incident's task list, in order."""
    _can_read(request)
    incident = _incident(request, ref)
    return {"items": [task_out(task) for task in incident.tasks.select_related("done_by")]}


@router.post("/incidents/{ref}/tasks", response={201: TaskOut, **WRITE_ERRORS}, tags=INCIDENTS)
def add_task(request: HttpRequest, ref: str, payload: TaskIn):
    """Add a task at the end of the list (responder rights)."""
    incident = _for_step(request, ref, "add_task", "add tasks to")
    task = actions.add_task(incident, payload.title, actor=request.user, source=Source.API)
    return Reply(201, task_out(task))


@router.patch("/incidents/{ref}/tasks/{task_id}", response={200: TaskOut, **WRITE_ERRORS}, tags=INCIDENTS)
def patch_task(request: HttpRequest, ref: str, task_id: int, payload: TaskPatchIn):
    """Tick a task off or reopen it (responder rights); the same value again changes nothing."""
    _can_write(request)
    incident = _incident(request, ref)
    task = incident.tasks.select_related("done_by").filter(pk=task_id).first() if 0 < task_id < 2**31 else None
    if task is None:
        raise Http404(f"No task {task_id} on {incident.reference}.")
    _need(request, incident, "task_done", "change tasks of")
    if task.is_done != payload.done:
        task = actions.set_task_done(task, payload.done, actor=request.user, source=Source.API)
        task = IncidentTask.objects.select_related("done_by").get(pk=task.pk)
    return task_out(task)
