"""What every action shares: locking the incident, naming who acted, checking input and the
lifecycle step."""

from __future__ import annotations

from .. import lifecycle, timeline
from ..errors import IllegalTransition, InvalidInput
from ..models import Incident, Participant, Source, Status


Kind = timeline.Kind
Visibility = timeline.Visibility
Role = Participant.Role


def lock(incident: Incident) -> Incident:
    return (
        Incident.objects.select_for_update(of=("self",))
        .select_related("severity", "escalation_policy__team")
        .get(pk=incident.pk)
    )


def actor_name(actor, source: str, actor_label: str = "") -> str:
    if getattr(actor, "is_authenticated", False):
        return str(actor)
    # Without a person, the caller may name what acted (an integration, a heartbeat).
    return actor_label or Source(source).label


def clean_text(value: str, what: str, *, max_length: int | None = None, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{what} cannot be empty.")
    if max_length and len(text) > max_length:
        raise InvalidInput(f"{what} is {len(text)} characters; the limit is {max_length}.")
    return text


def require_not_closed(incident: Incident, doing: str) -> None:
    if incident.status == Status.CLOSED:
        raise IllegalTransition(f"{incident.reference} is closed; it can no longer {doing}.")


def require_step(incident: Incident, target: str, step: str, refusal: str) -> None:
    """Check the lifecycle allows `target`, and that it is this action's step to take."""
    if lifecycle.require(incident.reference, incident.status, target) != step:
        raise IllegalTransition(f"{incident.reference} is {Status(incident.status).label.lower()}; {refusal}")
