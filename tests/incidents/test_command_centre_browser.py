"""The incident page as the commander's command centre, in a real browser (Debian's Chromium): at a
laptop's 1366×768 the update box and the latest event are on the first screen beside the side
panel, with the header's badges, countdown, roles and links; on a 375 px phone the columns stack
and the update box and the latest event still come first; the countdown ticks; an update posted
from outside (as chat or the API would) appears without a reload; the details page saves."""

import os
import re

import pytest

from comms.models import Channel
from incidents import actions
from incidents.models import EvidenceLink, Participant, Source
from tests import browser as browsing
from tests.browser import BROWSER_TESTS, log_in
from tests.comms.factories import ContactMethodFactory
from tests.incidents.factories import IncidentFactory, ServiceFactory, severity
from tests.layout import LAPTOP, PHONE, open_as, page_overflow
from tests.oncall.factories import UserFactory

pytestmark = BROWSER_TESTS
browser = browsing.browser  # the fixture

SHOTS = os.environ.get("VIGIL_SCREENSHOTS")  # a folder to keep the screenshots in, when set


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png")


@pytest.fixture
def busy_incident(db):
    """A SEV-1 in full swing: a commander reachable by phone, chat and email, a technical lead
    with only an account email, a war room and call bridge, tasks, services, evidence, and a
    timeline longer than the page shows."""
    alice = UserFactory(username="alice", first_name="Alice", last_name="Ng", commander=True, email="alice@example.com")
    bob = UserFactory(username="bob", first_name="Bob", last_name="Stone", responder=True, email="bob@example.com")
    ContactMethodFactory(user=alice, channel=Channel.SMS, address="+447700900123")
    ContactMethodFactory(user=alice, channel=Channel.CHAT, address="@alice")
    services = [ServiceFactory(name="Checkout API", slug="checkout-api"), ServiceFactory(name="Payments", slug="payments")]
    incident = IncidentFactory(
        actor=alice, commander=alice, severity=severity("SEV-1"), services=services,
        title="Card payments fail at checkout for EU customers",
    )
    actions.assign_role(incident, bob, Participant.Role.TECHNICAL_LEAD, actor=alice, source=Source.CHAT)
    actions.record_war_room_opened(incident, name="inc-1-card-payments", url="https://chat.example.com/archives/C123")
    type(incident).objects.filter(pk=incident.pk).update(call_bridge_url="https://meet.example.com/inc-1")
    actions.acknowledge(incident, actor=alice, source=Source.ADMIN)
    for n in range(80):
        actions.add_note(incident, f"Checked shard {n}: healthy", actor=bob, source=Source.CHAT)
    actions.add_evidence(incident, "https://grafana.example.com/d/checkout", kind=EvidenceLink.Kind.DASHBOARD, title="Checkout errors", actor=bob, source=Source.ADMIN)
    actions.post_update(incident, "Rolling back release 4512 in eu-west-1.", actor=alice, source=Source.ADMIN)
    return incident


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_at_a_laptops_size_the_commander_sees_what_matters_without_scrolling(live_server, browser, busy_incident):
    page = open_as(browser, live_server, "alice", LAPTOP)
    page.goto(f"{live_server.url}/admin/incidents/incident/{busy_incident.pk}/change/")
    shot(page, "laptop")
    assert page.evaluate("() => window.scrollY") == 0
    for selector in ("#op-post_update textarea", "#op-post_update input[type=submit]", "#timeline-events li >> nth=0",
                     "#severity-badge", "#status-badge", "#countdown", "#roles", "#war-room-link", "#call-bridge-link"):
        found = box(page, selector)
        assert found and found["y"] >= 0 and found["y"] + found["height"] <= LAPTOP["height"], (selector, found)
    assert "Rolling back release 4512" in page.locator("#timeline-events li").first.inner_text()
    header = page.locator("#incident-header").inner_text()
    assert "SEV-1" in page.locator("#severity-badge").inner_text() and "Investigating" in page.locator("#status-badge").inner_text()
    assert re.search(r"Incident commander\s+Alice Ng\s+\+447700900123\s+@alice\s+alice@example.com", header), header
    assert re.search(r"Technical lead\s+Bob Stone\s+bob@example.com", header), header
    assert page.locator("#war-room-link").inner_text() == "#inc-1-card-payments"
    for link in ("#war-room-link", "#call-bridge-link"):
        assert page.locator(link).get_attribute("target") == "_blank" and "noopener" in page.locator(link).get_attribute("rel")
    # The side panel stands beside the timeline, to its right, from the same height.
    timeline, side = box(page, "#main-column"), box(page, "#side-panel")
    assert side["x"] >= timeline["x"] + timeline["width"] and abs(side["y"] - timeline["y"]) < 5
    assert box(page, "#op-acknowledge, #op-change_status")["y"] < LAPTOP["height"]
    assert page_overflow(page) == 0
    # The latest 50 of its 87 events are shown, the other 37 one link away.
    assert page.locator("#timeline-events li").count() == 50
    page.click("#show-older a")
    assert page.locator("#timeline-events li").count() == 37
    assert "Checked shard 31: healthy" in page.locator("#timeline-events li").first.inner_text()
    assert "declared SEV-1" in page.locator("#timeline-events li").last.inner_text()
    assert page.locator("#show-older").count() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_on_a_phone_the_columns_stack_and_the_update_box_comes_first(live_server, browser, busy_incident):
    page = open_as(browser, live_server, "alice", PHONE)
    page.goto(f"{live_server.url}/admin/incidents/incident/{busy_incident.pk}/change/")
    shot(page, "phone")
    assert page_overflow(page) == 0
    update, latest, side = box(page, "#op-post_update"), box(page, "#timeline-events li"), box(page, "#side-panel")
    assert update["y"] + update["height"] <= PHONE["height"], update  # the update box on the first screen
    assert update["y"] < latest["y"] < side["y"]  # then the latest event, then the side panel below
    assert latest["y"] + latest["height"] <= PHONE["height"], latest  # and the latest event too
    assert update["width"] <= PHONE["width"] and side["x"] < 20  # one column
    for selector in ("#severity-badge", "#status-badge", "#countdown"):
        assert box(page, selector)["y"] < 300, selector


