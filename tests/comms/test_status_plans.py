"""The status page's queries keep their indexes on a large incidents table: with a few thousand
incidents and sequential scans priced out, each query the page, its JSON and a day page send
reads `incidents_incident` through an index. A change that loses the index fails here, long
before a million incidents make it slow."""

import datetime as dt
import random

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import Incident, Status
from tests.incidents.factories import IncidentFactory, ServiceFactory, severity

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's: SQLite has no enable_seqscan"),
]

NOW = dt.datetime(2026, 11, 22, 14, 5, tzinfo=dt.UTC)
ENDED = (Status.RESOLVED, Status.CLOSED)


@pytest.fixture
def many_incidents(db):
    """3,000 incidents over three years: most closed long ago, few public, a few open."""
    services = [ServiceFactory(name=f"Component {k}", slug=f"component-{k}", customer_facing=True) for k in range(4)]
    with time_machine.travel(NOW - dt.timedelta(days=2), tick=False):
        model = IncidentFactory(services=services[:1], severity=severity("SEV-2"), public_on_status_page=True)
    rng = random.Random(15)
    rows = []
    for k in range(3000):
        declared = NOW - dt.timedelta(days=rng.uniform(0, 3 * 365))
        row = Incident(**{f.attname: getattr(model, f.attname) for f in Incident._meta.concrete_fields if not f.primary_key})
        row.number = model.number + 1 + k
        row.declared_at = row.acknowledged_at = declared
        row.detected_at = row.mitigated_at = row.closed_at = None
        row.public_on_status_page = rng.random() < 0.1
        if rng.random() < 0.98:
            row.status, row.resolved_at = rng.choice(ENDED), declared + dt.timedelta(hours=1)
            row.mitigated_at = row.resolved_at
            row.closed_at = row.resolved_at if row.status == Status.CLOSED else None
        else:
            row.status, row.resolved_at = Status.INVESTIGATING, None
        rows.append(row)
    Incident.objects.bulk_create(rows, batch_size=1000)
    Through = Incident.services.through
    Through.objects.bulk_create([Through(incident=row, service=services[k % 4]) for k, row in enumerate(rows)], batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
        cursor.execute("ANALYZE incidents_incident_services")


def plans(client, url: str) -> list[tuple[str, str]]:
    """(query, its plan) for each query on incidents_incident that the page sends."""
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    out = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in captured.captured_queries:
            sql = query["sql"]
            if '"incidents_incident"' not in sql or not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN " + sql)
            out.append((sql, "\n".join(row[0] for row in cursor.fetchall())))
    return out


@pytest.mark.parametrize("url", ["/status/", "/status.json", "/status/day/2026-11-20/"])
def test_every_status_page_query_on_incidents_uses_an_index(client, many_incidents, url):
    found = plans(client, url)

    assert found, "the page sent no query on incidents"
    for sql, plan in found:
        assert "Seq Scan on incidents_incident " not in plan + " ", f"{sql}\n\n{plan}"
        assert "Index" in plan and "incidents_incident" in plan, f"{sql}\n\n{plan}"


def test_the_90_days_are_read_through_the_public_resolution_index(client, many_incidents):
    found = plans(client, "/status/")

    assert any("incident_public_resolved" in plan for _, plan in found), "\n\n".join(plan for _, plan in found)
