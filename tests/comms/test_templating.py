"""Message templates: the shipped defaults rendered against real incidents, the context, the
fallbacks, validation, size limits and SMS segment arithmetic."""

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.template import TemplateSyntaxError

from comms import defaults, sms, templating
from comms.models import Audience, Channel, MessageKind, MessageTemplate, StakeholderGroup, Subscription
from incidents import actions
from incidents.models import Incident, SeverityLevel, Source, TimelineEvent
from oncall.clocks import Clock
from tests.incidents.factories import IncidentFactory, ServiceFactory, severity
from tests.oncall.factories import UserFactory

Kind = TimelineEvent.Kind
IMPACT_FIELDS = (
    "impact_description", "users_affected_estimated", "users_affected_confirmed", "regions",
    "revenue_impact", "reputation_impact", "compliance_impact",
)
EXTRA = {"ack_url": "https://vigil.example.com/ack/s1gn3d/", "ack_code": "482913"}


def latest(incident, kind=None) -> TimelineEvent:
    events = incident.timeline.select_related("actor")
    return (events.filter(kind=kind) if kind else events).order_by("-occurred_at", "-pk").first()


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", first_name="Alice", last_name="Ng", commander=True, time_zone="Europe/London")


@pytest.fixture
def worked(alice, service):
    """A SEV-1 incident with a commander, impact figures and an internal and an external update."""
    incident = IncidentFactory(
        title="Checkout API returning errors", severity=severity("SEV-1"), actor=alice, commander=alice,
        services=[service, ServiceFactory(name="Ledger DB", slug="ledger-db")],
    )
    Incident.objects.filter(pk=incident.pk).update(users_affected_estimated=1200, regions=["eu-west-1"])
    incident.refresh_from_db()
    actions.acknowledge(incident, actor=alice, source=Source.ADMIN)
    actions.post_update(incident, "ledger-db-3 ran out of memory; failing over", actor=alice, source=Source.ADMIN)
    actions.post_update(
        incident, "Payments are failing for some customers; a fix is being applied.", actor=alice, source=Source.ADMIN,
        visibility=TimelineEvent.Visibility.EXTERNAL,
    )
    return incident


# --- Every shipped cell renders against a real incident ----------------------------------------


@pytest.mark.parametrize("cell", sorted(defaults.DEFAULTS), ids="/".join)
def test_every_default_renders_against_a_real_incident(cell, worked, alice, settings):
    kind, audience, channel = cell
    ctx = templating.context(worked, event=latest(worked), recipient=alice, extra=EXTRA)
    rendered = templating.Renderer().render(kind, audience, channel, ctx)
    assert rendered.body.strip()
    assert "{{" not in rendered.body + rendered.subject and "{%" not in rendered.body + rendered.subject
    if channel == Channel.EMAIL:
        assert rendered.subject and "\n" not in rendered.subject and len(rendered.subject) <= 300
        assert rendered.html_body.startswith("<!DOCTYPE html>")
    else:
        assert rendered.html_body == ""
    if channel == Channel.SMS:
        assert sms.segments(rendered.body) <= settings.VIGIL_SMS_MAX_SEGMENTS
    if audience == Audience.CUSTOMERS:
        assert "Checkout API returning errors" in rendered.body + rendered.subject
    elif kind != MessageKind.REPORT:
        assert worked.reference in rendered.body + rendered.subject
    if audience == Audience.CUSTOMERS:
        # Customer words name no person, no internal update and no internal link.
        text = rendered.subject + rendered.body
        assert "Alice" not in text and "ledger-db-3" not in text and "/admin/" not in text and "INC-" not in text


