"""Every change to an incident, one function each.

Each action runs in one transaction: it locks the incident row, checks the step against the
lifecycle (`incidents/lifecycle.py`), writes the new state, stamps the lifecycle timestamps and
appends a timeline event. The admin, the API, chat commands, alert ingestion and the engine all
call these; nothing else writes incident state. Permission checks belong to the caller (see
`permissions.py`): an action trusts that its caller may perform it.

Callers use this package as one module (`actions.declare(...)`); the actions live by subject:
`declare.py`, `lifecycle.py` (acknowledge, status, mitigate, severity, resolve, reopen, close), `roles.py`,
`updates.py` (notes and status updates), `details.py`, `work.py` (tasks and evidence), and
`reminders.py` (what comms and postmortems ask to be said); `base.py` holds what they share.
"""

from .declare import declare
from .details import EDITABLE_DETAILS, update_details
from .lifecycle import acknowledge, change_severity, change_status, close, mitigate, reopen, resolve
from .reminders import (
    record_notification_failure,
    record_postmortem_reminder,
    record_postmortem_status,
    record_war_room_archived,
    record_war_room_failure,
    record_war_room_opened,
)
from .roles import assign_role, release_role
from .updates import add_note, post_update
from .work import add_evidence, add_task, set_task_done

__all__ = [
    "EDITABLE_DETAILS",
    "acknowledge",
    "add_evidence",
    "add_note",
    "add_task",
    "assign_role",
    "change_severity",
    "change_status",
    "close",
    "declare",
    "mitigate",
    "post_update",
    "record_notification_failure",
    "record_postmortem_reminder",
    "record_postmortem_status",
    "record_war_room_archived",
    "record_war_room_failure",
    "record_war_room_opened",
    "release_role",
    "reopen",
    "resolve",
    "set_task_done",
    "update_details",
]
