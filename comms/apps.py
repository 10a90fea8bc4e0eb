"""The comms app, its reactions to incident events recorded on the timeline (the outbox and the
war room), and the outbox writer for on-call messages (`oncall.notices`)."""

from django.apps import AppConfig


class CommsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "comms"
    verbose_name = "Communications"

    def ready(self) -> None:
        from incidents import timeline

        # The room is wanted first: whether an event is routed depends on the incident having one.
        timeline.react("comms.want_war_room", want_war_room, when="in_transaction")
        timeline.react("comms.stamp_unrouted", stamp_unrouted, when="in_transaction")
        timeline.react("comms.dispatch", dispatch, when="after_commit")
        timeline.react("comms.war_room", war_room, when="after_commit")

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

    from .routing import unrouted as nobody_hears

    unrouted = nobody_hears(events)
    if unrouted:
        TimelineEvent.objects.filter(pk__in=[event.pk for event in unrouted]).update(dispatched_at=F("occurred_at"))
        for event in unrouted:
            event.dispatched_at = event.occurred_at


def dispatch(events) -> None:
    """Once the recording transaction has committed, enqueue the dispatch of the events someone
    must hear about. A broker that is down at that moment is covered by the sweeper."""
    from . import tasks

    ids = [event.pk for event in events if event.dispatched_at is None]
    if ids:
        tasks.enqueue_dispatch(ids)


def want_war_room(events) -> None:
    """A declaration or severity change of a severity that opens war rooms writes the incident's
    `WarRoom` row (state opening) with the action, so the sweeper finds it even if the task is
    lost. Marks the events whose room is to open for `war_room` below."""
    from .warroom import rooms

    wanted = set(rooms.want_room(events))
    for event in events:
        if event.incident_id in wanted and event.kind in rooms.OPENING_KINDS:
            event.opens_war_room = True


def war_room(events) -> None:
    """After the commit: queue opening the war rooms just wanted, inviting people who joined an
    incident with an open war room, and archiving the rooms of closed incidents."""
    from . import tasks
    from .models import WarRoom
    from .warroom import rooms

    opening = [e.incident_id for e in events if getattr(e, "opens_war_room", False)]
    tasks.enqueue_war_room("open", dict.fromkeys(opening))
    joining = {e.incident_id for e in events if e.kind in rooms.JOINING_KINDS} - set(opening)
    closing = {e.incident_id for e in events if e.kind == rooms.Kind.CLOSED}
    if joining or closing:
        with_room = set(
            WarRoom.objects.filter(incident_id__in=joining | closing, state=WarRoom.State.OPEN).values_list(
                "incident_id", flat=True
            )
        )
        tasks.enqueue_war_room("invite", sorted(joining & with_room))
        tasks.enqueue_war_room("archive", sorted(closing & with_room))
