from django.apps import AppConfig
from django.db import transaction


class CommsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "comms"
    verbose_name = "Communications"

    def ready(self) -> None:
        from incidents.timeline import events_recorded, events_recording

        events_recording.connect(_mark_unrouted, dispatch_uid="comms.mark_unrouted")
        events_recorded.connect(_dispatch_after_commit, dispatch_uid="comms.dispatch_after_commit")


def _mark_unrouted(sender, events, **kwargs) -> None:
    """Events that reach nobody (notes, tasks, details…) are born dispatched."""
    from .routing import ROUTED_KINDS

    for event in events:
        if event.kind not in ROUTED_KINDS:
            event.dispatched_at = event.occurred_at


def _dispatch_after_commit(sender, events, **kwargs) -> None:
    """Timeline events are dispatched once their transaction commits; if it rolls back, they
    never existed. The sweeper covers a broker that is down at that moment."""
    from . import tasks

    from .routing import ROUTED_KINDS

    ids = [event.pk for event in events if event.kind in ROUTED_KINDS]
    if ids:
        transaction.on_commit(lambda: tasks.enqueue_dispatch(ids))
