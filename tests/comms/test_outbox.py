"""The outbox: who hears about what, exactly once, and what happens when sending goes wrong."""

import datetime as dt
import os
import time

import pytest
import time_machine
from django.utils import timezone

from comms import outbox, tasks
from comms.models import Audience, Channel, MessageKind, Notification, Subscription
from incidents import actions, engine
from incidents.models import Source, TimelineEvent
from tests.comms import recording
from tests.comms.delivery import deliver_due, dispatch_all, tick_and_dispatch
from tests.comms.servers import (  # noqa: F401
    TCPForwarder,
    closed_port,
    django_chat_webhook,
    django_smtp,
    silent_server,
    smtp_server,
    unanswered_port,
    webhook_server,
)
from tests.comms.factories import (
    ContactMethodFactory,
    MessageTemplateFactory,
    NotificationFactory,
    NotificationRuleFactory,
    StakeholderGroupFactory,
)
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import UserFactory, staff_default_policy

Kind = TimelineEvent.Kind
Status = Notification.Status


@pytest.fixture
def sms_only(oncall_engineer):
    """Alice's own rule: pages reach her by SMS at once, and by nothing else (her own rules replace the defaults)."""
    phone = oncall_engineer.contact_methods.get(channel=Channel.SMS)
    return NotificationRuleFactory(user=oncall_engineer, contact_method=phone)


def sev1(**kwargs):
    """A SEV-1 whose declaration is dispatched at once, as its on-commit task does before any
    tick (the people a tick pages join as responders, and would hear of the declaration too)."""
    incident = IncidentFactory(severity=severity("SEV-1"), **kwargs)
    dispatch_all()
    return incident


# --- Who hears about what ------------------------------------------------------------------


def test_a_page_follows_the_default_rules_email_and_chat_now_sms_after_two_minutes(oncall_engineer, sms, mail):
    ContactMethodFactory(user=oncall_engineer, channel=Channel.CHAT, address="@alice")
    incident = sev1()
    tick_and_dispatch()

    pages = Notification.objects.filter(recipient=oncall_engineer, kind=MessageKind.PAGE)
    by_channel = {n.channel: n for n in pages}
    assert set(by_channel) == {Channel.EMAIL, Channel.SMS, Channel.CHAT}
    assert all(n.is_page and len(n.ack_code) == 6 for n in pages)
    declared = by_channel[Channel.EMAIL].created_at
    assert by_channel[Channel.EMAIL].send_after == declared
    assert by_channel[Channel.SMS].send_after == declared + dt.timedelta(minutes=2)
    assert by_channel[Channel.SMS].only_if_unacknowledged
    assert incident.reference in by_channel[Channel.EMAIL].subject
    assert "/ack/" in by_channel[Channel.EMAIL].body


def test_own_rules_replace_the_defaults(oncall_engineer):
    phone = oncall_engineer.contact_methods.get(channel=Channel.SMS)
    NotificationRuleFactory(user=oncall_engineer, contact_method=phone, delay=dt.timedelta(0))
    sev1()
    tick_and_dispatch()
    pages = Notification.objects.filter(recipient=oncall_engineer, kind=MessageKind.PAGE)
    assert [(n.channel, n.send_after == n.created_at) for n in pages] == [(Channel.SMS, True)]


def test_dispatching_an_event_twice_creates_nothing_new(oncall_engineer):
    sev1(actor=oncall_engineer)  # a participant from the start: the page does not change who takes part
    tick_and_dispatch()
    before = sorted(Notification.objects.values_list("key", flat=True))
    assert before

    # The same events dispatched again — as a retried task or a sweeper racing the task would.
    TimelineEvent.objects.update(dispatched_at=None)
    dispatch_all()
    dispatch_all()
    assert sorted(Notification.objects.values_list("key", flat=True)) == before


