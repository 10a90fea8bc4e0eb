"""Who is told what: restricted incidents, refusals named on the timeline, the severity's
customer and status-page settings, reopening, informational escalations and the status-page
publication reminder — checked on the outbox rows (and the mail that arrives)."""

import datetime as dt

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comms import defaults, outbox, routing, templating
from comms.models import Audience, Channel, MessageKind, MessageTemplate, Notification, Subscription
from incidents import actions, engine, firing, timeline
from incidents.models import Participant, SeverityLevel, Source, TimelineEvent
from tests.comms import recording
from tests.comms.delivery import deliver_due, dispatch_all, tick_and_dispatch
from tests.comms.factories import ContactMethodFactory, NotificationRuleFactory, StakeholderGroupFactory
from tests.comms.servers import django_smtp, smtp_server  # noqa: F401
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import UserFactory

Kind = TimelineEvent.Kind
Status = Notification.Status
SECRETS = ("Customer data exposed", "acme-exports", "exfiltration", "Rotated the keys")


@pytest.fixture
def ic(db):
    return UserFactory(username="ic2", first_name="Ivy", last_name="Cole", email="ivy@example.com")


def engine_event(incident, kind, people, **data):
    """What the engine records: an event naming its targets (`data["targets"]`)."""
    with transaction.atomic():
        return timeline.record(
            incident, kind, f"{kind} for {firing.names(people)}", source=Source.ENGINE,
            data={**data, "targets": firing.describe(people)},
        )


def failures(incident) -> list[TimelineEvent]:
    return list(TimelineEvent.objects.filter(incident=incident, kind=Kind.NOTIFICATION_FAILED).order_by("pk"))


def words(row: Notification) -> str:
    return row.subject + "\n" + row.body + "\n" + row.html_body


def secret_incident(actor, service, **flags):
    return IncidentFactory(
        severity=severity("SEV-1"), actor=actor, services=[service], title="Customer data exposed",
        summary="Bucket acme-exports is world-readable", is_restricted=True, **flags,
    )


# --- 1. Restricted incidents -------------------------------------------------------------------


def test_a_restricted_page_says_reference_severity_services_and_the_ack_link_only(
    oncall_engineer, commander, service, django_smtp
):
    incident = secret_incident(commander, service)
    dispatch_all()  # the declaration: nobody but its declarer is involved yet
    Participant.objects.create(incident=incident, user=oncall_engineer, role=Participant.Role.RESPONDER, joined_at=timezone.now())
    tick_and_dispatch()
    assert deliver_due() == ["sent"]  # the email page; the SMS waits its 2 minutes

    pages = Notification.objects.filter(recipient=oncall_engineer, kind=MessageKind.PAGE)
    assert {(n.channel, n.audience, n.is_page) for n in pages} == {
        (Channel.EMAIL, Audience.RESTRICTED, True), (Channel.SMS, Audience.RESTRICTED, True),
    }
    sms = pages.get(channel=Channel.SMS)
    assert incident.reference in sms.body and "/ack/" in sms.body and sms.ack_code in sms.body
    [message] = django_smtp.wait_for(1)
    text = message.get_body(("plain",)).get_content()
    assert message["Subject"] == f"[URGENT] {incident.reference} SEV-1 (restricted): you are being paged"
    assert "Affected services: Checkout API" in text and "/ack/" in text
    for secret in SECRETS:
        assert secret not in message["Subject"] + text and all(secret not in words(n) for n in pages)


def test_everything_said_about_a_restricted_incident_uses_the_restricted_words(oncall_engineer, commander, ic, service):
    incident = secret_incident(commander, service, commander=ic)
    Participant.objects.create(incident=incident, user=oncall_engineer, role=Participant.Role.RESPONDER, joined_at=timezone.now())
    engine.tick()
    actions.post_update(incident, "exfiltration via acme-exports confirmed", actor=commander, source=Source.ADMIN)
    actions.acknowledge(incident, actor=ic, source=Source.ADMIN)
    actions.resolve(incident, actor=commander, source=Source.ADMIN, summary="Rotated the keys of acme-exports")
    actions.reopen(incident, actor=commander, source=Source.ADMIN, reason="acme-exports readable again")
    dispatch_all()

    rows = list(Notification.objects.filter(incident=incident))
    assert {row.kind for row in rows} == {
        MessageKind.DECLARED, MessageKind.PAGE, MessageKind.STATUS_UPDATE, MessageKind.ACKNOWLEDGED,
        MessageKind.RESOLUTION, MessageKind.REOPENED,
    }
    assert {row.audience for row in rows} == {Audience.RESTRICTED}
    assert {row.recipient for row in rows} == {oncall_engineer, ic}
    for row in rows:
        assert incident.reference in row.subject + row.body and "SEV-1" in row.subject + row.body
        assert not any(secret in words(row) for secret in SECRETS), (row.kind, row.channel, words(row))


