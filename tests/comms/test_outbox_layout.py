"""The outbox list on a 1366 px laptop, in a real browser: long addresses, long errors and the
longest message kinds wrap inside their columns; the page never scrolls sideways."""

import pytest

from comms.models import Notification
from tests.browser import BROWSER_TESTS, browser  # noqa: F401
from tests.comms.factories import NotificationFactory
from tests.incidents.factories import IncidentFactory
from tests.layout import LAPTOP, assert_on_screen, open_as, page_overflow
from tests.oncall.factories import UserFactory

pytestmark = BROWSER_TESTS


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_outbox_fits_a_laptop(live_server, browser):
    manager = UserFactory(username="frank", first_name="Frank", last_name="Moreau-Lindqvist", manager=True)
    incident = IncidentFactory(actor=manager)
    for i in range(12):
        NotificationFactory(
            incident=incident, recipient=manager, kind="escalation_info", audience="executives",
            address=f"frank.moreau-lindqvist.engineering-director-{i}@payments-platform.example.com",
            status=Notification.Status.FAILED, attempts=6,
            last_error="SMTPRecipientsRefused: 550 5.1.1 <frank@payments-platform.example.com>: Recipient address rejected",
        )
    page = open_as(browser, live_server, "frank", LAPTOP)
    page.goto(f"{live_server.url}/admin/comms/notification/")

    assert page_overflow(page) <= 0
    for column in ("created", "to", "error", "message", "incident_ref"):
        assert_on_screen(page.locator(f"#result_list tbody .field-{column}"))
