"""Claiming a task from the office desk in headless Chromium: the message and the breadcrumbs of the task page name
the application and the task in Chinese, with no raw number. Screenshot: tests/artifacts/task-claimed.png."""

import re

import pytest

from tests.browser.checks import check_page
from tests.browser.test_certification_ui import Person

pytestmark = [pytest.mark.browser]


def test_claimed_task_page_names_application_and_task(browser, live_server, formal_review_world):
    world = formal_review_world
    office = Person(browser, live_server, world.office, "office")
    office.open("/work/office/")

    office.take("formal_review")

    page = office.page
    label = f"{world.cluster.name} 紧密型申报"
    assert f"已认领：{label} · 形式审查" in page.locator("body").inner_text()
    crumbs = page.locator(".vf-card__breadcrumbs").first.inner_text()
    assert label in crumbs and "形式审查" in crumbs
    assert not re.search(r"#\d", crumbs), crumbs
    check_page(page)
    office.shot("task-claimed")
    office.context.close()