@pytest.mark.parametrize("kind", MessageKind.values)
@pytest.mark.parametrize("audience", Audience.values)
@pytest.mark.parametrize("channel", Channel.values)
def test_every_combination_renders_something_meaningful(kind, audience, channel, worked):
    MessageTemplate.objects.all().delete()  # the shipped defaults and their fallbacks alone
    rendered = templating.Renderer().render(kind, audience, channel, templating.context(worked, event=latest(worked), extra=EXTRA))
    assert rendered.body.strip()
    if Audience.CUSTOMERS in (audience, kind.replace("customer_notice", Audience.CUSTOMERS)):
        assert "Alice" not in rendered.body and "ledger-db-3" not in rendered.body
    elif kind not in (MessageKind.REPORT, MessageKind.POSTMORTEM_REMINDER):
        assert worked.reference in rendered.body + rendered.subject


def test_declared_email_follows_the_procedure_wording(alice, service):
    incident = IncidentFactory(title="Checkout down", severity=severity("SEV-1"), actor=alice, commander=alice, services=[service])
    ctx = templating.context(incident, event=latest(incident, Kind.DECLARED), recipient=alice)
    rendered = templating.Renderer().render(MessageKind.DECLARED, Audience.INTERNAL, Channel.EMAIL, ctx)
    assert rendered.subject == f"INCIDENT DECLARED: {incident.reference} – Checkout down"
    assert rendered.body.startswith(
        f"INCIDENT DECLARED: {incident.reference}\nSeverity: SEV-1 (Critical)\nStatus: Triggered\n"
        "Impact: Being assessed.\nIncident Commander: Alice Ng\n"
    )
    assert "Affected services: Checkout API" in rendered.body
    assert f"/admin/incidents/incident/{incident.pk}/change/" in rendered.body
    assert f'href="http://' in rendered.html_body  # the incident link is a link in the HTML part


def test_page_carries_the_acknowledge_link_and_sms_reply_code(worked, alice):
    renderer = templating.Renderer()
    ctx = templating.context(worked, event=latest(worked), recipient=alice, extra=EXTRA)
    email = renderer.render(MessageKind.PAGE, Audience.RESPONDERS, Channel.EMAIL, ctx)
    assert email.subject == f"[URGENT] Production Incident – {worked.reference} SEV-1: Checkout API returning errors"
    assert "Acknowledge now: https://vigil.example.com/ack/s1gn3d/" in email.body
    text = renderer.render(MessageKind.PAGE, Audience.RESPONDERS, Channel.SMS, ctx)
    assert text.body.startswith(f"[URGENT] {worked.reference} SEV-1: Checkout API returning errors.")
    assert text.body.endswith("Ack: https://vigil.example.com/ack/s1gn3d/ or reply ACK 482913")
    assert sms.encoding(text.body) == sms.GSM7
    chat = renderer.render(MessageKind.PAGE, Audience.RESPONDERS, Channel.CHAT, ctx)
    assert "<https://vigil.example.com/ack/s1gn3d/|Acknowledge>" in chat.body
    assert f"`/incident ack {worked.reference}`" in chat.body


def test_drill_pages_say_so(alice):
    drill = IncidentFactory(title="Game day", actor=alice, is_drill=True)
    rendered = templating.Renderer().render(MessageKind.PAGE, Audience.RESPONDERS, Channel.SMS, templating.context(drill))
    assert rendered.body.startswith("[DRILL] [URGENT]")


def test_acknowledged_tells_the_others_to_stand_down(alice):
    incident = IncidentFactory(actor=alice, acknowledged=True)
    ctx = templating.context(incident, event=latest(incident, Kind.ACKNOWLEDGED))
    for channel in Channel.values:
        body = templating.Renderer().render(MessageKind.ACKNOWLEDGED, Audience.RESPONDERS, channel, ctx).body
        assert incident.reference in body and "acknowledged by Alice Ng" in body and "stand down" in body


