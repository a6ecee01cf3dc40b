"""The ladder by clicks: one cluster from 新成立 to 紧密型 and on to its 区级示范性 application, each step by the person
whose job it is, only through links and buttons on their pages (the login page is the only address typed; the 公示
ends by the office's demo button, which the product offers in demo mode). Every page passes `walk.check_page` and is
saved under tests/artifacts/walk/; the clicks and page loads of the 紧密型 tier are printed per person.
"""

import pytest

from certification.domain.roles import ensure_groups
from certification.models import Application, Tier
from tests.browser.walk import Walker, budget
from tests.factories.evidence import pdf_bytes
from tests.factories.workflow import build_world, certification_standard

pytestmark = [pytest.mark.browser]

FULL_MARKS = {"A1": "4", "A2": "6"}


@pytest.fixture
def world(transactional_db):
    ensure_groups()
    world = build_world(Tier.CLOSE_KNIT)
    world.cluster.name = "天平-湖南学区"
    world.cluster.save(update_fields=["name"])
    certification_standard(Tier.DISTRICT_MODEL)
    Walker.clicks.clear()
    Walker.loads.clear()
    return world


def upload_every_stage(lead):
    """From the dossier: each stage's materials page, one PDF per upload form, then back to the dossier."""
    page = lead.page
    lead.click(page.locator("[data-test=evidence-link]").first)
    for number in range(page.locator(".xq-ev__tab").count()):
        if number:
            lead.click(page.locator(".xq-ev__tab").nth(number))
        while page.locator("form.xq-ev__form").count():
            form = page.locator("form.xq-ev__form").first
            code = form.locator("xpath=ancestor::section[@data-requirement]").get_attribute("data-requirement")
            lead.act()
            form.locator("input[type=file]").set_input_files(
                {"name": f"{code}.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes(code)}
            )
            before = page.locator("form.xq-ev__form").count()
            lead.click(form.locator("button[type=submit]"))
            if page.locator("form.xq-ev__form").count() >= before:
                break  # the requirement keeps its form for further versions: one file each is enough
    lead.click(lead.link("返回申报"))


def test_ladder_walk_by_clicks(browser, live_server, world):
    lead = Walker(browser, live_server, world.lead, "lead")
    page = lead.page
    assert "/work/mine/" in page.url
    lead.click(page.locator("[data-test=apply]"))
    lead.click(lead.button("提交申报"))
    application = Application.objects.get(cluster=world.cluster)
    assert "申报已开启" in page.locator("body").inner_text()

    upload_every_stage(lead)
    for node in ("submit_basic", "submit_process", "submit_outcome"):
        lead.task(node)
        lead.click(lead.button("提交本阶段材料"))
    application.refresh_from_db()
    assert application.status == Application.Status.FORMAL_REVIEW

    office = Walker(browser, live_server, world.office, "office")
    office.task("formal_review")
    office.act()
    office.page.check("input[name=decision][value=pass]")
    office.click(office.button("提交形式审查结论"))
    office.task("assign_evaluators")
    evaluators = world.evaluators[:3]
    for evaluator in evaluators:
        office.act()
        office.page.check(f"input[name=evaluators][value='{evaluator.pk}']")
    office.act()
    office.page.select_option("select[name=panel_lead]", str(evaluators[0].pk))
    office.click(office.page.locator("form.xq-task-form button[type=submit]").first)
    application.refresh_from_db()
    assert application.status == Application.Status.SCORING

    for number, evaluator in enumerate(evaluators, 1):
        expert = Walker(browser, live_server, evaluator, f"evaluator{number}")
        expert.task("score")
        for indicator in world.standard.indicators():
            expert.act()
            expert.page.fill(f"[name=value_{indicator.pk}]", FULL_MARKS[indicator.code])
        assert expert.page.locator("[data-running-total]").inner_text() == "10"
        expert.click(expert.button("提交评分表"))
        expert.close()
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVAL

    leader = Walker(browser, live_server, world.leader, "leader")
    leader.task("district_decision")
    leader.act()
    leader.page.check("input[name=decision][value=approve]")
    leader.click(leader.page.locator("form.xq-task-form button[type=submit]").first)
    application.refresh_from_db()
    assert application.status == Application.Status.PUBLICITY

    office.click(office.link("办公室工作台"))
    office.click(office.page.locator("[data-test=end-publicity]").first)
    office.click(office.page.locator("[data-test=end-publicity-confirmed]"))
    application.refresh_from_db()
    assert application.status == Application.Status.CERTIFIED

    lead.click(lead.link("我的申报"))
    assert page.locator("[data-test=current-tier]").inner_text() == "当前等级：紧密型"
    print("\nClick budget, one 紧密型 tier:\n" + "\n".join(budget()))

    # The next rung: the apply button after the certificate opens a 区级示范性 application (defect 1).
    assert page.locator("[data-test=apply]").inner_text().strip() == "申报区级示范性"
    lead.click(page.locator("[data-test=apply]"))
    assert page.locator("select[name=target_tier]").input_value() == Tier.DISTRICT_MODEL
    lead.click(lead.button("提交申报"))
    opened = Application.objects.filter(cluster=world.cluster).order_by("-pk").first()
    assert (opened.target_tier, opened.status) == (Tier.DISTRICT_MODEL, Application.Status.EVIDENCE)
    for person in (lead, office, leader):
        person.close()
