"""Who must hear about a timeline event, in which words, through which contact methods.

Pure decisions over rows read in a fixed number of queries; `comms.outbox` turns the answer
into Notification rows. The rules:

- Pages (`escalated`, `ack_sla_breached`) go to the targets the engine resolved at that
  instant (`event.data["targets"]`), through each person's notification rules (delayed
  rules only while the incident is unacknowledged). An escalation marked
  `data["page"] = False` (a level engaged to inform, after acknowledgement) is told instead:
  `escalation_info`, at once, no acknowledge link, no rules.
- Reminders and warnings (`update_overdue`, `resolve_target_breached`, `status_page_overdue`)
  go to their targets, on the channels that reach a person at once.
- Post-mortem reminders (`postmortem_reminder`, written by postmortems' daily run) go to their
  targets the same way; being reminded of a post-mortem is not being paged, so they are not
  told of the incident's later acknowledgement or resolution.
- Declarations, status updates, resolution and reopening go to the incident's participants
  and to the stakeholder groups subscribed for the severity (internal updates, executive
  summaries). Customer groups hear external updates, the resolution and a reopening when the
  incident is customer-facing and its severity notifies customers.
- Acknowledgement, resolution and reopening go to everyone the engine paged or told for the
  incident, so nobody keeps working a fixed problem or misses its return.
- Drills and restricted incidents reach only their current participants; everything said
  about a restricted incident uses the restricted audience's words.
- Nobody is told about their own action.
- Never silent: whoever routing meant to tell and does not reach is returned as a `Refusal`
  with a code from `REFUSALS`, and the outbox names them on the incident's timeline.
- The incident's war room, when it has one or one is opening, hears every event that changes
  how the incident is run (`comms.warroom.messages.KINDS`), the actor's own included, as one
  more route to the room itself (channel and audience `war_room`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from incidents.models import Incident, Participant, TimelineEvent

from .models import Audience, Channel, ContactMethod, MessageKind, StakeholderGroup, Subscription
from .warroom import messages as war_room

Kind = TimelineEvent.Kind

PAGE_KINDS = frozenset({Kind.ESCALATED, Kind.ACK_SLA_BREACHED})
TELL_KINDS = frozenset({Kind.UPDATE_OVERDUE, Kind.RESOLVE_TARGET_BREACHED, Kind.STATUS_PAGE_OVERDUE})
REMINDER_KINDS = frozenset({Kind.POSTMORTEM_REMINDER})
# Told to the incident's circle: participants and subscribed stakeholder groups.
BROADCAST_KINDS = {
    Kind.DECLARED: MessageKind.DECLARED,
    Kind.STATUS_UPDATE: MessageKind.STATUS_UPDATE,
    Kind.RESOLVED: MessageKind.RESOLUTION,
    Kind.REOPENED: MessageKind.REOPENED,
}
# Told to the event's targets, on the channels that reach a person at once.
TOLD_KINDS = {
    Kind.UPDATE_OVERDUE: MessageKind.UPDATE_OVERDUE,
    Kind.RESOLVE_TARGET_BREACHED: MessageKind.PAGE,
    Kind.STATUS_PAGE_OVERDUE: MessageKind.STATUS_PAGE_OVERDUE,
    Kind.POSTMORTEM_REMINDER: MessageKind.POSTMORTEM_REMINDER,
}
PEOPLE_KINDS = PAGE_KINDS | TELL_KINDS | REMINDER_KINDS | {Kind.ACKNOWLEDGED} | frozenset(BROADCAST_KINDS)
ROUTED_KINDS = PEOPLE_KINDS | frozenset(war_room.KINDS)

# A person with no rules of their own: email at once, SMS after 2 minutes if still
# unacknowledged, chat at once (each only if they have such a contact method).
DEFAULT_RULES: tuple[tuple[str, dt.timedelta, bool], ...] = (
    (Channel.EMAIL, dt.timedelta(0), False),
    (Channel.SMS, dt.timedelta(minutes=2), True),
    (Channel.CHAT, dt.timedelta(0), False),
)

# Every reason routing may decide not to deliver to someone it meant to tell. Each refusal is
# named on the incident's timeline (`notification_failed`, `data["reason"]` = the code): a
# new way of not delivering needs a code here, so it cannot be silent.
REFUSALS: dict[str, str] = {
    "inactive_user": "their account is deactivated",
    "restricted_not_participant": "the incident is restricted and they are not one of its participants",
    "drill_not_participant": "the incident is a drill and they are not one of its participants",
    "opted_out": "every contact method of theirs is turned off",
    "no_contact_method": "they have no email, SMS or chat contact method",
    "sms_only": "they can only be reached by SMS, which is kept for pages",
    "already_acknowledged": "their notification rules are all for unacknowledged incidents, and this one is acknowledged",
}

# When one person would be reached as several audiences, the most involved one wins.
_AUDIENCE_ORDER = {Audience.RESPONDERS: 0, Audience.EXECUTIVES: 1, Audience.INTERNAL: 2, Audience.CUSTOMERS: 3}


@dataclass(frozen=True)
class Route:
    """One message to send: to a person (through a contact method) or to an outside address."""

    kind: str
    audience: str
    channel: str
    address: str
    user: object | None = None
    contact_method: ContactMethod | None = None
    webhook_url: str = ""
    delay: dt.timedelta = dt.timedelta(0)
    only_if_unacknowledged: bool = False
    is_page: bool = False


@dataclass(frozen=True)
class Refusal:
    """A person routing meant to tell and does not: who, about what (message kind) and why
    (a code of `REFUSALS`)."""

    user: object
    kind: str
    reason: str

    def __post_init__(self):
        if self.reason not in REFUSALS:
            raise ValueError(f"Unknown refusal {self.reason!r}: add it to routing.REFUSALS.")

    @property
    def why(self) -> str:
        return REFUSALS[self.reason]


def routed(event: TimelineEvent) -> bool:
    """Whether anyone may hear of `event`: people (its kind), or the incident's war room."""
    return not unrouted([event])


