"""The comms admin through the test client as real users: message templates (refused when they
do not render, previewed against an incident the user may see), stakeholder groups, personal
contact methods and rules, and the read-only outbox with its resend action."""

import pytest
from django.urls import reverse

from comms import sms
from comms.models import ContactMethod, MessageTemplate, Notification, NotificationRule, StakeholderGroup
from tests.comms.factories import ContactMethodFactory, NotificationFactory
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import UserFactory
from tests.pages import messages_of

Status = Notification.Status


def url(name: str, *args) -> str:
    return reverse(f"admin:comms_{name}", args=args)


@pytest.fixture
def declared(db):
    return MessageTemplate.objects.get(kind="declared", audience="internal", channel="email")


@pytest.fixture
def page_sms(db):
    return MessageTemplate.objects.get(kind="page", audience="responders", channel="sms")


def template_form(template, **changes) -> dict:
    data = {"kind": template.kind, "audience": template.audience, "channel": template.channel,
            "subject": template.subject, "body": template.body}
    data.update(changes)
    return data


# --- Message templates ---------------------------------------------------------------------------


def test_template_list_filters_by_cell(as_user, manager):
    client = as_user(manager)
    response = client.get(url("messagetemplate_changelist"), {"kind": "page", "channel": "sms"})
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert sorted((t.kind, t.audience, t.channel) for t in rows) == [("page", "responders", "sms"), ("page", "restricted", "sms")]
    assert "Page / escalation" in response.content.decode()
    response = client.get(url("messagetemplate_changelist"), {"audience": "restricted", "channel": "email"})
    assert {t.kind for t in response.context["cl"].result_list} == {
        "declared", "status_update", "page", "update_overdue", "acknowledged", "resolution", "reopened",
        "escalation_info", "status_page_overdue", "postmortem_reminder",
    }
    assert "Restricted incident" in response.content.decode()


def test_manager_edits_a_template_and_is_recorded_as_its_editor(as_user, manager, declared):
    response = as_user(manager).post(
        url("messagetemplate_change", declared.pk), template_form(declared, subject="DECLARED {{ ref }}")
    )
    assert response.status_code == 302
    declared.refresh_from_db()
    assert declared.subject == "DECLARED {{ ref }}" and declared.updated_by == manager


@pytest.mark.parametrize(
    "changes, error",
    [
        ({"body": "{% load humanize %}{{ title|intcomma }}"}, "{% load %} is not allowed"),
        ({"body": "{{ title|nosuchfilter }}"}, "Invalid filter: &#x27;nosuchfilter&#x27;"),
        ({"body": "{% if severity == %}x{% endif %}"}, "Unexpected end of expression in if tag."),
        ({"subject": "{% include 'admin/base.html' %}"}, "{% include %} is not allowed"),
        ({"subject": ""}, "an email needs a subject"),
    ],
)
def test_a_template_that_does_not_render_is_refused_with_the_error_shown(as_user, manager, declared, changes, error):
    before = (declared.subject, declared.body)
    response = as_user(manager).post(url("messagetemplate_change", declared.pk), template_form(declared, **changes))
    assert response.status_code == 200
    html = response.content.decode()
    assert error in html and "errornote" in html
    declared.refresh_from_db()
    assert (declared.subject, declared.body) == before


def test_only_template_editors_may_change_templates(as_user, viewer, commander, declared):
    for user in (viewer, commander):
        client = as_user(user)
        page = client.get(url("messagetemplate_change", declared.pk))
        assert page.status_code == 200  # they may read it…
        assert 'name="_save"' not in page.content.decode()
        response = client.post(url("messagetemplate_change", declared.pk), template_form(declared, body="Hijacked"))
        assert response.status_code == 403  # …not change it
    declared.refresh_from_db()
    assert declared.body != "Hijacked"


