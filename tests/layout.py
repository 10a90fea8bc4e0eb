"""What the layout tests ask of a page in a real browser: that it fits the window, and that a
text a person needs is on screen — inside the viewport and not cut off by a scrolling box."""

from __future__ import annotations

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 375, "height": 800}
PASSWORD = "correct-horse-battery"  # the factories' password


def open_as(browser, live_server, username: str, viewport: dict):
    """A signed-in page at that window size (a phone is a mobile context, laid out as phones do)."""
    context = browser.new_context(viewport=viewport, is_mobile=viewport["width"] < 500, timezone_id="Europe/London")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    return page


def page_overflow(page) -> int:
    """How many pixels the page is wider than its window (0: no sideways scrolling)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


_CUT_OFF = """(el) => {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return 'not shown';
  if (r.left < -1 || r.right > window.innerWidth + 1) return `outside the window: ${r.left}–${r.right}`;
  for (let box = el.parentElement; box; box = box.parentElement) {
    const style = getComputedStyle(box);
    if (style.overflowX !== 'visible') {
      const b = box.getBoundingClientRect();
      if (r.left < b.left - 1 || r.right > b.right + 1) return `cut off by ${box.tagName}.${box.className}`;
    }
  }
  return '';
}"""


def assert_on_screen(locator) -> None:
    """Every element `locator` matches is inside the window's width and not clipped by a box."""
    assert locator.count() > 0, f"nothing matches {locator}"
    for element in locator.all():
        problem = element.evaluate(_CUT_OFF)
        assert not problem, f"{element.inner_text()[:60]!r}: {problem}"


def overlaps(page, first: str, second: str) -> bool:
    """Whether the boxes of two elements (CSS selectors) overlap on the page."""
    return page.evaluate(
        """([a, b]) => { const r = document.querySelector(a).getBoundingClientRect(),
                               s = document.querySelector(b).getBoundingClientRect();
           return r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom; }""",
        [first, second],
    )
