"""A period's figures as a manager reads them, for the dashboard's KPI cards and charts and the
metrics page: each figure against its target, with its definition, and the charts' data.

Everything here is assembled from the read-only selectors (`incidents.metrics`,
`postmortems.metrics`, this package's `load`): no figure is computed twice.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.db.models import Count
from django.db.models.functions import TruncWeek

from incidents import metrics
from incidents.models import SeverityLevel
from oncall.formatting import duration
from oncall.models import Team
from postmortems.models import ActionItem, PostMortem

from . import charts
from .aggregates import Period
from .definitions import DEFINITIONS as CROSS_APP_DEFINITIONS
from .load import pages_received

PERIOD_DAYS = (7, 30, 90)
# The severities the cards and trends single out: the two whose response is measured in minutes.
HEADLINE_RANKS = (1, 2)


@dataclass(frozen=True)
class Scope:
    """The incidents a summary covers: declared in the `days` before `end`, optionally one team's
    (an affected service it owns) or one service's; weeks cut in `tz`."""

    end: dt.datetime
    days: int = 30
    team: Team | None = None
    service_id: int | None = None
    tz: str = "UTC"

    @property
    def start(self) -> dt.datetime:
        return self.end - dt.timedelta(days=self.days)

    def filters(self, **extra) -> metrics.Filters:
        return metrics.Filters(
            team=self.team.pk if self.team else None, services=(self.service_id,) if self.service_id else (), **extra
        )

    def period(self) -> Period:
        """For the figures about people (pages, sleep hours): a team narrows them, a service does not."""
        return Period(self.start, self.end, team=self.team)


@dataclass(frozen=True)
class Card:
    key: str
    label: str
    value: str  # "4 min", "92 %", "3"
    target: str  # "target 5 min", "" when there is none
    met: bool | None  # None: no target or nothing measured
    help: str  # the figure's definition
    detail: str = ""


@dataclass(frozen=True)
class Summary:
    scope: Scope
    cards: list[Card]
    charts: list[charts.Chart] = field(default_factory=list)


def _incidents(count: int) -> str:
    return f"{count} incident" if count == 1 else f"{count} incidents"


def _share_text(judged: int, breaches: int) -> str:
    return "—" if not judged else f"{100 * (judged - breaches) / judged:.0f} %"


def summarise(scope: Scope, *, now: dt.datetime) -> Summary:
    """The KPI cards and the charts of `scope`, each selector read once (about 15 queries)."""
    severities = list(SeverityLevel.objects.order_by("rank"))
    compliance = metrics.compliance(scope.start, scope.end, now=now, filters=scope.filters())
    people = pages_received(scope.period())
    return Summary(
        scope=scope,
        cards=_cards(scope, now=now, severities=severities, compliance=compliance, people=people),
        charts=_charts(scope, severities=severities, compliance=compliance, people=people),
    )


def _cards(scope: Scope, *, now: dt.datetime, severities, compliance, people) -> list[Card]:
    """The KPI cards: MTTA and MTTR of SEV-1 and SEV-2, SLA compliance, open post-mortems and
    overdue action items, sleep-hour pages; each against its target where it has one."""
    by_severity = {row.key: row for row in metrics.figures(scope.start, scope.end, group_by="severity", tz=scope.tz, filters=scope.filters())}
    out = []
    for key, label in (("mtta", "MTTA"), ("mttr", "MTTR")):
        for severity in (s for s in severities if s.rank in HEADLINE_RANKS):
            row = by_severity.get(severity.pk)
            figure = row.figures[key] if row else None
            measured = figure is not None and figure.mean is not None
            out.append(
                Card(
                    key=f"{key}-{severity.rank}",
                    label=f"{label} {severity.name}",
                    value=duration(figure.mean) if measured else "—",
                    target=f"target {duration(figure.target)}" if figure and figure.target else "",
                    met=figure.met if figure else None,
                    help=metrics.DEFINITIONS[key],
                    detail=f"median {duration(figure.median)}, p90 {duration(figure.p90)}, {_incidents(figure.count)}" if measured else "no incidents",
                )
            )
    judged = breaches = 0
    for row in compliance:
        for share in row.shares.values():
            judged, breaches = judged + share.judged, breaches + share.breaches
    out.append(
        Card(
            key="sla", label="SLA compliance", value=_share_text(judged, breaches), target="target 100 %",
            met=None if not judged else breaches == 0,
            help="Acknowledged, first update, updates on cadence and resolved, each within what the incident was held "
            "to: the share of all these judged that were met.",
            detail=f"{breaches} breach{'es' if breaches != 1 else ''} of {judged}",
        )
    )
    today = now.astimezone(zoneinfo.ZoneInfo(scope.tz)).date()
    open_postmortems = PostMortem.objects.exclude(status=PostMortem.Status.PUBLISHED)
    late_items = ActionItem.objects.filter(status__in=[ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS], due_date__lt=today)
    if scope.team is not None or scope.service_id is not None:
        # A team's or service's: those of its incidents, whenever declared.
        theirs = metrics.incidents_in(dt.datetime.min.replace(tzinfo=dt.UTC), scope.end, scope.filters()).values("pk")
        open_postmortems = open_postmortems.filter(incident__in=theirs)
        late_items = late_items.filter(postmortem__incident__in=theirs)
    out.append(
        Card(
            key="postmortems", label="Open post-mortems", value=f"{open_postmortems.count():,}", target="", met=None,
            help="Post-mortems not yet published, whatever their incident's date.",
        )
    )
    late = late_items.count()
    out.append(
        Card(
            key="action-items", label="Overdue action items", value=f"{late:,}", target="target 0", met=late == 0,
            help="Action items open or in progress past their due date.",
        )
    )
    sleep = sum(row.sleep_hours for row in people)
    out.append(
        Card(
            key="sleep", label="Sleep-hour pages", value=f"{sleep:,}", target="", met=None,
            help=CROSS_APP_DEFINITIONS["sleep_hour_pages"],
        )
    )
    return out


