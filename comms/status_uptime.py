"""The status page at a glance: per component, one cell per day of the history coloured by the
worst customer-visible impact that day, and an uptime percentage.

Pure derivation over what `status.select_incidents` already read (each incident's start, end,
severity and customer-facing services): no query of its own, however many incidents there are.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .status import (
    MAJOR_OUTAGE,
    OPERATIONAL,
    PARTIAL_OUTAGE,
    STATE_LABELS,
    STATES,
    Component,
    PublicIncident,
    history_start,
    worst,
)

# What counts against uptime: an outage, full or partial (degraded performance does not, as on
# the status pages customers know). A partial outage counts for this share of its time.
DOWNTIME_WEIGHT = {MAJOR_OUTAGE: 1.0, PARTIAL_OUTAGE: 0.3}


@dataclass(frozen=True)
class DayCell:
    date: dt.date
    state: str  # the worst impact of the component's public incidents that day
    incidents: tuple[PublicIncident, ...]  # newest first

    @property
    def label(self) -> str:
        """ "Sun 22 Nov: Partial outage — Card payments failing" (title and aria-label)."""
        day = f"{self.date:%a} {self.date:%d} {self.date:%b}"
        if not self.incidents:
            return f"{day}: No incidents"
        return f"{day}: {STATE_LABELS[self.state]} — {', '.join(i.title for i in self.incidents)}"

    @property
    def anchor(self) -> str:
        """Where the cell links: the day's worst incident's entry on the page."""
        return f"incident-{self.incidents[0].id}" if self.incidents else ""


@dataclass(frozen=True)
class Bar:
    component: Component
    days: tuple[DayCell, ...]  # oldest first, as the bar reads left to right
    uptime: float  # percent over the window

    @property
    def uptime_text(self) -> str:
        """Two decimals, rounded down: a component with any downtime never reads "100.00%"."""
        return f"{int(self.uptime * 100) / 100:.2f}%"


def _spans(incident: PublicIncident, now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """When the incident was open: from its start to its resolution, and from each reopen to the
    next resolution (or now), read from its entries — the time it stood resolved is not downtime."""
    spans, begin = [], incident.started_at
    for entry in reversed(incident.updates):  # oldest first
        if entry.kind == "resolved" and begin is not None:
            spans.append((begin, min(entry.at, now)))
            begin = None
        elif entry.kind == "reopened" and begin is None:
            begin = entry.at
    if begin is not None:
        spans.append((begin, min(incident.resolved_at or now, now)))
    return spans


def _cells(incidents: list[PublicIncident], start: dt.datetime, days: int, now: dt.datetime) -> tuple[DayCell, ...]:
    by_day: dict[dt.date, list[PublicIncident]] = defaultdict(list)
    for incident in incidents:
        days_open = set()
        for begin, end in _spans(incident, now):
            day = max(begin, start).astimezone(dt.UTC).date()
            while day <= end.astimezone(dt.UTC).date():
                days_open.add(day)
                day += dt.timedelta(days=1)
        for day in days_open:
            by_day[day].append(incident)
    first = start.date()
    cells = []
    for offset in range(days):
        date = first + dt.timedelta(days=offset)
        on_day = sorted(by_day.get(date, ()), key=lambda i: (STATES.index(i.impact), i.started_at), reverse=True)
        cells.append(DayCell(date, worst(i.impact for i in on_day) if on_day else OPERATIONAL, tuple(on_day)))
    return tuple(cells)


def _uptime(incidents: list[PublicIncident], start: dt.datetime, now: dt.datetime) -> float:
    """Percent of the window without an outage: overlapping incidents count once, at the weight of
    the worst of them at each moment."""
    spans = [(i.impact, b, e) for i in incidents for b, e in _spans(i, now)]
    moments = sorted({start, now, *(t for _, b, e in spans for t in (b, e) if start < t < now)})
    down = 0.0
    for begin, end in zip(moments, moments[1:]):
        impacts = [impact for impact, b, e in spans if b <= begin and e >= end]
        down += DOWNTIME_WEIGHT.get(worst(impacts), 0.0) * (end - begin).total_seconds()
    window = (now - start).total_seconds()
    return 100.0 * (1 - down / window) if window > 0 else 100.0


def bars(components: Iterable[Component], incidents: Iterable[PublicIncident], *, now: dt.datetime, days: int) -> tuple[Bar, ...]:
    """One bar per component from every public incident the page read (open and resolved)."""
    start = history_start(now, days)
    touching: dict[str, list[PublicIncident]] = defaultdict(list)
    for incident in incidents:
        if incident.resolved_at is not None and incident.resolved_at < start:
            continue
        for name in incident.components:
            touching[name].append(incident)
    return tuple(
        Bar(component, _cells(touching[component.name], start, days, now), _uptime(touching[component.name], start, now))
        for component in components
    )
