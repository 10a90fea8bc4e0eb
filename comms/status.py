"""The public status page's read model: which incidents customers see, and what they are told.

One filter (`public_incidents`) decides what is public. The page reads in full only what it
shows in full: the active incidents (`select_active`), or one day's incidents when a day is
opened (`select_day`). The 90 days are summarised by aggregate queries in `status_uptime`
(per component and day: the worst impact, how many incidents, the downtime), so neither the
time nor the size of the page grows with the number of incidents. Everything after the
queries is pure derivation over plain values, so the page and the JSON say the same thing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Min, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from incidents.models import OPEN_STATUSES, Incident, Service, Status, TimelineEvent, ended_or_open
from incidents.models.core import STILL_OPEN

from .defaults import REOPENED_PUBLIC_WORDS

DEFAULT_TITLE = "Service status"  # with no organisation name set
# Active incidents shown in full on the page and in its JSON, newest first; any more are counted,
# and each is listed in full on the page of the day it was declared.
ACTIVE_IN_FULL = 20
HISTORY_DAYS = 90
# A status change and an external update posted within this of it are one entry (posting an
# update with a new status records both).
MERGE_WITHIN = dt.timedelta(minutes=1)

# Component states, best first: the order is what "worst" means.
OPERATIONAL = "operational"
DEGRADED_PERFORMANCE = "degraded_performance"
PARTIAL_OUTAGE = "partial_outage"
MAJOR_OUTAGE = "major_outage"
STATES = (OPERATIONAL, DEGRADED_PERFORMANCE, PARTIAL_OUTAGE, MAJOR_OUTAGE)
STATE_LABELS = {
    OPERATIONAL: "Operational",
    DEGRADED_PERFORMANCE: "Degraded performance",
    PARTIAL_OUTAGE: "Partial outage",
    MAJOR_OUTAGE: "Major outage",
}
OVERALL_LABELS = {
    OPERATIONAL: "All systems operational",
    DEGRADED_PERFORMANCE: "Degraded performance",
    PARTIAL_OUTAGE: "Partial outage",
    MAJOR_OUTAGE: "Major outage",
}

# The incident lifecycle in status-page words: customers are not told "triggered" or "closed".
PUBLIC_STATUSES = {
    Status.TRIGGERED: "investigating",
    Status.INVESTIGATING: "investigating",
    Status.IDENTIFIED: "identified",
    Status.MONITORING: "monitoring",
    Status.RESOLVED: "resolved",
    Status.CLOSED: "resolved",
}
PUBLIC_STATUS_LABELS = {
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
}


# What an entry says when a status change came without words for customers.
STATUS_WORDS = {
    "investigating": "We are investigating the issue.",
    "identified": "The cause has been identified and a fix is being worked on.",
    "monitoring": "A fix has been applied and we are monitoring the results.",
    "resolved": "This incident has been resolved.",
}


def page_title() -> str:
    """ "Acme status" from VIGIL_ORGANISATION_NAME (VIGIL_STATUS_PAGE_TITLE overrides it), else "Service status"."""
    name = getattr(settings, "VIGIL_ORGANISATION_NAME", "")
    return getattr(settings, "VIGIL_STATUS_PAGE_TITLE", "") or (f"{name} status" if name else DEFAULT_TITLE)


_SAFE_LOGO = re.compile(r"(https://[^\s/]+|/(?!/))[^\s\"'<>\\]*")


def logo_url() -> str:
    """The organisation's logo (VIGIL_ORGANISATION_LOGO_URL) if it is a same-origin path or https, else none."""
    url = getattr(settings, "VIGIL_ORGANISATION_LOGO_URL", "")
    return url if url and _SAFE_LOGO.fullmatch(url) else ""


def state_for_rank(rank: int) -> str:
    """What an open incident of this severity rank does to the components it affects."""
    if rank <= 1:
        return MAJOR_OUTAGE
    if rank == 2:
        return PARTIAL_OUTAGE
    return DEGRADED_PERFORMANCE


def worst(states: Iterable[str]) -> str:
    return max(states, key=STATES.index, default=OPERATIONAL)


def public_status(status: str | None) -> str | None:
    return PUBLIC_STATUSES.get(status)