def _weeks(scope: Scope) -> list[dt.date]:
    """The Mondays (in the scope's zone) of the weeks the period touches, oldest first."""
    zone = zoneinfo.ZoneInfo(scope.tz)
    first = scope.start.astimezone(zone).date()
    monday = first - dt.timedelta(days=first.weekday())
    last = scope.end.astimezone(zone).date()
    weeks = []
    while monday <= last:
        weeks.append(monday)
        monday += dt.timedelta(days=7)
    return weeks


def _week_label(monday: dt.date) -> str:
    return f"{monday.day} {monday:%b}"


def _minutes(value: dt.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 60, 1)


def _charts(scope: Scope, *, severities, compliance, people) -> list[charts.Chart]:
    """Weekly MTTA and MTTR of SEV-1 and SEV-2 against their targets, incidents per week by
    severity, SLA compliance by severity, and pages per person."""
    weeks = _weeks(scope)
    labels = [_week_label(w) for w in weeks]
    headline = [s for s in severities if s.rank in HEADLINE_RANKS]
    mtta, mttr, mtta_target, mttr_target = {}, {}, {}, {}
    for severity in headline:
        rows = {row.key: row for row in metrics.figures(scope.start, scope.end, group_by="week", tz=scope.tz, filters=scope.filters(severity=severity.pk))}
        mtta[severity.name] = [_minutes(rows[w].figures["mtta"].mean) if w in rows else None for w in weeks]
        mttr[severity.name] = [_minutes(rows[w].figures["mttr"].mean) if w in rows else None for w in weeks]
        # The severity's target today: the line to compare the weeks with (each incident was
        # judged against the target it was held to, `incidents.metrics`).
        mtta_target[severity.name] = _minutes(severity.mtta_target)
        mttr_target[severity.name] = _minutes(severity.mttr_target)
    out = [
        charts.line("MTTA by week", labels, mtta, x_title="Week starting", y_title="Minutes", targets=mtta_target, unit=" min"),
        charts.line("MTTR by week", labels, mttr, x_title="Week starting", y_title="Minutes", targets=mttr_target, unit=" min"),
    ]
    counted = (
        metrics.incidents_in(scope.start, scope.end, scope.filters())
        .annotate(week=TruncWeek("declared_at", tzinfo=zoneinfo.ZoneInfo(scope.tz)))
        .values("week", "severity__name")
        .annotate(n=Count("pk"))
        .order_by()
    )
    per_week = {(row["week"].date() if isinstance(row["week"], dt.datetime) else row["week"], row["severity__name"]): row["n"] for row in counted}
    out.append(
        charts.stacked_bars(
            "Incidents by week and severity", labels,
            {s.name: [per_week.get((w, s.name), 0) for w in weeks] for s in severities},
            x_title="Week starting", y_title="Incidents",
        )
    )
    shares = {}
    for row in compliance:
        judged = sum(s.judged for s in row.shares.values())
        missed = sum(s.breaches for s in row.shares.values())
        shares[row.severity] = round(100 * (judged - missed) / judged, 1) if judged else None
    out.append(charts.bars("SLA compliance by severity", shares, x_title="Severity", y_title="Targets met (%)", unit=" %", top=100))
    busiest = {p.name: p.pages for p in people[:10]}
    out.append(charts.bars("Pages per person (the ten most paged)", busiest, x_title="Person", y_title="Pages", horizontal=True))
    return out