def test_customer_notice_is_plain_and_carries_only_external_updates(worked):
    renderer = templating.Renderer()
    internal = templating.context(
        worked, event=TimelineEvent.objects.select_related("actor").get(incident=worked, message__startswith="ledger-db-3")
    )
    external = templating.context(worked, event=latest(worked, Kind.STATUS_UPDATE))
    notice = renderer.render(MessageKind.CUSTOMER_NOTICE, Audience.CUSTOMERS, Channel.EMAIL, external)
    assert notice.subject == "Service Disruption Update – Checkout API returning errors"
    assert "Payments are failing for some customers" in notice.body
    assert "We are investigating a problem affecting Checkout API." in notice.body  # customer-facing services only
    assert "Ledger DB" not in notice.body
    assert "Follow the latest on our status page: http://127.0.0.1:8000/status/" in notice.body
    quiet = renderer.render(MessageKind.CUSTOMER_NOTICE, Audience.CUSTOMERS, Channel.EMAIL, internal)
    assert "ledger-db-3" not in quiet.body
    # Support staff subscribed to customer notices read exactly what customers read.
    staff = renderer.render(MessageKind.CUSTOMER_NOTICE, Audience.INTERNAL, Channel.EMAIL, external)
    assert staff == notice


def test_executive_summary_is_short_with_impact_and_next_update(worked):
    ctx = templating.context(worked, event=latest(worked, Kind.STATUS_UPDATE))
    rendered = templating.Renderer().render(MessageKind.EXECUTIVE_SUMMARY, Audience.EXECUTIVES, Channel.EMAIL, ctx)
    assert rendered.subject.startswith(f"Executive summary: {worked.reference} SEV-1")
    assert "Impact: About 1,200 users affected in eu-west-1." in rendered.body
    assert "Next update: by " in rendered.body
    assert len(rendered.body.splitlines()) <= 10


def test_executive_words_name_the_response_team(worked):
    bob = UserFactory(first_name="Bob", last_name="Okafor")
    actions.assign_role(worked, bob, "technical_lead", actor=worked.created_by, source=Source.ADMIN)
    ctx = templating.context(worked, event=latest(worked, Kind.STATUS_UPDATE))
    renderer = templating.Renderer()
    for kind in (MessageKind.EXECUTIVE_SUMMARY, MessageKind.DECLARED, MessageKind.RESOLUTION, MessageKind.REOPENED):
        body = renderer.render(kind, Audience.EXECUTIVES, Channel.EMAIL, ctx).body
        assert "Incident Commander: Alice Ng\nResponse Team: Alice Ng (Incident commander), Bob Okafor (Technical lead)\n" in body


def test_status_update_quotes_the_update_with_its_author_and_time(alice):
    with time_machine.travel(datetime(2026, 11, 22, 14, 5, tzinfo=dt_timezone.utc), tick=False):
        incident = IncidentFactory(title="Checkout down", actor=alice, commander=alice)
        actions.post_update(incident, "Rolled back the deploy.", actor=alice, source=Source.ADMIN)
        ctx = templating.context(incident, event=latest(incident, Kind.STATUS_UPDATE), recipient=alice)
    rendered = templating.Renderer().render(MessageKind.STATUS_UPDATE, Audience.INTERNAL, Channel.EMAIL, ctx)
    assert rendered.subject == f"INCIDENT UPDATE: {incident.reference} – Checkout down"
    assert "Update from Alice Ng (22 Nov 2026 14:05 GMT):\nRolled back the deploy.\n" in rendered.body


def test_update_overdue_and_resolution(alice):
    incident = IncidentFactory(actor=alice, commander=alice, resolved=True)
    ctx = templating.context(incident, event=latest(incident, Kind.RESOLVED))
    renderer = templating.Renderer()
    resolution = renderer.render(MessageKind.RESOLUTION, Audience.INTERNAL, Channel.EMAIL, ctx)
    assert resolution.subject == f"INCIDENT RESOLVED: {incident.reference} – {incident.title}"
    assert "Resolution:\nFixed" in resolution.body and "Post-mortem: Required" in resolution.body
    overdue = renderer.render(MessageKind.UPDATE_OVERDUE, Audience.RESPONDERS, Channel.EMAIL, ctx)
    assert overdue.subject == f"Status update overdue: {incident.reference} – {incident.title}"
    assert "SEV-2 incidents need an update every 30 min" in overdue.body