def test_an_edited_restricted_template_still_cannot_reach_the_title_or_the_update(commander, ic, service):
    MessageTemplate.objects.filter(kind="status_update", audience="restricted", channel="email").update(
        subject="{{ ref }}: {{ title }}", body="{{ ref }} {{ title }} {{ summary }} {{ impact }} {{ update }} {{ message }} {{ commander }}",
    )
    incident = secret_incident(commander, service, commander=ic)
    actions.post_update(incident, "exfiltration via acme-exports confirmed", actor=commander, source=Source.ADMIN)
    dispatch_all()
    row = Notification.objects.get(recipient=ic, kind=MessageKind.STATUS_UPDATE, channel=Channel.EMAIL)
    assert (row.subject, row.body) == (f"{incident.reference}:", incident.reference)
    ctx = templating.for_audience(Audience.RESTRICTED, templating.context(incident))
    assert ctx["title"] == ctx["summary"] == ctx["commander"] == "" and ctx["ref"] == incident.reference


def test_an_edited_restricted_template_cannot_reach_the_people_or_the_impact(commander, ic, service):
    MessageTemplate.objects.filter(kind="status_update", audience="restricted", channel="email").update(
        body="{{ ref }}|{{ response_team }}|{% for p in participants %}{{ p.name }} {{ p.email }}{% endfor %}|{{ impact_description }}"
        "|{{ users_affected_estimated }}|{{ regions }}|{{ revenue_impact }}|{{ services }}|{{ next_update_due }}",
    )
    incident = secret_incident(commander, service, commander=ic)
    actions.update_details(
        incident, actor=commander, source=Source.ADMIN, impact_description="acme-exports customer list leaked",
        users_affected_estimated=300, regions=["eu-west-1"], revenue_impact="high",
    )
    actions.post_update(incident, "exfiltration via acme-exports confirmed", actor=commander, source=Source.ADMIN)
    dispatch_all()
    row = Notification.objects.get(recipient=ic, kind=MessageKind.STATUS_UPDATE, channel=Channel.EMAIL)
    ref, *blanks, services, next_update_due = row.body.split("|")
    assert (ref, blanks, services) == (incident.reference, [""] * 6, "Checkout API")
    assert next_update_due == templating.context(incident, recipient=ic)["next_update_due"] != ""


def test_restricted_pages_bundled_into_one_sms_keep_their_titles_out(oncall_engineer, commander, service, settings):
    settings.VIGIL_SMS_BACKEND = "tests.comms.recording.RecordingSMSBackend"
    recording.reset()
    NotificationRuleFactory(user=oncall_engineer, contact_method=oncall_engineer.contact_methods.get(channel=Channel.SMS))
    secrets = [secret_incident(commander, service) for _ in range(2)]
    for incident in secrets:
        Participant.objects.create(incident=incident, user=oncall_engineer, role=Participant.Role.RESPONDER, joined_at=timezone.now())
    tick_and_dispatch()
    deliver_due()
    [message] = recording.SENT
    assert message.body.startswith("Vigil: 2 messages.") and all(f"{i.reference} SEV-1: restricted" in message.body for i in secrets)
    assert "Customer data" not in message.body
    recording.reset()


@pytest.mark.parametrize("channel", Channel.values)
@pytest.mark.parametrize("kind", MessageKind.values)
def test_restricted_words_never_fall_back_to_words_that_say_more(kind, channel, commander, service):
    cells = list(defaults.candidates(kind, Audience.RESTRICTED, channel))
    assert cells and {audience for _, audience, _ in cells} == {Audience.RESTRICTED}
    incident = secret_incident(commander, service)
    ctx = templating.context(incident, event=incident.timeline.first())
    for rows in ("seeded", "none"):
        if rows == "none":
            MessageTemplate.objects.all().delete()
        rendered = templating.Renderer().render(kind, Audience.RESTRICTED, channel, ctx)
        assert incident.reference in rendered.subject + rendered.body
        assert not any(secret in rendered.subject + rendered.body for secret in SECRETS)


