"""The admin home is the operator dashboard: the open incidents worst first with the next SLA
deadline of each, refreshed from a JSON endpoint; who is on call now and the gaps of the next 24
hours; and still every page of the admin below."""

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from incidents import actions
from incidents.models import Participant, Source
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import LayerFactory, ScheduleFactory, UserFactory

HOME = reverse("admin:index")
OPEN_JSON = reverse("admin:dashboard-open")
NOW = dt.datetime(2026, 12, 8, 10, 0, tzinfo=dt.UTC)  # a Tuesday


def _refs(html: str) -> list[str]:
    board = html.split('id="open-incidents"')[1].split("</table>")[0]
    return re.findall(r">(INC-\d+)</a>", board)


@pytest.fixture
def story(commander):
    """A SEV-2 declared 20 minutes ago and never acknowledged (acknowledge SLA 15 min: breached),
    a SEV-1 acknowledged 1 minute ago, a SEV-3, and a resolved SEV-1 that is not open."""
    with time_machine.travel(NOW - dt.timedelta(minutes=20), tick=False):
        late = IncidentFactory(actor=commander, title="Search times out", severity=severity("SEV-2"), commander=commander)
        low = IncidentFactory(actor=commander, title="Slow exports", severity=severity("SEV-3"))
        IncidentFactory(actor=commander, title="Done already", severity=severity("SEV-1"), resolved=True)
    with time_machine.travel(NOW - dt.timedelta(minutes=2), tick=False):
        worst = IncidentFactory(actor=commander, title="Checkout is down", severity=severity("SEV-1"), commander=commander)
    with time_machine.travel(NOW - dt.timedelta(minutes=1), tick=False):
        worst = actions.acknowledge(worst, actor=commander, source=Source.ADMIN)
    return {"worst": worst, "late": late, "low": low}


def test_the_home_lists_open_incidents_worst_first_with_their_next_deadline(as_user, manager, story):
    with time_machine.travel(NOW, tick=False):
        html = as_user(manager).get(HOME).content.decode()

    worst, late, low = story["worst"], story["late"], story["low"]
    assert _refs(html) == [worst.reference, late.reference, low.reference]  # by severity; the resolved one is not open
    assert "Open incidents (<span id=\"open-count\">3</span>)" in html
    row = html.split(f">{late.reference}</a>")[1].split("</tr>")[0]
    assert "acknowledge" in row and "5 min 00 s overdue" in row  # declared 20 min ago, 15 min to acknowledge
    row = html.split(f">{worst.reference}</a>")[1].split("</tr>")[0]
    # Acknowledged: the next is the first update, 5 min after declaring (3 min left).
    assert "status update" in row and "in 3 min 00 s" in row
    assert "SLA breached" in html.split(f">{late.reference}</a>")[1].split("</tr>")[0]
    # Every page of the admin is still there, below.
    assert reverse("admin:incidents_incident_changelist") in html and reverse("admin:oncall_schedule_changelist") in html


def test_the_json_the_page_polls_has_the_same_rows_for_the_signed_in_user_only(client, as_user, manager, story):
    assert client.get(OPEN_JSON).status_code == 302  # to the login page: no session, no incidents
    with time_machine.travel(NOW, tick=False):
        response = as_user(manager).get(OPEN_JSON)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    data = response.json()
    assert [row["reference"] for row in data["rows"]] == [story["worst"].reference, story["late"].reference, story["low"].reference]
    late = data["rows"][1]
    assert late["next_due"]["name"] == "acknowledge"
    assert dt.datetime.fromisoformat(late["next_due"]["due_at"]) == story["late"].declared_at + dt.timedelta(minutes=15)
    assert late["sla_state"] == "breached" and late["commander"] == story["late"].created_by.get_full_name()


def test_a_restricted_incident_is_neither_named_nor_counted_for_those_who_may_not_see_it(as_user, viewer, manager, commander):
    with time_machine.travel(NOW - dt.timedelta(minutes=5), tick=False):
        secret = IncidentFactory(actor=commander, title="Credential leak in billing", is_restricted=True, severity=severity("SEV-1"))
        IncidentFactory(actor=commander, title="Search is slow")
    with time_machine.travel(NOW, tick=False):
        seen_by_viewer = as_user(viewer).get(HOME).content.decode()
        data = as_user(viewer).get(OPEN_JSON).json()
    assert "Credential leak" not in seen_by_viewer and secret.reference not in seen_by_viewer
    assert "Search is slow" in seen_by_viewer and data["count"] == 1
    assert all("Credential" not in row["title"] for row in data["rows"])
    # A participant of the restricted incident sees it.
    actions.assign_role(secret, manager, Participant.Role.SCRIBE, actor=commander, source=Source.ADMIN)
    with time_machine.travel(NOW, tick=False):
        assert "Credential leak in billing" in as_user(manager).get(HOME).content.decode()


