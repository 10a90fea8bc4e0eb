"""Paging you can trust: what the engine's own tick delivers, through the outbox.

Each test drives `incidents.engine.tick` with time-machine, dispatches the events it recorded
through `comms.outbox` as the on-commit task would, and checks the `Notification` rows: who
was paged (a page carries an acknowledge code), who was informed, who was not reached.
"""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.db.models import CheckConstraint
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comms import chat
from comms.models import MessageKind, Notification
from incidents import actions, deadlines, engine, escalation, firing
from incidents.models import Deadline, Participant, SeverityLevel, Source, TimelineEvent
from oncall.models import EscalationDelay, EscalationLevel, EscalationPolicy
from tests.api.keys import auth
from tests.comms.delivery import dispatch_all
from tests.incidents.engine_clock import T0
from tests.incidents.factories import IncidentFactory, ServiceFactory, incident_type, severity
from tests.oncall.factories import (
    EscalationDelayFactory,
    EscalationLevelFactory,
    EscalationPolicyFactory,
    TeamFactory,
    UserFactory,
    staff_default_policy,
)

Kind = TimelineEvent.Kind
Lasts = EscalationLevel.Lasts
ADMIN = Source.ADMIN
UTC = dt_timezone.utc
LONDON = ZoneInfo("Europe/London")


def tick_at(moment) -> None:
    with time_machine.travel(moment, tick=False):
        engine.tick()
        dispatch_all()


def pages_to(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, is_page=True).order_by("created_at", "pk"))


def escalated(incident) -> list[TimelineEvent]:
    return list(incident.timeline.filter(kind=Kind.ESCALATED).order_by("occurred_at", "pk"))


@pytest.fixture
def staff(db):
    """The default policy with one person per level; Alice Chen commands, Bob Okafor is on call."""
    people = {
        "oncall": UserFactory(username="bob", first_name="Bob", last_name="Okafor", responder=True),
        "lead": UserFactory(username="lead", first_name="Dana", last_name="Lee"),
        "em": UserFactory(username="em", first_name="Erin", last_name="Moss"),
        "director": UserFactory(username="director", first_name="Dirk", last_name="Tor"),
        "ic": UserFactory(username="alice", first_name="Alice", last_name="Chen", commander=True),
    }
    staff_default_policy(people["oncall"], people["lead"], people["em"], people["director"])
    return people


# --- 1. Each level says how long it lasts ----------------------------------------------------------


@pytest.mark.django_db
def test_an_acknowledged_sev1_informs_management_on_schedule_and_pages_nobody_else(staff):
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory(severity=severity("SEV-1"), actor=staff["ic"], commander=staff["ic"])
    tick_at(T0)
    with time_machine.travel(T0 + timedelta(minutes=2, seconds=30), tick=False):
        actions.acknowledge(incident, actor=staff["oncall"], source=Source.CHAT)
        dispatch_all()
    for minute in range(3, 70):
        tick_at(T0 + timedelta(minutes=minute))

    events = escalated(incident)
    assert [(e.data["level"], e.occurred_at - T0, e.data["page"]) for e in events] == [
        (1, timedelta(0), True),
        (2, timedelta(minutes=15), False),
        (3, timedelta(minutes=30), False),
        (4, timedelta(minutes=60), False),
    ]
    assert events[1].message == (
        f"Level 2 · Team lead informed (on schedule): {incident.reference} SEV-1 has run 15 min, "
        "acknowledged by Bob Okafor at 10:02, commander Alice Chen: telling Dana Lee"
    )
    # No acknowledge round after the acknowledgement: nobody is paged again.
    assert not incident.timeline.filter(kind=Kind.ACK_SLA_BREACHED).exists()
    # Only the on-call engineer was paged (with an acknowledge code); management got an
    # informational message for its inform event: no acknowledge link or code, email and chat at once.
    assert [len(n.ack_code) for n in pages_to(staff["oncall"])] == [6]
    for key, event in zip(["lead", "em", "director"], events[1:]):
        told = list(Notification.objects.filter(recipient=staff[key], event=event))
        assert told and all(n.kind == MessageKind.ESCALATION_INFO for n in told)
        assert all(not n.is_page and not n.ack_code and "/ack/" not in n.body for n in told)
        assert not pages_to(staff[key])


