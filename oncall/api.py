"""The on-call API: schedules (who is on call now, shifts and gaps, overrides) and escalation
policies (who each level would page now), for chat bots, dashboards and phones.

Every answer comes from `oncall.schedules`; times are ISO 8601 in UTC (a time sent without an
offset is read as UTC). Reading needs the key's "read" scope and the owner's view permission;
covering a shift needs "write" and `oncall.add_override` (Managers), removing a cover
`oncall.delete_override`.

The schemas are in `oncall/schemas.py`. Adding and removing an override are `oncall.actions`
verbs, the same the admin calls.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Path, Router, Status

from . import actions, schedules
from .api_auth import require_perm, require_scope
from .api_errors import ErrorOut, ValidationErrorOut
from .api_common import invalid
from .errors import InvalidOverride
from .models import EscalationLevel, EscalationPolicy, Override, Schedule, Team, User
from .schemas import (
    OUTLOOK_DAYS,
    EscalationPolicyOnCallOut,
    EscalationPolicyOut,
    OnCallAtOut,
    OverrideIn,
    OverrideOut,
    PersonOut,
    ScheduleOut,
    ScheduleSummaryOut,
)

router = Router(tags=["on-call"])

MAX_WINDOW = dt.timedelta(days=31)
# The instants the API answers for: wide enough for any real question, narrow enough that adding
# a window to them stays a valid datetime.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)

# Ids are BigAutoField values: a larger number is refused (422) rather than sent to the database.
Id = Path[int, {"ge": 1, "le": 2**63 - 1}]


# Every keyed request may be refused before the operation runs (401 no key, 403 scope or
# permission, 429 rate limit, 503 database unavailable: config/api.py, api_auth.py and api_errors.py).
REFUSALS = {401: ErrorOut, 403: ErrorOut, 429: ErrorOut, 503: ErrorOut}
# Parameters that do not validate (422); an object in the path that does not exist (404); a body
# that is not JSON or is nested too deep (400, oncall/api_json.py) or too large (413, the middleware).
INVALID = {422: ValidationErrorOut}
NOT_FOUND = {404: ErrorOut}
BODY = {400: ErrorOut, 413: ErrorOut}


# --- Schedules ----------------------------------------------------------------------------------


@router.get("/schedules", response={200: list[ScheduleSummaryOut], **REFUSALS})
def list_schedules(request: HttpRequest):
    """Every schedule with who is on call now and until when, and its next gap in 14 days."""
    _may_read(request, "oncall.view_schedule", "see on-call schedules")
    found = Schedule.objects.select_related("team").order_by("name")
    now = timezone.now()
    return [
        {
            **_schedule_ref(outlook.schedule),
            "team": _team(outlook.schedule.team),
            "time_zone": outlook.schedule.time_zone,
            "on_call_now": [_on_call_now(shift) for shift in outlook.now],
            "next_gap": _window(*outlook.gaps[0]) if outlook.gaps else None,
        }
        for outlook in schedules.outlooks(found, now=now, days=OUTLOOK_DAYS)
    ]


@router.get("/schedules/{schedule_id}", response={200: ScheduleOut, **REFUSALS, **INVALID, **NOT_FOUND})
def get_schedule(request: HttpRequest, schedule_id: Id, start: dt.datetime | None = None, end: dt.datetime | None = None):
    """A schedule's layers, who is on call now, and its shifts and gaps from `start` (default now)
    to `end` (default 14 days later; at most 31 days)."""
    _may_read(request, "oncall.view_schedule", "see on-call schedules")
    now = timezone.now()
    start = _instant(start, "start") if start is not None else now
    end = _instant(end, "end") if end is not None else start + dt.timedelta(days=OUTLOOK_DAYS)
    if end <= start:
        raise invalid("end", "end must be after start.")
    if end - start > MAX_WINDOW:
        raise invalid("end", f"The window is at most {MAX_WINDOW.days} days; ask for a shorter one.")

    schedule = _schedule(schedule_id, Schedule.objects.select_related("team"))
    # Layers and the window's overrides in three queries; who is on call now reads the layers
    # from there and, when now is outside the window, its overrides with one more.
    schedules.prefetch_rotations([schedule], start, end)
    current = schedules.shifts(schedule, now, now + dt.timedelta(days=OUTLOOK_DAYS))[:1]
    return {
        **_schedule_ref(schedule),
        "team": _team(schedule.team),
        "time_zone": schedule.time_zone,
        "description": schedule.description,
        "layers": [_layer(layer) for layer in schedule.layers.all()],
        "on_call_now": [_on_call_now(shift) for shift in current if shift.start <= now],
        "window": _window(start, end),
        "shifts": [_shift(shift) for shift in schedules.shifts(schedule, start, end)],
        "gaps": [_window(*gap) for gap in schedules.gaps(schedule, start, end)],
    }


@router.get("/schedules/{schedule_id}/oncall", response={200: OnCallAtOut, **REFUSALS, **INVALID, **NOT_FOUND})
def schedule_on_call(request: HttpRequest, schedule_id: Id, at: dt.datetime | None = None):
    """Who is on call for the schedule at the instant `at` (default now)."""
    _may_read(request, "oncall.view_schedule", "see on-call schedules")
    at = _instant(at, "at") if at is not None else timezone.now()
    schedule = _schedule(schedule_id)
    return {
        "schedule": _schedule_ref(schedule),
        "at": at,
        "on_call": [PersonOut.of(user) for user in schedules.on_call_at(schedule, at)],
    }


@router.get("/schedules/{schedule_id}/overrides", response={200: list[OverrideOut], **REFUSALS, **INVALID, **NOT_FOUND})
def list_overrides(request: HttpRequest, schedule_id: Id):
    """The schedule's current and upcoming overrides, soonest first."""
    _may_read(request, "oncall.view_override", "see overrides")
    schedule = _schedule(schedule_id)
    found = (
        Override.objects.filter(schedule=schedule, end__gt=timezone.now())
        .select_related("user", "created_by")
        .order_by("start", "pk")
    )
    return [_override(override) for override in found]


