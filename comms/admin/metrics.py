"""The admin's metrics page (/admin/metrics/): a period's figures in full, filterable, with the
SLA breaches behind each share, and the table as CSV. Figures come from the read-only selectors
(`incidents.metrics`, `postmortems.metrics`, `comms.reports`); restricted incidents are counted
and named only to those who may see them."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from incidents import metrics
from incidents.models import Service, SeverityLevel
from oncall.formatting import duration
from oncall.models import Team
from postmortems import metrics as postmortem_metrics

from ..reports import definitions, summary
from ..reports.load import oncall_load
from ..reports.noise import alert_noise
from ..reports.pager import escalations, pager_latency
from . import dashboard

GROUPS = {"severity": "Severity", "service": "Service", "team": "Team", "type": "Incident type", "week": "Week", "month": "Month", "": "All incidents"}


class _Echo:
    def write(self, value):
        return value


def _choices(request: HttpRequest, now: dt.datetime) -> dict:
    """The dashboard's period, team and service (`dashboard.scope_from`), and the page's own
    grouping and severity."""
    scope = dashboard.scope_from(request, now)
    group_by = request.GET.get("group_by", "severity")
    group_by = group_by if group_by in GROUPS else "severity"
    severity = dashboard.chosen(SeverityLevel.objects.all(), request.GET.get("severity"))
    return {"scope": scope, "group_by": group_by, "severity": severity,
            "filters": scope.filters(severity=severity.pk if severity else None)}


def _figure_cells(figure: metrics.Figure) -> list[str]:
    return [duration(figure.mean), duration(figure.median), duration(figure.p90), duration(figure.target) if figure.target else "—",
            {True: "met", False: "missed", None: "—"}[figure.met]]


FIGURE_COLUMNS = ("mean", "median", "p90", "target", "verdict")


def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET: the page; `?format=csv`: its figures table as CSV (streamed)."""
    if not request.user.has_perm("incidents.view_incident"):
        raise PermissionDenied("Seeing the figures needs the permission to view incidents (Viewers and above).")
    now = timezone.now()
    chosen = _choices(request, now)
    scope, filters = chosen["scope"], chosen["filters"]
    rows = metrics.figures(scope.start, scope.end, group_by=chosen["group_by"] or None, tz=scope.tz, filters=filters)
    if request.GET.get("format") == "csv":
        return _csv(rows, chosen)
    compliance = metrics.compliance(scope.start, scope.end, now=now, filters=filters)
    breach_of = request.GET.get("breaches")
    breaches = (
        metrics.breaches(scope.start, scope.end, breach_of, user=request.user, now=now, filters=filters)
        if breach_of in metrics.COMPLIANCE else None
    )
    period = scope.period()
    context = {
        **admin.site.each_context(request),
        "title": "Metrics",
        "group_label": GROUPS[chosen["group_by"]],
        "chosen": chosen,
        "groups": GROUPS,
        "periods": summary.PERIOD_DAYS,
        "teams": Team.objects.order_by("name"),
        "services": Service.objects.order_by("name"),
        "severities": SeverityLevel.objects.order_by("rank"),
        "durations": [(key, metrics.DEFINITIONS[key]) for key in metrics.DURATIONS],
        "figure_columns": FIGURE_COLUMNS,
        "rows": [(row, [_figure_cells(row.figures[key]) for key in metrics.DURATIONS]) for row in rows],
        "compliance_keys": [(key, metrics.DEFINITIONS[key]) for key in metrics.COMPLIANCE],
        "compliance": [
            (row, [(share, _share_text(share), _breaches_url(request, key, row.severity_id) if share.breaches else "")
                   for key, share in row.shares.items()])
            for row in compliance
        ],
        "breach_of": breach_of if breaches is not None else None,
        "breaches": breaches,
        "postmortems": [
            (row, share, f"{_share_text(share)} (target {share.target:.0%})")
            for row in postmortem_metrics.published_on_time(scope.start, scope.end, now=now, tz=scope.tz, filters=filters)
            for share in row.shares.values()
        ],
        "postmortem_definition": postmortem_metrics.DEFINITIONS[postmortem_metrics.PUBLISHED_ON_TIME],
        "escalations": escalations(period),
        "latency": pager_latency(period),
        "load": oncall_load(period),
        "noise": alert_noise(period),
        "cross_app": definitions.DEFINITIONS,
        "csv_query": _with(request, format="csv"),
    }
    return TemplateResponse(request, "admin/vigil_metrics.html", context)


def _share_text(share) -> str:
    """ "92 % of 25" (met among those judged), or "—" when nothing could be judged yet."""
    return "—" if share.share is None else f"{share.share:.0%} of {share.judged}"


def _breaches_url(request: HttpRequest, key: str, severity_id: int) -> str:
    return "?" + _with(request, breaches=key, severity=str(severity_id)) + "#breaches"


def _with(request: HttpRequest, **changes) -> str:
    query = request.GET.copy()
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


def _csv(rows: list[metrics.Row], chosen: dict) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    header = [GROUPS[chosen["group_by"]], "incidents"] + [f"{key} {column}" for key in metrics.DURATIONS for column in FIGURE_COLUMNS]

    def lines():
        yield writer.writerow(header)
        for row in rows:
            cells = [row.label, row.incidents]
            for key in metrics.DURATIONS:
                figure = row.figures[key]
                cells += [_seconds(figure.mean), _seconds(figure.median), _seconds(figure.p90), _seconds(figure.target),
                          {True: "met", False: "missed", None: ""}[figure.met]]
            yield writer.writerow(cells)

    scope = chosen["scope"]
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    name = f"vigil-metrics-{scope.end:%Y-%m-%d}-{scope.days}d-by-{chosen['group_by'] or 'all'}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _seconds(value: dt.timedelta | None) -> str:
    """Durations in the CSV as whole seconds, for spreadsheets to compute with."""
    return "" if value is None else f"{value.total_seconds():.0f}"
