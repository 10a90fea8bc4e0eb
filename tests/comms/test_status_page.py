"""The public status page (/status/) and its JSON (/status.json): what customers are told.

Incidents are declared, updated and resolved through `incidents.actions` at moments set with
time-machine; the page is read at a fixed NOW, 22 Nov 2026 14:05 UTC.
"""

import datetime as dt
import html
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from comms import status
from incidents import actions
from incidents.models import Source, Status
from tests.incidents.factories import IncidentFactory, ServiceFactory, incident_type, severity
from tests.oncall.factories import UserFactory

NOW = dt.datetime(2026, 11, 22, 14, 5, tzinfo=dt.UTC)
PAGE = "/status/"
JSON = "/status.json"


@pytest.fixture(autouse=True)
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def checkout(db):
    return ServiceFactory(name="Checkout API", slug="checkout-api", customer_facing=True)


@pytest.fixture
def search(db):
    return ServiceFactory(name="Search", slug="search", customer_facing=True)


@pytest.fixture
def ledger(db):
    """An internal service: never a component, never named on the page."""
    return ServiceFactory(name="Ledger batch", slug="ledger-batch", customer_facing=False)


@pytest.fixture
def ic(db):
    return UserFactory(username="ic", commander=True)


def declare(ic, services, *, sev="SEV-2", at=NOW, title=None, **flags):
    with time_machine.travel(at, tick=False):
        incident = IncidentFactory(
            actor=ic, commander=ic, services=services, severity=severity(sev), title=title or f"{sev} incident", **flags
        )
        if (
            "public_on_status_page" not in flags
            and not incident.public_on_status_page
            and incident.customer_facing
            and incident.severity.show_on_status_page
            and not (incident.is_restricted or incident.is_drill)
        ):
            # Published within the severity's status-page window, as the communications lead would.
            incident = actions.update_details(incident, actor=ic, source=Source.ADMIN, public_on_status_page=True)
        return incident


def update(ic, incident, text, *, at, visibility="external", to=None):
    with time_machine.travel(at, tick=False):
        return actions.post_update(incident, text, actor=ic, source=Source.ADMIN, visibility=visibility, status=to)


def resolve(ic, incident, *, at):
    with time_machine.travel(at, tick=False):
        return actions.resolve(incident, actor=ic, source=Source.ADMIN, summary="Internal: rolled back 4512")


def page_text(client) -> str:
    response = client.get(PAGE)
    assert response.status_code == 200
    return response.content.decode()


def visible_text(page: str) -> str:
    """The page as a reader sees it: tags and the style block out, entities decoded, whitespace collapsed."""
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", page))).strip()


# --- The derivation rules ---------------------------------------------------------------------


def test_severity_rank_maps_to_a_component_state_and_the_worst_wins():
    assert [status.state_for_rank(r) for r in (1, 2, 3, 4, 7)] == [
        "major_outage", "partial_outage", "degraded_performance", "degraded_performance", "degraded_performance",
    ]
    assert status.worst([]) == "operational"
    assert status.worst(["degraded_performance", "major_outage", "partial_outage"]) == "major_outage"


def test_the_lifecycle_is_told_in_status_page_words():
    assert {s: status.public_status(s) for s in Status.values} == {
        "triggered": "investigating",
        "investigating": "investigating",
        "identified": "identified",
        "monitoring": "monitoring",
        "resolved": "resolved",
        "closed": "resolved",
    }


