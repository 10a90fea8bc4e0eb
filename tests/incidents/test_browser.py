"""An incident worked end to end in a real browser (Debian's Chromium driven by Playwright).

Declare a SEV-2 on a service, hand command over, post an internal and an external update,
escalate the severity, resolve, reopen, resolve again — and read the whole story back
from the timeline, with who did each step and when.
"""

import re

import pytest

from incidents.models import Incident, Status, TimelineEvent
from tests.browser import BROWSER_TESTS, browser, log_in  # noqa: F401
from tests.incidents.factories import ServiceFactory
from tests.oncall.factories import UserFactory

pytestmark = BROWSER_TESTS

Kind = TimelineEvent.Kind


@pytest.fixture
def browser_page(browser):
    context = browser.new_context(timezone_id="Europe/London", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()



def operate(page, prefix: str, fields: dict[str, str] | None = None, *, selects: dict[str, str] | None = None):
    """Fill one operation card on the incident page and submit it; wait for the success message.
    The side panel folds the cards with fields: open the card first."""
    form = page.locator(f"#op-{prefix}")
    folded = page.locator(f"details:has(#op-{prefix}):not([open]) > summary")
    if folded.count():
        folded.click()
    for name, value in (fields or {}).items():
        form.locator(f"[name='{prefix}-{name}']").fill(value)
    for name, label in (selects or {}).items():
        form.locator(f"select[name='{prefix}-{name}']").select_option(label=label)
    form.locator("input[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    errors = page.locator(".messagelist .error, .errorlist")
    assert errors.count() == 0, errors.all_inner_texts()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_incident_worked_from_declaration_to_resolution(live_server, browser_page):
    page = browser_page
    ic = UserFactory(username="alice", first_name="Alice", last_name="Ng", commander=True, time_zone="Europe/London")
    UserFactory(username="bob", first_name="Bob", last_name="Stone", commander=True)
    ServiceFactory(name="Checkout API", slug="checkout-api", customer_facing=True)

    log_in(page, live_server, "alice")

    # Declare from the list page's button.
    page.goto(f"{live_server.url}/admin/incidents/incident/")
    page.get_by_role("link", name=re.compile("Declare incident", re.I)).click()
    page.fill("[name=title]", "Checkout returns 502 for card payments")
    page.get_by_label(re.compile(r"SEV-2 · High")).check()
    # The services picker is Django's two-box selector: pick on the left, move it right.
    page.select_option("#id_services_from", label="Checkout API")
    page.click("#id_services_add")
    page.get_by_role("button", name="Declare incident").click()
    page.wait_for_selector("text=declared")

    incident = Incident.objects.get()
    assert page.url.endswith(f"/admin/incidents/incident/{incident.pk}/change/")
    assert incident.severity.name == "SEV-2" and incident.status == Status.TRIGGERED

    # The declarer commands by default; hand command to Bob, then work the incident.
    operate(page, "assign_role", selects={"user": "Bob Stone (bob)", "role": "Incident commander"})
    operate(page, "acknowledge")
    operate(page, "post_update", {"text": "Card payments fail at the payment step; investigating."})
    form = page.locator("#op-post_update")
    form.locator("[name='post_update-text']").fill("Some customers cannot pay by card. We are on it.")
    form.locator("input[name='post_update-visibility'][value=external]").check()
    form.locator("input[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    operate(page, "change_severity", {"reason": "All card payments failing"}, selects={"severity": "SEV-1 · Critical"})
    operate(page, "resolve", {"summary": "Rolled back release 4512"}, selects={"mitigation": "Rollback"})
    operate(page, "reopen", {"reason": "Errors are back in eu-west-1"})
    operate(page, "resolve", {"summary": "Payment provider certificate renewed"})

    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED and incident.severity.name == "SEV-1"
    kinds = list(incident.timeline.order_by("occurred_at", "pk").values_list("kind", flat=True))
    assert kinds == [
        Kind.DECLARED, Kind.ROLE_ASSIGNED, Kind.ROLE_ASSIGNED, Kind.ACKNOWLEDGED, Kind.STATUS_UPDATE, Kind.STATUS_UPDATE,
        # The reopen starts a new acknowledge round; level 1 of the default policy has nobody here.
        Kind.SEVERITY_CHANGED, Kind.RESOLVED, Kind.REOPENED, Kind.NOBODY_TO_PAGE, Kind.RESOLVED,
    ]
    assert list(incident.timeline.values_list("visibility", flat=True)).count("external") == 1

    # What the operator reads on the page: every step, newest first, with actor and time.
    page.reload()
    timeline_text = page.locator("#timeline").inner_text()
    steps = [
        "Payment provider certificate renewed",
        "Errors are back in eu-west-1",
        "Rolled back release 4512",
        "Severity escalated SEV-2 → SEV-1: All card payments failing",
        "Some customers cannot pay by card. We are on it.",
        "Card payments fail at the payment step; investigating.",
        "acknowledged",
        "Bob Stone is now incident commander, taking over from Alice Ng",
        "Alice Ng is now incident commander",
        "declared SEV-2",
    ]
    positions = [timeline_text.find(step) for step in steps]
    assert all(p >= 0 for p in positions), dict(zip(steps, positions))
    assert positions == sorted(positions), "timeline is not newest first"
    assert timeline_text.count(str(ic)) >= len(steps)
    # Times are shown in Alice's zone (Europe/London), e.g. "22 Nov 2026, 09:41" or "09:41".
    assert re.search(r"\b\d{2}:\d{2}\b", timeline_text)