def test_declaration_reaches_participants_and_the_groups_subscribed_for_that_severity(commander, service):
    watcher = UserFactory(username="watcher", email="watcher@example.com")
    exec_ = UserFactory(username="cto", email="cto@example.com")
    StakeholderGroupFactory(name="Watchers", members=[watcher], severities=[severity("SEV-1"), severity("SEV-2")])
    StakeholderGroupFactory(
        name="Execs", audience=Audience.EXECUTIVES, subscriptions=[Subscription.EXECUTIVE_SUMMARIES],
        members=[exec_], severities=[severity("SEV-1")],
    )
    sev3_only = UserFactory(username="sev3", email="sev3@example.com")
    StakeholderGroupFactory(name="Low", members=[sev3_only], severities=[severity("SEV-3")])
    ic = UserFactory(username="other-ic", email="ic2@example.com")

    incident = IncidentFactory(severity=severity("SEV-2"), actor=commander, commander=ic, services=[service])
    dispatch_all()

    declared = Notification.objects.filter(event__kind=Kind.DECLARED, incident=incident)
    assert {(n.recipient.username, n.kind, n.audience) for n in declared} == {
        ("other-ic", MessageKind.DECLARED, Audience.RESPONDERS),
        ("watcher", MessageKind.DECLARED, Audience.INTERNAL),
    }
    assert declared.get(recipient=ic).subject.startswith("INCIDENT DECLARED")
    # The declarer does not get told what they just did; SEV-1-only leadership hears nothing.


def test_external_updates_reach_customers_only_for_customer_facing_incidents(commander, service):
    StakeholderGroupFactory(
        name="Subscribers", audience=Audience.CUSTOMERS, subscriptions=[Subscription.CUSTOMER_NOTICES],
        external_addresses="status-subscriber@customer.example\n", severities=[severity("SEV-2")],
    )
    facing = IncidentFactory(severity=severity("SEV-2"), actor=commander, services=[service])
    actions.post_update(facing, "We are investigating slow checkouts.", actor=commander, source=Source.ADMIN)
    actions.post_update(facing, "Rolled back build 8812.", actor=commander, source=Source.ADMIN, visibility="external")
    dispatch_all()

    to_customer = Notification.objects.filter(address="status-subscriber@customer.example")
    assert [(n.kind, n.audience, n.event.visibility) for n in to_customer] == [
        (MessageKind.CUSTOMER_NOTICE, Audience.CUSTOMERS, "external")
    ]
    assert "Rolled back build 8812." in to_customer.get().body


def test_drills_and_restricted_incidents_reach_only_their_participants(commander, oncall_engineer, service):
    outsider = UserFactory(username="outsider", email="outsider@example.com")
    StakeholderGroupFactory(
        members=[outsider], external_addresses="list@example.com", severities=[severity("SEV-1")],
        subscriptions=[Subscription.INTERNAL_UPDATES],
    )
    drill = sev1(actor=commander, services=[service], is_drill=True)
    secret = sev1(actor=commander, services=[service], is_restricted=True)
    engine.tick()
    for incident in (drill, secret):
        actions.post_update(incident, "Update for participants", actor=commander, source=Source.ADMIN)
    dispatch_all()

    reached = set(Notification.objects.filter(incident__in=[drill, secret]).values_list("address", flat=True))
    assert "outsider@example.com" not in reached and "list@example.com" not in reached
    # Alice is on call but not a participant of the drill: its pages skip her. The restricted
    # incident's page makes her a responder, so it reaches her, and so does its update.
    assert not Notification.objects.filter(incident=drill, recipient=oncall_engineer).exists()
    assert {n.kind for n in Notification.objects.filter(incident=secret, recipient=oncall_engineer)} == {
        MessageKind.PAGE, MessageKind.STATUS_UPDATE
    }


def test_acknowledgement_tells_everyone_paged_and_cancels_delayed_sms(oncall_engineer, sms, mail):
    incident = sev1()
    tick_and_dispatch()
    deliver_due()
    assert [m.to for m in mail] == [["alice@example.com"]]  # the page; SMS waits 2 minutes

    bob = UserFactory(username="bob", email="bob@example.com")
    actions.acknowledge(incident, actor=bob, source=Source.ADMIN)
    dispatch_all()
    told = Notification.objects.get(event__kind=Kind.ACKNOWLEDGED, recipient=oncall_engineer)
    assert told.kind == MessageKind.ACKNOWLEDGED and told.channel == Channel.EMAIL

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=3)):
        results = deliver_due()
    sms_row = Notification.objects.get(recipient=oncall_engineer, channel=Channel.SMS, kind=MessageKind.PAGE)
    assert sms_row.status == Status.SUPPRESSED and "acknowledged" in sms_row.last_error
    assert sms == []
    assert "sent" in results