@pytest.mark.parametrize("flag", ["is_restricted", "is_drill"])
def test_groups_customers_outside_addresses_and_the_status_page_never_hear_of_it(flag, commander, ic, service, client):
    member = UserFactory(username="member", email="member@example.com")
    for audience, subscriptions in (
        (Audience.INTERNAL, [Subscription.INTERNAL_UPDATES]),
        (Audience.EXECUTIVES, [Subscription.EXECUTIVE_SUMMARIES]),
        (Audience.CUSTOMERS, [Subscription.CUSTOMER_NOTICES]),
    ):
        StakeholderGroupFactory(
            audience=audience, subscriptions=subscriptions, members=[member],
            external_addresses=f"{audience}@outside.example", severities=[severity("SEV-1")],
        )
    incident = IncidentFactory(
        severity=severity("SEV-1"), actor=commander, commander=ic, services=[service], title="Customer data exposed",
        public_on_status_page=True, **{flag: True},
    )
    actions.post_update(incident, "Secret", actor=commander, source=Source.ADMIN, visibility="external")
    actions.resolve(incident, actor=commander, source=Source.ADMIN, summary="Fixed")
    actions.reopen(incident, actor=commander, source=Source.ADMIN, reason="Back")
    dispatch_all()

    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {"ic2"}
    assert not Notification.objects.filter(address__endswith="outside.example").exists()
    assert client.get("/status.json").json()["active_incidents"] == []
    assert failures(incident) == []  # group members are not told by rule: nobody to name


# --- 2. Never silent: every refusal is named ------------------------------------------------------


def _paged(incident, person):
    return engine_event(incident, Kind.ESCALATED, [person], level=1, level_name="On-call engineer", reason="on schedule")


def _inactive_user(commander, service):
    person = UserFactory(username="gone", email="gone@example.com", is_active=False)
    incident = IncidentFactory(actor=commander, services=[service])
    return incident, person, _paged(incident, person)


def _restricted_not_participant(commander, service):
    person = UserFactory(username="outsider", email="outsider@example.com")
    incident = secret_incident(commander, service)
    return incident, person, _paged(incident, person)


def _drill_not_participant(commander, service):
    person = UserFactory(username="outsider", email="outsider@example.com")
    incident = IncidentFactory(actor=commander, services=[service], is_drill=True)
    return incident, person, _paged(incident, person)


def _opted_out(commander, service):
    person = UserFactory(username="quiet", email="quiet@example.com")
    ContactMethodFactory(user=person, channel=Channel.EMAIL, address="quiet@example.com", is_active=False)
    ContactMethodFactory(user=person, channel=Channel.SMS, is_active=False)
    incident = IncidentFactory(actor=commander, services=[service])
    return incident, person, _paged(incident, person)


def _no_contact_method(commander, service):
    person = UserFactory(username="ghost", email="")
    incident = IncidentFactory(actor=commander, services=[service])
    return incident, person, _paged(incident, person)


def _sms_only(commander, service):
    person = UserFactory(username="texter", email="")
    ContactMethodFactory(user=person, channel=Channel.SMS)
    incident = IncidentFactory(actor=commander, services=[service])
    return incident, person, engine_event(incident, Kind.UPDATE_OVERDUE, [person], round=1)


def _already_acknowledged(commander, service):
    person = UserFactory(username="late", email="late@example.com")
    phone = ContactMethodFactory(user=person, channel=Channel.SMS)
    NotificationRuleFactory(user=person, contact_method=phone, delay=dt.timedelta(minutes=5), only_if_unacknowledged=True)
    incident = IncidentFactory(actor=commander, services=[service], acknowledged=True)
    return incident, person, _paged(incident, person)


# One way to reach each refusal: a code added to routing.REFUSALS without a line here fails below.
REFUSAL_SETUPS = {
    "inactive_user": _inactive_user,
    "restricted_not_participant": _restricted_not_participant,
    "drill_not_participant": _drill_not_participant,
    "opted_out": _opted_out,
    "no_contact_method": _no_contact_method,
    "sms_only": _sms_only,
    "already_acknowledged": _already_acknowledged,
}


def test_every_refusal_has_a_walk():
    assert set(REFUSAL_SETUPS) == set(routing.REFUSALS)


