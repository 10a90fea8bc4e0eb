"""Running a parsed command as the Vigil user behind a chat handle: `execute` checks the same
permissions as the admin (`incidents.permissions`), calls one action with `source=chat` and
returns a `Reply`; `respond` is the whole round trip the API endpoints call. Neither raises for
bad input, unknown people, refusals or domain errors: chat shows whatever comes back.

Changes are answered "in_channel" for everyone in the room (but see `_for_the_channel`);
errors, help and lookups are "ephemeral", for the caller only.

Typed in an incident's war-room channel (`respond(..., channel=<id>)`), a command about one
incident that names none applies to that incident; an explicit reference wins. Outside one, such a
command is refused with what to type.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from incidents import actions, deadlines, firing, lifecycle, permissions
from incidents.errors import DomainError, InvalidField, UnknownSeverity
from incidents.models import OPEN_STATUSES, Incident, Participant, Service, SeverityLevel, Source, TimelineEvent
from incidents.models import Status as IncidentStatus
from incidents.selectors import commanders_of, current_commanders, visible_incidents
from incidents.severities import find_leading_severity, find_severity, severity_levels
from oncall.formatting import age
from oncall.models import Schedule, User
from oncall.schedules import on_call_at, prefetch_rotations

from ..slack import code, escape
from ..warroom import incident_for_channel
from .parse import EXAMPLES, ROLE_COMMANDS, SCHEDULE_LIMIT, STATUS_LIMIT, TIMELINE_LIMIT, Command, IncidentCommand, ParseError
from .parse import parse, verb_of
from .parse import Ack, AssignRole, Create, Help, Mitigated, Note, Oncall, Release, Resolve, Severity, Status, Timeline, Update
from .people import UnknownChatUser, find_chat_user
from .replies import Reply, clip, headline, names, quote, refusal, usage


class _Refused(Exception):
    """A refusal inside the executor: its message (mrkdwn, escaped), and whose usage to add."""

    def __init__(self, message: str, *, usage_of: str | None = None):
        super().__init__(message)
        self.message = message
        self.usage_of = usage_of


def respond(text: str, candidates: tuple[str, ...] | list[str], *, prefix: str = "", channel: str = "") -> Reply:
    """Parse `text`, find who is typing from `candidates`, execute. `channel` is the chat channel's
    id: in an incident's war room, commands that name no incident apply to it. Bad input, unknown
    people, refusals and domain errors all come back as replies."""
    # NUL cannot be stored in PostgreSQL text; nobody types one on purpose.
    text = (text or "").replace("\x00", "")
    candidates = [c.replace("\x00", "") for c in candidates]
    room = incident_for_channel(channel.replace("\x00", "").strip()) if channel else None
    try:
        command = parse(text, in_channel=room is not None)
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
    return execute(command, user, prefix=prefix, channel_incident=room)


def execute(command: Command, user: User, *, prefix: str = "", channel_incident: Incident | None = None) -> Reply:
    """Run one parsed command as `user` (permissions as in the admin). A command about one incident
    that names none applies to `channel_incident` (the war room it was typed in), or is refused."""
    handler = _HANDLERS[type(command)]
    try:
        return handler(_in_context(command, channel_incident), user)
    except _Refused as refused:
        if refused.usage_of is not None:
            return refusal(refused.message, refused.usage_of, prefix=prefix)
        return Reply([refused.message], ok=False)
    except DomainError as exc:
        return Reply([f":warning: {escape(str(exc))}"], ok=False)


def _in_context(command: Command, channel_incident: Incident | None) -> Command:
    """The command with the channel's incident filled in where it names none."""
    if isinstance(command, Status):
        if command.number is None and not command.listing and channel_incident is not None:
            return replace(command, number=channel_incident.number)
        return command
    if not isinstance(command, IncidentCommand) or command.number is not None:
        return command
    if channel_incident is None:
        verb = verb_of(command)
        raise _Refused(
            f"Say which incident: `{code(EXAMPLES[verb])}`, or type it in the incident's channel.", usage_of=verb
        )
    return replace(command, number=channel_incident.number)


def _visible_incident(number: int, user: User) -> Incident:
    """The incident if `user` may see it; restricted ones they may not see do not exist for them."""
    incident = (
        visible_incidents(user)
        .select_related("severity")
        .prefetch_related("participants__user")
        .filter(number=number)
        .first()
    )
    if incident is None or not permissions.can_view(user, incident):
        raise _Refused(f"No incident INC-{number}.")
    return incident


def _require(allowed: bool, user: User, doing: str, needs: str) -> None:
    if not allowed:
        raise _Refused(f":no_entry: {escape(str(user))}, you may not {doing}: {needs}")


