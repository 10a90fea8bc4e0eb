"""The comms app, its two reactions to incident events recorded on the timeline, and the outbox
writer for on-call messages (`oncall.notices`)."""

from django.apps import AppConfig


class CommsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "comms"
    verbose_name = "Communications"

    def ready(self) -> None:
        from incidents import timeline

        timeline.react("comms.stamp_unrouted", stamp_unrouted, when="in_transaction")
        timeline.react("comms.dispatch", dispatch, when="after_commit")

        from oncall import notices

        from . import notices as outbox_notices

        notices.provide("comms.notices.send", outbox_notices.send)

        from incidents import contacts

        contacts.provide("comms.contact_methods", lambda users: contacts.grouped(self.get_model("ContactMethod").objects.filter(user__in=users, is_active=True).values_list("user_id", "channel", "address")))


def stamp_unrouted(events) -> None:
    """Events nobody is told about (notes, tasks, details…) are dispatched as they are written,
    so the sweeper and the health check's backlog (`dispatched_at IS NULL`) never see them."""
    from django.db.models import F

    from incidents.models import TimelineEvent

    from .routing import ROUTED_KINDS

    unrouted = [event for event in events if event.kind not in ROUTED_KINDS]
    if unrouted:
        TimelineEvent.objects.filter(pk__in=[event.pk for event in unrouted]).update(dispatched_at=F("occurred_at"))
        for event in unrouted:
            event.dispatched_at = event.occurred_at


def dispatch(events) -> None:
    """Once the recording transaction has committed, enqueue the dispatch of the events someone
    must hear about. A broker that is down at that moment is covered by the sweeper."""
    from . import tasks

    from .routing import ROUTED_KINDS

    ids = [event.pk for event in events if event.kind in ROUTED_KINDS]
    if ids:
        tasks.enqueue_dispatch(ids)