@pytest.mark.parametrize("reason", sorted(routing.REFUSALS))
def test_every_refusal_is_named_on_the_timeline(reason, commander, service):
    incident, person, event = REFUSAL_SETUPS[reason](commander, service)
    dispatch_all()

    assert not Notification.objects.filter(event=event, recipient=person).exists()
    [failure] = [f for f in failures(incident) if f.data.get("event") == event.pk]
    assert failure.data["reason"] == reason and failure.data["user"] == person.pk
    assert str(person) in failure.message and routing.REFUSALS[reason] in failure.message
    event.refresh_from_db()
    assert event.dispatched_at is not None


def test_a_refusal_code_must_be_listed():
    with pytest.raises(ValueError, match="REFUSALS"):
        routing.Refusal(user=None, kind=MessageKind.PAGE, reason="felt like it")


def test_a_delayed_sms_dropped_after_acknowledgement_is_not_a_refusal(oncall_engineer, commander, service):
    incident = IncidentFactory(actor=commander, services=[service], acknowledged=True)
    event = _paged(incident, oncall_engineer)
    dispatch_all()
    assert [(n.channel, n.is_page) for n in Notification.objects.filter(event=event)] == [(Channel.EMAIL, True)]
    assert failures(incident) == []


def test_nobody_is_told_about_their_own_action_and_that_is_no_refusal(oncall_engineer, commander, service):
    incident = IncidentFactory(actor=commander, services=[service])
    event = engine_event(incident, Kind.ESCALATED, [oncall_engineer])
    TimelineEvent.objects.filter(pk=event.pk).update(actor=oncall_engineer)
    dispatch_all()
    assert not Notification.objects.filter(event=event).exists() and failures(incident) == []


