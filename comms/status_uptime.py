"""The 90 days at a glance, by aggregate queries: per component, one cell per day coloured by the
worst customer-visible impact that day, and an uptime percentage; per day, how many incidents
were resolved on it.

No incident is loaded for this: the database groups the public incidents of the window by
component and by the days they were open (first and last UTC day), and sums their downtime, so
the cost follows the number of components and days, not the number of incidents. Only
incidents that were reopened are read one by one (their timeline's resolutions and reopenings),
because the time an incident stood resolved between two openings is not downtime.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Case, Count, DateTimeField, DurationField, ExpressionWrapper, F, IntegerField, Min, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest, Least, TruncDate

from incidents.models import OPEN_STATUSES, Incident, TimelineEvent

from .status import (
    MAJOR_OUTAGE,
    OPERATIONAL,
    PARTIAL_OUTAGE,
    STATE_LABELS,
    Component,
    day_urls,
    history_start,
    state_for_rank,
    window,
    worst,
)

# What counts against uptime: an outage, full or partial (degraded performance does not, as on
# the status pages customers know). A partial outage counts for this share of its time.
DOWNTIME_WEIGHT = {MAJOR_OUTAGE: 1.0, PARTIAL_OUTAGE: 0.3}


@dataclass(frozen=True)
class DayCell:
    date: dt.date
    state: str  # the worst impact of the component's public incidents that day
    count: int  # how many of them were open that day
    day_url: str  # the day's page

    @property
    def label(self) -> str:
        """ "Sun 22 Nov: Partial outage — 2 incidents" (title and aria-label)."""
        day = f"{self.date:%a} {self.date:%d} {self.date:%b}"
        if not self.count:
            return f"{day}: No incidents"
        return f"{day}: {STATE_LABELS[self.state]} — {self.count} incident{'' if self.count == 1 else 's'}"

    @property
    def url(self) -> str:
        """Where the cell links: the day opened, its incidents in full."""
        return self.day_url if self.count else ""


@dataclass(frozen=True)
class DaySummary:
    date: dt.date
    state: str  # the worst impact of the incidents resolved that day
    count: int  # how many public incidents were resolved that day
    url: str  # the day's page

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass(frozen=True)
class Bar:
    component: Component
    days: tuple[DayCell, ...]  # oldest first, as the bar reads left to right
    uptime: float  # percent over the window

    @property
    def uptime_text(self) -> str:
        """Two decimals, rounded down: a component with any downtime never reads "100.00%"."""
        return f"{int(self.uptime * 100) / 100:.2f}%"


def _span(prefix: str, start: dt.datetime, now: dt.datetime) -> tuple:
    """(first moment, last moment) of an incident's time in the window, as SQL expressions."""
    began = Greatest(Coalesce(f"{prefix}detected_at", f"{prefix}declared_at"), Value(start, DateTimeField()))
    ended = Least(Coalesce(f"{prefix}resolved_at", Value(now, DateTimeField())), Value(now, DateTimeField()))
    return began, ended


def _grouped(rows, began, ended, rank: str):
    """Group by the first and last UTC day open, with the worst rank, the count and the downtime."""
    duration = ExpressionWrapper(ended - began, output_field=DurationField())
    return rows.annotate(first=TruncDate(began, tzinfo=dt.UTC), last=TruncDate(ended, tzinfo=dt.UTC)).annotate(
        rank=Min(rank),
        n=Count("pk"),
        major=Sum(Case(When(**{f"{rank}__lte": 1}, then=duration), output_field=DurationField())),
        partial=Sum(Case(When(**{rank: 2}, then=duration), output_field=DurationField())),
        # The worst rank among those still open: the components' state now, from the same rows.
        open_rank=Min(Case(When(resolved_at__isnull=True, then=F(rank)), output_field=IntegerField())),
    )


def component_rows(now: dt.datetime, days: int) -> list[tuple]:
    """The window's public incidents per customer-facing component, grouped by the first and last
    UTC day they were open: (slug, first, last, worst rank, count, major and partial downtime,
    worst rank of those still open). Driven from the incidents of the window (an index-only
    range of `incident_public_window`), joined to their links by incident: never a scan of the
    whole incident-service link table. The bars and the components' state now both read it."""
    links = window(now, days).filter(services__customer_facing=True).values("services__slug")
    began, ended = _span("", history_start(now, days), now)
    grouped = _grouped(links, began, ended, "severity__rank")
    return list(grouped.values_list("services__slug", "first", "last", "rank", "n", "major", "partial", "open_rank"))