def test_reset_action_restores_the_shipped_default(as_user, manager, declared):
    shipped = (declared.subject, declared.body)
    MessageTemplate.objects.filter(pk=declared.pk).update(subject="x", body="y")
    response = as_user(manager).post(
        url("messagetemplate_changelist"), {"action": "reset_to_default", "_selected_action": [declared.pk]}, follow=True
    )
    assert "1 template reset to the shipped default." in messages_of(response)
    declared.refresh_from_db()
    assert (declared.subject, declared.body) == shipped


# --- Preview ------------------------------------------------------------------------------------


def test_preview_renders_unsaved_edits_against_a_chosen_incident(as_user, manager, commander, declared):
    incident = IncidentFactory(title="Checkout down", severity=severity("SEV-1"), actor=commander, commander=commander)
    data = template_form(declared, subject="Preview of {{ ref }}: {{ title }}", body="Dear {{ recipient_name }}, {{ severity_label }}.")
    data.update({"_preview": "1", "preview-incident": incident.reference, "preview-recipient": commander.pk})
    response = as_user(manager).post(url("messagetemplate_change", declared.pk), data)
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview["rendered"].subject == f"Preview of {incident.reference}: Checkout down"
    assert preview["rendered"].body == f"Dear {commander}, Critical."
    html = response.content.decode()
    assert f"Preview of {incident.reference}: Checkout down" in html and "Unsaved text" in html
    declared.refresh_from_db()
    assert "Preview of" not in declared.subject and "INCIDENT DECLARED" in declared.subject  # nothing was saved


def test_a_restricted_template_previews_as_it_will_be_sent_without_the_title(as_user, manager, commander):
    restricted = MessageTemplate.objects.get(kind="status_update", audience="restricted", channel="email")
    incident = IncidentFactory(title="Customer data exposed", severity=severity("SEV-1"), actor=commander, is_restricted=True)
    data = template_form(restricted, subject="{{ ref }}: {{ title }}", body="{{ ref }} {{ severity }} {{ summary }}{{ title }}")
    data.update({"_preview": "1", "preview-incident": incident.reference, "preview-recipient": commander.pk})
    response = as_user(manager).post(url("messagetemplate_change", restricted.pk), data)
    rendered = response.context["preview"]["rendered"]
    assert (rendered.subject, rendered.body) == (f"{incident.reference}:", f"{incident.reference} SEV-1")


def test_a_new_template_can_be_previewed_before_it_is_first_saved(as_user, manager):
    data = {"kind": "report", "audience": "executives", "channel": "sms", "subject": "", "body": "{{ report_title }}: {{ report_body }}",
            "_preview": "1", "preview-incident": ""}
    response = as_user(manager).post(url("messagetemplate_add"), data)
    assert response.status_code == 200
    assert response.context["preview"]["rendered"].body == "Weekly escalation report: 3 incidents, 1 SLA breach."
    assert not MessageTemplate.objects.filter(kind="report", audience="executives", channel="sms").exists()


def test_preview_of_invalid_edits_shows_the_error_not_a_preview(as_user, manager, declared):
    data = template_form(declared, body="{% load humanize %}")
    data.update({"_preview": "1", "preview-incident": ""})
    response = as_user(manager).post(url("messagetemplate_change", declared.pk), data)
    html = response.content.decode()
    assert "{% load %} is not allowed" in html and "Correct the errors above" in html
    assert "preview" not in response.context or response.context.get("preview") is None


def test_viewer_previews_the_saved_text_with_sms_segments(as_user, viewer, commander, page_sms):
    incident = IncidentFactory(title="Checkout down", actor=commander)
    response = as_user(viewer).get(url("messagetemplate_change", page_sms.pk), {"_preview": "1", "preview-incident": str(incident.number)})
    assert response.status_code == 200
    preview = response.context["preview"]
    body = preview["rendered"].body
    assert body.startswith(f"[URGENT] {incident.reference} SEV-2: Checkout down.") and "reply ACK 123456" in body
    assert preview["sms"] == sms.info(body)
    assert f"{sms.info(body).segments} segment" in response.content.decode()


def test_preview_with_no_incident_uses_sample_values(as_user, manager, declared):
    response = as_user(manager).get(url("messagetemplate_change", declared.pk), {"_preview": "1", "preview-incident": ""})
    assert response.context["preview"]["rendered"].subject == "INCIDENT DECLARED: INC-42 – Checkout API returning errors"


