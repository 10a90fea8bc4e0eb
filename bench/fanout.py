"""Fan-out: one external status update to stakeholder groups totalling 5,000 recipients.

Measured in two parts:

1. **Render and queue** — `outbox.dispatch_event` (plan the recipients, render 5,000 messages
   in each person's time zone, insert the rows, stamp the event) and publishing one delivery
   task per row to the broker. Target: under 10 s.
2. **Delivery** — a real Celery worker (a subprocess on a queue of its own) sends every row
   to a local SMTP sink (aiosmtpd) through Django's SMTP backend; the rate is rows sent per
   second, from the first task taken to the last row recorded sent.
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from bench.measure import Row

ROOT = Path(__file__).resolve().parent.parent
ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]


class Sink:
    """An SMTP server that accepts everything and counts it."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.count = 0
        self._lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with sink._lock:
                    sink.count += len(envelope.rcpt_tos)
                return "250 OK"

        class AnyPort(Controller):
            """Binds port 0 and learns the port the system chose."""

            def _trigger_server(self):
                self.port = self.server.sockets[0].getsockname()[1]
                super()._trigger_server()

        self.controller = AnyPort(Handler(), hostname="127.0.0.1", port=0)

    def __enter__(self):
        self.controller.start()
        self.port = self.controller.port
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def build_audience(total: int, log) -> None:
    """Half the recipients are Vigil users in an internal group, half outside addresses in a
    customer group; both subscribed to SEV-2."""
    from comms.models import Audience, StakeholderGroup, Subscription
    from incidents.models import SeverityLevel
    from oncall.models import User

    members = total // 2
    externals = total - members
    log(f"Creating {members:,} users and {externals:,} outside addresses in two stakeholder groups …")
    users = User.objects.bulk_create(
        [
            User(username=f"fan{i}", first_name="Fan", last_name=str(i), email=f"fan{i}@bench.example", time_zone=ZONES[i % len(ZONES)])
            for i in range(members)
        ],
        batch_size=1000,
    )
    sev2 = SeverityLevel.objects.get(name="SEV-2")
    StakeholderGroup.objects.filter(is_active=True).update(is_active=False)  # only the bench groups
    internal = StakeholderGroup.objects.create(
        name="Bench engineering", slug="bench-engineering", audience=Audience.INTERNAL,
        subscriptions=[Subscription.INTERNAL_UPDATES],
    )
    internal.members.set(users)
    internal.severities.set([sev2])
    customers = StakeholderGroup.objects.create(
        name="Bench customers", slug="bench-customers", audience=Audience.CUSTOMERS,
        subscriptions=[Subscription.CUSTOMER_NOTICES],
        external_addresses="\n".join(f"customer{i}@customers.example" for i in range(externals)),
    )
    customers.severities.set([sev2])


def one_update(world_actor, service, *, queue: str) -> dict:
    """Declare a customer-facing SEV-2, post an external update, and time its fan-out."""
    from comms import outbox, tasks
    from incidents import actions
    from incidents.models import SeverityLevel, Source, TimelineEvent

    incident = actions.declare(
        title="Checkout latency for EU customers", severity=SeverityLevel.objects.get(name="SEV-2"),
        actor=world_actor, source=Source.ADMIN, services=[service], commander=world_actor,
    )
    # The declaration fans out too (internal group); done untimed so the update is measured alone.
    declared = TimelineEvent.objects.get(incident=incident, kind=TimelineEvent.Kind.DECLARED)
    outbox.dispatch_event(declared.pk)
    actions.post_update(
        incident, "We have identified a faulty deploy and are rolling it back. Next update in 30 minutes.",
        actor=world_actor, source=Source.ADMIN, visibility="external",
    )
    event = TimelineEvent.objects.filter(incident=incident, kind=TimelineEvent.Kind.STATUS_UPDATE).latest("pk")
    t0 = time.perf_counter()
    due = outbox.dispatch_event(event.pk)
    t1 = time.perf_counter()
    for start in range(0, len(due), tasks.BATCH):
        tasks.deliver_batch.apply_async(args=(due[start : start + tasks.BATCH],), queue=queue, retry=False)
    outbox.mark_enqueued(due)
    t2 = time.perf_counter()
    return dict(event=event.pk, rows=len(due), render_ms=(t1 - t0) * 1000, queue_ms=(t2 - t1) * 1000, total_ms=(t2 - t0) * 1000)


