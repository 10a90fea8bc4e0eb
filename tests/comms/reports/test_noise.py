"""Alert noise per integration, per service and per dedup key, from alerts sent to the real API."""

import datetime as dt

import pytest

from comms.reports import DEFINITIONS, Period, alert_noise
from incidents import ingest
from incidents.models import AlertEvent
from tests.incidents.factories import IntegrationFactory, MaintenanceWindowFactory, ServiceFactory
from tests.oncall.factories import TeamFactory

from .drive import frozen, utc

T = utc(2026, 3, 3, 10, 0)
MIN = dt.timedelta(minutes=1)


def send(client, integration, key, action="trigger", at=T):
    body = {"routing_key": integration.key, "event_action": action, "dedup_key": key}
    if action == "trigger":
        body["payload"] = {"summary": f"{key} on db-1", "source": "db-1", "severity": "warning"}
    with frozen(at):
        response = client.post("/api/v1/events", data=body, content_type="application/json")
    assert response.status_code == 202, response.content


@pytest.fixture
def integrations(db):
    ingest.forget_lookups()
    payments, search = TeamFactory(name="Payments", slug="payments"), TeamFactory(name="Search", slug="search")
    checkout = IntegrationFactory(name="Grafana checkout", service=ServiceFactory(name="Checkout API", slug="checkout", owning_team=payments))
    queries = IntegrationFactory(name="Alertmanager search", service=ServiceFactory(name="Search", slug="search", owning_team=search))
    yield checkout, queries
    ingest.forget_lookups()


def test_alerts_received_deduplicated_and_opening_incidents(client, integrations, django_assert_num_queries):
    checkout, queries = integrations
    send(client, checkout, "cpu-high", at=T - dt.timedelta(days=2))  # before the period: opens an incident…
    for minute in (1, 2, 3, 4):
        send(client, checkout, "cpu-high", at=T + minute * MIN)  # …that these four join
    send(client, checkout, "disk-full", at=T + 5 * MIN)  # opens
    send(client, checkout, "disk-full", at=T + 6 * MIN)  # joins
    send(client, checkout, "disk-full", action="resolve", at=T + 7 * MIN)  # not an alert
    send(client, checkout, "disk-full", at=T + 8 * MIN)  # its incident is resolved: opens another
    send(client, queries, "p99-latency", at=T + 9 * MIN)  # opens
    MaintenanceWindowFactory(service=queries.service, starts_at=T + 10 * MIN, ends_at=T + 20 * MIN)
    ingest.forget_lookups()
    send(client, queries, "p99-latency", at=T + 11 * MIN)  # in maintenance: suppressed, joins nothing
    send(client, queries, "index-lag", at=T + 12 * MIN)  # in maintenance: suppressed
    assert AlertEvent.objects.filter(status="suppressed").count() == 2

    period = Period(T, T + dt.timedelta(hours=1))
    with django_assert_num_queries(2):  # however many alerts, keys and integrations
        noise = alert_noise(period, keys=2)

    counts = lambda row: (row.name, row.alerts, row.deduplicated, row.incidents_opened, row.suppressed)  # noqa: E731
    # Checkout: cpu-high 4 (all joined), disk-full 3 (2 opened, 1 joined).
    assert [counts(row) for row in noise.integrations] == [("Grafana checkout", 7, 5, 2, 0), ("Alertmanager search", 3, 0, 1, 2)]
    assert [row.service for row in noise.integrations] == ["Checkout API", "Search"]
    assert [counts(row) for row in noise.services] == [("Checkout API", 7, 5, 2, 0), ("Search", 3, 0, 1, 2)]
    assert [(row.integration, *counts(row)) for row in noise.noisiest_keys] == [
        ("Grafana checkout", "cpu-high", 4, 4, 0, 0),
        ("Grafana checkout", "disk-full", 3, 1, 2, 0),
    ]

    only = alert_noise(Period(T, T + dt.timedelta(hours=1), team=queries.service.owning_team))
    assert [counts(row) for row in only.integrations] == [("Alertmanager search", 3, 0, 1, 2)]
    assert [counts(row) for row in only.noisiest_keys] == [("p99-latency", 2, 0, 1, 1), ("index-lag", 1, 0, 0, 1)]
    assert "dedup key" in DEFINITIONS["alerts_deduplicated"]


def test_no_alerts_no_rows(integrations):
    noise = alert_noise(Period(T, T + MIN))
    assert (noise.integrations, noise.services, noise.noisiest_keys) == ([], [], [])
