"""Maintenance windows: GET/POST /api/v1/services/{slug}/maintenance (read / write scope and the
permission to add them); alerts during a window are suppressed (tests in test_events_api.py)."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents.models import MaintenanceWindow
from oncall import api_auth
from tests.api.keys import bearer
from tests.incidents.factories import MaintenanceWindowFactory

URL = "/api/v1/services/checkout-api/maintenance"


def key_for(user, scopes):
    _, secret = api_auth.create_key(name="ops", owner=user, scopes=scopes)
    return bearer(secret)


@pytest.mark.django_db
def test_a_commander_schedules_maintenance_and_lists_it(client, commander, service):
    headers = key_for(commander, ["read", "write"])
    response = client.post(URL, {"duration_minutes": 90, "reason": "Postgres 16 upgrade"}, content_type="application/json", **headers)

    assert response.status_code == 201
    data = response.json()
    assert data["service"] == "checkout-api" and data["reason"] == "Postgres 16 upgrade" and data["active"] is True
    assert data["created_by"] == "ic"
    window = MaintenanceWindow.objects.get()
    assert window.ends_at - window.starts_at == dt.timedelta(minutes=90) and window.created_by == commander

    listed = client.get(URL, **headers).json()
    assert [w["id"] for w in listed] == [window.pk]


@pytest.mark.django_db
def test_past_windows_are_listed_only_when_asked(client, commander, service):
    now = timezone.now()
    MaintenanceWindowFactory(service=service, starts_at=now - dt.timedelta(days=2), ends_at=now - dt.timedelta(days=1))
    headers = key_for(commander, ["read"])
    assert client.get(URL, **headers).json() == []
    assert len(client.get(URL + "?include_past=true", **headers).json()) == 1


@pytest.mark.django_db
def test_scheduling_needs_the_write_scope_and_the_permission(client, commander, responder, service):
    body = {"duration_minutes": 30, "reason": "Deploy"}
    response = client.post(URL, body, content_type="application/json", **key_for(commander, ["read"]))
    assert response.status_code == 403 and "'write' scope" in response.json()["detail"]
    response = client.post(URL, body, content_type="application/json", **key_for(responder, ["write"]))
    assert response.status_code == 403 and "add_maintenancewindow" in response.json()["detail"]
    assert client.post(URL, body, content_type="application/json").status_code == 401
    assert not MaintenanceWindow.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, status, detail",
    [
        ({"reason": "x"}, 400, "Give either ends_at or duration_minutes."),
        ({"reason": "x", "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2020-01-01T01:00:00Z"}, 400, "entirely in the past"),
        ({"reason": "x", "starts_at": "2030-01-01T02:00:00Z", "ends_at": "2030-01-01T01:00:00Z"}, 400, "end after it starts"),
        ({"duration_minutes": 10}, 422, "not valid"),
    ],
)
def test_invalid_windows_are_refused(client, commander, service, body, status, detail):
    response = client.post(URL, body, content_type="application/json", **key_for(commander, ["write"]))
    assert response.status_code == status and detail in response.json()["detail"]


@pytest.mark.django_db
def test_a_window_given_with_any_utc_offset_is_stored_in_utc(client, commander, service):
    """ISO 8601 allows offsets PostgreSQL does not store (+17:54): the window is kept in UTC."""
    body = {"reason": "x", "starts_at": "2999-01-01T00:00:00+17:54", "ends_at": "2999-01-01T06:00:00+17:54"}
    response = client.post(URL, body, content_type="application/json", **key_for(commander, ["write"]))
    assert response.status_code == 201, response.content
    assert response.json()["starts_at"].startswith("2998-12-31T06:06:00")


@pytest.mark.django_db
def test_an_unknown_service_is_404(client, commander):
    response = client.get("/api/v1/services/nope/maintenance", **key_for(commander, ["read"]))
    assert response.status_code == 404


@pytest.mark.django_db
def test_the_admin_records_who_made_a_window(client, manager, service):
    client.force_login(manager)
    now = timezone.localtime()
    response = client.post(
        "/admin/incidents/maintenancewindow/add/",
        {
            "service": service.pk, "reason": "Failover drill",
            "starts_at_0": now.strftime("%Y-%m-%d"), "starts_at_1": now.strftime("%H:%M:%S"),
            "ends_at_0": (now + dt.timedelta(hours=1)).strftime("%Y-%m-%d"),
            "ends_at_1": (now + dt.timedelta(hours=1)).strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert MaintenanceWindow.objects.get().created_by == manager
    assert "Failover drill" in client.get("/admin/incidents/maintenancewindow/").content.decode()
