"""Delivery: due `Notification` rows become messages. A batch locks its due rows (and the due
rows for the same addresses, bundled into one message: `comms.bundles` words it), suppresses
what an acknowledgement or resolution made moot, holds back what a throttle does not let out
yet, takes a lease, then sends outside the transaction and records the provider id or the error
— each message in a transaction of its own as soon as the provider answered, before the next
one goes out. A worker killed between send and record leaves the lease to expire; the sweeper
then sends that one message again — at-least-once, the same duplicate a provider's own retry
could cause, never a lost page, and never a whole batch twice.

War-room messages are never bundled: each goes out on its own, oldest first, so the channel
reads like the timeline; they wait (without using an attempt) while the room is still opening,
and are suppressed when it was given up or archived (the timeline already says why)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from incidents import actions

from .. import bundles
from ..backends import DeliveryError, backend_for
from ..models import Channel, Notification, WarRoom

log = logging.getLogger(__name__)
Status = Notification.Status


def deliver(notification_id: int) -> str:
    """Send one notification (and any due rows for the same address bundled with it).
    Returns what happened: sent, failed, retry, throttled, suppressed or skipped."""
    return deliver_many([notification_id]).get(notification_id, "skipped")


_FREE = Q(locked_until__isnull=True)


def deliver_many(ids: list[int]) -> dict[int, str]:
    """Send a batch of notifications in a few statements: lock the due rows, suppress what an
    acknowledgement made moot, hold back what a throttle does not let out yet, take a lease,
    then send — one message per address, bundling the rows due for it (including due rows
    outside the batch) — and record each result the moment the provider answered, before
    the next message goes out (the batch shares connections, never the record). Returns
    each row's outcome."""
    now = timezone.now()
    lease = now + dt.timedelta(seconds=settings.VIGIL_DELIVERY_LEASE_SECONDS)
    outcome: dict[int, str] = {}
    with transaction.atomic():
        rows = _lock_due(ids, now)
        if not rows:
            return outcome
        groups = _sendable(rows, now, outcome)
        sending = [row for group in groups.values() for row in group]
        if not sending:
            return outcome
        Notification.objects.filter(pk__in=[row.pk for row in sending]).update(attempts=F("attempts") + 1, locked_until=lease)
        for row in sending:
            row.attempts += 1
    _send(groups, outcome)
    return outcome


def _due(now):
    """Pending rows that are due and free to send, locked by whoever reads them first."""
    return (
        Notification.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("incident__severity")
        .filter(status=Status.PENDING, send_after__lte=now)
        .filter(_FREE | Q(locked_until__lt=now))  # a live lease: another worker is sending it
    )


def _lock_due(ids: list[int], now) -> list[Notification]:
    """The batch's due rows, then the due rows for the same addresses that are not in the
    batch: they go out in the same message."""
    rows = list(_due(now).filter(pk__in=ids).order_by("created_at", "pk"))
    if not rows:
        return rows
    pairs = {(row.channel, row.address) for row in rows}
    taken = {row.pk for row in rows}
    rows += [
        other
        for other in _due(now)
        .filter(channel__in={c for c, _ in pairs}, address__in={a for _, a in pairs})
        .exclude(pk__in=taken)
        .order_by("created_at", "pk")[:200]
        if (other.channel, other.address) in pairs
    ]
    return rows