def test_a_person_nobody_can_reach_is_named_on_the_timeline(commander, service):
    ghost = UserFactory(username="ghost", email="")
    incident = IncidentFactory(severity=severity("SEV-2"), actor=commander, commander=ghost, services=[service])
    dispatch_all()
    failure = TimelineEvent.objects.get(incident=incident, kind=Kind.NOTIFICATION_FAILED)
    assert "ghost" in failure.message or str(ghost) in failure.message


# --- Delivery --------------------------------------------------------------------------------


def test_transient_failures_retry_with_backoff_then_fail_on_the_timeline(sms_only, sms, settings):
    settings.VIGIL_DELIVERY_MAX_ATTEMPTS = 3
    settings.VIGIL_DELIVERY_BACKOFF_SECONDS = 10
    incident = sev1()
    tick_and_dispatch()
    row = Notification.objects.get(channel=Channel.SMS, kind=MessageKind.PAGE)

    recording.FAIL_WITH.extend(recording.DeliveryError("carrier timeout") for _ in range(3))
    start = timezone.now()
    assert outbox.deliver(row.pk) == "retry"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.PENDING, 1, "carrier timeout")
    assert dt.timedelta(seconds=9) < row.send_after - start < dt.timedelta(seconds=12)
    assert outbox.deliver(row.pk) == "skipped"  # not due yet

    with time_machine.travel(start + dt.timedelta(seconds=11)):
        assert outbox.deliver(row.pk) == "retry"
    row.refresh_from_db()
    assert dt.timedelta(seconds=30) < row.send_after - start < dt.timedelta(seconds=33)  # 10 s, then 20 s
    with time_machine.travel(start + dt.timedelta(seconds=40)):
        assert outbox.deliver(row.pk) == "failed"
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.FAILED, 3)
    failure = TimelineEvent.objects.get(incident=incident, kind=Kind.NOTIFICATION_FAILED)
    assert "SMS" in failure.message and "3 attempts" in failure.message and "carrier timeout" in failure.message
    assert sms == []


def test_a_permanent_failure_is_not_retried(sms_only, sms):
    sev1()
    tick_and_dispatch()
    row = Notification.objects.get(channel=Channel.SMS)
    recording.FAIL_WITH.append(recording.DeliveryError("21211 invalid To number", transient=False))
    assert outbox.deliver(row.pk) == "failed"
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.FAILED, 1)


def test_a_bundle_refused_for_good_fails_each_row_once(sms_only, sms, settings):
    settings.VIGIL_THROTTLES = {}
    incidents = [sev1(title=f"Outage {i}") for i in range(3)]
    tick_and_dispatch()
    recording.FAIL_WITH.append(recording.DeliveryError("21211 invalid To number", transient=False))
    rows = Notification.objects.filter(channel=Channel.SMS)
    outcomes = outbox.deliver_many(list(rows.values_list("pk", flat=True)))  # one message for the three pages
    assert sorted(outcomes.values()) == ["failed"] * 3

    assert [row.status for row in rows] == [Status.FAILED] * 3 and sms == []
    failures = TimelineEvent.objects.filter(kind=Kind.NOTIFICATION_FAILED, incident__in=incidents)
    assert sorted(failures.values_list("incident", flat=True)) == sorted(i.pk for i in incidents)


def test_a_burst_of_pages_to_one_phone_is_bundled_never_dropped(sms_only, sms, settings):
    settings.VIGIL_THROTTLES = {"sms": [(1, 60)]}
    first = [sev1(title=f"Outage {i}") for i in range(3)]
    tick_and_dispatch()
    start = timezone.now()
    results = deliver_due()
    # Three pages due together leave as one message; the other two rows ride along in it.
    assert results.count("sent") == 1 and len(sms) == 1
    assert sms[0].body.startswith("Vigil: 3 messages")
    # Three SEV-1 pages: the newest incident first, so a cut to fit the segments falls on the oldest.
    positions = [sms[0].body.index(f"{i.reference} SEV-1") for i in reversed(first)]
    assert positions == sorted(positions)

    # Two more pages inside the throttle window wait for it, then go out together.
    later = [sev1(title=f"Aftershock {i}") for i in range(2)]
    tick_and_dispatch()
    results = deliver_due()
    assert results.count("throttled") >= 1 and "sent" not in results and len(sms) == 1
    with time_machine.travel(start + dt.timedelta(seconds=61)):
        results = deliver_due()
    assert results.count("sent") == 1 and len(sms) == 2
    assert sms[1].body.startswith("Vigil: 2 messages") and all(i.reference in sms[1].body for i in later)

    rows = Notification.objects.filter(channel=Channel.SMS)
    assert rows.count() == 5 and all(n.status == Status.SENT for n in rows)  # none dropped
    assert rows.filter(bundled_into__isnull=False).count() == 3


