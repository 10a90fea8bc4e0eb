"""What the war room hears: one message per timeline event that changes how the incident is run
(declared, acknowledged, status, severity, roles, status updates, escalations, resolution,
reopening), in the timeline's own words — the channel is a live transcript of the record, so
nothing said there differs from what the incident page shows.

Routing (`comms.routing.plan`) adds a war-room `Route` for these kinds; `dispatch` writes the row
with `words(event)` as its body; delivery holds it back until the channel is open and posts it
through the provider (`comms/backends/war_room.py`). A restricted incident's channel is private,
but people who left the incident may still sit in it: its messages name the reference, the
severity and what happened, never the title or the text.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident, Source, TimelineEvent

from ..models import Channel, MessageKind, Notification, WarRoom
from ..slack import escape

Kind = TimelineEvent.Kind
Visibility = TimelineEvent.Visibility

# Each event the room hears of, its mark, and the message kind its outbox row is filed under.
KINDS: dict[str, tuple[str, str]] = {
    Kind.DECLARED: (":rotating_light:", MessageKind.DECLARED),
    Kind.ACKNOWLEDGED: (":eyes:", MessageKind.ACKNOWLEDGED),
    Kind.STATUS_CHANGED: (":large_yellow_circle:", MessageKind.STATUS_UPDATE),
    Kind.SEVERITY_CHANGED: (":arrows_counterclockwise:", MessageKind.STATUS_UPDATE),
    Kind.ROLE_ASSIGNED: (":bust_in_silhouette:", MessageKind.STATUS_UPDATE),
    Kind.ROLE_RELEASED: (":bust_in_silhouette:", MessageKind.STATUS_UPDATE),
    Kind.STATUS_UPDATE: (":memo:", MessageKind.STATUS_UPDATE),
    Kind.ESCALATED: (":pager:", MessageKind.PAGE),
    Kind.ACK_SLA_BREACHED: (":alarm_clock:", MessageKind.PAGE),
    Kind.UPDATE_OVERDUE: (":hourglass:", MessageKind.UPDATE_OVERDUE),
    Kind.RESOLVE_TARGET_BREACHED: (":hourglass:", MessageKind.PAGE),
    Kind.RESOLVED: (":white_check_mark:", MessageKind.RESOLUTION),
    Kind.REOPENED: (":warning:", MessageKind.REOPENED),
}
# The longest event text posted (Slack cuts at 40,000 characters; a room reads short lines).
MAX_LENGTH = 3000


def hears(event: TimelineEvent) -> bool:
    """Whether the incident's war room is told of `event`: one of `KINDS`, and not typed in chat
    (a command's own reply already says it where it was typed)."""
    return event.kind in KINDS and event.source != Source.CHAT


def has_or_opens(incident: Incident) -> bool:
    """Whether the incident has a war room to post in, or one on its way."""
    return incident.pk in posting_to([incident])


def posting_to(incidents: Iterable[Incident]) -> set[int]:
    """Of `incidents`, the ids of those whose war room may be posted in: open, or opening (its row is
    written with the event that wants it, `comms.want_war_room`, which runs before routing). One
    query however many incidents (the engine's batches)."""
    ids = {incident.pk for incident in incidents}
    if not ids:
        return set()
    return set(
        WarRoom.objects.filter(incident__in=ids, state__in=(WarRoom.State.OPENING, WarRoom.State.OPEN))
        .values_list("incident_id", flat=True)
    )


def release(incident_id: int) -> list[int]:
    """The room has just opened: the messages that waited for it are due now and queued at once,
    oldest first (not at the outbox sweeper's next look). Returns their ids."""
    from .. import outbox, tasks

    now = timezone.now()
    waiting = Notification.objects.filter(incident_id=incident_id, channel=Channel.WAR_ROOM, status=Notification.Status.PENDING)
    ids = list(waiting.order_by("created_at", "pk").values_list("pk", flat=True))
    if ids:
        waiting.filter(send_after__gt=now).update(send_after=now)
        outbox.mark_enqueued(ids)
        tasks.enqueue_deliveries([(pk, False) for pk in ids])
    return ids


def address(incident: Incident) -> str:
    """The outbox address of an incident's room: stable from before the channel exists."""
    return f"war-room:{incident.reference}"


def message_kind(event: TimelineEvent) -> str:
    return KINDS[event.kind][1]


def words(event: TimelineEvent) -> str:
    """The message posted for `event`, Slack mrkdwn with every user-supplied value escaped."""
    incident = event.incident
    mark = KINDS[event.kind][0]
    drill = "[DRILL] " if incident.is_drill else ""
    head = f"{mark} {drill}*{incident.reference}* {escape(incident.severity.name)}"
    link = f"<{_admin_url(incident)}|Open in Vigil>"
    if incident.is_restricted:
        return f"{head}: {escape(event.get_kind_display().lower())} — {link}"
    if event.kind == Kind.STATUS_UPDATE:
        external = event.visibility == Visibility.EXTERNAL
        kind = "External (customer-facing) update" if external else "Internal update"
        return f"{head} · {kind} by {escape(event.actor_label)}:\n{_quote(_clip(event.message))}"
    body = f"{head} · {escape(_clip(event.message))}"
    if event.kind == Kind.DECLARED:
        bridge = f"<{incident.call_bridge_url}|Join the call> · " if incident.call_bridge_url else ""
        body += f"\n{bridge}{link}"
    return body


def _quote(text: str) -> str:
    return "\n".join(f"> {escape(line)}" for line in (text or "").splitlines() or [""])


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 1] + "…"


def _admin_url(incident: Incident) -> str:
    return settings.VIGIL_BASE_URL.rstrip("/") + reverse("admin:incidents_incident_change", args=[incident.pk])