@pytest.mark.django_db
def test_acknowledging_cancels_a_level_that_pages_until_acknowledged_before_it_is_engaged(staff):
    policy = EscalationPolicy.objects.get(is_default=True)
    EscalationLevel.objects.filter(policy=policy, position=2).update(lasts=Lasts.UNTIL_ACKNOWLEDGED)
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory(severity=severity("SEV-1"), actor=staff["ic"])
    tick_at(T0)
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        actions.acknowledge(incident, actor=staff["oncall"], source=ADMIN)
    level_two = incident.deadlines.get(kind=Deadline.Kind.ESCALATION, level=2)
    assert level_two.cancelled_at is not None and level_two.note == "acknowledged"
    for minute in range(3, 35):
        tick_at(T0 + timedelta(minutes=minute))
    assert [e.data["level"] for e in escalated(incident)] == [1, 3]  # the manager is informed at 30 min
    assert not Notification.objects.filter(recipient=staff["lead"]).exists()


@pytest.mark.django_db
def test_an_unacknowledged_incident_pages_every_level(staff):
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory(severity=severity("SEV-1"), actor=staff["ic"])
    for minute in range(0, 16):
        tick_at(T0 + timedelta(minutes=minute))
    assert all(e.data["page"] for e in escalated(incident))
    assert all(e.data["page"] for e in incident.timeline.filter(kind=Kind.ACK_SLA_BREACHED))
    assert [len(n.ack_code) for n in pages_to(staff["lead"])] == [6]


# --- 2. Business-hours cells are respected by every page -------------------------------------------


@pytest.fixture
def london(db):
    """A London team whose SEV-3 on-call and team-lead cells are business hours only (Mon–Fri 09–17)."""
    team = TeamFactory(name="Payments", slug="payments", time_zone="Europe/London")
    policy = EscalationPolicyFactory(name="Payments", team=team, loop_count=3)
    oncall = UserFactory(username="oncall", first_name="Olu", last_name="Ade")
    lead = UserFactory(username="lead", first_name="Lea", last_name="Hart")
    one = EscalationLevelFactory(policy=policy, position=1, name="On-call engineer", users=[oncall])
    two = EscalationLevelFactory(policy=policy, position=2, name="Team lead", users=[lead], lasts=Lasts.UNTIL_RESOLVED)
    EscalationDelayFactory(level=one, severity_rank=3, delay=timedelta(0), business_hours=True)
    EscalationDelayFactory(level=two, severity_rank=3, delay=timedelta(hours=4), business_hours=True)
    return {"policy": policy, "service": ServiceFactory(escalation_policy=policy), "oncall": oncall, "lead": lead}