def test_postmortem_reminder_and_report_render_with_blanks_and_with_their_keys(worked):
    renderer = templating.Renderer()
    blank = templating.context(worked)
    reminder = renderer.render(MessageKind.POSTMORTEM_REMINDER, Audience.RESPONDERS, Channel.EMAIL, blank)
    assert reminder.subject == f"Post-mortem due: {worked.reference} – Checkout API returning errors"
    assert "Due:" not in reminder.body
    item = templating.context(worked, extra={"due_date": "25 Nov 2026", "item": "Alert on 5xx rate"})
    reminder = renderer.render(MessageKind.POSTMORTEM_REMINDER, Audience.RESPONDERS, Channel.SMS, item)
    assert reminder.body == f"Post-mortem action item for {worked.reference} due 25 Nov 2026: Alert on 5xx rate"
    report = renderer.render(MessageKind.REPORT, Audience.EXECUTIVES, Channel.EMAIL, templating.context(None))
    assert report.subject == "Vigil report" and report.body.startswith("Nothing to report.")
    report = renderer.render(
        MessageKind.REPORT, Audience.EXECUTIVES, Channel.EMAIL,
        templating.context(None, extra={"report_title": "Weekly escalations", "report_body": "3 incidents"}),
    )
    assert (report.subject, report.body.splitlines()[0]) == ("Weekly escalations", "3 incidents")


# --- The context --------------------------------------------------------------------------------


def test_context_is_flat_plain_strings_in_the_recipients_time_zone(alice, service):
    with time_machine.travel(datetime(2026, 11, 22, 14, 5, tzinfo=dt_timezone.utc), tick=False):
        incident = IncidentFactory(title="Checkout down", actor=alice, commander=alice, services=[service])
        tokyo = UserFactory(username="kenji", first_name="Kenji", last_name="Sato", time_zone="Asia/Tokyo")
        london = templating.context(incident, event=latest(incident, Kind.DECLARED), recipient=alice, extra={"ack_code": 123456})
        in_tokyo = templating.context(incident, recipient=tokyo)
        nobody = templating.context(incident)
    assert all(isinstance(key, str) and type(value) is str for key, value in london.items() if key != "participants")
    assert type(london["participants"]) is templating.Entries
    assert all(type(entry) is templating.Entry and type(value) is str for entry in london["participants"] for value in entry.values())
    assert london["declared_at"] == "22 Nov 2026 14:05 GMT"
    assert in_tokyo["declared_at"] == "22 Nov 2026 23:05 JST"
    assert nobody["declared_at"] == "22 Nov 2026 14:05 UTC" and nobody["recipient_name"] == ""
    assert london["recipient_name"] == "Alice Ng" and in_tokyo["recipient_name"] == "Kenji Sato"
    assert london["ref"] == incident.reference and london["severity"] == "SEV-2" and london["severity_label"] == "High"
    assert (london["status"], london["status_label"], london["public_status"]) == ("triggered", "Triggered", "investigating")
    assert london["commander"] == "Alice Ng" and london["services"] == "Checkout API"
    assert london["customer_facing"] == "yes" and london["impact"] == "Being assessed."
    assert london["incident_url"] == f"http://127.0.0.1:8000/admin/incidents/incident/{incident.pk}/change/"
    assert london["status_page_url"] == "http://127.0.0.1:8000/status/"
    assert london["event_kind"] == "declared" and london["actor"] == "Alice Ng" and london["update"] == ""
    assert london["ack_code"] == "123456" and nobody["ack_url"] == "" and nobody["due_date"] == ""
    assert london["next_update"] == "by 22 Nov 2026 14:20 GMT"  # SEV-2: first update within 15 min


def test_context_reads_escalation_fields_from_the_event(alice):
    incident = IncidentFactory(actor=alice)
    event = TimelineEvent.objects.create(
        incident=incident, kind=Kind.ESCALATED, occurred_at=incident.declared_at, source=Source.ENGINE,
        message="Escalated to level 2 · Team lead", data={
            "level": 2, "level_name": "Team lead", "reason": "acknowledge SLA breached",
            "targets": [{"id": 1, "username": "bob", "name": "Bob Smith"}, {"id": 2, "username": "carol", "name": "Carol Jones"}],
        },
    )
    ctx = templating.context(incident, event=event)
    assert (ctx["level"], ctx["level_name"], ctx["reason"]) == ("2", "Team lead", "acknowledge SLA breached")
    assert ctx["targets"] == "Bob Smith, Carol Jones" and ctx["actor"] == "SLA engine"