def _sendable(rows: list[Notification], now, outcome: dict[int, str]) -> dict[tuple[str, str], list[Notification]]:
    """The rows to send now, by (channel, address): what an acknowledgement or resolution made
    moot is suppressed, what a throttle does not let out yet is held back until it does."""
    suppressed: dict[str, list[int]] = {}
    groups: dict[tuple[str, str], list[Notification]] = {}
    rooms = _war_rooms(rows)
    waiting: list[int] = []
    for row in sorted(rows, key=lambda row: (row.created_at, row.pk)):
        reason = _suppressed_reason(row, now) or _room_gone(row, rooms)
        if reason:
            suppressed.setdefault(reason, []).append(row.pk)
            outcome[row.pk] = "suppressed"
        elif row.channel == Channel.WAR_ROOM:
            if rooms.get(row.incident_id) == WarRoom.State.OPEN:
                groups[(row.channel, f"{row.address}#{row.pk}")] = [row]  # one message each, in order
            else:
                waiting.append(row.pk)
                outcome[row.pk] = "waiting"
        else:
            groups.setdefault((row.channel, row.address), []).append(row)
    for reason, pks in suppressed.items():
        Notification.objects.filter(pk__in=pks).update(status=Status.SUPPRESSED, last_error=reason)
    if waiting:
        # The room is still opening: look again shortly, without spending an attempt.
        Notification.objects.filter(pk__in=waiting).update(
            send_after=now + dt.timedelta(seconds=settings.VIGIL_WAR_ROOM_WAIT_SECONDS)
        )
    waits = _throttle_waits(set(groups), now)
    for pair, wait in waits.items():
        held = groups.pop(pair)
        Notification.objects.filter(pk__in=[row.pk for row in held]).update(send_after=wait)
        outcome.update((row.pk, "throttled") for row in held)
    return groups


def _send(groups: dict[tuple[str, str], list[Notification]], outcome: dict[int, str]) -> None:
    """One message per address, each recorded before the next leaves; one backend connection
    per channel for the whole batch."""
    backends: dict[str, object] = {}
    try:
        for (channel, _), group in groups.items():
            backend = backends.get(channel)
            if backend is None:
                backend = backends[channel] = backend_for(channel)
                backend.open()
            result = _send_one(backend, channel, group)
            outcome.update((row.pk, result) for row in group)
    finally:
        for backend in backends.values():
            backend.close()


def _send_one(backend, channel: str, group: list[Notification]) -> str:
    """Send the rows due for one address as one message and record the result."""
    # The most pressing row leads the message (and the rows bundled in point at it).
    group.sort(key=bundles.reading_order)
    lead, others = group[0], group[1:]
    try:
        provider_id = backend.send(bundles.message(lead, others))
    except DeliveryError as exc:
        return _record_failure(group, exc)  # once for the message, which covers every row in it
    except Exception as exc:  # a backend bug must not lose the page: retry it like a transient error
        log.exception("Backend for %s raised while sending notification %s", channel, lead.pk)
        return _record_failure(group, DeliveryError(f"{type(exc).__name__}: {exc}", transient=True))
    # Recorded before the next message leaves: a worker killed mid-batch has sent
    # again, at most, the one message that was in flight.
    _record_sent(lead, others, (provider_id or "")[:200])
    return "sent"


def _record_sent(lead: Notification, others: list[Notification], provider_id: str) -> None:
    """One message the provider accepted, in a transaction of its own; the rows bundled into
    it point at the lead row."""
    sent_at = timezone.now()
    with transaction.atomic():
        Notification.objects.filter(pk=lead.pk).update(
            status=Status.SENT, sent_at=sent_at, provider_id=provider_id, locked_until=None, last_error=""
        )
        if others:
            Notification.objects.filter(pk__in=[o.pk for o in others]).update(
                status=Status.SENT, sent_at=sent_at, provider_id=provider_id, locked_until=None,
                bundled_into=lead, last_error="",
            )


def _backoff(attempts: int) -> dt.timedelta:
    seconds = settings.VIGIL_DELIVERY_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.VIGIL_DELIVERY_BACKOFF_CAP_SECONDS))


