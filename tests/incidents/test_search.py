"""Searching incidents: a reference finds that incident only, title words find titles in any case,
in the admin's list and the API's alike; on PostgreSQL both go to an index (the plan is checked,
not the time), and a search page costs a fixed number of queries."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident
from incidents.search import search
from tests.api.keys import auth
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import UserFactory

LIST_URL = reverse("admin:incidents_incident_changelist")
API_URL = "/api/v1/incidents"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_windows")]



@pytest.fixture
def superuser(db):
    return UserFactory(username="root", superuser=True)


def found(text: str) -> set[str]:
    return {incident.reference for incident in search(Incident.objects.all(), text)}


@pytest.fixture
def incidents(commander):
    """Four incidents, and a fifth whose title names the third by reference and by number: a
    reference search must find the third only."""
    made = {}
    for title in ("Latency on checkout", "Checkout latency again", "Search is down", "Disk full"):
        made[title] = IncidentFactory(actor=commander, title=title)
    named = made["Search is down"]
    made["storm"] = IncidentFactory(actor=commander, title=f"Retry storm after {named.reference} and {named.number}")
    return made


def test_a_reference_finds_that_incident_only(incidents):
    target = incidents["Search is down"]
    for text in (target.reference, target.reference.lower(), str(target.number), f" INC{target.number} ", f"#{target.number}"):
        assert found(text) == {target.reference}, text
    assert found("INC-99999") == set()


def test_title_words_find_titles_in_any_case_and_all_words_must_match(incidents):
    latency = {incidents["Latency on checkout"].reference, incidents["Checkout latency again"].reference}
    assert found("latency") == latency
    assert found("LATENCY checkout") == latency
    assert found("latency again") == {incidents["Checkout latency again"].reference}
    assert found('"latency on"') == {incidents["Latency on checkout"].reference}  # a quoted phrase is one word
    assert found("storm INC") == {incidents["storm"].reference}
    assert found("") == found("   ") == {i.reference for i in Incident.objects.all()}
    assert found("100%") == found("a_b") == set()  # LIKE's wildcards are plain characters


def test_a_severity_name_also_finds_that_severitys_incidents(commander, incidents):
    gravest = IncidentFactory(actor=commander, title="Payments are down", severity=severity("SEV-1"))
    assert found("sev1") == {gravest.reference}
    assert found("SEV-1 payments") == set()  # not one severity's name: title words


def test_the_admin_and_the_api_find_the_same(as_user, client, commander, incidents):
    target = incidents["Search is down"]
    admin = as_user(commander)
    headers = auth(commander, "read")

    def in_admin(text):
        response = admin.get(LIST_URL, {"q": text})
        assert response.status_code == 200
        return {incident.reference for incident in response.context["cl"].result_list}

    def in_api(text):
        response = client.get(API_URL, {"q": text}, **headers)
        assert response.status_code == 200, response.content
        return {item["reference"] for item in response.json()["items"]}

    for text in (target.reference, target.reference.lower(), str(target.number), "latency", "Checkout LATENCY", "nothing"):
        assert in_admin(text) == in_api(text) == found(text), text
    assert in_api(str(target.number)) == {target.reference}
    assert client.get(API_URL, {"q": "x" * 201}, **headers).status_code == 422
    assert in_api("late\x00ncy") == set()  # PostgreSQL refuses a NUL in a query: not a 500 (the admin refuses it itself)


def test_a_restricted_incident_is_not_found_by_someone_who_may_not_see_it(client, commander, responder):
    secret = IncidentFactory(actor=commander, title="Credential leak", is_restricted=True)
    response = client.get(API_URL, {"q": secret.reference}, **auth(responder, "read"))
    assert response.json()["items"] == []
    response = client.get(API_URL, {"q": "credential"}, **auth(responder, "read"))
    assert response.json()["items"] == []


@pytest.mark.parametrize("text", ["INC-3", "latency", "critical"])
def test_a_search_page_costs_a_fixed_number_of_queries(as_user, client, commander, django_assert_max_num_queries, text):
    for n in range(30):
        IncidentFactory(actor=commander, title=f"Latency {n} critical", services=[])
    admin = as_user(commander)
    # The list page's 12 (on PostgreSQL one more: the planner's estimate, asked before counting), and
    # the severities the text may name.
    with django_assert_max_num_queries(14):
        assert admin.get(LIST_URL, {"q": text}).status_code == 200
    headers = auth(commander, "read")
    client.get(API_URL, **headers)  # the key's first use stamps last_used_at
    with django_assert_max_num_queries(10):  # the list's 9, and the severities the text may name
        assert client.get(API_URL, {"q": text, "limit": 200}, **headers).status_code == 200


# --- The plans, on PostgreSQL ---------------------------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="index plans are PostgreSQL's; SQLite searches titles with LIKE"
)


@pytest.fixture
def thousands(commander):
    """3,000 incidents, three of them about latency, indexed and with fresh statistics."""
    sev = severity("SEV-3")
    start = timezone.now() - timedelta(days=300)
    Incident.objects.bulk_create(
        Incident(
            number=10_000 + n, severity=sev, status=Incident.Status.CLOSED,
            title="Latency spike on edge" if n % 1000 == 7 else f"Disk full on host {n}",
            declared_at=start + timedelta(minutes=n), acknowledged_at=start + timedelta(minutes=n),
            resolved_at=start + timedelta(minutes=n + 1), closed_at=start + timedelta(minutes=n + 2),
            mitigated_at=start + timedelta(minutes=n),
        )
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        # Rows inserted since the index was built wait in GIN's pending list, which the planner
        # prices as a scan of it; a live table's vacuum moves them into the index. So does this.
        cursor.execute("SELECT gin_clean_pending_list('incident_title_trgm')")
        cursor.execute("ANALYZE incidents_incident")


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@postgres_only
def test_a_reference_search_reads_the_number_index(thousands, superuser):
    from incidents.selectors import incident_list

    for text in ("INC-10005", "inc-10005", "10005"):
        explained = plan(search(incident_list(superuser), text))
        assert "incidents_incident_number_key" in explained, explained
        assert "title" not in explained.lower(), explained  # no OR with the title
    assert found("INC-10005") == {"INC-10005"}


@postgres_only
def test_a_title_search_reads_the_trigram_index(thousands, superuser):
    from incidents.selectors import incident_list

    for text in ("latency", "Latency spike", "LATENCY"):
        explained = plan(search(incident_list(superuser), text).order_by("-declared_at", "-pk")[:50])
        assert "incident_title_trgm" in explained, explained
    assert len(found("latency spike")) == 3
