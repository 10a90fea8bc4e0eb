"""Chat text to a command: `parse("ack INC-42")` is `Ack(42)`. Pure: it looks nothing up, and
raises `ParseError` with what went wrong and whose usage to show.

A command about one incident may leave the incident out (`number` is None): typed in the
incident's war-room channel, the executor applies it there; anywhere else it refuses and says what
to type. Whether the text was typed in such a channel (`in_channel`) decides one thing only, how a
bare number reads before free text: outside a channel `note 42 Disk full` is a note on INC-42, as
it always was; in a channel only `INC-42` and `#42` are references there, so `note 500 errors since
10:02` is a note on the channel's incident. Where no free text follows (`ack 42`, `timeline 42`,
`commander 42 @alice`, `release 42 sme`), a bare number is the incident everywhere."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

from incidents.models import Incident, Participant

from ..slack import code

# How much a lookup shows: open incidents in `status`, events in `timeline`, schedules in `oncall`.
STATUS_LIMIT = 10
TIMELINE_LIMIT = 10
SCHEDULE_LIMIT = 25

Role = Participant.Role


# --- Commands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Create:
    """`create P1 Checkout errors`: the severity's first word and the rest. Only the executor knows
    the organisation's severities, so it may take more words for the severity ("sev 1", "very high")."""

    severity: str
    title: str


@dataclass(frozen=True)
class Status:
    """`status INC-3` (one incident), `status` (the channel's incident in a war room, else the open
    incidents), `status all` (the open incidents, wherever it is typed)."""

    number: int | None = None
    listing: bool = False


@dataclass(frozen=True)
class Oncall:
    service: str = ""


@dataclass(frozen=True)
class Help:
    topic: str = ""


@dataclass(frozen=True)
class IncidentCommand:
    """A command about one incident, by number (`INC-42` → 42), or None when none was typed (the
    channel's incident, if any). Each kind of command is its own class, so `Ack(42) != Timeline(42)`
    and the executor finds a command's handler by its type."""

    number: int | None


class Ack(IncidentCommand):
    """`ack INC-42`"""


class Timeline(IncidentCommand):
    """`timeline INC-42`"""


@dataclass(frozen=True)
class Update(IncidentCommand):
    text: str
    external: bool = False


@dataclass(frozen=True)
class Severity(IncidentCommand):
    """`severity INC-42 P0`: the severity as typed, every word after the incident."""

    severity: str


@dataclass(frozen=True)
class AssignRole(IncidentCommand):
    """`tech-lead INC-42 @bob`: `role` is a `Participant.Role` value; `user` the addresses to try
    in order: a Slack mention `<@U024BE7LH|alice>` gives ("U024BE7LH", "@alice")."""

    role: str
    user: tuple[str, ...]


@dataclass(frozen=True)
class Release(IncidentCommand):
    """`release INC-42 sme @bob`, `release tech-lead`, `release @bob`: a role, a person, or both."""

    role: str = ""
    user: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mitigated(IncidentCommand):
    """`mitigated INC-42 rolled back the deploy`: how, as typed; `mitigation` the kind it names
    first (an `Incident.Mitigation` value such as "rollback"), or ""."""

    how: str
    mitigation: str = ""


@dataclass(frozen=True)
class Note(IncidentCommand):
    text: str


@dataclass(frozen=True)
class Resolve(IncidentCommand):
    summary: str = ""


Command = Union[
    Create, Ack, Status, Update, Severity, AssignRole, Release, Mitigated, Note, Resolve, Timeline, Oncall, Help
]

