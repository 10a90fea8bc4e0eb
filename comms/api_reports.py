"""`GET /api/v1/reports/{id}?period=YYYY-MM-DD`: a scheduled report's sections and tables as JSON,
for the period starting that day (or containing it: its day, Monday–Sunday week or month in the
report's zone), rendered as the caller would receive it by mail. The report's owner or holders
of `comms.change_reportsubscription` (Managers) only; anyone else gets 404."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from oncall.api_auth import require_scope
from oncall.api_errors import ApiError, ErrorOut, ValidationErrorOut

from .models import ReportSubscription
from .reports import schedule
from .reports.render import as_json, render, viewer_for

router = Router(tags=["reports"])


class PeriodIn(Schema):
    period: dt.date | None = Field(None, description="A day of the period (YYYY-MM-DD); default: the latest period sent.")


@router.get("/reports/{report_id}", response={200: dict, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut})
def report(request: HttpRequest, report_id: int, query: Query[PeriodIn]) -> dict:
    require_scope(request, "read")
    subscription = ReportSubscription.objects.select_related("owner").filter(pk=report_id).first()
    may = subscription is not None and (
        subscription.owner_id == request.user.pk or request.user.has_perm("comms.change_reportsubscription")
    )
    if not may:
        raise ApiError(f"No report {report_id}.", status=404)
    cadence = schedule.cadence_of(subscription)
    if query.period is None:
        run = schedule.latest_due(cadence, dt.datetime.now(dt.UTC))
        start, end = run.start, run.end
    elif not 2000 <= query.period.year <= 2100:
        raise ApiError(f"No report period starts on {query.period}: choose a day between 2000 and 2100.", status=400)
    else:
        start, end = schedule.period_starting(cadence, query.period)
    return as_json(subscription, render(subscription, start, end, viewer_for(subscription, request.user)))
