"""A real browser for the browser tests: Debian's Chromium (/usr/bin/chromium) driven by
Playwright, whose package is only the driver (never `playwright install`).

A test module marks itself and imports the fixture::

    from tests.browser import BROWSER_TESTS, browser  # noqa: F401

    pytestmark = BROWSER_TESTS
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

BROWSER_TESTS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="needs Debian's chromium (make browser installs it); CI always runs this",
    ),
]


@pytest.fixture
def browser():
    # Playwright's sync API runs an event loop in this thread; Django's ORM (used by the
    # test itself, not by the live server thread) must be told that is fine.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


PASSWORD = "correct-horse-battery"  # every UserFactory user's


def log_in(page, live_server, username: str, *, then: str = "#user-tools") -> None:
    """Sign in through the admin's login form; wait for `then` on the page it lands on."""
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector(then)
