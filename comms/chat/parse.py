"""Chat text to a command: `parse("ack INC-42")` is `Ack(42)`. Pure: it looks nothing up, and
raises `ParseError` with what went wrong and whose usage to show."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

from incidents.models import Incident

from ..slack import code

# How much a lookup shows: open incidents in `status`, events in `timeline`, schedules in `oncall`.
STATUS_LIMIT = 10
TIMELINE_LIMIT = 10
SCHEDULE_LIMIT = 25


# --- Commands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Create:
    """`create P1 Checkout errors`: the severity's first word and the rest. Only the executor knows
    the organisation's severities, so it may take more words for the severity ("sev 1", "very high")."""

    severity: str
    title: str


@dataclass(frozen=True)
class Status:
    number: int | None = None


@dataclass(frozen=True)
class Oncall:
    service: str = ""


@dataclass(frozen=True)
class Help:
    topic: str = ""


@dataclass(frozen=True)
class IncidentCommand:
    """A command about one incident, by number (`INC-42` → 42). Each kind of command is its own
    class, so `Ack(42) != Timeline(42)` and the executor finds a command's handler by its type."""

    number: int


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
class Commander(IncidentCommand):
    # Addresses to try in order: a Slack mention `<@U024BE7LH|alice>` gives ("U024BE7LH", "@alice").
    user: tuple[str, ...]


@dataclass(frozen=True)
class Resolve(IncidentCommand):
    summary: str = ""


Command = Union[Create, Ack, Status, Update, Severity, Commander, Resolve, Timeline, Oncall, Help]

# Each command's form and what it does; `{gravest}` and `{lesser}` are the organisation's two most
# severe levels' names, which `replies.usage` fills in.
USAGE = {
    "create": ("create <severity> <title>", "declare an incident, e.g. `create {lesser} Checkout errors`"),
    "ack": ("ack <INC>", "acknowledge an incident, e.g. `ack INC-42`"),
    "status": ("status [<INC>]", "one incident's state, or the open incidents"),
    "update": ("update <INC> [--external|-e] <text>", "post a status update (internal; -e: customer-facing); it does not acknowledge"),
    "severity": ("severity <INC> <severity>", "re-rate an incident, e.g. `severity INC-42 {gravest}`"),
    "commander": ("commander <INC> <@user>", "hand the incident commander role to someone"),
    "resolve": ("resolve <INC> [summary]", "resolve an incident"),
    "timeline": ("timeline <INC>", f"the last {TIMELINE_LIMIT} events of an incident"),
    "oncall": ("oncall [<service>]", "who is on call now (for a service: its first escalation level)"),
    "help": ("help [<command>]", "this list, or one command's usage"),
}
ALIASES = {
    "declare": "create", "new": "create", "acknowledge": "ack", "sev": "severity", "ic": "commander",
    "on-call": "oncall", "who": "oncall", "?": "help",
}
_EXTERNAL_FLAGS = {"--external", "-e"}
_INTERNAL_FLAGS = {"--internal", "-i"}
# `<@U024BE7LH>` or `<@U024BE7LH|alice>`: how Slack sends a mention when it escapes them.
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]*))?>", re.IGNORECASE)
_TOKEN = re.compile(r"\S+")


class ParseError(Exception):
    """Text that is not a command: `message` says why, `command` names the usage to show (or "")."""

    def __init__(self, message: str, command: str = ""):
        super().__init__(message)
        self.message = message
        self.command = command


# --- Parsing ----------------------------------------------------------------------------------


def parse(text: str) -> Command:
    """The command in `text` (a leading `/incident` is skipped). Pure: no database."""
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
        if len(args) > 1:
            raise ParseError("`status` takes at most one incident.", verb)
        return Status(_parse_incident(args[0], verb) if args else None)
    if verb == "oncall":
        return Oncall(rest(0))
    if verb == "update":
        return _parse_update(args, rest)
    return _parse_on_incident(verb, args, rest)


def _parse_create(args: list[str], rest: Callable[[int], str]) -> Create:
    if not args:
        raise ParseError("Say how severe it is and what is wrong.", "create")
    title = rest(1)
    if not title:
        raise ParseError("The incident needs a title after the severity.", "create")
    return Create(args[0], title)


def _parse_on_incident(verb: str, args: list[str], rest: Callable[[int], str]) -> IncidentCommand:
    """`ack`, `timeline`, `resolve`, `severity` and `commander`: the incident first."""
    if not args:
        raise ParseError("Say which incident, e.g. `INC-42`.", verb)
    number = _parse_incident(args[0], verb)
    if verb in ("ack", "timeline"):
        if len(args) > 1:
            raise ParseError(f"`{verb}` takes only the incident.", verb)
        return Ack(number) if verb == "ack" else Timeline(number)
    if verb == "resolve":
        return Resolve(number, rest(1))
    if verb == "severity":
        if len(args) < 2:
            raise ParseError("Say the incident and its new severity.", verb)
        return Severity(number, rest(1))
    # commander
    if len(args) != 2:
        raise ParseError("Say the incident and who takes command, e.g. `commander INC-42 @alice`.", verb)
    return Commander(number, chat_identity(args[1]))


def _parse_update(args: list[str], rest: Callable[[int], str]) -> Update:
    external = None
    i = 0
    number = None
    # Flags may come before or after the incident, or last.
    while i < len(args):
        token = args[i].lower()
        if token in _EXTERNAL_FLAGS or token in _INTERNAL_FLAGS:
            external = _flag(external, token in _EXTERNAL_FLAGS)
        elif number is None:
            number = _parse_incident(args[i], "update")
        else:
            break
        i += 1
    if number is None:
        raise ParseError("Say which incident, e.g. `update INC-42 Rolled back the deploy`.", "update")
    text = rest(i)
    last = args[-1].lower() if i < len(args) else ""
    if i < len(args) - 1 and (last in _EXTERNAL_FLAGS or last in _INTERNAL_FLAGS):
        external = _flag(external, last in _EXTERNAL_FLAGS)
        text = text[: len(text) - len(args[-1])].rstrip()
    if not text:
        raise ParseError("The update needs some text after the incident.", "update")
    return Update(number, text, bool(external))


def _flag(current: bool | None, external: bool) -> bool:
    if current is not None and current != external:
        raise ParseError("An update is either internal or external, not both.", "update")
    return external


def _parse_incident(token: str, verb: str) -> int:
    number = Incident.number_from_reference(token)
    if number is None:
        raise ParseError(f"`{code(_short(token))}` is not an incident reference; write `INC-42` or `42`.", verb)
    return number


def chat_identity(token: str) -> tuple[str, ...]:
    """The addresses a typed person may be known by: `@alice` → ("@alice",);
    `<@U024BE7LH|alice>` → ("U024BE7LH", "@alice")."""
    mention = _MENTION.fullmatch(token.strip())
    if mention:
        member, name = mention.groups()
        return (member,) + ((f"@{name.lstrip('@')}",) if name else ())
    return (token.strip(),)


def _short(token: str) -> str:
    return token if len(token) <= 40 else token[:40] + "…"
