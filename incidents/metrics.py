"""The incident figures managers steer by — MTTD, MTTA, time to mitigate, MTTR and SLA compliance —
for a period, as SQL aggregates over the lifecycle timestamps and the timeline.

Read-only selectors for the dashboard, reports and API: plain dataclasses out, every figure with
its definition (`DEFINITIONS`, the same words as docs/architecture.md, "Metrics") and its target.
The per-incident block of a post-mortem is `postmortems.metrics`; these use its definitions.

- A period is the incidents *declared* in [start, end). Drills are left out. Restricted incidents
  are counted in every figure; only `breaches` names incidents, and never one the viewer may not see.
- Means and counts are aggregates on every database. Median and p90 are PostgreSQL's
  `percentile_cont` (continuous: interpolated between the two nearest durations); SQLite, the demo
  database, has no ordered-set aggregate, so there the durations of the period are read as values
  (one query), sorted, and the same interpolation is done in Python.
"""

from __future__ import annotations

import dataclasses
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    BooleanField,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Least, TruncMonth, TruncWeek

from . import clock
from .models import AlertGroup, Incident, MetricTargets, TimelineEvent
from .selectors import visible_incidents

# The definitions, shown as help text wherever a figure is shown (docs/architecture.md, "Metrics").
DEFINITIONS = {
    "mttd": "Time to detect: declared (or the first alert, when one was recorded earlier) minus detected, never below "
    "zero; only incidents with a detection time. Target: the metric targets' MTTD.",
    "mtta": "Time to acknowledge: the first acknowledgement minus declared. Target: the MTTA target the "
    "incidents were held to (the mean of them when the row mixes severities).",
    "ttm": "Time to mitigate: mitigated minus when impact began (detected, else declared), as in the "
    "post-mortem's metrics. No target.",
    "mttr": "Time to resolve: resolved minus declared (as the resolve target counts), using the last resolution "
    "of a reopened incident. "
    "Target: the MTTR target the incidents were held to (the mean of them when the row mixes severities).",
    "ack_on_time": "Acknowledged within the acknowledge SLA the incident was held to (resolving unacknowledged "
    "counts, as the engine counts it). Breach: acknowledged after the due time, or still not when it passed.",
    "first_update_on_time": "First status update (internal or external) by the due time the incident was held "
    "to, or resolved before it. Breach: the first update came later, or none had when it passed.",
    "updates_on_cadence": "Share of update intervals met: each interval between consecutive status updates "
    "while the incident was open (one spanning a resolution, before a reopen, is left out) is met when no longer "
    "than the update cadence it was held to, in elapsed time (also on a business-hours update clock).",
    "resolved_on_time": "Resolved (last resolution) by the resolve due time the incident was held to. "
    "Breach: resolved later, or still open when it passed.",
}
# A figure is the mean, median and p90 of a duration per incident; compliance shares aim at 100 %.
DURATIONS = ("mttd", "mtta", "ttm", "mttr")
COMPLIANCE = ("ack_on_time", "first_update_on_time", "updates_on_cadence", "resolved_on_time")
GROUP_BY = (None, "severity", "service", "team", "type", "week", "month")


@dataclasses.dataclass(frozen=True)
class Filters:
    """Which incidents a figure counts, beyond the period: a team (owning any affected service),
    services (any of them affected), a severity. Drills are always left out."""

    team: int | None = None
    services: tuple[int, ...] = ()
    severity: int | None = None


@dataclasses.dataclass(frozen=True)
class Figure:
    key: str
    count: int  # incidents measured (the moment recorded)
    mean: timedelta | None
    median: timedelta | None
    p90: timedelta | None
    target: timedelta | None  # None: no target

    @property
    def met(self) -> bool | None:
        """The mean within its target; None without a target or a measurement."""
        if self.target is None or self.mean is None:
            return None
        return self.mean <= self.target

    @property
    def definition(self) -> str:
        return DEFINITIONS[self.key]


@dataclasses.dataclass(frozen=True)
class Share:
    key: str
    judged: int  # incidents (or update intervals) that could meet or miss it
    breaches: int
    target: float = 1.0  # every incident within what it was held to

    @property
    def share(self) -> float | None:
        return (self.judged - self.breaches) / self.judged if self.judged else None

    @property
    def met(self) -> bool | None:
        return None if self.share is None else self.share >= self.target

    @property
    def definition(self) -> str:
        return DEFINITIONS[self.key]


@dataclasses.dataclass(frozen=True)
class Row:
    key: object  # the group's id (severity, service, team, type), its first day (week, month), or None
    label: str
    incidents: int
    figures: dict[str, Figure]


