"""The paginated work lists in headless Chromium: the filter form and the pagination read in Chinese.

Screenshots of each list go to tests/artifacts/queue-*.png.
"""

import pytest
from django.urls import reverse

from certification.domain.roles import ensure_groups
from certification.models import Tier
from tests.browser.test_certification_ui import Person
from tests.factories.bulk import clone_applications
from tests.factories.workflow import build_world
from tests.workflows.work_pages.helpers import to_formal_review

pytestmark = [pytest.mark.browser]

ENGLISH = ("Search", "District", "Filter", "Sort by", "Previous", "Next", "descending", "Page ", "All", "Brief", " of ")


@pytest.fixture
def world(transactional_db):
    ensure_groups()
    reverse("workflow:inbox")
    world = build_world(Tier.CLOSE_KNIT)
    for user in (world.office, world.leader):
        user.set_password("correct-horse-battery")
        user.save()
    application, _process = to_formal_review(world)
    clone_applications(application, 40)
    return world


@pytest.mark.parametrize(
    ("who", "path", "label"),
    [
        ("office", "/work/office/", "office"),
        ("office", "/work/applications/", "application-list"),
        ("office", "/workflow/queue/", "viewflow-queue"),
    ],
)
def test_queue_page_filters_and_pagination_read_in_chinese(browser, live_server, world, who, path, label):
    person = Person(browser, live_server, getattr(world, who), who)
    page = person.open(f"{path}?page=2")
    person.shot(f"queue-{label}")
    text = page.locator("main, body").first.inner_text()
    for word in ENGLISH:
        assert word not in text, word
    if path.startswith("/work/"):
        assert "共 41 条" in text
        assert "第 2 页" in text or "2 /" in text
        for label_zh in ("搜索", "区", "等级", "状态", "排序", "筛选"):
            assert label_zh in text
    person.close()
