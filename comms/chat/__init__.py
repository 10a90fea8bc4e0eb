"""Chat commands (`/incident ack INC-42`): a pure parser from text to `Command`s, an executor that
acts as the Vigil user behind a chat handle through `incidents.actions`, and Slack-compatible replies.

- `parse.py`: `parse(text)` looks nothing up: it returns one of the command dataclasses or raises
  `ParseError` with what went wrong and the command's usage.
- `people.py`: `find_chat_user(candidates)` maps a chat identity to a Vigil user through an active
  chat `ContactMethod` (`@alice`, `alice` or a Slack member id such as `U024BE7LH`).
- `commands.py`: `execute(command, user)` checks the same permissions as the admin
  (`incidents.permissions`), calls one action with `source=chat`, and returns a `Reply`; domain
  errors become replies. `respond(text, candidates)` is the whole round trip the API endpoints
  call: it never raises for bad input, unknown people or refusals — chat shows whatever comes back.
- `replies.py`: `Reply` is `{"response_type", "text", "blocks"}`: "in_channel" for changes
  everyone in the room should see, "ephemeral" (only the caller sees it) for errors, help and
  lookups. Every user-supplied value is escaped for Slack (`&`, `<`, `>`), so a title cannot
  mention a room.
"""

from .commands import execute, respond
from .parse import (
    ALIASES,
    SCHEDULE_LIMIT,
    STATUS_LIMIT,
    TIMELINE_LIMIT,
    USAGE,
    Ack,
    Command,
    Commander,
    Create,
    Help,
    IncidentCommand,
    Oncall,
    ParseError,
    Resolve,
    Severity,
    Status,
    Timeline,
    Update,
    chat_identity,
    parse,
)
from .people import UnknownChatUser, find_chat_user
from .replies import Reply, refusal, usage

__all__ = [
    "ALIASES", "SCHEDULE_LIMIT", "STATUS_LIMIT", "TIMELINE_LIMIT", "USAGE",
    "Ack", "Command", "Commander", "Create", "Help", "IncidentCommand", "Oncall", "ParseError", "Reply", "Resolve",
    "Severity", "Status", "Timeline", "UnknownChatUser", "Update",
    "chat_identity", "execute", "find_chat_user", "parse", "refusal", "respond", "usage",
]