def _record_failure(batch: list[Notification], exc: DeliveryError) -> str:
    now = timezone.now()
    error = str(exc)[:2000] or type(exc).__name__
    outcome = "retry"
    with transaction.atomic():
        for item in batch:
            final = not exc.transient or item.attempts >= settings.VIGIL_DELIVERY_MAX_ATTEMPTS
            update = {"locked_until": None, "last_error": error}
            if final:
                update["status"] = Status.FAILED
                if item is batch[0]:
                    outcome = "failed"
            else:
                update["send_after"] = now + _backoff(item.attempts)
            Notification.objects.filter(pk=item.pk, status=Status.PENDING).update(**update)
            if final and item.incident_id:
                who = str(item.recipient) if item.recipient_id else item.address
                actions.record_notification_failure(
                    item.incident,
                    f"{item.get_channel_display()} to {who} ({item.get_kind_display().lower()}) failed after "
                    f"{item.attempts} attempt{'s' if item.attempts != 1 else ''}: {error}",
                    data={"notification": item.pk, "channel": item.channel},
                )
    log.warning("Notification %s: %s (%s)", batch[0].pk, error, outcome)
    return outcome


def _throttle_waits(pairs: set[tuple[str, str]], now) -> dict[tuple[str, str], dt.datetime]:
    """For each (channel, address): when its throttle lets the next message out (absent =
    now). Messages bundled into another count as the one message they went out in."""
    windows_of = {channel: settings.VIGIL_THROTTLES.get(channel) or [] for channel, _ in pairs}
    limited = {pair for pair in pairs if windows_of[pair[0]]}
    if not limited:
        return {}
    longest = max(seconds for channel, _ in limited for _, seconds in windows_of[channel])
    recent: dict[tuple[str, str], list] = {}
    for channel, address, sent_at in (
        Notification.objects.filter(
            channel__in={c for c, _ in limited}, address__in={a for _, a in limited},
            bundled_into__isnull=True, sent_at__gt=now - dt.timedelta(seconds=longest),
        )
        .order_by("-sent_at")
        .values_list("channel", "address", "sent_at")
    ):
        recent.setdefault((channel, address), []).append(sent_at)
    waits = {}
    for pair in limited:
        allowed = None
        for limit, seconds in windows_of[pair[0]]:
            in_window = [at for at in recent.get(pair, []) if at > now - dt.timedelta(seconds=seconds)]
            if len(in_window) >= limit:
                at = in_window[limit - 1] + dt.timedelta(seconds=seconds)
                allowed = at if allowed is None or at > allowed else allowed
        if allowed is not None:
            waits[pair] = allowed
    return waits


def _war_rooms(rows: list[Notification]) -> dict[int, str]:
    """The state of each war room the batch posts in, by incident (one query, none without)."""
    incidents = {row.incident_id for row in rows if row.channel == Channel.WAR_ROOM}
    if not incidents:
        return {}
    return dict(WarRoom.objects.filter(incident__in=incidents).values_list("incident_id", "state"))


def _room_gone(row: Notification, rooms: dict[int, str]) -> str:
    """Why a war-room message will never be posted: its room was given up or archived. (Its row was
    written before the message was: routing posts only to rooms open or opening.)"""
    if row.channel != Channel.WAR_ROOM:
        return ""
    state = rooms.get(row.incident_id)
    if state == WarRoom.State.GAVE_UP:
        return "Not sent: the war room could not be opened (the incident's timeline says why)."
    if state == WarRoom.State.ARCHIVED:
        return "Not sent: the war room was archived."
    return ""


def _suppressed_reason(row: Notification, now) -> str:
    incident = row.incident
    if incident is None:
        return ""
    if row.only_if_unacknowledged and _acknowledged_since(incident, row.created_at, now):
        return "Not sent: the incident was acknowledged before this rule's delay passed."
    if row.is_page and incident.resolved_at:
        return "Not sent: the incident was resolved before this page went out."
    return ""


def _acknowledged_since(incident, created_at, now) -> bool:
    """Whether the round a message belongs to was acknowledged by `now`: the first
    acknowledgement for messages of the declaration's round, the reopen round's for messages
    made after a reopen (a reopened incident is awaited again, though it was acknowledged once)."""
    if incident.reopened_at is not None and created_at >= incident.reopened_at:
        return incident.reopen_acknowledged_at is not None and incident.reopen_acknowledged_at <= now
    return incident.acknowledged_at is not None and incident.acknowledged_at <= now
