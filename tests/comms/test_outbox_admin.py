"""The outbox list as an operator pages through it: fifty rows a page, newest first, narrowed
to one incident by typing its reference, and by status and channel."""

import re
from datetime import timedelta

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from comms.models import Notification
from tests.comms.factories import NotificationFactory
from tests.incidents.factories import IncidentFactory
from tests.pages import messages_of, text_of

Status = Notification.Status
LIST = "admin:comms_notification_changelist"


def _rows(response) -> list[Notification]:
    return list(response.context["cl"].result_list)


def test_the_outbox_shows_fifty_rows_a_page_newest_first(as_user, manager, commander):
    incident = IncidentFactory(actor=commander)
    start = timezone.now() - timedelta(hours=3)
    made = [NotificationFactory(incident=incident, created_at=start + timedelta(minutes=i)) for i in range(91)]
    client = as_user(manager)

    first = client.get(reverse(LIST))
    assert _rows(first) == made[::-1][:50]
    second = client.get(reverse(LIST), {"p": 2})
    assert _rows(second) == made[::-1][50:]
    assert "?p=2" in first.content.decode()  # the pager links the second page


def test_the_outbox_filters_by_incident_reference_status_and_channel(as_user, manager, commander, django_assert_max_num_queries):
    wanted_incident = IncidentFactory(actor=commander)
    other = IncidentFactory(actor=commander)
    wanted = NotificationFactory(incident=wanted_incident, status=Status.FAILED, channel="sms", address="+15550100")
    NotificationFactory(incident=wanted_incident, status=Status.SENT, channel="sms", address="+15550101")
    NotificationFactory(incident=wanted_incident, status=Status.FAILED, channel="email")
    NotificationFactory(incident=other, status=Status.FAILED, channel="sms", address="+15550102")
    client = as_user(manager)

    assert set(_rows(client.get(reverse(LIST), {"incident": wanted_incident.reference}))) == set(
        Notification.objects.filter(incident=wanted_incident)
    )
    with django_assert_max_num_queries(12):
        response = client.get(reverse(LIST), {"incident": wanted_incident.reference.lower(), "status": "failed", "channel": "sms"})
    assert _rows(response) == [wanted]
    page = text_of(response)
    assert "By incident" in page and "By status" in page and "By channel" in page
    # The text box keeps what was typed, and the other filters ride along with it.
    html = response.content.decode()
    assert f'value="{wanted_incident.reference.lower()}"' in html
    assert '<input type="hidden" name="status" value="failed">' in html


def test_a_mistyped_incident_reference_says_so_and_lists_nothing(as_user, manager, commander):
    NotificationFactory(incident=IncidentFactory(actor=commander))
    response = as_user(manager).get(reverse(LIST), {"incident": "checkout"})
    assert _rows(response) == []
    assert "“checkout” is not an incident reference; type one such as INC-42." in messages_of(response)


def test_the_outbox_list_costs_the_same_queries_at_any_size(as_user, manager, commander, django_assert_max_num_queries):
    client = as_user(manager)
    incidents = [IncidentFactory(actor=commander) for _ in range(3)]
    for size in (6, 120):
        while Notification.objects.count() < size:
            NotificationFactory(incident=incidents[Notification.objects.count() % 3])
        with django_assert_max_num_queries(12):
            response = client.get(reverse(LIST), {"status": "pending"})
        assert len(_rows(response)) == min(size, 50)


def test_select_all_past_the_count_limit_offers_the_estimate(as_user, manager, commander, settings):
    """A manager may resend across all pages: the offer names the estimate the list shows
    ("about 380"), never a raw number the list did not count."""
    settings.VIGIL_ADMIN_EXACT_COUNT_LIMIT = 50
    incident = IncidentFactory(actor=commander)
    recipient = NotificationFactory(incident=incident).recipient
    now = timezone.now()
    Notification.objects.bulk_create(
        NotificationFactory.build(incident=incident, recipient=recipient, key=f"bulk:{n}", created_at=now) for n in range(380)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE comms_notification")

    html = as_user(manager).get(reverse(LIST)).content.decode()
    if connection.vendor == "postgresql":
        assert re.search(r"Select all about [\d,]+ notifications", html), html
        assert re.search(r"All about [\d,]+ notifications selected", html)
        assert not re.search(r"Select all \d+ notifications", html)
    else:  # SQLite has no estimate: it counts
        assert "Select all 381 notifications" in html
