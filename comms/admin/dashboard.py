"""The admin home as the operator dashboard (comms/reports/dashboard.py reads the figures):
the page's context, and the JSON its script polls to refresh the open incidents without a reload."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone

from incidents.admin.incidents import SLA_COLORS, STATUS_COLORS
from incidents.formatting import badge_colors, countdown
from incidents.models import Service
from oncall.formatting import MINUTE, local
from oncall.models import Team

from ..reports import dashboard, summary

def _row(row: dashboard.OpenRow, now: dt.datetime) -> dict:
    incident = row.incident
    due = row.next_due
    return {
        "reference": incident.reference,
        "url": reverse("admin:incidents_incident_change", args=[incident.pk]),
        "title": incident.title,
        "severity": incident.severity.name,
        "severity_colors": badge_colors(incident.severity.color),
        "status": incident.get_status_display(),
        "status_colors": badge_colors(STATUS_COLORS[incident.status]),
        "commander": ", ".join(u.get_full_name() or u.get_username() for u in row.commanders) or "—",
        "sla_state": row.sla.state.value,
        "sla_colors": badge_colors(SLA_COLORS[row.sla.state]),
        "next_due": None if due is None else {
            "name": due.name,
            "due_at": due.due_at.isoformat(),
            "due_local": local(due.due_at, MINUTE),
            "countdown": countdown(due.due_at, now),
        },
    }


def open_payload(request: HttpRequest) -> dict:
    now = timezone.now()
    board = dashboard.open_incidents(request.user, now=now)
    return {
        "generated_at": now.isoformat(),
        "count": board.count,
        "count_text": board.count_text,
        "shown": len(board.rows),
        "rows": [_row(row, now) for row in board.rows],
    }


def scope_from(request: HttpRequest, now: dt.datetime) -> summary.Scope:
    """The period and team or service the home's figures cover, from its form (`?days=30&team=2`):
    anything unknown falls back to the last 30 days of every incident."""
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    team = chosen(Team.objects.all(), request.GET.get("team"))
    service = chosen(Service.objects.all(), request.GET.get("service"))
    zone = getattr(request.user, "time_zone", "") or "UTC"
    return summary.Scope(end=now, days=days if days in summary.PERIOD_DAYS else 30, team=team, service_id=service.pk if service else None, tz=zone)


def chosen(rows, value: str | None):
    """The row a form's select names by its id, or None for nothing or anything else."""
    return rows.filter(pk=int(value)).first() if value and value.isascii() and value.isdigit() else None


def index_context(request: HttpRequest) -> dict:
    """What the admin home shows above the list of every page."""
    now = timezone.now()
    figures = None
    if request.user.has_perm("incidents.view_incident"):
        scope = scope_from(request, now)
        summarised = summary.summarise(scope, now=now)
        figures = {
            "scope": scope,
            "cards": summarised.cards,
            "charts": summarised.charts,
            "periods": summary.PERIOD_DAYS,
            "teams": list(Team.objects.order_by("name").values_list("pk", "name")),
            "services": list(Service.objects.order_by("name").values_list("pk", "name")),
        }
    return {
        "figures": figures,
        "board": open_payload(request),
        "on_call": dashboard.on_call(now=now) if request.user.has_perm("oncall.view_schedule") else None,
        # How often the page asks for the open incidents again (its countdowns tick every second
        # in between); without JavaScript it reloads itself as often.
        "refresh_seconds": settings.VIGIL_DASHBOARD_REFRESH_SECONDS,
        "now": now,
    }


def open_json(request: HttpRequest) -> JsonResponse:
    """GET: the open incidents as the dashboard shows them (the admin's own session and permissions;
    `admin_view` marks it never cached)."""
    return JsonResponse(open_payload(request))
