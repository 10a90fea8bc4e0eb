"""POST /api/v1/integrations/alertmanager/<key>: Alertmanager's webhook (version 4). One
notification group is one alert (dedup key sha256(groupKey), as Alertmanager's PagerDuty
receiver sends): firing opens or joins its incident, resolved resolves it."""

import copy
import hashlib

import pytest

from incidents.models import AlertEvent, AlertGroup, Incident, TimelineEvent
from tests.incidents.factories import IntegrationFactory, MaintenanceWindowFactory

GROUP_KEY = '{}/{severity="critical"}:{alertname="HighErrorRate"}'
FIRING = {
    "version": "4",
    "groupKey": GROUP_KEY,
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "vigil",
    "groupLabels": {"alertname": "HighErrorRate"},
    "commonLabels": {"alertname": "HighErrorRate", "severity": "critical", "job": "checkout"},
    "commonAnnotations": {"summary": "5xx above 5% on checkout"},
    "externalURL": "http://alertmanager:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "HighErrorRate", "severity": "critical", "instance": f"checkout-{n}:9100", "job": "checkout"},
            "annotations": {"summary": "5xx above 5% on checkout"},
            "startsAt": "2026-11-22T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": f"c0ffee{n}",
        }
        for n in range(2)
    ],
}


def resolved():
    body = copy.deepcopy(FIRING)
    body["status"] = "resolved"
    for alert in body["alerts"]:
        alert["status"], alert["endsAt"] = "resolved", "2026-11-22T10:20:00Z"
    return body


@pytest.fixture
def integration(db, service):
    return IntegrationFactory(name="Prometheus", service=service)


def send(client, key, body):
    return client.post(f"/api/v1/integrations/alertmanager/{key}", data=body, content_type="application/json")


@pytest.mark.django_db
def test_a_firing_group_declares_one_incident_and_its_resolution_resolves_it(client, integration):
    response = send(client, integration.key, FIRING)

    dedup_key = hashlib.sha256(GROUP_KEY.encode()).hexdigest()
    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Event processed", "dedup_key": dedup_key}
    incident = Incident.objects.get()
    assert incident.title == "[FIRING:2] HighErrorRate: 5xx above 5% on checkout" and incident.severity.name == "SEV-1"
    event = AlertEvent.objects.get()
    assert (event.format, event.action, event.status, event.source) == ("alertmanager", "trigger", "processed", "checkout")
    assert event.payload == FIRING

    # Alertmanager re-sends the group every repeat_interval: it joins the same incident.
    assert send(client, integration.key, FIRING).status_code == 202
    assert Incident.objects.count() == 1 and AlertGroup.objects.get().alert_count == 2

    assert send(client, integration.key, resolved()).status_code == 202
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.timeline.filter(kind=TimelineEvent.Kind.RESOLVED, message__startswith="Prometheus (integration) resolved").exists()


@pytest.mark.django_db
def test_the_common_severity_label_maps_and_defaults_to_error(client, integration):
    body = copy.deepcopy(FIRING)
    body["commonLabels"]["severity"] = "warning"
    send(client, integration.key, body)
    assert Incident.objects.get().severity.name == "SEV-3"

    other = copy.deepcopy(FIRING)
    other["groupKey"] = "another"
    del other["commonLabels"]["severity"]
    send(client, integration.key, other)
    assert Incident.objects.order_by("-number").first().severity.name == "SEV-2"


@pytest.mark.django_db
def test_groups_are_separate_incidents(client, integration):
    send(client, integration.key, FIRING)
    other = copy.deepcopy(FIRING)
    other["groupKey"] = '{}:{alertname="DiskFull"}'
    send(client, integration.key, other)
    assert Incident.objects.count() == 2


@pytest.mark.django_db
def test_an_unknown_key_is_404_and_nothing_is_stored(client, integration):
    response = send(client, "0" * 32, FIRING)
    assert response.status_code == 404 and "No active integration" in response.json()["detail"]
    assert not AlertEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["known", "unknown"])
def test_a_body_nested_a_thousand_levels_deep_is_400_before_the_key_is_looked_up(client, integration, key, django_assert_num_queries):
    deep = b'{"alerts":' * 1000 + b"[]" + b"}" * 1000
    routing_key = integration.key if key == "known" else "0" * 32
    with django_assert_num_queries(0):
        response = client.post(f"/api/v1/integrations/alertmanager/{routing_key}", data=deep, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "status": "invalid event", "message": "Event object is invalid", "errors": ["The JSON body is nested more than 64 levels deep"],
    }
    assert not AlertEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change, error",
    [
        ({"status": "exploded"}, "'status' must be firing or resolved"),
        ({"groupKey": ""}, "'groupKey' is missing or blank"),
        ({"alerts": "none"}, "'alerts' must be a list of objects"),
        ({"version": "3"}, "Webhook version '3' is not supported"),
    ],
)
def test_an_invalid_webhook_is_400_with_the_reasons(client, integration, change, error):
    response = send(client, integration.key, {**FIRING, **change})
    assert response.status_code == 400
    assert response.json()["status"] == "invalid event" and any(e.startswith(error) for e in response.json()["errors"])
    assert not AlertEvent.objects.exists()


@pytest.mark.django_db
def test_during_maintenance_a_firing_group_is_suppressed(client, integration):
    MaintenanceWindowFactory(service=integration.service)
    assert send(client, integration.key, FIRING).status_code == 202
    assert AlertEvent.objects.get().status == "suppressed" and not Incident.objects.exists()