# --- The page -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_quiet_day_is_public_plain_html_and_cacheable(client, checkout, search, ledger):
    response = client.get(PAGE)

    assert response.status_code == 200  # no login
    assert response["Cache-Control"] in ("public, max-age=30", "max-age=30, public")
    html = response.content.decode()
    assert "<script" not in html.lower()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    # No organisation name set: a neutral title, never the tool's own name.
    assert "<title>Service status</title>" in html and "<h1>Service status</h1>" in html and "<img" not in html
    text = visible_text(html)
    assert "All systems operational" in text
    assert "Checkout API Operational" in text and "Search Operational" in text
    assert "Ledger batch" not in text
    assert "No active incidents." in text
    assert "Past 90 days" in text
    # At a glance: a bar of 90 days per component, none of them with an incident; no list of quiet days.
    assert "Checkout API 100.00% uptime" in text and "Search 100.00% uptime" in text
    cells = re.findall(r'<span role="listitem" class="operational" title="([^"]+)"', html)
    assert len(cells) == 180 and cells[0] == "Tue 25 Aug: No incidents" and cells[89] == "Sun 22 Nov: No incidents"
    assert "No incidents reported in the past 90 days." in text
    assert "Updated 22 Nov 2026, 14:05 UTC" in text
    # Anonymous visitors share one cached copy: the session is never read, so no Vary: Cookie.
    assert "cookie" not in response.get("Vary", "").lower()


@pytest.mark.django_db
def test_an_active_incident_shows_its_external_updates_newest_first_in_utc(client, ic, checkout, search, ledger):
    incident = declare(ic, [checkout, ledger], title="Card payments failing", at=NOW - dt.timedelta(hours=2))
    update(ic, incident, "We are looking into failed card payments.", at=NOW - dt.timedelta(hours=1, minutes=50))
    update(ic, incident, "INTERNAL: db primary at 100% CPU, paging DBA", at=NOW - dt.timedelta(hours=1), visibility="internal")
    update(ic, incident, "The cause is a <b>certificate</b> at our provider.", at=NOW - dt.timedelta(minutes=40), to=Status.IDENTIFIED)
    update(ic, incident, "A fix is out; we are watching payments recover.", at=NOW, to=Status.MONITORING)

    text = visible_text(page_text(client))

    assert "Partial outage" in text.split("Components")[0]  # the banner: a SEV-2
    assert "Checkout API Partial outage" in text and "Search Operational" in text
    active = text.split("Active incidents")[1].split("Past 90 days")[0]
    assert "Card payments failing" in active
    assert "Monitoring · Checkout API Started 22 Nov 2026, 12:05 UTC" in active  # internal service not named
    updates = [
        "Monitoring — A fix is out; we are watching payments recover. 22 Nov 2026, 14:05 UTC",
        "Identified — The cause is a <b>certificate</b> at our provider. 22 Nov 2026, 13:25 UTC",
        "Investigating — We are looking into failed card payments. 22 Nov 2026, 12:15 UTC",
    ]
    positions = [active.find(u) for u in updates]
    assert all(p >= 0 for p in positions), dict(zip(updates, positions))
    assert positions == sorted(positions)
    assert "&lt;b&gt;certificate&lt;/b&gt;" in page_text(client)  # update text is escaped, never markup
    # Internal updates, people, internal services and the resolution summary never leak.
    assert "INTERNAL" not in text and "paging DBA" not in text
    assert "Ledger batch" not in text and str(ic) not in text and "INC-" not in text


@pytest.mark.django_db
def test_a_component_takes_the_worst_of_its_open_incidents(client, ic, checkout, search):
    declare(ic, [checkout, search], sev="SEV-3")
    declare(ic, [checkout], sev="SEV-1")
    payments = ServiceFactory(name="Payments", slug="payments", customer_facing=True)
    declare(ic, [payments], sev="SEV-3")
    # SEV-4 is not shown on the status page: made public by hand, it still changes nothing.
    declare(ic, [checkout, payments, search], sev="SEV-4", public_on_status_page=True)

    data = client.get(JSON).json()

    assert {c["name"]: c["state"] for c in data["components"]} == {
        "Checkout API": "major_outage",
        "Payments": "degraded_performance",
        "Search": "degraded_performance",
    }
    assert data["status"] == {"state": "major_outage", "description": "Major outage"}
    assert "Major outage" in visible_text(page_text(client)).split("Components")[0]


