"""SLA state as the operator sees it: on time, due soon, breached — against the current severity."""

from datetime import timedelta

import pytest
import time_machine

from incidents import actions, sla
from incidents.models import Source
from incidents.selectors import last_update_at
from tests.incidents.factories import IncidentFactory, severity

ADMIN = Source.ADMIN


def state_at(incident, moment):
    incident.refresh_from_db()
    return sla.summary(incident, now=moment, last_update_at=last_update_at(incident))


@pytest.mark.django_db
def test_unacknowledged_sev1_goes_from_on_time_to_due_soon_to_breached(commander):
    incident = IncidentFactory(actor=commander, severity=severity("SEV-1"))
    t0 = incident.declared_at
    # SEV-1: acknowledge and first update both due in 5 minutes; due soon in the last quarter.
    assert state_at(incident, t0 + timedelta(minutes=1)).label == "on time: acknowledge"
    assert state_at(incident, t0 + timedelta(minutes=4)).state is sla.SlaState.DUE_SOON
    late = state_at(incident, t0 + timedelta(minutes=6))
    assert late.state is sla.SlaState.BREACHED and late.target.name == "acknowledge"


@pytest.mark.django_db
def test_posting_updates_keeps_the_update_cadence_on_time(commander):
    incident = IncidentFactory(actor=commander, severity=severity("SEV-2"))
    t0 = incident.declared_at
    with time_machine.travel(t0 + timedelta(minutes=2)):
        actions.acknowledge(incident, actor=commander, source=ADMIN)
    # First update due 15 min after declaration.
    assert state_at(incident, t0 + timedelta(minutes=16)).label == "breached: status update"
    with time_machine.travel(t0 + timedelta(minutes=14)):
        actions.post_update(incident, "Investigating elevated errors", actor=commander, source=ADMIN)
    # Then every 30 minutes after the last one.
    assert state_at(incident, t0 + timedelta(minutes=16)).state is sla.SlaState.ON_TIME
    assert state_at(incident, t0 + timedelta(minutes=45)).label == "breached: status update"


@pytest.mark.django_db
def test_severity_change_reprices_every_target_from_declaration(commander):
    incident = IncidentFactory(actor=commander, severity=severity("SEV-3"))
    t0 = incident.declared_at
    assert state_at(incident, t0 + timedelta(minutes=10)).state is sla.SlaState.ON_TIME
    actions.change_severity(incident, severity("SEV-1"), actor=commander, source=ADMIN)
    assert state_at(incident, t0 + timedelta(minutes=10)).label == "breached: acknowledge"


@pytest.mark.django_db
def test_a_24h_target_is_not_due_soon_for_hours(commander):
    incident = IncidentFactory(actor=commander, severity=severity("SEV-4"))
    t0 = incident.declared_at
    actions.acknowledge(incident, actor=commander, source=ADMIN)
    actions.post_update(incident, "Looking at it tomorrow", actor=commander, source=ADMIN)
    assert state_at(incident, t0 + timedelta(hours=20)).state is sla.SlaState.ON_TIME
    assert state_at(incident, t0 + timedelta(hours=23, minutes=40)).state is sla.SlaState.DUE_SOON


@pytest.mark.django_db
def test_resolved_incidents_report_whether_targets_were_met(commander):
    fast = IncidentFactory(actor=commander, severity=severity("SEV-2"))
    actions.acknowledge(fast, actor=commander, source=ADMIN)
    actions.resolve(fast, actor=commander, source=ADMIN, summary="Fixed")
    met = state_at(fast, fast.declared_at + timedelta(days=3))
    assert met.state is sla.SlaState.ON_TIME and met.label == "all targets met"

    slow = IncidentFactory(actor=commander, severity=severity("SEV-1"))
    with time_machine.travel(slow.declared_at + timedelta(minutes=30)):
        actions.acknowledge(slow, actor=commander, source=ADMIN)
    with time_machine.travel(slow.declared_at + timedelta(minutes=50)):
        actions.resolve(slow, actor=commander, source=ADMIN, summary="Fixed")
    summary = state_at(slow, slow.declared_at + timedelta(days=3))
    assert summary.label == "breached: acknowledge"
