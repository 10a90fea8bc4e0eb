"""POST /api/v1/events: PagerDuty Events API v2 in, incidents out — stored first in the alert
log, deduplicated into one open incident per key (also under concurrency, on PostgreSQL), and
answering 503 (never 500) without a database and 202 without Redis."""

import datetime as dt
import io
import threading
from unittest import mock

import pytest
import time_machine
from django.db import OperationalError, connection, connections
from django.utils import timezone

from config.middleware import RETRY_AFTER_SECONDS
from incidents import actions, ingest
from incidents.models import AlertEvent, AlertGroup, Incident, Integration, Source, TimelineEvent
from tests.commands import run_command
from tests.incidents.factories import IntegrationFactory, MaintenanceWindowFactory, severity

URL = "/api/v1/events"


def trigger(key, dedup_key=None, summary="Checkout p99 above 2 s", sev="critical", **extra):
    body = {
        "routing_key": key,
        "event_action": "trigger",
        "payload": {"summary": summary, "source": "checkout-1", "severity": sev, **extra},
    }
    if dedup_key is not None:
        body["dedup_key"] = dedup_key
    return body


def post(client, body):
    return client.post(URL, data=body, content_type="application/json")


@pytest.fixture
def integration(db, service):
    return IntegrationFactory(name="Grafana", service=service)


@pytest.fixture(autouse=True)
def fresh_lookups():
    """Integration lookups are kept per process for a few seconds; no test sees another's."""
    ingest.forget_lookups()
    yield
    ingest.forget_lookups()


@pytest.mark.django_db
def test_a_trigger_declares_an_incident_on_the_integrations_service(client, integration, sev1):
    response = post(client, trigger(integration.key, "checkout-latency"))

    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Event processed", "dedup_key": "checkout-latency"}
    incident = Incident.objects.get()
    assert incident.title == "Checkout p99 above 2 s" and incident.severity == sev1
    assert incident.origin == Incident.Origin.MONITORING and list(incident.services.all()) == [integration.service]
    declared = incident.timeline.get(kind=TimelineEvent.Kind.DECLARED)
    assert declared.source == Source.INTEGRATION and declared.message.startswith("Grafana (integration) declared SEV-1")
    event = AlertEvent.objects.get()
    assert (event.status, event.incident, event.action, event.dedup_key) == ("processed", incident, "trigger", "checkout-latency")
    assert event.payload["payload"]["summary"] == "Checkout p99 above 2 s" and event.source == "checkout-1"


@pytest.mark.django_db
@pytest.mark.parametrize("level, expected", [("critical", "SEV-1"), ("error", "SEV-2"), ("warning", "SEV-3"), ("info", "SEV-4")])
def test_severities_map_to_sev1_to_sev4_by_default(client, integration, level, expected):
    assert post(client, trigger(integration.key, sev=level)).status_code == 202
    assert Incident.objects.get().severity.name == expected


@pytest.mark.django_db
def test_an_integration_can_map_severities_its_own_way(client, service):
    integration = IntegrationFactory(service=service, warning_severity=severity("SEV-2"))
    post(client, trigger(integration.key, sev="warning"))
    assert Incident.objects.get().severity.name == "SEV-2"


@pytest.mark.django_db
def test_repeated_triggers_join_the_open_incident_and_are_noted_at_most_every_five_minutes(client, integration):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            assert post(client, trigger(integration.key, "disk-full")).status_code == 202
    with time_machine.travel(start + dt.timedelta(minutes=6), tick=False):
        post(client, trigger(integration.key, "disk-full", summary="Disk 99% full"))
        post(client, trigger(integration.key, "disk-full"))

    incident = Incident.objects.get()
    group = AlertGroup.objects.get()
    assert group.alert_count == 5 and group.incident == incident
    notes = list(incident.timeline.filter(kind=TimelineEvent.Kind.NOTE).values_list("message", flat=True))
    assert len(notes) == 1
    assert notes[0].startswith("Alert repeated 3 times since") and "(4 in all) via Grafana: Disk 99% full" in notes[0]
    assert AlertEvent.objects.filter(incident=incident, status="processed").count() == 5


