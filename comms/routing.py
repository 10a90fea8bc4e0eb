"""Who must hear about a timeline event, in which words, through which contact methods.

Pure decisions over rows read in a fixed number of queries; `comms.outbox` turns the answer
into Notification rows. The rules:

- Pages (`escalated`, `ack_sla_breached`) go to the targets the engine resolved at that
  instant (`event.data["targets"]`), through each person's notification rules (delayed
  rules only while the incident is unacknowledged).
- Reminders and warnings (`update_overdue`, `resolve_target_breached`) go to their targets,
  on the channels that reach a person at once.
- Post-mortem reminders (`postmortem_reminder`, written by postmortems' daily run) go to their
  targets the same way; being reminded of a post-mortem is not being paged, so they are not
  told of the incident's later acknowledgement or resolution.
- Declarations and status updates go to the incident's participants and to the stakeholder
  groups subscribed for the severity (internal updates, executive summaries); external
  updates also go to customer groups when the incident is customer-facing.
- Acknowledgement and resolution go to everyone who was paged for the incident, so nobody
  keeps working a fixed problem; resolution also reaches the subscribed groups.
- Drills and restricted incidents reach only their current participants.
- Nobody is told about their own action.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from incidents.models import Incident, Participant, TimelineEvent

from .models import Audience, Channel, ContactMethod, MessageKind, NotificationRule, StakeholderGroup, Subscription

Kind = TimelineEvent.Kind

PAGE_KINDS = frozenset({Kind.ESCALATED, Kind.ACK_SLA_BREACHED})
TELL_KINDS = frozenset({Kind.UPDATE_OVERDUE, Kind.RESOLVE_TARGET_BREACHED})
REMINDER_KINDS = frozenset({Kind.POSTMORTEM_REMINDER})
ROUTED_KINDS = PAGE_KINDS | TELL_KINDS | REMINDER_KINDS | {Kind.DECLARED, Kind.STATUS_UPDATE, Kind.ACKNOWLEDGED, Kind.RESOLVED}

# A person with no rules of their own: email at once, SMS after 2 minutes if still
# unacknowledged, chat at once (each only if they have such a contact method).
DEFAULT_RULES: tuple[tuple[str, dt.timedelta, bool], ...] = (
    (Channel.EMAIL, dt.timedelta(0), False),
    (Channel.SMS, dt.timedelta(minutes=2), True),
    (Channel.CHAT, dt.timedelta(0), False),
)

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
class Unreachable:
    """A person who should hear but has no contact method that can reach them."""

    user: object
    kind: str


def plan(event: TimelineEvent) -> tuple[list[Route], list[Unreachable]]:
    """Everyone who must hear about `event`, one Route per (person or address, channel, rule)."""
    if event.kind not in ROUTED_KINDS:
        return [], []
    incident: Incident = event.incident
    wanted: dict[int, tuple[str, str, bool]] = {}  # user id -> (message kind, audience, page?)
    externals: dict[str, tuple[str, str]] = {}  # address -> (message kind, audience)

    def want(user_id, kind, audience, page=False):
        if user_id is None or user_id == event.actor_id:
            return
        current = wanted.get(user_id)
        if current is None or _AUDIENCE_ORDER[audience] < _AUDIENCE_ORDER[current[1]]:
            wanted[user_id] = (kind, audience, page)

    participants = _current_participants(incident)
    if event.kind in PAGE_KINDS:
        for target in _targets(event):
            want(target, MessageKind.PAGE, Audience.RESPONDERS, page=True)
    elif event.kind == Kind.UPDATE_OVERDUE:
        for target in _targets(event):
            want(target, MessageKind.UPDATE_OVERDUE, Audience.RESPONDERS)
    elif event.kind == Kind.RESOLVE_TARGET_BREACHED:
        for target in _targets(event):
            want(target, MessageKind.PAGE, Audience.RESPONDERS)
    elif event.kind == Kind.POSTMORTEM_REMINDER:
        for target in _targets(event):
            want(target, MessageKind.POSTMORTEM_REMINDER, Audience.RESPONDERS)
    elif event.kind == Kind.ACKNOWLEDGED:
        for user_id in _everyone_paged(incident):
            want(user_id, MessageKind.ACKNOWLEDGED, Audience.RESPONDERS)
    else:
        kind = {Kind.DECLARED: MessageKind.DECLARED, Kind.STATUS_UPDATE: MessageKind.STATUS_UPDATE, Kind.RESOLVED: MessageKind.RESOLUTION}[event.kind]
        for user_id in participants:
            want(user_id, kind, Audience.RESPONDERS)
        if event.kind == Kind.RESOLVED:
            for user_id in _everyone_paged(incident):
                want(user_id, kind, Audience.RESPONDERS)
        external_update = event.kind == Kind.STATUS_UPDATE and event.visibility == TimelineEvent.Visibility.EXTERNAL
        for group in _subscribed_groups(incident):
            subs = set(group.subscriptions or [])
            targets: list[tuple[str, str]] = []
            if Subscription.INTERNAL_UPDATES in subs and group.audience != Audience.CUSTOMERS:
                targets.append((kind, group.audience))
            if Subscription.EXECUTIVE_SUMMARIES in subs:
                targets.append((MessageKind.EXECUTIVE_SUMMARY if event.kind != Kind.RESOLVED else kind, Audience.EXECUTIVES))
            if Subscription.CUSTOMER_NOTICES in subs and incident.customer_facing and (external_update or event.kind == Kind.RESOLVED):
                targets.append((MessageKind.CUSTOMER_NOTICE if external_update else kind, Audience.CUSTOMERS))
            for message_kind, audience in targets:
                for member in group.members.all():
                    if member.is_active:
                        want(member.pk, message_kind, audience)
                for address in group.external_list():
                    key = address.lower()
                    if key not in externals or _AUDIENCE_ORDER[audience] < _AUDIENCE_ORDER[externals[key][1]]:
                        externals[key] = (message_kind, audience)

    if incident.is_drill or incident.is_restricted:
        wanted = {pk: v for pk, v in wanted.items() if pk in participants}
        externals = {}

    users = get_user_model().objects.filter(pk__in=wanted, is_active=True).prefetch_related("contact_methods", "notification_rules")
    routes: list[Route] = []
    unreachable: list[Unreachable] = []
    acknowledged = incident.acknowledged_at is not None
    for user in users:
        kind, audience, page = wanted[user.pk]
        mine = _routes_for(user, kind, audience, page=page, acknowledged=acknowledged)
        if mine:
            routes.extend(mine)
        else:
            unreachable.append(Unreachable(user, kind))
    for address, (kind, audience) in sorted(externals.items()):
        routes.append(Route(kind, audience, Channel.EMAIL, address))
    return routes, unreachable


def _routes_for(user, kind: str, audience: str, *, page: bool, acknowledged: bool) -> list[Route]:
    methods = [m for m in user.contact_methods.all() if m.is_active]
    if page:
        rules = [(r.contact_method, r.delay, r.only_if_unacknowledged) for r in user.notification_rules.all()]
        rules = [(m, delay, only) for m, delay, only in rules if m.is_active]
        if not rules:
            rules = [
                (method, delay, only)
                for channel, delay, only in DEFAULT_RULES
                for method in _methods(user, methods, channel)[:1]
            ]
        return [
            Route(kind, audience, m.channel, m.address, user, m if m.pk else None, m.webhook_url, delay, only, is_page=True)
            for m, delay, only in rules
            if not (only and acknowledged)
        ]
    # Everything else reaches a person at once: their email, and chat if they have it.
    return [
        Route(kind, audience, m.channel, m.address, user, m if m.pk else None, m.webhook_url)
        for channel in (Channel.EMAIL, Channel.CHAT)
        for m in _methods(user, methods, channel)[:1]
    ]


def _methods(user, methods: list[ContactMethod], channel: str) -> list[ContactMethod]:
    found = [m for m in methods if m.channel == channel]
    if not found and channel == Channel.EMAIL and user.email:
        # The account's email address, when no email contact method was set up.
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


def rules_summary(user) -> list[str]:
    """The rules a person's pages follow, in words (their own, or the defaults)."""
    from oncall.formatting import duration

    own = list(NotificationRule.objects.filter(user=user).select_related("contact_method"))
    if own:
        return [str(rule) for rule in own]
    return [
        f"{channel.label} {'at once' if not delay else 'after ' + duration(delay)}{' if still unacknowledged' if only else ''}"
        for channel, delay, only in DEFAULT_RULES
    ]