def test_a_restricted_incident_cannot_be_previewed_by_someone_who_may_not_see_it(as_user, viewer, manager, commander, declared):
    secret = IncidentFactory(title="Credential leak at Acme", actor=commander, is_restricted=True)
    params = {"_preview": "1", "preview-incident": secret.reference}
    response = as_user(viewer).get(url("messagetemplate_change", declared.pk), params)
    html = response.content.decode()
    assert f"No incident {secret.reference} that you can see." in html
    assert "Credential leak" not in html and response.context.get("preview") is None
    # …and it is not offered among the recent incidents either.
    assert secret not in list(response.context["recent_incidents"])
    response = as_user(manager).get(url("messagetemplate_change", declared.pk), params)
    assert "Credential leak at Acme" in response.context["preview"]["rendered"].subject


# --- Stakeholder groups -------------------------------------------------------------------------


def test_stakeholder_group_subscriptions_are_checkboxes_and_addresses_are_checked(as_user, manager, responder):
    client = as_user(manager)
    add = client.get(url("stakeholdergroup_add"))
    html = add.content.decode()
    assert 'type="checkbox" name="subscriptions" value="executive_summaries"' in html
    assert 'type="checkbox" name="severities"' in html
    data = {
        "name": "Board", "slug": "board", "audience": "executives", "subscriptions": ["executive_summaries"],
        "severities": [severity("SEV-1").pk], "members": [responder.pk], "external_addresses": "ceo@example.com\nnot-an-address",
        "is_active": "on",
    }
    response = client.post(url("stakeholdergroup_add"), data)
    assert response.status_code == 200 and "Not email addresses: not-an-address." in response.content.decode()
    data["external_addresses"] = "ceo@example.com\n chair@example.com "
    assert client.post(url("stakeholdergroup_add"), data).status_code == 302
    board = StakeholderGroup.objects.get(slug="board")
    assert board.subscriptions == ["executive_summaries"] and board.external_list() == ["ceo@example.com", "chair@example.com"]
    assert list(board.severities.all()) == [severity("SEV-1")] and list(board.members.all()) == [responder]
    listing = client.get(url("stakeholdergroup_changelist")).content.decode()
    assert "Executive summaries" in listing and "SEV-1, SEV-2" in listing  # Leadership, seeded


# --- Contact methods and rules: everyone their own ----------------------------------------------


def test_phone_numbers_must_be_e164_and_the_owner_is_the_signed_in_user(as_user, responder):
    client = as_user(responder)
    other = UserFactory(username="other")
    for bad in ("+44 12", "07911 123456", "+44 7700 900123"):  # too short; not international; a fiction-only range
        response = client.post(url("contactmethod_add"), {"channel": "sms", "address": bad, "is_active": "on", "user": other.pk})
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["address"], bad
        assert "phone number" in response.content.decode()
    assert not ContactMethod.objects.exists()
    response = client.post(url("contactmethod_add"), {"channel": "sms", "address": "+44 7911 123456", "is_active": "on", "user": other.pk})
    assert response.status_code == 302
    method = ContactMethod.objects.get()
    assert (method.user, method.address) == (responder, "+447911123456")
    duplicate = client.post(url("contactmethod_add"), {"channel": "sms", "address": "+447911123456", "is_active": "on"})
    assert duplicate.status_code == 200 and "You already have this contact method." in duplicate.content.decode()


def test_people_see_and_edit_only_their_own_contact_methods(as_user, responder, manager):
    mine = ContactMethodFactory(user=responder)
    theirs = ContactMethodFactory(user=UserFactory(username="someone"))
    client = as_user(responder)
    listing = client.get(url("contactmethod_changelist"))
    assert listing.status_code == 200 and list(listing.context["cl"].result_list) == [mine]
    assert client.get(url("contactmethod_change", mine.pk)).status_code == 200
    assert client.get(url("contactmethod_change", theirs.pk)).status_code == 302  # "does not exist"
    client.post(url("contactmethod_change", theirs.pk), {"channel": "email", "address": "evil@example.com", "is_active": "on"})
    theirs.refresh_from_db()
    assert theirs.address == "someone@example.com"
    listing = as_user(manager).get(url("contactmethod_changelist"))
    assert set(listing.context["cl"].result_list) == {mine, theirs}