@router.post("/schedules/{schedule_id}/overrides", response={201: OverrideOut, **REFUSALS, **INVALID, **NOT_FOUND, **BODY})
def add_override(request: HttpRequest, schedule_id: Id, payload: OverrideIn):
    """Put someone on call for a window (holiday cover, a swap): it beats every layer."""
    require_scope(request, "write")
    require_perm(request, "oncall.add_override", "cover on-call shifts")
    schedule = _schedule(schedule_id)
    start, end = _instant(payload.start, "start"), _instant(payload.end, "end")
    user = User.objects.filter(username=payload.username).first()
    try:
        override = actions.add_override(
            schedule, user=user, start=start, end=end, reason=payload.reason, created_by=request.user
        )
    except InvalidOverride as refused:
        field, message = next(iter(refused.errors.items()))
        if field == "user":  # the caller named the person by username
            what = "No user" if user is None else "No active user"
            field, message = "username", f"{what} is called {payload.username!r}."
        raise invalid(field, message) from None
    return Status(201, _override(override))


@router.delete("/schedules/{schedule_id}/overrides/{override_id}", response={204: None, **REFUSALS, **INVALID, **NOT_FOUND})
def remove_override(request: HttpRequest, schedule_id: Id, override_id: Id):
    """Take an override off the schedule: the layers decide again for its window."""
    require_scope(request, "write")
    require_perm(request, "oncall.delete_override", "remove overrides")
    if not actions.remove_override(override_id, schedule_id=schedule_id):
        _schedule(schedule_id)  # says which one is missing
        raise Http404(f"Schedule {schedule_id} has no override {override_id}.")
    return Status(204, None)


# --- Escalation policies ------------------------------------------------------------------------


@router.get("/escalation-policies", response={200: list[EscalationPolicyOut], **REFUSALS})
def list_policies(request: HttpRequest):
    """Every escalation policy with its levels: targets and the delay per severity."""
    _may_read(request, "oncall.view_escalationpolicy", "see escalation policies")
    policies = EscalationPolicy.objects.select_related("team").prefetch_related(
        Prefetch(
            "levels",
            queryset=EscalationLevel.objects.order_by("position").prefetch_related(
                "users", Prefetch("schedules", queryset=Schedule.objects.order_by("name")), "delays"
            ),
        )
    )
    return [
        {
            "id": policy.pk,
            "name": policy.name,
            "team": _team(policy.team),
            "description": policy.description,
            "loop_count": policy.loop_count,
            "is_default": policy.is_default,
            "levels": [
                {
                    "position": level.position,
                    "name": level.name,
                    "users": _people(level.users.all()),
                    "schedules": [_schedule_ref(schedule) for schedule in level.schedules.all()],
                    "delays": [
                        {
                            "severity_rank": delay.severity_rank,
                            "delay_seconds": int(delay.delay.total_seconds()),
                            "business_hours": delay.business_hours,
                        }
                        for delay in level.delays.all()
                    ],
                }
                for level in policy.levels.all()
            ],
        }
        for policy in policies
    ]