def test_impact_sentence_and_unassigned_commander(alice):
    incident = IncidentFactory(actor=alice)
    Incident.objects.filter(pk=incident.pk).update(users_affected_confirmed=5321, regions=["eu-west-1", "us-east-1"])
    incident.refresh_from_db()
    ctx = templating.context(incident)
    assert ctx["impact"] == "5,321 users affected in eu-west-1, us-east-1."
    assert ctx["commander"] == "unassigned"
    Incident.objects.filter(pk=incident.pk).update(impact_description="Card payments fail in the EU.")
    incident.refresh_from_db()
    assert templating.context(incident)["impact"] == "Card payments fail in the EU."


def test_impact_fields_are_plain_strings_as_recorded(alice):
    incident = IncidentFactory(actor=alice)
    assert {name: templating.context(incident)[name] for name in IMPACT_FIELDS} == {
        "impact_description": "", "users_affected_estimated": "", "users_affected_confirmed": "", "regions": "",
        "revenue_impact": "None", "reputation_impact": "None", "compliance_impact": "None",
    }
    Incident.objects.filter(pk=incident.pk).update(
        users_affected_estimated=1200, users_affected_confirmed=5321, regions=["eu-west-1", "us-east-1"],
        revenue_impact="high", reputation_impact="medium", compliance_impact="low",
        impact_description="Card payments fail in the EU.",
    )
    incident.refresh_from_db()
    assert {name: templating.context(incident)[name] for name in IMPACT_FIELDS} == {
        "impact_description": "Card payments fail in the EU.", "users_affected_estimated": "1,200",
        "users_affected_confirmed": "5,321", "regions": "eu-west-1, us-east-1",
        "revenue_impact": "High", "reputation_impact": "Medium", "compliance_impact": "Low",
    }


def test_next_update_due_is_in_each_recipients_zone_with_its_weekday(alice):
    with time_machine.travel(datetime(2026, 11, 22, 14, 5, tzinfo=dt_timezone.utc), tick=False):
        incident = IncidentFactory(actor=alice, commander=alice)  # SEV-2: first update within 15 min
        tokyo = UserFactory(time_zone="Asia/Tokyo")
        base = templating.base_context(incident)
        assert templating.context(incident, recipient=alice, base=base)["next_update_due"] == "Sun 22 Nov 14:20 GMT"
        assert templating.context(incident, recipient=tokyo, base=base)["next_update_due"] == "Sun 22 Nov 23:20 JST"
        assert templating.context(incident, base=base)["next_update_due"] == "Sun 22 Nov 14:20 UTC"
        incident = actions.resolve(incident, actor=alice, source=Source.ADMIN, summary="Fixed")
        assert templating.context(incident, recipient=alice)["next_update_due"] == ""


def test_update_interval_names_the_severitys_clock(alice):
    incident = IncidentFactory(actor=alice, severity=severity("SEV-3"))
    SeverityLevel.objects.filter(name="SEV-3").update(update_interval=timedelta(hours=2), update_clock=Clock.BUSINESS_HOURS)
    incident.refresh_from_db()
    ctx = templating.context(incident, event=latest(incident))
    assert ctx["update_interval"] == "2 h of business hours"
    overdue = templating.Renderer().render(MessageKind.UPDATE_OVERDUE, Audience.RESPONDERS, Channel.EMAIL, ctx)
    assert "SEV-3 incidents need an update every 2 h of business hours" in overdue.body
    SeverityLevel.objects.filter(name="SEV-3").update(update_interval=timedelta(0), update_clock=Clock.NEXT_BUSINESS_DAY)
    incident.refresh_from_db()
    assert templating.context(incident)["update_interval"] == "next business day"


