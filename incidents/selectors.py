"""Reads: incident querysets already scoped to what a user may see, with the joins their pages use."""

from __future__ import annotations

from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet, Subquery

from .models import Incident, Participant, TimelineEvent
from .permissions import VIEW_RESTRICTED


def visible_incidents(user) -> QuerySet[Incident]:
    """Every incident `user` may see: restricted ones only as a current participant or with the permission."""
    qs = Incident.objects.all()
    if not user.is_active:
        return qs.none()
    if user.has_perm(VIEW_RESTRICTED):
        return qs
    participates = Participant.objects.filter(incident=OuterRef("pk"), user=user, left_at=None)
    return qs.filter(Q(is_restricted=False) | Exists(participates))


def current_commanders() -> Prefetch:
    """Prefetch that puts the current commander(s) on `incident.commanders`."""
    return Prefetch(
        "participants",
        queryset=Participant.objects.filter(role=Participant.Role.COMMANDER, left_at=None).select_related("user"),
        to_attr="commanders",
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