def _console_error(message) -> str | None:
    """A console error that counts. Not the favicon, and not a poll answered 503: on SQLite the
    test's in-memory database locks its tables while the test itself writes, the middleware says
    503, and the script keeps the page as it was and asks again (what it does when offline)."""
    url = message.location.get("url", "")
    if message.type != "error" or "favicon" in url or ("/timeline.json" in url and "503" in message.text):
        return None
    return message.text


@pytest.fixture
def watched(browser):
    """A laptop-sized page that fails the test if its script throws or logs an error."""
    context = browser.new_context(viewport=LAPTOP, timezone_id="Europe/London")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(_console_error(m)) if _console_error(m) else None)
    yield page
    context.close()
    assert errors == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_countdown_ticks_and_an_update_from_chat_appears_without_a_reload(live_server, watched, settings):
    settings.VIGIL_INCIDENT_REFRESH_SECONDS = 1
    alice = UserFactory(username="alice", first_name="Alice", last_name="Ng", commander=True)
    incident = IncidentFactory(actor=alice, commander=alice, severity=severity("SEV-2"), title="Search is slow")
    page = watched
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/admin/incidents/incident/{incident.pk}/change/")
    left = page.locator("#countdown .left")
    before = left.inner_text()
    assert re.fullmatch(r"in \d+ min \d\d s", before), before
    assert page.locator("#countdown .vigil-due-name").inner_text() == "acknowledge"
    page.wait_for_function("t => document.querySelector('#countdown .left').textContent !== t", arg=before, timeout=2500)

    # Someone acknowledges and posts from chat, with text that must stay text.
    actions.post_update(
        incident, "DB failover <b>done</b>; <img src=x onerror=alert(1)>", status="identified", actor=alice, source=Source.CHAT
    )
    page.wait_for_selector("#timeline-events li:has-text('DB failover')", timeout=5000)
    newest = page.locator("#timeline-events li").first
    assert "DB failover <b>done</b>; <img src=x onerror=alert(1)>" in newest.inner_text()
    assert newest.locator("img, b").count() == 0
    assert "Chat" in newest.inner_text()
    # The header followed: the status badge and the next deadline (now the next status update).
    page.wait_for_function("() => document.querySelector('#status-badge').textContent.trim() === 'Identified'")
    assert page.locator("#countdown .vigil-due-name").inner_text() == "status update"
    # Each event once, however many polls ran.
    page.wait_for_timeout(1500)
    assert page.locator("#timeline-events li:has-text('DB failover')").count() == 1
    page.goto("about:blank")  # stop polling before the test's database goes away


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_details_page_saves_and_goes_back_to_the_incident(live_server, watched):
    alice = UserFactory(username="alice", first_name="Alice", last_name="Ng", commander=True)
    incident = IncidentFactory(actor=alice, commander=alice, severity=severity("SEV-2"), title="Search is slow")
    page = watched
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/admin/incidents/incident/{incident.pk}/change/")
    page.click("#details-link")
    page.fill("[name=title]", "Search is slow in eu-west-1")
    page.fill("[name=regions]", "eu-west-1")
    page.click("input[name=_save]")
    page.wait_for_selector("#incident-title")
    assert page.url.endswith(f"/admin/incidents/incident/{incident.pk}/change/")
    assert "details were saved" in page.locator(".messagelist").inner_text()
    assert page.locator("#incident-title").inner_text() == f"{incident.reference} Search is slow in eu-west-1"
    assert "eu-west-1" in page.locator("#impact").inner_text()
    assert "title: Search is slow → Search is slow in eu-west-1" in page.locator("#timeline-events li").first.inner_text()
