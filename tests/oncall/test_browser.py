"""The on-call admin in a real browser (Debian's Chromium driven by Playwright): the override form
in the user's own zone, without Django's "behind server time" warning."""

import pytest

from tests.browser import BROWSER_TESTS, browser  # noqa: F401
from tests.oncall.factories import ScheduleFactory, UserFactory

pytestmark = BROWSER_TESTS

PASSWORD = "correct-horse-battery"


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


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
