"""Who holds which role on an incident: assigning and releasing roles."""

from __future__ import annotations

from django.db import transaction

from .. import clock, timeline
from ..errors import InvalidInput
from ..models import Incident, Participant
from .base import Kind, Role, lock, require_not_closed


def assign_locked(incident: Incident, user, role: str, *, actor, source: str) -> Participant:
    now = clock.now()
    current = list(incident.participants.filter(role=role, left_at=None).select_related("user"))
    if any(p.user_id == user.pk for p in current):
        raise InvalidInput(f"{user} is already {Role(role).label.lower()} of {incident.reference}.")
    handed_over_from = None
    if role in Participant.SINGLE_HOLDER_ROLES and current:
        handed_over_from = current[0]
        handed_over_from.left_at = now
        handed_over_from.save(update_fields=["left_at"])
    participant = Participant.objects.create(incident=incident, user=user, role=role, joined_at=now)
    message = f"{user} is now {Role(role).label.lower()}"
    if handed_over_from:
        message += f", taking over from {handed_over_from.user}"
    timeline.record(
        incident,
        Kind.ROLE_ASSIGNED,
        message,
        actor=actor,
        source=source,
        data={
            "role": role,
            "user": user.get_username(),
            "previous": handed_over_from.user.get_username() if handed_over_from else None,
        },
    )
    return participant


@transaction.atomic
def assign_role(incident: Incident, user, role: str, *, actor, source: str) -> Participant:
    """Give someone a role. Commander, technical lead, communications lead and scribe have one
    holder at a time: assigning one hands the role over."""
    if role not in Role.values:
        raise InvalidInput(f"Unknown role {role!r}.")
    if not user.is_active:
        raise InvalidInput(f"{user} is not an active user.")
    incident = lock(incident)
    require_not_closed(incident, "change roles")
    return assign_locked(incident, user, role, actor=actor, source=source)


@transaction.atomic
def release_role(participant: Participant, *, actor, source: str) -> Participant:
    """Someone leaves a role; the record of when they held it stays."""
    incident = lock(participant.incident)
    require_not_closed(incident, "change roles")
    participant = Participant.objects.select_for_update().select_related("user").get(pk=participant.pk)
    if participant.left_at is not None:
        raise InvalidInput(f"{participant.user} already left that role.")
    participant.left_at = clock.now()
    participant.save(update_fields=["left_at"])
    timeline.record(
        incident,
        Kind.ROLE_RELEASED,
        f"{participant.user} is no longer {participant.get_role_display().lower()}",
        actor=actor,
        source=source,
        data={"role": participant.role, "user": participant.user.get_username()},
    )
    return participant