def test_fan_out_context_costs_no_query_per_recipient(worked, django_assert_num_queries):
    base = templating.base_context(worked)
    event = latest(worked, Kind.STATUS_UPDATE)
    people = [UserFactory(time_zone=zone) for zone in ("UTC", "Europe/London", "America/New_York", "Asia/Tokyo")]
    renderer = templating.Renderer()
    renderer.render(MessageKind.STATUS_UPDATE, Audience.INTERNAL, Channel.EMAIL, templating.context(worked, base=base))
    with django_assert_num_queries(0):
        for n in range(500):
            ctx = templating.context(worked, event=event, recipient=people[n % 4], base=base, extra={"ack_code": str(n)})
            renderer.render(MessageKind.STATUS_UPDATE, Audience.INTERNAL, Channel.EMAIL, ctx)
    assert ctx == templating.context(worked, event=event, recipient=people[499 % 4], extra={"ack_code": "499"}) | {"now": ctx["now"]}


# --- Renderer: rows, defaults, fallbacks --------------------------------------------------------


def test_an_edited_row_is_used_and_a_deleted_one_falls_back_to_the_default(worked):
    ctx = templating.context(worked)
    row = MessageTemplate.objects.get(kind="declared", audience="internal", channel="email")
    row.subject, row.body = "Heads up: {{ ref }}", "{{ title|upper }}"
    row.save()
    rendered = templating.Renderer().render(MessageKind.DECLARED, Audience.INTERNAL, Channel.EMAIL, ctx)
    assert (rendered.subject, rendered.body) == (f"Heads up: {worked.reference}", "CHECKOUT API RETURNING ERRORS")
    row.delete()
    rendered = templating.Renderer().render(MessageKind.DECLARED, Audience.INTERNAL, Channel.EMAIL, ctx)
    assert rendered.subject.startswith("INCIDENT DECLARED:")


def test_executives_borrow_internal_words_and_customers_never_do(worked):
    ctx = templating.context(worked, event=latest(worked))
    renderer = templating.Renderer()
    sms_for_executives = renderer.render(MessageKind.DECLARED, Audience.EXECUTIVES, Channel.SMS, ctx)
    assert sms_for_executives == renderer.render(MessageKind.DECLARED, Audience.RESPONDERS, Channel.SMS, ctx)
    page_for_customers = renderer.render(MessageKind.PAGE, Audience.CUSTOMERS, Channel.EMAIL, ctx)
    assert page_for_customers == renderer.render(MessageKind.CUSTOMER_NOTICE, Audience.CUSTOMERS, Channel.EMAIL, ctx)


def test_a_broken_row_never_stops_a_message(worked, caplog):
    # Saved around the admin's validation (a shell, a fixture): the default stands in.
    MessageTemplate.objects.filter(kind="page", audience="responders", channel="sms").update(body="{% if %}")
    rendered = templating.Renderer().render(MessageKind.PAGE, Audience.RESPONDERS, Channel.SMS, templating.context(worked, extra=EXTRA))
    assert rendered.body.startswith(f"[URGENT] {worked.reference}")
    assert "cannot be used" in caplog.text


def test_renderer_reads_the_rows_once(worked, django_assert_num_queries):
    ctx = templating.context(worked)
    renderer = templating.Renderer()
    with django_assert_num_queries(1):
        for kind in MessageKind.values:
            for audience in Audience.values:
                for channel in Channel.values:
                    renderer.render(kind, audience, channel, ctx)


def test_sizes_are_capped(worked):
    ctx = templating.context(worked) | {"summary": "word " * 10_000, "title": "Long\ntitle " * 100}
    rendered = templating.render_text("{{ title }}", "{{ summary }}{{ summary }}", Channel.EMAIL, ctx)
    assert len(rendered.body) == templating.MAX_BODY and rendered.body.endswith("…")
    assert len(rendered.subject) <= 300 and "\n" not in rendered.subject


