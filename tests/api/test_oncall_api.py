"""The on-call API as a chat bot or a phone uses it: who is on call now and until when, a schedule's
shifts and gaps, covering a shift with an override, and who an escalation policy would page."""

import datetime as dt

import pytest

from oncall.models import Override
from tests.api.keys import bearer
from tests.oncall.factories import (
    ApiKeyFactory,
    EscalationDelayFactory,
    EscalationLevelFactory,
    EscalationPolicyFactory,
    LayerFactory,
    OverrideFactory,
    ScheduleFactory,
    UserFactory,
)
from tests.oncall.fixtures import NOW, UTC, alice, bob, carol, frozen_clock, gappy, primary  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_windows")]

API = "/api/v1"


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 5, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def reader(responder):
    return ApiKeyFactory(owner=responder, scopes=["read"])


@pytest.fixture
def manager_key(carol):
    return ApiKeyFactory(owner=carol, scopes=["read", "write"])


def person(user) -> dict:
    return {"username": user.username, "name": user.get_full_name()}


# --- Who is on call -----------------------------------------------------------------------------


def test_the_schedule_list_says_who_is_on_call_now_until_when_and_the_next_gap(client, reader, primary, gappy, bob):
    response = client.get(f"{API}/schedules", **bearer(reader))
    assert response.status_code == 200
    by_slug = {schedule["slug"]: schedule for schedule in response.json()}
    assert by_slug["primary"]["on_call_now"] == [
        {"user": person(bob), "until": "2026-05-06T16:00:00Z", "source": "Business hours"}
    ]
    assert by_slug["primary"]["next_gap"] is None and by_slug["primary"]["time_zone"] == "Europe/London"
    assert by_slug["database"]["on_call_now"] == []
    assert by_slug["database"]["next_gap"] == {"start": "2026-05-06T12:00:00Z", "end": "2026-05-06T13:00:00Z"}


def make_schedules(count: int, people: list) -> None:
    for n in range(count):
        schedule = ScheduleFactory(name=f"Service {n}", slug=f"service-{n}", time_zone="Europe/Berlin")
        LayerFactory(schedule=schedule, priority=1, rotation="daily", members=people)
        LayerFactory(schedule=schedule, priority=2, business_hours=True, members=people[::-1])
        OverrideFactory(schedule=schedule, user=people[n % len(people)], start=NOW, end=NOW + dt.timedelta(hours=3))


@pytest.mark.parametrize("count", [2, 12])
def test_the_schedule_list_reads_a_fixed_number_of_queries_however_many_schedules(
    client, reader, alice, bob, count, django_assert_max_num_queries
):
    make_schedules(count, [alice, bob])
    # The key, its last use, the owner's permissions (4); schedules with teams; layers, members, overrides.
    with django_assert_max_num_queries(8):
        response = client.get(f"{API}/schedules", **bearer(reader))
    assert response.status_code == 200 and len(response.json()) == count
    assert all(schedule["on_call_now"][0]["source"] == "Override: Shift swap" for schedule in response.json())


def test_a_schedule_shows_its_layers_who_is_on_call_and_14_days_of_shifts_and_gaps(client, reader, gappy, alice):
    response = client.get(f"{API}/schedules/{gappy.pk}", **bearer(reader))
    assert response.status_code == 200
    body = response.json()
    assert [(layer["name"], layer["restriction_days"], layer["members"]) for layer in body["layers"]] == [
        ("DBAs", [1, 2, 3, 4, 5], [{"position": 1, "user": person(alice)}])
    ]
    layer = body["layers"][0]
    assert (layer["handoff_time"], layer["restriction_start"], layer["restriction_end"]) == ("09:00", "09:00", "17:00")
    assert body["on_call_now"] == []
    assert body["window"] == {"start": "2026-05-06T12:00:00Z", "end": "2026-05-20T12:00:00Z"}
    # Ten working days in two weeks, 09:00–17:00 New York (13:00–21:00 UTC in May).
    assert len(body["shifts"]) == 10
    assert body["shifts"][0] == {
        "start": "2026-05-06T13:00:00Z", "end": "2026-05-06T21:00:00Z", "user": person(alice),
        "source": "DBAs", "layer_id": gappy.layers.get().pk, "override_id": None,
    }
    assert body["gaps"][:2] == [
        {"start": "2026-05-06T12:00:00Z", "end": "2026-05-06T13:00:00Z"},
        {"start": "2026-05-06T21:00:00Z", "end": "2026-05-07T13:00:00Z"},
    ]


