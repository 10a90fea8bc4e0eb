"""The escalation preview is the engine's own plan: what it shows is what the engine then does."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from incidents import actions, deadlines, engine, escalation, firing
from incidents.models import Source, TimelineEvent
from tests.incidents.engine_clock import T0
from tests.incidents.factories import IncidentFactory, incident_type, severity
from tests.oncall.factories import UserFactory, staff_default_policy

@pytest.fixture
def policy(db):
    names = ["oncall", "lead", "em", "director"]
    return staff_default_policy(*(UserFactory(username=name, first_name=name.title(), last_name="Person") for name in names))


def preview_of(incident, acknowledge_at=None):
    levels = deadlines.policy_levels(incident.escalation_policy)
    by_position = {level.position: level for level in levels}
    return escalation.play_forward(
        deadlines.situation(incident, levels),
        until=incident.declared_at + timedelta(days=3),
        people_at=lambda position, at: firing.level_targets(by_position[position], at),
        acknowledge_at=acknowledge_at,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("acknowledged_after", [None, timedelta(minutes=3), timedelta(minutes=7)])
@pytest.mark.parametrize("sev", ["SEV-1", "SEV-2", "SEV-3"])
def test_the_engine_does_what_the_preview_showed(policy, sev, acknowledged_after):
    acknowledge_at = T0 + acknowledged_after if acknowledged_after else None
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory(severity=severity(sev))
        # Each engagement (re-pages are ack_sla_breached events), paged or informed.
        promised = [
            (step.at, position, sorted(u.username for u in people), position not in step.informed)
            for step in preview_of(incident, acknowledge_at)
            for position, people in step.pages[len(step.firing.repage_levels):]
        ]
        repages = [
            (step.at, sorted(u.username for _, people in step.pages[: len(step.firing.repage_levels)] for u in people))
            for step in preview_of(incident, acknowledge_at)
            if step.key.kind == escalation.ACK_TIMEOUT
        ]
    # Tick the engine every minute for six hours (acknowledging when the preview was told to).
    for minute in range(0, 6 * 60):
        moment = T0 + timedelta(minutes=minute)
        with time_machine.travel(moment, tick=False):
            if acknowledge_at is not None and moment == acknowledge_at:
                actions.acknowledge(incident, actor=incident.participants.first().user, source=Source.ADMIN)
            engine.tick()
    done = [
        (e.occurred_at, e.data["level"], sorted(t["username"] for t in e.data["targets"]), e.data["page"])
        for e in incident.timeline.filter(kind=TimelineEvent.Kind.ESCALATED).order_by("occurred_at", "pk")
    ]
    done_repages = [
        (e.occurred_at, sorted(t["username"] for t in e.data["targets"]))
        for e in incident.timeline.filter(kind=TimelineEvent.Kind.ACK_SLA_BREACHED).order_by("occurred_at", "pk")
    ]
    horizon = T0 + timedelta(hours=6)
    assert done == [p for p in promised if p[0] < horizon]
    assert done_repages == [p for p in repages if p[0] < horizon]
    assert done, "the engine engaged nobody"
    if acknowledged_after == timedelta(minutes=3) and sev == "SEV-1":
        assert [paged for *_, paged in done] == [True, False, False, False]  # management is informed


@pytest.mark.django_db
def test_policy_preview_page_lists_who_is_paged_when(client, policy):
    client.force_login(UserFactory(manager=True, time_zone="UTC"))
    with time_machine.travel(T0, tick=False):
        response = client.get(
            reverse("admin:incidents_policy_escalation_preview"),
            {"policy": policy.pk, "severity": severity("SEV-1").pk},
        )
    assert response.status_code == 200
    rows = [
        [cell.strip() for cell in row]
        for row in _table_rows(response.content.decode())
    ]
    assert ["Tue 2026-03-03 10:00", "Level 1 · On-call engineer engaged: page", "Oncall Person"] in rows
    assert ["Tue 2026-03-03 10:05", "Acknowledge SLA breached (round 1): level 1 paged again", "Oncall Person"] in rows
    assert ["", "Level 2 · Team lead engaged: page", "Lead Person"] in rows


@pytest.mark.django_db
def test_an_acknowledged_incidents_preview_says_who_is_informed(client, policy):
    ic = UserFactory(commander=True, time_zone="UTC")
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory(severity=severity("SEV-1"), actor=ic)
        engine.tick()
        actions.acknowledge(incident, actor=ic, source=Source.ADMIN)
        client.force_login(ic)
        response = client.get(reverse("admin:incidents_incident_escalation_preview", args=[incident.pk]))
    assert 'id="escalation-preview"' in response.content.decode(), response.content.decode()[-3000:]
    rows = [[cell.strip() for cell in row] for row in _table_rows(response.content.decode())]
    assert ["Tue 2026-03-03 10:15", "Level 2 · Team lead engaged: inform", "Lead Person"] in rows
    assert ["Tue 2026-03-03 10:30", "Level 3 · Engineering manager engaged: inform", "Em Person"] in rows
    assert not any("Acknowledge SLA" in " ".join(row) for row in rows)
    assert ["Tue 2026-03-03 11:00", "Resolve target breached: commander and manager told", ""] in rows


@pytest.mark.django_db
def test_the_policy_page_link_previews_the_most_severe_level_by_default(client, policy):
    client.force_login(UserFactory(manager=True))
    page = client.get(reverse("admin:oncall_escalationpolicy_change", args=[policy.pk])).content.decode()
    link = f'{reverse("admin:incidents_policy_escalation_preview")}?policy={policy.pk}'
    assert link in page
    preview = client.get(link).content.decode()
    assert "Level 4 · Director engaged" in preview  # SEV-1 reaches the director


@pytest.mark.django_db
def test_policy_preview_needs_the_permission(client, policy):
    client.force_login(UserFactory())
    response = client.get(reverse("admin:incidents_policy_escalation_preview"))
    assert response.status_code == 403


@pytest.mark.django_db
def test_incident_page_lists_deadlines_and_links_the_preview(client, policy):
    ic = UserFactory(commander=True)
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory(severity=severity("SEV-1"), actor=ic)
        engine.tick()
    client.force_login(ic)
    page = client.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()
    assert 'id="deadlines"' in page
    assert "Escalation level 1" in page and "fired" in page and "Oncall Person" in page
    assert "Escalation level 2" in page and "pending" in page
    preview = client.get(reverse("admin:incidents_incident_escalation_preview", args=[incident.pk]))
    assert preview.status_code == 200
    assert "Level 2 · Team lead engaged" in preview.content.decode()


@pytest.mark.django_db
def test_a_restricted_incidents_preview_is_hidden_from_outsiders(client, policy):
    breach = IncidentFactory(incident_type=incident_type("security"))
    client.force_login(UserFactory(responder=True))
    response = client.get(reverse("admin:incidents_incident_escalation_preview", args=[breach.pk]))
    assert response.status_code == 404


def _table_rows(html: str) -> list[list[str]]:
    import re

    body = html.split('id="escalation-preview"', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rows.append([re.sub(r"<[^>]+>", "", c) for c in cells])
    return rows
