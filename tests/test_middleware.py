"""A database that is down is a 503 with Retry-After, JSON under /api/, never a bare 500."""

from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.urls import path
from ninja import NinjaAPI

from config.middleware import RETRY_AFTER_SECONDS


def database_down(request):
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")


def fine(request):
    return HttpResponse("fine")


# A Ninja API of its own, so the error travels the same path as in config/api.py.
probe_api = NinjaAPI(urls_namespace="db-down-probe")


@probe_api.get("/incidents")
def api_database_down(request):
    raise OperationalError("server closed the connection unexpectedly")


@probe_api.get("/broken")
def api_bug(request):
    raise ZeroDivisionError("a bug, not an outage")


# This module doubles as the URLconf of the tests marked with it.
urlpatterns = [
    path("page/", database_down),
    path("fine/", fine),
    path("api/plain/", database_down),
    path("api/v1/", probe_api.urls),
]

use_probe_urls = pytest.mark.urls(__name__)


@use_probe_urls
def test_page_gets_a_plain_text_503(client):
    response = client.get("/page/")

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("text/plain")
    assert "database" in response.content.decode()


@use_probe_urls
@pytest.mark.parametrize("url", ["/api/plain/", "/api/v1/incidents"])
def test_api_gets_a_json_503(client, url):
    response = client.get(url)

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"] == "application/json"
    assert "unavailable" in response.json()["detail"]


@use_probe_urls
def test_other_responses_pass_through(client):
    response = client.get("/fine/")

    assert response.status_code == 200
    assert not response.has_header("Retry-After")


@use_probe_urls
def test_other_errors_are_not_disguised_as_503(client):
    client.raise_request_exception = False
    response = client.get("/api/v1/broken")

    assert response.status_code == 500


def test_health_answers_ok(client, db):
    response = client.get("/api/v1/health")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "engine": {"status": "never ran", "last_tick_at": None},
        "outbox": {
            "status": "ok", "overdue_notifications": 0, "oldest_overdue_seconds": None,
            "undispatched_events": 0, "failed_last_24h": 0,
        },
    }


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_health_reports_an_unreachable_database_as_503(client, db, settings, debug):
    # With DEBUG on, ninja handles route errors itself; config/api.py maps them to 503 too.
    settings.DEBUG = debug
    refused = OperationalError("could not connect to server")
    # A context manager, so the connection works again before the test database is torn down.
    with mock.patch.object(connection, "cursor", side_effect=refused):
        response = client.get("/api/v1/health")

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
