"""The lifecycle table, exhaustively: every allowed and every refused step between statuses."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from incidents import actions, lifecycle
from incidents.errors import IllegalTransition
from incidents.models import Incident, Source, Status, TimelineEvent
from tests.incidents.factories import IncidentFactory, publish_postmortem

Kind = TimelineEvent.Kind
S = Status

# Written out by hand (not derived from lifecycle.TRANSITIONS) so a change to the table
# has to be a deliberate change here too. Value: the timeline event the step records.
ALLOWED = {
    (S.TRIGGERED, S.INVESTIGATING): Kind.ACKNOWLEDGED,
    (S.TRIGGERED, S.IDENTIFIED): Kind.ACKNOWLEDGED,
    (S.TRIGGERED, S.MONITORING): Kind.ACKNOWLEDGED,
    (S.TRIGGERED, S.RESOLVED): Kind.RESOLVED,
    (S.INVESTIGATING, S.IDENTIFIED): Kind.STATUS_CHANGED,
    (S.INVESTIGATING, S.MONITORING): Kind.STATUS_CHANGED,
    (S.INVESTIGATING, S.RESOLVED): Kind.RESOLVED,
    (S.IDENTIFIED, S.INVESTIGATING): Kind.STATUS_CHANGED,
    (S.IDENTIFIED, S.MONITORING): Kind.STATUS_CHANGED,
    (S.IDENTIFIED, S.RESOLVED): Kind.RESOLVED,
    (S.MONITORING, S.INVESTIGATING): Kind.STATUS_CHANGED,
    (S.MONITORING, S.IDENTIFIED): Kind.STATUS_CHANGED,
    (S.MONITORING, S.RESOLVED): Kind.RESOLVED,
    (S.RESOLVED, S.INVESTIGATING): Kind.REOPENED,
    (S.RESOLVED, S.CLOSED): Kind.CLOSED,
}
ALL_PAIRS = [(a, b) for a in Status for b in Status]


def incident_in(status: Status, user) -> Incident:
    """An incident brought to `status` the way a person would, through the actions."""
    incident = IncidentFactory(actor=user)
    act = dict(actor=user, source=Source.ADMIN)
    if status == S.TRIGGERED:
        return incident
    incident = actions.acknowledge(incident, **act)
    if status in (S.IDENTIFIED, S.MONITORING):
        incident = actions.change_status(incident, status, **act)
    if status in (S.RESOLVED, S.CLOSED):
        incident = actions.resolve(incident, **act, summary="Fixed")
        publish_postmortem(incident)  # SEV-2 closes only once its post-mortem is published
    if status == S.CLOSED:
        with time_machine.travel(timezone.now() + incident.severity.observation_period + timedelta(minutes=1)):
            incident = actions.close(incident, **act)
    return incident


def test_the_table_in_code_is_the_table_in_the_test():
    assert set(lifecycle.TRANSITIONS) == set(ALLOWED)


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_every_step_between_statuses(current, target, commander):
    incident = incident_in(current, commander)
    events_before = incident.timeline.count()
    later = timezone.now() + timedelta(days=30)  # past any observation period

    if (current, target) in ALLOWED:
        with time_machine.travel(later):
            result = actions.change_status(incident, target, actor=commander, source=Source.ADMIN, message="step")
        result.refresh_from_db()
        assert result.status == target
        new_events = list(result.timeline.all()[: result.timeline.count() - events_before])
        assert ALLOWED[(current, target)] in {e.kind for e in new_events}
        assert all(e.actor == commander for e in new_events)
        if target in (S.INVESTIGATING, S.IDENTIFIED, S.MONITORING):
            assert result.acknowledged_at is not None
        if target == S.RESOLVED:
            assert result.resolved_at is not None and result.mitigated_at is not None
        if target == S.CLOSED:
            assert result.closed_at is not None
        if (current, target) == (S.RESOLVED, S.INVESTIGATING):
            assert result.resolved_at is None
    else:
        with time_machine.travel(later), pytest.raises(IllegalTransition) as refused:
            actions.change_status(incident, target, actor=commander, source=Source.ADMIN)
        assert incident.reference in str(refused.value)
        incident.refresh_from_db()
        assert incident.status == current
        assert incident.timeline.count() == events_before


REFUSAL_MESSAGES = {
    (S.CLOSED, S.INVESTIGATING): "is closed",
    (S.RESOLVED, S.MONITORING): "reopen it first",
    (S.INVESTIGATING, S.TRIGGERED): "cannot go back to triggered",
    (S.MONITORING, S.CLOSED): "resolve it before closing",
    (S.IDENTIFIED, S.IDENTIFIED): "is already identified",
}


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "target"), list(REFUSAL_MESSAGES))
def test_refusals_say_what_to_do(current, target, commander):
    incident = incident_in(current, commander)
    with pytest.raises(IllegalTransition, match=REFUSAL_MESSAGES[(current, target)]):
        actions.change_status(incident, target, actor=commander, source=Source.ADMIN)


@pytest.mark.django_db
@pytest.mark.parametrize("current", [s for s in Status if s != S.TRIGGERED])
def test_only_a_triggered_incident_can_be_acknowledged(current, commander):
    incident = incident_in(current, commander)
    with pytest.raises(IllegalTransition):
        actions.acknowledge(incident, actor=commander, source=Source.ADMIN)
    incident.refresh_from_db()
    assert incident.status == current


@pytest.mark.django_db
@pytest.mark.parametrize("current", [s for s in Status if s != S.RESOLVED])
def test_only_a_resolved_incident_can_be_reopened_or_closed(current, commander):
    incident = incident_in(current, commander)
    with pytest.raises(IllegalTransition):
        actions.reopen(incident, actor=commander, source=Source.ADMIN, reason="It is back")
    with pytest.raises(IllegalTransition):
        actions.close(incident, actor=commander, source=Source.ADMIN)
    incident.refresh_from_db()
    assert incident.status == current


@pytest.mark.django_db
@pytest.mark.parametrize("current", [S.RESOLVED, S.CLOSED])
def test_a_finished_incident_cannot_be_resolved_again(current, commander):
    incident = incident_in(current, commander)
    with pytest.raises(IllegalTransition):
        actions.resolve(incident, actor=commander, source=Source.ADMIN, summary="Fixed")