# Each command's form and what it does; `{gravest}` and `{lesser}` are the organisation's two most
# severe levels' names, which `replies.usage` fills in. `[<INC>]` may be left out in the incident's channel.
USAGE = {
    "create": ("create <severity> <title>", "declare an incident (also `declare`), e.g. `create {lesser} Checkout errors`"),
    "ack": ("ack [<INC>]", "acknowledge an incident, e.g. `ack INC-42`"),
    "status": ("status [<INC>|all]", "one incident's state (in its channel: that one), or all the open incidents"),
    "update": ("update [<INC>] [--external|-e] <text>", "post a status update (internal; -e: customer-facing); it does not acknowledge"),
    "note": ("note [<INC>] <text>", "an internal note on the timeline (what was tried, what was seen)"),
    "severity": ("severity [<INC>] <severity>", "re-rate an incident, e.g. `severity INC-42 {gravest}`"),
    "commander": ("commander [<INC>] <@user>", "hand the incident commander role to someone (also `ic`)"),
    "tech-lead": ("tech-lead [<INC>] <@user>", "hand the technical lead role to someone (also `tl`)"),
    "comms-lead": ("comms-lead [<INC>] <@user>", "hand the communications lead role to someone (also `cl`)"),
    "scribe": ("scribe [<INC>] <@user>", "hand the scribe role to someone"),
    "sme": ("sme [<INC>] <@user>", "add a subject-matter expert (several may be added)"),
    "release": ("release [<INC>] <role> [<@user>]", "take a role from whoever holds it, or `release [<INC>] <@user>`: every role they hold"),
    "mitigated": ("mitigated [<INC>] <how>", "the impact is contained: the incident moves to monitoring, with how, e.g. `mitigated INC-42 rollback of deploy 1234`"),
    "resolve": ("resolve [<INC>] [summary]", "resolve an incident"),
    "timeline": ("timeline [<INC>]", f"the last {TIMELINE_LIMIT} events of an incident"),
    "oncall": ("oncall [<service>]", "who is on call now (for a service: its first escalation level)"),
    "help": ("help [<command>]", "this list, or one command's usage"),
}
# An example of each command about one incident with its reference: what a refusal outside a channel suggests.
EXAMPLES = {
    "ack": "ack INC-42", "update": "update INC-42 <text>", "note": "note INC-42 <text>",
    "severity": "severity INC-42 <severity>", "commander": "commander INC-42 @alice", "tech-lead": "tech-lead INC-42 @bob",
    "comms-lead": "comms-lead INC-42 @carol", "scribe": "scribe INC-42 @dan", "sme": "sme INC-42 @erin",
    "release": "release INC-42 tech-lead", "mitigated": "mitigated INC-42 <how>", "resolve": "resolve INC-42 [summary]",
    "timeline": "timeline INC-42",
}
# The role commands and the role each gives; `release` reads a role by the same words.
ROLE_COMMANDS = {
    "commander": Role.COMMANDER, "tech-lead": Role.TECHNICAL_LEAD, "comms-lead": Role.COMMUNICATIONS_LEAD,
    "scribe": Role.SCRIBE, "sme": Role.SUBJECT_MATTER_EXPERT,
}
ALIASES = {
    "declare": "create", "new": "create", "acknowledge": "ack", "sev": "severity",
    "ic": "commander", "incident-commander": "commander", "incident_commander": "commander",
    "tl": "tech-lead", "tech_lead": "tech-lead", "techlead": "tech-lead", "technical-lead": "tech-lead",
    "technical_lead": "tech-lead",
    "cl": "comms-lead", "comms_lead": "comms-lead", "commslead": "comms-lead", "communications-lead": "comms-lead",
    "communications_lead": "comms-lead", "comms": "comms-lead",
    "expert": "sme", "subject-matter-expert": "sme",
    "mitigate": "mitigated", "notes": "note",
    "on-call": "oncall", "who": "oncall", "?": "help",
}
# Only for `release`: a responder is nobody's command to give, but may be released.
_RELEASE_ONLY_ROLES = {"responder": Role.RESPONDER}
# The kind of mitigation `mitigated` records when how starts with one of these (case ignored).
_MITIGATION_WORDS = (
    ("rollback", Incident.Mitigation.ROLLBACK), ("rolled back", Incident.Mitigation.ROLLBACK),
    ("roll back", Incident.Mitigation.ROLLBACK), ("failover", Incident.Mitigation.FAILOVER),
    ("failed over", Incident.Mitigation.FAILOVER), ("fail over", Incident.Mitigation.FAILOVER),
    ("fix forward", Incident.Mitigation.FIX_FORWARD), ("fix-forward", Incident.Mitigation.FIX_FORWARD),
    ("fixed forward", Incident.Mitigation.FIX_FORWARD), ("workaround", Incident.Mitigation.WORKAROUND),
    ("degraded mode", Incident.Mitigation.DEGRADED_MODE), ("degraded", Incident.Mitigation.DEGRADED_MODE),
)
_EXTERNAL_FLAGS = {"--external", "-e"}
_INTERNAL_FLAGS = {"--internal", "-i"}
# `<@U024BE7LH>` or `<@U024BE7LH|alice>`: how Slack sends a mention when it escapes them.
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]*))?>", re.IGNORECASE)
_TOKEN = re.compile(r"\S+")
_BARE_NUMBER = re.compile(r"\d+")


