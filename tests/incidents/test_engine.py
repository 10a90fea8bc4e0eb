"""The deadline engine on the default matrix, driven by time-machine.

Default policy (oncall/seed.py): level 1 on-call engineer, 2 team lead, 3 engineering
manager, 4 director; SEV-1 delays 0 / 15 min / 30 min / 1 h, acknowledge SLA 5 min, three
re-paging rounds.
"""

from datetime import timedelta

import pytest
import time_machine

from incidents import actions, engine, firing
from incidents.models import Deadline, EngineHeartbeat, Source, TimelineEvent
from oncall.models import EscalationPolicy
from tests.incidents.engine_clock import T0
from tests.incidents.factories import IncidentFactory, ServiceFactory, severity
from tests.oncall.factories import UserFactory, staff_default_policy

Kind = TimelineEvent.Kind
ADMIN = Source.ADMIN


@pytest.fixture
def people(db):
    """One person per level of the default policy."""
    staff = {username: UserFactory(username=username) for username in ["oncall", "lead", "em", "director"]}
    staff_default_policy(*staff.values())
    return staff


def run_at(moment, times=1):
    with time_machine.travel(moment, tick=False):
        for _ in range(times):
            engine.tick()


def escalations(incident) -> list[tuple[int, timedelta, list[str]]]:
    """(level, minutes after declaration, usernames paged) for every engagement, in order."""
    rows = incident.timeline.filter(kind=Kind.ESCALATED).order_by("occurred_at", "pk")
    return [
        (e.data["level"], e.occurred_at - incident.declared_at, [t["username"] for t in e.data["targets"]])
        for e in rows
    ]


def repages(incident) -> list[timedelta]:
    rows = incident.timeline.filter(kind=Kind.ACK_SLA_BREACHED).order_by("occurred_at")
    return [e.occurred_at - incident.declared_at for e in rows]


def minutes(*values):
    return [timedelta(minutes=v) for v in values]


def declare_at(moment, sev="SEV-1", **kwargs):
    with time_machine.travel(moment, tick=False):
        return IncidentFactory(severity=severity(sev), **kwargs)


@pytest.mark.django_db
def test_unacknowledged_sev1_walks_the_whole_matrix(people):
    incident = declare_at(T0)
    for minute in range(0, 70):
        run_at(T0 + timedelta(minutes=minute))

    assert escalations(incident) == [
        (1, timedelta(0), ["oncall"]),
        (2, timedelta(minutes=5), ["lead"]),  # acknowledge SLA breached: level 2 early
        (3, timedelta(minutes=10), ["em"]),
        (4, timedelta(minutes=15), ["director"]),
    ]
    # Level 1 re-paged every acknowledge-SLA period, up to the policy's loop count (3).
    assert repages(incident) == minutes(5, 10, 15)
    breach = incident.timeline.filter(kind=Kind.ACK_SLA_BREACHED).order_by("occurred_at").first()
    assert [t["username"] for t in breach.data["targets"]] == ["oncall"]
    assert breach.message == (
        "Not acknowledged 5 min after declaration (SEV-1 acknowledge SLA: 5 min): "
        f"paging level 1 again ({people['oncall']}), round 1 of 3"
    )
    # Nothing is left pending but the resolve target, which fired at 1 h.
    assert not incident.deadlines.filter(fired_at=None, cancelled_at=None).exists()
    assert incident.timeline.filter(kind=Kind.RESOLVE_TARGET_BREACHED).count() == 1


@pytest.mark.django_db
def test_acknowledged_sev1_still_escalates_on_the_matrix(people):
    incident = declare_at(T0)
    run_at(T0)
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        actions.acknowledge(incident, actor=people["oncall"], source=Source.CHAT)
    for minute in range(2, 70):
        run_at(T0 + timedelta(minutes=minute))

    assert [(level, at) for level, at, _ in escalations(incident)] == [
        (1, timedelta(0)),
        (2, timedelta(minutes=15)),
        (3, timedelta(minutes=30)),
        (4, timedelta(minutes=60)),
    ]
    assert repages(incident) == []
    assert incident.deadlines.filter(kind=Deadline.Kind.ACK_TIMEOUT).get().cancelled_at is not None