def open_ranks(rows: Iterable[tuple]) -> dict[str, int]:
    """The worst severity rank of each component's open incidents, from `component_rows`."""
    ranks: dict[str, int] = {}
    for slug, *_, open_rank in rows:
        if open_rank is not None:
            ranks[slug] = min(open_rank, ranks.get(slug, open_rank))
    return ranks


def _resolved_per_day(now: dt.datetime, days: int) -> list:
    """The incidents of the window that are over, grouped by the UTC day they were resolved."""
    over = window(now, days).exclude(status__in=OPEN_STATUSES)
    day = TruncDate("resolved_at", tzinfo=dt.UTC)
    return list(over.annotate(day=day).values("day").annotate(rank=Min("severity__rank"), n=Count("pk")).values_list("day", "rank", "n"))


def _reopen_gaps(now: dt.datetime, start: dt.datetime, days: int) -> dict[str, dict[str, float]]:
    """Seconds each component's reopened incidents stood resolved between two openings, by the
    impact they would otherwise have counted at: subtracted from the summed downtime."""
    # A reopening before the window leaves no gap inside it: only the window's reopenings count.
    reopened = TimelineEvent.objects.filter(
        kind=TimelineEvent.Kind.REOPENED, occurred_at__gte=start, incident__in=window(now, days)
    )
    events = TimelineEvent.objects.filter(
        incident__in=reopened.values("incident_id"), kind__in=(TimelineEvent.Kind.RESOLVED, TimelineEvent.Kind.REOPENED)
    ).order_by("incident_id", "occurred_at", "pk")
    gaps: dict[int, float] = defaultdict(float)
    resolved_at: dict[int, dt.datetime | None] = {}
    for incident_id, kind, at in events.values_list("incident_id", "kind", "occurred_at"):
        if kind == TimelineEvent.Kind.RESOLVED:
            resolved_at[incident_id] = at
        elif resolved_at.get(incident_id) is not None:
            begin, end = max(resolved_at[incident_id], start), min(at, now)
            gaps[incident_id] += max((end - begin).total_seconds(), 0.0)
            resolved_at[incident_id] = None
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    if gaps:
        links = Incident.services.through.objects.filter(incident_id__in=list(gaps), service__customer_facing=True)
        for incident_id, slug, rank in links.values_list("incident_id", "service__slug", "incident__severity__rank"):
            out[slug][state_for_rank(rank)] += gaps[incident_id]
    return out


def summarise(
    components: Iterable[Component], *, now: dt.datetime, days: int, rows: list[tuple] | None = None
) -> tuple[tuple[Bar, ...], tuple[DaySummary, ...]]:
    """The bars (one per component) and the history (today first), in three or four queries (two
    or three given `component_rows`)."""
    start = history_start(now, days)
    first_day = start.date()
    states: dict[str, dict[dt.date, list[str]]] = defaultdict(lambda: defaultdict(list))
    counts: dict[str, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    down: dict[str, float] = defaultdict(float)
    for slug, first, last, rank, n, major, partial, _open in component_rows(now, days) if rows is None else rows:
        day = max(first, first_day)
        while day <= last:
            states[slug][day].append(state_for_rank(rank))
            counts[slug][day] += n
            day += dt.timedelta(days=1)
        down[slug] += (major or dt.timedelta()).total_seconds() + 0.3 * (partial or dt.timedelta()).total_seconds()
    for slug, by_state in _reopen_gaps(now, start, days).items():
        down[slug] -= sum(DOWNTIME_WEIGHT.get(state, 0.0) * seconds for state, seconds in by_state.items())
    span = (now - start).total_seconds()
    dates = [first_day + dt.timedelta(days=k) for k in range(days)]
    url_of = day_urls()
    urls = {d: url_of(d) for d in dates}
    bars = tuple(
        Bar(
            c,
            tuple(DayCell(d, worst(states[c.slug][d]), counts[c.slug][d], urls[d]) for d in dates),
            100.0 * (1 - min(max(down[c.slug], 0.0), span) / span) if span > 0 else 100.0,
        )
        for c in components
    )
    resolved = {day: (state_for_rank(rank), n) for day, rank, n in _resolved_per_day(now, days)}
    history = tuple(DaySummary(d, *resolved.get(d, (OPERATIONAL, 0)), urls[d]) for d in reversed(dates))
    return bars, history