def public_id(incident_pk: int) -> str:
    """A stable id for the JSON that does not reveal the internal incident number (and so how
    many internal or restricted incidents there have been)."""
    return salted_hmac("vigil.status.incident", str(incident_pk)).hexdigest()[:16]


def iso_utc(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- What the page shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class Component:
    name: str
    slug: str
    state: str

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass(frozen=True)
class Update:
    at: dt.datetime
    status: str | None  # the incident's public status when the update was posted
    body: str
    # "update" (words posted for customers), "status" (a status change without words),
    # "resolved", or "reopened" (the incident came back after its resolution)
    kind: str = "update"

    @property
    def status_label(self) -> str:
        if self.kind == "reopened":
            return "Reopened"
        return PUBLIC_STATUS_LABELS.get(self.status, "Update")


@dataclass(frozen=True)
class PublicIncident:
    id: str
    title: str
    status: str
    impact: str  # the component state it causes while open
    components: tuple[str, ...]
    started_at: dt.datetime
    resolved_at: dt.datetime | None
    updates: tuple[Update, ...]  # newest first

    @property
    def status_label(self) -> str:
        return PUBLIC_STATUS_LABELS[self.status]


@dataclass(frozen=True)
class Day:
    """One day opened: every public incident open at some moment of it (UTC), in full."""

    date: dt.date
    incidents: tuple[PublicIncident, ...]  # still open first, then newest resolution first
    title: str = DEFAULT_TITLE
    logo_url: str = ""


@dataclass(frozen=True)
class StatusPage:
    title: str
    logo_url: str
    generated_at: dt.datetime
    state: str
    components: tuple[Component, ...]
    active: tuple[PublicIncident, ...]
    active_count: int = 0  # all of them; `active` holds the newest ACTIVE_IN_FULL in full
    history: tuple = ()  # status_uptime.DaySummary, today first, HISTORY_DAYS days
    bars: tuple = ()  # status_uptime.Bar per component: the days at a glance, oldest first

    @property
    def past(self) -> tuple:
        """The days of the history with incidents resolved on them, newest first."""
        return tuple(day for day in self.history if day.count)

    @property
    def state_label(self) -> str:
        return OVERALL_LABELS[self.state]


# --- Selection: the only place that decides what is public -----------------------------------


def public_incidents() -> QuerySet[Incident]:
    """Incidents customers may hear about: marked public, of a severity the status page shows.
    Restricted incidents and drills never, whatever their public flag says (an edit can
    restrict an incident after it was made public)."""
    return Incident.objects.filter(
        public_on_status_page=True, severity__show_on_status_page=True, is_restricted=False, is_drill=False
    )


# Open: no resolution time (a reopen clears it). Said through `resolved_at` too, so that the
# open incidents are read from the same partial index as the resolved ones
# (`incident_public_resolved`), not from the status index over every open incident.
OPEN_NOW = Q(status__in=OPEN_STATUSES, resolved_at__isnull=True)


def history_start(now: dt.datetime, days: int = HISTORY_DAYS) -> dt.datetime:
    """Midnight UTC at the start of the oldest day the history shows (today is day 1)."""
    today = now.astimezone(dt.UTC).date()
    return dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time.min, tzinfo=dt.UTC)


def window(now: dt.datetime, days: int = HISTORY_DAYS) -> QuerySet[Incident]:
    """Public incidents open now or resolved since `history_start`: what the 90 days summarise."""
    ended, start = (Status.RESOLVED, Status.CLOSED), history_start(now, days)
    # The range first (the index `incident_public_window`), then which of its rows are open.
    in_range = public_incidents().alias(ended_or_open=ended_or_open()).filter(ended_or_open__gte=start)
    return in_range.filter(OPEN_NOW | Q(status__in=ended, resolved_at__gte=start))


