"""The ladder walk's tools: a person in a browser who only clicks what they see, counted.

Every page the walk visits passes through `check_page(page)`: the one hook where the page checks (visible text,
axe-core, 390 px width) are wired in. Clicks and page loads are counted per person, for the click budget.
"""

from collections import Counter
from pathlib import Path

from django.conf import settings

from tests.browser import checks

ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts" / "walk"
PASSWORD = "correct-horse-battery"
SCREENSHOT_TIMEOUT_MS = 90_000

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
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        # A full-page capture is an artifact for people to look at, not a check: on a loaded 2-core CI machine it once
        # took longer than the 20 s that every page action may take, after the page had rendered and been checked.
        self.page.screenshot(
            path=str(ARTIFACTS / f"{self.name}-{self.shots:02d}.png"), full_page=True, timeout=SCREENSHOT_TIMEOUT_MS
        )

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