def test_chat_values_cannot_mention_a_room_and_html_is_escaped(worked):
    ctx = templating.context(worked) | {"title": "<!channel> & <script>alert(1)</script>"}
    chat = templating.render_text("", "*{{ title }}* <{{ incident_url }}|{{ ref }}>", Channel.CHAT, ctx)
    assert chat.body.startswith("*&lt;!channel&gt; &amp; &lt;script&gt;")
    assert f"<{ctx['incident_url']}|{worked.reference}>" in chat.body  # the template's own link stays a link
    email = templating.render_text("{{ title }}", "{{ title }}\n\nSee {{ incident_url }}", Channel.EMAIL, ctx)
    assert "<script>" not in email.html_body and "&lt;script&gt;" in email.html_body
    assert f'<a href="{ctx["incident_url"]}" rel="nofollow">' in email.html_body
    assert email.html_body.count("<p>") == 2


# --- Validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, expected",
    [
        ("{% load humanize %}{{ title }}", "{% load %} is not allowed"),
        ("{% include 'admin/base.html' %}", "{% include %} is not allowed"),
        ("{% extends 'admin/base.html' %}", "{% extends %} is not allowed"),
        ("{% ssi '/etc/passwd' %}", "{% ssi %} is not allowed"),
        ("{% debug %}", "{% debug %} is not allowed"),
        ("{% url 'admin:index' %}", "{% url %} is not allowed"),
        ("{% if %}x{% endif %}", "Body: Unexpected end of expression in if tag."),
        ("{% nosuchtag %}", "Invalid block tag on line 1: 'nosuchtag'"),
        ("{{ title|nosuchfilter }}", "Invalid filter: 'nosuchfilter'"),
        ("{{ title|center:'99999999' }}", "Invalid filter: 'center'"),
        ("{% lorem 99999 w %}", "Invalid block tag on line 1: 'lorem'"),
        ("{{ title.__class__ }}", "may not begin with underscores"),
        ("{% for a in title %}{% for b in title %}{% endfor %}{% endfor %}", "a loop inside a loop is not allowed"),
        ("{% cycle %}", "'cycle' tag requires at least two arguments"),
        ("", "Body: a message needs a body."),
    ],
)
def test_validate_refuses_templates_that_do_not_render_or_reach_outside(body, expected):
    problems = templating.validate("Subject", body, Channel.SMS)
    assert any(expected in problem for problem in problems), problems


def test_validate_accepts_a_good_template_and_wants_an_email_subject():
    assert templating.validate("", "{{ ref }} {% if update %}{{ update|truncatechars:50 }}{% endif %}", Channel.SMS) == []
    assert templating.validate("", "{{ ref }}", Channel.EMAIL) == ["Subject: an email needs a subject."]
    assert templating.validate("{% if %}", "{{ ref }}", Channel.EMAIL)[0].startswith("Subject:")
    with pytest.raises(TemplateSyntaxError):
        templating.compile_template("{% include 'x.html' %}")


def test_the_shipped_defaults_all_validate():
    for (kind, audience, channel), (subject, body) in defaults.DEFAULTS.items():
        assert templating.validate(subject, body, channel) == [], (kind, audience, channel)


# --- SMS segment arithmetic -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, encoding, units, segments",
    [
        ("", sms.GSM7, 0, 0),
        ("a" * 160, sms.GSM7, 160, 1),
        ("a" * 161, sms.GSM7, 161, 2),
        ("a" * 306, sms.GSM7, 306, 2),
        ("a" * 307, sms.GSM7, 307, 3),
        ("é£¥Ø@" * 32, sms.GSM7, 160, 1),  # the basic table's accented letters and symbols are one septet
        ("€" * 80, sms.GSM7, 160, 1),  # extension characters count double
        ("€" * 81, sms.GSM7, 162, 2),
        ("{}[]~^|\\" * 10, sms.GSM7, 160, 1),
        ("a" * 152 + "[" + "a" * 152, sms.GSM7, 306, 3),  # an escape pair never straddles two segments
        ("ж" * 70, sms.UCS2, 70, 1),
        ("ж" * 71, sms.UCS2, 71, 2),
        ("ж" * 134, sms.UCS2, 134, 2),
        ("ж" * 135, sms.UCS2, 135, 3),
        ("a" * 69 + "–", sms.UCS2, 70, 1),  # one en dash makes the whole text UCS-2
        ("😀" * 35, sms.UCS2, 70, 1),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, sms.UCS2, 72, 2),
    ],
)
def test_segments(text, encoding, units, segments):
    assert sms.info(text) == sms.Info(encoding=encoding, units=units, segments=segments)