@pytest.mark.django_db
def test_a_repeat_joins_in_one_statement_and_says_so_in_the_alert_log(client, integration, django_assert_max_num_queries):
    post(client, trigger(integration.key, "queue-depth"))
    incident = Incident.objects.get()

    # The lookup is remembered and, on PostgreSQL, the join is one statement (plus a savepoint
    # here, as the test runs inside a transaction); the general path elsewhere.
    with django_assert_max_num_queries(3 if connection.vendor == "postgresql" else 8):
        response = post(client, trigger(integration.key, "queue-depth", summary="Queue depth 12k"))

    assert response.status_code == 202 and response.json()["dedup_key"] == "queue-depth"
    event = AlertEvent.objects.order_by("pk").last()
    assert (event.status, event.incident, event.outcome) == ("processed", incident, f"Joined {incident.reference} (alert 2)")
    assert event.summary == "Queue depth 12k" and event.payload["payload"]["summary"] == "Queue depth 12k"
    assert event.processed_at is not None and event.received_at <= event.processed_at
    group = AlertGroup.objects.get()
    assert group.alert_count == 2 and group.noted_count == 1 and group.last_alert_at >= event.received_at
    assert not incident.timeline.filter(kind=TimelineEvent.Kind.NOTE).exists()


@pytest.mark.django_db
def test_a_deactivated_integration_may_be_honoured_for_the_lookup_ttl_and_no_longer(client, integration):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert post(client, trigger(integration.key, "flap")).status_code == 202
        Integration.objects.filter(pk=integration.pk).update(is_active=False)
        assert post(client, trigger(integration.key, "flap")).status_code == 202  # remembered: documented
    with time_machine.travel(start + ingest.LOOKUP_TTL, tick=False):
        assert post(client, trigger(integration.key, "flap")).status_code == 400
    assert AlertEvent.objects.count() == 2


