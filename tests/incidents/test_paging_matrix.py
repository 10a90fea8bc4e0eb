"""The default matrix, walked: for every severity, acknowledged or not, declared on a weekday
or at a weekend, the messages people receive are the ones the escalation preview promised —
message for message, at the same instants, paged or informed alike.

The preview is computed when the incident is declared (as the incident page shows it); then the
engine runs through its own tick, jumping to each pending deadline's due time (a tick at the
due instant is what the 5-second beat does, without the 5 seconds), every event is dispatched
through the outbox, and the Notification rows to the people of the matrix are compared with
the preview's steps.
"""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
import time_machine

from comms.models import MessageKind, Notification
from incidents import actions, deadlines, engine, escalation, firing
from incidents.models import Deadline, Source
from tests.comms.delivery import dispatch_all
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import UserFactory, staff_default_policy

WEEKDAY = datetime(2026, 3, 3, 10, 0, tzinfo=dt_timezone.utc)  # a Tuesday, in the default working hours
WEEKEND = datetime(2026, 3, 7, 10, 0, tzinfo=dt_timezone.utc)  # a Saturday
HORIZON = timedelta(days=4)  # past Monday's working hours and every cell short of "weekly review"
LEVEL_STAFF = ["oncall", "lead", "em", "director"]


@pytest.fixture
def staff(db):
    """The default policy (on-call engineer → team lead → engineering manager → director) with
    one person per level, and a commander who is on none of them."""
    people = {name: UserFactory(username=name) for name in [*LEVEL_STAFF, "ic"]}
    staff_default_policy(*(people[name] for name in LEVEL_STAFF))
    return people


def promised(incident, acknowledge_at) -> set[tuple[datetime, str, str]]:
    """(instant, person, "page" or "inform") for every message the preview shows."""
    levels = deadlines.policy_levels(incident.escalation_policy)
    by_position = {level.position: level for level in levels}
    steps = escalation.play_forward(
        deadlines.situation(incident, levels),
        until=incident.declared_at + HORIZON,
        people_at=lambda position, at: firing.level_targets(by_position[position], at),
        acknowledge_at=acknowledge_at,
    )
    return {
        (step.at, person.username, "inform" if position in step.informed else "page")
        for step in steps
        for position, people in step.pages
        for person in people
    }


def delivered(staff) -> set[tuple[datetime, str, str]]:
    """(instant of the event, person, "page" or "inform") for every page and informational
    message in the outbox to the matrix's people, whatever the channel."""
    kinds = {MessageKind.PAGE: "page", MessageKind.ESCALATION_INFO: "inform"}
    rows = Notification.objects.filter(
        recipient__in=[staff[name] for name in LEVEL_STAFF], kind__in=list(kinds)
    ).select_related("event", "recipient")
    found = set()
    for row in rows:
        assert (row.kind == MessageKind.PAGE) == row.is_page == bool(row.ack_code), row
        found.add((row.event.occurred_at, row.recipient.username, kinds[row.kind]))
    return found


def run_engine(incident, *, until, acknowledge_at, by) -> None:
    """Tick at each pending deadline's due time until `until`, acknowledging at `acknowledge_at`."""
    for _ in range(500):  # a plan is finite; this only guards against a loop
        pending = incident.deadlines.filter(fired_at=None, cancelled_at=None).order_by("due_at").first()
        if acknowledge_at is not None and (pending is None or acknowledge_at < pending.due_at):
            with time_machine.travel(acknowledge_at, tick=False):
                actions.acknowledge(incident, actor=by, source=Source.ADMIN)
                dispatch_all()
            acknowledge_at = None
            continue
        if pending is None or pending.due_at > until:
            return
        with time_machine.travel(pending.due_at, tick=False):
            engine.tick()
            dispatch_all()
    raise AssertionError("the engine never ran out of due deadlines")


@pytest.mark.django_db
@pytest.mark.parametrize("declared", [WEEKDAY, WEEKEND], ids=["weekday", "weekend"])
@pytest.mark.parametrize("acknowledged", [False, True], ids=["unacknowledged", "acknowledged"])
@pytest.mark.parametrize("sev", ["SEV-1", "SEV-2", "SEV-3", "SEV-4"])
def test_what_people_receive_is_what_the_preview_showed(staff, sev, acknowledged, declared):
    with time_machine.travel(declared, tick=False):
        incident = IncidentFactory(severity=severity(sev), actor=staff["ic"], commander=staff["ic"])
        dispatch_all()
    # Acknowledged two minutes after the first page (or at once, if the first page waits).
    first_page = incident.deadlines.filter(kind=Deadline.Kind.ESCALATION).order_by("due_at").first().due_at
    acknowledge_at = first_page + timedelta(minutes=2) if acknowledged else None
    expected = promised(incident, acknowledge_at)

    run_engine(incident, until=declared + HORIZON, acknowledge_at=acknowledge_at, by=staff["oncall"])

    assert delivered(staff) == expected
    # The walk means something: the on-call engineer is paged in every case, and nobody is paged
    # once the incident is acknowledged (later levels are informed instead).
    assert any(person == "oncall" and how == "page" for _, person, how in expected)
    if acknowledged:
        assert all(at <= acknowledge_at for at, _, how in expected if how == "page")
    if declared == WEEKEND and sev in ("SEV-3", "SEV-4"):
        # Business-hours cells: nobody hears before Monday 09:00 UTC.
        assert min(at for at, _, _ in expected) == datetime(2026, 3, 9, 9, 0, tzinfo=dt_timezone.utc)
