"""The catalog pages: services, severities and incident types list in a fixed number of queries."""

import pytest
from django.urls import reverse

from oncall.models import EscalationPolicy
from tests.incidents.factories import IncidentTypeFactory, ServiceFactory
from tests.oncall.factories import UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["service", "severitylevel", "incidenttype"])
def test_catalog_lists_have_bounded_queries(client, django_assert_max_num_queries, model):
    default = EscalationPolicy.objects.get(is_default=True)
    for n in range(30):
        service = ServiceFactory(escalation_policy=default if n % 2 else None)
        service.depends_on.set([ServiceFactory()])
        IncidentTypeFactory()
    client.force_login(UserFactory(manager=True))
    with django_assert_max_num_queries(10):
        response = client.get(reverse(f"admin:incidents_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.django_db
def test_service_list_shows_its_policy_or_the_default(client):
    default = EscalationPolicy.objects.get(is_default=True)
    ServiceFactory(name="Checkout API", escalation_policy=default)
    ServiceFactory(name="Search", escalation_policy=None)
    client.force_login(UserFactory(manager=True))
    html = client.get(reverse("admin:incidents_service_changelist")).content.decode()
    assert "Default escalation" in html and ">default<" in html
