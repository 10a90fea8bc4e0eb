"""A report's preview in a real browser (Debian's Chromium): a manager sees the mail's HTML part
as it is sent, inside a sandboxed frame with no script and nothing loaded from elsewhere, and
sends it to themself."""

import pytest

from comms.models import Notification, ReportSubscription
from comms.reports.sections import DEFAULT_SECTIONS
from tests.browser import BROWSER_TESTS, browser  # noqa: F401
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import UserFactory

pytestmark = BROWSER_TESTS

PASSWORD = "correct-horse-battery"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_manager_previews_the_weekly_report_and_sends_it_to_themself(live_server, browser):
    boss = UserFactory(username="boss", manager=True, time_zone="Europe/London")
    IncidentFactory(title="Checkout is down", severity=severity("SEV-1"))
    report = ReportSubscription.objects.create(
        name="Weekly for the board", owner=boss, sections=DEFAULT_SECTIONS, time_zone="Europe/London", addresses="board@example.org"
    )
    context = browser.new_context(timezone_id="Europe/London")
    page = context.new_page()
    page.set_default_timeout(15_000)
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/comms/reportsubscription/{report.pk}/preview/?period=2026-11-25")

    frame = page.frame_locator("#report-html")
    assert frame.locator("h1").inner_text() == "Weekly for the board"
    assert "Mon 23 Nov – Sun 29 Nov 2026" in frame.locator("body").inner_text()
    assert "Checkout is down" in frame.locator("body").inner_text()
    assert "1 open incident now." in page.locator("#report-text").inner_text()
    # Nothing in the report's HTML was fetched from anywhere (images, styles, fonts).
    assert all(url.startswith(live_server.url) for url in requests)

    page.get_by_role("button", name="Send now to me only").click()
    assert "1 message queued for 2026-11-23" in page.locator(".messagelist").inner_text()
    assert list(Notification.objects.values_list("address", flat=True)) == [boss.email]
    context.close()
