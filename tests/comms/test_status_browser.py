"""The status page on a phone, in a real browser (Debian's Chromium driven by Playwright), with
JavaScript turned off: what a customer sees during an outage, without sideways scrolling."""

import os
from pathlib import Path

import pytest

from incidents import actions
from incidents.models import Source, Status
from tests.browser import BROWSER_TESTS, browser  # noqa: F401
from tests.incidents.factories import IncidentFactory, ServiceFactory, severity
from tests.oncall.factories import UserFactory

PHONE = {"width": 375, "height": 740}

pytestmark = BROWSER_TESTS


def phone(browser, *, javascript: bool):
    """A phone-sized mobile context: with `is_mobile` the page is laid out at the width its
    viewport meta asks for, so a missing meta tag shows up as a 980px-wide page."""
    return browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2, java_script_enabled=javascript
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_status_page_reads_on_a_phone_without_javascript(live_server, browser):
    ic = UserFactory(username="ic", commander=True)
    checkout = ServiceFactory(name="Checkout API", slug="checkout-api", customer_facing=True)
    ServiceFactory(name="Search", slug="search", customer_facing=True)
    # SEV-2 is published within its window, by the communications lead; here at declaration.
    incident = IncidentFactory(
        actor=ic, commander=ic, services=[checkout], severity=severity("SEV-2"), title="Card payments failing",
        public_on_status_page=True,
    )
    actions.post_update(
        incident, "Engineers are paging the DBA about replica lag", actor=ic, source=Source.ADMIN, visibility="internal"
    )
    # A long unbroken token (an error code, a URL) must wrap rather than widen the page.
    actions.post_update(
        incident,
        "Some card payments fail with PAYMENT_PROVIDER_CERTIFICATE_CHAIN_VALIDATION_FAILED_FOR_ALL_REGIONS. "
        "We have found the cause and are rolling out a fix.",
        actor=ic,
        source=Source.ADMIN,
        visibility="external",
        status=Status.IDENTIFIED,
    )
    url = f"{live_server.url}/status/"

    context = phone(browser, javascript=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    response = page.goto(url)

    assert response.status == 200 and "public" in response.headers["cache-control"]
    assert page.title() == "Service status"
    banner = page.locator("#overall")
    assert banner.is_visible() and banner.inner_text() == "Partial outage"
    component = page.locator("#component-checkout-api")
    assert component.is_visible() and component.inner_text().split() == ["Checkout", "API", "Partial", "outage"]
    assert page.locator("#component-search").inner_text().split() == ["Search", "Operational"]
    update = page.locator("#active .updates li").first
    update.scroll_into_view_if_needed()
    assert update.is_visible()
    assert "Identified — Some card payments fail" in update.inner_text()
    assert " UTC" in update.inner_text()
    assert "paging the DBA" not in page.locator("body").inner_text()
    assert page.locator("script").count() == 0
    if os.environ.get("VIGIL_SCREENSHOTS"):  # a directory: keep what the phone showed, for a human to look at
        page.screenshot(path=str(Path(os.environ["VIGIL_SCREENSHOTS"]) / "status-375.png"), full_page=True)
    context.close()

    # The width is measured with script on, in a separate context: the page itself has none.
    context = phone(browser, javascript=True)
    page = context.new_page()
    page.goto(url)
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth, window.innerWidth]")
    context.close()
    assert widths[0] <= PHONE["width"], f"the page scrolls sideways at 375px: {widths}"
    assert widths[2] == PHONE["width"], f"the viewport meta did not take: {widths}"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ninety_days_fit_a_phone_and_nothing_overflows_on_a_laptop(live_server, browser):
    """Demo-like data (the demo's ten incidents include open, restricted and drill ones): six
    components and eight public incidents resolved over the 90 days. The days
    are one bar per component, so the page stays short on a phone and never scrolls sideways."""
    import datetime as dt

    import time_machine

    ic = UserFactory(username="ic", commander=True)
    services = [ServiceFactory(name=f"Component {k}", slug=f"component-{k}", customer_facing=True) for k in range(6)]
    now = dt.datetime.now(dt.UTC)
    for k in range(8):
        start = (now - dt.timedelta(days=11 * k + 2)).replace(hour=9, minute=0)  # ends the same UTC day
        with time_machine.travel(start, tick=False):
            incident = IncidentFactory(
                actor=ic, commander=ic, services=services[k % 6:][:2], severity=severity(("SEV-1", "SEV-2", "SEV-3")[k % 3]),
                title=f"Incident {k}", public_on_status_page=True,
            )
            actions.post_update(incident, f"Looking into incident {k}.", actor=ic, source=Source.ADMIN, visibility="external")
        with time_machine.travel(start + dt.timedelta(hours=2), tick=False):
            actions.resolve(incident, actor=ic, source=Source.ADMIN, summary="Fixed.", public_update="Fixed.")
    url = f"{live_server.url}/status/"

    context = phone(browser, javascript=True)
    page = context.new_page()
    page.goto(url)
    height, width = page.evaluate("[document.documentElement.scrollHeight, document.documentElement.scrollWidth]")
    if os.environ.get("VIGIL_SCREENSHOTS"):
        page.screenshot(path=str(Path(os.environ["VIGIL_SCREENSHOTS"]) / "status-90-days-375.png"), full_page=True)
    cell = page.locator("#uptime-component-0 .bar > *").last
    label, box = cell.get_attribute("title"), cell.bounding_box()
    context.close()
    assert height < 3000, f"the status page is {height}px tall at 375px"
    assert width <= PHONE["width"]
    assert label.endswith(": No incidents") and box["width"] >= 2  # today's cell, visible

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(url)
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    linked = page.locator("#uptime a").count()
    context.close()
    assert scroll_width <= inner_width, f"the page overflows at 1366px: {scroll_width} > {inner_width}"
    assert linked == 15  # 8 incidents, one day each, on two components' bars (Incident 5: one, the last component)