@pytest.mark.django_db
def test_a_resolved_incident_leaves_the_components_and_joins_the_history(client, ic, checkout):
    incident = declare(ic, [checkout], sev="SEV-1", at=NOW - dt.timedelta(hours=3))
    resolve(ic, incident, at=NOW - dt.timedelta(hours=1))

    data = client.get(JSON).json()

    assert data["status"]["state"] == "operational"
    assert data["components"] == [{"id": "checkout-api", "name": "Checkout API", "state": "operational"}]
    assert data["active_incidents"] == []
    today = data["history"][0]
    assert (today["date"], today["incident_count"], today["state"]) == ("2026-11-22", 1, "major_outage")
    assert [i["status"] for i in client.get(today["json"]).json()["incidents"]] == ["resolved"]


@pytest.mark.django_db
def test_restricted_incidents_and_drills_change_nothing(client, ic, checkout, search):
    open_one = declare(ic, [search], sev="SEV-3", title="Slow search", at=NOW - dt.timedelta(hours=1))
    update(ic, open_one, "Search is slower than usual.", at=NOW - dt.timedelta(minutes=30))
    before_html, before_json = page_text(client), client.get(JSON).json()

    # Both forced public, so only the restricted/drill rule can keep them off the page.
    breach = declare(
        ic, [checkout], sev="SEV-1", title="Customer data exposed", incident_type=incident_type("security"),
        public_on_status_page=True, at=NOW - dt.timedelta(minutes=20),
    )
    assert breach.is_restricted
    update(ic, breach, "Secret: exfiltration via bucket", at=NOW - dt.timedelta(minutes=10))
    drill = declare(ic, [checkout], sev="SEV-1", title="Game day: checkout down", is_drill=True, public_on_status_page=True)
    update(ic, drill, "Drill update", at=NOW)
    # And their past: a restricted incident and a drill resolved earlier today.
    for flags in ({"is_restricted": True}, {"is_drill": True}):
        old = declare(ic, [checkout], sev="SEV-1", public_on_status_page=True, at=NOW - dt.timedelta(hours=5), **flags)
        update(ic, old, "Old secret update", at=NOW - dt.timedelta(hours=4))
        resolve(ic, old, at=NOW - dt.timedelta(hours=3))

    assert page_text(client) == before_html
    assert client.get(JSON).json() == before_json
    assert before_json["components"][0] == {"id": "checkout-api", "name": "Checkout API", "state": "operational"}


@pytest.mark.django_db
def test_only_incidents_marked_public_appear(client, ic, checkout, ledger):
    declare(ic, [ledger], sev="SEV-1", title="Ledger batch late")  # internal service: not public
    declare(ic, [checkout], sev="SEV-4", title="Typo on checkout page")  # SEV-4: not shown by policy
    declare(ic, [checkout], sev="SEV-2", title="Kept quiet", public_on_status_page=False)

    data = client.get(JSON).json()

    assert data["active_incidents"] == [] and data["status"]["state"] == "operational"
    text = visible_text(page_text(client))
    assert "Ledger" not in text and "Typo" not in text and "Kept quiet" not in text


@pytest.mark.django_db
def test_an_incident_made_public_by_hand_on_no_customer_facing_service_still_raises_the_banner(client, ic, ledger):
    declare(ic, [ledger], sev="SEV-2", title="Sign-in emails delayed", public_on_status_page=True)

    data = client.get(JSON).json()

    assert data["status"]["state"] == "partial_outage"
    assert data["active_incidents"][0]["components"] == []


