"""One report for one reader: its sections for a subscription's scope and a period, rendered to
the mail's subject, plain text and HTML (inline CSS, no scripts, no external resources, charts
as tables). The admin's preview, "Send now", the schedule, the CSV and the API all read it here,
so a preview is exactly what is sent."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string
from django.utils import timezone

from incidents.permissions import VIEW_RESTRICTED

from .sections import SECTIONS, ReportPeriod, Scope, SectionResult, Viewer


@dataclasses.dataclass
class Report:
    subject: str
    text: str
    html: str
    sections: list[SectionResult]
    start: dt.datetime
    end: dt.datetime
    period_text: str


def scope_of(subscription) -> Scope:
    return Scope(team_id=subscription.team_id, service_ids=tuple(sorted(s.pk for s in subscription.services.all())))


def viewer_for(subscription, user=None) -> Viewer:
    """A user reads in their own zone, and restricted incidents are named only when the report
    names them and the user may see them (checked now, at every send); a plain address reads in
    the report's zone and never sees a restricted incident named."""
    if user is None:
        return Viewer(zone=ZoneInfo(subscription.zone_name))
    names = bool(subscription.name_restricted and user.is_active and user.has_perm(VIEW_RESTRICTED))
    return Viewer(zone=ZoneInfo(user.time_zone or "UTC"), user=user, names_restricted=names)


def period_text(start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> str:
    """The period in the reader's zone: days when it runs midnight to midnight there
    ("Mon 23 Nov – Sun 29 Nov 2026"), else its two instants with the zone's abbreviation."""
    first, after = timezone.localtime(start, zone), timezone.localtime(end, zone)
    if first.time() == after.time() == dt.time(0, 0):
        last = after - dt.timedelta(days=1)  # the last day is the one before the end's midnight
        if first.date() >= last.date():
            return f"{first:%a %d %b %Y}"
        return f"{first:%a %d %b} – {last:%a %d %b %Y}"
    return f"{first:%a %d %b %Y %H:%M} – {after:%a %d %b %Y %H:%M} {after:%Z}"


def render(subscription, start: dt.datetime, end: dt.datetime, viewer: Viewer, *, now: dt.datetime | None = None) -> Report:
    now = now or timezone.now()
    scope = scope_of(subscription)
    period = ReportPeriod(start=start, end=end, frequency=subscription.frequency, now=now)
    results = [SECTIONS[key].render(scope, period, viewer) for key in subscription.sections if key in SECTIONS]
    text_period = period_text(start, end, viewer.zone)
    context = {
        "subscription": subscription,
        "period": text_period,
        "sections": results,
        "generated": timezone.localtime(now, viewer.zone).strftime("%a %d %b %Y %H:%M %Z"),
        "zone": str(viewer.zone),
    }
    sections_html = [render_to_string(r.html_template, {"section": r}) for r in results]
    sections_text = [render_to_string(r.text_template, {"section": r}) for r in results]
    return Report(
        subject=f"{subscription.name}: {text_period}"[:300],
        text=render_to_string("comms/reports/report.txt", {**context, "parts": sections_text}),
        html=render_to_string("comms/reports/report.html", {**context, "parts": sections_html}),
        sections=results,
        start=start,
        end=end,
        period_text=text_period,
    )


def as_csv(report: Report) -> str:
    """The report's tables, one after another: section, table, then its header and rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    for section in report.sections:
        for table in section.tables:
            writer.writerow([section.title, table.caption])
            writer.writerow(table.columns)
            for row in table.rows:
                writer.writerow([cell.text for cell in row])
            if table.unnamed:
                writer.writerow([f"{table.unnamed} restricted incident(s), not named"])
            if table.more:
                writer.writerow([f"{table.more} more not listed"])
            writer.writerow([])
    return out.getvalue()


def as_json(subscription, report: Report) -> dict:
    return {
        "subscription": {"id": subscription.pk, "name": subscription.name, "frequency": subscription.frequency},
        "period_start": report.start.astimezone(dt.UTC),
        "period_end": report.end.astimezone(dt.UTC),
        "period": report.period_text,
        "sections": [
            {
                "key": section.key,
                "title": section.title,
                "figures": section.lines,
                "tables": [
                    {
                        "caption": table.caption,
                        "columns": table.columns,
                        "rows": [[cell.text for cell in row] for row in table.rows],
                        "links": [[cell.url for cell in row] for row in table.rows],
                        "restricted_not_named": table.unnamed,
                        "more": table.more,
                    }
                    for table in section.tables
                ],
            }
            for section in report.sections
        ],
    }
