"""/metrics: Prometheus's text format, parsed back with prometheus_client's own parser, equals
figures counted by hand; a fixed number of queries per scrape; closed unless a token or
allowed networks are set."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from comms.models import Channel, Notification
from comms.observability.health import WORKER_HEARTBEAT
from incidents import actions
from incidents.models import Deadline, Source
from tests.comms.factories import NotificationFactory
from tests.test_settings import clean_env, run
from tests.incidents.factories import (
    AlertEventFactory, DeadlineFactory, EngineHeartbeatFactory, IncidentFactory, IntegrationFactory, severity,
)

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
TOKEN = "s3cret-scrape-token"
# severities, incidents (counts and both histograms), notifications, the outbox (4), heartbeats, engine lag, alert events
QUERIES_PER_SCRAPE = 10


def scrape(client, token=TOKEN, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get("/metrics", **headers, **extra)


def parse(response) -> dict:
    """{(sample name, (label pairs…)): value}, every sample of every family."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


@pytest.fixture
def token(settings):
    settings.VIGIL_METRICS_TOKEN = TOKEN
    settings.VIGIL_METRICS_ALLOWED_NETWORKS = []


@pytest.fixture
def incidents(db, commander):
    """SEV-1: A acknowledged after 4 min and open; B and a restricted one untouched; C acknowledged
    after 4 min, resolved after 50 min. SEV-2: D acknowledged after 10 min, resolved after 30,
    reopened after 40 and resolved again after exactly 2 h. A SEV-2 drill resolved in 5 min."""
    sev1, sev2 = severity("SEV-1"), severity("SEV-2")
    with time_machine.travel(T0, tick=False) as clock:
        a = IncidentFactory(severity=sev1, actor=commander, title="A")
        IncidentFactory(severity=sev1, actor=commander, title="B")
        IncidentFactory(severity=sev1, actor=commander, title="Secret merger database", is_restricted=True)
        c = IncidentFactory(severity=sev1, actor=commander, title="C")
        d = IncidentFactory(severity=sev2, actor=commander, title="D")
        drill = IncidentFactory(severity=sev2, actor=commander, title="Drill", is_drill=True)
        clock.shift(dt.timedelta(minutes=1))
        actions.acknowledge(drill, actor=commander, source=Source.ADMIN)
        clock.shift(dt.timedelta(minutes=3))  # T0 + 4 min
        actions.acknowledge(a, actor=commander, source=Source.ADMIN)
        actions.acknowledge(c, actor=commander, source=Source.ADMIN)
        clock.shift(dt.timedelta(minutes=1))  # + 5 min
        actions.resolve(drill, actor=commander, source=Source.ADMIN, summary="Exercise over")
        clock.shift(dt.timedelta(minutes=5))  # + 10 min
        actions.acknowledge(d, actor=commander, source=Source.ADMIN)
        clock.shift(dt.timedelta(minutes=20))  # + 30 min
        actions.resolve(d, actor=commander, source=Source.ADMIN, summary="Rolled back")
        clock.shift(dt.timedelta(minutes=10))  # + 40 min
        actions.reopen(d, actor=commander, source=Source.ADMIN, reason="Errors are back")
        clock.shift(dt.timedelta(minutes=10))  # + 50 min
        actions.resolve(c, actor=commander, source=Source.ADMIN, summary="Fixed")
        clock.shift(dt.timedelta(minutes=70))  # + 2 h
        actions.resolve(d, actor=commander, source=Source.ADMIN, summary="Fixed for good")