class ParseError(Exception):
    """Text that is not a command: `message` says why, `command` names the usage to show (or "")."""

    def __init__(self, message: str, command: str = ""):
        super().__init__(message)
        self.message = message
        self.command = command


# --- Parsing ----------------------------------------------------------------------------------


def parse(text: str, *, in_channel: bool = False) -> Command:
    """The command in `text` (a leading `/incident` is skipped). `in_channel`: typed in an
    incident's channel, where a bare number before free text is text (see the module). Pure."""
    text = (text or "").strip()
    tokens = list(_TOKEN.finditer(text))
    if tokens and tokens[0].group().startswith("/"):
        tokens = tokens[1:]
    if not tokens:
        return Help()
    word = tokens[0].group().lower()
    verb = ALIASES.get(word, word)
    if verb not in USAGE:
        raise ParseError(f"I don't know the command `{code(_short(tokens[0].group()))}`.")
    args = [t.group() for t in tokens[1:]]

    def rest(i: int) -> str:
        """The text from argument `i` on, spacing kept."""
        return text[tokens[i + 1].start():].strip() if i < len(args) else ""

    if verb == "help":
        topic = args[0].lower().lstrip("/") if args else ""
        return Help(ALIASES.get(topic, topic))
    if verb == "create":
        return _parse_create(args, rest)
    if verb == "status":
        return _parse_status(args)
    if verb == "oncall":
        return Oncall(rest(0))
    if verb == "update":
        return _parse_update(args, rest, in_channel)
    if verb in ROLE_COMMANDS:
        return _parse_role(verb, args)
    if verb == "release":
        return _parse_release(args)
    if verb in ("ack", "timeline"):
        if len(args) > 1:
            raise ParseError(f"`{verb}` takes only the incident.", verb)
        number = _parse_incident(args[0], verb) if args else None
        return Ack(number) if verb == "ack" else Timeline(number)
    return _parse_with_text(verb, args, rest, in_channel)


def _parse_create(args: list[str], rest: Callable[[int], str]) -> Create:
    if not args:
        raise ParseError("Say how severe it is and what is wrong.", "create")
    title = rest(1)
    if not title:
        raise ParseError("The incident needs a title after the severity.", "create")
    return Create(args[0], title)


def _parse_status(args: list[str]) -> Status:
    if len(args) > 1:
        raise ParseError("`status` takes at most one incident.", "status")
    if not args:
        return Status(None)
    if args[0].lower() in ("all", "open"):
        return Status(None, listing=True)
    return Status(_parse_incident(args[0], "status"))


def _parse_with_text(verb: str, args: list[str], rest: Callable[[int], str], in_channel: bool) -> IncidentCommand:
    """`severity`, `note`, `mitigated` and `resolve`: an optional incident, then text."""
    number = _leading_reference(args, in_channel)
    start = 0 if number is None else 1
    text = rest(start)
    if verb == "resolve":
        return Resolve(number, text)
    if not text:
        if verb == "severity":
            raise ParseError(
                "Say the new severity, e.g. `severity INC-42 SEV-2` (in the incident's channel, `severity SEV-2`).", verb
            )
        if verb == "note":
            raise ParseError("The note needs some text" + (" after the incident." if number else "."), verb)
        raise ParseError("Say how the impact was contained, e.g. `mitigated INC-42 rolled back the deploy`.", verb)
    if verb == "severity":
        return Severity(number, text)
    if verb == "note":
        return Note(number, text)
    return Mitigated(number, text, mitigation_named(text))


def _leading_reference(args: list[str], in_channel: bool) -> int | None:
    """The incident in the first argument when free text follows it: `INC-42` and `#42` always; a
    bare `42` only outside an incident's channel (in one, `note 500 errors` is about the channel's
    incident). A first word that is no reference starts the text."""
    if not args:
        return None
    if in_channel and _BARE_NUMBER.fullmatch(args[0]):
        return None
    return Incident.number_from_reference(args[0])


def _parse_update(args: list[str], rest: Callable[[int], str], in_channel: bool) -> Update:
    external = None
    i = 0
    number = None
    # Flags may come before or after the incident, or last.
    while i < len(args):
        token = args[i].lower()
        if token in _EXTERNAL_FLAGS or token in _INTERNAL_FLAGS:
            external = _flag(external, token in _EXTERNAL_FLAGS)
        elif number is None and _leading_reference(args[i:], in_channel) is not None:
            number = _leading_reference(args[i:], in_channel)
        else:
            break
        i += 1
    text = rest(i)
    last = args[-1].lower() if i < len(args) else ""
    if i < len(args) - 1 and (last in _EXTERNAL_FLAGS or last in _INTERNAL_FLAGS):
        external = _flag(external, last in _EXTERNAL_FLAGS)
        text = text[: len(text) - len(args[-1])].rstrip()
    if not text:
        if number is None:
            raise ParseError("Say which incident and what to post, e.g. `update INC-42 Rolled back the deploy`.", "update")
        raise ParseError("The update needs some text after the incident.", "update")
    return Update(number, text, bool(external))


