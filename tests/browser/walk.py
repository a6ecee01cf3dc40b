"""The ladder walk's tools: a person in a browser who only clicks what they see, counted.

Every page the walk visits passes through `check_page(page)`: the one hook where the page checks (visible text,
axe-core, 390 px width) are wired in. Clicks and page loads are counted per person, for the click budget.
"""

from collections import Counter
from pathlib import Path

from django.conf import settings

ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts" / "walk"
PASSWORD = "correct-horse-battery"

# What must never reach a person's screen: the generic Material title, Django's debug pages, an English refusal.
FORBIDDEN = ("Django Material", "Using the URLconf", "Page not found", "Forbidden", "Server Error", "Traceback")


def check_page(page):
    """Every visited page passes here. Today: the frame is there and no debug or English error text shows.
    The visible-text, axe-core and 390 px checks (tests/browser/checks.py) are called from here when present."""
    text = page.locator("body").inner_text()
    for word in FORBIDDEN:
        assert word not in text, f"{word!r} on {page.url}"
    assert page.locator(".mdc-top-app-bar__title").count() == 1, f"no site frame on {page.url}"
    try:
        from tests.browser import checks
    except ImportError:
        return
    for name in ("check_visible_text", "check_axe", "check_phone_width"):
        check = getattr(checks, name, None)
        if check is not None:
            check(page)


class Walker:
    """One signed-in person. `click` is the only way on: it counts, waits for the next page, checks and shoots it."""

    clicks = Counter()
    loads = Counter()

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
            self.seen()
        else:
            locator.click()

    def act(self):
        """A field filled or a box ticked: one action of the person, counted like a click."""
        Walker.clicks.update([self.name])

    def seen(self):
        Walker.loads.update([self.name])
        check_page(self.page)
        self.shots += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-{self.shots:02d}.png"), full_page=True)

    def link(self, name, **kwargs):
        return self.page.get_by_role("link", name=name, **kwargs).first

    def button(self, name, **kwargs):
        return self.page.get_by_role("button", name=name, **kwargs).first

    def task(self, node):
        """The button or link of the person's open task of `node` on the page they are on."""
        self.click(self.page.locator(f"[data-task={node}]").first)

    def close(self):
        self.context.close()


def budget():
    """The click budget as lines: person, clicks, page loads."""
    return [f"{name}: {Walker.clicks[name]} clicks, {Walker.loads[name]} page loads" for name in sorted(Walker.clicks)]