def _severity_level(typed: str, verb: str) -> SeverityLevel:
    """The severity typed for `verb`, by the organisation's own names; a refusal lists them."""
    try:
        return find_severity(typed)
    except UnknownSeverity as exc:
        raise _Refused(escape(str(exc)), usage_of=verb) from None


def _severity_and_title(command: Create) -> tuple[SeverityLevel, str]:
    """What `create` declares: a severity may take more than its first word ("sev 1", "very high")."""
    try:
        return find_leading_severity(f"{command.severity} {command.title}", severity_levels())
    except UnknownSeverity as exc:
        raise _Refused(escape(str(exc)), usage_of="create") from None


def _for_the_channel(incident: Incident) -> bool:
    """Changes are answered in the channel for everyone to see, except those to a restricted
    incident: the channel is wider than its participants, so only the person typing sees the reply."""
    return not incident.is_restricted


# --- Changes: answered in the channel -----------------------------------------------------------


def _create(command: Create, user: User) -> Reply:
    _require(permissions.can_declare(user), user, "declare incidents", "that needs the incidents.add_incident permission.")
    severity, title = _severity_and_title(command)
    incident = actions.declare(title=title, severity=severity, actor=user, source=Source.CHAT)
    return Reply(
        [f":rotating_light: {escape(str(user))} declared {headline(incident)}", f"Acknowledge with `ack {incident.reference}`."],
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
    return Reply([f":eyes: {escape(str(user))} acknowledged {headline(incident)} ({since})"], in_channel=_for_the_channel(incident))


def _update(command: Update, user: User) -> Reply:
    incident = _visible_incident(command.number, user)
    _require(permissions.may(user, incident, "post_update"), user, f"post updates on {incident.reference}", _RESPOND_NEEDS)
    visibility = TimelineEvent.Visibility.EXTERNAL if command.external else TimelineEvent.Visibility.INTERNAL
    incident = actions.post_update(incident, command.text, actor=user, source=Source.CHAT, visibility=visibility)
    kind = "External (customer-facing) update" if command.external else "Internal update"
    lines = [f":memo: {kind} on {headline(incident)} by {escape(str(user))}:", quote(command.text)]
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
    level = _severity_level(command.severity, "severity")
    previous = incident.severity
    incident = actions.change_severity(incident, level, actor=user, source=Source.CHAT)
    direction = "escalated" if level.rank < previous.rank else "downgraded"
    return Reply(
        [f":arrows_counterclockwise: {escape(str(user))} {direction} {incident.reference} "
         f"{escape(previous.name)} → *{escape(level.name)}* · {escape(incident.title)}"],
        in_channel=_for_the_channel(incident),
    )


# How each role is named in replies and refusals, and its emoji.
_ROLE_WORDS = {
    Participant.Role.COMMANDER: ("incident commander", ":female-firefighter:"),
    Participant.Role.TECHNICAL_LEAD: ("technical lead", ":hammer_and_wrench:"),
    Participant.Role.COMMUNICATIONS_LEAD: ("communications lead", ":loudspeaker:"),
    Participant.Role.SCRIBE: ("scribe", ":pencil:"),
    Participant.Role.SUBJECT_MATTER_EXPERT: ("subject-matter expert", ":mortar_board:"),
    Participant.Role.RESPONDER: ("responder", ":technologist:"),
}


def _assign_role(command: AssignRole, user: User) -> Reply:
    incident = _visible_incident(command.number, user)
    role = Participant.Role(command.role)
    name, emoji = _ROLE_WORDS[role]
    doing = (
        f"add a subject-matter expert to {incident.reference}" if role == Participant.Role.SUBJECT_MATTER_EXPERT
        else f"assign the {'commander' if role == Participant.Role.COMMANDER else name} of {incident.reference}"
    )
    _require(permissions.may(user, incident, "assign_role"), user, doing, _COMMAND_NEEDS)
    try:
        target = find_chat_user(command.user, usernames=True)
    except UnknownChatUser as exc:
        raise _Refused(exc.describe("No active Vigil user has"), usage_of=verb_of(command)) from None
    previous = [
        p.user for p in incident.participants.all()
        if p.role == role and p.left_at is None and p.user_id != target.pk and role in Participant.SINGLE_HOLDER_ROLES
    ]
    actions.assign_role(incident, target, role, actor=user, source=Source.CHAT)
    if role == Participant.Role.SUBJECT_MATTER_EXPERT:
        text = f"{emoji} {escape(str(target))} joins {headline(incident)} as a subject-matter expert (added by {escape(str(user))})"
    else:
        text = f"{emoji} {escape(str(target))} is now {name} of {headline(incident)}"
        if previous:
            text += f", taking over from {names(previous)}"
        text += f" (set by {escape(str(user))})"
    return Reply([text], in_channel=_for_the_channel(incident))


def _release(command: Release, user: User) -> Reply:
    """A role from whoever holds it, a role from one person, or every role a person holds."""
    if not command.role and not command.user:
        raise _Refused("Say which role or whom to release.", usage_of="release")
    incident = _visible_incident(command.number, user)
    ref = incident.reference
    _require(permissions.may(user, incident, "release_role"), user, f"release roles on {ref}", _COMMAND_NEEDS)
    target = None
    if command.user:
        try:
            target = find_chat_user(command.user, usernames=True)
        except UnknownChatUser as exc:
            raise _Refused(exc.describe("No active Vigil user has"), usage_of="release") from None
    current = [p for p in incident.participants.all() if p.left_at is None]
    if command.role:
        name = _ROLE_WORDS[Participant.Role(command.role)][0]
        holders = [p for p in current if p.role == command.role]
        if target is not None:
            chosen = [p for p in holders if p.user_id == target.pk]
            if not chosen:
                held_by = f" ({names(p.user for p in holders)} is)" if holders else ""
                raise _Refused(f"{escape(str(target))} is not {name} of {ref}{held_by}.")
            holders = chosen
        elif not holders:
            raise _Refused(f"Nobody is {name} of {ref}.")
        elif len(holders) > 1:
            word = f"`release {ref} {_role_word(command.role)} @{holders[0].user.get_username()}`"
            raise _Refused(
                f"{ref} has {len(holders)} {name}s: {names(p.user for p in holders)}. Say which, e.g. {escape(word)}."
            )
    else:
        holders = [p for p in current if p.user_id == target.pk]
        if not holders:
            raise _Refused(f"{escape(str(target))} holds no role on {ref}.")
    with transaction.atomic():  # someone leaving every role leaves all of them or none
        for participant in holders:
            actions.release_role(participant, actor=user, source=Source.CHAT)
    released = " and ".join(_ROLE_WORDS[Participant.Role(p.role)][0] for p in holders)
    who = escape(str(holders[0].user))
    return Reply(
        [f":wave: {who} is no longer {released} of {headline(incident)} (released by {escape(str(user))})"],
        in_channel=_for_the_channel(incident),
    )


def _role_word(role: str) -> str:
    return next((verb for verb, value in ROLE_COMMANDS.items() if value == role), role)


def _mitigated(command: Mitigated, user: User) -> Reply:
    """The incident moves to monitoring with how it was mitigated: the admin's status change, so
    its permission (responding, from any working status or triggered)."""
    incident = _visible_incident(command.number, user)
    step = lifecycle.TRANSITIONS.get((IncidentStatus(incident.status), IncidentStatus.MONITORING), "change_status")
    needs = _RESPOND_NEEDS if permissions.required_for(step) == permissions.RESPOND else _COMMAND_NEEDS
    _require(permissions.may(user, incident, step), user, f"mark {incident.reference} mitigated", needs)
    incident = actions.mitigate(
        incident, command.how, mitigation=command.mitigation or None, actor=user, source=Source.CHAT
    )
    kind = f" ({escape(incident.get_mitigation_display())})" if incident.mitigation else ""
    return Reply(
        [f":adhesive_bandage: {escape(str(user))} marked {headline(incident)} mitigated{kind}; it is now monitoring.",
         quote(command.how)],
        in_channel=_for_the_channel(incident),
    )


def _note(command: Note, user: User) -> Reply:
    incident = _visible_incident(command.number, user)
    _require(permissions.may(user, incident, "add_note"), user, f"take notes on {incident.reference}", _RESPOND_NEEDS)
    incident = actions.add_note(incident, command.text, actor=user, source=Source.CHAT)
    return Reply(
        [f":spiral_note_pad: Note on {headline(incident)} by {escape(str(user))}:", quote(command.text)],
        in_channel=_for_the_channel(incident),
    )


def _resolve(command: Resolve, user: User) -> Reply:
    incident = _visible_incident(command.number, user)
    _require(permissions.may(user, incident, "resolve"), user, f"resolve {incident.reference}", _COMMAND_NEEDS)
    try:
        incident = actions.resolve(incident, actor=user, source=Source.CHAT, summary=command.summary)
    except InvalidField as exc:  # the severity needs a resolution summary: say how to give one
        raise _Refused(
            f"{escape(str(exc))} Write it after the incident: `resolve {incident.reference} <summary>`.", usage_of="resolve"
        ) from None
    sections = [f":white_check_mark: {escape(str(user))} resolved {headline(incident)} after {age(incident.started_at, incident.resolved_at)}"]
    if command.summary:
        sections.append(quote(command.summary))
    return Reply(sections, in_channel=_for_the_channel(incident))


# --- Lookups: answered to the caller only -------------------------------------------------------


def _status(command: Status, user: User) -> Reply:
    """One incident (named, or the channel's), else the open incidents."""
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
        f"• {headline(incident)} — {Incident.Status(incident.status).label.lower()}, "
        f"{age(incident.declared_at, now)} old, commander {names(p.user for p in incident.commanders)}"
        + (" _(drill)_" if incident.is_drill else "")
        + (" _(restricted)_" if incident.is_restricted else "")
        for incident in open_incidents[:STATUS_LIMIT]
    ]
    sections = ["*Open incidents* (most severe first)\n" + "\n".join(lines)]
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
        f"Commander: {names(commanders)}",
        f"Declared {age(incident.declared_at, now)} ago",
        f"Acknowledged after {age(incident.declared_at, incident.acknowledged_at)}" if incident.acknowledged_at else "Not acknowledged",
    ]
    if incident.resolved_at:
        facts.append(f"Resolved {age(incident.resolved_at, now)} ago")
    services = list(incident.services.values_list("name", flat=True))
    if services:
        facts.append(f"Services: {escape(', '.join(services))}")
    flags = [label for flag, label in ((incident.is_drill, "drill"), (incident.is_restricted, "restricted")) if flag]
    sections = [headline(incident) + (f" _({', '.join(flags)})_" if flags else ""), "\n".join(facts)]
    if latest is not None:
        sections.append(f"Last update ({latest.visibility}, {age(latest.occurred_at, now)} ago):\n{quote(latest.message)}")
    return Reply(sections)


