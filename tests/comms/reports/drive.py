"""Pages driven through the real engine and outbox at chosen instants, so that every figure can
be worked out by hand from the timestamps in a test."""

import datetime as dt

import time_machine

from incidents import actions
from incidents.models import Source
from oncall.models import EscalationPolicy
from tests.comms.delivery import deliver_due, dispatch_all, tick_and_dispatch
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import UserFactory

UTC = dt.timezone.utc


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def frozen(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def on_call(*people) -> None:
    """These people are level 1 of the default policy (paged at once for SEV-1); the other
    levels get a stand-in each."""
    policy = EscalationPolicy.objects.get(is_default=True)
    for level in policy.levels.order_by("position"):
        level.users.set(list(people) if level.position == 1 else [UserFactory(username=f"level{level.position}")])


def declare(at: dt.datetime, *, tick_after: float = 0, **kwargs):
    """A SEV-1 declared at `at`; its declaration dispatched, and the engine ticking
    `tick_after` seconds later (it pages level 1 then)."""
    kwargs.setdefault("severity", severity("SEV-1"))
    with frozen(at):
        incident = IncidentFactory(**kwargs)
        dispatch_all()
    with frozen(at + dt.timedelta(seconds=tick_after)):
        tick_and_dispatch()
    return incident


def deliver(at: dt.datetime) -> list[str]:
    with frozen(at):
        return deliver_due()


def resolve(incident, at: dt.datetime) -> None:
    with frozen(at):
        actions.resolve(incident, actor=None, source=Source.SYSTEM, summary="Fixed")
        dispatch_all()


def page(at: dt.datetime, *, sent_after: float = 5, **kwargs):
    """A SEV-1 declared at `at` that pages level 1 at once; its email goes out `sent_after`
    seconds later and it is resolved a minute after, before anything else fires."""
    incident = declare(at, **kwargs)
    deliver(at + dt.timedelta(seconds=sent_after))
    resolve(incident, at + dt.timedelta(minutes=1))
    return incident