@pytest.mark.django_db
def test_a_maintenance_window_applies_within_the_lookup_ttl_and_ends_on_time(client, integration):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        post(client, trigger(integration.key, "cpu"))
        MaintenanceWindowFactory(service=integration.service, starts_at=start, ends_at=start + dt.timedelta(minutes=1))
    with time_machine.travel(start + ingest.LOOKUP_TTL, tick=False):
        post(client, trigger(integration.key, "cpu"))
    with time_machine.travel(start + dt.timedelta(minutes=1), tick=False):
        post(client, trigger(integration.key, "cpu"))
    statuses = list(AlertEvent.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["processed", "suppressed", "processed"]
    assert AlertGroup.objects.get().alert_count == 2


@pytest.mark.django_db
def test_a_trigger_without_dedup_key_gets_one_back_that_resolves_it(client, integration):
    response = post(client, trigger(integration.key))
    key = response.json()["dedup_key"]
    assert len(key) == 32

    response = post(client, {"routing_key": integration.key, "event_action": "resolve", "dedup_key": key})
    assert response.status_code == 202 and response.json()["dedup_key"] == key
    incident = Incident.objects.get()
    assert incident.status == "resolved"


@pytest.mark.django_db
def test_acknowledge_and_resolve_act_on_the_open_incident_in_the_integrations_name(client, integration):
    post(client, trigger(integration.key, "db-down"))
    ack = {"routing_key": integration.key, "event_action": "acknowledge", "dedup_key": "db-down"}
    assert post(client, ack).status_code == 202
    assert post(client, ack).status_code == 202  # a second acknowledge changes nothing
    assert post(client, {**ack, "event_action": "resolve"}).status_code == 202

    incident = Incident.objects.get()
    assert incident.status == "resolved" and incident.acknowledged_at is not None
    messages = list(incident.timeline.order_by("occurred_at", "pk").values_list("message", flat=True))
    assert f"Grafana (integration) acknowledged {incident.reference}" in messages
    assert f"Grafana (integration) resolved {incident.reference}" in messages
    outcomes = list(AlertEvent.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == [
        f"Declared {incident.reference}", f"Acknowledged {incident.reference}",
        f"{incident.reference} was already acknowledged", f"Resolved {incident.reference}",
    ]
    assert not AlertGroup.objects.filter(closed_at=None).exists()

    # The same key fires again after the resolution: a new incident.
    post(client, trigger(integration.key, "db-down"))
    assert Incident.objects.count() == 2 and Incident.objects.filter(status="triggered").count() == 1


@pytest.mark.django_db
def test_a_trigger_after_someone_resolved_the_incident_by_hand_opens_a_new_one(client, integration, commander):
    post(client, trigger(integration.key, "api-5xx"))
    first = Incident.objects.get()
    actions.resolve(first, actor=commander, source=Source.ADMIN, summary="Fixed")

    post(client, trigger(integration.key, "api-5xx"))

    second = Incident.objects.exclude(pk=first.pk).get()
    assert second.status == "triggered"
    assert AlertGroup.objects.get(closed_at=None).incident == second


@pytest.mark.django_db
def test_acknowledge_or_resolve_of_an_unknown_key_is_accepted_and_logged(client, integration):
    response = post(client, {"routing_key": integration.key, "event_action": "resolve", "dedup_key": "never-fired"})
    assert response.status_code == 202
    event = AlertEvent.objects.get()
    assert event.status == "processed" and event.outcome == "No open incident for this dedup key: nothing to resolve"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, error",
    [
        ({"event_action": "trigger"}, "'routing_key' is missing or blank"),
        ({"routing_key": "short", "event_action": "trigger"}, "Length of 'routing_key' is incorrect (should be 32 characters)"),
        ({"routing_key": "k" * 32, "event_action": "explode"}, "'event_action' is missing or invalid"),
        ({"routing_key": "k" * 32, "event_action": "resolve"}, "'dedup_key' is required to resolve an alert"),
        ({"routing_key": "k" * 32, "event_action": "trigger", "payload": {"source": "x", "severity": "critical"}}, "'payload.summary' is missing or blank"),
        ({"routing_key": "k" * 32, "event_action": "trigger", "payload": {"summary": "x", "source": "x", "severity": "fatal"}}, "'payload.severity' is missing or invalid"),
        ({"routing_key": "k" * 32, "event_action": "trigger", "dedup_key": "d" * 256, "payload": {"summary": "x", "source": "x", "severity": "info"}}, "'dedup_key' must be at most 255 characters"),
        ({"routing_key": "k" * 32, "event_action": "trigger", "payload": {"summary": "x", "source": "x", "severity": "info", "timestamp": "yesterday"}}, "'payload.timestamp' must be an ISO 8601"),
        (["not", "an", "object"], "Event object must be a JSON object"),
    ],
)
def test_invalid_events_get_pagerdutys_400_and_are_not_stored(client, body, error):
    response = post(client, body)
    assert response.status_code == 400
    data = response.json()
    assert data["status"] == "invalid event" and data["message"] == "Event object is invalid"
    assert any(e.startswith(error) for e in data["errors"]), data["errors"]
    assert not AlertEvent.objects.exists()


@pytest.mark.django_db
def test_a_body_that_is_not_json_is_an_invalid_event(client):
    response = client.post(URL, data=b"{nope", content_type="application/json")
    assert response.status_code == 400 and response.json()["errors"] == ["The body is not valid JSON"]


def nested(depth: int, leaf=1):
    """A value `depth` objects deep."""
    return leaf if depth == 0 else {"a": nested(depth - 1, leaf)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":' * 1000 + b"1" + b"}" * 1000,  # ~6 KB that Python's parser recursed out of the stack on
        b"[" * 1000 + b"]" * 1000,
    ],
    ids=["objects", "arrays"],
)
def test_a_body_nested_a_thousand_levels_deep_is_an_invalid_event_before_any_lookup(client, integration, raw, django_assert_num_queries):
    with django_assert_num_queries(0):  # refused before the routing key is looked up
        response = client.post(URL, data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "status": "invalid event", "message": "Event object is invalid", "errors": ["The JSON body is nested more than 64 levels deep"],
    }
    assert not AlertEvent.objects.exists()