def _timeline(command: Timeline, user: User) -> Reply:
    incident = _visible_incident(command.number, user)
    events = list(incident.timeline.select_related("actor").order_by("-occurred_at", "-pk")[:TIMELINE_LIMIT])
    zone = _zone(user)
    lines = [
        f"• `{timezone.localtime(event.occurred_at, zone):%d %b %H:%M}` {escape(event.actor_label)}: "
        f"{escape(clip(' '.join(event.message.split()), 300))}"
        + (" _(external)_" if event.visibility == TimelineEvent.Visibility.EXTERNAL else "")
        for event in reversed(events)
    ]
    total = incident.timeline.count()
    heading = f"{headline(incident)} — last {len(events)} of {total} events ({escape(str(zone))})"
    return Reply([heading, "\n".join(lines) or "No events."])


def _oncall(command: Oncall, user: User) -> Reply:
    _require(user.has_perm("oncall.view_schedule"), user, "see who is on call", "that needs the oncall.view_schedule permission.")
    now = timezone.now()
    if command.service:
        return _oncall_for_service(command.service, now)
    schedules = prefetch_rotations(list(Schedule.objects.order_by("name")[: SCHEDULE_LIMIT + 1]), now, now + timedelta(seconds=1))
    if not schedules:
        return Reply(["There are no on-call schedules yet."])
    lines = [f"• *{escape(s.name)}*: {names(on_call_at(s, now), empty='nobody (a gap in the schedule)')}" for s in schedules[:SCHEDULE_LIMIT]]
    sections = ["*On call now*\n" + "\n".join(lines)]
    if len(schedules) > SCHEDULE_LIMIT:
        sections.append("…and more schedules in the Vigil admin.")
    return Reply(sections)