def test_a_schedule_over_a_window_marks_the_override_and_splits_the_shift(client, reader, primary, alice, bob, carol):
    override = OverrideFactory(schedule=primary, user=carol, start=at(9, 10), end=at(9, 14), reason="Alice's wedding")
    response = client.get(
        f"{API}/schedules/{primary.pk}", {"start": iso(at(9, 0)), "end": iso(at(10, 0))}, **bearer(reader)
    )
    assert response.status_code == 200
    body = response.json()
    # Saturday: the 24/7 layer (Alice's week) with Carol covering 10:00–14:00 UTC.
    assert [(s["start"], s["end"], s["user"]["username"], s["source"], s["override_id"]) for s in body["shifts"]] == [
        ("2026-05-09T00:00:00Z", "2026-05-09T10:00:00Z", "alice", "24/7", None),
        ("2026-05-09T10:00:00Z", "2026-05-09T14:00:00Z", "carol", "Override: Alice's wedding", override.pk),
        ("2026-05-09T14:00:00Z", "2026-05-10T00:00:00Z", "alice", "24/7", None),
    ]
    assert body["gaps"] == [] and body["on_call_now"][0]["user"] == person(bob)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-05-09T00:00:00Z", "end": "2026-05-08T00:00:00Z"}, "end must be after start"),
        ({"start": "2026-05-01T00:00:00Z", "end": "2026-06-02T00:00:00Z"}, "at most 31 days"),
        ({"end": "2026-05-06T11:00:00Z"}, "end must be after start"),
        ({"start": "9999-12-31T23:00:00Z"}, "between 1970 and 2200"),
        ({"end": "next tuesday"}, ""),
    ],
)
def test_a_window_that_is_backwards_too_long_or_unreadable_is_422_naming_the_field(client, reader, primary, query, message):
    response = client.get(f"{API}/schedules/{primary.pk}", query, **bearer(reader))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == (next(iter(query)) if len(query) == 1 else "end")
    assert message in error["message"]


def test_who_is_on_call_at_an_instant_defaults_to_now(client, reader, primary, alice, bob):
    url = f"{API}/schedules/{primary.pk}/oncall"
    now = client.get(url, **bearer(reader)).json()
    assert now == {
        "schedule": {"id": primary.pk, "name": "Primary", "slug": "primary"},
        "at": "2026-05-06T12:00:00Z",
        "on_call": [person(bob)],
    }
    saturday = client.get(url, {"at": "2026-05-09T12:00:00+02:00"}, **bearer(reader)).json()
    assert saturday["at"] == "2026-05-09T10:00:00Z" and saturday["on_call"] == [person(alice)]
    naive = client.get(url, {"at": "2026-05-09T12:00:00"}, **bearer(reader)).json()
    assert naive["at"] == "2026-05-09T12:00:00Z"


def test_an_unknown_schedule_is_404_and_no_key_is_401(client, reader, primary):
    missing = client.get(f"{API}/schedules/{primary.pk + 100}/oncall", **bearer(reader))
    assert missing.status_code == 404 and missing.json() == {"detail": f"No schedule has id {primary.pk + 100}."}
    assert client.get(f"{API}/schedules/{primary.pk}").status_code == 401
    assert client.get(f"{API}/schedules/0", **bearer(reader)).status_code == 422
    # Beyond a 64-bit id: refused before the database sees it (SQLite raised OverflowError on delete).
    too_big = client.delete(f"{API}/schedules/{primary.pk}/overrides/{2**63}", **bearer(ApiKeyFactory(owner=UserFactory(superuser=True), scopes=["write"])))
    assert too_big.status_code == 422 and too_big.json()["errors"][0]["field"] == "override_id"


def test_reading_needs_the_read_scope_and_the_owners_view_permission(client, primary):
    chat_only = ApiKeyFactory(owner=UserFactory(username="bot", viewer=True), scopes=["chat"])
    response = client.get(f"{API}/schedules", **bearer(chat_only))
    assert response.status_code == 403 and "lacks the 'read' scope" in response.json()["detail"]
    nobody = ApiKeyFactory(owner=UserFactory(username="outsider"), scopes=["read"])
    response = client.get(f"{API}/escalation-policies", **bearer(nobody))
    assert response.status_code == 403 and "oncall.view_escalationpolicy" in response.json()["detail"]
    viewer = ApiKeyFactory(owner=UserFactory(username="watcher", viewer=True), scopes=["read"])
    assert client.get(f"{API}/schedules/{primary.pk}", **bearer(viewer)).status_code == 200