def _in_full(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """With their customer-facing services on `public_services` and their external updates and
    reopenings (newest first) on `public_updates`: three queries, however many incidents."""
    return (
        incidents.select_related("severity")
        .only("pk", "title", "status", "detected_at", "declared_at", "resolved_at", "severity__rank")
        .prefetch_related(
            Prefetch(
                "services",
                queryset=Service.objects.filter(customer_facing=True).only("pk", "name", "slug"),
                to_attr="public_services",
            ),
            Prefetch(
                "timeline",
                queryset=TimelineEvent.objects.filter(
                    Q(kind=TimelineEvent.Kind.STATUS_UPDATE, visibility=TimelineEvent.Visibility.EXTERNAL)
                    | Q(kind__in=PUBLIC_CHANGES)
                )
                .only("pk", "incident_id", "kind", "occurred_at", "message", "data")
                .order_by("-occurred_at", "-pk"),
                to_attr="public_updates",
            ),
        )
    )


def select_active(limit: int) -> QuerySet[Incident]:
    """The `limit` newest open public incidents, in full, newest first. Chosen from the window
    index alone (it holds `declared_at`), then only those rows are read: sorting every open
    incident's full row to keep 20 read ~1,800 rows at a million incidents (8 ms against 1)."""
    newest = open_public().order_by("-declared_at", "-pk").values_list("pk", flat=True)[:limit]
    return _in_full(Incident.objects.filter(pk__in=list(newest))).order_by("-declared_at", "-pk")


def select_day(date: dt.date) -> QuerySet[Incident]:
    """The public incidents of this UTC day, in full: those open at some moment of it and resolved
    since (resolved on or after its start, begun before its end), and those still open declared on
    it (an incident open for weeks is listed on the day it was declared, not on every day since)."""
    begin = dt.datetime.combine(date, dt.time.min, tzinfo=dt.UTC)
    end = begin + dt.timedelta(days=1)
    ended = (Status.RESOLVED, Status.CLOSED)
    began = Q(detected_at__lt=end) | Q(detected_at__isnull=True, declared_at__lt=end)
    touching = Q(status__in=ended, resolved_at__gte=begin) | (OPEN_NOW & Q(declared_at__gte=begin))
    return _in_full(public_incidents().filter(touching, began)).order_by("-declared_at", "-pk")


# The timeline events that change what customers are told, besides external updates. Their own
# text is internal (a reason, a resolution summary): only their status and the words given for
# customers (`data["public_update"]`) are shown.
PUBLIC_CHANGES = (TimelineEvent.Kind.STATUS_CHANGED, TimelineEvent.Kind.RESOLVED, TimelineEvent.Kind.REOPENED)


def select_components() -> QuerySet[Service]:
    return Service.objects.filter(customer_facing=True).only("pk", "name", "slug").order_by("name")


# --- Derivation: pure functions over what was selected ----------------------------------------


def to_public(incident: Incident) -> PublicIncident:
    """An incident as customers read it: no internal notes, no people, no non-public services."""
    return PublicIncident(
        id=public_id(incident.pk),
        title=incident.title,
        status=public_status(incident.status),
        impact=state_for_rank(incident.severity.rank),
        components=tuple(s.name for s in sorted(incident.public_services, key=lambda s: s.name)),
        started_at=incident.started_at,
        resolved_at=incident.resolved_at,
        updates=entries(incident.declared_at, incident.public_updates),
    )


def _words_for_customers(event: TimelineEvent, default: str) -> str:
    words = (event.data or {}).get("public_update")
    return words.strip() if isinstance(words, str) and words.strip() else default


def entries(declared_at: dt.datetime, events: Iterable[TimelineEvent]) -> tuple[Update, ...]:
    """Every customer-visible change, newest first: each status change (investigating → identified
    → monitoring → resolved, and a reopen) is an entry, with the words posted for customers with
    it (an external update within `MERGE_WITHIN` of it) or the status's own words; every other
    external update is an entry of its own. An incident is investigating from its declaration."""
    Kind = TimelineEvent.Kind
    out: list[Update] = []
    current = "investigating"
    for event in sorted(events, key=lambda e: (e.occurred_at, e.pk)):
        data = event.data or {}
        if event.kind == Kind.STATUS_CHANGED:
            status = public_status(data.get("to"))
            if status is None or status == current:
                continue  # triggered → investigating, or a change customers cannot see
            out.append(Update(at=event.occurred_at, status=status, body=STATUS_WORDS[status], kind="status"))
        elif event.kind == Kind.RESOLVED:
            status = "resolved"
            out.append(Update(event.occurred_at, status, _words_for_customers(event, STATUS_WORDS[status]), "resolved"))
        elif event.kind == Kind.REOPENED:
            # The reason is internal: customers read the words given for them, or generic ones.
            status = "investigating"
            out.append(Update(event.occurred_at, status, _words_for_customers(event, REOPENED_PUBLIC_WORDS), "reopened"))
        else:
            status = public_status(data.get("status")) or current
            last = out[-1] if out else None
            if last and last.kind == "status" and last.status == status and event.occurred_at - last.at <= MERGE_WITHIN:
                out[-1] = Update(at=last.at, status=status, body=event.message)  # the change, in the words posted with it
            else:
                out.append(Update(at=event.occurred_at, status=status, body=event.message))
        current = status
    if out and not (out[0].status == "investigating" and out[0].kind in ("update", "status")):
        out.insert(0, Update(at=declared_at, status="investigating", body=STATUS_WORDS["investigating"], kind="status"))
    return tuple(reversed(out))


def open_public() -> QuerySet[Incident]:
    # Not resolved (`OPEN_NOW`), said as the top of the range `incident_public_window` orders, so
    # that the aggregates over open incidents read that index alone.
    still_open = public_incidents().alias(ended_or_open=ended_or_open()).filter(ended_or_open__gte=STILL_OPEN)
    return still_open.filter(status__in=OPEN_STATUSES)


def worst_open_ranks(per_component: dict[str, int]) -> dict[str | None, int]:
    """The worst (lowest) severity rank of the open public incidents per customer-facing service
    slug (`per_component`, from the 90 days' rows: `status_uptime.open_ranks`), and overall under
    None with their count: one aggregate query, however many incidents are open."""
    overall = open_public().aggregate(rank=Min("severity__rank"), n=Count("pk"))
    return {**per_component, None: overall["rank"], "#count": overall["n"]}


def component_states(services: Iterable[Service], ranks: dict) -> list[Component]:
    """Each customer-facing service takes the worst state its open incidents cause."""
    return [
        Component(name=s.name, slug=s.slug, state=state_for_rank(ranks[s.slug]) if s.slug in ranks else OPERATIONAL)
        for s in services
    ]


def build(
    services: Iterable[Service], active: Iterable[Incident], ranks: dict, *, now: dt.datetime, days: int = HISTORY_DAYS,
    rows: list[tuple] | None = None,
) -> StatusPage:
    from . import status_uptime  # it derives from this module's shapes

    components = component_states(services, ranks)
    # The banner follows the incidents, not only the components: a public incident whose
    # services are all internal still means something is wrong for customers.
    overall = worst([c.state for c in components] + ([state_for_rank(ranks[None])] if ranks[None] is not None else []))
    bars, history = status_uptime.summarise(components, now=now, days=days, rows=rows)
    return StatusPage(
        title=page_title(),
        logo_url=logo_url(),
        generated_at=now,
        state=overall,
        components=tuple(components),
        active=tuple(to_public(i) for i in active),
        active_count=ranks["#count"],
        history=history,
        bars=bars,
    )


def status_page(now: dt.datetime | None = None) -> StatusPage:
    now = now or timezone.now()
    from . import status_uptime

    rows = status_uptime.component_rows(now, HISTORY_DAYS)
    ranks = worst_open_ranks(status_uptime.open_ranks(rows))
    return build(select_components(), select_active(ACTIVE_IN_FULL), ranks, now=now, rows=rows)


def day_page(date: dt.date) -> Day:
    """One day opened from the history or a bar: its incidents in full, still open first."""
    incidents = [to_public(i) for i in select_day(date)]
    incidents.sort(key=lambda i: (i.resolved_at is not None, -(i.resolved_at or i.started_at).timestamp()))
    return Day(date=date, incidents=tuple(incidents), title=page_title(), logo_url=logo_url())


def day_urls(name: str = "comms:status-day") -> Callable[[dt.date], str]:
    """The address of a day's page, for many days at one `reverse` (the bars link up to 450 cells)."""
    placeholder = "0000-00-00"
    pattern = reverse(name, args=[placeholder])
    return lambda date: pattern.replace(placeholder, date.isoformat())