def unrouted(events: list[TimelineEvent]) -> list[TimelineEvent]:
    """The events nobody will hear of: not a kind people are told of, and not one the incident's war
    room hears while it has or is getting a room (a fixed number of queries for a whole batch, and
    none unless a kind only the room hears is among them)."""
    for_the_room = [event for event in events if event.kind not in PEOPLE_KINDS and war_room.hears(event)]
    posting = war_room.posting_to(event.incident for event in for_the_room)
    return [
        event for event in events
        if event.kind not in PEOPLE_KINDS and not (war_room.hears(event) and event.incident_id in posting)
    ]


def is_page(event: TimelineEvent) -> bool:
    """A page carries an acknowledge link and follows notification rules; an escalation the
    engine marks `data["page"] = False` (a level engaged to inform) is told, not paged."""
    return event.kind in PAGE_KINDS and (event.data or {}).get("page", True) is not False


def plan(event: TimelineEvent) -> tuple[list[Route], list[Refusal]]:
    """Everyone who must hear about `event`, one Route per (person or address, channel, rule),
    and everyone it meant to tell but will not reach, with the reason."""
    routes, refusals = _people(event) if event.kind in PEOPLE_KINDS else ([], [])
    if war_room.hears(event) and war_room.has_or_opens(event.incident):
        incident = event.incident
        routes.append(
            Route(war_room.message_kind(event), Audience.WAR_ROOM, Channel.WAR_ROOM, war_room.address(incident))
        )
    return routes, refusals


def _people(event: TimelineEvent) -> tuple[list[Route], list[Refusal]]:
    incident: Incident = event.incident
    wanted = _Wanted(event.actor_id)
    targets = _targets(event)
    participants = _current_participants(incident)
    if event.kind in PAGE_KINDS:
        paging = is_page(event)
        message_kind = MessageKind.PAGE if paging else MessageKind.ESCALATION_INFO
        for target in targets:
            wanted.user(target, message_kind, Audience.RESPONDERS, page=paging)
    elif event.kind in TOLD_KINDS:
        for target in targets:
            wanted.user(target, TOLD_KINDS[event.kind], Audience.RESPONDERS)
    elif event.kind == Kind.ACKNOWLEDGED:
        for user_id in _everyone_paged(incident):
            wanted.user(user_id, MessageKind.ACKNOWLEDGED, Audience.RESPONDERS)
    else:
        _want_broadcast(event, incident, participants, wanted)
    outside = _keep_to_participants(incident, wanted, participants, targets)
    return _deliverable(incident, wanted, outside)


