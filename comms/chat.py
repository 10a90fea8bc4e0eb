"""Chat commands (`/incident ack INC-42`): a pure parser from text to `Command`s, an executor that
acts as the Vigil user behind a chat handle through `incidents.actions`, and Slack-compatible replies.

- `parse(text)` looks nothing up: it returns one of the command dataclasses below or raises
  `ParseError` with what went wrong and the command's usage.
- `find_chat_user(candidates)` maps a chat identity to a Vigil user through an active chat
  `ContactMethod` (`@alice`, `alice` or a Slack member id such as `U024BE7LH`).
- `execute(command, user)` checks the same permissions as the admin (`incidents.permissions`),
  calls one action with `source=chat`, and returns a `Reply`; domain errors become replies.
- `respond(text, candidates)` is the whole round trip the API endpoints call: it never raises for
  bad input, unknown people or refusals — chat shows whatever comes back.

Replies are `{"response_type", "text", "blocks"}`: "in_channel" for changes everyone in the
room should see, "ephemeral" (only the caller sees it) for errors, help and lookups. Every
user-supplied value is escaped for Slack (`&`, `<`, `>`), so a title cannot mention a room.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Union
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from incidents import actions, deadlines, firing, permissions
from incidents.errors import DomainError
from incidents.models import OPEN_STATUSES, Incident, Participant, Service, SeverityLevel, Source, TimelineEvent
from incidents.selectors import commanders_of, current_commanders, visible_incidents
from oncall.formatting import age
from oncall.models import Schedule, User
from oncall.schedules import on_call_at, prefetch_rotations

from .models import Channel, ContactMethod
from .slack import escape

# How much a lookup shows: open incidents in `status`, events in `timeline`, schedules in `oncall`.
STATUS_LIMIT = 10
TIMELINE_LIMIT = 10
SCHEDULE_LIMIT = 25
# Slack refuses a section text over 3,000 characters and a message over 50 blocks.
_SECTION_LIMIT = 3000
_BLOCK_LIMIT = 50


# --- Commands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Create:
    severity: int
    title: str


@dataclass(frozen=True)
class Ack:
    number: int


@dataclass(frozen=True)
class Status:
    number: int | None = None


@dataclass(frozen=True)
class Update:
    number: int
    text: str
    external: bool = False


@dataclass(frozen=True)
class Severity:
    number: int
    severity: int


@dataclass(frozen=True)
class Commander:
    number: int
    # Addresses to try in order: a Slack mention `<@U024BE7LH|alice>` gives ("U024BE7LH", "@alice").
    user: tuple[str, ...]


@dataclass(frozen=True)
class Resolve:
    number: int
    summary: str = ""


@dataclass(frozen=True)
class Timeline:
    number: int


@dataclass(frozen=True)
class Oncall:
    service: str = ""


@dataclass(frozen=True)
class Help:
    topic: str = ""


Command = Union[Create, Ack, Status, Update, Severity, Commander, Resolve, Timeline, Oncall, Help]

USAGE = {
    "create": ("create <severity> <title>", "declare an incident, e.g. `create SEV-2 Checkout errors`"),
    "ack": ("ack <INC>", "acknowledge an incident, e.g. `ack INC-42`"),
    "status": ("status [<INC>]", "one incident's state, or the open incidents"),
    "update": ("update <INC> [--external|-e] <text>", "post a status update (internal; -e: customer-facing); it does not acknowledge"),
    "severity": ("severity <INC> <severity>", "re-rate an incident, e.g. `severity INC-42 SEV-1`"),
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
_SEVERITY = re.compile(r"(?:sev-?)?(\d{1,3})", re.IGNORECASE)
# `<@U024BE7LH>` or `<@U024BE7LH|alice>`: how Slack sends a mention when it escapes them.
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]*))?>", re.IGNORECASE)
_TOKEN = re.compile(r"\S+")


class ParseError(Exception):
    """Text that is not a command: `message` says why, `command` names the usage to show (or "")."""

    def __init__(self, message: str, command: str = ""):
        super().__init__(message)
        self.message = message
        self.command = command


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
        raise ParseError(f"I don't know the command `{_code(_short(tokens[0].group()))}`.")
    args = [t.group() for t in tokens[1:]]

    def rest(i: int) -> str:
        """The text from argument `i` on, spacing kept."""
        return text[tokens[i + 1].start():].strip() if i < len(args) else ""

    if verb == "help":
        topic = args[0].lower().lstrip("/") if args else ""
        return Help(ALIASES.get(topic, topic))
    if verb == "create":
        if not args:
            raise ParseError("Say how severe it is and what is wrong.", verb)
        severity = _parse_severity(args[0], verb)
        title = rest(1)
        if not title:
            raise ParseError("The incident needs a title after the severity.", verb)
        return Create(severity, title)
    if verb == "status":
        if len(args) > 1:
            raise ParseError("`status` takes at most one incident.", verb)
        return Status(_parse_incident(args[0], verb) if args else None)
    if verb == "oncall":
        return Oncall(rest(0))
    if verb == "update":
        return _parse_update(args, rest)

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
        if len(args) != 2:
            raise ParseError("Say the incident and its new severity, e.g. `severity INC-42 SEV-1`.", verb)
        return Severity(number, _parse_severity(args[1], verb))
    # commander
    if len(args) != 2:
        raise ParseError("Say the incident and who takes command, e.g. `commander INC-42 @alice`.", verb)
    return Commander(number, chat_identity(args[1]))


def _parse_update(args: list[str], rest) -> Update:
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
        raise ParseError(f"`{_code(_short(token))}` is not an incident reference; write `INC-42` or `42`.", verb)
    return number


def _parse_severity(token: str, verb: str) -> int:
    match = _SEVERITY.fullmatch(token)
    if not match:
        raise ParseError(f"`{_code(_short(token))}` is not a severity; write `SEV-1`, `sev1` or `1`.", verb)
    return int(match.group(1))


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


# --- Replies ------------------------------------------------------------------------------------


def _code(text: str) -> str:
    """User text shown inside inline code, with the backticks it carries removed."""
    return escape(text).replace("`", "'")


@dataclass
class Reply:
    """What chat shows: mrkdwn sections (values already escaped); `in_channel` for changes."""

    sections: list[str]
    in_channel: bool = False
    ok: bool = True

    @property
    def text(self) -> str:
        return "\n\n".join(self.sections)

    def as_slack(self) -> dict:
        blocks = [
            {"type": "section", "text": {"type": "mrkdwn", "text": _clip(section, _SECTION_LIMIT)}}
            for section in self.sections[:_BLOCK_LIMIT]
            if section.strip()
        ]
        return {"response_type": "in_channel" if self.in_channel else "ephemeral", "text": _clip(self.text, 35_000), "blocks": blocks}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def usage(command: str = "", *, prefix: str = "") -> str:
    lead = f"{escape(prefix)} " if prefix else ""
    if command in USAGE:
        form, what = USAGE[command]
        return f"Usage: `{lead}{form}` — {what}."
    lines = [f"• `{lead}{form}` — {what}" for form, what in USAGE.values()]
    return "*Vigil commands*\n" + "\n".join(lines) + "\n<INC> is `INC-42` or `42`; a severity is `SEV-1`, `sev1` or `1`."


def refusal(message: str, command: str = "", *, prefix: str = "") -> Reply:
    """An error reply: what went wrong, then how to write it."""
    return Reply([f":warning: {message}", usage(command, prefix=prefix)], ok=False)


# --- Who is talking --------------------------------------------------------------------------


class UnknownChatUser(Exception):
    """Nobody (or more than one person) has the handle: `handles` as tried, escaped for Slack."""

    def __init__(self, handles: str, *, ambiguous: bool = False):
        super().__init__(handles)
        self.handles = handles
        self.ambiguous = ambiguous

    def describe(self, who: str) -> str:
        if self.ambiguous:
            return (
                f"The chat handle {self.handles} belongs to more than one Vigil user; "
                "ask an admin to keep it on one person's contact methods."
            )
        return f"{who} the chat handle {self.handles}."


def find_chat_user(candidates: tuple[str, ...] | list[str], *, usernames: bool = False) -> User:
    """The active Vigil user whose active chat contact method has one of `candidates` as its
    address (tried in order; `alice` and `@alice` are the same handle, case ignored). With
    `usernames`, a handle nobody has as a chat address may also be a Vigil username.
    Raises `UnknownChatUser` with a message for the person typing."""
    tried = []
    for candidate in candidates:
        bare = (candidate or "").strip().lstrip("@")
        if not bare or len(bare) > 250:
            continue
        tried.append(candidate.strip())
        users = {
            method.user_id: method.user
            for method in ContactMethod.objects.filter(
                Q(address__iexact=bare) | Q(address__iexact="@" + bare),
                channel=Channel.CHAT,
                is_active=True,
                user__is_active=True,
            ).select_related("user")
        }
        if len(users) > 1:
            raise UnknownChatUser(escape(candidate.strip()), ambiguous=True)
        if users:
            return next(iter(users.values()))
    if usernames:
        for candidate in candidates:
            bare = (candidate or "").strip().lstrip("@")
            user = User.objects.filter(username__iexact=bare, is_active=True).first() if bare else None
            if user is not None:
                return user
    shown = " or ".join(escape(c) for c in tried) or "(no handle)"
    raise UnknownChatUser(shown)


# --- Doing it ----------------------------------------------------------------------------------


class _Refused(Exception):
    """A refusal inside the executor: its message (mrkdwn, escaped), and whose usage to add."""

    def __init__(self, message: str, *, usage_of: str | None = None):
        super().__init__(message)
        self.message = message
        self.usage_of = usage_of


def respond(text: str, candidates: tuple[str, ...] | list[str], *, prefix: str = "") -> Reply:
    """Parse `text`, find who is typing from `candidates`, execute. Bad input, unknown people,
    refusals and domain errors all come back as replies."""
    # NUL cannot be stored in PostgreSQL text; nobody types one on purpose.
    text = (text or "").replace("\x00", "")
    candidates = [c.replace("\x00", "") for c in candidates]
    try:
        command = parse(text)
    except ParseError as exc:
        return refusal(exc.message, exc.command, prefix=prefix)
    if isinstance(command, Help):
        return Reply([usage(command.topic, prefix=prefix)])
    try:
        user = find_chat_user(candidates)
    except UnknownChatUser as exc:
        message = exc.describe("I don't know who you are in Vigil: no active Vigil user has")
        if not exc.ambiguous:
            message += " Add it to your contact methods in the Vigil admin (channel chat), then try again."
        return refusal(message, prefix=prefix)
    return execute(command, user, prefix=prefix)


def execute(command: Command, user: User, *, prefix: str = "") -> Reply:
    """Run one parsed command as `user` (permissions as in the admin)."""
    handler = _HANDLERS[type(command)]
    try:
        return handler(command, user)
    except _Refused as refused:
        if refused.usage_of is not None:
            return refusal(refused.message, refused.usage_of, prefix=prefix)
        return Reply([refused.message], ok=False)
    except DomainError as exc:
        return Reply([f":warning: {escape(str(exc))}"], ok=False)


def _visible_incident(number: int, user: User) -> Incident:
    """The incident if `user` may see it; restricted ones they may not see do not exist for them."""
    incident = (
        visible_incidents(user)
        .select_related("severity")
        .prefetch_related("participants")
        .filter(number=number)
        .first()
    )
    if incident is None or not permissions.can_view(user, incident):
        raise _Refused(f"No incident INC-{number}.")
    return incident


def _require(allowed: bool, user: User, doing: str, needs: str) -> None:
    if not allowed:
        raise _Refused(f":no_entry: {escape(str(user))}, you may not {doing}: {needs}")


def _severity_level(rank: int) -> SeverityLevel:
    level = SeverityLevel.objects.filter(name__iexact=f"SEV-{rank}").first() or SeverityLevel.objects.filter(rank=rank).first()
    if level is None:
        names = ", ".join(SeverityLevel.objects.values_list("name", flat=True))
        raise _Refused(f"There is no severity SEV-{rank}; choose from {escape(names)}.")
    return level


def _for_the_channel(incident: Incident) -> bool:
    """Changes are answered in the channel for everyone to see, except those to a restricted
    incident: the channel is wider than its participants, so only the person typing sees the reply."""
    return not incident.is_restricted


def _headline(incident: Incident) -> str:
    return f"*{incident.reference}* · {escape(incident.severity.name)} · {escape(incident.title)}"


def _create(command: Create, user: User) -> Reply:
    _require(permissions.can_declare(user), user, "declare incidents", "that needs the incidents.add_incident permission.")
    severity = _severity_level(command.severity)
    incident = actions.declare(title=command.title, severity=severity, actor=user, source=Source.CHAT)
    return Reply(
        [f":rotating_light: {escape(str(user))} declared {_headline(incident)}", f"Acknowledge with `ack {incident.reference}`."],
        in_channel=_for_the_channel(incident),
    )


def _ack(command: Ack, user: User) -> Reply:
    incident = _visible_incident(command.number, user)
    _require(permissions.may(user, incident, "acknowledge"), user, f"acknowledge {incident.reference}", _RESPOND_NEEDS)
    incident = actions.acknowledge(incident, actor=user, source=Source.CHAT)
    if incident.reopened_at:
        since = f"{age(incident.reopened_at, incident.reopen_acknowledged_at)} after it was reopened"
    else:
        since = f"{age(incident.declared_at, incident.acknowledged_at)} after it was declared"
    return Reply([f":eyes: {escape(str(user))} acknowledged {_headline(incident)} ({since})"], in_channel=_for_the_channel(incident))


def _update(command: Update, user: User) -> Reply:
    incident = _visible_incident(command.number, user)
    _require(permissions.may(user, incident, "post_update"), user, f"post updates on {incident.reference}", _RESPOND_NEEDS)
    visibility = TimelineEvent.Visibility.EXTERNAL if command.external else TimelineEvent.Visibility.INTERNAL
    incident = actions.post_update(incident, command.text, actor=user, source=Source.CHAT, visibility=visibility)
    kind = "External (customer-facing) update" if command.external else "Internal update"
    lines = [f":memo: {kind} on {_headline(incident)} by {escape(str(user))}:", _quote(command.text)]
    if incident.status == Incident.Status.TRIGGERED:
        # A chat update never moves the status, so it never acknowledges: say so, or the paging surprises.
        lines.append(
            f":warning: {incident.reference} is still not acknowledged (an update does not acknowledge it); "
            f"`ack {incident.reference}` stops the paging."
        )
    return Reply(lines, in_channel=_for_the_channel(incident))


def _change_severity(command: Severity, user: User) -> Reply:
    incident = _visible_incident(command.number, user)
    _require(permissions.may(user, incident, "change_severity"), user, f"change the severity of {incident.reference}", _COMMAND_NEEDS)
    level = _severity_level(command.severity)
    previous = incident.severity
    incident = actions.change_severity(incident, level, actor=user, source=Source.CHAT)
    direction = "escalated" if level.rank < previous.rank else "downgraded"
    return Reply(
        [f":arrows_counterclockwise: {escape(str(user))} {direction} {incident.reference} "
         f"{escape(previous.name)} → *{escape(level.name)}* · {escape(incident.title)}"],
        in_channel=_for_the_channel(incident),
    )


def _commander(command: Commander, user: User) -> Reply:
    incident = _visible_incident(command.number, user)
    _require(permissions.may(user, incident, "assign_role"), user, f"assign the commander of {incident.reference}", _COMMAND_NEEDS)
    try:
        target = find_chat_user(command.user, usernames=True)
    except UnknownChatUser as exc:
        raise _Refused(exc.describe("No active Vigil user has"), usage_of="commander") from None
    actions.assign_role(incident, target, Participant.Role.COMMANDER, actor=user, source=Source.CHAT)
    return Reply(
        [f":female-firefighter: {escape(str(target))} is now incident commander of {_headline(incident)} (set by {escape(str(user))})"],
        in_channel=_for_the_channel(incident),
    )


def _resolve(command: Resolve, user: User) -> Reply:
    incident = _visible_incident(command.number, user)
    _require(permissions.may(user, incident, "resolve"), user, f"resolve {incident.reference}", _COMMAND_NEEDS)
    incident = actions.resolve(incident, actor=user, source=Source.CHAT, summary=command.summary)
    sections = [f":white_check_mark: {escape(str(user))} resolved {_headline(incident)} after {age(incident.started_at, incident.resolved_at)}"]
    if command.summary:
        sections.append(_quote(command.summary))
    return Reply(sections, in_channel=_for_the_channel(incident))


def _status(command: Status, user: User) -> Reply:
    if command.number is not None:
        return _status_of(_visible_incident(command.number, user), user)
    if not user.has_perm("incidents.view_incident"):
        raise _Refused(f":no_entry: {escape(str(user))}, you may not view incidents.")
    open_incidents = list(
        visible_incidents(user)
        .filter(status__in=OPEN_STATUSES)
        .select_related("severity")
        .prefetch_related(current_commanders())
        .order_by("severity__rank", "-declared_at")[: STATUS_LIMIT + 1]
    )
    if not open_incidents:
        return Reply([":large_green_circle: No open incidents."])
    now = timezone.now()
    lines = [
        f"• {_headline(incident)} — {Incident.Status(incident.status).label.lower()}, "
        f"{age(incident.declared_at, now)} old, commander {_names(p.user for p in incident.commanders)}"
        + (" _(drill)_" if incident.is_drill else "")
        + (" _(restricted)_" if incident.is_restricted else "")
        for incident in open_incidents[:STATUS_LIMIT]
    ]
    sections = [f"*Open incidents* (most severe first)\n" + "\n".join(lines)]
    if len(open_incidents) > STATUS_LIMIT:
        more = visible_incidents(user).filter(status__in=OPEN_STATUSES).count() - STATUS_LIMIT
        sections.append(f"…and {more} more in the Vigil admin.")
    return Reply(sections)


def _status_of(incident: Incident, user: User) -> Reply:
    now = timezone.now()
    commanders = commanders_of(incident)
    latest = incident.timeline.filter(kind=TimelineEvent.Kind.STATUS_UPDATE).order_by("-occurred_at", "-pk").first()
    facts = [
        f"Status: *{Incident.Status(incident.status).label}*",
        f"Commander: {_names(commanders)}",
        f"Declared {age(incident.declared_at, now)} ago",
        f"Acknowledged after {age(incident.declared_at, incident.acknowledged_at)}" if incident.acknowledged_at else "Not acknowledged",
    ]
    if incident.resolved_at:
        facts.append(f"Resolved {age(incident.resolved_at, now)} ago")
    services = list(incident.services.values_list("name", flat=True))
    if services:
        facts.append(f"Services: {escape(', '.join(services))}")
    flags = [label for flag, label in ((incident.is_drill, "drill"), (incident.is_restricted, "restricted")) if flag]
    sections = [_headline(incident) + (f" _({', '.join(flags)})_" if flags else ""), "\n".join(facts)]
    if latest is not None:
        sections.append(f"Last update ({latest.visibility}, {age(latest.occurred_at, now)} ago):\n{_quote(latest.message)}")
    return Reply(sections)


def _timeline(command: Timeline, user: User) -> Reply:
    incident = _visible_incident(command.number, user)
    events = list(incident.timeline.select_related("actor").order_by("-occurred_at", "-pk")[:TIMELINE_LIMIT])
    zone = _zone(user)
    lines = [
        f"• `{timezone.localtime(event.occurred_at, zone):%d %b %H:%M}` {escape(event.actor_label)}: "
        f"{escape(_clip(' '.join(event.message.split()), 300))}"
        + (" _(external)_" if event.visibility == TimelineEvent.Visibility.EXTERNAL else "")
        for event in reversed(events)
    ]
    total = incident.timeline.count()
    heading = f"{_headline(incident)} — last {len(events)} of {total} events ({escape(str(zone))})"
    return Reply([heading, "\n".join(lines) or "No events."])


def _oncall(command: Oncall, user: User) -> Reply:
    _require(user.has_perm("oncall.view_schedule"), user, "see who is on call", "that needs the oncall.view_schedule permission.")
    now = timezone.now()
    if command.service:
        return _oncall_for_service(command.service, now)
    schedules = prefetch_rotations(list(Schedule.objects.order_by("name")[: SCHEDULE_LIMIT + 1]), now, now + timedelta(seconds=1))
    if not schedules:
        return Reply(["There are no on-call schedules yet."])
    lines = [f"• *{escape(s.name)}*: {_names(on_call_at(s, now), empty='nobody (a gap in the schedule)')}" for s in schedules[:SCHEDULE_LIMIT]]
    sections = ["*On call now*\n" + "\n".join(lines)]
    if len(schedules) > SCHEDULE_LIMIT:
        sections.append("…and more schedules in the Vigil admin.")
    return Reply(sections)


def _oncall_for_service(name: str, now) -> Reply:
    service = Service.objects.filter(Q(slug__iexact=name) | Q(name__iexact=name)).select_related("escalation_policy").first()
    if service is None:
        known = list(Service.objects.order_by("name").values_list("name", flat=True)[:20])
        raise _Refused(f"There is no service called `{_code(name)}`. Services: {escape(', '.join(known)) or 'none yet'}.")
    policy = deadlines.policy_for_services([service])
    levels = deadlines.policy_levels(policy)
    if not levels:
        return Reply([f"*{escape(service.name)}* has no escalation policy with levels: nobody would be paged."])
    first = levels[0]
    people = firing.level_targets(first, now)
    return Reply(
        [f"*On call for {escape(service.name)} now*: {_names(people, empty='nobody (a gap in the schedule)')}\n"
         f"_{escape(policy.name)}, level {first.position}: {escape(first.name)}_"]
    )


def _names(people, *, empty: str = "none") -> str:
    names = [escape(str(person)) for person in people]
    return ", ".join(names) if names else empty


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in escape(_clip(text, 2500)).splitlines() or [""])


def _zone(user: User):
    try:
        return ZoneInfo(user.time_zone or "UTC")
    except Exception:  # a zone name that no longer exists: show UTC rather than fail
        return ZoneInfo("UTC")


_RESPOND_NEEDS = "that needs the respond permission or a role on the incident."
_COMMAND_NEEDS = "that needs the command permission or being the incident's commander."
_HANDLERS = {
    Create: _create, Ack: _ack, Status: _status, Update: _update, Severity: _change_severity,
    Commander: _commander, Resolve: _resolve, Timeline: _timeline, Oncall: _oncall,
}