# --- Overrides ----------------------------------------------------------------------------------


def test_the_override_list_has_current_and_upcoming_covers_soonest_first(client, reader, primary, alice, carol):
    OverrideFactory(schedule=primary, user=alice, start=at(1, 9), end=at(2, 9), reason="Past")
    later = OverrideFactory(schedule=primary, user=carol, start=at(20, 9), end=at(21, 9), reason="Holiday")
    current = OverrideFactory(schedule=primary, user=alice, start=at(6, 9), end=at(6, 18), reason="Swap", created_by=carol)
    OverrideFactory(user=alice, start=at(7, 9), end=at(7, 18))  # another schedule's
    response = client.get(f"{API}/schedules/{primary.pk}/overrides", **bearer(reader))
    assert response.status_code == 200
    assert [o["id"] for o in response.json()] == [current.pk, later.pk]
    assert response.json()[0] == {
        "id": current.pk, "schedule_id": primary.pk, "user": person(alice), "start": "2026-05-06T09:00:00Z",
        "end": "2026-05-06T18:00:00Z", "reason": "Swap", "created_by": person(carol), "created_at": "2026-05-06T12:00:00Z",
    }


def test_a_manager_covers_a_shift_and_the_cover_is_who_is_on_call(client, manager_key, primary, alice, carol):
    body = {"username": "alice", "start": "2026-05-06T13:00:00Z", "end": "2026-05-06T15:00:00Z", "reason": "Bob at the dentist"}
    response = client.post(f"{API}/schedules/{primary.pk}/overrides", body, content_type="application/json", **bearer(manager_key))
    assert response.status_code == 201
    override = Override.objects.get()
    assert response.json() == {
        "id": override.pk, "schedule_id": primary.pk, "user": person(alice), "start": "2026-05-06T13:00:00Z",
        "end": "2026-05-06T15:00:00Z", "reason": "Bob at the dentist", "created_by": person(carol),
        "created_at": "2026-05-06T12:00:00Z",
    }
    on_call = client.get(f"{API}/schedules/{primary.pk}/oncall", {"at": "2026-05-06T14:00:00Z"}, **bearer(manager_key))
    assert on_call.json()["on_call"] == [person(alice)]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"end": "2026-05-06T13:00:00Z"}, "end", "must end after it starts"),
        ({"end": "2036-05-06T13:00:00Z"}, "end", "An override lasts at most 90 days"),
        ({"username": "nobody"}, "username", "No user is called 'nobody'"),
        ({"username": "leaver"}, "username", "No active user is called 'leaver'"),
        ({"reason": "x" * 201}, "reason", "at most 200 characters"),
        ({"start": "soon"}, "start", ""),
    ],
)
def test_an_override_that_cannot_be_is_422_naming_the_field(client, manager_key, primary, alice, change, field, message):
    UserFactory(username="leaver", is_active=False)
    body = {"username": "alice", "start": "2026-05-06T13:00:00Z", "end": "2026-05-06T15:00:00Z", **change}
    response = client.post(f"{API}/schedules/{primary.pk}/overrides", body, content_type="application/json", **bearer(manager_key))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == field and message in error["message"]
    assert not Override.objects.exists()


def test_covering_a_shift_needs_the_write_scope_and_the_add_override_permission(client, primary, alice, bob, carol):
    body = {"username": "alice", "start": "2026-05-06T13:00:00Z", "end": "2026-05-06T15:00:00Z"}
    url = f"{API}/schedules/{primary.pk}/overrides"
    read_only = ApiKeyFactory(owner=carol, scopes=["read"])
    response = client.post(url, body, content_type="application/json", **bearer(read_only))
    assert response.status_code == 403 and "'write' scope" in response.json()["detail"]
    responder = ApiKeyFactory(owner=bob, scopes=["read", "write"])
    response = client.post(url, body, content_type="application/json", **bearer(responder))
    assert response.status_code == 403 and "oncall.add_override" in response.json()["detail"]
    assert not Override.objects.exists()
    missing = client.post(f"{API}/schedules/{primary.pk + 100}/overrides", body, content_type="application/json", **bearer(ApiKeyFactory(owner=carol, scopes=["write"])))
    assert missing.status_code == 404