class _Wanted:
    """Who routing means to tell: each person and outside address once, as the most involved
    audience they would be reached as."""

    def __init__(self, actor_id: int | None):
        self.actor_id = actor_id
        self.users: dict[int, tuple[str, str, bool]] = {}  # user id -> (message kind, audience, page?)
        self.externals: dict[str, tuple[str, str]] = {}  # address -> (message kind, audience)

    def user(self, user_id: int | None, kind: str, audience: str, page: bool = False) -> None:
        if user_id is None or user_id == self.actor_id:
            return  # nobody is told about their own action
        current = self.users.get(user_id)
        if current is None or _AUDIENCE_ORDER[audience] < _AUDIENCE_ORDER[current[1]]:
            self.users[user_id] = (kind, audience, page)

    def external(self, address: str, kind: str, audience: str) -> None:
        key = address.lower()
        if key not in self.externals or _AUDIENCE_ORDER[audience] < _AUDIENCE_ORDER[self.externals[key][1]]:
            self.externals[key] = (kind, audience)


def _want_broadcast(event: TimelineEvent, incident: Incident, participants: set[int], wanted: _Wanted) -> None:
    """A declaration, status update, resolution or reopening: the incident's circle."""
    kind = BROADCAST_KINDS[event.kind]
    ends_or_returns = event.kind in (Kind.RESOLVED, Kind.REOPENED)
    for user_id in participants:
        wanted.user(user_id, kind, Audience.RESPONDERS)
    if ends_or_returns:
        for user_id in _everyone_paged(incident):
            wanted.user(user_id, kind, Audience.RESPONDERS)
    external_update = event.kind == Kind.STATUS_UPDATE and event.visibility == TimelineEvent.Visibility.EXTERNAL
    # Customers hear of customer-facing incidents whose severity notifies customers.
    tells_customers = incident.customer_facing and incident.severity.notify_customers
    for group in _subscribed_groups(incident):
        subs = set(group.subscriptions or [])
        told: list[tuple[str, str]] = []
        if Subscription.INTERNAL_UPDATES in subs and group.audience != Audience.CUSTOMERS:
            told.append((kind, group.audience))
        if Subscription.EXECUTIVE_SUMMARIES in subs:
            told.append((kind if ends_or_returns else MessageKind.EXECUTIVE_SUMMARY, Audience.EXECUTIVES))
        if Subscription.CUSTOMER_NOTICES in subs and tells_customers and (external_update or ends_or_returns):
            told.append((MessageKind.CUSTOMER_NOTICE if external_update else kind, Audience.CUSTOMERS))
        for message_kind, audience in told:
            for member in group.members.all():
                if member.is_active:
                    wanted.user(member.pk, message_kind, audience)
            for address in group.external_list():
                wanted.external(address, message_kind, audience)


def _keep_to_participants(
    incident: Incident, wanted: _Wanted, participants: set[int], targets: list[int]
) -> dict[int, tuple[str, str]]:
    """Drills and restricted incidents reach only their current participants, and never an
    outside address. Leaving out a group member is the rule working; leaving out someone
    the event itself names (a person it pages or tells) is said on the timeline: those are
    returned, user id -> (message kind, refusal)."""
    outside: dict[int, tuple[str, str]] = {}
    if incident.is_drill or incident.is_restricted:
        reason = "restricted_not_participant" if incident.is_restricted else "drill_not_participant"
        for user_id in [pk for pk in wanted.users if pk not in participants]:
            kind = wanted.users.pop(user_id)[0]
            if user_id in targets:
                outside[user_id] = (kind, reason)
        wanted.externals = {}
    return outside