def test_incident_counts_and_durations_equal_hand_counted_figures(client, token, incidents, django_assert_max_num_queries):
    with time_machine.travel(T0 + dt.timedelta(hours=3), tick=False):
        with django_assert_max_num_queries(QUERIES_PER_SCRAPE):
            response = scrape(client)
    samples = parse(response)

    # B and the restricted one; A; C. The drill is left out: SEV-2 has D alone.
    assert value(samples, "vigil_incidents", severity="SEV-1", status="triggered") == 2
    assert value(samples, "vigil_incidents", severity="SEV-1", status="investigating") == 1
    assert value(samples, "vigil_incidents", severity="SEV-1", status="resolved") == 1
    assert value(samples, "vigil_incidents", severity="SEV-2", status="resolved") == 1
    assert value(samples, "vigil_incidents", severity="SEV-2", status="investigating") == 0
    assert value(samples, "vigil_incidents", severity="SEV-3", status="triggered") == 0
    assert value(samples, "vigil_incidents_open", severity="SEV-1") == 3
    assert value(samples, "vigil_incidents_open", severity="SEV-2") == 0

    # Acknowledged after 4 min (A, C): in le=300, not in le=120. D after 10 min: le=600 holds it.
    ack = "vigil_incident_acknowledge_seconds"
    assert value(samples, f"{ack}_bucket", severity="SEV-1", le="120.0") == 0
    assert value(samples, f"{ack}_bucket", severity="SEV-1", le="300.0") == 2
    assert value(samples, f"{ack}_bucket", severity="SEV-1", le="+Inf") == 2
    assert value(samples, f"{ack}_count", severity="SEV-1") == 2
    assert value(samples, f"{ack}_sum", severity="SEV-1") == 480
    assert value(samples, f"{ack}_bucket", severity="SEV-2", le="300.0") == 0
    assert value(samples, f"{ack}_bucket", severity="SEV-2", le="600.0") == 1
    assert value(samples, f"{ack}_sum", severity="SEV-2") == 600

    # C resolved after 50 min; D's latest resolution is exactly 2 h after declaration (not its first, 30 min).
    res = "vigil_incident_resolve_seconds"
    assert value(samples, f"{res}_bucket", severity="SEV-1", le="1800.0") == 0
    assert value(samples, f"{res}_bucket", severity="SEV-1", le="3600.0") == 1
    assert value(samples, f"{res}_sum", severity="SEV-1") == 3000
    assert value(samples, f"{res}_bucket", severity="SEV-2", le="3600.0") == 0
    assert value(samples, f"{res}_bucket", severity="SEV-2", le="7200.0") == 1
    assert value(samples, f"{res}_count", severity="SEV-2") == 1
    assert value(samples, f"{res}_sum", severity="SEV-2") == 7200
    assert value(samples, f"{res}_count", severity="SEV-3") == 0

    # Counted, never named.
    assert b"Secret merger" not in response.content


def test_notifications_outbox_engine_and_alert_events(client, token, db, django_assert_max_num_queries):
    now = timezone.now().replace(microsecond=0)
    with time_machine.travel(now, tick=False):
        NotificationFactory.create_batch(2, channel=Channel.EMAIL, status=Notification.Status.SENT)
        NotificationFactory(channel=Channel.SMS, address="+447400123456", send_after=now - dt.timedelta(minutes=10))
        NotificationFactory(channel=Channel.SMS, address="+447400123456", send_after=now)  # due now: not overdue
        NotificationFactory(channel=Channel.CHAT, status=Notification.Status.FAILED)
        grafana = IntegrationFactory(name="Grafana checkout")
        quiet = IntegrationFactory(name="Alertmanager db")
        AlertEventFactory.create_batch(3, integration=grafana)
        EngineHeartbeatFactory(last_tick_at=now - dt.timedelta(seconds=12), last_tick_seconds=0.25)
        EngineHeartbeatFactory(name=WORKER_HEARTBEAT, last_tick_at=now - dt.timedelta(seconds=20))
        incident = IncidentFactory()
        Deadline.objects.update(cancelled_at=now)  # the incident's own plan: out of the way
        DeadlineFactory(incident=incident, due_at=now - dt.timedelta(seconds=45))
        DeadlineFactory(incident=incident, due_at=now - dt.timedelta(hours=1), round=10, fired_at=now)  # fired: no lag
        DeadlineFactory(incident=incident, due_at=now + dt.timedelta(minutes=5), round=11)  # not due yet

        with django_assert_max_num_queries(QUERIES_PER_SCRAPE):
            samples = parse(scrape(client))

    assert value(samples, "vigil_notifications", channel="email", status="sent") == 2
    assert value(samples, "vigil_notifications", channel="sms", status="pending") == 2
    assert value(samples, "vigil_notifications", channel="chat", status="failed") == 1
    assert value(samples, "vigil_notifications", channel="chat", status="sent") == 0
    assert value(samples, "vigil_outbox_overdue_notifications") == 1
    assert value(samples, "vigil_outbox_oldest_overdue_seconds") == 600
    assert value(samples, "vigil_notifications_failed_last_24h") == 1
    assert value(samples, "vigil_engine_tick_age_seconds") == 12
    assert value(samples, "vigil_engine_last_tick_timestamp_seconds") == (now - dt.timedelta(seconds=12)).timestamp()
    assert value(samples, "vigil_engine_last_tick_duration_seconds") == 0.25
    assert value(samples, "vigil_engine_lag_seconds") == 45
    assert value(samples, "vigil_worker_heartbeat_age_seconds") == 20
    assert value(samples, "vigil_alert_events_total", integration_id=str(grafana.pk), integration="Grafana checkout") == 3
    assert value(samples, "vigil_alert_events_total", integration_id=str(quiet.pk), integration="Alertmanager db") == 0