def test_a_manager_removes_an_override_of_that_schedule_only(client, manager_key, primary, gappy, alice, bob):
    mine = OverrideFactory(schedule=primary, user=alice, start=at(6, 10), end=at(6, 20))
    theirs = OverrideFactory(schedule=gappy, user=alice, start=at(6, 10), end=at(6, 20))
    responder = ApiKeyFactory(owner=bob, scopes=["read", "write"])
    assert client.delete(f"{API}/schedules/{primary.pk}/overrides/{mine.pk}", **bearer(responder)).status_code == 403

    response = client.delete(f"{API}/schedules/{primary.pk}/overrides/{mine.pk}", **bearer(manager_key))
    assert response.status_code == 204 and response.content == b""
    assert list(Override.objects.all()) == [theirs]
    on_call = client.get(f"{API}/schedules/{primary.pk}/oncall", **bearer(manager_key)).json()
    assert on_call["on_call"] == [person(bob)]

    wrong_schedule = client.delete(f"{API}/schedules/{primary.pk}/overrides/{theirs.pk}", **bearer(manager_key))
    assert wrong_schedule.status_code == 404 and wrong_schedule.json()["detail"] == f"Schedule {primary.pk} has no override {theirs.pk}."
    assert client.delete(f"{API}/schedules/{primary.pk}/overrides/{mine.pk}", **bearer(manager_key)).status_code == 404


# --- Escalation policies ------------------------------------------------------------------------


@pytest.fixture
def policy(primary, gappy, bob, carol):
    """Level 1: the primary and database on-calls, and Bob himself; level 2: Carol, the manager."""
    policy = EscalationPolicyFactory(name="Checkout", description="Payments")
    first = EscalationLevelFactory(policy=policy, position=1, name="On-call engineer", users=[bob], schedules=[primary, gappy])
    EscalationDelayFactory(level=first, severity_rank=1, delay=dt.timedelta(0))
    EscalationDelayFactory(level=first, severity_rank=3, delay=dt.timedelta(hours=4), business_hours=True)
    second = EscalationLevelFactory(policy=policy, position=2, name="Engineering manager", users=[carol])
    EscalationDelayFactory(level=second, severity_rank=1, delay=dt.timedelta(minutes=30))
    return policy


def test_the_policy_list_shows_levels_targets_and_delays(client, reader, policy, bob, carol):
    response = client.get(f"{API}/escalation-policies", **bearer(reader))
    assert response.status_code == 200
    listed, default = response.json()  # by name; the default policy is seeded by a migration
    assert (listed["name"], listed["is_default"], listed["loop_count"], listed["team"]) == ("Checkout", False, 3, None)
    assert default["is_default"] and [level["position"] for level in default["levels"]] == [1, 2, 3, 4]
    first, second = listed["levels"]
    assert [s["slug"] for s in first["schedules"]] == ["database", "primary"] and first["users"] == [person(bob)]
    assert first["delays"] == [
        {"severity_rank": 1, "delay_seconds": 0, "business_hours": False},
        {"severity_rank": 3, "delay_seconds": 14400, "business_hours": True},
    ]
    assert (second["name"], second["users"], second["schedules"]) == ("Engineering manager", [person(carol)], [])


def test_a_policy_says_who_each_level_would_page_now_each_person_once(client, reader, policy, bob, carol, django_assert_max_num_queries):
    # Auth (4), the policy, levels, their users and schedules (4), the schedules' rotations (3).
    with django_assert_max_num_queries(11):
        response = client.get(f"{API}/escalation-policies/{policy.pk}/oncall", **bearer(reader))
    assert response.status_code == 200
    body = response.json()
    assert body["policy"] == {"id": policy.pk, "name": "Checkout"} and body["at"] == "2026-05-06T12:00:00Z"
    first, second = body["levels"]
    assert first["schedules"] == [
        {"schedule": {"id": policy.levels.get(position=1).schedules.get(slug="database").pk, "name": "Database", "slug": "database"}, "on_call": []},
        {"schedule": {"id": policy.levels.get(position=1).schedules.get(slug="primary").pk, "name": "Primary", "slug": "primary"}, "on_call": [person(bob)]},
    ]
    assert first["pages"] == [person(bob)]  # named directly and on call: paged once
    assert (second["position"], second["pages"]) == (2, [person(carol)])
    assert client.get(f"{API}/escalation-policies/{policy.pk + 100}/oncall", **bearer(reader)).status_code == 404