def test_a_page_reaches_a_real_smtp_server_and_a_signed_chat_webhook(oncall_engineer, django_smtp, django_chat_webhook):
    ContactMethodFactory(user=oncall_engineer, channel=Channel.CHAT, address="@alice")
    incident = sev1(title="Checkout is down")
    tick_and_dispatch()
    assert sorted(deliver_due()) == ["sent", "sent"]  # email and chat now; SMS waits its 2 minutes

    [mail] = django_smtp.wait_for(1)
    assert mail["To"] == "alice@example.com"
    assert incident.reference in mail["Subject"] and "[URGENT]" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "/ack/" in text and "/ack/" in html
    [hook] = django_chat_webhook.wait_for(1)
    assert hook.signature_valid and "@alice" in hook.json["text"] and incident.reference in hook.json["text"]

    email_row = Notification.objects.get(channel=Channel.EMAIL, kind=MessageKind.PAGE)
    assert email_row.status == Status.SENT and email_row.provider_id == mail["Message-ID"]


def test_a_page_bundled_with_another_incidents_page_and_reminder_leads_the_email(db, django_smtp, settings):
    """Bob's mail is held by its throttle while an older SEV-2 pages and re-pages him and a new
    SEV-1 pages him: the one email that carries them names both incidents in its subject, the
    SEV-1 first, and opens with the SEV-1's page."""
    settings.VIGIL_THROTTLES = {"email": [(1, 3600)]}
    bob = UserFactory(username="bob", first_name="Bob", email="bob@example.com")
    staff_default_policy(bob)
    start = timezone.now()
    NotificationFactory(recipient=bob, status=Status.SENT, sent_at=start, subject="Earlier")  # the hour's one email

    search = IncidentFactory(severity=severity("SEV-2"), title="Search is slow")
    tick_and_dispatch()
    with time_machine.travel(start + dt.timedelta(minutes=16)):
        tick_and_dispatch()  # nobody acknowledged within SEV-2's 15 minutes: Bob is paged again
    with time_machine.travel(start + dt.timedelta(minutes=17)):
        payments = IncidentFactory(severity=severity("SEV-1"), title="Payments are failing")
        tick_and_dispatch()
        deliver_due()
    to_bob = lambda: [mail for mail in django_smtp.messages if mail["To"] == "bob@example.com"]  # noqa: E731
    assert to_bob() == []  # all held by the throttle
    with time_machine.travel(start + dt.timedelta(minutes=61)):
        deliver_due()

    [mail] = to_bob()
    rows = Notification.objects.filter(address="bob@example.com", incident__isnull=False)
    pages = rows.filter(is_page=True)
    assert pages.filter(incident=search).count() == 2 and pages.filter(incident=payments).count() == 1
    assert mail["Subject"] == (
        f"[URGENT] {rows.count()} messages from Vigil: {payments.reference} SEV-1: Payments are failing; "
        f"{search.reference} SEV-2: Search is slow"
    )
    messages = mail.get_body(("plain",)).get_content().split("—" * 20)
    assert payments.reference in messages[0] and search.reference not in messages[0]
    assert "/ack/" in messages[0]
    lead = rows.get(bundled_into__isnull=True)
    assert lead.incident == payments and lead.is_page and lead.provider_id == mail["Message-ID"]


def test_an_edited_page_subject_that_leaves_out_the_incident_still_names_it(oncall_engineer, django_smtp):
    page = MessageTemplateFactory(kind=MessageKind.PAGE, audience=Audience.RESPONDERS, channel=Channel.EMAIL)
    page.subject = "Wake up, {{ recipient_name|default:'you' }}"
    page.body = "{{ title }} {{ ack_url }}"
    page.save()
    incident = sev1(title="Checkout is down")
    tick_and_dispatch()
    deliver_due()
    [mail] = django_smtp.wait_for(1)
    assert mail["Subject"].startswith(f"{incident.reference} SEV-1: Wake up")