@pytest.mark.django_db
def test_custom_details_may_nest_to_the_limit_and_no_further(client, integration):
    # The event is level 1 and its payload level 2: custom_details 62 objects deep reach 64.
    at_limit = trigger(integration.key, "deep", custom_details=nested(62))
    assert post(client, at_limit).status_code == 202
    assert AlertEvent.objects.get().payload["payload"]["custom_details"] == nested(62)

    too_deep = trigger(integration.key, "deeper", custom_details=nested(63))
    response = post(client, too_deep)
    assert response.status_code == 400 and response.json()["errors"] == ["The JSON body is nested more than 64 levels deep"]
    assert AlertEvent.objects.count() == 1


@pytest.mark.django_db
def test_an_unknown_or_inactive_routing_key_is_an_invalid_event(client, integration):
    assert post(client, trigger(ingest.new_key())).json()["errors"] == ["Invalid routing key: no active integration has it"]
    Integration.objects.filter(pk=integration.pk).update(is_active=False)
    response = post(client, trigger(integration.key))
    assert response.status_code == 400 and not Incident.objects.exists() and not AlertEvent.objects.exists()


@pytest.mark.django_db
def test_a_long_summary_is_cut_for_the_title_and_kept_whole(client, integration):
    summary = "x" * 1500
    post(client, trigger(integration.key, summary=summary))
    incident = Incident.objects.get()
    assert len(incident.title) == 200 and incident.title.endswith("…")
    assert AlertEvent.objects.get().summary == "x" * 1024 and ("x" * 1024) in incident.summary
    assert AlertEvent.objects.get().payload["payload"]["summary"] == summary


@pytest.mark.django_db
def test_during_maintenance_a_trigger_is_logged_as_suppressed_and_opens_nothing(client, integration):
    MaintenanceWindowFactory(service=integration.service, reason="Postgres upgrade")
    response = post(client, trigger(integration.key, "cpu"))
    assert response.status_code == 202
    event = AlertEvent.objects.get()
    assert event.status == "suppressed" and "is in maintenance until" in event.outcome
    assert not Incident.objects.exists() and not AlertGroup.objects.exists()


@pytest.mark.django_db
def test_a_failure_while_processing_keeps_the_event_as_failed_and_it_can_be_processed_again(client, integration):
    with mock.patch.object(actions, "declare", side_effect=RuntimeError("bug in declare")):
        response = post(client, trigger(integration.key, "boom"))
    assert response.status_code == 202  # stored: nothing is lost
    event = AlertEvent.objects.get()
    assert event.status == "failed" and event.error == "RuntimeError: bug in declare"
    assert not Incident.objects.exists() and not AlertGroup.objects.exists()

    ingest.reprocess(event)
    event.refresh_from_db()
    assert event.status == "processed" and event.incident == Incident.objects.get()


@pytest.mark.django_db
def test_the_sweeper_processes_stored_events_once(integration):
    routing_key, event = ingest.parse_events_v2(trigger(integration.key, "lost"))
    with time_machine.travel(timezone.now() - dt.timedelta(minutes=5)):
        stored = ingest.receive(integration, event, trigger(integration.key, "lost"))
    assert ingest.sweep_unprocessed() == 1
    assert ingest.sweep_unprocessed() == 0
    ingest.process(stored)  # a late second attempt changes nothing
    stored.refresh_from_db()
    assert stored.status == "processed" and Incident.objects.count() == 1 and AlertGroup.objects.get().alert_count == 1


# --- Without its database or Redis ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_without_the_database_it_answers_503_with_retry_after(client, integration, settings, debug):
    settings.DEBUG = debug
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("could not connect to server")):
        response = post(client, trigger(integration.key))
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a real dead server needs PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_postgresql_on_a_dead_port_it_answers_503_not_500(client, service):
    integration = IntegrationFactory(service=service)
    connection.close()
    with mock.patch.dict(connection.settings_dict, {"HOST": "127.0.0.1", "PORT": "1"}):
        client.raise_request_exception = False
        response = post(client, trigger(integration.key))
        connection.close()
    assert response.status_code == 503 and response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert not AlertEvent.objects.exists()


