"""The actions: what each one writes, what it records on the timeline, and what it refuses."""

from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from incidents import actions, timeline
from incidents.errors import IllegalTransition, InvalidInput
from incidents.models import Incident, Participant, Source, Status, TimelineEvent
from incidents.selectors import visible_incidents
from tests.concurrency import all_at_once
from tests.incidents.factories import IncidentFactory, ServiceFactory, incident_type, publish_postmortem, severity
from tests.oncall.factories import UserFactory

Kind = TimelineEvent.Kind
Role = Participant.Role
ADMIN = Source.ADMIN


def kinds(incident) -> list[str]:
    """Timeline kinds, oldest first."""
    return list(incident.timeline.order_by("occurred_at", "pk").values_list("kind", flat=True))


# --- declare --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_declare_opens_a_numbered_incident_with_its_checklist_and_commander(commander, service):
    incident = actions.declare(
        title="  Checkout returns 502  ",
        severity=severity("SEV-2"),
        incident_type=incident_type("availability"),
        services=[service],
        commander=commander,
        actor=commander,
        source=ADMIN,
    )
    second = IncidentFactory(actor=commander)

    assert incident.reference == f"INC-{incident.number}"
    assert second.number == incident.number + 1
    assert incident.title == "Checkout returns 502"
    assert incident.status == Status.TRIGGERED
    assert incident.declared_at is not None and incident.acknowledged_at is None
    assert list(incident.services.all()) == [service]
    assert [t.title for t in incident.tasks.all()] == incident_type("availability").checklist
    assert incident.participants.get(left_at=None).role == Role.COMMANDER
    assert kinds(incident) == [Kind.DECLARED, Kind.ROLE_ASSIGNED]
    declared = incident.timeline.get(kind=Kind.DECLARED)
    assert declared.actor == commander and declared.source == ADMIN
    assert "SEV-2" in declared.message and "Checkout returns 502" in declared.message
    assert str(incident) == f"INC-{incident.number} · SEV-2 · Checkout returns 502"


@pytest.mark.django_db
def test_declare_derives_visibility_flags(commander):
    public_service = ServiceFactory(customer_facing=True)
    internal_service = ServiceFactory(customer_facing=False)

    outage = IncidentFactory(actor=commander, services=[public_service], severity=severity("SEV-1"))
    assert outage.customer_facing and outage.public_on_status_page and not outage.is_restricted

    minor = IncidentFactory(actor=commander, services=[public_service], severity=severity("SEV-4"))
    assert minor.customer_facing and not minor.public_on_status_page  # SEV-4 stays off the status page

    internal = IncidentFactory(actor=commander, services=[internal_service], severity=severity("SEV-1"))
    assert not internal.customer_facing and not internal.public_on_status_page

    breach = IncidentFactory(actor=commander, services=[public_service], incident_type=incident_type("security"))
    assert breach.is_restricted and not breach.public_on_status_page

    drill = IncidentFactory(actor=commander, services=[public_service], is_drill=True)
    assert drill.is_drill and not drill.public_on_status_page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"title": "   "}, "title cannot be empty"),
        ({"title": "x" * 201}, "limit is 200"),
        ({"detected_at": "future"}, "in the future"),
        ({"origin": "carrier pigeon"}, "Unknown source"),
    ],
)
def test_declare_refuses_bad_input_and_writes_nothing(commander, kwargs, message):
    if kwargs.get("detected_at") == "future":
        kwargs["detected_at"] = timezone.now() + timedelta(hours=1)
    with pytest.raises(InvalidInput, match=message):
        actions.declare(
            **{"title": "Fine", "severity": severity("SEV-3"), "actor": commander, "source": ADMIN, **kwargs}
        )
    assert Incident.objects.count() == 0
    assert TimelineEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_concurrent_declarations_get_distinct_sequential_numbers():
    user = UserFactory(commander=True)
    sev = severity("SEV-3")

    def declare() -> int:
        return actions.declare(title="Flood", severity=sev, actor=user, source=Source.API).number

    numbers, errors = all_at_once(declare, threads=6)
    assert errors == []
    assert sorted(numbers) == list(range(1, 7))


@pytest.mark.django_db
def test_the_declarer_joins_the_response_and_keeps_seeing_a_restricted_incident(responder):
    incident = actions.declare(
        title="Suspicious admin logins", severity=severity("SEV-2"), incident_type=incident_type("security"),
        actor=responder, source=ADMIN,
    )
    assert incident.is_restricted
    assert incident.participants.get(user=responder, left_at=None).role == Role.RESPONDER
    assert list(visible_incidents(responder)) == [incident]


