"""The incident list on a 1366 px laptop and a 375 px phone, in a real browser: with long service
names and every SLA state, the page never scrolls sideways and the SLA text and the affected
services are on screen, not clipped."""

import pytest

from incidents import actions
from incidents.models import Source
from tests.browser import BROWSER_TESTS, browser  # noqa: F401
from tests.incidents.factories import IncidentFactory, ServiceFactory, severity
from tests.layout import LAPTOP, PHONE, assert_on_screen, open_as, page_overflow
from tests.oncall.factories import UserFactory

pytestmark = BROWSER_TESTS

LONG_SERVICES = (
    "Payments Gateway — EU card acquiring (primary processor)",
    "Customer Identity and Single Sign-On Service",
    "Notification Worker",
)


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366px", "375px"])
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_incident_list_fits_and_shows_sla_and_services(live_server, browser, viewport):
    ic = UserFactory(username="alice", first_name="Alice", last_name="Chen", commander=True, is_staff=True, is_superuser=True)
    services = [ServiceFactory(name=name, slug=f"long-{i}") for i, name in enumerate(LONG_SERVICES)]
    for i in range(8):
        incident = IncidentFactory(
            actor=ic, commander=ic, services=services[: 1 + i % 3], severity=severity(f"SEV-{1 + i % 4}"),
            title=f"Checkout API returns 502 for card payments in eu-west-{i} after release 4512",
            acknowledged=i % 2 == 0, resolved=i == 7,
        )
        if i == 2:
            actions.post_update(incident, "Rolling back.", actor=ic, source=Source.ADMIN)

    page = open_as(browser, live_server, "alice", viewport)
    page.goto(f"{live_server.url}/admin/incidents/incident/")

    assert page_overflow(page) <= 0
    assert_on_screen(page.locator("#result_list td.field-sla_badge .vigil-badge"))
    assert_on_screen(page.locator("#result_list td.field-affected_services"))
    assert_on_screen(page.locator("#result_list .field-title a"))
    assert page.locator("#result_list td.field-affected_services").first.inner_text().endswith(LONG_SERVICES[0])