@pytest.mark.django_db
def test_without_redis_it_still_answers_202_and_the_sweeper_will_page(client, integration, settings, django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError as BrokerDown

    # The cache is never touched on this path (no API-key rate limiter) and the broker is down.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    with (
        mock.patch("celery.app.task.Task.apply_async", side_effect=BrokerDown("Error 111 connecting to 127.0.0.1:6379")),
        mock.patch("django.core.cache.backends.redis.RedisCache.get", side_effect=AssertionError("cache used")),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        response = post(client, trigger(integration.key, "no-redis"))
    assert response.status_code == 202
    assert callbacks  # the dispatch was attempted after commit, and its failure swallowed
    incident = Incident.objects.get()
    assert TimelineEvent.objects.filter(incident=incident, dispatched_at=None).exists()  # left for the sweeper


# --- Concurrency (PostgreSQL) -----------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_triggers_with_one_key_open_exactly_one_incident(service):
    integration = IntegrationFactory(service=service)
    threads_count, rounds = 8, 5
    errors = []

    def fire(barrier, key):
        try:
            _, event = ingest.parse_events_v2(trigger(integration.key, key))
            found = ingest.find_integration(integration.key)
            barrier.wait()
            ingest.ingest(found, event, trigger(integration.key, key))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    for n in range(rounds):
        barrier = threading.Barrier(threads_count)
        threads = [threading.Thread(target=fire, args=(barrier, f"hot-{n}")) for _ in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert not errors
    assert Incident.objects.count() == rounds
    for n in range(rounds):
        group = AlertGroup.objects.get(dedup_key=f"hot-{n}")
        assert group.alert_count == threads_count
    assert AlertEvent.objects.filter(status="processed").count() == rounds * threads_count


# --- Making integrations ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_management_command_prints_a_working_routing_key(client, service):
    err = io.StringIO()
    key = run_command("integration", "create", "--service", service.slug, "--name", "Datadog", stderr=err).strip()
    assert len(key) == 32 and "shown once" in err.getvalue() and "/api/v1/events" in err.getvalue()
    assert post(client, trigger(key)).status_code == 202
    assert Integration.objects.get().key_hash == ingest.hash_key(key)


@pytest.mark.django_db
def test_the_admin_shows_a_new_routing_key_once_with_the_events_url(client, manager, service):
    client.force_login(manager)
    response = client.post(
        "/admin/incidents/integration/add/", {"name": "Prometheus", "service": service.pk, "is_active": "on"}
    )
    assert response.status_code == 200, response.content[:2000]
    key = response.context["key"]
    page = response.content.decode()
    assert key in page and "http://testserver/api/v1/events" in page and "only time" in page
    assert Integration.objects.get().key_hash == ingest.hash_key(key)
    listing = client.get("/admin/incidents/integration/").content.decode()
    assert "Prometheus" in listing and key not in listing


@pytest.mark.django_db
def test_the_alert_log_lists_events_with_their_incident(client, manager, service, django_assert_max_num_queries):
    for n in range(3):
        integration = IntegrationFactory(service=service)
        for k in range(4):
            post(client, trigger(integration.key, f"k{k}"))
    incident = Incident.objects.order_by("number").first()
    client.force_login(manager)
    # Session, user, 2 permissions, filter, count (after the planner's estimate on PostgreSQL), rows, dates.
    with django_assert_max_num_queries(10):
        response = client.get("/admin/incidents/alertevent/?status__exact=processed")
    page = response.content.decode()
    assert response.status_code == 200 and incident.reference in page and f"/admin/incidents/incident/{incident.pk}/change/" in page
    detail = client.get(f"/admin/incidents/alertevent/{AlertEvent.objects.first().pk}/change/")
    assert detail.status_code == 200 and "checkout-1" in detail.content.decode()
