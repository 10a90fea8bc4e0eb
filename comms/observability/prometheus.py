"""Vigil's Prometheus figures, read from the database at scrape time.

Every family is computed by an aggregate query when Prometheus scrapes (the incidents' four
families share one pass over the table), so any gunicorn
process answers the same numbers and none is lost when a process restarts: nothing is counted
in a process's memory, and no multiprocess registry is needed. The query count per scrape is
fixed, whatever the size of the tables. Drills are left out of every incident figure;
restricted incidents are counted (no figure names an incident).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString

from comms.models import Channel, Notification
from comms.outbox import health as outbox_health
from incidents.engine import HEARTBEAT as ENGINE_HEARTBEAT
from incidents.models import OPEN_STATUSES, Deadline, EngineHeartbeat, Incident, Integration, SeverityLevel, Status

from .health import WORKER_HEARTBEAT

# Upper bounds (seconds) of the duration histograms' buckets; +Inf is added.
ACKNOWLEDGE_BUCKETS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 14400)
RESOLVE_BUCKETS = (900, 1800, 3600, 7200, 14400, 28800, 86400, 259200, 604800)


class VigilCollector(Collector):
    """The whole of /metrics: `collect()` runs the queries, one per family."""

    def __init__(self, now: dt.datetime | None = None):
        self.now = now

    def collect(self) -> Iterator[Metric]:
        now = self.now or timezone.now()
        severities = list(SeverityLevel.objects.order_by("rank").values_list("pk", "name"))
        yield from _incidents(severities)
        yield _notifications()
        yield from _outbox(now)
        beats = {beat.name: beat for beat in EngineHeartbeat.objects.filter(name__in=[ENGINE_HEARTBEAT, WORKER_HEARTBEAT])}
        yield from _engine(now, beats.get(ENGINE_HEARTBEAT))
        yield from _worker(now, beats.get(WORKER_HEARTBEAT))
        yield _alert_events()


def registry(now: dt.datetime | None = None) -> CollectorRegistry:
    """A registry of Vigil's figures alone (not the process's own: each gunicorn process would
    answer with different ones)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(VigilCollector(now))
    return registry


# The duration histograms: (family, help, start, end, bucket bounds in seconds).
HISTOGRAMS = (
    (
        "vigil_incident_acknowledge_seconds",
        "Time from declaration to the first acknowledgement, per severity (acknowledged incidents; drills left out).",
        "declared_at", "acknowledged_at", ACKNOWLEDGE_BUCKETS,
    ),
    (
        "vigil_incident_resolve_seconds",
        "Time from declaration to the latest resolution, per severity (resolved and closed incidents; drills left out).",
        "declared_at", "resolved_at", RESOLVE_BUCKETS,
    ),
)


def _incident_aggregates() -> dict:
    """One pass over the incidents for four families: a COUNT … FILTER per status, and per
    histogram its count, its sum of durations and a COUNT … FILTER per bucket (`end <= start +
    bound`, so `le` is inclusive; CASE WHEN where the database has no FILTER)."""
    aggregates = {f"status:{status}": Count("pk", filter=Q(status=status)) for status in Status.values}
    for name, _, start, end, buckets in HISTOGRAMS:
        ended = Q(**{f"{end}__isnull": False})
        aggregates[f"{name}:count"] = Count("pk", filter=ended)
        aggregates[f"{name}:sum"] = Sum(ExpressionWrapper(F(end) - F(start), output_field=DurationField()), filter=ended)
        for index, bound in enumerate(buckets):
            aggregates[f"{name}:{index}"] = Count("pk", filter=Q(**{f"{end}__lte": F(start) + dt.timedelta(seconds=bound)}))
    return aggregates


