"""Who may see and do what with an incident. Callers (admin, API, chat) check; actions trust.

Restricted incidents are visible only to their current participants and to holders of
`incidents.view_restricted_incident`. Responding (acknowledge, notes, updates) needs
`respond_incident` or a current role on the incident; commanding (severity, roles,
resolve, reopen, close) needs `command_incident` or being the incident's commander.
"""

from __future__ import annotations

from .models import Incident, Participant

VIEW_RESTRICTED = "incidents.view_restricted_incident"
RESPOND = "incidents.respond_incident"
COMMAND = "incidents.command_incident"
DECLARE = "incidents.add_incident"
EDIT_DETAILS = "incidents.change_incident"


def _current_roles(user, incident: Incident) -> set[str]:
    # Uses the prefetched participants when the caller loaded them.
    return {p.role for p in incident.participants.all() if p.user_id == user.pk and p.left_at is None}


def can_view(user, incident: Incident) -> bool:
    if not (user.is_active and user.has_perm("incidents.view_incident")):
        return False
    if not incident.is_restricted or user.has_perm(VIEW_RESTRICTED):
        return True
    return bool(_current_roles(user, incident))


def can_respond(user, incident: Incident) -> bool:
    return can_view(user, incident) and (user.has_perm(RESPOND) or bool(_current_roles(user, incident)))


def can_command(user, incident: Incident) -> bool:
    return can_view(user, incident) and (
        user.has_perm(COMMAND) or Participant.Role.COMMANDER in _current_roles(user, incident)
    )


# Lifecycle steps (as `lifecycle.TRANSITIONS` and the incident page's operations name them) that
# responding is enough for; every other step — severity, roles, resolve, reopen, close, or a step
# the lifecycle refuses — needs command rights, so an unknown step never opens up.
RESPOND_STEPS = frozenset(
    {"acknowledge", "change_status", "post_update", "add_note", "add_task", "task_done", "add_evidence"}
)


def required_for(step: str | None) -> str:
    """The permission a lifecycle step needs: `RESPOND` or `COMMAND` (the role alternative comes with it)."""
    return RESPOND if step in RESPOND_STEPS else COMMAND


def may(user, incident: Incident, step: str | None) -> bool:
    """Whether `user` may take `step` on `incident`: the one rule the admin, its forms, the API and chat share."""
    if required_for(step) == RESPOND:
        return can_respond(user, incident)
    return can_command(user, incident)


def can_edit_details(user, incident: Incident) -> bool:
    return can_view(user, incident) and (user.has_perm(EDIT_DETAILS) or can_command(user, incident))


def can_declare(user) -> bool:
    return user.is_active and user.has_perm(DECLARE)
