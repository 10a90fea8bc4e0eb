"""The service catalog part of the JSON API: services with their owning team, escalation policy
and runbook, and who is paged first for a service now. Mounted inside `incidents.api.router`.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Router

from oncall.api_auth import require_perm, require_scope
from oncall.api_common import person
from oncall.schedules import prefetch_rotations, shifts

from . import deadlines
from .api_schemas import READ_ERRORS, OnCallOut, ServiceDetailOut, ServiceListOut
from .models import Service

router = Router()

SERVICES = ["services"]
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")
ON_CALL_HORIZON = dt.timedelta(days=14)


def _op(name: str) -> str:
    # The operation ids these had when they lived in incidents/api.py: clients generated from the
    # schema keep their method names.
    return f"incidents_api_{name}"


def _can_read_services(request: HttpRequest) -> None:
    require_scope(request, "read")
    require_perm(request, "incidents.view_service", "see the service catalog")


def _service_out(service: Service, default_policy) -> dict:
    policy = service.escalation_policy or default_policy
    return {
        "slug": service.slug,
        "name": service.name,
        "description": service.description,
        "customer_facing": service.customer_facing,
        "owning_team": {"slug": service.owning_team.slug, "name": service.owning_team.name} if service.owning_team else None,
        "escalation_policy": policy.name if policy else None,
        "uses_default_policy": service.escalation_policy_id is None,
        "runbook_url": service.runbook_url,
        "depends_on": [other.slug for other in service.depends_on.all()],
    }


def _catalog() -> QuerySet[Service]:
    return Service.objects.select_related("owning_team", "escalation_policy").prefetch_related(
        Prefetch("depends_on", queryset=Service.objects.only("pk", "slug").order_by("slug"))
    )


def _service(slug: str) -> Service:
    service = _catalog().filter(slug=slug).first() if SLUG.fullmatch(slug) else None
    if service is None:
        raise Http404(f"No service {slug[:100]}.")
    return service


@router.get("/services", response={200: ServiceListOut, **READ_ERRORS}, tags=SERVICES, operation_id=_op("list_services"))
def list_services(request: HttpRequest):
    """The service catalog by name, with owning team and escalation policy (a fixed number of queries)."""
    _can_read_services(request)
    default_policy = deadlines.default_policy()
    return {"items": [_service_out(service, default_policy) for service in _catalog().order_by("name")]}


@router.get("/services/{slug}", response={200: ServiceDetailOut, **READ_ERRORS}, tags=SERVICES, operation_id=_op("get_service"))
def get_service(request: HttpRequest, slug: str):
    """One service with its runbook."""
    _can_read_services(request)
    service = _service(slug)
    return {**_service_out(service, deadlines.default_policy()), "runbook": service.runbook}


@router.get("/services/{slug}/oncall", response={200: OnCallOut, **READ_ERRORS}, tags=SERVICES, operation_id=_op("service_on_call"))
def service_on_call(request: HttpRequest, slug: str):
    """Who is paged first for the service now: the first level of its escalation policy (the
    default policy when it has none) — the people named on the level, and whoever is on call
    on its schedules, with the end of their current shift."""
    _can_read_services(request)
    require_perm(request, "oncall.view_schedule", "see who is on call")
    service = _service(slug)
    policy = service.escalation_policy or deadlines.default_policy()
    now = timezone.now()
    levels = deadlines.policy_levels(policy)
    answer = {
        "service": service.slug,
        "escalation_policy": policy.name if policy else None,
        "level": None,
        "at": now,
        "on_call": [],
        "uncovered_schedules": [],
    }
    if not levels:
        return answer
    first = levels[0]
    answer["level"] = {"position": first.position, "name": first.name}
    people: dict[int, dict] = {}
    for user in first.users.all():
        if user.is_active:
            people.setdefault(user.pk, {**person(user), "via": "direct", "until": None})
    horizon = now + ON_CALL_HORIZON
    for schedule in prefetch_rotations(sorted(first.schedules.all(), key=lambda s: s.name), now, horizon):
        current = [shift for shift in shifts(schedule, now, horizon) if shift.start <= now < shift.end]
        if not current:
            answer["uncovered_schedules"].append(schedule.name)
        for shift in current:
            if shift.user.is_active:
                until = shift.end if shift.end < horizon else None
                people.setdefault(shift.user.pk, {**person(shift.user), "via": f"schedule {schedule.name}", "until": until})
    answer["on_call"] = list(people.values())
    return answer