def _discard(queue: str, event_id: int) -> None:
    from comms.models import Notification
    from config.celery import app

    with app.connection_for_write() as conn:
        try:
            conn.default_channel.queue_purge(queue)
        except Exception:  # the queue may not exist as such on every transport
            pass
    Notification.objects.filter(event_id=event_id).delete()


def deliver_with_worker(event_ids: list[int], *, queue: str, sink: Sink, concurrency: int, log, timeout: float = 600) -> dict:
    from comms.models import Notification

    env = {
        **os.environ,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "CELERY_DEFAULT_QUEUE": queue,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env["DATABASE_URL"] = _worker_database_url()  # the benchmark database, not the real one
    pending = Notification.objects.filter(event_id__in=event_ids)
    total = pending.count()
    log(f"Delivering {total:,} emails with a Celery worker ({concurrency} processes) to the SMTP sink …")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "--concurrency", str(concurrency),
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{queue}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < timeout:
            left = pending.filter(status=Notification.Status.PENDING).count()
            if not left:
                break
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited: {worker.stderr.read().decode()[-2000:]}")
            time.sleep(0.5)
        else:
            raise RuntimeError(f"{left:,} of {total:,} still pending after {timeout:.0f} s")
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    sent = pending.filter(status=Notification.Status.SENT)
    first, last = min(sent.values_list("sent_at", flat=True)), max(sent.values_list("sent_at", flat=True))
    seconds = max((last - first).total_seconds(), 0.001)
    return dict(total=total, sent=sent.count(), failed=pending.filter(status=Notification.Status.FAILED).count(),
                seconds=seconds, rate=sent.count() / seconds, sink=sink.count)


def _worker_database_url() -> str:
    """The benchmark database as a URL the worker process can open."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        auth = db.get("USER") or "postgres"
        if db.get("PASSWORD"):
            auth += f":{db['PASSWORD']}"
        return f"postgres://{auth}@{host}:{port}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


def run(*, smoke: bool, repeats: int, log=print) -> tuple[list[Row], list[str]]:
    from comms import tasks
    from incidents.models import Service
    from oncall.models import User

    total = 200 if smoke else 5000
    build_audience(total, log)
    actor = User.objects.create(username="fan-ic", first_name="Fan", last_name="Commander", email="ic@bench.example", is_staff=True)
    service = Service.objects.create(name="Bench checkout", slug="bench-checkout", customer_facing=True)
    queue = f"bench-fanout-{os.getpid()}"
    runs = []
    log(f"Fan-out of one external update to {total:,} recipients ({repeats} timed runs) …")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line
    for index in range(repeats):
        last = index == repeats - 1
        # Every run queues its tasks; only the last run's are delivered (the same people twice
        # would be bundled into one email each, which is a different measurement).
        runs.append(one_update(actor, service, queue=queue if last else f"{queue}-discarded"))
        if not last:
            _discard(f"{queue}-discarded", runs[-1]["event"])
    label = f"{runs[0]['rows']:,} recipients"
    rows = [
        Row("comms fan-out", "render + insert (dispatch_event)", label, "ms", [r["render_ms"] for r in runs]),
        Row("comms fan-out", f"queue one task per {tasks.BATCH} rows (broker)", label, "ms", [r["queue_ms"] for r in runs]),
        Row("comms fan-out", "render + queue, total (target < 10 s)", label, "ms", [r["total_ms"] for r in runs]),
    ]
    with Sink() as sink:
        result = deliver_with_worker([runs[-1]["event"]], queue=queue, sink=sink, concurrency=4, log=log)
    rows.append(Row("comms fan-out", "delivery to SMTP sink, Celery worker ×4", f"{result['total']:,} emails", "/s", [result["rate"]]))
    broker = settings.CELERY_BROKER_URL.split("://")[0]
    notes = [
        f"Fan-out: {result['sent']:,} of {result['total']:,} sent ({result['failed']} failed), sink received {result['sink']:,}, "
        f"in {result['seconds']:.1f} s = {result['rate']:.0f} emails/s; broker {broker}; "
        f"median render+queue {statistics.median(r['total_ms'] for r in runs) / 1000:.2f} s for {label}."
    ]
    return rows, notes
