"""`GET /api/v1/metrics` and `/metrics/compliance`: the selectors' figures as JSON, for callers who
may see incidents; restricted incidents counted, never named."""

import pytest
import time_machine

from tests.api.keys import auth
from tests.incidents.metrics_story import END, NOW, START, make_story
from tests.oncall.factories import UserFactory

pytestmark = pytest.mark.usefixtures("fresh_rate_windows")

BASE = "/api/v1/metrics"


@pytest.fixture
def story(db):
    return make_story()

WINDOW = {"start": START.isoformat(), "end": END.isoformat()}


def test_the_figures_grouped_by_severity(client, story, django_assert_max_num_queries):
    headers = auth(UserFactory(viewer=True), "read")
    with django_assert_max_num_queries(12):
        response = client.get(BASE, {**WINDOW, "group_by": "severity"}, **headers)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["group_by"] == "severity"
    sev1, sev2 = body["rows"]
    assert (sev1["label"], sev1["incidents"], sev2["label"], sev2["incidents"]) == ("SEV-1", 1, "SEV-2", 2)
    mttr = sev1["figures"]["mttr"]
    assert (mttr["mean_seconds"], mttr["target_seconds"], mttr["met"]) == (2.5 * 3600, 3600, False)
    assert sev2["figures"]["mtta"]["p90_seconds"] == (5 + 35 * 0.9) * 60
    assert mttr["definition"].startswith("Time to resolve")
    assert "Search leaks" not in response.content.decode()  # the restricted incident is only counted


def test_weeks_in_a_zone_and_filters(client, story):
    headers = auth(UserFactory(viewer=True), "read")
    weeks = client.get(BASE, {**WINDOW, "group_by": "week", "tz": "Europe/London"}, **headers).json()
    assert [(row["key"], row["incidents"]) for row in weeks["rows"]] == [("2026-03-23", 2), ("2026-03-30", 1)]
    by_team = client.get(BASE, {**WINDOW, "team": story["payments"].slug}, **headers).json()
    assert by_team["rows"][0]["incidents"] == 2
    by_service = client.get(BASE, {**WINDOW, "service": story["search"].slug, "severity": "sev-2"}, **headers).json()
    assert by_service["rows"][0]["incidents"] == 1


def test_compliance_per_severity(client, story):
    headers = auth(UserFactory(viewer=True), "read")
    with time_machine.travel(NOW, tick=False):
        body = client.get(f"{BASE}/compliance", WINDOW, **headers).json()
    sev2 = next(row for row in body["rows"] if row["severity"] == "SEV-2")
    assert (sev2["shares"]["ack_on_time"]["judged"], sev2["shares"]["ack_on_time"]["breaches"]) == (2, 1)
    assert sev2["shares"]["ack_on_time"]["share"] == 0.5


@pytest.mark.parametrize(
    "query, field",
    [
        ({"group_by": "colour"}, "group_by"),
        ({"period": "forever"}, "period"),
        ({"period": "999d"}, "period"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"team": "nobody"}, "team"),
        ({"team": "pay\x00ments"}, "team"),
        ({"service": "check\x00out"}, "service"),
        ({"service": "nothing"}, "service"),
        ({"severity": "SEV-9"}, "severity"),
        ({"start": "2026-04-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "start"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, db, query, field):
    response = client.get(BASE, query, **auth(UserFactory(viewer=True), "read"))
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_a_period_of_days_counts_to_now(client, db):
    with time_machine.travel(NOW, tick=False):
        body = client.get(BASE, {"period": "7d"}, **auth(UserFactory(viewer=True), "read")).json()
    assert body["period"]["end"].startswith("2026-04-10T12:00:00")
    assert body["period"]["start"].startswith("2026-04-03T12:00:00")
    assert body["rows"][0]["incidents"] == 0


def test_it_needs_a_key_that_reads_and_a_user_who_sees_incidents(client, db):
    assert client.get(BASE).status_code == 401
    assert client.get(BASE, **auth(UserFactory(viewer=True), "ingest")).status_code == 403
    assert client.get(BASE, **auth(UserFactory(), "read")).status_code == 403
