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
    assert page.title() == "Vigil status"
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