def test_who_is_on_call_now_and_the_gaps_of_the_next_day(as_user, manager):
    alice = UserFactory(username="alice", first_name="Alice", last_name="Ng")
    bob = UserFactory(username="bob", first_name="Bob", last_name="Stone")
    LayerFactory(schedule=ScheduleFactory(name="Payments", slug="payments"), members=[alice])
    LayerFactory(schedule=ScheduleFactory(name="Search", slug="search"), members=[bob], business_hours=True)
    ScheduleFactory(name="Empty", slug="empty")

    with time_machine.travel(NOW, tick=False):  # Tuesday 10:00 UTC
        html = as_user(manager).get(HOME).content.decode()

    side = html.split('id="vigil-on-call"')[1]
    payments = side.split('id="on-call-payments"')[1].split("</li>")[0]
    assert "Alice Ng" in payments and "Gap" not in payments  # 24/7: nobody missing
    search = side.split('id="on-call-search"')[1].split("</li>")[0]
    assert "Bob Stone" in search and "Gap Tue 17:00 – Wed 09:00" in search  # business hours only
    empty = side.split('id="on-call-empty"')[1].split("</li>")[0]
    assert "nobody" in empty


def test_the_home_costs_a_fixed_number_of_queries(as_user, manager, commander, django_assert_max_num_queries):
    # At most 25 on PostgreSQL; SQLite reads each figure's durations once more for its percentiles.
    bound = 25 if connection.vendor == "postgresql" else 28

    def count_queries():
        client = as_user(manager)
        client.get(HOME)  # the session's first use
        with django_assert_max_num_queries(bound) as captured:
            assert client.get(HOME).status_code == 200
        return len(captured.captured_queries)

    IncidentFactory(actor=commander)
    few = count_queries()
    for n in range(12):
        IncidentFactory(actor=commander, commander=commander, severity=severity("SEV-3" if n % 2 else "SEV-2"))
    assert count_queries() == few


def test_the_cards_show_the_periods_figures_against_their_targets(as_user, manager, commander):
    """Two SEV-1s acknowledged after 4 and 8 minutes (target 5 min): MTTA 6 min, missed; one
    resolved after 50 minutes (target 1 h): MTTR 50 min, met. A drill acknowledged after an hour
    is left out."""
    declared = NOW - dt.timedelta(days=3)
    made = []
    for ack_after, resolve_after in ((4, 50), (8, None)):
        with time_machine.travel(declared, tick=False):
            incident = IncidentFactory(actor=commander, severity=severity("SEV-1"), commander=commander)
        with time_machine.travel(declared + dt.timedelta(minutes=ack_after), tick=False):
            incident = actions.acknowledge(incident, actor=commander, source=Source.ADMIN)
        if resolve_after:
            with time_machine.travel(declared + dt.timedelta(minutes=resolve_after), tick=False):
                actions.resolve(incident, actor=commander, source=Source.ADMIN, summary="Rolled back")
        made.append(incident)
    with time_machine.travel(declared, tick=False):
        drill = IncidentFactory(actor=commander, severity=severity("SEV-1"), is_drill=True)
    with time_machine.travel(declared + dt.timedelta(hours=1), tick=False):
        actions.acknowledge(drill, actor=commander, source=Source.ADMIN)

    with time_machine.travel(NOW, tick=False):
        html = as_user(manager).get(HOME, {"days": 7}).content.decode()

    def card(key):
        return re.sub(r"\s+", " ", html.split(f'id="card-{key}"')[1].split("</div>")[0])

    assert "6 min" in card("mtta-1") and "target 5 min · missed" in card("mtta-1")  # (4 + 8) / 2
    assert "50 min" in card("mttr-1") and "target 1 h · met" in card("mttr-1")
    assert "— " in card("mtta-2") or "—<" in card("mtta-2")  # no SEV-2 in the period
    assert 'class="vigil-card missed" id="card-mtta-1"' in html
    # The charts are drawn, each with its figures as a table.
    assert html.count("<svg") >= 5 and "MTTA by week as a table" in html and "<script" not in html.split('id="vigil-figures"')[1].split("</section>")[0]
