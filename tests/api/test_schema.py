"""The whole JSON API against its own OpenAPI schema, by property-based tests (schemathesis): for
every operation, generated requests with a valid key never get a 5xx, and every response has a
documented status code, content type and body shape.

The schema is the live one, read from `/api/v1/openapi.json` through the WSGI application, so
each router mounted in config/api.py is covered as soon as it lands. Requests go in-process to
the same WSGI application, inside each test's transaction, against a small data set; path ids
are drawn both from the real objects (so the happy path is exercised) and at random (so 404s are).

No operation is left out: the ones a key cannot open (alert ingestion needs a routing key, Slack
a signature) answer generated requests with their documented 400, 401 or 404, which is checked
like everything else.

Generated bodies are shallow, so every operation that reads a JSON body is also sent bodies
nested deeper than the API reads (up to 100,000 levels): each must be a documented 400.
"""

import datetime as dt
import json
import os
from collections import defaultdict

import pydantic
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.api import api
from config.wsgi import application
from tests.incidents.factories import IncidentFactory, IncidentTaskFactory, ServiceFactory
from tests.oncall.factories import (
    ApiKeyFactory,
    EscalationLevelFactory,
    EscalationPolicyFactory,
    LayerFactory,
    OverrideFactory,
    ScheduleFactory,
    UserFactory,
)
from tests.postmortems.factories import ActionItemFactory, PostMortemFactory

pytestmark = pytest.mark.usefixtures("fresh_rate_windows")

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Fifteen cases an operation keeps the run under a minute; VIGIL_SCHEMA_EXAMPLES=200 (and
# VIGIL_SCHEMA_COVERAGE=1 for every boundary case the schema defines) looks harder, locally.
EXAMPLES = int(os.environ.get("VIGIL_SCHEMA_EXAMPLES", "15"))
config = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "all", "max-examples": EXAMPLES},
        "phases": {"coverage": {"enabled": os.environ.get("VIGIL_SCHEMA_COVERAGE") == "1"}},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=config)

# Ids of the data set's objects by path parameter name, filled per test by `data_set`.
REAL_IDS: dict[str, list] = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the time, point the path at a real object, so operations get past their 404."""
    real = {name: REAL_IDS[name] for name in path_parameters or () if REAL_IDS.get(name)}
    if not real:
        return st.just(path_parameters)
    return st.one_of(
        st.just(path_parameters),
        st.fixed_dictionaries({name: st.sampled_from(ids) for name, ids in real.items()}).map(
            lambda chosen: {**path_parameters, **chosen}
        ),
    )


@pytest.fixture
def in_process_requests():
    """Let the WSGI handler run inside the test's transaction: by default it closes the database
    connection around each request, which on PostgreSQL ends the test's transaction (SQLite's
    in-memory test database is never closed, so only PostgreSQL shows it). Django's test client
    disconnects the same signal."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def data_set(db, in_process_requests):
    """A little of everything, and a key with every scope whose owner may do anything."""
    owner = UserFactory(username="root", superuser=True)
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    schedule = ScheduleFactory(name="Primary", slug="primary", time_zone="Europe/London")
    LayerFactory(schedule=schedule, priority=1, start_date=dt.date(2026, 1, 5), members=[alice, bob])
    LayerFactory(schedule=schedule, priority=2, business_hours=True, members=[bob])
    override = OverrideFactory(schedule=schedule, user=alice)
    policy = EscalationPolicyFactory(name="Checkout")
    EscalationLevelFactory(policy=policy, position=1, users=[bob], schedules=[schedule])
    service = ServiceFactory(name="Checkout API", slug="checkout-api", customer_facing=True)
    incident = IncidentFactory(actor=owner, services=[service], commander=owner)
    task = IncidentTaskFactory(incident=incident)
    item = ActionItemFactory(postmortem=PostMortemFactory(incident=incident, owner=owner), owner=alice)
    key = ApiKeyFactory(owner=owner, scopes=["read", "write", "ingest", "chat"], rate_limit_per_minute=100_000)
    REAL_IDS.clear()
    REAL_IDS.update(
        schedule_id=[schedule.pk], override_id=[override.pk], policy_id=[policy.pk],
        slug=[service.slug], ref=[incident.reference, str(incident.number)], task_id=[task.pk], item_id=[item.pk],
    )
    yield key
    REAL_IDS.clear()


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # the same cases on every run: a failure here is reproducible, not remembered
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_every_operation_answers_as_its_schema_says(case, data_set):
    case.call_and_validate(headers={"Authorization": f"Bearer {data_set.secret}"}, checks=CHECKS)


def test_no_two_schemas_share_a_name_with_different_shapes():
    """Ninja names OpenAPI components after the schema class and silently keeps one of two with
    the same name, so a route would be documented with another router's shape."""
    components = api.get_openapi_schema()["components"]["schemas"]
    shapes = defaultdict(set)
    for model in _subclasses(pydantic.BaseModel):
        if model.__name__ in components and not model.__module__.startswith(("ninja.", "pydantic.")):
            shapes[model.__name__].add(json.dumps(model.model_json_schema(), sort_keys=True))
    assert {name: len(found) for name, found in shapes.items() if len(found) > 1} == {}


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


# Deeper than `oncall.api_json.MAX_DEPTH`, from just over it to far past Python's recursion limit.
DEEP_BODIES = {
    "objects 65 deep": b'{"a":' * 65 + b"1" + b"}" * 65,
    "objects 1,000 deep": b'{"a":' * 1000 + b"1" + b"}" * 1000,
    "arrays 1,000 deep": b"[" * 1000 + b"]" * 1000,
    "mixed 100,000 deep": b'[{"a":' * 50_000 + b"null" + b"}]" * 50_000,
}
JSON_BODY_OPERATIONS = [
    operation
    for operation in (result.ok() for result in schema.get_all_operations())
    if "application/json" in ((operation.definition.raw.get("requestBody") or {}).get("content") or {})
]


@pytest.mark.django_db
@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
@pytest.mark.parametrize("operation", JSON_BODY_OPERATIONS, ids=lambda operation: operation.label)
def test_a_deeply_nested_body_is_a_documented_400_on_every_operation(operation, body, data_set):
    path_parameters = {name: (REAL_IDS.get(name) or ["0" * 32])[0] for name in (parameter.name for parameter in operation.path_parameters)}
    case = operation.Case(body=body, media_type="application/json", path_parameters=path_parameters)
    response = case.call_and_validate(headers={"Authorization": f"Bearer {data_set.secret}"}, checks=CHECKS)
    assert response.status_code == 400, response.text
    assert "nested more than 64 levels deep" in response.text