@dataclasses.dataclass(frozen=True)
class ComplianceRow:
    severity_id: int
    severity: str
    incidents: int
    shares: dict[str, Share]


@dataclasses.dataclass(frozen=True)
class Breach:
    """An incident that missed a target. `named` False: restricted and not visible to the viewer —
    counted, but with no id, number or title to name or link it."""

    named: bool
    severity: str
    due_at: datetime | None
    incident_id: int | None = None
    number: int | None = None
    title: str | None = None
    restricted: bool = False


class Percentile(Aggregate):
    """PostgreSQL's continuous percentile, an ordered-set aggregate: `percentile_cont(0.9) WITHIN
    GROUP (ORDER BY duration)` — for intervals it answers an interval; give another
    `output_field` for numbers (the pager's latencies in seconds, `comms.reports.pager`)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()

    def __init__(self, expression, fraction: float, **extra):
        fraction = float(fraction)
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile's fraction is between 0 and 1.")
        super().__init__(expression, fraction=fraction, **extra)


def percentile(ordered: list, fraction: float):
    """percentile_cont on a sorted list (durations or numbers), as PostgreSQL computes it: linear
    interpolation at position fraction × (n − 1); None for an empty list."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def incidents_in(start: datetime, end: datetime, filters: Filters = Filters()) -> QuerySet[Incident]:
    """The incidents a period's figures count: declared in [start, end), not drills, filtered."""
    qs = Incident.objects.filter(declared_at__gte=start, declared_at__lt=end, is_drill=False)
    if filters.severity:
        qs = qs.filter(severity_id=filters.severity)
    if filters.services:
        qs = qs.filter(pk__in=Incident.services.through.objects.filter(service_id__in=filters.services).values("incident_id"))
    if filters.team:
        qs = qs.filter(
            pk__in=Incident.services.through.objects.filter(service__owning_team_id=filters.team).values("incident_id")
        )
    return qs


def _between(start, end) -> ExpressionWrapper:
    return ExpressionWrapper(end - start, output_field=DurationField())


def _durations(p: str) -> dict:
    """The duration of each figure per incident, as an expression over the incident's columns
    (`p`: the path to the incident from the rows grouped)."""
    first_alert = Subquery(
        AlertGroup.objects.filter(incident=OuterRef(f"{p}pk" if p else "pk")).order_by().values("incident").annotate(
            first=Min("opened_at")
        ).values("first")[:1],
        output_field=DateTimeField(),
    )
    declared = F(f"{p}declared_at")
    # Never before the detection itself: an alert recorded earlier than the detection time typed
    # means the problem was detected by that alert, not before it was noticed.
    noticed = Greatest(Least(declared, Coalesce(first_alert, declared)), F(f"{p}detected_at"))
    return {
        "mttd": _between(F(f"{p}detected_at"), noticed),
        "mtta": _between(declared, F(f"{p}acknowledged_at")),
        "ttm": _between(Coalesce(F(f"{p}detected_at"), declared), F(f"{p}mitigated_at")),
        "mttr": _between(declared, F(f"{p}resolved_at")),
    }


def _grouped(qs: QuerySet[Incident], group_by: str | None, tz: zoneinfo.ZoneInfo):
    """The rows to aggregate, the prefix from them to the incident, the group's key and label fields."""
    Through = Incident.services.through
    if group_by == "service":
        rows = Through.objects.filter(incident__in=qs.values("pk"))
        return rows, "incident__", {"key": F("service_id"), "label": F("service__name")}
    if group_by == "team":
        # An incident counts once per team, however many of the team's services it affects: keep the
        # first of them. A service without an owning team falls in the "no team" row.
        team = Coalesce(F("service__owning_team_id"), Value(0))
        first_of_team = (
            Through.objects.filter(incident_id=OuterRef("incident_id"))
            .annotate(team=Coalesce(F("service__owning_team_id"), Value(0)))
            .filter(team=OuterRef("team"))
            .order_by("service_id")
            .values("service_id")[:1]
        )
        rows = (
            Through.objects.filter(incident__in=qs.values("pk")).annotate(team=team).filter(service_id=Subquery(first_of_team))
        )
        return rows, "incident__", {"key": F("service__owning_team_id"), "label": F("service__owning_team__name")}
    if group_by == "severity":
        return qs, "", {"key": F("severity_id"), "label": F("severity__name"), "rank": F("severity__rank")}
    if group_by == "type":
        return qs, "", {"key": F("incident_type_id"), "label": F("incident_type__name")}
    if group_by == "week":
        return qs, "", {"key": TruncWeek("declared_at", tzinfo=tz)}
    if group_by == "month":
        return qs, "", {"key": TruncMonth("declared_at", tzinfo=tz)}
    if group_by is None:
        return qs, "", {"key": Value(None, output_field=FloatField())}
    raise ValueError(f"Unknown group_by {group_by!r}; expected one of {', '.join(str(g) for g in GROUP_BY)}.")