def test_planning_costs_the_same_queries_for_two_people_or_twenty(commander, service):
    def resolution_plan(members: int) -> int:
        group = StakeholderGroupFactory(
            members=[UserFactory() for _ in range(members)], severities=[severity("SEV-2")],
            subscriptions=[Subscription.INTERNAL_UPDATES, Subscription.CUSTOMER_NOTICES],
        )
        incident = IncidentFactory(actor=commander, services=[service], resolved=True)
        for person in group.members.all()[:members // 2]:
            engine_event(incident, Kind.ESCALATED, [person])
        event = TimelineEvent.objects.select_related("incident__severity").get(incident=incident, kind=Kind.RESOLVED)
        with CaptureQueriesContext(connection) as queries:
            routes, _ = routing.plan(event)
        group.delete()
        assert len({route.user for route in routes}) == members
        return len(queries)

    assert resolution_plan(2) == resolution_plan(20)


# --- 3. Customer notices and the status page follow the severity ---------------------------------


@pytest.mark.parametrize("public", [True, False], ids=["public", "not-public"])
@pytest.mark.parametrize("customer_facing", [True, False], ids=["customer-facing", "internal"])
@pytest.mark.parametrize("show", [True, False], ids=["sev-shows", "sev-hides"])
@pytest.mark.parametrize("notify", [True, False], ids=["sev-notifies", "sev-quiet"])
def test_customer_notices_and_the_status_page_follow_the_severity(notify, show, customer_facing, public, commander, service, client):
    SeverityLevel.objects.filter(name="SEV-2").update(notify_customers=notify, show_on_status_page=show)
    StakeholderGroupFactory(
        name="Subscribers", audience=Audience.CUSTOMERS, subscriptions=[Subscription.CUSTOMER_NOTICES],
        external_addresses="subscriber@customer.example", severities=[severity("SEV-2")],
    )
    incident = IncidentFactory(
        severity=severity("SEV-2"), actor=commander, services=[service], title="Slow checkout",
        customer_facing=customer_facing, public_on_status_page=public,
    )
    actions.post_update(incident, "Rolled back build 8812.", actor=commander, source=Source.ADMIN, visibility="external")
    shown = [i["title"] for i in client.get("/status.json").json()["active_incidents"]]
    actions.resolve(incident, actor=commander, source=Source.ADMIN, summary="Fixed")
    dispatch_all()

    told = Notification.objects.filter(address="subscriber@customer.example", incident=incident)
    expected = {MessageKind.CUSTOMER_NOTICE, MessageKind.RESOLUTION} if customer_facing and notify else set()
    assert {n.kind for n in told} == expected
    assert shown == (["Slow checkout"] if public and show else [])


# --- 4. Reopening tells people -------------------------------------------------------------------


def test_reopening_tells_everyone_told_of_the_resolution_except_whoever_reopened(oncall_engineer, commander, ic, service, mail):
    watcher = UserFactory(username="watcher", email="watcher@example.com")
    cto = UserFactory(username="cto", email="cto@example.com")
    StakeholderGroupFactory(name="Watchers", members=[watcher], severities=[severity("SEV-1")])
    StakeholderGroupFactory(
        name="Execs", audience=Audience.EXECUTIVES, subscriptions=[Subscription.EXECUTIVE_SUMMARIES],
        members=[cto], severities=[severity("SEV-1")],
    )
    StakeholderGroupFactory(
        name="Subscribers", audience=Audience.CUSTOMERS, subscriptions=[Subscription.CUSTOMER_NOTICES],
        external_addresses="subscriber@customer.example", severities=[severity("SEV-1")],
    )
    incident = IncidentFactory(severity=severity("SEV-1"), actor=commander, commander=ic, services=[service], title="Checkout down")
    engine.tick()  # pages Alice
    actions.acknowledge(incident, actor=oncall_engineer, source=Source.ADMIN)
    actions.resolve(incident, actor=commander, source=Source.ADMIN, summary="Failed over")
    dispatch_all()
    deliver_due()  # sent as they happen, so the reopen's messages are not bundled with these
    resolved_to = {(n.recipient_id, n.address, n.channel) for n in Notification.objects.filter(event__kind=Kind.RESOLVED)}

    actions.reopen(incident, actor=commander, source=Source.ADMIN, reason="db-7 replica lag is back")
    dispatch_all()

    reopened = Notification.objects.filter(event__kind=Kind.REOPENED)
    assert {(n.recipient_id, n.address, n.channel) for n in reopened} == resolved_to
    assert not reopened.filter(recipient=commander).exists()
    assert {(n.recipient.username if n.recipient else n.address, n.kind, n.audience) for n in reopened} == {
        ("alice", MessageKind.REOPENED, Audience.RESPONDERS),
        ("ic2", MessageKind.REOPENED, Audience.RESPONDERS),
        ("watcher", MessageKind.REOPENED, Audience.INTERNAL),
        ("cto", MessageKind.REOPENED, Audience.EXECUTIVES),
        ("subscriber@customer.example", MessageKind.REOPENED, Audience.CUSTOMERS),
    }
    to_alice = reopened.get(recipient=oncall_engineer)
    assert to_alice.subject == f"INCIDENT REOPENED: {incident.reference} – Checkout down"
    assert f"{commander} reopened" in to_alice.body and "db-7 replica lag is back" in to_alice.body
    to_customer = reopened.get(address="subscriber@customer.example")
    assert "The issue has recurred; we are investigating." in to_customer.body
    assert "db-7" not in words(to_customer) and str(commander) not in words(to_customer) and "INC-" not in words(to_customer)

    mail.clear()
    deliver_due()
    # Alice's arrives with her reopen page, which leads the bundle; everyone else's stands alone.
    assert {m.to[0] for m in mail if "INCIDENT REOPENED" in m.subject + m.body} == {
        "alice@example.com", "ivy@example.com", "watcher@example.com", "cto@example.com"
    }


def test_reopening_a_customer_facing_incident_of_a_quiet_severity_tells_no_customer(commander, ic, service):
    SeverityLevel.objects.filter(name="SEV-2").update(notify_customers=False)
    StakeholderGroupFactory(
        audience=Audience.CUSTOMERS, subscriptions=[Subscription.CUSTOMER_NOTICES],
        external_addresses="subscriber@customer.example", severities=[severity("SEV-2")],
    )
    incident = IncidentFactory(actor=commander, commander=ic, services=[service], resolved=True)
    actions.reopen(incident, actor=commander, source=Source.ADMIN, reason="Back")
    dispatch_all()
    assert set(Notification.objects.filter(event__kind=Kind.REOPENED).values_list("address", flat=True)) == {ic.email}


def test_a_reopened_public_incident_is_active_again_with_a_reopened_entry(commander, service, client):
    incident = IncidentFactory(severity=severity("SEV-1"), actor=commander, services=[service], title="Checkout down")
    actions.post_update(incident, "Checkout fails for everyone.", actor=commander, source=Source.ADMIN, visibility="external")
    actions.resolve(incident, actor=commander, source=Source.ADMIN, summary="Fixed")
    assert client.get("/status.json").json()["active_incidents"] == []

    actions.reopen(incident, actor=commander, source=Source.ADMIN, reason="db-7 replica lag is back")
    [active] = client.get("/status.json").json()["active_incidents"]
    assert active["title"] == "Checkout down" and active["status"] == "investigating"
    assert [(u["kind"], u["status"], u["body"]) for u in active["updates"]] == [
        ("reopened", "investigating", "The issue has recurred; we are investigating."),
        ("resolved", "resolved", "This incident has been resolved."),
        ("update", "investigating", "Checkout fails for everyone."),
    ]
    html = client.get("/status/").content.decode()
    assert "<strong>Reopened</strong> — The issue has recurred; we are investigating." in html
    assert "db-7" not in html

    # Words given for customers with the reopen (`data["public_update"]`) replace the generic ones.
    reopen = TimelineEvent.objects.get(incident=incident, kind=Kind.REOPENED)
    TimelineEvent.objects.filter(pk=reopen.pk).update(data={**reopen.data, "public_update": "Payments fail again."})
    assert client.get("/status.json").json()["active_incidents"][0]["updates"][0]["body"] == "Payments fail again."


# --- 5. Informational escalation -----------------------------------------------------------------


def test_an_inform_level_after_acknowledgement_is_told_at_once_without_an_acknowledge_link(
    oncall_engineer, commander, ic, service, django_smtp
):
    maya = UserFactory(username="maya", first_name="Maya", last_name="Grant", email="maya@example.com")
    ContactMethodFactory(user=maya, channel=Channel.SMS, address="+447700900009")
    declared = timezone.now()
    incident = IncidentFactory(severity=severity("SEV-1"), actor=commander, commander=ic, services=[service])
    with time_machine.travel(declared + dt.timedelta(minutes=4)):
        actions.acknowledge(incident, actor=oncall_engineer, source=Source.ADMIN)
    dispatch_all()
    with time_machine.travel(declared + dt.timedelta(minutes=15, seconds=5)):
        event = engine_event(
            incident, Kind.ESCALATED, [maya], page=False, level=2, level_name="Engineering manager", reason="on schedule"
        )
        dispatch_all()
        [row] = Notification.objects.filter(event=event)
        assert outbox.deliver(row.pk) == "sent"  # acknowledged, yet not suppressed: it is not a page
    row.refresh_from_db()
    assert (row.kind, row.channel, row.is_page, row.only_if_unacknowledged, row.ack_code, row.status) == (
        MessageKind.ESCALATION_INFO, Channel.EMAIL, False, False, "", Status.SENT,
    )
    assert row.subject == f"{incident.reference} SEV-1 has run 15 min — for your information"
    assert "Acknowledged by Alice Chen at " in row.body and "Incident Commander: Ivy Cole" in row.body
    assert "/ack/" not in row.body and "ACK" not in row.body
    [message] = django_smtp.wait_for(1)
    assert message["To"] == "maya@example.com" and "for your information" in message["Subject"]


def test_a_page_still_pages_when_the_event_says_so(oncall_engineer, commander, service):
    incident = IncidentFactory(actor=commander, services=[service])
    paged = engine_event(incident, Kind.ESCALATED, [oncall_engineer], page=True, level=1)
    dispatch_all()
    assert {(n.kind, n.is_page) for n in Notification.objects.filter(event=paged)} == {(MessageKind.PAGE, True)}


# --- 6. Status-page publication reminder ----------------------------------------------------------


def test_a_status_page_reminder_tells_its_targets_at_once(commander, ic, service):
    lead = UserFactory(username="lead", first_name="Lee", last_name="Ng", email="lee@example.com")
    ContactMethodFactory(user=lead, channel=Channel.CHAT, address="@lee")
    ContactMethodFactory(user=lead, channel=Channel.SMS)
    incident = IncidentFactory(actor=commander, commander=ic, services=[service])
    event = engine_event(incident, Kind.STATUS_PAGE_OVERDUE, [lead], window_seconds=900)
    assert event.dispatched_at is None  # routed: not born dispatched
    dispatch_all()

    rows = Notification.objects.filter(event=event)
    assert {(n.channel, n.kind, n.audience, n.is_page) for n in rows} == {
        (Channel.EMAIL, MessageKind.STATUS_PAGE_OVERDUE, Audience.RESPONDERS, False),
        (Channel.CHAT, MessageKind.STATUS_PAGE_OVERDUE, Audience.RESPONDERS, False),
    }
    email = rows.get(channel=Channel.EMAIL)
    assert email.subject == f"{incident.reference} SEV-2 is not on the status page yet (window: 15 min) — publish it or decide not to"
    assert f"/admin/incidents/incident/{incident.pk}/change/" in email.body
    assert email.send_after == email.created_at
