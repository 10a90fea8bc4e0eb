"""The services API: the catalog (a fixed number of queries), one service, and who is paged first
for it right now."""

import datetime as dt

import pytest
import time_machine

from incidents.deadlines import default_policy
from tests.api.keys import auth
from tests.incidents.factories import ServiceFactory
from tests.oncall.factories import (
    EscalationLevelFactory,
    EscalationPolicyFactory,
    LayerFactory,
    OverrideFactory,
    ScheduleFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.usefixtures("fresh_rate_windows")

BASE = "/api/v1/services"
UTC = dt.timezone.utc


@pytest.fixture
def payments_policy(db):
    return EscalationPolicyFactory(name="Payments")


@pytest.fixture
def catalog(db, payments_policy):
    team = TeamFactory(name="Payments team", slug="payments")
    checkout = ServiceFactory(name="Checkout API", slug="checkout-api", owning_team=team, customer_facing=True,
                              escalation_policy=payments_policy, runbook="# Restart it", runbook_url="https://runbooks.example.com/checkout")
    db_service = ServiceFactory(name="Database", slug="database", owning_team=None)
    checkout.depends_on.add(db_service)
    return {"checkout": checkout, "database": db_service}


@pytest.mark.django_db
def test_the_catalog_lists_services_with_policy_team_and_dependencies(client, catalog, viewer):
    response = client.get(BASE, **auth(viewer, "read"))
    assert response.status_code == 200, response.content
    items = {item["slug"]: item for item in response.json()["items"]}
    assert list(items) == ["checkout-api", "database"]  # by name
    checkout = items["checkout-api"]
    assert checkout["escalation_policy"] == "Payments" and checkout["uses_default_policy"] is False
    assert checkout["owning_team"] == {"slug": "payments", "name": "Payments team"}
    assert checkout["customer_facing"] is True and checkout["depends_on"] == ["database"]
    database = items["database"]
    assert database["escalation_policy"] == default_policy().name and database["uses_default_policy"] is True
    assert database["owning_team"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 30])
def test_the_catalog_costs_a_fixed_number_of_queries(client, django_assert_max_num_queries, viewer, payments_policy, size):
    base = ServiceFactory(slug="base")
    for n in range(size):
        service = ServiceFactory(escalation_policy=payments_policy if n % 2 else None)
        service.depends_on.add(base)
    headers = auth(viewer, "read")
    client.get(BASE, **headers)
    # key, 2 × permissions, default policy, services, dependencies
    with django_assert_max_num_queries(6):
        response = client.get(BASE, **headers)
    assert len(response.json()["items"]) == size + 1


@pytest.mark.django_db
def test_one_service_with_its_runbook_or_404(client, catalog, viewer):
    headers = auth(viewer, "read")
    response = client.get(f"{BASE}/checkout-api", **headers)
    assert response.status_code == 200 and response.json()["runbook"] == "# Restart it"
    assert response.json()["runbook_url"] == "https://runbooks.example.com/checkout"
    for slug in ("nope", "bad%20slug", "%00"):
        missing = client.get(f"{BASE}/{slug}", **headers)
        assert missing.status_code == 404 and missing.json()["detail"].startswith("No service "), slug
    assert client.get(f"{BASE}/nope/oncall", **headers).status_code == 404


@pytest.mark.django_db
def test_services_need_a_key_the_read_scope_and_the_permission(client, catalog, viewer):
    assert client.get(BASE).status_code == 401
    scoped = client.get(BASE, **auth(viewer, "ingest"))
    assert scoped.status_code == 403 and "'read' scope" in scoped.json()["detail"]
    nobody = client.get(BASE, **auth(UserFactory(username="nobody"), "read"))
    assert nobody.status_code == 403 and "incidents.view_service" in nobody.json()["detail"]
    assert client.get(f"{BASE}/checkout-api/oncall", **auth(UserFactory(username="nobody"), "read")).status_code == 403


@pytest.mark.django_db
def test_who_is_on_call_now_for_a_service(client, catalog, payments_policy, viewer):
    alice, bob, carol, dave = (UserFactory(username=name, first_name=name.title(), last_name="") for name in ("alice", "bob", "carol", "dave"))
    primary = ScheduleFactory(name="Payments primary", slug="payments-primary")
    LayerFactory(schedule=primary, members=[alice, bob], start_date=dt.date(2026, 1, 5), handoff_time=dt.time(9, 0))
    empty = ScheduleFactory(name="Nights", slug="nights")
    EscalationLevelFactory(policy=payments_policy, position=1, name="On-call engineer", users=[carol], schedules=[primary, empty])
    EscalationLevelFactory(policy=payments_policy, position=2, name="Team lead", users=[dave])

    with time_machine.travel(dt.datetime(2026, 1, 7, 12, 0, tzinfo=UTC), tick=False):  # alice's first week
        response = client.get(f"{BASE}/checkout-api/oncall", **auth(viewer, "read"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["service"] == "checkout-api" and body["escalation_policy"] == "Payments"
    assert body["level"] == {"position": 1, "name": "On-call engineer"}
    assert body["uncovered_schedules"] == ["Nights"]
    on_call = {p["username"]: p for p in body["on_call"]}
    assert set(on_call) == {"alice", "carol"}  # dave is level 2
    assert on_call["carol"]["via"] == "direct" and on_call["carol"]["until"] is None
    assert on_call["alice"]["via"] == "schedule Payments primary" and on_call["alice"]["name"] == "Alice"
    assert on_call["alice"]["until"].startswith("2026-01-12T09:00:00")

    # An override covers the shift: bob holds it until the override ends.
    OverrideFactory(schedule=primary, user=bob, start=dt.datetime(2026, 1, 7, 11, 0, tzinfo=UTC), end=dt.datetime(2026, 1, 7, 15, 0, tzinfo=UTC))
    with time_machine.travel(dt.datetime(2026, 1, 7, 12, 0, tzinfo=UTC), tick=False):
        body = client.get(f"{BASE}/checkout-api/oncall", **auth(viewer, "read")).json()
    on_call = {p["username"]: p for p in body["on_call"]}
    assert set(on_call) == {"bob", "carol"} and on_call["bob"]["until"].startswith("2026-01-07T15:00:00")


@pytest.mark.django_db
def test_a_service_without_a_policy_uses_the_default_one(client, catalog, viewer):
    body = client.get(f"{BASE}/database/oncall", **auth(viewer, "read")).json()
    policy = default_policy()
    first = policy.levels.order_by("position").first()
    assert body["escalation_policy"] == policy.name
    assert body["level"] == {"position": first.position, "name": first.name}
    assert body["on_call"] == []  # the seeded default policy names nobody until operators do


@pytest.mark.django_db
def test_a_policy_with_no_levels_has_nobody(client, viewer):
    ServiceFactory(slug="lonely", escalation_policy=EscalationPolicyFactory(name="Empty"))
    body = client.get(f"{BASE}/lonely/oncall", **auth(viewer, "read")).json()
    assert body["escalation_policy"] == "Empty" and body["level"] is None and body["on_call"] == []