@pytest.mark.django_db
def test_resolving_stops_everything(people):
    incident = declare_at(T0)
    run_at(T0)
    with time_machine.travel(T0 + timedelta(minutes=3), tick=False):
        actions.resolve(incident, actor=people["oncall"], source=ADMIN, summary="Fixed")
    for minute in range(3, 120, 7):
        run_at(T0 + timedelta(minutes=minute))

    assert [level for level, _, _ in escalations(incident)] == [1]
    assert repages(incident) == []
    assert not incident.deadlines.filter(fired_at=None, cancelled_at=None).exists()
    assert incident.timeline.filter(kind__in=[Kind.UPDATE_OVERDUE, Kind.RESOLVE_TARGET_BREACHED]).count() == 0


@pytest.mark.django_db
def test_raising_sev3_to_sev1_engages_every_level_whose_delay_has_passed(people):
    incident = declare_at(T0, sev="SEV-3")
    run_at(T0)
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        actions.acknowledge(incident, actor=people["oncall"], source=ADMIN)
    for minute in range(0, 20):
        run_at(T0 + timedelta(minutes=minute))
    assert [level for level, _, _ in escalations(incident)] == [1]  # SEV-3: lead only after 4 h

    raised = T0 + timedelta(minutes=20)
    with time_machine.travel(raised, tick=False):
        actions.change_severity(incident, severity("SEV-1"), actor=people["oncall"], source=ADMIN)
    run_at(raised + timedelta(seconds=5))
    assert [(level, at) for level, at, _ in escalations(incident)] == [
        (1, timedelta(0)),
        (2, timedelta(minutes=20, seconds=5)),  # SEV-1's 15 min has passed: at once
    ]
    for minute in range(21, 31):
        run_at(T0 + timedelta(minutes=minute))
    assert [level for level, _, _ in escalations(incident)] == [1, 2, 3]  # SEV-1's 30 min


@pytest.mark.django_db
def test_an_update_overdue_reminds_the_commander_then_the_manager(people):
    ic = UserFactory(username="ic")
    service = ServiceFactory(owning_team__manager=UserFactory(username="boss"))
    incident = declare_at(T0, sev="SEV-2", commander=ic, services=[service])
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        actions.acknowledge(incident, actor=ic, source=ADMIN)
    for minute in range(0, 31):
        run_at(T0 + timedelta(minutes=minute))

    reminders = list(incident.timeline.filter(kind=Kind.UPDATE_OVERDUE).order_by("occurred_at"))
    # SEV-2: first update due at 15 min; the second miss 15 min after the first reminder.
    assert [(r.occurred_at - T0, [t["username"] for t in r.data["targets"]]) for r in reminders] == [
        (timedelta(minutes=15), ["ic"]),
        (timedelta(minutes=30), ["boss"]),
    ]
    # Posting an update starts the cadence again from it: 30 min later for SEV-2.
    with time_machine.travel(T0 + timedelta(minutes=31), tick=False):
        actions.post_update(incident, "Mitigation in progress", actor=ic, source=ADMIN)
    run_at(T0 + timedelta(minutes=60))
    assert incident.timeline.filter(kind=Kind.UPDATE_OVERDUE).count() == 2
    run_at(T0 + timedelta(minutes=61, seconds=1))
    assert incident.timeline.filter(kind=Kind.UPDATE_OVERDUE).count() == 3


