"""What the admin refuses or questions on an incident, as the operator sees it: a detection time out
of bounds, numbers too large to be true (in words, not a column's limit), confirmed users out of
proportion with the estimate (saved, with a warning), a SEV-1 resolved without a summary, and a
Close button shown only when closing can succeed."""

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
import time_machine
from django.urls import reverse

from incidents import actions
from incidents.models import Incident, Source, Status, TimelineEvent
from tests.incidents.factories import IncidentFactory, ServiceFactory, publish_postmortem, severity
from tests.incidents.test_admin import DECLARE_URL, details, details_url, operate, operation_card, page_url, text_of_html
from tests.oncall.factories import UserFactory
from tests.pages import messages_of, text_of

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 6, 14, 0, tzinfo=dt_timezone.utc)  # a Sunday
RAW_LIMITS = ("9223372036854775807", "2147483647", "≤")


def test_declaring_with_a_detection_time_in_1900_is_a_form_error_on_that_field(as_user, commander, sev1):
    with time_machine.travel(NOW, tick=False):
        response = as_user(commander).post(
            DECLARE_URL, {"title": "Checkout down", "severity": sev1.pk, "detected_at_0": "1900-01-01", "detected_at_1": "00:00"}
        )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["detected_at"] == [
        "The detection time 1900-01-01 00:00 UTC is 46360 d 14 h before the declaration; "
        "it may be at most 30 d before it. Check the date."
    ]
    assert not Incident.objects.exists()


def test_editing_the_detection_time_to_1900_is_refused_and_the_list_never_says_46360_days(as_user, commander):
    with time_machine.travel(NOW, tick=False) as traveller:
        incident = IncidentFactory(actor=commander, commander=commander, severity=severity("SEV-3"))
        client = as_user(commander)
        response = client.post(details_url(incident), details(incident, detected_at_0="1900-01-01", detected_at_1="00:00"))
        assert response.status_code == 200
        assert "may be at most 30 d before it" in " ".join(response.context["adminform"].form.errors["detected_at"])

        client.post(details_url(incident), details(incident, detected_at_0="2026-12-06", detected_at_1="13:30"))
        traveller.shift(timedelta(hours=1))
        actions.resolve(incident, actor=commander, source=Source.ADMIN)
        listing = text_of(client.get(reverse("admin:incidents_incident_changelist")))
    assert "lasted 1 h 30 min" in listing and "46360" not in listing


def test_users_affected_beyond_a_billion_say_too_large_not_the_column_limit(as_user, commander, incident):
    response = as_user(commander).post(
        details_url(incident), details(incident, users_affected_estimated="9223372036854775807", users_affected_confirmed="-1")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["users_affected_estimated"] == ["Too large: at most 1,000,000,000 users."]
    assert errors["users_affected_confirmed"] == ["Cannot be negative."]
    page = text_of(response)
    assert "Too large: at most 1,000,000,000 users." in page and not any(raw in page for raw in RAW_LIMITS)
    incident.refresh_from_db()
    assert incident.users_affected_estimated is None


def test_far_more_users_confirmed_than_estimated_is_saved_with_a_warning(as_user, commander, incident):
    client = as_user(commander)
    response = client.post(details_url(incident), details(incident, users_affected_estimated="10", users_affected_confirmed="5000"), follow=True)
    incident.refresh_from_db()
    assert (incident.users_affected_estimated, incident.users_affected_confirmed) == (10, 5000)
    shown = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert shown[0] == (
        "warning", "5,000 users confirmed against 10 estimated: check both numbers (and raise the estimate if it was too low)."
    )
    assert [tag for tag, _ in shown[1:]] == ["success"]
    # In proportion (or a small count against a zero estimate): no warning.
    for estimated, confirmed in (("4000", "5000"), ("0", "80")):
        response = client.post(
            details_url(incident), details(incident, users_affected_estimated=estimated, users_affected_confirmed=confirmed), follow=True
        )
        assert [m.level_tag for m in response.context["messages"]] == ["success"]
        incident.refresh_from_db()
        assert str(incident.users_affected_confirmed) == confirmed


def test_a_heartbeat_interval_too_large_says_so_in_words(client):
    client.force_login(UserFactory(superuser=True))
    data = {"name": "Backup", "service": ServiceFactory().pk, "interval_minutes": "9223372036854775807", "grace_minutes": "100000",
            "is_active": "on", "_save": "Save"}
    response = client.post(reverse("admin:incidents_heartbeat_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["interval_minutes"] == ["Too large: at most 44,640 minutes (31 days)."]
    assert errors["grace_minutes"] == ["Too large: at most 10,080 minutes (7 days)."]
    assert not any(raw in text_of(response) for raw in RAW_LIMITS)


def test_resolving_a_sev1_without_a_summary_is_a_form_error_saying_what_to_write(as_user, commander, sev1):
    incident = IncidentFactory(actor=commander, severity=sev1)
    client = as_user(commander)
    response = operate(client, incident, "resolve", summary="")
    assert messages_of(response) == [
        "Resolution summary: SEV-1 incidents need a resolution summary: what was wrong, what fixed it, and what customers saw."
    ]
    assert incident.status == Status.TRIGGERED
    assert not incident.timeline.filter(kind=TimelineEvent.Kind.RESOLVED).exists()
    response = operate(client, incident, "resolve", summary="Bad config push; reverted; logins failed for 12 min")
    assert messages_of(response) == [f"{incident.reference} resolved."]


def test_close_is_offered_only_when_closing_can_succeed(as_user, commander, sev1):
    client = as_user(commander)
    with time_machine.travel(NOW, tick=False) as traveller:
        incident = IncidentFactory(actor=commander, commander=commander, severity=sev1, acknowledged=True)
        actions.resolve(incident, actor=commander, source=Source.ADMIN, summary="Rolled back")
        card = operation_card(client.get(page_url(incident)), "close")
        # SEV-1 is watched for 24 h after resolution.
        assert text_of_html(card) == "Close Can be closed from Mon 07 Dec 14:00 (observation period)."
        assert 'type="submit"' not in card

        traveller.shift(timedelta(hours=24))
        card = operation_card(client.get(page_url(incident)), "close")
        assert "post-mortem" in text_of_html(card).lower() and 'type="submit"' not in card  # its own guard says why

        publish_postmortem(incident)
        card = operation_card(client.get(page_url(incident)), "close")
        assert text_of_html(card) == "" and 'type="submit" value="Close"' in card  # now one button, nothing in the way
        assert messages_of(operate(client, incident, "close")) == [f"{incident.reference} closed."]


def test_the_severity_admin_shows_whether_resolving_needs_a_summary(as_user):
    client = as_user(UserFactory(superuser=True))
    listing = client.get(reverse("admin:incidents_severitylevel_changelist"))
    assert "Resolving needs a summary" in text_of(listing)
    page = client.get(reverse("admin:incidents_severitylevel_change", args=[severity("SEV-1").pk]))
    form = page.context["adminform"].form
    assert form.initial["resolution_requires_summary"] is True
    assert "what was wrong, what fixed it, and what customers saw" in form.fields["resolution_requires_summary"].help_text
