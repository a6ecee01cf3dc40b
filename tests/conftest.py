import os
from importlib import import_module
from pathlib import Path

import pytest

from certification.domain.workdays import forget_calendar
from tests.factories import ClusterFactory, UserFactory, published_standard


@pytest.fixture(autouse=True)
def audit_anchor_dir(settings, tmp_path_factory):
    """Each test's own anchor storage: anchor files outlive the database rows a test rolls back."""
    location = tmp_path_factory.mktemp("audit-anchors")
    settings.STORAGES = {
        **settings.STORAGES,
        "audit_anchors": {**settings.STORAGES["audit_anchors"], "OPTIONS": {"location": location}},
    }
    return location


DATABASE_FIXTURES = {"db", "transactional_db", "live_server"}


@pytest.fixture(autouse=True)
def seeded_holidays(request):
    """The 2026 holidays of migration 0028, present in every test that uses the database.

    They are data, not schema: a transactional test ends by emptying every table. Run alone, pytest-django puts
    those tests last; two xdist workers each run whole files in the order they are handed them, so a file after a
    transactional one on the same worker would find the calendar empty (and count deadlines over the holidays
    wrongly). Put back here when missing: one query a test when they are there.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not DATABASE_FIXTURES & set(request.fixturenames):
        return
    transactional = (marker is not None and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.apps import apps

    from certification.models import CalendarDay

    if not CalendarDay.objects.filter(date__year=2026).exists():
        import_module("certification.migrations.0028_seed_2026_china_holidays").seed(apps, None)


@pytest.fixture(autouse=True)
def fresh_holiday_calendar():
    """Working days are read from a cached copy of the calendar: a rolled-back test's rows must not outlive it."""
    forget_calendar()
    yield
    forget_calendar()


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: keys built from row ids (computed indicators) must not outlive the
    rows a test rolls back."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def cluster(db):
    return ClusterFactory()


@pytest.fixture
def close_knit_standard(db):
    return published_standard()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium through playwright, one per test module (its event loop lives in this thread)."""
    # In CI the browser test must run: a missing browser or package fails it (.ci/run installs both first).
    # On a developer's machine without them it is skipped with the command that installs them.
    missing = []
    try:
        import playwright.sync_api as playwright_api
    except ImportError:
        missing.append("the playwright package")
    if not Path(CHROMIUM).exists():
        missing.append(CHROMIUM)
    if missing:
        message = f"{' and '.join(missing)} missing: run .ci/install-browser"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API keeps an event loop running in this thread; the test's own ORM calls are synchronous
    # and safe, so Django's guard against ORM use from async code is lifted for the browser tests only.
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    try:
        with playwright_api.sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield chromium
            chromium.close()
    finally:
        monkeypatch.undo()