@pytest.mark.django_db
def test_a_level_with_nobody_says_so_and_escalates_at_once(people):
    policy = EscalationPolicy.objects.get(is_default=True)
    policy.levels.get(position=1).users.clear()
    incident = declare_at(T0)
    run_at(T0)

    nobody = incident.timeline.get(kind=Kind.NOBODY_TO_PAGE)
    assert nobody.message == "Level 1 · On-call engineer has nobody to page; escalating to level 2 · Team lead at once"
    assert escalations(incident) == [(2, timedelta(0), ["lead"])]
    assert "level 1 had nobody to page" in incident.timeline.get(kind=Kind.ESCALATED).message
    # Level 2's own deadline (15 min) is spent: it is not engaged twice.
    for minute in range(1, 20):
        run_at(T0 + timedelta(minutes=minute))
    assert [level for level, _, _ in escalations(incident)].count(2) == 1


@pytest.mark.django_db
def test_a_service_without_a_policy_uses_the_default(people):
    service = ServiceFactory(escalation_policy=None)
    incident = declare_at(T0, services=[service])
    assert incident.escalation_policy == EscalationPolicy.objects.get(is_default=True)


@pytest.mark.django_db
def test_firing_twice_pages_once(people):
    incident = declare_at(T0)
    deadline = incident.deadlines.get(kind=Deadline.Kind.ESCALATION, level=1)
    with time_machine.travel(T0, tick=False):
        firing.fire_deadline(deadline)
        firing.fire_deadline(deadline)
        engine.tick()
    assert len(escalations(incident)) == 1
    deadline.refresh_from_db()
    assert deadline.fired_at is not None and [t["username"] for t in deadline.targets] == ["oncall"]


@pytest.mark.django_db
def test_each_tick_records_its_time_and_lag(people):
    declare_at(T0)
    run_at(T0 + timedelta(seconds=3))
    beat = EngineHeartbeat.objects.get()
    assert beat.last_tick_at == T0 + timedelta(seconds=3)
    assert beat.last_fired >= 1 and beat.last_lag_seconds == pytest.approx(3, abs=0.5)
    with time_machine.travel(T0 + timedelta(seconds=10), tick=False):
        assert engine.health()["status"] == "ok"
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        assert engine.health()["status"] == "stale"


@pytest.mark.django_db
def test_drills_run_the_matrix_and_say_only_participants_are_notified(people):
    incident = declare_at(T0, is_drill=True)
    run_at(T0)
    event = incident.timeline.get(kind=Kind.ESCALATED)
    # The engine plays the drill for real; notifications keep it to its participants.
    assert event.message.endswith("(drill: only its participants are notified)")
    assert escalations(incident) == [(1, timedelta(0), ["oncall"])]


@pytest.mark.django_db
def test_the_incident_list_warns_when_the_engine_stops(client, people):
    client.force_login(UserFactory(commander=True))
    url = "/admin/incidents/incident/"
    assert "SLA engine has never ticked" in client.get(url).content.decode()
    run_at(T0)
    with time_machine.travel(T0 + timedelta(seconds=4), tick=False):
        assert 'id="engine-health"' not in client.get(url).content.decode()
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        assert "last ticked 120 s ago" in client.get(url).content.decode()


@pytest.mark.django_db
def test_a_deadline_that_fails_does_not_hold_up_the_others(people, monkeypatch, caplog):
    first, second = declare_at(T0), declare_at(T0)
    real_fire = firing._fire

    def fire_but_break_on_first(incident, row, *args, **kwargs):
        if incident.pk == first.pk:
            raise RuntimeError("boom")
        return real_fire(incident, row, *args, **kwargs)

    monkeypatch.setattr(firing, "_fire", fire_but_break_on_first)
    with time_machine.travel(T0, tick=False):
        result = engine.tick()
    assert result.failed >= 1
    assert escalations(first) == [] and len(escalations(second)) == 1
    monkeypatch.setattr(firing, "_fire", real_fire)
    run_at(T0 + timedelta(seconds=5))  # retried on the next tick
    assert len(escalations(first)) == 1 and len(escalations(second)) == 1
