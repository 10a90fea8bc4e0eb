"""The metrics part of the JSON API: `GET /metrics` (the figures of a period, grouped) and
`GET /metrics/compliance` (SLA compliance per severity), straight from `incidents.metrics`.
Mounted inside `incidents.api.router`.

Figures never name an incident, so any caller who may see incidents may read them: restricted
incidents are counted, as everywhere in the metrics. Durations are seconds (float), shares 0–1.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema

from oncall.api_auth import require_perm, require_scope
from oncall.api_common import invalid, utc
from oncall.models import Team

from . import metrics
from .api_schemas import READ_ERRORS
from .api_services import SLUG
from .errors import UnknownSeverity
from .models import Service
from .severities import find_severity

router = Router()

METRICS = ["metrics"]
PERIOD = re.compile(r"([1-9][0-9]{0,2})d")
LONGEST = dt.timedelta(days=366)


class FigureOut(Schema):
    count: int
    mean_seconds: float | None
    median_seconds: float | None
    p90_seconds: float | None
    target_seconds: float | None
    met: bool | None
    definition: str


class RowOut(Schema):
    key: Any  # an id, a first day (week/month), or null
    label: str
    incidents: int
    figures: dict[str, FigureOut]


class PeriodOut(Schema):
    start: dt.datetime
    end: dt.datetime
    time_zone: str


class MetricsOut(Schema):
    period: PeriodOut
    group_by: str | None
    rows: list[RowOut]


class ShareOut(Schema):
    judged: int
    breaches: int
    share: float | None
    target: float
    met: bool | None
    definition: str


class ComplianceRowOut(Schema):
    severity: str
    incidents: int
    shares: dict[str, ShareOut]


class ComplianceOut(Schema):
    period: PeriodOut
    rows: list[ComplianceRowOut]


def _seconds(value: dt.timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def _can_read(request: HttpRequest) -> None:
    require_scope(request, "read")
    require_perm(request, "incidents.view_incident", "see incident metrics")


def _period(period: str | None, start: dt.datetime | None, end: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    """`period` ("30d": the 30 days to now) or `start`/`end` (end defaults to now); 30 days if neither."""
    now = timezone.now()
    if period is not None:
        if start is not None:
            raise invalid("period", "Give either period or start/end, not both.")
        match = PERIOD.fullmatch(period.strip())
        if not match:
            raise invalid("period", "Give the period as days, e.g. 7d, 30d or 90d.")
        days = dt.timedelta(days=int(match[1]))
        if days > LONGEST:
            raise invalid("period", "At most 366 days.")
        return now - days, now
    end = utc(end, "end") or now
    start = utc(start, "start") or end - dt.timedelta(days=30)
    if start >= end:
        raise invalid("start", "The start must be before the end.")
    if end - start > LONGEST:
        raise invalid("start", "At most 366 days between start and end.")
    return start, end


def _zone(tz: str) -> str:
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise invalid("tz", f"Unknown time zone {tz[:60]!r}; give an IANA name such as Europe/London.") from None
    return tz


def _filters(team: str | None, service: list[str] | None, severity: str | None) -> metrics.Filters:
    # Only slug-shaped values reach the database (a NUL byte is an error there, not a miss).
    team_id = None
    if team:
        team_id = Team.objects.filter(slug=team).values_list("pk", flat=True).first() if SLUG.fullmatch(team) else None
        if team_id is None:
            raise invalid("team", f"Unknown team {team[:60]!r}.")
    slugs = [part.strip() for value in service or () for part in value.split(",") if part.strip()]
    services = dict(Service.objects.filter(slug__in=[s for s in slugs if SLUG.fullmatch(s)]).values_list("slug", "pk"))
    missing = [slug for slug in slugs if slug not in services]
    if missing:
        raise invalid("service", f"Unknown service{'s' if len(missing) > 1 else ''}: {', '.join(m[:60] for m in missing)}.")
    severity_id = None
    if severity:
        try:
            severity_id = find_severity(severity).pk
        except UnknownSeverity as exc:
            raise invalid("severity", str(exc)) from None
    return metrics.Filters(team=team_id, services=tuple(services[slug] for slug in slugs), severity=severity_id)


@router.get("/metrics", response={200: MetricsOut, **READ_ERRORS}, tags=METRICS)
def incident_metrics(
    request: HttpRequest,
    period: str | None = Query(None, description="Days to now: 7d, 30d, 90d… (else start/end; 30 days by default)."),
    start: dt.datetime | None = Query(None, description="Incidents declared from this instant (no zone: UTC)."),
    end: dt.datetime | None = Query(None, description="…until before this instant (default: now)."),
    group_by: str | None = Query(None, description="severity, service, team, type, week or month; none: one row."),
    tz: str = Query("UTC", description="The zone weeks and months are cut in (IANA name)."),
    team: str | None = Query(None, description="A team's slug: incidents affecting its services."),
    service: list[str] | None = Query(None, description="Service slugs; repeatable or comma-separated."),
    severity: str | None = Query(None, description="A severity's name, label or rank."),
):
    """MTTD, MTTA, time to mitigate and MTTR of the incidents declared in the period (drills left
    out, restricted incidents counted), each with count, mean, median, p90 and its target."""
    _can_read(request)
    if group_by not in metrics.GROUP_BY:
        raise invalid("group_by", f"Group by one of: {', '.join(g for g in metrics.GROUP_BY if g)}.")
    first, last = _period(period, start, end)
    rows = metrics.figures(first, last, group_by=group_by, tz=_zone(tz), filters=_filters(team, service, severity))
    return {
        "period": {"start": first, "end": last, "time_zone": tz},
        "group_by": group_by,
        "rows": [
            {
                "key": row.key.isoformat() if isinstance(row.key, dt.date) else row.key,
                "label": row.label,
                "incidents": row.incidents,
                "figures": {
                    name: {
                        "count": figure.count,
                        "mean_seconds": _seconds(figure.mean),
                        "median_seconds": _seconds(figure.median),
                        "p90_seconds": _seconds(figure.p90),
                        "target_seconds": _seconds(figure.target),
                        "met": figure.met,
                        "definition": figure.definition,
                    }
                    for name, figure in row.figures.items()
                },
            }
            for row in rows
        ],
    }


@router.get("/metrics/compliance", response={200: ComplianceOut, **READ_ERRORS}, tags=METRICS)
def incident_compliance(
    request: HttpRequest,
    period: str | None = Query(None, description="Days to now: 7d, 30d, 90d… (else start/end; 30 days by default)."),
    start: dt.datetime | None = Query(None),
    end: dt.datetime | None = Query(None),
    team: str | None = Query(None),
    service: list[str] | None = Query(None),
    severity: str | None = Query(None),
):
    """SLA compliance per severity against what each incident was held to: a share met and the breaches."""
    _can_read(request)
    first, last = _period(period, start, end)
    rows = metrics.compliance(first, last, filters=_filters(team, service, severity))
    return {
        "period": {"start": first, "end": last, "time_zone": "UTC"},
        "rows": [
            {
                "severity": row.severity,
                "incidents": row.incidents,
                "shares": {
                    name: {
                        "judged": share.judged,
                        "breaches": share.breaches,
                        "share": share.share,
                        "target": share.target,
                        "met": share.met,
                        "definition": share.definition,
                    }
                    for name, share in row.shares.items()
                },
            }
            for row in rows
        ],
    }