def _label(group_by: str | None, values: dict) -> str:
    if group_by in ("week", "month"):
        return _bucket_day(values["key"]).isoformat()
    if group_by is None:
        return "All incidents"
    if values["label"] is None:
        return {"team": "No team", "type": "No type"}.get(group_by, "—")
    return values["label"]


def _bucket_day(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def figures(
    start: datetime,
    end: datetime,
    *,
    group_by: str | None = None,
    tz: str = "UTC",
    filters: Filters = Filters(),
) -> list[Row]:
    """MTTD, MTTA, time to mitigate and MTTR (count, mean, median, p90, target) of the incidents
    declared in [start, end), one row per group: `group_by` severity, service, team (the affected
    services' owning team), type, week or month (buckets in `tz`: a week starts on Monday 00:00
    there), or None for one row. An incident with several services counts in each service's row.
    Queries: 2 on PostgreSQL, 3 on SQLite, whatever the number of incidents or groups."""
    zone = zoneinfo.ZoneInfo(tz)
    rows, p, group = _grouped(incidents_in(start, end, filters), group_by, zone)
    durations = _durations(p)
    postgres = connection.vendor == "postgresql"
    aggregates = {"incidents": Count("pk")}
    for name, duration in durations.items():
        aggregates[f"{name}_count"] = Count(duration)
        aggregates[f"{name}_mean"] = Avg(duration)
        if postgres:
            aggregates[f"{name}_median"] = Percentile(duration, 0.5)
            aggregates[f"{name}_p90"] = Percentile(duration, 0.9)
    aggregates["mtta_target"] = Avg(f"{p}held_mtta_target")
    aggregates["mttr_target"] = Avg(f"{p}held_mttr_target")
    # Named groups by name, the unnamed one ("No team", "No type") last; buckets by date.
    order = ["rank"] if group_by == "severity" else [F("label" if "label" in group else "key").asc(nulls_last=True)]
    results = list(rows.annotate(**group).values(*group).annotate(**aggregates).order_by(*order))
    if not postgres:
        _percentiles_by_reading(rows.annotate(**group), durations, results)
    mttd_target = MetricTargets.load().mttd_target
    out = []
    for values in results:
        targets = {"mttd": mttd_target, "mtta": values["mtta_target"], "ttm": None, "mttr": values["mttr_target"]}
        out.append(
            Row(
                key=_bucket_day(values["key"]) if group_by in ("week", "month") else values["key"],
                label=_label(group_by, values),
                incidents=values["incidents"],
                figures={
                    name: Figure(
                        name,
                        values[f"{name}_count"],
                        _exact(values[f"{name}_mean"]),
                        _exact(values[f"{name}_median"]),
                        _exact(values[f"{name}_p90"]),
                        _exact(targets[name]),
                    )
                    for name in DURATIONS
                },
            )
        )
    return out


def _exact(value: timedelta | None) -> timedelta | None:
    """To the microsecond: a mean on SQLite comes back through a float."""
    return timedelta(microseconds=round(value / timedelta(microseconds=1))) if value is not None else None


def _percentiles_by_reading(rows: QuerySet, durations: dict, results: list[dict]) -> None:
    """SQLite: median and p90 from the period's durations, read as values in one query and sorted per group."""
    lists: dict = defaultdict(lambda: defaultdict(list))
    for values in rows.values("key", **{f"d_{n}": d for n, d in durations.items()}):
        for name in durations:
            if values[f"d_{name}"] is not None:
                lists[values["key"]][name].append(values[f"d_{name}"])
    for values in results:
        for name in durations:
            ordered = sorted(lists[values["key"]][name])
            values[f"{name}_median"] = percentile(ordered, 0.5)
            values[f"{name}_p90"] = percentile(ordered, 0.9)


def _first_update() -> Subquery:
    return Subquery(
        TimelineEvent.objects.filter(incident=OuterRef("pk"), kind=TimelineEvent.Kind.STATUS_UPDATE)
        .order_by("occurred_at")
        .values("occurred_at")[:1]
    )


def named_breaches(incidents: QuerySet[Incident], *, user, due, limit: int) -> list[Breach]:
    """`incidents` as breaches, oldest first, each named only if `user` may see it; `due`: the
    expression of the due moment missed. `user` None: every one named, with `restricted` said, for
    a caller that applies its own rule (a scheduled report names restricted incidents or not for
    all its readers of one kind)."""
    if user is None:
        visible = ExpressionWrapper(Value(True), output_field=BooleanField())
    else:
        visible = ExpressionWrapper(Q(pk__in=visible_incidents(user).values("pk")), output_field=BooleanField())
    rows = incidents.annotate(named=visible, due=due).values(
        "pk", "number", "title", "severity__name", "due", "named", "is_restricted"
    )
    return [
        Breach(True, r["severity__name"], r["due"], r["pk"], r["number"], r["title"], r["is_restricted"])
        if r["named"]
        else Breach(False, r["severity__name"], r["due"], restricted=True)
        for r in rows.order_by("declared_at", "pk")[:limit]
    ]


def _judged(now: datetime) -> dict:
    """Per incident, whether each held target was judged (met or missed by now) and missed."""

    def target(reached, due: str):
        reached_by = Q(**{f"{reached}__isnull": False})
        missed = Q(**{f"{reached}__gt": F(due)}) | Q(**{f"{reached}__isnull": True, f"{due}__lte": now})
        return Q(**{f"{due}__isnull": False}) & (reached_by | Q(**{f"{due}__lte": now})), Q(**{f"{due}__isnull": False}) & missed

    return {
        "ack_on_time": target("ack_reached", "ack_due_at"),
        "first_update_on_time": target("update_reached", "first_update_due_at"),
        "resolved_on_time": target("resolved_at", "resolve_due_at"),
    }


def _with_reached(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    return qs.annotate(
        ack_reached=Coalesce("acknowledged_at", "resolved_at"),
        update_reached=Coalesce(_first_update(), "resolved_at", output_field=DateTimeField()),
    )


def _intervals(incidents: QuerySet[Incident]) -> QuerySet[TimelineEvent]:
    """Each status update after the first of the same incident, with `previous`: when the update
    before it was posted; an interval spanning a resolution (resolved, later reopened) is not one the
    incident was open for, and is left out. `missed`: longer than the cadence the incident was held to."""
    updates = TimelineEvent.objects.filter(kind=TimelineEvent.Kind.STATUS_UPDATE)
    previous = updates.filter(incident=OuterRef("incident"), occurred_at__lt=OuterRef("occurred_at")).order_by("-occurred_at")
    resolved_between = TimelineEvent.objects.filter(
        incident=OuterRef("incident"),
        kind=TimelineEvent.Kind.RESOLVED,
        occurred_at__gt=OuterRef("previous"),
        occurred_at__lt=OuterRef("occurred_at"),
    )
    return (
        updates.filter(incident__in=incidents.values("pk"))
        .annotate(previous=Subquery(previous.values("occurred_at")[:1]))
        .filter(previous__isnull=False)
        .exclude(Exists(resolved_between))
        .annotate(
            gap=_between(F("previous"), F("occurred_at")),
            missed=ExpressionWrapper(Q(gap__gt=F("incident__held_update_interval")), output_field=BooleanField()),
        )
    )


def _cadence_by_severity(incidents: QuerySet[Incident]) -> dict[int, dict[str, int]]:
    """Update intervals judged and missed per severity (the same intervals as `_intervals`), in one
    pass over the incidents' updates and resolutions: each update's previous event by `LAG()`, an
    interval only when that previous event is an update (a resolution in between leaves it out).
    `_intervals`' correlated subqueries probe two indexes per update, 300 ms for 90 days of
    100,000 incidents; this reads the rows once (the ORM cannot aggregate over a window, so it is SQL).
    """
    chosen_sql, params = incidents.order_by().values("id", "severity_id", "held_update_interval").query.sql_with_params()
    if connection.vendor == "postgresql":
        gap_missed = "ev.occurred_at - ev.prev_at > ev.held"
    else:  # SQLite: instants are ISO text, durations whole microseconds
        gap_missed = "(julianday(ev.occurred_at) - julianday(ev.prev_at)) * 86400000000.0 > ev.held"
    update, resolved = TimelineEvent.Kind.STATUS_UPDATE.value, TimelineEvent.Kind.RESOLVED.value
    # The incidents as a derived table (read through their own filter's index), each joined to its
    # updates and resolutions through `timeline_incident_cadence`, an index-only read.
    sql = f"""
        SELECT ev.severity_id, COUNT(*), SUM(CASE WHEN {gap_missed} THEN 1 ELSE 0 END)
        FROM (
            SELECT i.severity_id, i.held_update_interval AS held, e.kind, e.occurred_at,
                   LAG(e.occurred_at) OVER w AS prev_at, LAG(e.kind) OVER w AS prev_kind
            FROM ({chosen_sql}) i
            JOIN {TimelineEvent._meta.db_table} e ON e.incident_id = i.id
            WHERE e.kind IN (%s, %s)
            WINDOW w AS (PARTITION BY e.incident_id ORDER BY e.occurred_at, e.id)
        ) ev
        WHERE ev.kind = %s AND ev.prev_kind = %s
        GROUP BY ev.severity_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, update, resolved, update, update])
        return {severity: {"judged": judged, "breaches": missed or 0} for severity, judged, missed in cursor.fetchall()}


def compliance(start: datetime, end: datetime, *, now: datetime | None = None, filters: Filters = Filters()) -> list[ComplianceRow]:
    """SLA compliance per severity of the incidents declared in [start, end), each against what the
    incident was held to (`Incident.ack_due_at`…): a share met and a count of breaches. A target not
    yet due on an incident still running is not judged. Two queries."""
    now = now or clock.now()
    incidents = incidents_in(start, end, filters)
    judged = _judged(now)
    aggregates = {"incidents": Count("pk")}
    for name, (counted, missed) in judged.items():
        aggregates[f"{name}_judged"] = Count("pk", filter=counted)
        aggregates[f"{name}_breaches"] = Count("pk", filter=missed)
    rows = list(
        _with_reached(incidents)
        .values("severity_id", "severity__name", "severity__rank")
        .annotate(**aggregates)
        .order_by("severity__rank")
    )
    cadence = _cadence_by_severity(incidents)
    out = []
    for values in rows:
        shares = {name: Share(name, values[f"{name}_judged"], values[f"{name}_breaches"]) for name in judged}
        intervals = cadence.get(values["severity_id"], {"judged": 0, "breaches": 0})
        shares["updates_on_cadence"] = Share("updates_on_cadence", intervals["judged"], intervals["breaches"])
        out.append(
            ComplianceRow(
                values["severity_id"], values["severity__name"], values["incidents"], {k: shares[k] for k in COMPLIANCE}
            )
        )
    return out


def breaches(
    start: datetime,
    end: datetime,
    target: str,
    *,
    user,
    now: datetime | None = None,
    filters: Filters = Filters(),
    limit: int = 500,
) -> list[Breach]:
    """The incidents declared in [start, end) that missed `target` (a key of COMPLIANCE), oldest
    first. Those `user` may not see (restricted, not a participant, no permission) come back
    counted but unnamed. One query, after reading the user's permissions."""
    now = now or clock.now()
    incidents = incidents_in(start, end, filters)
    if target == "updates_on_cadence":
        missed = _intervals(incidents).filter(missed=True)
        qs = incidents.filter(pk__in=missed.values("incident_id"))
        due = Value(None, output_field=DateTimeField())
    elif target in COMPLIANCE:
        qs = _with_reached(incidents).filter(_judged(now)[target][1])
        due = F({"ack_on_time": "ack_due_at", "first_update_on_time": "first_update_due_at", "resolved_on_time": "resolve_due_at"}[target])
    else:
        raise ValueError(f"Unknown target {target!r}; expected one of {', '.join(COMPLIANCE)}.")
    return named_breaches(qs, user=user, due=due, limit=limit)


def held_targets_text(incident: Incident) -> list[tuple[str, str]]:
    """What an incident was held to, for its page: ("Acknowledge due", "…"), … (empty fields left out)."""
    from .formatting import duration, local

    shown: Iterable[tuple[str, object]] = (
        ("Acknowledge due", incident.ack_due_at),
        ("First update due", incident.first_update_due_at),
        ("Updates every", incident.held_update_interval),
        ("Resolve due", incident.resolve_due_at),
        ("MTTA target", incident.held_mtta_target),
        ("MTTR target", incident.held_mttr_target),
    )
    return [
        (label, duration(value) if isinstance(value, timedelta) else local(value))
        for label, value in shown
        if value is not None
    ]


__all__ = [
    "COMPLIANCE", "DEFINITIONS", "DURATIONS", "GROUP_BY", "Breach", "ComplianceRow", "Figure", "Filters", "Row", "Share",
    "breaches", "compliance", "figures", "held_targets_text", "incidents_in", "named_breaches", "percentile",
]
