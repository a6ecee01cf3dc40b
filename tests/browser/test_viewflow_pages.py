"""Viewflow's own pages, as the district office reaches them from a task, in headless Chromium: every one names the
application in words where viewflow shows "#process/task" numbers, a process opens as its application's dossier,
and a task's side panel says where the process stands without calling it a task waiting to be taken.
Screenshots: tests/artifacts/viewflow-*.png."""

import re

import pytest
from django.urls import reverse

from tests.browser.checks import check_page
from tests.browser.test_certification_ui import Person
from workflows.flows import CertificationFlow as F

pytestmark = [pytest.mark.browser]

RAW_NUMBER = re.compile(r"#\d|\b\d+/\d+\b")


def facts_of(page):
    """The task's facts table at the head of its page, as {label: value}."""
    rows = page.locator("[data-test=task-facts] tr")
    return {rows.nth(i).locator("th").inner_text(): rows.nth(i).locator("td").inner_text() for i in range(rows.count())}


def test_viewflow_pages_name_the_application(browser, live_server, formal_review_world):
    world = formal_review_world
    office = Person(browser, live_server, world.office, "office")
    label = f"{world.cluster.name} 紧密型申报"
    # Viewflow's "take this task" confirmation, reached from a task's own page.
    task = world.process.task_set.get(flow_task=F.formal_review)
    page = office.open(F.formal_review.reverse("assign", args=[world.process.pk, task.pk]))
    crumbs = page.locator(".vf-card__breadcrumbs").inner_text()
    assert label in crumbs and "形式审查" in crumbs and not RAW_NUMBER.search(crumbs), crumbs
    # Its body says what the task is before anyone takes it (viewflow's Material Web fields showed nothing), in words:
    # never the permission's codename.
    facts = facts_of(page)
    assert facts["办理人"] == "尚未认领" and facts["角色"] == "区教育局学区集团办", facts
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}（.+）", facts["截止日期"]), facts
    assert page.locator("[data-test=assign-note]").is_visible()
    assert "act_as_" not in page.content()
    check_page(page)
    office.shot("viewflow-assign")

    office.open("/work/office/")
    office.take("formal_review")
    execute_url = page.url
    # The task's detail page: who holds it, that it is not finished.
    office.open(F.formal_review.reverse("detail", args=[world.process.pk, task.pk]))
    facts = facts_of(page)
    assert facts["办理人"] == str(world.office) and facts["完成时间"] == "—", facts
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", facts["创建时间"]), facts
    check_page(page)
    office.shot("viewflow-task-detail")
    office.open(execute_url.split(live_server.url)[1])

    # The task's side panel: the application, linked to its dossier, and the process in progress (办理中).
    panel = page.locator(".vf-card", has=page.locator("[data-test=process-status]"))
    assert panel.locator("[data-test=process-status]").inner_text() == "办理中"
    assert panel.get_by_role("link", name=label).get_attribute("href") == reverse(
        "work:application_detail", args=[world.application.pk]
    )
    assert "待认领" not in panel.inner_text()
    check_page(page)
    office.shot("viewflow-task")

    # The inbox lists the task under its application's name, linked to the task, with no number.
    office.open(reverse("workflow:inbox"))
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    first = rows.first.locator("td").first
    assert first.inner_text() == label
    assert (
        first.locator("a").get_attribute("href").endswith(execute_url.split(live_server.url)[1].replace("execute/", ""))
    )
    assert not RAW_NUMBER.search(page.locator("table").inner_text())
    # The flow's menu: its three lists, and no "看板" entry that only led back to the inbox.
    menu = page.locator(".vf-page__menu").inner_text()
    assert "待办" in menu and "可认领" in menu and "已办" in menu
    assert "看板" not in menu.replace("统计看板", "")
    check_page(page)
    office.shot("viewflow-inbox")

    # The breadcrumb's application opens the dossier; so does viewflow's own process address.
    office.open(execute_url.split(live_server.url)[1])
    page.locator(".vf-card__breadcrumbs").get_by_role("link", name=label).click()
    page.wait_for_url(lambda url: "/work/applications/" in url)
    office.open(reverse("workflow:process_detail", args=[world.process.pk]))
    assert page.url.endswith(reverse("work:application_detail", args=[world.application.pk]))
    check_page(page)
    office.context.close()