def _oncall_for_service(name: str, now) -> Reply:
    service = Service.objects.filter(Q(slug__iexact=name) | Q(name__iexact=name)).select_related("escalation_policy").first()
    if service is None:
        known = list(Service.objects.order_by("name").values_list("name", flat=True)[:20])
        raise _Refused(f"There is no service called `{code(name)}`. Services: {escape(', '.join(known)) or 'none yet'}.")
    policy = deadlines.policy_for_services([service])
    levels = deadlines.policy_levels(policy)
    if not levels:
        return Reply([f"*{escape(service.name)}* has no escalation policy with levels: nobody would be paged."])
    first = levels[0]
    people = firing.level_targets(first, now)
    return Reply(
        [f"*On call for {escape(service.name)} now*: {names(people, empty='nobody (a gap in the schedule)')}\n"
         f"_{escape(policy.name)}, level {first.position}: {escape(first.name)}_"]
    )


def _zone(user: User):
    try:
        return ZoneInfo(user.time_zone or "UTC")
    except Exception:  # a zone name that no longer exists: show UTC rather than fail
        return ZoneInfo("UTC")


_RESPOND_NEEDS = "that needs the respond permission or a role on the incident."
_COMMAND_NEEDS = "that needs the command permission or being the incident's commander."
_HANDLERS = {
    Create: _create, Ack: _ack, Status: _status, Update: _update, Severity: _change_severity,
    AssignRole: _assign_role, Release: _release, Mitigated: _mitigated, Note: _note,
    Resolve: _resolve, Timeline: _timeline, Oncall: _oncall,
}
