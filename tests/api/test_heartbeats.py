"""Heartbeats: POST /api/v1/heartbeats/<key> records a ping; beat's minute check declares one
incident per outage when a ping is overdue (interval + grace); the next ping resolves it."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from incidents import ingest
from incidents.models import Heartbeat, Incident, Source, TimelineEvent
from incidents.tasks import check_ingestion
from tests.incidents.factories import HeartbeatFactory, MaintenanceWindowFactory, severity


def ping(client, key):
    return client.post(f"/api/v1/heartbeats/{key}")


@pytest.fixture
def heartbeat(db, service):
    return HeartbeatFactory(name="Nightly backup", service=service, interval_minutes=60, grace_minutes=5)


@pytest.mark.django_db
def test_a_ping_is_recorded(client, heartbeat):
    response = ping(client, heartbeat.key)
    assert response.status_code == 202 and response.json() == {"status": "ok", "state": "up"}
    heartbeat.refresh_from_db()
    assert heartbeat.state == "up" and heartbeat.last_ping_at is not None


@pytest.mark.django_db
def test_an_unknown_or_inactive_key_is_404(client, heartbeat):
    assert ping(client, ingest.new_key()).status_code == 404
    Heartbeat.objects.filter(pk=heartbeat.pk).update(is_active=False)
    assert ping(client, heartbeat.key).status_code == 404


@pytest.mark.django_db
def test_a_missed_ping_declares_one_incident_per_outage_and_the_next_ping_resolves_it(client, heartbeat):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ping(client, heartbeat.key)
    with time_machine.travel(start + dt.timedelta(minutes=64), tick=False):
        assert check_ingestion() == 0  # within interval + grace
    for minutes in (66, 67, 90):  # beat every minute: one incident for the whole outage
        with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
            check_ingestion()
            check_ingestion()

    incident = Incident.objects.get()
    heartbeat.refresh_from_db()
    assert heartbeat.state == "down" and heartbeat.incident == incident
    assert heartbeat.down_since == start + dt.timedelta(minutes=65)
    assert incident.title == "Heartbeat missed: Nightly backup" and incident.severity.name == "SEV-2"
    assert incident.origin == "monitoring" and list(incident.services.all()) == [heartbeat.service]
    declared = incident.timeline.get(kind=TimelineEvent.Kind.DECLARED)
    assert declared.source == Source.INTEGRATION and declared.message.startswith("Heartbeat Nightly backup declared SEV-2")

    with time_machine.travel(start + dt.timedelta(minutes=95), tick=False):
        assert ping(client, heartbeat.key).status_code == 202
    incident.refresh_from_db()
    heartbeat.refresh_from_db()
    assert incident.status == "resolved" and "Pings resumed" in incident.resolution_summary
    assert heartbeat.state == "up" and heartbeat.incident is None and heartbeat.down_since is None

    # A later outage is a new incident.
    with time_machine.travel(start + dt.timedelta(minutes=95 + 66), tick=False):
        assert check_ingestion() == 1
    assert Incident.objects.count() == 2


@pytest.mark.django_db
def test_a_heartbeat_that_never_pinged_does_not_alarm(heartbeat):
    with time_machine.travel(timezone.now() + dt.timedelta(days=2), tick=False):
        assert check_ingestion() == 0
    heartbeat.refresh_from_db()
    assert heartbeat.state == "new"


@pytest.mark.django_db
def test_a_miss_during_maintenance_goes_down_quietly(client, heartbeat):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ping(client, heartbeat.key)
    MaintenanceWindowFactory(service=heartbeat.service, starts_at=start, ends_at=start + dt.timedelta(hours=3))
    with time_machine.travel(start + dt.timedelta(minutes=70), tick=False):
        assert check_ingestion() == 0
    heartbeat.refresh_from_db()
    assert heartbeat.state == "down" and heartbeat.incident is None and not Incident.objects.exists()
    with time_machine.travel(start + dt.timedelta(minutes=80), tick=False):
        ping(client, heartbeat.key)
    heartbeat.refresh_from_db()
    assert heartbeat.state == "up"


@pytest.mark.django_db
def test_a_heartbeat_with_its_own_severity(client, service):
    heartbeat = HeartbeatFactory(service=service, interval_minutes=5, grace_minutes=0, severity=severity("SEV-1"))
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ping(client, heartbeat.key)
    with time_machine.travel(start + dt.timedelta(minutes=6), tick=False):
        check_ingestion()
    assert Incident.objects.get().severity.name == "SEV-1"


@pytest.mark.django_db
def test_the_admin_shows_the_ping_url_once(client, manager, service):
    client.force_login(manager)
    response = client.post(
        "/admin/incidents/heartbeat/add/",
        {"name": "Backups", "service": service.pk, "interval_minutes": 1440, "grace_minutes": 30, "is_active": "on"},
    )
    assert response.status_code == 200, response.content[:1500]
    key = response.context["key"]
    assert f"http://testserver/api/v1/heartbeats/{key}" in response.content.decode()
    assert Heartbeat.objects.get().key_hash == ingest.hash_key(key)
    assert key not in client.get("/admin/incidents/heartbeat/").content.decode()
    assert ping(client, key).status_code == 202
