"""One 紧密型 certification driven through the UI in headless Chromium: lead, office, three evaluators, leader.

Every step is a click or a form a person fills in; the only thing the test does behind the UI is let the 公示
period pass (it moves the timer's due time into the past, as the calendar would). Each person's main page is saved
as a screenshot under tests/artifacts/.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from certification.domain.roles import ensure_groups
from certification.models import Application, Certificate, Tier
from tests.factories.evidence import pdf_bytes
from tests.factories.workflow import build_world
from workflows.flows import CertificationFlow as F

pytestmark = [pytest.mark.browser]

ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts"
PASSWORD = "correct-horse-battery"
FULL_MARKS = {"A1": "4", "A2": "6"}


class Person:
    """One signed-in browser session."""

    def __init__(self, browser, live_server, user, name):
        self.user, self.name, self.base = user, name, live_server.url
        self.context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        self.context.set_default_timeout(20_000)
        self.page = self.context.new_page()
        self.page.goto(f"{self.base}/accounts/login/")
        self.page.fill("input[name=username]", user.username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.locator("form button[type=submit], form input[type=submit]").first.click()
        self.page.wait_for_url(lambda url: "/accounts/login/" not in url)

    def open(self, path):
        self.page.goto(f"{self.base}{path}")
        self.page.wait_for_load_state("networkidle")
        return self.page

    def shot(self, label):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_load_state("networkidle")
        self.page.screenshot(path=str(ARTIFACTS / f"{label}.png"), full_page=True)

    def take(self, task_name):
        """Click the work page's button for a task of `task_name` (taking it from the queue, or opening it)."""
        button = self.page.locator(f"[data-task={task_name}]").first
        button.click()
        self.page.wait_for_url(lambda url: "/execute/" in url)
        self.page.wait_for_load_state("networkidle")

    def submit(self, label=None):
        """Press the task form's main button (or the button called `label`) and wait for the next page."""
        if label is None:
            button = self.page.locator("form.xq-task-form button[type=submit]").first
        else:
            button = self.page.get_by_role("button", name=label, exact=True).first
        try:
            button.wait_for()
        except Exception:
            self.shot(f"failed-{self.name}-no-{label}-button")
            raise
        with self.page.expect_navigation():
            button.click()
        self.page.wait_for_load_state("networkidle")

    def close(self):
        self.context.close()


@pytest.fixture
def world(transactional_db):
    ensure_groups()
    world = build_world(Tier.CLOSE_KNIT)
    world.district.name = "徐汇区"
    world.district.save(update_fields=["name"])
    world.cluster.name = "天平-湖南学区"
    world.cluster.save(update_fields=["name"])
    return world