def _incidents(severities: list[tuple[int, str]]) -> Iterator[Metric]:
    rows = {
        row["severity_id"]: row
        for row in Incident.objects.filter(is_drill=False).values("severity_id").annotate(**_incident_aggregates()).order_by()
    }
    by_status = GaugeMetricFamily("vigil_incidents", "Incidents by severity and status (drills left out).", labels=["severity", "status"])
    open_ = GaugeMetricFamily("vigil_incidents_open", "Open incidents (not resolved or closed) by severity (drills left out).", labels=["severity"])
    histograms = [HistogramMetricFamily(name, documentation, labels=["severity"]) for name, documentation, *_ in HISTOGRAMS]
    for pk, severity in severities:
        row = rows.get(pk, {})
        for status in Status.values:
            by_status.add_metric([severity, status], row.get(f"status:{status}", 0))
        open_.add_metric([severity], sum(row.get(f"status:{status}", 0) for status in OPEN_STATUSES))
        for family, (name, _, _, _, buckets) in zip(histograms, HISTOGRAMS):
            total = row.get(f"{name}:sum")
            family.add_metric(
                [severity],
                buckets=[(floatToGoString(bound), row.get(f"{name}:{index}", 0)) for index, bound in enumerate(buckets)]
                + [("+Inf", row.get(f"{name}:count", 0))],
                sum_value=total.total_seconds() if total is not None else 0,
            )
    yield by_status
    yield open_
    yield from histograms


def _notifications() -> GaugeMetricFamily:
    counts = {
        (row["channel"], row["status"]): row["n"]
        for row in Notification.objects.values("channel", "status").annotate(n=Count("pk")).order_by()
    }
    family = GaugeMetricFamily("vigil_notifications", "Notifications in the outbox by channel and status.", labels=["channel", "status"])
    for channel in Channel.values:
        for status in Notification.Status.values:
            family.add_metric([channel, status], counts.get((channel, status), 0))
    return family


def _outbox(now: dt.datetime) -> Iterator[Metric]:
    backlog = outbox_health(now)
    yield GaugeMetricFamily(
        "vigil_outbox_overdue_notifications",
        "Notifications still pending longer than VIGIL_OUTBOX_GRACE_SECONDS after they fell due.",
        value=backlog["overdue_notifications"],
    )
    yield GaugeMetricFamily(
        "vigil_outbox_oldest_overdue_seconds",
        "How long the oldest overdue notification has been due (0 when none is overdue).",
        value=backlog["oldest_overdue_seconds"] or 0,
    )
    yield GaugeMetricFamily(
        "vigil_outbox_undispatched_events",
        "Timeline events not dispatched to the outbox within VIGIL_OUTBOX_GRACE_SECONDS.",
        value=backlog["undispatched_events"],
    )
    yield GaugeMetricFamily(
        "vigil_notifications_failed_last_24h", "Notifications that failed for good in the last 24 hours.", value=backlog["failed_last_24h"]
    )


def _engine(now: dt.datetime, beat: EngineHeartbeat | None) -> Iterator[Metric]:
    """The engine's tick (absent until the first tick) and its lag: how long the oldest deadline
    still pending has been past due (0 when none is)."""
    if beat is not None:
        yield GaugeMetricFamily(
            "vigil_engine_last_tick_timestamp_seconds", "When the SLA engine last ticked (Unix time).", value=beat.last_tick_at.timestamp()
        )
        yield GaugeMetricFamily(
            "vigil_engine_tick_age_seconds", "Seconds since the SLA engine last ticked.", value=max(0.0, (now - beat.last_tick_at).total_seconds())
        )
        yield GaugeMetricFamily("vigil_engine_last_tick_duration_seconds", "How long the last tick took.", value=beat.last_tick_seconds)
    oldest = Deadline.objects.filter(fired_at=None, cancelled_at=None, due_at__lte=now).aggregate(oldest=Min("due_at"))["oldest"]
    yield GaugeMetricFamily(
        "vigil_engine_lag_seconds",
        "How long the oldest pending deadline has been past due (0 when none is): escalations waiting to fire.",
        value=(now - oldest).total_seconds() if oldest else 0,
    )


def _worker(now: dt.datetime, beat: EngineHeartbeat | None) -> Iterator[Metric]:
    if beat is not None:
        yield GaugeMetricFamily(
            "vigil_worker_heartbeat_age_seconds",
            "Seconds since a worker on the default queue last ran the heartbeat task.",
            value=max(0.0, (now - beat.last_tick_at).total_seconds()),
        )


def _alert_events() -> CounterMetricFamily:
    family = CounterMetricFamily(
        "vigil_alert_events", "Alert events received, per integration (every event on record).", labels=["integration_id", "integration"]
    )
    for integration in Integration.objects.annotate(n=Count("alert_events")).order_by("pk").values("pk", "name", "n"):
        family.add_metric([str(integration["pk"]), integration["name"]], integration["n"])
    return family
