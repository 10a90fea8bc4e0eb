"""Reads: incident querysets already scoped to what a user may see, with the joins their pages use."""

from __future__ import annotations

from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.lookups import Exact

from .models import Deadline, Incident, Participant, Source, TimelineEvent
from .permissions import VIEW_RESTRICTED


def visible_incidents(user) -> QuerySet[Incident]:
    """Every incident `user` may see: restricted ones only as a current participant or with the permission."""
    qs = Incident.objects.all()
    if not user.is_active:
        return qs.none()
    if user.has_perm(VIEW_RESTRICTED):
        return qs
    # A restricted row is checked by one probe of the index `participant_current_by_user`
    # (user, incident); an unrestricted row by nothing. The `is_restricted` test inside the
    # subquery keeps PostgreSQL from turning it into a hashed subplan, which reads all of the
    # user's current roles first: 100,000 of them for a busy commander, 20-40 ms on every page
    # (docs/architecture.md, "Counting, visibility and JIT on large tables").
    probe = Participant.objects.filter(user=user, left_at=None, incident=OuterRef("pk")).filter(
        Exact(OuterRef("is_restricted"), Value(True))
    )
    return qs.filter(Q(is_restricted=False) | Q(Exists(probe)))


def _commanding() -> QuerySet[Participant]:
    return Participant.objects.filter(role=Participant.Role.COMMANDER, left_at=None).select_related("user")


def current_commanders() -> Prefetch:
    """Prefetch that puts the current commander(s) on `incident.commanders`."""
    return Prefetch("participants", queryset=_commanding(), to_attr="commanders")


def commanders_of(incident: Incident) -> list:
    """The users commanding `incident` now: from `current_commanders()` when prefetched, else one query."""
    if hasattr(incident, "commanders"):
        return [participant.user for participant in incident.commanders]
    return [participant.user for participant in _commanding().filter(incident=incident)]


def current_participants(incident: Incident) -> list[Participant]:
    """Everyone holding a role on `incident` now, with their users, in the order they joined: one query."""
    return list(Participant.objects.filter(incident=incident, left_at=None).select_related("user").order_by("joined_at", "pk"))


def current_commander(incident: Incident):
    """The first current commander (by when they joined), or None: one query."""
    participant = _commanding().filter(incident=incident).first()
    return participant.user if participant else None


def next_update_due(incident: Incident):
    """When the next status update of an open incident is due (None when closed or not scheduled)."""
    if not incident.is_open:
        return None
    return (
        Deadline.objects.filter(incident=incident, kind=Deadline.Kind.UPDATE_OVERDUE, fired_at=None, cancelled_at=None)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )


def with_last_update(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    """Annotate `last_update_at`: when the latest status update was posted (drives the update SLA)."""
    latest = TimelineEvent.objects.filter(incident=OuterRef("pk"), kind=TimelineEvent.Kind.STATUS_UPDATE).order_by("-occurred_at")
    return qs.annotate(last_update_at=Subquery(latest.values("occurred_at")[:1]))


def incident_list(user) -> QuerySet[Incident]:
    """The operator's incident list: a fixed number of queries however many rows."""
    return with_last_update(
        visible_incidents(user)
        .select_related("severity", "incident_type")
        .prefetch_related("services", current_commanders())
    )


def last_update_at(incident: Incident):
    return (
        incident.timeline.filter(kind=TimelineEvent.Kind.STATUS_UPDATE).aggregate(m=Max("occurred_at"))["m"]
    )


# The incident page's timeline filters (`?show=`): name → (label, condition). "engine" is what no
# person typed: the deadline engine's pages and breaches, the reminders and delivery failures
# written for comms and postmortems, the war room's opening, and anything the engine or the
# system recorded (`Source.ENGINE`, `Source.SYSTEM`).
ENGINE_KINDS = (
    TimelineEvent.Kind.ESCALATED, TimelineEvent.Kind.ACK_SLA_BREACHED, TimelineEvent.Kind.UPDATE_OVERDUE,
    TimelineEvent.Kind.RESOLVE_TARGET_BREACHED, TimelineEvent.Kind.NOBODY_TO_PAGE, TimelineEvent.Kind.STATUS_PAGE_OVERDUE,
    TimelineEvent.Kind.NOTIFICATION_FAILED, TimelineEvent.Kind.POSTMORTEM_REMINDER,
    TimelineEvent.Kind.WAR_ROOM_OPENED, TimelineEvent.Kind.WAR_ROOM_FAILED, TimelineEvent.Kind.WAR_ROOM_ARCHIVED,
)
TIMELINE_FILTERS = {
    "all": ("All", Q()),
    "updates": ("Updates", Q(kind=TimelineEvent.Kind.STATUS_UPDATE)),
    "internal": ("Internal", Q(visibility=TimelineEvent.Visibility.INTERNAL)),
    "external": ("External", Q(visibility=TimelineEvent.Visibility.EXTERNAL)),
    "engine": ("Engine", Q(kind__in=ENGINE_KINDS) | Q(source__in=[Source.ENGINE, Source.SYSTEM])),
}


def timeline_filter(name: str | None) -> str:
    """The filter a request names, or "all" for nothing or anything unknown."""
    return name if name in TIMELINE_FILTERS else "all"


def timeline_events(incident: Incident, *, show: str = "all", after: int | None = None, before: int | None = None,
                    limit: int = 50) -> list[TimelineEvent]:
    """One query: up to `limit` of the incident's events matching filter `show`, with their actors.
    Newest first, older than event `before` when given (the page's "show older"); with `after`,
    only events recorded after that one (ids grow with each insert), oldest first, as a poll
    prepends them."""
    events = incident.timeline.filter(TIMELINE_FILTERS[show][1]).select_related("actor")
    if after is not None:
        return list(events.filter(pk__gt=after).order_by("pk")[:limit])
    if before is not None:
        # Older than that event in the page's order (when it happened, then id), in the same query.
        then = Subquery(TimelineEvent.objects.filter(pk=before, incident=incident).values("occurred_at")[:1])
        events = events.filter(Q(occurred_at__lt=then) | Q(occurred_at=then, pk__lt=before))
    return list(events.order_by("-occurred_at", "-pk")[:limit])
