"""The ladder walk's tools: a person in a browser who only clicks what they see, counted.

Every page the walk visits passes through `check_page(page)`: the one hook where the page checks (visible text,
axe-core, 390 px width) are wired in. Clicks and page loads are counted per person, for the click budget.
"""

import warnings
from collections import Counter
from pathlib import Path

from django.conf import settings

from tests.browser import checks

ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts" / "walk"
PASSWORD = "correct-horse-battery"
# One capture's wait. A capture that has not come back by then is stalled, not slow (see `shoot`).
SCREENSHOT_TIMEOUT_MS = 30_000

# What must never reach a person's screen: the generic Material title, Django's debug pages, an English refusal.
FORBIDDEN = ("Django Material", "Using the URLconf", "Page not found", "Forbidden", "Server Error", "Traceback")


def check_page(page):
    """Every visited page passes here: the site frame is there, no debug or English error text shows, and the
    checks every browser test shares (tests/browser/checks.py: visible text, axe-core, 390 px) pass."""
    text = page.locator("body").inner_text()
    for word in FORBIDDEN:
        assert word not in text, f"{word!r} on {page.url}"
    assert page.locator(".mdc-top-app-bar__title").count() == 1, f"no site frame on {page.url}"
    checks.check_page(page)


def shoot(page, path):
    """A full-page capture of the page a person is on, saved for people to look at: an artifact, never a check.

    The walk keeps one browser window per person open at once, and headless Chromium can stall a capture of one of
    several open pages, waiting for a frame that never comes (reported upstream: puppeteer issue 12712). Twice in CI
    the capture, with the page rendered and checked, ran past 20 s and then past 90 s. So the person's window is
    brought to the front first, as a person looks at the page they are on, and again before a single retry. If even
    that stalls, the run goes on with a warning: a missing picture is no fault of the product's.
    """
    # Imported here, as tests/conftest.py's browser fixture does: without playwright, browser tests skip, not fail.
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in (1, 2):
        page.bring_to_front()
        try:
            page.screenshot(path=str(path), full_page=True, timeout=SCREENSHOT_TIMEOUT_MS)
            return
        except PlaywrightTimeout:
            if attempt == 2:
                warnings.warn(f"no screenshot of {page.url} ({path.name}): the capture stalled twice", stacklevel=2)


class Walker:
    """One signed-in person. `click` is the only way on: it counts, waits for the next page, checks and shoots it."""

    clicks = Counter()
    loads = Counter()
    # Every page load of anyone; a person's page is fresh while nobody has loaded a page since theirs.
    moments = 0

    def __init__(self, browser, live_server, user, name):
        self.name = name
        self.shots = 0
        self.context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        self.context.set_default_timeout(20_000)
        self.page = self.context.new_page()
        # The login page is the only address typed.
        self.page.goto(f"{live_server.url}/accounts/login/")
        self.page.fill("input[name=username]", user.username)
        self.page.fill("input[name=password]", PASSWORD)
        self.click(self.page.locator("form button[type=submit], form input[type=submit]").first)

    def click(self, locator, *, navigates=True):
        Walker.clicks.update([self.name])
        if navigates:
            with self.page.expect_navigation():
                locator.click()
            self.page.wait_for_load_state("networkidle")
            # Turbo marks the page busy until it has rendered the new body (after a new stylesheet loads, say).
            self.page.wait_for_function("() => !document.documentElement.hasAttribute('aria-busy')")
            self.seen()
        else:
            locator.click()

    def act(self):
        """A field filled or a box ticked: one action of the person, counted like a click."""
        Walker.clicks.update([self.name])

    def seen(self):
        Walker.moments += 1
        self.moment = Walker.moments
        Walker.loads.update([self.name])
        check_page(self.page)
        self.shots += 1
        shoot(self.page, ARTIFACTS / f"{self.name}-{self.shots:02d}.png")

    def link(self, name, **kwargs):
        return self.page.get_by_role("link", name=name, **kwargs).first

    def button(self, name, **kwargs):
        return self.page.get_by_role("button", name=name, **kwargs).first

    def go(self, title):
        """To one of the person's pages by the menu, unless they are on it and nobody has acted since it loaded
        (then it shows what it would after a click)."""
        item = self.page.locator(".vf-page__menu-list-item", has_text=title).first
        current = "mdc-list-item--activated" in (item.get_attribute("class") or "")
        if not (current and self.moment == Walker.moments):
            self.click(item)

    def task(self, node):
        """The button or link of the person's open task of `node` on the page they are on."""
        self.click(self.page.locator(f"[data-task={node}]").first)

    def close(self):
        self.context.close()


def budget():
    """The click budget as lines: person, clicks, page loads."""
    return [f"{name}: {Walker.clicks[name]} clicks, {Walker.loads[name]} page loads" for name in sorted(Walker.clicks)]