# --- acknowledge, status, severity ----------------------------------------------------------------


@pytest.mark.django_db
def test_acknowledge_stamps_time_and_adds_the_responder(incident, responder):
    with time_machine.travel(incident.declared_at + timedelta(minutes=3)):
        incident = actions.acknowledge(incident, actor=responder, source=Source.CHAT)
    assert incident.status == Status.INVESTIGATING
    assert incident.time_to_acknowledge == timedelta(minutes=3)
    assert incident.participants.filter(user=responder, role=Role.RESPONDER, left_at=None).exists()
    event = incident.timeline.get(kind=Kind.ACKNOWLEDGED)
    assert event.source == Source.CHAT and event.data["seconds_to_acknowledge"] == 180

    with pytest.raises(IllegalTransition, match="already acknowledged"):
        actions.acknowledge(incident, actor=responder, source=ADMIN)


@pytest.mark.django_db
def test_moving_to_monitoring_stamps_mitigation_once(incident, commander):
    incident = actions.acknowledge(incident, actor=commander, source=ADMIN)
    incident = actions.change_status(incident, Status.MONITORING, actor=commander, source=ADMIN, message="Rolled back")
    first_mitigation = incident.mitigated_at
    assert first_mitigation is not None
    incident = actions.change_status(incident, Status.INVESTIGATING, actor=commander, source=ADMIN)
    incident = actions.change_status(incident, Status.MONITORING, actor=commander, source=ADMIN)
    assert incident.mitigated_at == first_mitigation
    assert "Status investigating → monitoring: Rolled back" in incident.timeline.filter(kind=Kind.STATUS_CHANGED).last().message


@pytest.mark.django_db
def test_mitigate_moves_to_monitoring_and_keeps_every_how(incident, commander):
    incident = actions.acknowledge(incident, actor=commander, source=ADMIN)
    before = kinds(incident)
    incident = actions.mitigate(incident, "  Rolled back 1234 ", mitigation="rollback", actor=commander, source=Source.CHAT)
    assert incident.status == Status.MONITORING and incident.mitigated_at is not None
    assert incident.mitigation == "rollback" and incident.mitigation_notes == "Rolled back 1234"
    assert kinds(incident) == before + [Kind.STATUS_CHANGED]
    assert incident.timeline.order_by("occurred_at", "pk").last().message == (
        "Status investigating → monitoring: mitigated — Rolled back 1234"
    )
    first = incident.mitigated_at
    with pytest.raises(IllegalTransition, match="already monitoring"):
        actions.mitigate(incident, "again", actor=commander, source=ADMIN)
    incident = actions.change_status(incident, Status.INVESTIGATING, actor=commander, source=ADMIN)
    incident = actions.mitigate(incident, "Failed over to eu-west-2", actor=commander, source=ADMIN)
    incident.refresh_from_db()
    assert incident.mitigation_notes == "Rolled back 1234\nFailed over to eu-west-2"
    assert incident.mitigation == "rollback" and incident.mitigated_at == first


@pytest.mark.django_db
def test_mitigate_refuses_empty_words_unknown_kinds_and_resolved_incidents(incident, commander):
    with pytest.raises(InvalidInput, match="cannot be empty"):
        actions.mitigate(incident, "  ", actor=commander, source=ADMIN)
    with pytest.raises(InvalidInput, match="Unknown mitigation"):
        actions.mitigate(incident, "prayed", mitigation="prayer", actor=commander, source=ADMIN)
    resolved = IncidentFactory(actor=commander, resolved=True)
    with pytest.raises(IllegalTransition, match="reopen it first"):
        actions.mitigate(resolved, "rolled back", actor=commander, source=ADMIN)
    assert Incident.objects.get(pk=incident.pk).status == Status.TRIGGERED


@pytest.mark.django_db
def test_change_status_rejects_unknown_status(incident, commander):
    with pytest.raises(InvalidInput, match="Unknown status"):
        actions.change_status(incident, "on fire", actor=commander, source=ADMIN)


@pytest.mark.django_db
def test_change_severity_records_direction_and_reason(incident, commander):
    incident = actions.change_severity(incident, severity("SEV-1"), actor=commander, source=ADMIN, reason="All regions")
    assert incident.severity.name == "SEV-1"
    event = incident.timeline.get(kind=Kind.SEVERITY_CHANGED)
    assert event.message == "Severity escalated SEV-2 → SEV-1: All regions"
    incident = actions.change_severity(incident, severity("SEV-3"), actor=commander, source=ADMIN)
    assert incident.timeline.filter(kind=Kind.SEVERITY_CHANGED).first().message == "Severity downgraded SEV-1 → SEV-3"

    with pytest.raises(InvalidInput, match="already SEV-3"):
        actions.change_severity(incident, severity("SEV-3"), actor=commander, source=ADMIN)


