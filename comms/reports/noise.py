"""Alert noise for a period: per integration and per service, the alerts received, how many were
deduplicated into an incident already open and how many opened one; and the noisiest dedup keys."""

from __future__ import annotations

import dataclasses

from django.db.models import Count, Q, QuerySet

from incidents.models import AlertEvent

from .aggregates import Period

NOISIEST_KEYS = 10

# What ingestion wrote as the trigger's outcome (`incidents.ingest.apply`: `_trigger`, `_join`
# and the one-statement quiet join): "Declared INC-7", "Joined INC-7 (alert 3)".
_OPENED = Q(outcome__startswith="Declared ")
_DEDUPLICATED = Q(outcome__startswith="Joined ")
_SUPPRESSED = Q(status=AlertEvent.Status.SUPPRESSED)


@dataclasses.dataclass(frozen=True)
class Noise:
    """The counts of one integration, service or dedup key."""

    name: str
    alerts: int  # trigger events received
    deduplicated: int  # joined an incident already open for their key
    incidents_opened: int
    suppressed: int  # arrived during a maintenance window


@dataclasses.dataclass(frozen=True)
class IntegrationNoise(Noise):
    integration_id: int = 0
    service: str = ""


@dataclasses.dataclass(frozen=True)
class ServiceNoise(Noise):
    service_id: int = 0


@dataclasses.dataclass(frozen=True)
class KeyNoise(Noise):
    integration: str = ""


@dataclasses.dataclass(frozen=True)
class AlertNoise:
    integrations: list[IntegrationNoise]
    services: list[ServiceNoise]
    noisiest_keys: list[KeyNoise]


def _counts() -> dict:
    return {
        "alerts": Count("pk"),
        "deduplicated": Count("pk", filter=_DEDUPLICATED),
        "incidents_opened": Count("pk", filter=_OPENED),
        "suppressed": Count("pk", filter=_SUPPRESSED),
    }


def _triggers(period: Period) -> QuerySet[AlertEvent]:
    rows = AlertEvent.objects.filter(
        action=AlertEvent.Action.TRIGGER, received_at__gte=period.start, received_at__lt=period.end
    )
    if period.team is not None:
        rows = rows.filter(integration__service__owning_team=period.team)
    return rows


def alert_noise(period: Period, *, keys: int = NOISIEST_KEYS) -> AlertNoise:
    """Alert noise in the period (by when alerts were received), two queries. Only triggers are
    alerts: acknowledge and resolve events are not counted. With a team: its services' integrations."""
    triggers = _triggers(period)
    per_integration = (
        triggers.values("integration_id", "integration__name", "integration__service_id", "integration__service__name")
        .annotate(**_counts())
        .order_by("-alerts", "integration__name", "integration_id")
    )
    integrations = [
        IntegrationNoise(
            name=row["integration__name"], alerts=row["alerts"], deduplicated=row["deduplicated"],
            incidents_opened=row["incidents_opened"], suppressed=row["suppressed"],
            integration_id=row["integration_id"], service=row["integration__service__name"],
        )
        for row in per_integration
    ]
    services: dict[int, dict] = {}
    for row in per_integration:
        total = services.setdefault(
            row["integration__service_id"],
            {"name": row["integration__service__name"], "alerts": 0, "deduplicated": 0, "incidents_opened": 0, "suppressed": 0},
        )
        for name in ("alerts", "deduplicated", "incidents_opened", "suppressed"):
            total[name] += row[name]
    noisiest = (
        triggers.values("integration_id", "integration__name", "dedup_key")
        .annotate(**_counts())
        .order_by("-alerts", "integration__name", "dedup_key")[:keys]
    )
    return AlertNoise(
        integrations=integrations,
        services=sorted(
            (ServiceNoise(service_id=pk, **values) for pk, values in services.items()),
            key=lambda s: (-s.alerts, s.name),
        ),
        noisiest_keys=[
            KeyNoise(
                name=row["dedup_key"], alerts=row["alerts"], deduplicated=row["deduplicated"],
                incidents_opened=row["incidents_opened"], suppressed=row["suppressed"], integration=row["integration__name"],
            )
            for row in noisiest
        ],
    )
