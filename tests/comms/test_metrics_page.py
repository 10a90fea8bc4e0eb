"""The admin's metrics page: a period's figures in full against their targets, the breaches behind
each SLA share (restricted incidents counted, named only to those who may see them), and the table
as CSV, each figure recomputable by hand from the incidents' timestamps."""

import csv
import datetime as dt
import io
import re

import pytest
import time_machine
from django.urls import reverse

from incidents import actions
from incidents.models import Source
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import TeamFactory, UserFactory

PAGE = reverse("admin:metrics")
NOW = dt.datetime(2026, 12, 8, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def story(commander):
    """Three SEV-2s declared two days ago (acknowledge SLA 15 min): acknowledged after 10 and 20
    minutes, and a restricted one after 30. MTTA = (10 + 20 + 30) / 3 = 20 min, missed."""
    declared = NOW - dt.timedelta(days=2)
    made = {}
    for name, after, restricted in (("quick", 10, False), ("late", 20, False), ("secret", 30, True)):
        with time_machine.travel(declared, tick=False):
            incident = IncidentFactory(actor=commander, title=f"The {name} one", severity=severity("SEV-2"), is_restricted=restricted)
        with time_machine.travel(declared + dt.timedelta(minutes=after), tick=False):
            made[name] = actions.acknowledge(incident, actor=commander, source=Source.ADMIN)
    return made


def test_the_table_shows_each_figure_against_its_target(as_user, manager, story):
    with time_machine.travel(NOW, tick=False):
        html = as_user(manager).get(PAGE, {"days": 7, "group_by": "severity"}).content.decode()
    row = re.sub(r"\s+", " ", html.split('<th scope="row">SEV-2</th>')[1].split("</tr>")[0])
    # incidents, then MTTD (none typed), then MTTA: mean, median, p90, target, verdict.
    assert re.search(r"<td>3</td>.*<td>20 min</td><td>20 min</td><td>28 min</td><td>15 min</td><td class=\"missed\">missed</td>", row), row


def test_on_call_load_is_shown_per_person_and_per_team(as_user, manager):
    team = TeamFactory(name="Payments")
    team.members.add(manager)
    with time_machine.travel(NOW, tick=False):
        html = as_user(manager).get(PAGE, {"days": 7}).content.decode()
    teams = html.split('id="oncall-load-teams"')[1].split("</table>")[0]
    assert '<th scope="row">Payments</th><td>1</td>' in teams


def test_a_breach_list_names_only_what_the_viewer_may_see(as_user, viewer, story, sev2):
    with time_machine.travel(NOW, tick=False):
        html = as_user(viewer).get(PAGE, {"days": 7, "breaches": "ack_on_time", "severity": sev2.pk}).content.decode()
    listed = html.split('id="breaches"')[1].split("</table>")[0]
    assert story["late"].reference in listed and "The late one" in listed
    assert "The secret one" not in html and story["secret"].reference not in listed
    assert "A restricted incident" in listed  # counted, not named
    assert story["quick"].reference not in listed  # acknowledged in time


def test_the_table_downloads_as_csv_in_seconds(as_user, manager, story):
    with time_machine.travel(NOW, tick=False):
        response = as_user(manager).get(PAGE, {"days": 7, "group_by": "severity", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="vigil-metrics-2026-12-08-7d-by-severity.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1 and rows[0]["Severity"] == "SEV-2" and rows[0]["incidents"] == "3"
    assert rows[0]["mtta mean"] == "1200" and rows[0]["mtta target"] == "900" and rows[0]["mtta verdict"] == "missed"


def test_without_the_permission_to_view_incidents_there_are_no_figures(db, as_user):
    nobody = UserFactory(username="staff-only", is_staff=True)
    assert as_user(nobody).get(PAGE).status_code == 403


def test_the_page_costs_a_fixed_number_of_queries(as_user, manager, commander, django_assert_max_num_queries):
    client = as_user(manager)
    client.get(PAGE)

    def count():
        with django_assert_max_num_queries(40) as captured:
            assert client.get(PAGE, {"group_by": "service"}).status_code == 200
        return len(captured.captured_queries)

    IncidentFactory(actor=commander)
    few = count()
    for _ in range(6):
        IncidentFactory(actor=commander, severity=severity("SEV-3"))
    assert count() == few
