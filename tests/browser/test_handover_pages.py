"""The 转办 / 委派 / 加签 pages, 会签, 外出代理 and 批量分配评估专家组 in headless Chromium: Chinese only, accessible,
usable at phone width. Screenshots go to tests/artifacts/handover-*.png."""

import pytest
from django.urls import reverse

from certification.domain.roles import ensure_groups, grant_role
from certification.models import CoSignature, Role, Tier
from tests.browser.checks import check_page
from tests.browser.test_certification_ui import PASSWORD, Person
from tests.factories.workflow import build_world, person
from tests.workflows.driver import do, open_task, take
from tests.workflows.work_pages.helpers import another_cluster, to_approval, to_formal_review
from workflows.flows import CertificationFlow as F

pytestmark = [pytest.mark.browser]


@pytest.fixture
def world(transactional_db):
    ensure_groups()
    reverse("workflow:inbox")
    world = build_world(Tier.CLOSE_KNIT)
    world.colleague = person(Role.DISTRICT_LEADER, region=world.district, display_name="第二位分管领导")
    for user in (world.office, world.leader, world.colleague, world.lead, *world.evaluators):
        user.set_password(PASSWORD)
        user.save()
    world.application, process = to_approval(world)
    world.task = open_task(process, F.district_decision)
    take(world.leader, world.task)
    # A second application waiting for its evaluators, for the office's bulk page.
    _application, second = to_formal_review(world, *another_cluster(world))
    do(world.office, second, F.formal_review, {"decision": "pass"})
    return world


def test_handover_pages_read_in_chinese(browser, live_server, world):
    leader = Person(browser, live_server, world.leader, "leader")
    task_page = leader.open(F.district_decision.reverse("execute", args=[world.task.process_id, world.task.pk]))
    assert task_page.locator('[data-test="handover-links"]').inner_text().split() == ["转办", "委派", "加签"]
    check_page(task_page)
    leader.shot("handover-task-page")
    for name in ("task_transfer", "task_delegate", "task_cosign"):
        page = leader.open(reverse(f"work:{name}", args=[world.task.pk]))
        check_page(page)
        leader.shot(f"handover-{name}")
    page = leader.open(reverse("work:task_cosign", args=[world.task.pk]))
    page.select_option("select[name=receiver]", str(world.colleague.pk))
    page.fill("textarea[name=reason]", "涉及重大事项，请会签")
    with page.expect_navigation():
        page.get_by_role("button", name="加签", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert "/execute/" in page.url
    leader.shot("handover-after-cosign")
    assert CoSignature.objects.filter(signer=world.colleague).count() == 1

    page = leader.open(reverse("work:absences"))
    check_page(page)
    leader.shot("handover-absences")

    colleague = Person(browser, live_server, world.colleague, "colleague")
    page = colleague.open(reverse("work:cosignatures"))
    check_page(page)
    colleague.shot("handover-cosignatures")
    page.get_by_label("同意", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="提交会签").click()
    page.wait_for_load_state("networkidle")
    assert CoSignature.objects.get(signer=world.colleague).status == "agreed"

    office = Person(browser, live_server, world.office, "office")
    page = office.open(reverse("work:bulk_panel"))
    check_page(page)
    office.shot("handover-bulk-panel")
    assert "共 1 条" in page.inner_text("body")


def test_evaluator_leader_sees_no_handover_for_a_scoring_task(browser, live_server, world):
    grant_role(world.evaluators[3], Role.DISTRICT_LEADER, region=world.district)
    page = Person(browser, live_server, world.evaluators[3], "evaluator-leader").open(reverse("work:absences"))
    check_page(page)
