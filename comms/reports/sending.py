"""Sending a report: claim its period in the ledger (`ReportRun`), then write one email
`Notification` per recipient to the outbox, each rendered for its reader (their zone; restricted
incidents named only to those who may see them), delivered after the commit by the usual tasks.

The claim is an INSERT under the unique (subscription, period start): of two beats, a retried
task or a restarted worker, exactly one inserts; the others hit the constraint (caught in a
savepoint) and send nothing. Claim and messages commit together, so a worker killed before the
commit leaves neither and the next beat sends the period once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import routing
from ..models import Audience, Channel, ContactMethod, MessageKind, Notification, ReportRun, ReportSubscription
from . import schedule
from .render import render, viewer_for

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Recipient:
    address: str
    user: object | None = None  # a Vigil user (their zone and permissions), else a plain address
    contact_method: ContactMethod | None = None

    @property
    def key(self) -> str:
        if self.user is not None:
            return f"u{self.user.pk}"
        return "a" + hashlib.sha256(self.address.lower().encode()).hexdigest()[:16]


def recipients(subscription: ReportSubscription) -> list[Recipient]:
    """Users, everyone in its Vigil groups, its stakeholder groups' active members and outside
    addresses, and its plain addresses: each once, users by their email contact method (or the
    account's address); someone with no email is skipped and logged."""
    people: dict[int, object] = {}
    for user in subscription.users.filter(is_active=True).prefetch_related("contact_methods"):
        people[user.pk] = user
    from oncall.models import User

    for user in User.objects.filter(is_active=True, groups__in=subscription.user_groups.all()).prefetch_related("contact_methods"):
        people.setdefault(user.pk, user)
    outside: list[str] = []
    for group in subscription.stakeholder_groups.filter(is_active=True).prefetch_related("members__contact_methods"):
        for member in group.members.all():
            if member.is_active:
                people.setdefault(member.pk, member)
        outside.extend(group.external_list())
    outside.extend(subscription.address_list())
    found, seen = [], set()
    for user in sorted(people.values(), key=lambda u: u.pk):
        routes, why = routing._routes_for(user, MessageKind.REPORT, Audience.INTERNAL, page=False, acknowledged=False)
        emails = [route for route in routes if route.channel == Channel.EMAIL]
        if not emails:
            log.warning("%s gets no report %r: %s", user, subscription.name, why or "no email")
            continue
        seen.add(emails[0].address.lower())
        found.append(Recipient(address=emails[0].address, user=user, contact_method=emails[0].contact_method))
    for address in outside:
        if address.lower() not in seen:
            seen.add(address.lower())
            found.append(Recipient(address=address))
    return found


def write(run: ReportRun, to: list[Recipient], *, now: dt.datetime) -> list[int]:
    """One pending email per recipient, keyed by run and recipient (written once however often
    this is called); their ids, queued for delivery after the commit."""
    subscription = run.subscription
    rows, rendered = [], {}
    for recipient in to:
        viewer = viewer_for(subscription, recipient.user)
        # Readers in the same zone who see the same names read the same report: made once.
        if viewer.key not in rendered:
            rendered[viewer.key] = render(subscription, run.period_start, run.period_end, viewer, now=now)
        report = rendered[viewer.key]
        rows.append(Notification(
            key=f"report:{run.pk}:{recipient.key}", kind=MessageKind.REPORT, audience=Audience.INTERNAL, channel=Channel.EMAIL,
            recipient=recipient.user, contact_method=recipient.contact_method if recipient.contact_method and recipient.contact_method.pk else None,
            address=recipient.address, subject=report.subject, body=report.text, html_body=report.html,
            send_after=now, created_at=now,
        ))
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    ids = list(
        Notification.objects.filter(key__in=[row.key for row in rows], status=Notification.Status.PENDING).values_list("pk", flat=True)
    )
    if ids:
        from .. import tasks

        transaction.on_commit(lambda: tasks.enqueue_deliveries([(pk, False) for pk in ids]))
    return ids


@transaction.atomic
def send_scheduled(subscription_id: int, start: dt.datetime, end: dt.datetime) -> ReportRun | None:
    """Claim and send one scheduled period; None when it was claimed already (or the
    subscription is gone or paused)."""
    subscription = ReportSubscription.objects.select_related("owner").filter(pk=subscription_id, is_active=True).first()
    if subscription is None:
        return None
    now = timezone.now()
    try:
        with transaction.atomic():
            run = ReportRun.objects.create(subscription=subscription, period_start=start, period_end=end, claimed_at=now)
    except IntegrityError:
        log.info("Report %r for %s was sent already", subscription.name, start)
        return None
    _send(run, recipients(subscription), now=now)
    return run


@transaction.atomic
def send_now(subscription: ReportSubscription, start: dt.datetime, end: dt.datetime, *, requested_by, only_to_me: bool) -> ReportRun:
    """The admin's "Send now": a manual run, outside the ledger of scheduled periods."""
    now = timezone.now()
    run = ReportRun.objects.create(
        subscription=subscription, period_start=start, period_end=end, claimed_at=now, manual=True, requested_by=requested_by
    )
    to = [r for r in recipients(subscription) if r.user is not None and r.user.pk == requested_by.pk] if only_to_me else recipients(subscription)
    if only_to_me and not to:
        routes, why = routing._routes_for(requested_by, MessageKind.REPORT, Audience.INTERNAL, page=False, acknowledged=False)
        emails = [route for route in routes if route.channel == Channel.EMAIL]
        if emails:
            to = [Recipient(address=emails[0].address, user=requested_by, contact_method=emails[0].contact_method)]
    _send(run, to, now=now)
    return run


def _send(run: ReportRun, to: list[Recipient], *, now: dt.datetime) -> None:
    try:
        with transaction.atomic():
            ids = write(run, to, now=now)
    except Exception as exc:  # a section that fails: the run says why, and the period stays claimed
        log.exception("Report %r for %s failed", run.subscription.name, run.period_start)
        run.status, run.error = ReportRun.Status.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        run.save(update_fields=["status", "error"])
        return
    run.status, run.sent_at, run.notifications = ReportRun.Status.SENT, now, len(ids)
    run.save(update_fields=["status", "sent_at", "notifications"])


def due(now: dt.datetime) -> list[tuple[int, schedule.Run]]:
    """Active subscriptions whose latest scheduled send is due and not yet in the ledger: only
    the latest, so a beat that was down for three periods sends one report, not three. A send
    due before the subscription existed is not sent (two queries)."""
    latest = {}
    for subscription in ReportSubscription.objects.filter(is_active=True).select_related("owner"):
        run = schedule.latest_due(schedule.cadence_of(subscription), now)
        if run.send_at >= subscription.created_at:
            latest[subscription.pk] = run
    if not latest:
        return []
    sent = set(
        ReportRun.objects.filter(manual=False, subscription_id__in=latest, period_start__in={r.start for r in latest.values()})
        .values_list("subscription_id", "period_start")
    )
    return [(pk, run) for pk, run in sorted(latest.items()) if (pk, run.start) not in sent]