@pytest.mark.parametrize("max_segments", [1, 2, 3])
@pytest.mark.parametrize("text", ["Checkout API down. " * 40, "Оплата не проходит. " * 40, "€[] " * 200, "Fix 😀 " * 100])
def test_fit_cuts_to_the_segment_limit_with_an_ellipsis(text, max_segments):
    fitted = sms.fit(text, max_segments)
    assert sms.segments(fitted) <= max_segments
    assert sms.segments(fitted + "x" * 10) > max_segments  # it used the room it had
    ending = "..." if sms.is_gsm7(fitted) else "…"
    assert fitted.endswith(ending) and text.startswith(fitted[: -len(ending)])


def test_fit_keeps_short_texts_and_swaps_typographic_punctuation_for_gsm():
    assert sms.fit("INC-1 fixed", 1) == "INC-1 fixed"
    fitted = sms.fit("INC-1 – “checkout” isn’t failing…", 1)
    assert fitted == "INC-1 - \"checkout\" isn't failing..." and sms.encoding(fitted) == sms.GSM7


def test_sms_bodies_are_cut_to_the_configured_segments(worked, settings):
    settings.VIGIL_SMS_MAX_SEGMENTS = 1
    ctx = templating.context(worked, extra=EXTRA) | {"update": "Rolled back — the database is recovering. " * 20}
    rendered = templating.Renderer().render(MessageKind.STATUS_UPDATE, Audience.RESPONDERS, Channel.SMS, ctx)
    assert sms.info(rendered.body).segments == 1 and sms.encoding(rendered.body) == sms.GSM7
    assert rendered.body.endswith("...")


# --- What the data migration seeded ------------------------------------------------------------


def test_migration_seeds_templates_groups_and_permissions(db):
    assert MessageTemplate.objects.count() == len(defaults.DEFAULTS)
    row = MessageTemplate.objects.get(kind="declared", audience="internal", channel="email")
    assert (row.subject, row.body) == defaults.DEFAULTS[("declared", "internal", "email")]
    groups = {g.name: g for g in StakeholderGroup.objects.prefetch_related("severities")}
    assert set(groups) == {"Engineering", "Leadership", "Customer support", "Customers"}

    def names(group):
        return sorted(s.name for s in groups[group].severities.all())

    assert names("Engineering") == ["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
    assert names("Leadership") == ["SEV-1", "SEV-2"] and groups["Leadership"].audience == Audience.EXECUTIVES
    assert names("Customer support") == ["SEV-1", "SEV-2", "SEV-3"]
    assert names("Customers") == ["SEV-1", "SEV-2"] and groups["Customers"].audience == Audience.CUSTOMERS
    assert groups["Leadership"].subscriptions == [Subscription.EXECUTIVE_SUMMARIES]
    assert groups["Customers"].subscriptions == [Subscription.CUSTOMER_NOTICES]

    def perms(group):
        return set(Group.objects.get(name=group).permissions.filter(content_type__app_label="comms").values_list("codename", flat=True))

    assert perms("Viewers") == {"view_notification", "view_stakeholdergroup", "view_messagetemplate", "view_reportsubscription"}
    assert perms("Responders") == perms("Viewers") | {"add_contactmethod", "add_notificationrule"}
    assert {"change_messagetemplate", "change_contactmethod", "change_notification", "delete_stakeholdergroup"} <= perms("Managers")
    assert "change_messagetemplate" not in perms("Incident commanders")