def test_customer_notices_bundled_together_keep_to_customer_words(commander, service, mail, settings):
    settings.VIGIL_THROTTLES = {"email": [(1, 3600)]}
    StakeholderGroupFactory(
        name="Subscribers", audience=Audience.CUSTOMERS, subscriptions=[Subscription.CUSTOMER_NOTICES],
        external_addresses="status-subscriber@customer.example\n", severities=[severity("SEV-1"), severity("SEV-2")],
    )
    start = timezone.now()
    NotificationFactory(recipient=None, address="status-subscriber@customer.example", status=Status.SENT, sent_at=start)
    for title, level in (("Checkout is slow", "SEV-2"), ("Payments are failing", "SEV-1")):
        incident = IncidentFactory(severity=severity(level), actor=commander, services=[service], title=title)
        actions.post_update(incident, f"Update on {title}.", actor=commander, source=Source.ADMIN, visibility="external")
    dispatch_all()
    with time_machine.travel(start + dt.timedelta(minutes=61)):
        deliver_due()

    [sent] = [m for m in mail if m.to == ["status-subscriber@customer.example"]]
    assert sent.subject.startswith("2 messages from Vigil: ")
    assert "INC-" not in sent.subject and "SEV-" not in sent.subject
    assert sent.body.index("Update on Payments are failing.") < sent.body.index("Update on Checkout is slow.")


def test_a_title_cannot_mention_a_whole_chat_room_but_the_template_links_work(oncall_engineer, django_chat_webhook):
    ContactMethodFactory(user=oncall_engineer, channel=Channel.CHAT, address="@alice")
    sev1(title="<!channel> checkout & payments down")
    tick_and_dispatch()
    deliver_due()
    [hook] = django_chat_webhook.wait_for(1)
    text = hook.json["text"]
    assert "&lt;!channel&gt; checkout &amp; payments down" in text and "<!channel>" not in text
    assert "|Acknowledge>" in text and "<http" in text  # the template's own Slack links survive


def test_chat_messages_due_together_go_out_as_one_post_with_their_links_intact(oncall_engineer, django_chat_webhook):
    chat = ContactMethodFactory(user=oncall_engineer, channel=Channel.CHAT, address="@alice")
    NotificationRuleFactory(user=oncall_engineer, contact_method=chat)
    first, second = sev1(title="Checkout down"), sev1(title="Search down")
    tick_and_dispatch()
    assert deliver_due().count("sent") == 1
    [hook] = django_chat_webhook.wait_for(1)
    text = hook.json["text"]
    # Both SEV-1 pages: the newer incident first, in the header and in the text.
    assert text.startswith(f"@alice *2 messages from Vigil: {second.reference} SEV-1, {first.reference} SEV-1*")
    later, earlier = text.split("—" * 20)
    assert f"ack {second.reference}`" in later and f"ack {first.reference}`" in earlier
    assert text.count("|Acknowledge>") == 2


def test_a_chat_webhook_that_keeps_failing_is_retried_then_failed(oncall_engineer, django_chat_webhook, settings):
    settings.VIGIL_DELIVERY_MAX_ATTEMPTS = 2
    chat = ContactMethodFactory(user=oncall_engineer, channel=Channel.CHAT, address="@alice")
    NotificationRuleFactory(user=oncall_engineer, contact_method=chat)
    incident = sev1()
    tick_and_dispatch()
    django_chat_webhook.respond(503, body="maintenance")
    row = Notification.objects.get(channel=Channel.CHAT)
    assert outbox.deliver(row.pk) == "retry"
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.VIGIL_DELIVERY_BACKOFF_SECONDS + 1)):
        assert outbox.deliver(row.pk) == "failed"
    assert len(django_chat_webhook.requests) == 2
    row.refresh_from_db()
    assert row.status == Status.FAILED and "503" in row.last_error
    assert TimelineEvent.objects.filter(incident=incident, kind=Kind.NOTIFICATION_FAILED).count() == 1


