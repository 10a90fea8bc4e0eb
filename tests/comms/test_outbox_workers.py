"""The outbox with real processes: a Celery worker with beat on Redis delivers a page to a real
SMTP server, a worker killed with SIGKILL between send and record loses nothing, and one
killed in the middle of a batch of emails sends again only the message that was in flight."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from comms import outbox
from comms.tasks import deliver_batch, deliver_page
from comms.models import Audience, Channel, MessageKind, Notification, Subscription
from incidents import actions
from incidents.models import Source
from tests.comms import recording
from tests.comms.delivery import dispatch_all, tick_and_dispatch
from tests.comms.factories import ContactMethodFactory, NotificationRuleFactory, StakeholderGroupFactory
from tests.comms.servers import smtp_server  # noqa: F401
from tests.incidents.factories import IncidentFactory, ServiceFactory, severity
from tests.oncall.factories import UserFactory, staff_default_policy

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis broker (REDIS_URL)"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="worker processes share the PostgreSQL test database"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def worker_env(**extra) -> dict:
    db = connection.settings_dict
    suffix = f"{os.getpid()}-{time.monotonic_ns()}"
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": os.environ["REDIS_URL"],
        "DJANGO_DEBUG": "1",
        # Queues of its own, so another run's worker on the same Redis cannot take its work.
        "CELERY_PAGING_QUEUE": f"paging-comms-{suffix}",
        "CELERY_DEFAULT_QUEUE": f"default-comms-{suffix}",
        **extra,
    }


def mailing_to(sink) -> dict[str, str]:
    """A worker's environment that sends its mail to the test's SMTP sink."""
    return {name: str(value) for name, value in sink.django_settings().items()}


def start_worker(env: dict, tmp_path: Path, *, beat: bool) -> subprocess.Popen:
    queues = f"{env['CELERY_PAGING_QUEUE']},{env['CELERY_DEFAULT_QUEUE']}"
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues, "--pool", "solo",
               "--loglevel", "INFO", "-n", f"{env['CELERY_PAGING_QUEUE']}@%h"]
    if beat:
        command[6:6] = ["--beat", "-s", str(tmp_path / "beat-schedule")]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(worker: subprocess.Popen) -> str:
    if worker.poll() is None:
        worker.terminate()
    try:
        return worker.communicate(timeout=30)[0] or ""
    finally:
        connection.close()


def alice_on_level_one():
    alice = UserFactory(username="alice", first_name="Alice", last_name="Chen", email="alice@example.com")
    staff_default_policy(alice)
    return alice


def test_beat_engine_and_worker_deliver_a_page_to_smtp(smtp_server, tmp_path):  # noqa: F811
    alice_on_level_one()
    env = worker_env(
        **mailing_to(smtp_server),
        VIGIL_ENGINE_TICK_SECONDS="1",
        VIGIL_OUTBOX_SWEEP_SECONDS="1",
        VIGIL_OUTBOX_GRACE_SECONDS="2",
    )
    incident = IncidentFactory(severity=severity("SEV-1"), title="Payments are failing")
    worker = start_worker(env, tmp_path, beat=True)
    try:
        # The worker's engine tick engages level 1 (Alice); the escalation's dispatch and the
        # page's delivery run on the worker; the email lands in the SMTP server.
        mails = smtp_server.wait_for(1, timeout=60)
        if not any("[URGENT]" in m["Subject"] for m in mails):
            # The declaration's notice, dispatched by the sweeper after the tick made Alice a responder.
            mails = smtp_server.wait_for(2, timeout=60)
    except AssertionError:
        pytest.fail(stop(worker)[-4000:])
    output = stop(worker)
    page = next(m for m in mails if "[URGENT]" in m["Subject"])
    assert page["To"] == "alice@example.com" and incident.reference in page["Subject"], output[-2000:]
    row = Notification.objects.get(kind=MessageKind.PAGE, channel=Channel.EMAIL, recipient__username="alice")
    assert row.status == Notification.Status.SENT and row.provider_id == page["Message-ID"]


def test_a_worker_killed_between_send_and_record_loses_nothing(tmp_path, settings):
    alice = alice_on_level_one()
    phone = ContactMethodFactory(user=alice, channel=Channel.SMS, address="+447700900001")
    NotificationRuleFactory(user=alice, contact_method=phone)
    IncidentFactory(severity=severity("SEV-1"))
    # The declaration is dispatched on commit, before the tick that pages Alice (and makes her a responder).
    dispatch_all()
    tick_and_dispatch()
    row = Notification.objects.get(channel=Channel.SMS, kind=MessageKind.PAGE)

    sent_file = tmp_path / "sent.txt"
    env = worker_env(
        VIGIL_SMS_BACKEND="tests.comms.recording.SendThenHangSMSBackend",
        VIGIL_TEST_SENT_FILE=str(sent_file),
        VIGIL_DELIVERY_LEASE_SECONDS="3",
    )
    worker = start_worker(env, tmp_path, beat=False)
    try:
        deliver_page.apply_async(args=(row.pk,), queue=env["CELERY_PAGING_QUEUE"])
        deadline = time.monotonic() + 60
        while not (sent_file.exists() and sent_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sent_file.exists(), "the worker never sent"
        worker.send_signal(signal.SIGKILL)  # between the send and the record
        worker.wait(timeout=30)
    finally:
        output = stop(worker)

    row.refresh_from_db()
    assert row.status == Notification.Status.PENDING and row.attempts == 1, output[-2000:]
    assert outbox.due_for_enqueue() == []  # the lease still holds: the worker might have been alive

    time.sleep(3.5)
    settings.VIGIL_SMS_BACKEND = "tests.comms.recording.RecordingSMSBackend"
    recording.reset()
    assert [pk for pk, _ in outbox.due_for_enqueue()] == [row.pk]
    assert outbox.deliver(row.pk) == "sent"
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Notification.Status.SENT, 2)
    # Sent twice in all — once by the killed worker, once after the lease — never lost, never more.
    assert len(sent_file.read_text().splitlines()) + len(recording.SENT) == 2
    recording.reset()



def test_a_worker_killed_mid_batch_sends_again_only_the_message_in_flight(smtp_server, tmp_path):  # noqa: F811
    """A customer notice to twelve addresses goes out as one batch. The SMTP server takes five
    messages, then holds the sixth without answering; the worker is killed right then. The
    five are on record as sent; after the lease a fresh worker's sweeper sends the other
    seven. Every address hears once, and only the message in flight twice."""
    customers = [f"customer{n:02d}@customer.example" for n in range(12)]
    StakeholderGroupFactory(
        name="Subscribers", audience=Audience.CUSTOMERS, subscriptions=[Subscription.CUSTOMER_NOTICES],
        external_addresses="\n".join(customers), severities=[severity("SEV-2")],
    )
    commander = UserFactory(username="ic", email="ic@example.com")
    service = ServiceFactory(name="Checkout API", slug="checkout-api", customer_facing=True)
    incident = IncidentFactory(severity=severity("SEV-2"), actor=commander, services=[service])
    actions.post_update(incident, "Checkout is slow; we are on it.", actor=commander, source=Source.ADMIN, visibility="external")
    dispatch_all()
    notices = Notification.objects.filter(address__in=customers)
    assert notices.count() == 12

    env = worker_env(
        **mailing_to(smtp_server),
        VIGIL_DELIVERY_LEASE_SECONDS="3",
        VIGIL_OUTBOX_SWEEP_SECONDS="1",
        VIGIL_OUTBOX_GRACE_SECONDS="2",
        VIGIL_ENGINE_TICK_SECONDS="3600",
    )
    smtp_server.stall_after(5)
    worker = start_worker(env, tmp_path, beat=False)
    try:
        deliver_batch.apply_async(args=(sorted(notices.values_list("pk", flat=True)),), queue=env["CELERY_DEFAULT_QUEUE"])
        smtp_server.wait_for(6, timeout=60)  # the sixth has arrived and waits for its answer
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        output = stop(worker)
    smtp_server.release()

    # What the killed worker left: the five the server accepted are on record, the one in
    # flight and the six behind it are pending under the dead worker's lease.
    statuses = sorted(notices.values_list("status", flat=True))
    assert statuses.count(Notification.Status.SENT) == 5, output[-3000:]
    assert statuses.count(Notification.Status.PENDING) == 7

    worker = start_worker(env, tmp_path, beat=True)
    try:
        deadline = time.monotonic() + 60
        while notices.exclude(status=Notification.Status.SENT).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        output = stop(worker)
    assert not notices.exclude(status=Notification.Status.SENT).exists(), output[-3000:]

    received = [envelope.rcpt_tos[0] for envelope in smtp_server.envelopes if envelope.rcpt_tos[0] in customers]
    assert set(received) == set(customers)  # nobody lost
    assert len(received) - len(customers) == 1  # only the message in flight went out twice
