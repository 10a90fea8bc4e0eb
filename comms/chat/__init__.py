"""Chat commands (`/incident ack INC-42`): a pure parser from text to `Command`s, an executor that
acts as the Vigil user behind a chat handle through `incidents.actions`, and Slack-compatible replies.

- `parse.py`: `parse(text, in_channel=...)` looks nothing up: it returns one of the command
  dataclasses or raises `ParseError` with what went wrong and the command's usage. A command about
  one incident may name none (`number` None); `in_channel` only decides whether a bare number
  before free text is a reference (not in an incident's channel: there only `INC-42`/`#42` are).
- `people.py`: `find_chat_user(candidates)` maps a chat identity to a Vigil user through an active
  chat `ContactMethod` (`@alice`, `alice` or a Slack member id such as `U024BE7LH`).
- `commands.py`: `execute(command, user)` checks the same permissions as the admin
  (`incidents.permissions`), calls one action with `source=chat`, and returns a `Reply`; domain
  errors become replies; a command naming no incident applies to the channel's incident, or is
  refused with what to type. `respond(text, candidates, channel=...)` is the whole round trip the
  API endpoints call: it finds the incident whose war room `channel` is
  (`comms.warroom.incident_for_channel`) and never raises for bad input, unknown people or
  refusals — chat shows whatever comes back.
- `replies.py`: `Reply` is `{"response_type", "text", "blocks"}`: "in_channel" for changes
  everyone in the room should see, "ephemeral" (only the caller sees it) for errors, help and
  lookups. Every user-supplied value is escaped for Slack (`&`, `<`, `>`), so a title cannot
  mention a room.
"""

from .commands import execute, respond
from .parse import (
    ALIASES,
    EXAMPLES,
    ROLE_COMMANDS,
    SCHEDULE_LIMIT,
    STATUS_LIMIT,
    TIMELINE_LIMIT,
    USAGE,
    Ack,
    AssignRole,
    Command,
    Create,
    Help,
    IncidentCommand,
    Mitigated,
    Note,
    Oncall,
    ParseError,
    Release,
    Resolve,
    Severity,
    Status,
    Timeline,
    Update,
    chat_identity,
    mitigation_named,
    parse,
    role_named,
    verb_of,
)
from .people import UnknownChatUser, find_chat_user
from .replies import Reply, refusal, usage

__all__ = [
    "ALIASES", "EXAMPLES", "ROLE_COMMANDS", "SCHEDULE_LIMIT", "STATUS_LIMIT", "TIMELINE_LIMIT", "USAGE",
    "Ack", "AssignRole", "Command", "Create", "Help", "IncidentCommand", "Mitigated", "Note", "Oncall", "ParseError",
    "Release", "Reply", "Resolve", "Severity", "Status", "Timeline", "UnknownChatUser", "Update",
    "chat_identity", "execute", "find_chat_user", "mitigation_named", "parse", "refusal", "respond", "role_named",
    "usage", "verb_of",
]
