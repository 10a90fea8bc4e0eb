"""The incidents the metrics tests count by hand (tests/incidents/test_metrics.py has the story), made
through the actions as they would happen."""

from datetime import datetime, timedelta, timezone as dt_timezone

from incidents import actions, clock
from incidents.models import Source
from tests.incidents.factories import ServiceFactory, severity
from tests.oncall.factories import TeamFactory, UserFactory

MIN, HOUR = timedelta(minutes=1), timedelta(hours=1)
START, END = datetime(2026, 3, 23, tzinfo=dt_timezone.utc), datetime(2026, 4, 6, tzinfo=dt_timezone.utc)
NOW = datetime(2026, 4, 10, 12, 0, tzinfo=dt_timezone.utc)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=dt_timezone.utc)


def step(moment, action, *args, **kwargs):
    with clock.at(moment):
        return action(*args, **kwargs)


def make_story() -> dict:
    """A, B, C and the drill D of test_metrics.py's docstring, declared and worked through the actions."""
    ic = UserFactory(username="story-ic", commander=True)
    payments = TeamFactory(name="Payments")
    checkout = ServiceFactory(name="Checkout", owning_team=payments)
    cart = ServiceFactory(name="Cart", owning_team=payments)
    search = ServiceFactory(name="Search", owning_team=None)
    by = dict(actor=ic, source=Source.ADMIN)

    a = step(at(23, 10), actions.declare, title="Checkout down", severity=severity("SEV-1"), services=[checkout, cart],
             detected_at=at(23, 9, 56), **by)
    step(at(23, 10, 3), actions.acknowledge, a, **by)
    step(at(23, 10, 4), actions.post_update, a, "Looking", **by)
    step(at(23, 10, 15), actions.post_update, a, "Rolling back", **by)
    step(at(23, 10, 30), actions.change_status, a, "monitoring", **by)
    step(at(23, 10, 40), actions.post_update, a, "Watching", **by)
    step(at(23, 10, 50), actions.resolve, a, summary="Rolled back", **by)
    step(at(23, 12), actions.reopen, a, reason="Back again", **by)
    step(at(23, 12, 10), actions.post_update, a, "Again", **by)
    step(at(23, 12, 30), actions.resolve, a, summary="Fixed", **by)

    b = step(at(28, 23, 30), actions.declare, title="Search leaks", severity=severity("SEV-2"), services=[search],
             is_restricted=True, **by)
    step(at(29, 0, 10), actions.acknowledge, b, **by)
    step(at(29, 2, 30), actions.resolve, b, summary="Closed the leak", **by)

    c = step(at(29, 23, 30), actions.declare, title="Checkout slow", severity=severity("SEV-2"), services=[checkout],
             detected_at=at(29, 23, 20), **by)
    step(at(29, 23, 35), actions.acknowledge, c, **by)
    step(at(29, 23, 40), actions.post_update, c, "Looking", **by)
    step(at(30, 1, 30), actions.resolve, c, summary="Scaled up", **by)

    d = step(at(24, 9), actions.declare, title="Game day", severity=severity("SEV-1"), is_drill=True, **by)
    step(at(25, 9), actions.resolve, d, summary="Drill over", **by)
    return dict(a=a, b=b, c=c, ic=ic, payments=payments, checkout=checkout, search=search)