def test_rules_offer_only_ones_own_contact_methods(as_user, responder):
    mine = ContactMethodFactory(user=responder, channel="sms")
    theirs = ContactMethodFactory(user=UserFactory(username="someone"))
    client = as_user(responder)
    form = client.get(url("notificationrule_add")).context["adminform"].form
    assert list(form.fields["contact_method"].queryset) == [mine] and "user" not in form.fields
    response = client.post(url("notificationrule_add"), {"contact_method": theirs.pk, "delay": "00:02:00", "only_if_unacknowledged": "on"})
    assert response.status_code == 200 and not NotificationRule.objects.exists()
    response = client.post(url("notificationrule_add"), {"contact_method": mine.pk, "delay": "00:02:00", "only_if_unacknowledged": "on"})
    assert response.status_code == 302
    assert NotificationRule.objects.get().user == responder


# --- The outbox ---------------------------------------------------------------------------------


def test_notification_list_queries_do_not_grow_with_rows(as_user, manager, commander, django_assert_max_num_queries):
    client = as_user(manager)
    incident = IncidentFactory(actor=commander)
    for size in (5, 80):
        while Notification.objects.count() < size:
            NotificationFactory(incident=incident, status=Status.FAILED, last_error="SMTP 451 " + "x" * 300)
        with django_assert_max_num_queries(12):
            response = client.get(url("notification_changelist"))
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == min(size, 50)  # a page of 50
    html = response.content.decode()
    assert incident.reference in html and "SMTP 451" in html and "x" * 300 not in html  # the error, truncated


def test_notifications_are_read_only_and_searchable_by_reference(as_user, manager, commander):
    incident = IncidentFactory(actor=commander)
    other = IncidentFactory(actor=commander)
    wanted = NotificationFactory(incident=incident, address="pager@example.com")
    NotificationFactory(incident=other)
    client = as_user(manager)
    response = client.get(url("notification_changelist"), {"q": incident.reference})
    assert list(response.context["cl"].result_list) == [wanted]
    response = client.get(url("notification_changelist"), {"q": "pager@"})
    assert list(response.context["cl"].result_list) == [wanted]
    assert client.get(url("notification_add")).status_code == 403
    page = client.get(url("notification_change", wanted.pk))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(url("notification_change", wanted.pk), {"address": "x@example.com"}).status_code == 403


def test_resend_requeues_the_selected_notifications(as_user, manager, viewer, commander):
    incident = IncidentFactory(actor=commander)
    failed = NotificationFactory(incident=incident, status=Status.FAILED, attempts=6, last_error="timeout")
    assert as_user(viewer).get(url("notification_changelist")).context["action_form"] is None  # no action offered
    listing = as_user(manager).get(url("notification_changelist"))
    assert "resend" in dict(listing.context["action_form"].fields["action"].choices)
    response = as_user(manager).post(
        url("notification_changelist"), {"action": "resend", "_selected_action": [failed.pk]}, follow=True
    )
    assert "1 notification re-queued." in messages_of(response)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (Status.PENDING, 0, "")


def test_notifications_about_a_restricted_incident_are_hidden_from_those_who_cannot_see_it(as_user, viewer, manager, commander):
    secret = IncidentFactory(actor=commander, is_restricted=True)
    hidden = NotificationFactory(incident=secret)
    shown = NotificationFactory(incident=IncidentFactory(actor=commander))
    assert list(as_user(viewer).get(url("notification_changelist")).context["cl"].result_list) == [shown]
    assert as_user(viewer).get(url("notification_change", hidden.pk)).status_code == 302
    assert set(as_user(manager).get(url("notification_changelist")).context["cl"].result_list) == {hidden, shown}