@router.get("/escalation-policies/{policy_id}/oncall", response={200: EscalationPolicyOnCallOut, **REFUSALS, **INVALID, **NOT_FOUND})
def policy_on_call(request: HttpRequest, policy_id: Id):
    """Level by level, who the policy would page now: its people and the current on-call of its
    schedules (what the engine asks `oncall.schedules.on_call_at` when it engages a level)."""
    _may_read(request, "oncall.view_escalationpolicy", "see escalation policies")
    policy = EscalationPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        raise Http404(f"No escalation policy has id {policy_id}.")
    levels = list(
        EscalationLevel.objects.filter(policy=policy)
        .order_by("position")
        .prefetch_related("users", Prefetch("schedules", queryset=Schedule.objects.order_by("name")))
    )
    now = timezone.now()
    # Schedules shared by levels are read once, and all of them together.
    involved = {schedule.pk: schedule for level in levels for schedule in level.schedules.all()}
    schedules.prefetch_rotations(list(involved.values()), now, now + dt.timedelta(microseconds=1))
    on_call = {pk: schedules.on_call_at(schedule, now) for pk, schedule in involved.items()}

    answer = []
    for level in levels:
        direct = list(level.users.all())
        per_schedule = [(schedule, on_call[schedule.pk]) for schedule in level.schedules.all()]
        paged = {user.pk: user for user in direct}
        for _, users in per_schedule:
            paged.update((user.pk, user) for user in users)
        answer.append(
            {
                "position": level.position,
                "name": level.name,
                "users": _people(direct),
                "schedules": [
                    {"schedule": _schedule_ref(schedule), "on_call": _people(users)} for schedule, users in per_schedule
                ],
                "pages": _people(paged.values()),
            }
        )
    return {"policy": {"id": policy.pk, "name": policy.name}, "at": now, "levels": answer}


# --- Translating ---------------------------------------------------------------------------------


def _may_read(request: HttpRequest, perm: str, what: str) -> None:
    require_scope(request, "read")
    require_perm(request, perm, what)


def _schedule(schedule_id: int, queryset=None) -> Schedule:
    schedule = (queryset if queryset is not None else Schedule.objects).filter(pk=schedule_id).first()
    if schedule is None:
        raise Http404(f"No schedule has id {schedule_id}.")
    return schedule


def _instant(moment: dt.datetime, field: str) -> dt.datetime:
    """An aware UTC instant (naive = UTC) inside the range the API answers for."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=dt.UTC)
    if not EARLIEST <= moment < LATEST:
        raise invalid(field, f"{field} must be between {EARLIEST:%Y} and {LATEST:%Y}.")
    return moment.astimezone(dt.UTC)


def _team(team: Team | None) -> dict | None:
    return {"id": team.pk, "name": team.name, "slug": team.slug} if team is not None else None


def _schedule_ref(schedule: Schedule) -> dict:
    return {"id": schedule.pk, "name": schedule.name, "slug": schedule.slug}


def _people(users) -> list[dict]:
    return [PersonOut.of(user) for user in users]


def _window(start: dt.datetime, end: dt.datetime) -> dict:
    return {"start": start, "end": end}


def _on_call_now(shift: schedules.Shift) -> dict:
    return {"user": PersonOut.of(shift.user), "until": shift.end, "source": shift.source}


def _shift(shift: schedules.Shift) -> dict:
    return {
        "start": shift.start,
        "end": shift.end,
        "user": PersonOut.of(shift.user),
        "source": shift.source,
        "layer_id": shift.layer.pk if shift.layer is not None else None,
        "override_id": shift.override.pk if shift.override is not None else None,
    }


def _layer(layer) -> dict:
    return {
        "id": layer.pk,
        "name": layer.name,
        "priority": layer.priority,
        "rotation": layer.rotation,
        "rotation_hours": layer.rotation_hours,
        "start_date": layer.start_date,
        "handoff_time": _local_time(layer.handoff_time),
        "restriction_days": layer.restriction_days or [],
        "restriction_start": _local_time(layer.restriction_start),
        "restriction_end": _local_time(layer.restriction_end),
        "members": [
            {"position": member.position, "user": PersonOut.of(member.user)}
            for member in sorted(layer.members.all(), key=lambda member: member.position)
        ],
    }


def _local_time(time: dt.time | None) -> str | None:
    return f"{time:%H:%M}" if time is not None else None


def _override(override: Override) -> dict:
    return {
        "id": override.pk,
        "schedule_id": override.schedule_id,
        "user": PersonOut.of(override.user),
        "start": override.start,
        "end": override.end,
        "reason": override.reason,
        "created_by": PersonOut.of(override.created_by) if override.created_by is not None else None,
        "created_at": override.created_at,
    }
