"""The sections of a scheduled report: a registry of key → title, a function of (scope, period,
viewer) returning its figures as tables, and the templates that show them in the mail's HTML and
plain-text parts. The CSV download and the API read the same tables.

Every section leaves drills out. A restricted incident is named only to a viewer who may see
restricted incidents, in a report that names them; to anyone else it is counted ("1 restricted
incident, not named"), never named.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
from django.urls import reverse

from incidents import metrics, sla
from incidents.models import OPEN_STATUSES, Incident, SeverityLevel
from incidents.selectors import with_last_update
from oncall.formatting import age, duration, local
from oncall.models import EscalationPolicy, User

from .aggregates import Period

SHOWN = 50  # rows of an incident list; the rest are counted


@dataclasses.dataclass(frozen=True)
class Scope:
    """Which incidents a report covers: all, one team's (an affected service it owns), or those
    affecting some services."""

    team_id: int | None = None
    service_ids: tuple[int, ...] = ()

    def incidents(self, qs: QuerySet[Incident]) -> QuerySet[Incident]:
        qs = qs.filter(is_drill=False)
        if self.team_id is not None:
            qs = qs.filter(pk__in=Incident.services.through.objects.filter(service__owning_team_id=self.team_id).values("incident_id"))
        if self.service_ids:
            qs = qs.filter(pk__in=Incident.services.through.objects.filter(service_id__in=self.service_ids).values("incident_id"))
        return qs

    def period(self, start: dt.datetime, end: dt.datetime) -> Period:
        """The cross-app figures' period: they narrow to a team, not to services (a services
        scope reads them for every team)."""
        from oncall.models import Team

        return Period(start, end, Team.objects.get(pk=self.team_id) if self.team_id else None)


@dataclasses.dataclass(frozen=True)
class ReportPeriod:
    start: dt.datetime
    end: dt.datetime
    frequency: str  # daily / weekly / monthly: which review cells it lists
    now: dt.datetime  # when it is rendered: open incidents' ages and SLA states


@dataclasses.dataclass(frozen=True)
class Viewer:
    """Who reads it: a user (their zone) or a plain address (the report's zone)."""

    zone: ZoneInfo
    user: User | None = None
    names_restricted: bool = False

    @property
    def key(self) -> tuple[str, bool]:
        """What the report's words depend on: two viewers with the same key read the same report."""
        return (str(self.zone), self.names_restricted)

    def names(self, incident: Incident) -> bool:
        return not incident.is_restricted or self.names_restricted


@dataclasses.dataclass(frozen=True)
class Cell:
    text: str
    url: str = ""

    def __str__(self) -> str:
        return self.text


@dataclasses.dataclass
class Table:
    caption: str
    columns: list[str]
    rows: list[list[Cell]] = dataclasses.field(default_factory=list)
    unnamed: int = 0  # restricted incidents counted, not named
    more: int = 0  # rows beyond those shown
    empty: str = "None."

    def add(self, *cells) -> None:
        self.rows.append([c if isinstance(c, Cell) else Cell(str(c)) for c in cells])


@dataclasses.dataclass
class SectionResult:
    key: str
    title: str
    lines: list[str]  # one-sentence figures above the tables
    tables: list[Table]
    html_template: str = "comms/reports/section.html"
    text_template: str = "comms/reports/section.txt"


@dataclasses.dataclass(frozen=True)
class Section:
    key: str
    title: str
    build: Callable[[Scope, ReportPeriod, Viewer], tuple[list[str], list[Table]]]
    html_template: str = "comms/reports/section.html"
    text_template: str = "comms/reports/section.txt"

    def render(self, scope: Scope, period: ReportPeriod, viewer: Viewer) -> SectionResult:
        lines, tables = self.build(scope, period, viewer)
        return SectionResult(self.key, self.title, lines, tables, self.html_template, self.text_template)


SECTIONS: dict[str, Section] = {}


def register(key: str, title: str, **templates) -> Callable:
    """Add a section (decorating its build function); its key is what a subscription lists."""

    def decorate(build):
        SECTIONS[key] = Section(key, title, build, **templates)
        return build

    return decorate


def choices() -> list[tuple[str, str]]:
    return [(section.key, section.title) for section in SECTIONS.values()]


# --- helpers ------------------------------------------------------------------------------------


def admin_url(incident: Incident) -> str:
    return settings.VIGIL_BASE_URL.rstrip("/") + reverse("admin:incidents_incident_change", args=[incident.pk])


def incident_cell(incident: Incident) -> Cell:
    return Cell(f"{incident.reference} {incident.title}", admin_url(incident))


def _fill(table: Table, incidents, viewer: Viewer, row: Callable[[Incident], list]) -> None:
    for incident in incidents:
        if viewer.names(incident):
            if len(table.rows) < SHOWN:
                table.add(incident_cell(incident), *row(incident))
            else:
                table.more += 1
        else:
            table.unnamed += 1


def _when(moment: dt.datetime | None, viewer: Viewer) -> str:
    return local(moment, "%a %d %b %Y %H:%M", viewer.zone) if moment else "—"


# --- the sections -------------------------------------------------------------------------------


@register("open_incidents", "Open incidents")
def open_incidents(scope: Scope, period: ReportPeriod, viewer: Viewer):
    """Open now, worst first: severity, SLA state, age (four queries)."""
    qs = with_last_update(scope.incidents(Incident.objects.filter(status__in=OPEN_STATUSES))).select_related("severity")
    total = qs.count()
    found = list(qs.order_by("severity__rank", "declared_at", "pk")[: SHOWN * 4])
    sla.attach_calendars(found)
    table = Table("Open incidents, most severe first", ["Incident", "Severity", "Status", "SLA", "Age"], empty="No open incidents.")
    _fill(
        table, found, viewer,
        lambda i: [i.severity.name, i.get_status_display(),
                   sla.summary(i, now=period.now, last_update_at=i.last_update_at).label, age(i.declared_at, period.now)],
    )
    table.more += total - len(found)
    return [f"{total} open incident{'s' * (total != 1)} now."], [table]


@register("declared_resolved", "Incidents declared and resolved")
def declared_resolved(scope: Scope, period: ReportPeriod, viewer: Viewer):
    """Counts by severity, and the incidents declared in the period (three queries)."""
    base = scope.incidents(Incident.objects.all())
    declared_q = Q(declared_at__gte=period.start, declared_at__lt=period.end)
    resolved_q = Q(resolved_at__gte=period.start, resolved_at__lt=period.end)
    counts = {
        row["severity"]: row
        for row in base.filter(declared_q | resolved_q)
        .values("severity")
        .annotate(declared=Count("pk", filter=declared_q), resolved=Count("pk", filter=resolved_q))
        .order_by()
    }
    by_severity = Table("By severity", ["Severity", "Declared", "Resolved"])
    declared = resolved = 0
    for level in SeverityLevel.objects.order_by("rank"):
        row = counts.get(level.pk, {"declared": 0, "resolved": 0})
        declared, resolved = declared + row["declared"], resolved + row["resolved"]
        by_severity.add(level.name, row["declared"], row["resolved"])
    listed = Table("Declared in the period", ["Incident", "Severity", "Declared", "Resolved"], empty="None declared.")
    _fill(
        listed,
        base.filter(declared_q).select_related("severity").order_by("declared_at", "pk")[: SHOWN * 4],
        viewer,
        lambda i: [i.severity.name, _when(i.declared_at, viewer), _when(i.resolved_at, viewer)],
    )
    listed.more += max(0, declared - len(listed.rows) - listed.unnamed - listed.more)
    return [f"{declared} declared, {resolved} resolved."], [by_severity, listed]


@register("escalations", "Escalations and acknowledge-SLA breaches")
def escalations_fired(scope: Scope, period: ReportPeriod, viewer: Viewer):
    from .pager import escalations

    found = escalations(scope.period(period.start, period.end))
    table = Table("Escalation levels engaged", ["Level", "Times engaged", "Incidents"], empty="No escalations.")
    for level in found.by_level:
        table.add(level.level, level.fired, level.incidents)
    return [
        f"{found.ack_sla_breaches} acknowledge-SLA breach{'es' * (found.ack_sla_breaches != 1)} "
        f"on {found.incidents_breaching_ack_sla} incident{'s' * (found.incidents_breaching_ack_sla != 1)}."
    ], [table]


REVIEWS = {"daily": "weekly review", "weekly": "weekly review", "monthly": "monthly review"}


def deferred_cells() -> dict[int, dict[int, list[tuple[str, str]]]]:
    """policy id → severity rank → [(level name, review)] for the matrix's cells that never
    engage a level: for each severity the first level left out goes to the weekly review, any
    later one to the monthly review (the procedures' SEV-3 director and SEV-4 manager cells are
    weekly, the SEV-4 director cell monthly). Two queries."""
    ranks = list(SeverityLevel.objects.values_list("rank", flat=True))
    cells: dict[int, dict[int, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for policy in EscalationPolicy.objects.prefetch_related("levels__delays"):
        levels = sorted(policy.levels.all(), key=lambda level: level.position)
        for rank in ranks:
            engaged = False
            for level in levels:
                if any(delay.severity_rank == rank for delay in level.delays.all()):
                    engaged = True
                elif engaged:
                    review = "weekly review" if not cells[policy.pk][rank] else "monthly review"
                    cells[policy.pk][rank].append((level.name, review))
    return cells


@register("deferred_review", "Deferred to this review")
def deferred_review(scope: Scope, period: ReportPeriod, viewer: Viewer):
    """Incidents of the period whose severity's matrix cell defers a level to this review."""
    review = REVIEWS[period.frequency]
    cells = deferred_cells()
    default = EscalationPolicy.objects.filter(is_default=True).values_list("pk", flat=True).first()
    table = Table(f"Incidents the matrix defers to the {review}", ["Incident", "Severity", "Deferred", "Status"], empty="Nothing deferred.")
    incidents = (
        scope.incidents(Incident.objects.filter(declared_at__gte=period.start, declared_at__lt=period.end))
        .select_related("severity")
        .order_by("severity__rank", "declared_at", "pk")
    )
    # Only the (policy, severity) pairs with a cell for this review are read.
    wanted = Q(pk__in=[])
    for policy_id, ranks in cells.items():
        deferring = [rank for rank, levels in ranks.items() if any(r == review for _, r in levels)]
        if deferring:
            wanted |= Q(escalation_policy_id=policy_id, severity__rank__in=deferring)
            if policy_id == default:
                wanted |= Q(escalation_policy_id=None, severity__rank__in=deferring)
    deferred = []
    for incident in incidents.filter(wanted).iterator(chunk_size=500):
        policy = incident.escalation_policy_id or default
        levels = [name for name, cell_review in cells.get(policy, {}).get(incident.severity.rank, []) if cell_review == review]
        if levels:
            deferred.append((incident, levels))
    named = {incident.pk: levels for incident, levels in deferred}
    _fill(table, [i for i, _ in deferred], viewer, lambda i: [i.severity.name, ", ".join(named[i.pk]), i.get_status_display()])
    return [f"{len(deferred)} incident{'s' * (len(deferred) != 1)} for the {review}."], [table]


@register("postmortems", "Post-mortems and action items")
def postmortems(scope: Scope, period: ReportPeriod, viewer: Viewer):
    """Post-mortems not yet published (overdue first) and overdue action items by owner."""
    from postmortems.models import ActionItem, PostMortem

    today = period.now.astimezone(viewer.zone).date()
    in_scope = scope.incidents(Incident.objects.all()).values("pk")
    unpublished = (
        PostMortem.objects.exclude(status=PostMortem.Status.PUBLISHED)
        .filter(incident__in=in_scope)
        .select_related("incident__severity", "owner")
        .order_by("publish_due", "pk")
    )
    table = Table("Post-mortems not yet published", ["Incident", "Owner", "Status", "Publish by", "Overdue"], empty="None.")
    overdue = 0
    rows = []
    for postmortem in unpublished[: SHOWN * 4]:
        late = postmortem.publish_due < today
        overdue += late
        rows.append(postmortem)
    by_incident = {p.incident_id: p for p in rows}
    _fill(
        table, [p.incident for p in rows], viewer,
        lambda i: [str(by_incident[i.pk].owner or "—"), by_incident[i.pk].get_status_display(),
                   f"{by_incident[i.pk].publish_due:%a %d %b %Y}",
                   duration(dt.timedelta(days=(today - by_incident[i.pk].publish_due).days)) if by_incident[i.pk].publish_due < today else ""],
    )
    items = (
        ActionItem.objects.filter(
            status__in=[ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS], due_date__lt=today, postmortem__incident__in=in_scope
        )
        .values("owner__username", "owner__first_name", "owner__last_name")
        .annotate(overdue=Count("pk"), oldest=Min("due_date"))
        .order_by("-overdue", "owner__username")
    )
    owners = Table("Action items overdue, by owner", ["Owner", "Overdue items", "Oldest due"], empty="No overdue action items.")
    for row in items:
        name = f"{row['owner__first_name']} {row['owner__last_name']}".strip() or row["owner__username"] or "(no owner)"
        owners.add(name, row["overdue"], f"{row['oldest']:%a %d %b %Y}")
    return [f"{unpublished.count()} unpublished, {overdue} past their publish date."], [table, owners]


@register("oncall_load", "On-call load")
def oncall_load(scope: Scope, period: ReportPeriod, viewer: Viewer):
    from .load import oncall_load as load

    found = load(scope.period(period.start, period.end))
    table = Table(
        "Per person", ["Person", "Pages", "Sleep-hour pages", "Outside working hours", "Hours on call", "Incidents commanded"],
        empty="Nobody was paged or on call.",
    )
    for person in found.people:
        if person.pages or person.hours_on_call or person.incidents_commanded:
            table.add(person.name, person.pages, person.sleep_hours, person.outside_working_hours,
                      f"{person.hours_on_call:.1f}", person.incidents_commanded)
    pages = sum(p.pages for p in found.people)
    sleep = sum(p.sleep_hours for p in found.people)
    return [f"{pages} page{'s' * (pages != 1)}, {sleep} in sleep hours."], [table]


NOISIEST = 10


@register("noise", "Noisiest services and alerts")
def noise(scope: Scope, period: ReportPeriod, viewer: Viewer):
    from .noise import alert_noise

    found = alert_noise(scope.period(period.start, period.end))
    services = Table("Services", ["Service", "Alerts", "Deduplicated", "Incidents opened", "Suppressed"], empty="No alerts.")
    for row in sorted(found.services, key=lambda s: (-s.alerts, s.name))[:NOISIEST]:
        services.add(row.name, row.alerts, row.deduplicated, row.incidents_opened, row.suppressed)
    keys = Table("Alerts", ["Alert", "Integration", "Alerts", "Incidents opened"], empty="No alerts.")
    for row in found.noisiest_keys[:NOISIEST]:
        keys.add(row.name, row.integration, row.alerts, row.incidents_opened)
    total = sum(s.alerts for s in found.services)
    return [f"{total} alert{'s' * (total != 1)} received."], [services, keys]


def _filters(scope: Scope) -> metrics.Filters:
    return metrics.Filters(team=scope.team_id, services=scope.service_ids)


def _change(now: dt.timedelta | None, before: dt.timedelta | None) -> str:
    """ "+3 min" / "−2 min" against the previous period, "—" when either is missing."""
    if now is None or before is None:
        return "—"
    delta = now - before
    return ("+" if delta >= dt.timedelta(0) else "−") + duration(abs(delta))


@register("mtta_mttr", "MTTA, MTTR and MTTD by severity")
def mtta_mttr(scope: Scope, period: ReportPeriod, viewer: Viewer):
    """The incidents declared in the period against their targets, with the change from the period
    before it (`incidents.metrics.figures`, twice: four or six queries)."""
    length = period.end - period.start
    now_rows = {r.key: r for r in metrics.figures(period.start, period.end, group_by="severity", tz=str(viewer.zone), filters=_filters(scope))}
    before = {r.key: r for r in metrics.figures(period.start - length, period.start, group_by="severity", tz=str(viewer.zone), filters=_filters(scope))}
    table = Table(
        "Mean times against targets (change from the previous period)",
        ["Severity", "Incidents", "MTTD", "MTTA", "MTTA target", "MTTA change", "MTTR", "MTTR target", "MTTR change"],
        empty="No incidents declared in this period.",
    )
    for key, row in now_rows.items():
        f, b = row.figures, before.get(key)
        verdict = {True: " (met)", False: " (missed)", None: ""}
        table.add(
            row.label, row.incidents, duration(f["mttd"].mean),
            duration(f["mtta"].mean) + verdict[f["mtta"].met], duration(f["mtta"].target),
            _change(f["mtta"].mean, b.figures["mtta"].mean if b else None),
            duration(f["mttr"].mean) + verdict[f["mttr"].met], duration(f["mttr"].target),
            _change(f["mttr"].mean, b.figures["mttr"].mean if b else None),
        )
    lines = [metrics.DEFINITIONS[key] for key in ("mttd", "mtta", "mttr")]
    return lines, [table]


COMPLIANCE_WORDS = {
    "ack_on_time": "Acknowledged on time",
    "first_update_on_time": "First update on time",
    "updates_on_cadence": "Updates on cadence",
    "resolved_on_time": "Resolved on time",
}


@register("sla_compliance", "SLA compliance and breaches")
def sla_compliance(scope: Scope, period: ReportPeriod, viewer: Viewer):
    """Each SLA's share met per severity against what the incidents were held to, and the
    incidents that missed the acknowledge, first-update and resolve targets (`incidents.metrics`)."""
    rows = metrics.compliance(period.start, period.end, now=period.now, filters=_filters(scope))
    shares = Table("Targets met", ["Severity", "Incidents", *COMPLIANCE_WORDS.values()], empty="No incidents declared in this period.")
    for row in rows:
        cells = []
        for key in COMPLIANCE_WORDS:
            share = row.shares[key]
            cells.append("—" if share.share is None else f"{share.share:.0%} ({share.breaches} missed of {share.judged})")
        shares.add(row.severity, row.incidents, *cells)
    tables = [shares]
    for key in ("ack_on_time", "first_update_on_time", "resolved_on_time"):
        table = Table(f"{COMPLIANCE_WORDS[key]}: missed", ["Incident", "Severity", "Due"], empty="None missed.")
        for breach in metrics.breaches(period.start, period.end, key, user=None, now=period.now, filters=_filters(scope), limit=SHOWN + 1):
            if breach.restricted and not viewer.names_restricted:
                table.unnamed += 1
            elif len(table.rows) < SHOWN:
                url = settings.VIGIL_BASE_URL.rstrip("/") + reverse("admin:incidents_incident_change", args=[breach.incident_id])
                table.add(Cell(f"INC-{breach.number} {breach.title}", url), breach.severity, _when(breach.due_at, viewer))
            else:
                table.more += 1
        tables.append(table)
    return [metrics.DEFINITIONS[key] for key in COMPLIANCE_WORDS], tables


DEFAULT_SECTIONS = list(SECTIONS)