@pytest.mark.django_db
def test_a_closed_incident_refuses_changes(commander):
    incident = IncidentFactory(actor=commander, severity=severity("SEV-4"), closed=True)
    attempts = [
        lambda: actions.change_severity(incident, severity("SEV-1"), actor=commander, source=ADMIN),
        lambda: actions.assign_role(incident, commander, Role.SCRIBE, actor=commander, source=ADMIN),
        lambda: actions.post_update(incident, "Still fine", actor=commander, source=ADMIN),
        lambda: actions.update_details(incident, actor=commander, source=ADMIN, title="New"),
        lambda: actions.add_task(incident, "More work", actor=commander, source=ADMIN),
        lambda: actions.add_note(incident, "Late thought", actor=commander, source=ADMIN),
        lambda: actions.add_evidence(incident, "https://logs.example.com/x", actor=commander, source=ADMIN),
    ]
    for attempt in attempts:
        with pytest.raises(IllegalTransition, match="is closed"):
            attempt()
    incident.refresh_from_db()
    assert incident.severity.name == "SEV-4" and incident.title.startswith("Incident")


# --- roles ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_assigning_a_commander_hands_command_over(incident, commander):
    successor = UserFactory(username="successor", commander=True)
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        actions.assign_role(incident, successor, Role.COMMANDER, actor=commander, source=ADMIN)

    current = incident.participants.filter(role=Role.COMMANDER, left_at=None)
    assert [p.user for p in current] == [successor]
    previous = incident.participants.get(role=Role.COMMANDER, user=commander)
    assert previous.left_at is not None and previous.left_at > previous.joined_at
    event = incident.timeline.filter(kind=Kind.ROLE_ASSIGNED).first()
    assert f"{successor} is now incident commander, taking over from {commander}" == event.message


@pytest.mark.django_db
def test_database_refuses_two_current_commanders(incident):
    other = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.create(incident=incident, user=other, role=Role.COMMANDER, joined_at=timezone.now())


@pytest.mark.django_db
def test_many_experts_one_scribe(incident, commander):
    experts = [UserFactory() for _ in range(3)]
    for expert in experts:
        actions.assign_role(incident, expert, Role.SUBJECT_MATTER_EXPERT, actor=commander, source=ADMIN)
    assert incident.participants.filter(role=Role.SUBJECT_MATTER_EXPERT, left_at=None).count() == 3

    actions.assign_role(incident, experts[0], Role.SCRIBE, actor=commander, source=ADMIN)
    actions.assign_role(incident, experts[1], Role.SCRIBE, actor=commander, source=ADMIN)
    assert [p.user for p in incident.participants.filter(role=Role.SCRIBE, left_at=None)] == [experts[1]]

    with pytest.raises(InvalidInput, match="already subject-matter expert"):
        actions.assign_role(incident, experts[2], Role.SUBJECT_MATTER_EXPERT, actor=commander, source=ADMIN)


@pytest.mark.django_db
def test_assign_role_refuses_unknown_roles_and_inactive_people(incident, commander):
    gone = UserFactory(is_active=False)
    with pytest.raises(InvalidInput, match="not an active user"):
        actions.assign_role(incident, gone, Role.SCRIBE, actor=commander, source=ADMIN)
    with pytest.raises(InvalidInput, match="Unknown role"):
        actions.assign_role(incident, commander, "hero", actor=commander, source=ADMIN)
    assert not incident.participants.filter(user=gone).exists()


@pytest.mark.django_db
def test_release_role_keeps_the_history(incident, commander):
    expert = UserFactory()
    participant = actions.assign_role(incident, expert, Role.SUBJECT_MATTER_EXPERT, actor=commander, source=ADMIN)
    actions.release_role(participant, actor=commander, source=ADMIN)
    participant.refresh_from_db()
    assert participant.left_at is not None
    assert incident.timeline.first().message == f"{expert} is no longer subject-matter expert"
    with pytest.raises(InvalidInput, match="already left"):
        actions.release_role(participant, actor=commander, source=ADMIN)


# --- notes and updates -------------------------------------------------------------------------


