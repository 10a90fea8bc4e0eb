"""Dispatch: a committed timeline event becomes its `Notification` rows — one per recipient,
channel and rule, each rendered with its words and a unique key — and the event is stamped
dispatched, all in one transaction, so dispatching twice (a retried task, the sweeper racing the
task) creates nothing new. Whom to tell is `comms.routing.plan`; the words, `comms.templating`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents import actions
from incidents.models import TimelineEvent
from oncall.copying import same_named

from .. import routing, templating
from ..models import Channel, Notification
from ..warroom import messages as war_room

Status = Notification.Status
# What a row takes from its route under the same name.
_FROM_ROUTE = (
    "kind", "audience", "channel", "contact_method", "address", "webhook_url", "is_page", "only_if_unacknowledged",
)


def notification_key(event_id: int, route: routing.Route) -> str:
    who = f"u{route.user.pk}" if route.user is not None else "x"
    target = hashlib.sha256(f"{route.address}|{route.webhook_url}".lower().encode()).hexdigest()[:16]
    return f"ev{event_id}:{who}:{route.channel}:{target}:{int(route.delay.total_seconds())}"


def dispatch_event(event_id: int) -> list[int]:
    """Write the notifications of one timeline event (once). Returns the ids of rows due now."""
    with transaction.atomic():
        event = (
            TimelineEvent.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("incident__severity", "actor")
            .filter(pk=event_id, dispatched_at__isnull=True)
            .first()
        )
        if event is None:
            return []  # already dispatched, or another dispatcher holds it right now
        now = timezone.now()
        routes, refusals = routing.plan(event)
        rows = _build(event, routes, now)
        pages = [row for row in rows if row.is_page]
        Notification.objects.bulk_create([row for row in rows if not row.is_page], ignore_conflicts=True, batch_size=1000)
        for row in pages:
            _create_page(row)
        for refusal in refusals:
            # Never silent: whoever routing meant to tell and will not reach is named, with why.
            actions.record_notification_failure(
                event.incident,
                f"{refusal.user} was not told ({event.get_kind_display().lower()}): {refusal.why}.",
                data={"user": refusal.user.pk, "event": event.pk, "reason": refusal.reason, "kind": str(refusal.kind)},
            )
        TimelineEvent.objects.filter(pk=event.pk).update(dispatched_at=now)
        due = list(
            Notification.objects.filter(event=event, status=Status.PENDING, send_after__lte=now).values_list("pk", flat=True)
        )
    return due


def dispatch_events(event_ids: Iterable[int]) -> list[int]:
    due: list[int] = []
    for event_id in event_ids:
        due.extend(dispatch_event(event_id))
    return due


def _build(event: TimelineEvent, routes: list[routing.Route], now) -> list[Notification]:
    incident = event.incident
    renderer = templating.Renderer()
    base = templating.base_context(incident)
    rows = []
    for route in routes:
        row = Notification(
            key=notification_key(event.pk, route), event=event, incident=incident, recipient=route.user,
            send_after=now + route.delay, created_at=now, **same_named(route, _FROM_ROUTE),
        )
        if row.channel == Channel.WAR_ROOM:
            row.body = war_room.words(event)  # the timeline's words, not a template
        elif not row.is_page:
            _render(row, renderer, base, event, _event_extra(event))
        else:
            row._render_with = (renderer, base, event)
        rows.append(row)
    return rows


def _event_extra(event: TimelineEvent) -> dict[str, str]:
    """Extra words an event carries for its message (`data["context"]`: a post-mortem
    reminder's due date, item and link), limited to the documented extra variables."""
    given = (event.data or {}).get("context")
    if not isinstance(given, dict):
        return {}
    return {name: str(given[name]) for name in templating.EXTRA_VARIABLES if given.get(name) is not None}


def _render(row: Notification, renderer, base, event, extra: dict | None = None) -> None:
    ctx = templating.context(event.incident, event=event, recipient=row.recipient, extra=extra or {}, base=base)
    rendered = renderer.render(row.kind, row.audience, row.channel, ctx)
    row.subject, row.body, row.html_body = rendered.subject, rendered.body, rendered.html_body


def _create_page(row: Notification) -> None:
    """Pages carry an acknowledge link signed over their own id, so they are inserted first."""
    from .. import acks

    renderer, base, event = row._render_with
    row.ack_code = acks.new_code()
    row.body = "(rendering)"
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        return  # dispatched already: the unique key kept the first row
    _render(row, renderer, base, event, {"ack_url": acks.link_for(row), "ack_code": row.ack_code})
    row.save(update_fields=["subject", "body", "html_body"])