@pytest.mark.django_db
def test_the_history_groups_90_days_of_resolved_incidents_by_day_newest_first(client, ic, checkout, search):
    day = dt.timedelta(days=1)
    yesterday = declare(ic, [checkout], sev="SEV-2", title="Checkout errors", at=NOW - day - dt.timedelta(hours=3))
    update(ic, yesterday, "Some payments fail.", at=NOW - day - dt.timedelta(hours=2, minutes=55))
    update(ic, yesterday, "Internal only", at=NOW - day - dt.timedelta(hours=2), visibility="internal")
    update(ic, yesterday, "Payments recovered; monitoring.", at=NOW - day - dt.timedelta(hours=1), to=Status.MONITORING)
    resolve(ic, yesterday, at=NOW - day)
    early = declare(ic, [search], sev="SEV-3", title="Slow search", at=NOW - day - dt.timedelta(hours=10))
    resolve(ic, early, at=NOW - day - dt.timedelta(hours=9))
    closed = declare(ic, [search], sev="SEV-3", title="Search index stale", at=NOW - 10 * day)
    resolve(ic, closed, at=NOW - 10 * day + dt.timedelta(hours=1))
    with time_machine.travel(NOW - 9 * day, tick=False):
        actions.close(closed, actor=ic, source=Source.ADMIN)
    edge = declare(ic, [search], sev="SEV-3", title="Oldest shown", at=NOW - 89 * day - dt.timedelta(hours=15))  # before it resolves
    resolve(ic, edge, at=dt.datetime(2026, 8, 25, 0, 0, tzinfo=dt.UTC))  # day 90, at midnight UTC
    gone = declare(ic, [search], sev="SEV-3", title="Too old", at=NOW - 91 * day)
    resolve(ic, gone, at=dt.datetime(2026, 8, 24, 23, 59, tzinfo=dt.UTC))  # day 91
    reopened = declare(ic, [checkout], sev="SEV-3", title="Came back", at=NOW - dt.timedelta(hours=6))
    update(ic, reopened, "Checkout is slow.", at=NOW - dt.timedelta(hours=6), to=Status.INVESTIGATING)
    resolve(ic, reopened, at=NOW - dt.timedelta(hours=5))
    with time_machine.travel(NOW - dt.timedelta(hours=4), tick=False):
        actions.reopen(reopened, actor=ic, source=Source.ADMIN, reason="Errors again")

    data = client.get(JSON).json()

    history = data["history"]
    assert len(history) == 90
    assert history[0]["date"] == "2026-11-22" and history[-1]["date"] == "2026-08-25"
    assert [d["date"] for d in history] == sorted((d["date"] for d in history), reverse=True)
    # The summary counts the incidents resolved each day; the day, opened, lists them in full.
    assert {d["date"]: d["incident_count"] for d in history if d["incident_count"]} == {
        "2026-11-21": 2, "2026-11-12": 1, "2026-08-25": 1,
    }
    days = {d["date"]: client.get(d["json"]).json()["incidents"] for d in history if d["incident_count"]}
    assert {date: [i["title"] for i in incidents] for date, incidents in days.items()} == {
        "2026-11-21": ["Checkout errors", "Slow search"],  # newest resolution first
        "2026-11-12": ["Search index stale"],
        "2026-08-25": ["Oldest shown"],
    }
    assert [i["title"] for i in data["active_incidents"]] == ["Came back"]  # reopened: active, not history
    checkout_errors = days["2026-11-21"][0]
    assert checkout_errors["status"] == "resolved"
    assert checkout_errors["resolved_at"] == "2026-11-21T14:05:00Z"
    assert [(u["status"], u["body"], u["kind"]) for u in checkout_errors["updates"]] == [
        ("resolved", "This incident has been resolved.", "resolved"),  # no words for customers: the resolution summary is internal
        ("monitoring", "Payments recovered; monitoring.", "update"),
        ("investigating", "Some payments fail.", "update"),
    ]
    assert days["2026-11-12"][0]["status"] == "resolved"  # closed reads as resolved

    page = page_text(client)
    text = visible_text(page)
    past = text.split("Past incidents")[1]
    # Only the days with incidents are listed, newest first, each linking to the day opened.
    assert past.startswith(" 21 Nov 2026 2 incidents resolved · Partial outage 12 Nov 2026 1 incident resolved · Degraded performance")
    assert [day for day in ("21 Nov 2026", "12 Nov 2026", "25 Aug 2026") if day in past] == ["21 Nov 2026", "12 Nov 2026", "25 Aug 2026"]
    assert '<a href="/status/day/2026-11-21/"><time datetime="2026-11-21">21 Nov 2026</time></a>' in page
    assert "Internal only" not in text and "rolled back" not in text and "Checkout errors" not in past
    assert "No incidents reported" not in text and "Too old" not in text

    day = visible_text(client.get("/status/day/2026-11-21/").content.decode())
    assert "Incidents on 21 Nov 2026 Checkout errors Resolved · Checkout API" in day
    assert "Started 21 Nov 2026, 11:05 UTC, resolved 21 Nov 2026, 14:05 UTC" in day
    assert "Monitoring — Payments recovered; monitoring. 21 Nov 2026, 13:05 UTC" in day
    assert "Internal only" not in day and "rolled back" not in day and "Came back" not in day
    # A day an incident was open without being resolved on it lists it too (the bar's cell links there).
    assert "Oldest shown" in visible_text(client.get("/status/day/2026-08-24/").content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/status/day/2026-11-23/", "/status/day/2026-13-01/", "/status/day/yesterday/", "/status/day/2026-11-23.json"])
def test_a_day_not_yet_come_or_not_a_date_is_not_found(client, url):
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_a_quiet_day_says_so(client, checkout):
    text = visible_text(client.get("/status/day/2026-11-01/").content.decode())
    assert "Incidents on 1 Nov 2026 No incidents reported on this day." in text
    assert client.get("/status/day/2026-11-01.json").json() == {"date": "2026-11-01", "incidents": []}


@pytest.mark.django_db
def test_the_json_has_stable_fields_and_iso_utc_times(client, ic, checkout):
    incident = declare(ic, [checkout], sev="SEV-1", title="Checkout down", at=NOW - dt.timedelta(minutes=30))
    update(ic, incident, "Checkout is down for everyone.", at=NOW - dt.timedelta(minutes=25))

    response = client.get(JSON)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "public" in response["Cache-Control"] and "max-age=30" in response["Cache-Control"]
    data = response.json()
    assert set(data) == {"page", "status", "components", "active_incidents", "active_count", "history"}
    assert data["active_count"] == 1
    assert data["page"] == {"title": "Service status", "generated_at": "2026-11-22T14:05:00Z"}
    assert data["status"] == {"state": "major_outage", "description": "Major outage"}
    assert data["components"] == [{"id": "checkout-api", "name": "Checkout API", "state": "major_outage"}]
    [active] = data["active_incidents"]
    assert active == {
        "id": active["id"],
        "title": "Checkout down",
        "status": "investigating",
        "impact": "major_outage",
        "components": ["Checkout API"],
        "started_at": "2026-11-22T13:35:00Z",
        "resolved_at": None,
        "updates": [
            {"at": "2026-11-22T13:40:00Z", "status": "investigating", "body": "Checkout is down for everyone.", "kind": "update"}
        ],
    }
    # An opaque id: stable across reads, and not the internal number.
    assert re.fullmatch(r"[0-9a-f]{16}", active["id"]) and str(incident.number) != active["id"]
    assert client.get(JSON).json()["active_incidents"][0]["id"] == active["id"]
    assert data["history"][0] == {
        "date": "2026-11-22", "state": "operational", "incident_count": 0,
        "url": "/status/day/2026-11-22/", "json": "/status/day/2026-11-22.json",
    }


@pytest.mark.django_db
def test_past_twenty_active_incidents_the_rest_are_counted_and_on_their_declaration_day(client, ic, checkout, search):
    oldest = declare(ic, [search], sev="SEV-1", title="Oldest open", at=NOW - dt.timedelta(days=3))
    for k in range(status.ACTIVE_IN_FULL):
        declare(ic, [checkout], sev="SEV-3", title=f"Open {k}", at=NOW - dt.timedelta(minutes=k + 1))

    data = client.get(JSON).json()
    text = visible_text(page_text(client))

    assert data["active_count"] == 21 and len(data["active_incidents"]) == 20
    assert "Oldest open" not in text.split("Past 90 days")[0] and "Open 19" in text
    assert "The 20 most recent of 21 active incidents" in text
    # The banner and the components follow every open incident, shown in full or not.
    assert data["status"]["state"] == "major_outage"
    assert {c["id"]: c["state"] for c in data["components"]} == {"checkout-api": "degraded_performance", "search": "major_outage"}
    day = client.get(f"/status/day/{oldest.declared_at.date().isoformat()}.json").json()
    assert [i["title"] for i in day["incidents"]] == ["Oldest open"]


@pytest.mark.django_db
def test_times_stay_utc_for_a_signed_in_user_in_another_zone(client, ic, checkout):
    incident = declare(ic, [checkout], at=NOW - dt.timedelta(hours=1))
    update(ic, incident, "Looking into it.", at=NOW)
    client.force_login(UserFactory(username="nyc", time_zone="America/New_York"))

    text = visible_text(page_text(client))

    assert "Looking into it. 22 Nov 2026, 14:05 UTC" in text and "09:05" not in text


@pytest.mark.django_db
def test_the_title_comes_from_the_setting_when_set(client, settings, checkout):
    settings.VIGIL_STATUS_PAGE_TITLE = "Acme status"

    assert "<h1>Acme status</h1>" in page_text(client)
    assert client.get(JSON).json()["page"]["title"] == "Acme status"


@pytest.mark.django_db
def test_writes_are_refused(client):
    assert client.post(PAGE).status_code == 405
    assert client.post(JSON).status_code == 405


# --- Bounded queries ----------------------------------------------------------------------------


def populate(ic, services, n: int) -> None:
    """n open incidents and n resolved in the window, each with two external and one internal update."""
    for k in range(n):
        sev = ("SEV-1", "SEV-2", "SEV-3")[k % 3]
        for resolved in (False, True):
            start = NOW - dt.timedelta(days=k * 3 if resolved else 0, hours=5)
            incident = declare(ic, services[k % len(services):][:2], sev=sev, at=start)
            update(ic, incident, f"External {k} a", at=start + dt.timedelta(minutes=10))
            update(ic, incident, f"Internal {k}", at=start + dt.timedelta(minutes=20), visibility="internal")
            update(ic, incident, f"External {k} b", at=start + dt.timedelta(minutes=30), to=Status.IDENTIFIED)
            if resolved:
                resolve(ic, incident, at=start + dt.timedelta(hours=1))


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


# The page: components, the worst open rank per component and overall, the newest active
# incidents, their services, their updates; the per-component
# and per-day aggregates, the reopened incidents' resolutions (and, if any, their services).
# A day: its incidents, their services, their updates.
@pytest.mark.django_db
@pytest.mark.parametrize("url, limit", [(PAGE, 10), (JSON, 10), ("/status/day/2026-11-19/", 3), ("/status/day/2026-11-19.json", 3)])
def test_a_fixed_number_of_queries_however_many_incidents_and_updates(
    client, ic, django_assert_max_num_queries, url, limit
):
    services = [ServiceFactory(name=f"Component {k}", slug=f"component-{k}", customer_facing=True) for k in range(6)]
    populate(ic, services, 2)
    with django_assert_max_num_queries(limit):
        client.get(url)
    small = queries_for(client, url)

    populate(ic, services, 12)
    with django_assert_max_num_queries(limit):
        response = client.get(url)
    content = response.content.decode()
    assert ("External 1 b" in content) and ("Internal 1" not in content)
    assert queries_for(client, url) == small