@pytest.mark.django_db
def test_notes_and_updates_land_on_the_timeline_with_their_visibility(incident, commander):
    actions.add_note(incident, "Error rate spiked at 14:02 after deploy 4512", actor=commander, source=ADMIN)
    actions.post_update(incident, "Engineers are investigating", actor=commander, source=ADMIN)
    actions.post_update(
        incident, "We are seeing failed checkouts", actor=commander, source=ADMIN, visibility="external"
    )
    rows = list(incident.timeline.filter(kind__in=[Kind.NOTE, Kind.STATUS_UPDATE]).order_by("pk"))
    assert [(r.kind, r.visibility, r.message) for r in rows] == [
        (Kind.NOTE, "internal", "Error rate spiked at 14:02 after deploy 4512"),
        (Kind.STATUS_UPDATE, "internal", "Engineers are investigating"),
        (Kind.STATUS_UPDATE, "external", "We are seeing failed checkouts"),
    ]
    with pytest.raises(InvalidInput, match="note cannot be empty"):
        actions.add_note(incident, "  ", actor=commander, source=ADMIN)
    with pytest.raises(InvalidInput, match="visibility"):
        actions.post_update(incident, "x", actor=commander, source=ADMIN, visibility="everyone")


@pytest.mark.django_db
def test_an_update_can_move_the_status(incident, commander):
    incident = actions.post_update(
        incident, "Cause found: bad config push", actor=commander, source=ADMIN, visibility="external", status="identified"
    )
    assert incident.status == Status.IDENTIFIED and incident.acknowledged_at is not None
    assert kinds(incident)[-3:] == [Kind.ACKNOWLEDGED, Kind.STATUS_CHANGED, Kind.STATUS_UPDATE]
    with pytest.raises(IllegalTransition, match="Use resolve"):
        actions.post_update(incident, "Done", actor=commander, source=ADMIN, status="resolved")
    assert Incident.objects.get(pk=incident.pk).status == Status.IDENTIFIED


# --- resolve, reopen, close ------------------------------------------------------------------------


@pytest.mark.django_db
def test_resolve_reopen_resolve_keeps_the_story(incident, commander):
    start = incident.declared_at
    with time_machine.travel(start + timedelta(minutes=5)):
        incident = actions.acknowledge(incident, actor=commander, source=ADMIN)
    with time_machine.travel(start + timedelta(minutes=40)):
        incident = actions.resolve(incident, actor=commander, source=ADMIN, summary="Rolled back 4512", mitigation="rollback")
    assert incident.time_to_resolve == timedelta(minutes=40)
    assert incident.time_to_mitigate == timedelta(minutes=40)
    assert incident.mitigation == "rollback" and incident.resolution_summary == "Rolled back 4512"

    with pytest.raises(InvalidInput, match="reason for reopening"):
        actions.reopen(incident, actor=commander, source=ADMIN, reason="")
    with time_machine.travel(start + timedelta(minutes=50)):
        incident = actions.reopen(incident, actor=commander, source=ADMIN, reason="Errors are back")
    assert incident.status == Status.INVESTIGATING and incident.resolved_at is None
    with time_machine.travel(start + timedelta(minutes=90)):
        incident = actions.resolve(incident, actor=commander, source=ADMIN, summary="Fixed")
    assert incident.time_to_resolve == timedelta(minutes=90)
    assert incident.time_to_mitigate == timedelta(minutes=40)  # the first mitigation stands
    lifecycle_kinds = [k for k in kinds(incident) if k in (Kind.RESOLVED, Kind.REOPENED)]
    assert lifecycle_kinds == [Kind.RESOLVED, Kind.REOPENED, Kind.RESOLVED]


@pytest.mark.django_db
def test_reopening_an_incident_resolved_before_anyone_acknowledged_it_acknowledges_it(incident, commander):
    start = incident.declared_at
    with time_machine.travel(start + timedelta(minutes=3)):
        incident = actions.resolve(incident, actor=commander, source=ADMIN, summary="Flapping alert")
    assert incident.acknowledged_at is None
    with time_machine.travel(start + timedelta(minutes=20)):
        incident = actions.reopen(incident, actor=commander, source=ADMIN, reason="It is back")
    incident.refresh_from_db()
    assert incident.status == Status.INVESTIGATING
    assert abs(incident.acknowledged_at - (start + timedelta(minutes=20))) < timedelta(seconds=5)
    reopened = incident.timeline.get(kind=Kind.REOPENED)
    assert "reopened" in reopened.message and "acknowledged it" in reopened.message


