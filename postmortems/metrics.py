"""The post-mortem's metrics block: how fast the incident was detected, acknowledged, mitigated
and resolved, against the severity's targets. Computed from the incident on every read.

Also the post-mortem figure of a period (`published_on_time`, `late_postmortems`): the same
shape as `incidents.metrics.compliance`, one SQL aggregate per severity.

Each duration is measured as the SLA engine measures its target: acknowledge and resolve from
declaration (`incidents.sla`), detection from the first noticed moment to declaration, and
mitigation from when impact began (`Incident.time_to_mitigate`). Severities have no detection
or mitigation target, so those rows carry none.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate

from incidents import clock, formatting, sla
from incidents.metrics import Breach, ComplianceRow, Filters, Share, incidents_in, named_breaches
from incidents.models import Incident, MetricTargets

PUBLISHED_ON_TIME = "postmortem_published_on_time"
DEFINITIONS = {
    PUBLISHED_ON_TIME: "Post-mortems published by their due date (the day counted in the report's time zone), "
    "of those whose incident was declared in the period. Judged once published or once the due date has passed. "
    "Target: the metric targets' post-mortem completion.",
}


@dataclass(frozen=True)
class Metric:
    name: str
    duration: timedelta | None  # None: the moment was never recorded
    target: timedelta | None = None  # None: the severity sets no target
    # On a business-hours or next-business-day clock the target is an instant, not a length:
    # met when the moment came by `due_at` (the engine's own computation, `incidents.sla`).
    due_at: datetime | None = None
    reached_at: datetime | None = None
    target_words: str = ""

    @property
    def met(self) -> bool | None:
        """True/False against the target; None when there is no target or no measurement."""
        if self.target is None or self.duration is None:
            return None
        if self.due_at is not None and self.reached_at is not None:
            return self.reached_at <= self.due_at
        return self.duration <= self.target

    @property
    def verdict(self) -> str:
        return {True: "met", False: "missed", None: "—"}[self.met]

    @property
    def duration_text(self) -> str:
        return formatting.duration(self.duration) if self.duration is not None else "—"

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "—"
        return self.target_words or formatting.duration(self.target)


def _between(start, end) -> timedelta | None:
    return end - start if start and end else None


def metrics(incident: Incident) -> list[Metric]:
    sev = incident.severity
    due = {target.name: target.due_at for target in sla.targets(incident, last_update_at=None)}
    return [
        Metric("Time to detect", _between(incident.detected_at, incident.declared_at)),
        Metric(
            "Time to acknowledge", _between(incident.declared_at, incident.acknowledged_at), sev.ack_sla,
            due_at=due["acknowledge"], reached_at=incident.acknowledged_at, target_words=sev.ack_sla_text,
        ),
        Metric("Time to mitigate", _between(incident.started_at, incident.mitigated_at)),
        Metric(
            "Time to resolve", _between(incident.declared_at, incident.resolved_at), sev.resolve_target,
            due_at=due["resolve"], reached_at=incident.resolved_at, target_words=sev.resolve_target_text,
        ),
    ]


def _published_on(zone):
    """The day the post-mortem was published, in `zone` (annotated as `published_on`)."""
    return TruncDate("postmortem__published_at", tzinfo=zone)


def _counted(today) -> Q:
    """Judged: published, or its due date has passed unpublished."""
    return Q(postmortem__published_at__isnull=False) | Q(postmortem__publish_due__lt=today)


def _late(today) -> Q:
    return Q(postmortem__published_at__isnull=True, postmortem__publish_due__lt=today) | Q(
        postmortem__published_at__isnull=False, published_on__gt=F("postmortem__publish_due")
    )


def published_on_time(
    start: datetime, end: datetime, *, now: datetime | None = None, tz: str | None = None, filters: Filters = Filters()
) -> list[ComplianceRow]:
    """Per severity, the post-mortems of the incidents declared in [start, end) (drills left out)
    published by their due date: a share against the completion target, and the late ones
    counted. Two queries (the target, the aggregate)."""
    zone = zoneinfo.ZoneInfo(tz or settings.TIME_ZONE)
    today = (now or clock.now()).astimezone(zone).date()
    target = MetricTargets.load().postmortem_completion_target / 100
    rows = (
        incidents_in(start, end, filters)
        .filter(postmortem__isnull=False)
        .annotate(published_on=_published_on(zone))
        .values("severity_id", "severity__name", "severity__rank")
        .annotate(incidents=Count("pk"), judged=Count("pk", filter=_counted(today)), late=Count("pk", filter=_late(today)))
        .order_by("severity__rank")
    )
    return [
        ComplianceRow(
            r["severity_id"], r["severity__name"], r["incidents"], {PUBLISHED_ON_TIME: Share(PUBLISHED_ON_TIME, r["judged"], r["late"], target)}
        )
        for r in rows
    ]


def late_postmortems(
    start: datetime, end: datetime, *, user, now: datetime | None = None, tz: str | None = None,
    filters: Filters = Filters(), limit: int = 500,
) -> list[Breach]:
    """The incidents of the period whose post-mortem was published late or is overdue, named only
    to a `user` who may see them (`incidents.metrics.breaches`)."""
    zone = zoneinfo.ZoneInfo(tz or settings.TIME_ZONE)
    today = (now or clock.now()).astimezone(zone).date()
    qs = incidents_in(start, end, filters).annotate(published_on=_published_on(zone)).filter(_late(today))
    return named_breaches(qs, user=user, due=F("postmortem__publish_due"), limit=limit)