def _deliverable(
    incident: Incident, wanted: _Wanted, outside: dict[int, tuple[str, str]]
) -> tuple[list[Route], list[Refusal]]:
    """The routes to everyone wanted, in one query for the people, and a refusal for each
    person who cannot be reached."""
    users = (
        get_user_model()
        .objects.filter(pk__in=[*wanted.users, *outside])
        .prefetch_related("contact_methods", "notification_rules")
        .order_by("pk")
    )
    routes: list[Route] = []
    refusals: list[Refusal] = []
    # The current round: a reopened incident is awaited again, so its delayed rules apply.
    acknowledged = incident.round_acknowledged_at is not None
    for user in users:
        if user.pk in outside:
            refusals.append(Refusal(user, *outside[user.pk]))
            continue
        kind, audience, page = wanted.users[user.pk]
        if incident.is_restricted:
            audience = Audience.RESTRICTED  # one wording for everything said about it
        if not user.is_active:
            refusals.append(Refusal(user, kind, "inactive_user"))
            continue
        mine, reason = _routes_for(user, kind, audience, page=page, acknowledged=acknowledged)
        if mine:
            routes.extend(mine)
        else:
            refusals.append(Refusal(user, kind, reason))
    for address, (kind, audience) in sorted(wanted.externals.items()):
        routes.append(Route(kind, audience, Channel.EMAIL, address))
    return routes, refusals


def _routes_for(user, kind: str, audience: str, *, page: bool, acknowledged: bool) -> tuple[list[Route], str]:
    """The person's routes for one message, or none and the refusal code saying why."""
    every = list(user.contact_methods.all())
    methods = [m for m in every if m.is_active]
    if page:
        rules = [(r.contact_method, r.delay, r.only_if_unacknowledged) for r in user.notification_rules.all()]
        rules = [(m, delay, only) for m, delay, only in rules if m.is_active]
        if not rules:
            rules = [
                (method, delay, only)
                for channel, delay, only in DEFAULT_RULES
                for method in _methods(user, every, methods, channel)[:1]
            ]
        # A delayed "only if unacknowledged" rule is moot once someone acknowledged: the person
        # is still reached by their other rules — unless that was all they had.
        routes = [
            Route(kind, audience, m.channel, m.address, user, m if m.pk else None, m.webhook_url, delay, only, is_page=True)
            for m, delay, only in rules
            if not (only and acknowledged)
        ]
        return routes, "" if routes else ("already_acknowledged" if rules else _no_method(every))
    # Everything else reaches a person at once: their email, and chat if they have it.
    routes = [
        Route(kind, audience, m.channel, m.address, user, m if m.pk else None, m.webhook_url)
        for channel in (Channel.EMAIL, Channel.CHAT)
        for m in _methods(user, every, methods, channel)[:1]
    ]
    if routes:
        return routes, ""
    return routes, "sms_only" if any(m.channel == Channel.SMS for m in methods) else _no_method(every)


def _no_method(every: list[ContactMethod]) -> str:
    return "opted_out" if every else "no_contact_method"


def _methods(user, every: list[ContactMethod], methods: list[ContactMethod], channel: str) -> list[ContactMethod]:
    found = [m for m in methods if m.channel == channel]
    if not found and channel == Channel.EMAIL and user.email and not any(m.channel == Channel.EMAIL for m in every):
        # The account's email address, when no email contact method was set up (one turned
        # off means "not by email").
        found = [ContactMethod(user=user, channel=Channel.EMAIL, address=user.email)]
    return found


def _targets(event: TimelineEvent) -> list[int]:
    return [t["id"] for t in event.data.get("targets", []) if isinstance(t, dict) and t.get("id")]


def _current_participants(incident: Incident) -> set[int]:
    return set(Participant.objects.filter(incident=incident, left_at__isnull=True).values_list("user_id", flat=True))


def _everyone_paged(incident: Incident) -> set[int]:
    """Everyone the engine paged or told about this incident (from its timeline)."""
    paged: set[int] = set()
    for data in TimelineEvent.objects.filter(incident=incident, kind__in=PAGE_KINDS | TELL_KINDS).values_list("data", flat=True):
        for target in (data or {}).get("targets", []):
            if isinstance(target, dict) and target.get("id"):
                paged.add(target["id"])
    return paged


def _subscribed_groups(incident: Incident) -> list[StakeholderGroup]:
    return list(
        StakeholderGroup.objects.filter(is_active=True, severities=incident.severity_id).prefetch_related("members")
    )
