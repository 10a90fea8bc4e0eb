"""The on-call admin in a real browser (Debian's Chromium driven by Playwright): the override form
in the user's own zone, without Django's "behind server time" warning."""

import pytest

from tests.browser import BROWSER_TESTS, browser, log_in  # noqa: F401
from tests.oncall.factories import ScheduleFactory, UserFactory

pytestmark = BROWSER_TESTS




@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("browser_zone", ["Europe/Berlin", "Europe/London"])
def test_a_berlin_user_sees_no_server_time_warning_on_the_override_form(live_server, browser, browser_zone):
    # In London the browser is an hour behind the user's Vigil zone: Django's widgets said so.
    UserFactory(username="grete", manager=True, time_zone="Europe/Berlin")
    schedule = ScheduleFactory(name="Primary", slug="primary", time_zone="Europe/London")
    context = browser.new_context(timezone_id=browser_zone)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server, "grete")
    page.goto(f"{live_server.url}/admin/oncall/override/add/?schedule={schedule.pk}")
    page.wait_for_selector("#id_start_0")
    page.wait_for_load_state("load")
    body = page.inner_text("body")
    assert "Times are in your time zone (Europe/Berlin)." in body
    assert "server time" not in body
    assert not any(warning.is_visible() for warning in page.locator(".timezonewarning").all())
    # The date shortcuts still work: "Today" fills today's date in the field.
    page.locator("#id_start_0").locator("xpath=..").get_by_role("link", name="Today").click()
    assert page.input_value("#id_start_0")
    context.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_alice_offers_her_night_and_bob_takes_it_in_the_admin(live_server, browser):
    import datetime as dt

    from oncall.models import CoverRequest, Override
    from oncall.schedules import on_call_at
    from tests.oncall.factories import LayerFactory

    alice = UserFactory(username="alice", first_name="Alice", last_name="Chen", responder=True, time_zone="Europe/London")
    bob = UserFactory(username="bob", first_name="Bob", last_name="Okafor", responder=True, time_zone="Europe/London")
    schedule = ScheduleFactory(name="Primary", slug="primary", time_zone="Europe/London")
    # A daily rotation: Alice from today's 09:00 (London), so her row is one of the first.
    today = dt.datetime.now(dt.timezone.utc).date()
    LayerFactory(schedule=schedule, name="Daily", priority=1, rotation="daily", start_date=today - dt.timedelta(days=2), members=[alice, bob])

    context = browser.new_context(timezone_id="Europe/London")
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/admin/oncall/schedule/{schedule.pk}/change/")
    page.get_by_role("link", name="Ask for cover").first.click()
    page.fill("[name=reason]", "Dentist")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("text=Cover asked of everyone on Primary")
    assert "has nobody on call" in page.inner_text("#content")
    request = CoverRequest.objects.get()
    assert request.user == alice and request.status == "pending"
    context.close()

    context = browser.new_context(timezone_id="Europe/London")
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server, "bob")
    page.goto(f"{live_server.url}/admin/oncall/coverrequest/")
    page.get_by_role("link", name="Alice Chen").first.click()
    page.get_by_role("button", name="Take this shift").click()
    page.wait_for_selector("text=You are on call for this window now")
    override = Override.objects.get()
    assert override.user == bob and on_call_at(schedule, override.start + (override.end - override.start) / 2) == [bob]
    context.close()
