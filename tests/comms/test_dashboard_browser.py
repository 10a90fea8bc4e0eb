"""The operator dashboard in a real browser (Debian's Chromium): a manager sees the open incidents
with countdowns that tick, and an incident declared after the page loaded appears without a
reload; a viewer sees the dashboard but never the title of a restricted incident."""

import re

import pytest

from tests.browser import BROWSER_TESTS, browser, log_in  # noqa: F401
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import LayerFactory, ScheduleFactory, UserFactory

pytestmark = BROWSER_TESTS



@pytest.fixture
def page(browser):
    context = browser.new_context(timezone_id="Europe/London", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "favicon" not in m.location.get("url", "") else None,
    )
    yield page
    context.close()
    assert errors == []  # the dashboard's script ran without an error



@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_manager_watches_countdowns_tick_and_new_incidents_arrive(live_server, page, settings):
    settings.VIGIL_DASHBOARD_REFRESH_SECONDS = 1
    ic = UserFactory(username="ic", first_name="Ida", last_name="Cole", commander=True)
    UserFactory(username="boss", manager=True)
    LayerFactory(schedule=ScheduleFactory(name="Payments", slug="payments"), members=[ic])
    first = IncidentFactory(actor=ic, title="Checkout is down", severity=severity("SEV-1"), commander=ic)

    log_in(page, live_server, "boss", then="#vigil-dashboard")

    row = page.locator("#open-incidents tbody tr").first
    assert row.locator("a").inner_text() == first.reference
    countdown = row.locator("td.countdown .left")
    before = countdown.inner_text()
    assert re.fullmatch(r"in \d+ min \d\d s", before), before
    page.wait_for_function("t => document.querySelector('#open-incidents td.countdown .left').textContent !== t", arg=before)
    assert "Ida Cole" in page.locator("#on-call-payments").inner_text()

    second = IncidentFactory(actor=ic, title="Search is down too", severity=severity("SEV-2"))
    page.wait_for_selector(f"#open-incidents a:text-is('{second.reference}')")
    assert page.locator("#open-count").inner_text() == "2"
    assert page.locator("#open-incidents tbody tr").nth(1).locator("td.title").inner_text() == "Search is down too"
    # The app list is still on the home page.
    assert page.get_by_role("link", name="Incidents", exact=True).count() >= 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_viewer_never_sees_a_restricted_title(live_server, page, settings):
    settings.VIGIL_DASHBOARD_REFRESH_SECONDS = 1
    ic = UserFactory(username="ic", commander=True)
    UserFactory(username="watcher", viewer=True)
    IncidentFactory(actor=ic, title="Credential leak in billing", is_restricted=True, severity=severity("SEV-1"))
    IncidentFactory(actor=ic, title="Search is slow", severity=severity("SEV-3"))

    log_in(page, live_server, "watcher", then="#vigil-dashboard")
    assert "Search is slow" in page.locator("#open-incidents").inner_text()
    IncidentFactory(actor=ic, title="Another secret", is_restricted=True, severity=severity("SEV-1"))
    IncidentFactory(actor=ic, title="Queue backlog", severity=severity("SEV-2"))
    page.wait_for_selector("#open-incidents td.title:text-is('Queue backlog')")  # a refresh happened
    text = page.content()
    assert "Credential leak" not in text and "Another secret" not in text
    assert page.locator("#open-count").inner_text() == "2"