def test_health_reports_an_outbox_backlog(oncall_engineer, client, settings):
    sev1()
    tick_and_dispatch()
    assert client.get("/api/v1/health").json()["outbox"]["status"] == "ok"
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.VIGIL_OUTBOX_GRACE_SECONDS + 5)):
        outbox_health = client.get("/api/v1/health").json()["outbox"]
    assert outbox_health["status"] == "backlog" and outbox_health["overdue_notifications"] >= 1


# --- Faults ----------------------------------------------------------------------------------


def test_a_worker_killed_between_send_and_record_sends_again_after_the_lease(sms_only, settings):
    """Nothing lost: the row stays pending under a lease; when the lease runs out the sweeper
    queues it again. One duplicate, as a provider's own retry would cause; never more."""
    settings.VIGIL_SMS_BACKEND = "tests.comms.recording.SendThenDieSMSBackend"
    recording.reset()
    sev1()
    tick_and_dispatch()
    row = Notification.objects.get(channel=Channel.SMS)
    start = timezone.now()
    with pytest.raises(recording.SendThenDie):
        outbox.deliver(row.pk)
    row.refresh_from_db()
    assert row.status == Status.PENDING and row.locked_until > start and len(recording.SENT) == 1

    # While the lease holds, nobody sends it again (the worker might still be alive).
    assert row.pk not in [pk for pk, _ in outbox.due_for_enqueue()]
    assert outbox.deliver(row.pk) == "skipped"

    settings.VIGIL_SMS_BACKEND = "tests.comms.recording.RecordingSMSBackend"
    with time_machine.travel(start + dt.timedelta(seconds=settings.VIGIL_DELIVERY_LEASE_SECONDS + 1)):
        queued = [pk for pk, _ in outbox.due_for_enqueue()]
        assert queued == [row.pk]
        assert outbox.deliver(row.pk) == "sent"
        assert outbox.deliver(row.pk) == "skipped"
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 2)
    assert len(recording.SENT) == 2
    recording.reset()


def test_each_message_of_a_batch_is_on_record_before_the_next_goes_out(settings, commander):
    """A worker killed mid-batch must not send the batch again: when each message leaves,
    every message before it is already recorded as sent (the kill test with a real worker
    and SMTP server is in test_outbox_workers.py)."""
    settings.VIGIL_SMS_BACKEND = "tests.comms.recording.RecordKeepingSMSBackend"
    recording.reset()
    incident = sev1(actor=commander)
    phones = [ContactMethodFactory(channel=Channel.SMS, address=f"+4477009000{n:02d}") for n in range(4)]
    rows = [
        Notification.objects.create(
            key=f"batch:{n}", incident=incident, kind=MessageKind.STATUS_UPDATE, audience=Audience.INTERNAL,
            channel=Channel.SMS, recipient=phone.user, contact_method=phone, address=phone.address,
            body=f"Update {n}", send_after=timezone.now(), created_at=timezone.now(),
        )
        for n, phone in enumerate(phones)
    ]
    outcomes = outbox.deliver_many([row.pk for row in rows])

    assert list(outcomes.values()) == ["sent"] * 4 and len(recording.SENT) == 4
    sent_before = [{message.notification_id for message in recording.SENT[:n]} for n in range(4)]
    assert recording.ON_RECORD == sent_before
    recording.reset()


