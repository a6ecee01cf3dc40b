"""The due dates in the office's queue and the administrators' holiday calendar, in headless Chromium: Chinese only,
accessible, usable at 390 px (`check_page`). Screenshots go to tests/artifacts/deadline-*.png."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from certification.domain.calendar import save_calendar_days
from certification.domain.roles import ensure_groups
from certification.models import CalendarDay, Tier
from certification.models.standard_rules import DueStep
from tests.browser.checks import check_page
from tests.browser.test_certification_ui import PASSWORD, Person
from tests.factories.standards import administrator
from tests.factories.workflow import build_world
from tests.workflows.driver import open_task
from tests.workflows.work_pages.helpers import another_cluster, to_formal_review
from workflows.flows import CertificationFlow as F
from workflows.models import TaskDeadline

pytestmark = [pytest.mark.browser]


@pytest.fixture
def world(transactional_db):
    ensure_groups()
    reverse("workflow:inbox")
    world = build_world(Tier.CLOSE_KNIT)
    world.office.set_password(PASSWORD)
    world.office.save()
    to_formal_review(world)
    _second, second_process = to_formal_review(world, *another_cluster(world))
    late = open_task(second_process, F.formal_review)
    deadline = TaskDeadline.objects.get(task=late)
    deadline.due = timezone.localdate() - timedelta(days=2)
    deadline.save(update_fields=["due"])  # saved: the office desk's queue entry follows the save
    return world


@pytest.mark.parametrize(("path", "label"), [("/work/office/?order=due", "office"), ("/workflow/queue/", "queue")])
def test_due_dates_read_in_chinese(browser, live_server, world, path, label):
    person = Person(browser, live_server, world.office, "office")
    page = person.open(path)
    person.shot(f"deadline-{label}")
    text = page.locator("body").inner_text()

    assert "截止日期" in text
    assert "已逾期 2 天" in text
    assert "个工作日" in text
    check_page(page)
    person.close()


def test_holiday_calendar_page_reads_in_chinese(browser, live_server, transactional_db):
    admin = administrator()
    admin.set_password(PASSWORD)
    admin.save()
    # A transactional test may start from flushed tables: the rows shown are (re)written as an administrator would.
    save_calendar_days(
        [(date(2026, 10, day), CalendarDay.Kind.OFF, "国庆节") for day in range(1, 8)]
        + [(date(2026, 10, 10), CalendarDay.Kind.WORKDAY, "国庆节调休上班")],
        by=admin,
    )
    person = Person(browser, live_server, admin, "admin")
    page = person.open("/calendar/?year=2026")
    person.shot("deadline-calendar")
    text = page.locator("body").inner_text()

    assert "2026 年节假日日历" in text
    assert f"共 {CalendarDay.objects.filter(date__year=2026).count()} 条" in text
    row = page.locator('tr[data-date="2026-10-10"]').inner_text().split()
    assert row == ["2026-10-10", "星期六", "调休上班日", "国庆节调休上班", "删除"]
    check_page(page)
    person.close()


def test_standard_periods_and_their_source_read_in_chinese(browser, live_server, transactional_db):
    ensure_groups()
    reverse("workflow:inbox")
    world = build_world(Tier.CLOSE_KNIT, due_working_days={"formal_review": 7, "review_conclude": 12})
    application, _process = to_formal_review(world)
    admin = administrator()
    for user in (admin, world.office):
        user.set_password(PASSWORD)
        user.save()

    person = Person(browser, live_server, admin, "admin")
    page = person.open(reverse("standards_excel"))
    page.locator("[data-test=due-periods] summary").first.click()
    person.shot("deadline-standard-periods")
    periods = page.locator("[data-test=due-period]").all_inner_texts()
    settings_rows = page.locator("[data-test=settings-period]").count()
    check_page(page)
    person.close()
    office = Person(browser, live_server, world.office, "office")
    page = office.open(reverse("work:application_detail", args=[application.pk]))
    office.shot("deadline-period-source")
    due = page.locator("[data-test=task-due]").first.inner_text()
    check_page(page)
    office.close()

    assert periods == ["形式审查（7 个工作日）", "年度评估：作出评估结论（12 个工作日）"]
    # One row per step of the two flows (the yearly review's panel steps included).
    assert settings_rows == len(DueStep.values) == 18
    assert "期限依据：标准" in due
