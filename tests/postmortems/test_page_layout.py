"""The post-mortem page on a 1366 px laptop and a 375 px phone, in a real browser, with a long
title, long five-whys answers and a 60-row timeline: no sideways scrolling, the title clear of
the buttons, every answer on screen, and the timeline a compact table rather than a wall of
date pickers."""

from datetime import timedelta

import pytest

from postmortems.models import PostMortemTimelineEntry
from tests.browser import BROWSER_TESTS, browser  # noqa: F401
from tests.incidents.factories import IncidentFactory, ServiceFactory, severity
from tests.layout import LAPTOP, PHONE, assert_on_screen, open_as, overlaps, page_overflow
from tests.oncall.factories import UserFactory
from tests.postmortems.factories import WhyFactory

pytestmark = BROWSER_TESTS

TITLE = "Customers cannot sign in: Auth Service returning 503 after the identity provider certificate rotation"
ANSWER = (
    "Because the certificate-rotation job renewed the identity provider's signing certificate but the Auth "
    "Service caches the JWKS for 24 hours, so every token signed with the new key failed validation until "
    "the cache expired; nobody owned the cache TTL (AUTH_JWKS_CACHE_TTL_SECONDS_DEFAULT_86400) since 2023."
)


def _postmortem(ic):
    service = ServiceFactory(name="Customer Identity and Single Sign-On Service", slug="identity")
    incident = IncidentFactory(
        actor=ic, commander=ic, services=[service], severity=severity("SEV-2"), title=TITLE, resolved=True
    )
    postmortem = incident.postmortem
    start = incident.declared_at
    have = postmortem.timeline_entries.count()
    PostMortemTimelineEntry.objects.bulk_create(
        PostMortemTimelineEntry(
            postmortem=postmortem, occurred_at=start + timedelta(minutes=i), position=have + i,
            text=f"Escalated to level {i % 3 + 1} – on-call schedule Platform primary: paging Bob Okafor (SMS, email, chat)",
        )
        for i in range(1, 61 - have)
    )
    for position in range(1, 6):
        WhyFactory(postmortem=postmortem, position=position, question=f"Why did step {position} happen?", answer=ANSWER)
    return postmortem


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366px", "375px"])
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_post_mortem_page_fits_with_a_long_timeline(live_server, browser, viewport):
    ic = UserFactory(username="alice", first_name="Alice", last_name="Chen", commander=True)
    postmortem = _postmortem(ic)
    assert postmortem.timeline_entries.count() == 60

    page = open_as(browser, live_server, "alice", viewport)
    page.goto(f"{live_server.url}/admin/postmortems/postmortem/{postmortem.pk}/change/")

    assert page_overflow(page) <= 0
    assert_on_screen(page.locator("#content h1"))
    assert_on_screen(page.locator("#content h2").first)
    assert page.locator("#content h2").first.inner_text() == TITLE
    assert not overlaps(page, "#content h2", ".object-tools")
    assert_on_screen(page.locator("#whys-group tr.has_original textarea[name$='-answer']"))
    assert page.locator("#whys-group tr.has_original textarea[name$='-answer']").first.input_value() == ANSWER
    assert_on_screen(page.locator(".vigil-timeline-entries td.field-text p"))
    # 60 rows of two lines each: about 50 px a row (the editable inline with date and time
    # pickers took 10,800 px), and the page no longer a scroll of ten screens of timeline.
    timeline = page.locator("#timeline_entries-group").bounding_box()["height"]
    if viewport == LAPTOP:
        assert timeline < 3200
        assert page.evaluate("() => document.documentElement.scrollHeight") < 6500