def local(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


@pytest.mark.django_db
def test_a_sev3_declared_on_saturday_pages_nobody_until_monday_across_the_clock_change(london):
    # Saturday 24 October 2026 14:00 BST; the clocks go back on Sunday 25 October.
    declared = local(2026, 10, 24, 14, 0)
    with time_machine.travel(declared, tick=False):
        incident = IncidentFactory(severity=severity("SEV-3"), services=[london["service"]])
    moment = declared
    while moment <= local(2026, 10, 26, 12, 0):
        tick_at(moment)
        moment += timedelta(minutes=15)

    monday_nine = local(2026, 10, 26, 9, 0)
    assert monday_nine.utcoffset() == timedelta(0)  # GMT again
    pages = Notification.objects.filter(is_page=True).order_by("created_at")
    assert pages.exists() and all(n.created_at >= monday_nine for n in pages)

    breach = incident.timeline.filter(kind=Kind.ACK_SLA_BREACHED).order_by("occurred_at").first()
    assert breach.occurred_at == local(2026, 10, 24, 15, 0)
    assert breach.message == (
        "Acknowledge SLA breached at Sat 15:00, 1 h after declaration (SEV-3 acknowledge SLA: 1 h): "
        "level 1 · On-call engineer is business-hours only, paging at Mon 09:00, round 1 of 3"
    )
    assert breach.data["targets"] == [] and breach.data["waiting"] == [
        {"level": 1, "level_name": "On-call engineer", "page_at": monday_nine.astimezone(UTC).isoformat()}
    ]
    # Monday 09:00: the on-call engineer (the breach's waiting page) and the team lead (4 h after
    # declaration, waiting for working hours); the next rounds, one acknowledge-SLA period apart,
    # re-page the on-call engineer.
    assert [(e.occurred_at.astimezone(LONDON).strftime("%a %H:%M"), e.data["level"], e.data["page"]) for e in escalated(incident)] == [
        ("Mon 09:00", 1, True),
        ("Mon 09:00", 2, True),
    ]
    repaged = [
        e.occurred_at.astimezone(LONDON).strftime("%a %H:%M")
        for e in incident.timeline.filter(kind=Kind.ACK_SLA_BREACHED).order_by("occurred_at")
        if e.data["targets"]
    ]
    assert repaged == ["Mon 10:00", "Mon 11:00"]
    assert [n.created_at.astimezone(LONDON).strftime("%a %H:%M") for n in pages_to(london["lead"])] == ["Mon 09:00"]
    assert [n.created_at.astimezone(LONDON).strftime("%a %H:%M") for n in pages_to(london["oncall"])] == [
        "Mon 09:00", "Mon 10:00", "Mon 11:00",
    ]


@pytest.mark.django_db
def test_a_breach_after_hours_re_pages_level_one_next_morning_in_new_york(london):
    team = london["policy"].team
    team.time_zone = "America/New_York"
    team.save()
    new_york = ZoneInfo("America/New_York")
    # Friday 30 October 2026 16:30 EDT; the clocks go back on Sunday 1 November.
    declared = datetime(2026, 10, 30, 16, 30, tzinfo=new_york)
    with time_machine.travel(declared, tick=False):
        incident = IncidentFactory(severity=severity("SEV-3"), services=[london["service"]])
    moment = declared
    while moment <= datetime(2026, 11, 2, 10, 0, tzinfo=new_york):
        tick_at(moment)
        moment += timedelta(minutes=15)

    stamps = [n.created_at.astimezone(new_york).strftime("%a %H:%M") for n in pages_to(london["oncall"])]
    assert stamps == ["Fri 16:30", "Mon 09:00", "Mon 10:00"]
    breach = incident.timeline.filter(kind=Kind.ACK_SLA_BREACHED).order_by("occurred_at").first()
    assert breach.message.startswith("Acknowledge SLA breached at Fri 17:30, 1 h after declaration")
    assert "level 1 · On-call engineer is business-hours only, paging at Mon 09:00" in breach.message
    assert "level 2 · Team lead is business-hours only, paging at Mon 09:00" in breach.message
    # Monday 09:00 EST: the waiting re-page and the team lead, brought in early by the breach.
    assert [(e.occurred_at.astimezone(new_york).strftime("%a %H:%M"), e.data["level"]) for e in escalated(incident)] == [
        ("Fri 16:30", 1),
        ("Mon 09:00", 2),
    ]


@pytest.mark.django_db
def test_the_preview_shows_the_wait_and_the_engine_keeps_to_it(london, client):
    declared = local(2026, 10, 24, 14, 0)
    with time_machine.travel(declared, tick=False):
        incident = IncidentFactory(severity=severity("SEV-3"), services=[london["service"]])
        levels = deadlines.policy_levels(incident.escalation_policy)
        by_position = {level.position: level for level in levels}
        steps = escalation.play_forward(
            deadlines.situation(incident, levels),
            until=declared + timedelta(days=3),
            people_at=lambda position, at: firing.level_targets(by_position[position], at),
        )
        viewer = UserFactory(manager=True, time_zone="Europe/London")
        client.force_login(viewer)
        page = client.get(reverse("admin:incidents_incident_escalation_preview", args=[incident.pk])).content.decode()
    assert "level 1 · On-call engineer is business-hours only, paged at Mon 2026-10-26 09:00" in page
    promised = [(s.at, p, sorted(u.username for u in people)) for s in steps for p, people in s.pages[len(s.firing.repage_levels):]]
    moment = declared
    while moment <= local(2026, 10, 26, 12, 0):
        tick_at(moment)
        moment += timedelta(minutes=15)
    done = [(e.occurred_at, e.data["level"], sorted(t["username"] for t in e.data["targets"])) for e in escalated(incident)]
    assert done == [p for p in promised if p[0] <= local(2026, 10, 26, 12, 0)]


@pytest.mark.django_db
def test_the_incident_page_lists_the_page_held_for_working_hours(london, client):
    declared = local(2026, 10, 24, 14, 0)
    with time_machine.travel(declared, tick=False):
        incident = IncidentFactory(severity=severity("SEV-3"), services=[london["service"]])
    tick_at(local(2026, 10, 24, 15, 0))
    held = incident.deadlines.get(kind=Deadline.Kind.ACK_TIMEOUT, level=1)
    assert held.state == "pending" and held.due_at == local(2026, 10, 26, 9, 0)
    # Level 1's own deadline is left to the held page, which engages it first.
    assert incident.deadlines.get(kind=Deadline.Kind.ESCALATION, level=1).cancelled_at is not None
    client.force_login(UserFactory(manager=True))
    page = client.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()
    assert "Acknowledge SLA (round 1): level 1, held for working hours" in page
    with time_machine.travel(local(2026, 10, 24, 15, 30), tick=False):
        actions.acknowledge(incident, actor=london["oncall"], source=ADMIN)
    held.refresh_from_db()
    assert held.cancelled_at is not None and held.note == "acknowledged"


# --- 3. The engine defends itself ----------------------------------------------------------------


@pytest.fixture
def without_bounds(db):
    """The matrix's CheckConstraints lifted for one test, as for rows written before the bounds
    existed or by hand in a database console: the engine must still behave. PostgreSQL's DDL is
    transactional, so the test's rollback puts the constraints back."""
    if connection.vendor != "postgresql":
        pytest.skip("lifting a CHECK constraint inside a test needs PostgreSQL's transactional DDL")
    with connection.cursor() as cursor:
        for model in (SeverityLevel, EscalationDelay):
            for constraint in model._meta.constraints:
                if isinstance(constraint, CheckConstraint):
                    cursor.execute(f'ALTER TABLE "{model._meta.db_table}" DROP CONSTRAINT "{constraint.name}"')


@pytest.fixture(params=[timedelta(seconds=1), timedelta(0), timedelta(minutes=-5)], ids=["1s", "0", "-5min"])
def tiny_ack_sla(request):
    """An acknowledge SLA the bounds accept (1 s), and two they refuse, written past them."""
    if request.param <= timedelta(0):
        request.getfixturevalue("without_bounds")
    return request.param


@pytest.mark.django_db
def test_a_bad_acknowledge_sla_pages_each_person_once(staff, tiny_ack_sla):
    ack_sla = tiny_ack_sla
    SeverityLevel.objects.filter(name="SEV-1").update(ack_sla=ack_sla, first_update_interval=ack_sla, update_interval=ack_sla)
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory(severity=severity("SEV-1"), actor=staff["ic"])
    for second in range(10):
        tick_at(T0 + timedelta(seconds=second))

    for user in staff.values():
        assert len({n.event_id for n in pages_to(user)}) <= 1
    assert len(pages_to(staff["oncall"])) >= 1
    assert [e.data["level"] for e in escalated(incident)] == [1]
    assert incident.timeline.filter(kind=Kind.ACK_SLA_BREACHED).count() == 0
    # The next round is a minute after declaration at the earliest, never at once.
    pending = incident.deadlines.get(kind=Deadline.Kind.ACK_TIMEOUT, fired_at=None, cancelled_at=None)
    assert pending.due_at == T0 + timedelta(minutes=1)


@pytest.mark.django_db
def test_a_deadline_planned_in_the_past_fires_once(staff, without_bounds):
    policy = EscalationPolicy.objects.get(is_default=True)
    EscalationDelay.objects.filter(level__policy=policy, level__position=2, severity_rank=1).update(delay=timedelta(minutes=-5))
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory(severity=severity("SEV-1"), actor=staff["ic"])
    for second in range(10):
        tick_at(T0 + timedelta(seconds=second))
    assert sorted(e.data["level"] for e in escalated(incident)) == [1, 2]
    assert len({n.event_id for n in pages_to(staff["lead"])}) == 1


@pytest.mark.django_db
def test_nobody_is_paged_twice_within_a_minute(staff):
    policy = EscalationPolicy.objects.get(is_default=True)
    # The on-call engineer is also the team lead, and level 2 is due at once.
    policy.levels.get(position=2).users.set([staff["oncall"]])
    EscalationDelay.objects.filter(level__policy=policy, level__position=2, severity_rank=1).update(delay=timedelta(0))
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory(severity=severity("SEV-1"), actor=staff["ic"])
    for second in range(0, 50, 5):
        tick_at(T0 + timedelta(seconds=second))

    assert len({n.event_id for n in pages_to(staff["oncall"])}) == 1
    level_two = escalated(incident)[1]
    assert level_two.data["targets"] == [] and [t["username"] for t in level_two.data["skipped"]] == ["bob"]
    assert level_two.message == (
        "Escalated to level 2 · Team lead (on schedule): paging nobody; "
        "Bob Okafor paged less than a minute ago, not paged again"
    )


# --- 4. Paged people become participants ----------------------------------------------------------


@pytest.mark.django_db
def test_the_on_call_person_paged_for_a_restricted_incident_can_open_it(staff, client):
    cache.clear()
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory(severity=severity("SEV-2"), incident_type=incident_type("security"), actor=staff["ic"])
    assert incident.is_restricted
    bob = staff["oncall"]
    client.force_login(bob)
    admin_url = reverse("admin:incidents_incident_change", args=[incident.pk])
    api_url = f"/api/v1/incidents/{incident.reference}"
    headers = auth(bob, "read")
    assert client.get(admin_url).status_code == 404
    assert client.get(api_url, **headers).status_code == 404
    assert chat.execute(chat.parse(f"status {incident.reference}"), bob).text == f"No incident {incident.reference}."

    tick_at(T0)

    assert [len(n.ack_code) for n in pages_to(bob)] == [6]
    assert client.get(admin_url).status_code == 200
    response = client.get(api_url, **headers)
    assert response.status_code == 200 and response.json()["reference"] == incident.reference
    # ...and from chat, where he acknowledges it.
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        reply = chat.execute(chat.parse(f"ack {incident.reference}"), bob)
    assert reply.ok and "acknowledged" in reply.text
    incident.refresh_from_db()
    assert incident.acknowledged_at == T0 + timedelta(minutes=1)
    joined = incident.participants.get(user=bob, left_at=None)
    assert joined.role == Participant.Role.RESPONDER and joined.joined_at == T0
    event = incident.timeline.get(kind=Kind.ROLE_ASSIGNED)
    assert event.message == "Bob Okafor joins as responder (paged)" and event.data["users"] == ["bob"]


@pytest.mark.django_db
def test_informed_managers_join_too_but_current_participants_are_not_added_twice(staff):
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory(severity=severity("SEV-1"), actor=staff["ic"], commander=staff["ic"])
        actions.assign_role(incident, staff["lead"], Participant.Role.SUBJECT_MATTER_EXPERT, actor=staff["ic"], source=ADMIN)
    tick_at(T0)
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        actions.acknowledge(incident, actor=staff["oncall"], source=ADMIN)
    for minute in range(2, 31):
        tick_at(T0 + timedelta(minutes=minute))
    current = {(p.user.username, p.role) for p in incident.participants.filter(left_at=None).select_related("user")}
    assert ("bob", "responder") in current and ("em", "responder") in current
    assert ("lead", "responder") not in current  # already takes part as subject-matter expert
    assert [e.message for e in incident.timeline.filter(kind=Kind.ROLE_ASSIGNED).order_by("pk")][-1] == (
        "Erin Moss joins as responder (informed)"
    )


@pytest.mark.django_db
def test_drills_add_nobody(staff):
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory(severity=severity("SEV-1"), actor=staff["ic"], is_drill=True)
    tick_at(T0)
    assert not incident.participants.filter(user=staff["oncall"]).exists()


@pytest.mark.django_db
def test_a_batch_adds_participants_in_a_fixed_number_of_statements(staff):
    def firing_queries(count: int, at) -> int:
        with time_machine.travel(at, tick=False):
            engine.tick()  # what earlier incidents had due
            for _ in range(count):
                IncidentFactory(severity=severity("SEV-1"), actor=staff["ic"])
            with CaptureQueriesContext(connection) as queries:
                engine.tick()
        return len(queries)

    few = firing_queries(2, T0)
    many = firing_queries(12, T0 + timedelta(hours=2))
    assert few == many
    assert Participant.objects.filter(user=staff["oncall"], left_at=None).count() == 14


@pytest.mark.django_db
def test_raising_the_severity_releases_a_page_held_for_working_hours(london):
    # SEV-2 cells of this policy are round the clock.
    for level, delay in ((1, timedelta(0)), (2, timedelta(hours=1))):
        EscalationDelayFactory(level=london["policy"].levels.get(position=level), severity_rank=2, delay=delay)
    declared = local(2026, 10, 24, 14, 0)
    with time_machine.travel(declared, tick=False):
        incident = IncidentFactory(severity=severity("SEV-3"), services=[london["service"]])
    tick_at(local(2026, 10, 24, 15, 0))
    assert not Notification.objects.filter(is_page=True).exists()
    with time_machine.travel(local(2026, 10, 24, 15, 10), tick=False):
        actions.change_severity(incident, severity("SEV-2"), actor=london["lead"], source=ADMIN)
    tick_at(local(2026, 10, 24, 15, 10, 5))
    assert [n.created_at for n in pages_to(london["oncall"])] == [local(2026, 10, 24, 15, 10, 5)]