def _flag(current: bool | None, external: bool) -> bool:
    if current is not None and current != external:
        raise ParseError("An update is either internal or external, not both.", "update")
    return external


def _parse_role(verb: str, args: list[str]) -> AssignRole:
    """`tech-lead [<INC>] <@user>`: a person is never a number, so a bare one is the incident."""
    role = ROLE_COMMANDS[verb]
    who = {
        Role.COMMANDER: "who takes command", Role.SUBJECT_MATTER_EXPERT: "who joins as a subject-matter expert",
    }.get(role, f"who becomes {role.label.lower()}")
    missing = ParseError(f"Say {who}, e.g. `{verb} @alice` in the incident's channel, or `{EXAMPLES[verb]}`.", verb)
    if len(args) == 1:
        if Incident.number_from_reference(args[0]) is not None:
            raise missing
        return AssignRole(None, role.value, chat_identity(args[0]))
    if len(args) != 2:
        raise missing
    return AssignRole(_parse_incident(args[0], verb), role.value, chat_identity(args[1]))


def _parse_release(args: list[str]) -> Release:
    """`release [<INC>] <role> [<@user>]` or `release [<INC>] <@user>`."""
    missing = ParseError("Say which role or whom to release, e.g. `release tech-lead` or `release @bob`.", "release")
    number = Incident.number_from_reference(args[0]) if args else None
    if number is not None:
        args = args[1:]
    if not args:
        raise missing
    if len(args) > 2:
        raise ParseError("`release` takes the incident, a role and one person at most.", "release")
    role = role_named(args[0])
    if len(args) == 2:
        if role is None:
            raise ParseError(f"`{code(_short(args[0]))}` is not a role; {_ROLE_LIST}.", "release")
        return Release(number, role, chat_identity(args[1]))
    if role is not None:
        return Release(number, role)
    return Release(number, "", chat_identity(args[0]))


def role_named(word: str) -> str | None:
    """The role a word names (`tl`, `tech-lead`, `sme`, `responder`…), or None."""
    word = word.lower()
    verb = ALIASES.get(word, word)
    role = ROLE_COMMANDS.get(verb) or _RELEASE_ONLY_ROLES.get(word)
    return role.value if role else None


_ROLE_LIST = "the roles are " + ", ".join(f"`{name}`" for name in [*ROLE_COMMANDS, *_RELEASE_ONLY_ROLES])


def mitigation_named(how: str) -> str:
    """The kind of mitigation `how` starts with ("Rolled back the deploy" → "rollback"), or ""."""
    lowered = " ".join(how.lower().split())
    for words, mitigation in _MITIGATION_WORDS:
        if lowered.startswith(words) and not lowered[len(words): len(words) + 1].isalnum():
            return mitigation.value
    return ""


def _parse_incident(token: str, verb: str) -> int:
    number = Incident.number_from_reference(token)
    if number is None:
        raise ParseError(f"`{code(_short(token))}` is not an incident reference; write `INC-42`, `#42` or `42`.", verb)
    return number


def chat_identity(token: str) -> tuple[str, ...]:
    """The addresses a typed person may be known by: `@alice` → ("@alice",);
    `<@U024BE7LH|alice>` → ("U024BE7LH", "@alice")."""
    mention = _MENTION.fullmatch(token.strip())
    if mention:
        member, name = mention.groups()
        return (member,) + ((f"@{name.lstrip('@')}",) if name else ())
    return (token.strip(),)


def verb_of(command: Command) -> str:
    """The command word a parsed command was written with (for usage and examples)."""
    if isinstance(command, AssignRole):
        return next(verb for verb, role in ROLE_COMMANDS.items() if role == command.role)
    return _VERBS[type(command)]


_VERBS = {
    Create: "create", Ack: "ack", Status: "status", Update: "update", Severity: "severity", Release: "release",
    Mitigated: "mitigated", Note: "note", Resolve: "resolve", Timeline: "timeline", Oncall: "oncall", Help: "help",
}


def _short(token: str) -> str:
    return token if len(token) <= 40 else token[:40] + "…"
