"""The outbox writer `oncall.notices` hands its messages to (cover requests and their answers):
one email `Notification` per notice, keyed so a notice sent twice is written once, delivered after
the commit by the usual tasks (the sweeper picks up any the broker missed). Registered in
`CommsConfig.ready()`, since `oncall` cannot import `comms`."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from oncall.notices import Notice

from . import routing
from .models import Audience, Channel, MessageKind, Notification

log = logging.getLogger(__name__)


def send(notices: list[Notice]) -> None:
    now, rows = timezone.now(), []
    for notice in notices:
        routes, why = routing._routes_for(notice.recipient, MessageKind.SHIFT_COVER, Audience.RESPONDERS, page=False, acknowledged=False)
        emails = [route for route in routes if route.channel == Channel.EMAIL]
        if not emails:
            log.warning("%s was not told about a shift cover (%s): %s", notice.recipient, notice.key, why or "no email")
            continue
        route = emails[0]
        rows.append(Notification(
            key=f"oncall:{notice.key}", kind=MessageKind.SHIFT_COVER, audience=Audience.RESPONDERS, channel=Channel.EMAIL,
            recipient=notice.recipient, contact_method=route.contact_method, address=route.address,
            subject=notice.subject[:300], body=notice.body, send_after=now, created_at=now,
        ))
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    ids = list(
        Notification.objects.filter(key__in=[row.key for row in rows], status=Notification.Status.PENDING).values_list("pk", flat=True)
    )
    if ids:
        from . import tasks

        transaction.on_commit(lambda: tasks.enqueue_deliveries([(pk, False) for pk in ids]))
