"""Reads: incident querysets already scoped to what a user may see, with the joins their pages use."""

from __future__ import annotations

from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.lookups import Exact

from .models import Deadline, Incident, Participant, TimelineEvent
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
