"""Escalation figures: escalations fired by level, acknowledge-SLA breaches, and the pager's own
latency per channel (from when a page was due to when its message was sent)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from itertools import groupby

from django.db import connection
from django.db.models import (
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Left, Reverse, StrIndex

from incidents.metrics import Percentile, percentile
from incidents.models import Deadline

from ..models import Notification
from .aggregates import EpochSeconds, Period

# A firing's timeline events are written in the transaction that marks its deadlines fired, a
# moment after the firing's instant: an event links to the latest firing of its incident at
# most this long before it (a tick's batch takes well under a second).
FIRING_WINDOW = dt.timedelta(seconds=60)
# The deadlines whose firing pages: escalation levels, and acknowledge-SLA breaches (re-pages).
PAGING_KINDS = (Deadline.Kind.ESCALATION, Deadline.Kind.ACK_TIMEOUT)


@dataclasses.dataclass(frozen=True)
class LevelEscalations:
    level: int
    fired: int  # engagements of the level
    incidents: int  # distinct incidents that engaged it


@dataclasses.dataclass(frozen=True)
class Escalations:
    by_level: list[LevelEscalations]
    ack_sla_breaches: int
    incidents_breaching_ack_sla: int


@dataclasses.dataclass(frozen=True)
class ChannelLatency:
    channel: str
    pages: int
    p50_seconds: float
    p95_seconds: float
    max_seconds: float


def _fired(period: Period) -> QuerySet[Deadline]:
    rows = Deadline.objects.filter(fired_at__gte=period.start, fired_at__lt=period.end, incident__is_drill=False)
    team = period.team_incidents()
    return rows if team is None else rows.filter(incident_id__in=team)


def escalations(period: Period) -> Escalations:
    """Escalation levels engaged and acknowledge-SLA breaches in the period, from the engine's
    fired deadlines (one query). Drills are left out; restricted incidents are counted."""
    rows = (
        _fired(period)
        .filter(kind__in=PAGING_KINDS)
        .values("kind", "level")
        .annotate(fired=Count("pk"), incidents=Count("incident", distinct=True))
        .order_by("kind", "level")
    )
    by_level, breaches, breaching = [], 0, 0
    for row in rows:
        if row["kind"] == Deadline.Kind.ESCALATION:
            by_level.append(LevelEscalations(row["level"], row["fired"], row["incidents"]))
        elif row["level"] == 0:
            # The breach itself; a row with a level is the same breach's re-page that waited
            # for a business-hours level's working hours.
            breaches, breaching = row["fired"], row["incidents"]
    return Escalations(by_level=by_level, ack_sla_breaches=breaches, incidents_breaching_ack_sla=breaching)


def _rule_delay_seconds():
    """The notification rule's delay, the last part of the page's key (`comms.outbox.dispatch.
    notification_key`: `ev<event>:<who>:<channel>:<address hash>:<delay seconds>`)."""
    backwards = Reverse("key")
    return Cast(Reverse(Left(backwards, StrIndex(backwards, Value(":")) - 1)), IntegerField())


def _page_latencies(period: Period) -> QuerySet[Notification]:
    """Sent pages of the period (by `sent_at`), each annotated with `latency` in seconds."""
    firing = (
        Deadline.objects.filter(
            incident_id=OuterRef("incident_id"),
            kind__in=PAGING_KINDS,
            fired_at__lte=OuterRef("event__occurred_at"),
            fired_at__gte=OuterRef("firing_window_start"),
        )
        .order_by("-fired_at", "due_at")
        .values("due_at")[:1]
    )
    pages = Notification.objects.filter(
        is_page=True,
        status=Notification.Status.SENT,
        sent_at__gte=period.start,
        sent_at__lt=period.end,
        event__isnull=False,
        incident__is_drill=False,
        key__startswith="ev",
    ).exclude(key__contains=":resent:")  # the admin's resend: a person's choice, not the pager
    team = period.team_incidents()
    if team is not None:
        pages = pages.filter(incident_id__in=team)
    return pages.annotate(
        firing_window_start=ExpressionWrapper(F("event__occurred_at") - FIRING_WINDOW, output_field=DateTimeField()),
        due=Coalesce(Subquery(firing), F("event__occurred_at")),
    ).annotate(
        latency=ExpressionWrapper(
            EpochSeconds("sent_at") - EpochSeconds("due") - _rule_delay_seconds(), output_field=FloatField()
        )
    )


def pager_latency(period: Period) -> list[ChannelLatency]:
    """p50 / p95 / max of the pager's latency per channel (one query; DEFINITIONS says what is
    subtracted). PostgreSQL computes the percentiles; elsewhere they come from the ordered values."""
    pages = _page_latencies(period)
    if connection.vendor == "postgresql":  # percentile_cont in the database; SQLite: from the ordered values
        rows = (
            pages.values("channel")
            .annotate(
                pages=Count("pk"),
                p50=Percentile("latency", 0.5, output_field=FloatField()),
                p95=Percentile("latency", 0.95, output_field=FloatField()),
                worst=Percentile("latency", 1.0, output_field=FloatField()),
            )
            .order_by("channel")
        )
        return [ChannelLatency(r["channel"], r["pages"], _round(r["p50"]), _round(r["p95"]), _round(r["worst"])) for r in rows]
    ordered = pages.order_by("channel", "latency").values_list("channel", "latency")
    result = []
    for channel, rows in groupby(ordered, key=lambda row: row[0]):
        values = [latency for _, latency in rows]
        result.append(
            ChannelLatency(
                channel, len(values), _round(percentile(values, 0.5)), _round(percentile(values, 0.95)),
                _round(values[-1]),
            )
        )
    return result


def _round(seconds: float) -> float:
    return round(seconds, 3)
