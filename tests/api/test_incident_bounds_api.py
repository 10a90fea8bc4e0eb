"""What the incidents API refuses (422, naming the field, in words) or accepts with a warning: a
detection time out of bounds, a SEV-1 resolved without a summary, users affected too large, and
far more users confirmed than estimated."""

import datetime as dt
import json

import pytest

from incidents.models import Incident, Status
from tests.api.keys import auth
from tests.incidents.factories import IncidentFactory, severity

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_windows")]
BASE = "/api/v1/incidents"


def send(client, method: str, path: str, user, body: dict):
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json", **auth(user))


def test_declaring_with_a_detection_time_in_1900_is_a_422_naming_the_field(client, commander):
    response = send(client, "post", BASE, commander, {"title": "Checkout down", "severity": "SEV-2", "detected_at": "1900-01-01T00:00:00Z"})
    assert response.status_code == 422
    body = response.json()
    assert body["errors"] == [{"field": "detected_at", "message": body["detail"]}]
    assert body["detail"].startswith("The detection time 1900-01-01 00:00 UTC is 46") and "at most 30 d before it" in body["detail"]
    assert not Incident.objects.exists()

    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).isoformat()
    response = send(client, "post", BASE, commander, {"title": "Checkout down", "severity": "SEV-2", "detected_at": later})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "detected_at"


def test_resolving_a_sev1_without_a_summary_is_a_422_saying_what_to_write(client, commander):
    incident = IncidentFactory(actor=commander, commander=commander, severity=severity("SEV-1"))
    response = send(client, "post", f"{BASE}/{incident.reference}/resolve", commander, {})
    assert response.status_code == 422
    message = "SEV-1 incidents need a resolution summary: what was wrong, what fixed it, and what customers saw."
    assert response.json() == {"detail": message, "errors": [{"field": "summary", "message": message}]}

    response = send(client, "patch", f"{BASE}/{incident.reference}", commander, {"status": "resolved"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "status", "message": f"{message} Send it to POST /api/v1/incidents/{incident.reference}/resolve."}
    ]
    incident.refresh_from_db()
    assert incident.status == Status.TRIGGERED

    response = send(client, "post", f"{BASE}/{incident.reference}/resolve", commander, {"summary": "Bad deploy; rolled back; 5xx for 9 min"})
    assert response.status_code == 200 and response.json()["resolution_summary"] == "Bad deploy; rolled back; 5xx for 9 min"


def test_users_affected_too_large_is_a_422_in_words(client, commander):
    incident = IncidentFactory(actor=commander, commander=commander)
    response = send(client, "patch", f"{BASE}/{incident.reference}", commander, {"users_affected_estimated": 9223372036854775807})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "users_affected_estimated", "message": "Too large: at most 1,000,000,000 users."}]
    assert "9223372036854775807" not in response.content.decode()
    incident.refresh_from_db()
    assert incident.users_affected_estimated is None


def test_far_more_users_confirmed_than_estimated_is_accepted_with_a_warning(client, commander):
    incident = IncidentFactory(actor=commander, commander=commander)
    path = f"{BASE}/{incident.reference}"
    response = send(client, "patch", path, commander, {"users_affected_estimated": 10, "users_affected_confirmed": 5000})
    assert response.status_code == 200
    body = response.json()
    assert (body["users_affected_estimated"], body["users_affected_confirmed"]) == (10, 5000)
    assert body["warnings"] == ["5,000 users confirmed against 10 estimated: check both numbers (and raise the estimate if it was too low)."]
    assert client.get(path, **auth(commander, "read")).json()["warnings"] == []
    response = send(client, "patch", path, commander, {"users_affected_estimated": 4000})
    assert response.status_code == 200 and response.json()["warnings"] == []