def test_an_empty_installation_has_no_lag_and_no_tick_yet(client, token, db):
    samples = parse(scrape(client))

    assert value(samples, "vigil_engine_lag_seconds") == 0
    assert value(samples, "vigil_outbox_oldest_overdue_seconds") == 0
    # Absent until the first tick and the first heartbeat.
    assert not {name for name, _ in samples} & {"vigil_engine_tick_age_seconds", "vigil_worker_heartbeat_age_seconds"}


def test_the_query_count_does_not_grow_with_the_tables(client, token, db, commander, django_assert_max_num_queries):
    for _ in range(15):
        incident = IncidentFactory(severity=severity("SEV-1"), actor=commander)
        actions.resolve(incident, actor=commander, source=Source.ADMIN, summary="Fixed")
        NotificationFactory(incident=incident)
        AlertEventFactory(integration=IntegrationFactory())

    with django_assert_max_num_queries(QUERIES_PER_SCRAPE):
        samples = parse(scrape(client))
    assert value(samples, "vigil_incidents", severity="SEV-1", status="resolved") == 15


# --- Who may scrape ----------------------------------------------------------------------------


def test_closed_until_a_token_or_networks_are_set(client, db, settings):
    settings.VIGIL_METRICS_TOKEN, settings.VIGIL_METRICS_ALLOWED_NETWORKS = "", []

    response = scrape(client, token="anything")

    assert response.status_code == 403
    assert "VIGIL_METRICS_TOKEN" in response.content.decode()
    assert "VIGIL_METRICS_ALLOWED_NETWORKS" in response.content.decode()


@pytest.mark.parametrize("token", [None, "wrong-token", TOKEN + "x"])
def test_a_missing_or_wrong_token_is_401_with_a_bearer_challenge(client, db, settings, token):
    settings.VIGIL_METRICS_TOKEN, settings.VIGIL_METRICS_ALLOWED_NETWORKS = TOKEN, []

    response = scrape(client, token=token)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"vigil_" not in response.content


def test_another_scheme_with_the_right_secret_is_refused(client, db, settings):
    settings.VIGIL_METRICS_TOKEN, settings.VIGIL_METRICS_ALLOWED_NETWORKS = TOKEN, []

    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401


def test_allowed_networks_are_matched_against_the_connecting_address(client, db, settings):
    settings.VIGIL_METRICS_TOKEN, settings.VIGIL_METRICS_ALLOWED_NETWORKS = "", ["10.0.0.0/8", "2001:db8::/32"]

    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::ffff:10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="2001:db8::7").status_code == 200
    outside = client.get("/metrics", REMOTE_ADDR="192.0.2.1")
    assert outside.status_code == 403
    assert "VIGIL_METRICS_ALLOWED_NETWORKS" in outside.content.decode()
    # A forwarded-for header is the client's own word: it opens nothing.
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.20.30.40").status_code == 403


def test_with_both_set_a_scrape_needs_both(client, db, settings):
    settings.VIGIL_METRICS_TOKEN, settings.VIGIL_METRICS_ALLOWED_NETWORKS = TOKEN, ["10.0.0.0/8"]

    assert scrape(client, REMOTE_ADDR="10.0.0.5").status_code == 200
    assert scrape(client, token=None, REMOTE_ADDR="10.0.0.5").status_code == 401
    assert scrape(client, REMOTE_ADDR="192.0.2.1").status_code == 403


@pytest.mark.parametrize("networks", ["banana", "10.0.0.0/8,10.0.0.1/8", "10.0.0.0/33"])
def test_a_bad_network_refuses_to_start_and_says_which(networks):
    result = run(["manage.py", "check"], clean_env(VIGIL_METRICS_ALLOWED_NETWORKS=networks))

    assert result.returncode != 0
    assert "ImproperlyConfigured: VIGIL_METRICS_ALLOWED_NETWORKS" in result.stderr
    assert "give comma-separated CIDRs such as 10.0.0.0/8" in result.stderr


def test_good_networks_start():
    result = run(["manage.py", "check"], clean_env(VIGIL_METRICS_ALLOWED_NETWORKS="10.0.0.0/8,192.168.1.7/32,2001:db8::/32"))

    assert result.returncode == 0, result.stderr