def test_close_knit_certification_through_the_ui(browser, live_server, world):
    lead = Person(browser, live_server, world.lead, "lead")

    # The lead: 我的申报 offers 紧密型; open the application.
    page = lead.open("/work/")
    assert "/work/mine/" in page.url
    assert page.locator("[data-test=apply]").inner_text().strip() == "申报紧密型"
    lead.shot("1-lead-my-applications-before")
    page.locator("[data-test=apply]").click()
    page.wait_for_url(lambda url: "/workflow/start/" in url)
    page.select_option("select[name=cluster]", str(world.cluster.pk))
    page.select_option("select[name=target_tier]", Tier.CLOSE_KNIT.value)
    lead.submit("提交申报")
    application = Application.objects.get(cluster=world.cluster)
    assert f"/work/applications/{application.pk}/" in page.url

    # Evidence: upload one PDF per required item, stage by stage, from the stage's materials page.
    for stage in ("basic", "process", "outcome"):
        page = lead.open(f"/applications/{application.pk}/evidence/{stage}/")
        for form in page.locator("form.xq-ev__form").all():
            code = form.locator("xpath=ancestor::section[@data-requirement]").get_attribute("data-requirement")
            form.locator("input[type=file]").set_input_files(
                {"name": f"{code}.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes(code)}
            )
            with page.expect_navigation():
                form.locator("button[type=submit]").click()
            page.wait_for_load_state("networkidle")
    page = lead.open("/work/mine/")
    assert page.locator("text=缺少").count() == 0
    for node in ("submit_basic", "submit_process", "submit_outcome"):
        lead.open("/work/mine/")
        lead.take(node)
        lead.submit()
    application.refresh_from_db()
    assert application.status == Application.Status.FORMAL_REVIEW
    lead.open("/work/mine/")
    lead.shot("2-lead-my-applications-submitted")

    # The district office: its desk lists the formal review; pass it, then assign three evaluators.
    office = Person(browser, live_server, world.office, "office")
    page = office.open("/work/")
    assert "/work/office/" in page.url
    office.shot("3-office-desk")
    office.take("formal_review")
    page.check("input[name=decision][value=pass]")
    page.fill("textarea[name=comment]", "材料齐全，形式审查通过。")
    office.submit()
    office.open("/work/office/")
    office.take("assign_evaluators")
    evaluators = world.evaluators[:3]
    for evaluator in evaluators:
        page.check(f"input[name=evaluators][value='{evaluator.pk}']")
    page.select_option("select[name=panel_lead]", str(evaluators[0].pk))
    office.submit()
    application.refresh_from_db()
    assert application.status == Application.Status.SCORING

    # Three evaluators, each from their own 评审任务 page.
    for number, evaluator in enumerate(evaluators, 1):
        expert = Person(browser, live_server, evaluator, f"evaluator{number}")
        page = expert.open("/work/")
        assert "/work/reviews/" in page.url
        expert.shot(f"4-evaluator-{number}-review-tasks")
        expert.take("score")
        for indicator in world.standard.indicators():
            page.fill(f"[name=value_{indicator.pk}]", FULL_MARKS[indicator.code])
        expert.submit("提交评分表")
        expert.close()
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVAL

    # The district leader: 审批队列 with the figures; open the dossier, then decide.
    leader = Person(browser, live_server, world.leader, "leader")
    page = leader.open("/work/")
    assert "/work/approvals/" in page.url
    row = page.locator(f"tr[data-application='{application.pk}']")
    assert "天平-湖南学区" in row.inner_text()
    assert "无分歧" in row.inner_text()
    leader.shot("5-leader-approval-queue")
    row.get_by_role("link", name="查看申报档案").click()
    page.wait_for_url(lambda url: f"/work/applications/{application.pk}/" in url)
    assert page.locator("[data-test=chart] svg").count() == 1
    leader.shot("6-leader-dossier")
    leader.open("/work/approvals/")
    leader.take("district_decision")
    page.check("input[name=decision][value=approve]")
    page.fill("textarea[name=comment]", "同意认定为紧密型学区。")
    leader.submit()
    application.refresh_from_db()
    assert application.status == Application.Status.PUBLICITY

    # 公示 passes (the calendar's part), then the office processes due timers from its desk.
    Task.objects.filter(
        process__artifact_object_id=application.pk, flow_task=F.publicity, status=STATUS.SCHEDULED
    ).update(scheduled=timezone.now() - timedelta(seconds=1))
    page = office.open("/work/office/")
    with page.expect_navigation():
        page.locator("[data-test=fire-timers]").click()
    page.wait_for_load_state("networkidle")
    application.refresh_from_db()
    assert application.status == Application.Status.CERTIFIED
    certificate = Certificate.objects.get(application=application)

    # The lead sees the certificate on the dossier, and the cluster now holds 紧密型.
    page = lead.open(f"/work/applications/{application.pk}/")
    assert certificate.serial in page.locator("[data-test=certificate]").inner_text()
    lead.shot("7-lead-dossier-certified")
    page = lead.open("/work/mine/")
    assert page.locator("[data-test=current-tier]").inner_text() == "当前等级：紧密型"
    lead.shot("8-lead-my-applications-after")
    for person in (lead, office, leader):
        person.close()
