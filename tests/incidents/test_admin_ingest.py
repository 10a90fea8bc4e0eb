"""The ingestion admin: an integration's routing key and a heartbeat's ping URL are shown once, on
the page that made them, and only their fingerprint is kept."""

import pytest
from django.urls import reverse

from incidents import ingest
from incidents.models import Heartbeat, Integration
from tests.incidents.factories import ServiceFactory
from tests.oncall.factories import UserFactory


@pytest.mark.django_db
def test_a_new_integration_shows_its_routing_key_once(client):
    admin = UserFactory(superuser=True)
    client.force_login(admin)
    service = ServiceFactory(name="Checkout API")
    response = client.post(
        reverse("admin:incidents_integration_add"), {"name": "Grafana", "service": service.pk, "is_active": "on", "_save": "Save"}
    )
    assert response.status_code == 200
    integration = Integration.objects.get()
    key = response.context["key"]
    assert integration.key_hash == ingest.hash_key(key) and integration.created_by == admin
    assert response.context["title"] == "Integration created" and response.context["opts"].model is Integration
    assert "This is the only time this routing key is shown" in response.content.decode()
    assert [label for label, _ in response.context["urls"]][1] == "Alertmanager webhook URL"
    page = client.get(reverse("admin:incidents_integration_change", args=[integration.pk]))
    assert key not in page.content.decode()


@pytest.mark.django_db
def test_a_new_heartbeat_shows_its_ping_url_once(client):
    client.force_login(UserFactory(superuser=True))
    service = ServiceFactory()
    data = {"name": "Nightly backup", "service": service.pk, "interval_minutes": 60, "grace_minutes": 5, "is_active": "on", "_save": "Save"}
    response = client.post(reverse("admin:incidents_heartbeat_add"), data)
    assert response.status_code == 200, response.context["adminform"].form.errors if response.context else response
    key = response.context["key"]
    assert Heartbeat.objects.get().key_hash == ingest.hash_key(key)
    assert response.context["urls"] == [("Ping URL (POST, e.g. curl -fsS -X POST …)", f"http://testserver{reverse('api:heartbeat_ping', args=[key])}")]


@pytest.mark.django_db
def test_an_empty_severity_says_which_level_it_means(client):
    client.force_login(UserFactory(superuser=True))
    form = client.get(reverse("admin:incidents_integration_add")).context["adminform"].form
    assert [form.fields[f"{level}_severity"].help_text for level in ingest.SEVERITIES] == [
        "Empty: SEV-1 (Critical).", "Empty: SEV-2 (High).", "Empty: SEV-3 (Medium).", "Empty: SEV-4 (Low).",
    ]
    form = client.get(reverse("admin:incidents_heartbeat_add")).context["adminform"].form
    assert form.fields["severity"].help_text == "Of the incident a miss opens. Empty: SEV-2 (High)."