@pytest.mark.parametrize("broker", ["closed_port", "silent_server", "unanswered_port"])
def test_with_the_broker_unreachable_an_action_still_answers_at_once_and_the_sweeper_dispatches(
    broker, request, oncall_engineer, commander, service, django_capture_on_commit_callbacks, settings, monkeypatch
):
    """The broker refuses (Redis stopped), accepts and never answers (hung), or never completes
    the handshake (host down, packets dropped): the after-commit publish gives up within
    `PUBLISH_TIMEOUT_SECONDS`, with no retries, and the event waits for the sweeper."""
    host, port = request.getfixturevalue(broker)
    # Celery reads CELERY_BROKER_URL from the environment before its settings.
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://{host}:{port}/0")
    # A process's first publish imports the broker's transport; a web process has long done so.
    tasks._publish(tasks.dispatch_events, [])

    def run_after_commit(callbacks) -> float:
        started = time.monotonic()
        for callback in callbacks:
            callback()
        return time.monotonic() - started

    with django_capture_on_commit_callbacks() as callbacks:
        incident = IncidentFactory(severity=severity("SEV-2"), actor=commander, commander=UserFactory(username="ic-b"), services=[service])
    declare_extra = run_after_commit(callbacks)
    with django_capture_on_commit_callbacks() as callbacks:
        actions.post_update(incident, "Rolled back build 8812.", actor=commander, source=Source.ADMIN)
    update_extra = run_after_commit(callbacks)
    assert declare_extra < 0.5 and update_extra < 0.5, (declare_extra, update_extra)

    # Nothing was queued: the events wait, undispatched, for the sweeper.
    waiting = TimelineEvent.objects.filter(incident=incident, kind__in=[Kind.DECLARED, Kind.STATUS_UPDATE])
    assert waiting.count() == 2 and not waiting.filter(dispatched_at__isnull=False).exists()
    assert outbox.undispatched_events() == []  # within the grace period the task may still come
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.VIGIL_OUTBOX_GRACE_SECONDS + 1)):
        assert sorted(outbox.undispatched_events()) == sorted(waiting.values_list("pk", flat=True))
        outbox.dispatch_events(outbox.undispatched_events())
    assert not waiting.filter(dispatched_at__isnull=True).exists()
    assert Notification.objects.filter(event__kind=Kind.DECLARED, incident=incident, recipient__username="ic-b").exists()
    assert Notification.objects.filter(event__kind=Kind.STATUS_UPDATE, incident=incident, recipient__username="ic-b").exists()


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis broker (REDIS_URL)")
def test_publishing_resumes_as_soon_as_the_broker_is_back(monkeypatch, settings):
    """The request path keeps its broker connections in a pool: one that broke while the broker
    was away is never handed out again, so the first publish after it returns goes through."""
    import redis

    broker = redis.Redis.from_url(os.environ["REDIS_URL"])
    queued = lambda: broker.llen(settings.CELERY_PAGING_QUEUE)  # noqa: E731
    address = broker.connection_pool.connection_kwargs
    forwarder = TCPForwarder(address.get("host", "127.0.0.1"), address.get("port", 6379))
    forwarder.start()
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{forwarder.port}/{address.get('db', 0)}")
    try:
        before = queued()
        assert tasks._publish(tasks.dispatch_events, []) is True
        forwarder.stop()  # Redis goes away, with the pooled connection
        started = time.monotonic()
        assert tasks._publish(tasks.dispatch_events, []) is False
        assert time.monotonic() - started < 0.5
        forwarder.start()  # back, on the same port
        assert tasks._publish(tasks.dispatch_events, []) is True
        forwarder.stop()
        forwarder.start()  # restarted between two publishes, with no failure in between
        assert tasks._publish(tasks.dispatch_events, []) is True
        assert queued() - before == 3
    finally:
        forwarder.stop()


def test_events_nobody_hears_about_are_born_dispatched(incident, commander):
    actions.add_note(incident, "Looking at the dashboards", actor=commander, source=Source.ADMIN)
    note = TimelineEvent.objects.get(incident=incident, kind=Kind.NOTE)
    assert note.dispatched_at == note.occurred_at


def test_resend_queues_a_failed_notification_again(sms_only, sms, django_capture_on_commit_callbacks):
    sev1()
    tick_and_dispatch()
    row = Notification.objects.get(channel=Channel.SMS)
    recording.FAIL_WITH.append(recording.DeliveryError("bad number", transient=False))
    outbox.deliver(row.pk)
    with django_capture_on_commit_callbacks(execute=False):
        assert outbox.resend(Notification.objects.filter(pk=row.pk)) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.PENDING, 0, "")
    assert outbox.deliver(row.pk) == "sent"
    assert len(sms) == 1


def test_the_sweep_task_dispatches_and_queues(oncall_engineer, settings, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "enqueue_deliveries", lambda rows: queued.extend(rows))
    IncidentFactory(severity=severity("SEV-1"))  # its declaration not dispatched yet either
    engine.tick()
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.VIGIL_OUTBOX_GRACE_SECONDS + 1)):
        result = tasks.sweep_outbox()
    assert result["events"] >= 2  # declared + escalated
    assert any(is_page for _, is_page in queued)
