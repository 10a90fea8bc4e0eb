"""The outbox driven by hand, as its tasks would drive it: dispatch every event not yet
dispatched (the on-commit task), deliver what is due (the delivery tasks), and the engine's tick
followed by its dispatch."""

from comms import outbox
from incidents import engine
from incidents.models import TimelineEvent


def dispatch_all() -> list[int]:
    """What the on-commit task does: dispatch every event not yet dispatched, oldest first."""
    ids = list(TimelineEvent.objects.filter(dispatched_at__isnull=True).order_by("pk").values_list("pk", flat=True))
    return outbox.dispatch_events(ids)


def deliver_due() -> list[str]:
    """Deliver every notification due now; each one's outcome ("sent", "retry"…)."""
    return [outbox.deliver(pk) for pk, _ in outbox.due_for_enqueue()]


def tick_and_dispatch() -> list[int]:
    """One engine tick, its events (pages, escalations) dispatched at once as their on-commit task would."""
    engine.tick()
    return dispatch_all()
