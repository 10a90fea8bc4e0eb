"""Overdue-update reminders name the cadence that was missed: the first update has its own
interval, counted from declaration; later updates theirs, counted from the last one (SEV-1: the
first within 5 min, then every 15 min). Driven by the engine's tick under time-machine and read
from the outbox, as the commander receives them."""

import datetime as dt

import pytest
import time_machine

from comms.models import Channel, MessageKind, Notification
from incidents import actions, engine
from incidents.models import Source
from tests.comms.delivery import dispatch_all
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import UserFactory

pytestmark = pytest.mark.django_db

DECLARED = dt.datetime(2026, 11, 22, 14, 0, tzinfo=dt.UTC)


def at(minutes: int):
    return time_machine.travel(DECLARED + dt.timedelta(minutes=minutes), tick=False)


def tick(minutes: int) -> None:
    with at(minutes):
        engine.tick()
        dispatch_all()


def reminders(person) -> list[Notification]:
    return list(
        Notification.objects.filter(recipient=person, kind=MessageKind.UPDATE_OVERDUE, channel=Channel.EMAIL).order_by("pk")
    )


@pytest.fixture
def commander(db):
    ic = UserFactory(username="ic", first_name="Ines", last_name="Cole", email="ic@example.com", time_zone="Europe/London")
    UserFactory(username="declarer")
    return ic


def test_a_missed_first_update_names_the_first_update_cadence(commander):
    with at(0):
        incident = IncidentFactory(severity=severity("SEV-1"), commander=commander, acknowledged=True)
        dispatch_all()

    tick(4)
    assert reminders(commander) == []
    tick(5)

    [email] = reminders(commander)
    assert email.subject == f"Status update overdue: {incident.reference} – {incident.title}"
    assert "The first update on SEV-1 incidents is due within 5 min of declaration. Stakeholders are waiting." in email.body
    assert "every 15 min" not in email.body and "every 5 min" not in email.body
    assert "SEV-1 expects the first update within 5 min of declaration" in email.body  # the timeline's words agree


def test_a_missed_later_update_names_the_update_cadence_and_the_last_update(commander):
    with at(0):
        incident = IncidentFactory(severity=severity("SEV-1"), commander=commander, acknowledged=True)
    with at(3):
        actions.post_update(incident, "Rolling back the deploy.", actor=commander, source=Source.ADMIN)
        dispatch_all()

    tick(17)
    assert reminders(commander) == []
    tick(18)  # 15 min after the update at 14:03

    [email] = reminders(commander)
    # The commander reads the last update's time in their own zone (London: GMT in November).
    assert (
        "SEV-1 incidents need an update every 15 min; the last one was at 22 Nov 2026 14:03 GMT. Stakeholders are waiting."
        in email.body
    )
    assert "first update" not in email.body.lower() and "within 5 min" not in email.body


def test_after_a_reopen_the_reminder_counts_from_the_reopen(commander):
    with at(0):
        incident = IncidentFactory(severity=severity("SEV-1"), commander=commander, acknowledged=True)
    with at(2):
        actions.post_update(incident, "Rolling back.", actor=commander, source=Source.ADMIN)
    with at(4):
        actions.resolve(incident, actor=commander, source=Source.ADMIN, summary="Rolled back the deploy.")
    with at(30):
        actions.reopen(incident, actor=commander, source=Source.ADMIN, reason="Errors again")
        dispatch_all()

    tick(45)

    [email] = reminders(commander)
    assert "SEV-1 incidents need an update every 15 min; none since the reopen at 22 Nov 2026 14:30 GMT." in email.body