@pytest.mark.django_db
def test_close_waits_for_the_observation_period(commander):
    incident = IncidentFactory(actor=commander, severity=severity("SEV-1"), resolved=True)
    publish_postmortem(incident)  # SEV-1 also needs its post-mortem published
    with time_machine.travel(incident.resolved_at + timedelta(hours=23)):
        with pytest.raises(IllegalTransition, match="under observation until"):
            actions.close(incident, actor=commander, source=ADMIN)
    with time_machine.travel(incident.resolved_at + timedelta(hours=24, seconds=1)):
        incident = actions.close(incident, actor=commander, source=ADMIN)
    assert incident.status == Status.CLOSED and incident.closed_at is not None


@pytest.mark.django_db
def test_sev4_closes_straight_away(commander):
    incident = IncidentFactory(actor=commander, severity=severity("SEV-4"), resolved=True)
    assert actions.close(incident, actor=commander, source=ADMIN).status == Status.CLOSED


@pytest.mark.django_db
def test_time_to_mitigate_and_resolve_count_from_detection(commander):
    detected = timezone.now() - timedelta(minutes=30)
    incident = IncidentFactory(actor=commander, detected_at=detected)
    incident = actions.resolve(incident, actor=commander, source=ADMIN, summary="Fixed")
    assert incident.time_to_resolve >= timedelta(minutes=30)
    assert incident.time_to_acknowledge is None


# --- details, tasks, evidence ------------------------------------------------------------------------


@pytest.mark.django_db
def test_update_details_records_each_changed_field(incident, commander):
    other = ServiceFactory(name="Payments Gateway")
    incident = actions.update_details(
        incident,
        actor=commander,
        source=ADMIN,
        users_affected_estimated=1200,
        regions=["eu-west-1"],
        title=incident.title,  # unchanged: not mentioned
        services=[*incident.services.all(), other],
    )
    event = incident.timeline.first()
    assert event.kind == Kind.DETAILS_CHANGED
    assert "users affected estimated: — → 1200" in event.message
    assert "regions: — → eu-west-1" in event.message
    assert "Payments Gateway" in event.message
    assert "title" not in event.data["changes"]
    assert incident.services.count() == 2

    count = incident.timeline.count()
    actions.update_details(incident, actor=commander, source=ADMIN, users_affected_estimated=1200)
    assert incident.timeline.count() == count  # nothing changed, nothing recorded


@pytest.mark.django_db
def test_recording_a_mitigation_stamps_mitigated_at(incident, commander):
    incident = actions.update_details(incident, actor=commander, source=ADMIN, mitigation="failover")
    assert incident.mitigated_at is not None and incident.mitigation == "failover"
    assert incident.timeline.first().message == "Changed mitigation: — → Failover"
    with pytest.raises(InvalidInput, match="cannot be edited here: status"):
        actions.update_details(incident, actor=commander, source=ADMIN, status="closed")
    with pytest.raises(InvalidInput, match="Unknown mitigation"):
        actions.update_details(incident, actor=commander, source=ADMIN, mitigation="prayer")


@pytest.mark.django_db
def test_tasks_are_ticked_off_through_actions(commander):
    incident = IncidentFactory(actor=commander, incident_type=incident_type("data"))
    task = incident.tasks.first()
    actions.set_task_done(task, True, actor=commander, source=ADMIN)
    task.refresh_from_db()
    assert task.is_done and task.done_by == commander
    with pytest.raises(InvalidInput, match="already done"):
        actions.set_task_done(task, True, actor=commander, source=ADMIN)
    actions.set_task_done(task, False, actor=commander, source=ADMIN)
    extra = actions.add_task(incident, "Tell the data protection officer", actor=commander, source=ADMIN)
    assert extra.position == incident.tasks.count()
    assert kinds(incident)[-3:] == [Kind.TASK_DONE, Kind.TASK_REOPENED, Kind.TASK_ADDED]


@pytest.mark.django_db
def test_evidence_links_must_be_web_links(incident, commander):
    link = actions.add_evidence(
        incident, "https://grafana.example.com/d/abc", actor=commander, source=ADMIN, kind="dashboard", title="Errors"
    )
    assert link.added_by == commander
    assert incident.timeline.first().message == "Dashboard added: Errors"
    with pytest.raises(InvalidInput, match="http"):
        actions.add_evidence(incident, "javascript:alert(1)", actor=commander, source=ADMIN)


# --- one transaction -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_action_that_fails_half_way_writes_nothing(incident, commander, monkeypatch):
    def broken_record(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(timeline, "record", broken_record)
    with pytest.raises(RuntimeError):
        actions.resolve(incident, actor=commander, source=ADMIN, summary="Done")
    incident.refresh_from_db()
    assert incident.status == Status.TRIGGERED and incident.resolved_at is None
