"""The incident list on a large table: the visibility filter and the list's count read indexes,
and past VIGIL_ADMIN_EXACT_COUNT_LIMIT the list says "about N" instead of counting every row."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident, Participant, Status
from incidents.permissions import VIEW_RESTRICTED
from oncall.admin.paging import about
from tests.oncall.factories import UserFactory

LIST_URL = reverse("admin:incidents_incident_changelist")
ON_POSTGRES = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="plans and planner estimates are PostgreSQL's; SQLite counts exactly"
)


def _load(count, severity, *, commander):
    """`count` incidents in bulk: every 20th restricted, every 50th open; `commander` leads every 7th."""
    now = timezone.now()
    start = Incident.objects.order_by("-number").values_list("number", flat=True).first() or 0
    incidents = Incident.objects.bulk_create(
        Incident(
            number=start + n + 1,
            title=f"Bulk incident {n}",
            severity=severity,
            status=Status.INVESTIGATING if n % 50 == 0 else Status.CLOSED,
            is_restricted=n % 20 == 0,
            declared_at=now - timedelta(minutes=n + 1),
            acknowledged_at=now - timedelta(minutes=n),
            resolved_at=None if n % 50 == 0 else now - timedelta(minutes=n),
            closed_at=None if n % 50 == 0 else now - timedelta(minutes=n),
        )
        for n in range(count)
    )
    Participant.objects.bulk_create(
        Participant(incident=incident, user=commander, role=Participant.Role.COMMANDER, joined_at=now)
        for incident in incidents[::7]
    )
    return incidents


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", superuser=True)


def _count_queries(captured):
    return [q["sql"] for q in captured.captured_queries if q["sql"].upper().startswith("SELECT COUNT(*)")]


def _plan(sql):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


@ON_POSTGRES
@pytest.mark.parametrize("filters", [{}, {"status": Status.INVESTIGATING}, {"state": "open"}])
def test_a_commanders_list_counts_through_indexes(as_user, responder, sev2, filters):
    assert not responder.has_perm(VIEW_RESTRICTED)  # the visibility filter applies
    _load(3000, sev2, commander=responder)
    client = as_user(responder)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
        cursor.execute("SET LOCAL enable_seqscan = off")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST_URL, filters)
    assert response.status_code == 200
    counts = _count_queries(captured)
    assert counts, "the list counted nothing"
    for sql in counts:
        plan = _plan(sql)
        assert "Seq Scan on incidents_incident" not in plan, plan
        assert re.search(r"(Index|Index Only|Bitmap Heap) Scan (Backward )?(using \w+ )?on incidents_incident", plan), plan


@ON_POSTGRES
def test_past_the_limit_the_list_shows_the_planners_estimate(as_user, responder, sev2, settings):
    settings.VIGIL_ADMIN_EXACT_COUNT_LIMIT = 50
    _load(400, sev2, commander=responder)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
    client = as_user(responder)

    html = client.get(LIST_URL).content.decode()
    shown = re.search(r"about ([\d,]+) incidents", html)
    assert shown, "no estimate on the page"
    assert 300 <= int(shown[1].replace(",", "")) <= 450  # the planner's guess of the 383 visible
    # A filter that leaves few rows is counted exactly.
    html = client.get(LIST_URL, {"status": Status.INVESTIGATING}).content.decode()
    assert re.search(r"\b5 incidents\b", html) and "about" not in html.split('class="paginator"')[1]


def test_sqlite_and_small_lists_count_exactly(as_user, responder, sev2, settings):
    settings.VIGIL_ADMIN_EXACT_COUNT_LIMIT = 50
    _load(120, sev2, commander=responder)  # 120 - 6 restricted + 1 restricted the responder commands
    client = as_user(responder)
    html = client.get(LIST_URL, {"status": Status.INVESTIGATING}).content.decode()
    assert re.search(r"\b2 incidents\b", html)  # open: 0 (restricted, commanded), 50; not 100 (restricted)
    if connection.vendor != "postgresql":
        html = client.get(LIST_URL).content.decode()
        assert re.search(r"\b115 incidents\b", html) and "about" not in html


def test_a_search_past_the_limit_says_about(as_user, superuser, sev2, settings):
    settings.VIGIL_ADMIN_EXACT_COUNT_LIMIT = 50
    _load(120, sev2, commander=superuser)
    html = as_user(superuser).get(LIST_URL, {"q": "Bulk"}).content.decode()
    if connection.vendor == "postgresql":
        assert re.search(r"about [\d,]+ results", html)
    else:
        assert re.search(r"\b120 results\b", html)


@ON_POSTGRES
def test_vigils_connections_run_without_jit(db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_estimates_read_as_people_say_them():
    assert about(194_913) == "about 195,000"
    assert about(1_000_000) == "about 1,000,000"
    assert about(381) == "about 381"
