"""One yearly review by clicks: the office starts the district's reviews, the lead submits the year's summary and
evidence, the office concludes 限期整改 with an item, the lead answers it, the office verifies it. Every page passes
`checks.check_page` (Chinese text, axe-core, 390 px) and is saved under tests/artifacts/walk/yearly-*.png."""

from datetime import timedelta

import pytest
from django.utils import timezone

from certification.domain.roles import ensure_groups
from certification.models import RectificationItem, Tier, YearlyReview
from tests.browser import checks
from tests.browser.walk import Walker
from tests.factories.evidence import pdf_bytes
from tests.factories.workflow import build_world
from tests.workflows.review_scene import certified

pytestmark = [pytest.mark.browser]


@pytest.fixture
def world(transactional_db):
    ensure_groups()
    world = build_world(Tier.CLOSE_KNIT, evaluators=1)
    world.cluster.name = "天平-湖南学区"
    world.cluster.save(update_fields=["name"])
    certified(world)
    return world


def _open_review(person):
    person.click(person.link("年度评估"))
    checks.check_page(person.page)
    person.click(person.link("天平-湖南学区"))
    checks.check_page(person.page)


def test_one_yearly_review_by_clicks(browser, live_server, world):
    office = Walker(browser, live_server, world.office, "yearly-office")
    office.click(office.link("年度评估"))
    checks.check_page(office.page)
    office.act()
    office.page.fill("input[name=school_year]", "2025")
    office.click(office.button("启动年度评估"))
    checks.check_page(office.page)
    review = YearlyReview.objects.get(cluster=world.cluster, school_year=2025)

    lead = Walker(browser, live_server, world.lead, "yearly-lead")
    _open_review(lead)
    page = lead.page
    lead.act()
    page.fill("textarea[name=data_note]", "本学年完成教师交流轮岗和课程共享。")
    page.fill("input[name=title_0]", "年度工作总结")
    page.set_input_files(
        "input[name=file_0]", {"name": "总结.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("y")}
    )
    lead.click(lead.button("提交年度评估材料"))
    checks.check_page(page)
    review.refresh_from_db()
    assert review.status == YearlyReview.Status.CONCLUSION

    office.page.reload()
    _open_review(office)
    page = office.page
    today = timezone.localdate()
    indicator = world.standard.indicators().order_by("code").first()
    office.act()
    page.select_option("select[name=conclusion]", "rectify")
    page.fill("textarea[name=reason]", "章程未按期修订。")
    page.fill("input[name=rectify_by]", (today + timedelta(days=30)).isoformat())
    page.select_option("select[name=item_0_indicator]", str(indicator.pk))
    page.fill("input[name=item_0_change]", "修订学区章程并经理事会表决。")
    page.fill("input[name=item_0_deadline]", (today + timedelta(days=20)).isoformat())
    office.click(office.button("记录结论"))
    checks.check_page(page)
    assert "修订学区章程并经理事会表决。" in page.locator("[data-test=rectification-list]").inner_text()

    lead.page.reload()
    lead.page.wait_for_load_state("networkidle")
    page = lead.page
    lead.act()
    page.locator("textarea[name=response]").first.fill("章程已修订并表决通过。")
    lead.click(lead.button("答复此项"))
    checks.check_page(page)

    office.page.reload()
    office.page.wait_for_load_state("networkidle")
    office.click(office.button("核验通过"))
    checks.check_page(office.page)
    item = RectificationItem.objects.get(rectification__yearly_review=review)
    assert item.status == RectificationItem.Status.VERIFIED
    assert "已完成：各项均已核验" in office.page.locator("[data-test=rectification-list]").inner_text()


@pytest.fixture
def panel_world(transactional_db):
    ensure_groups()
    world = build_world(Tier.DISTRICT_MODEL, evaluators=2, yearly_evaluators=2)
    world.cluster.name = "天平-湖南学区"
    world.cluster.save(update_fields=["name"])
    certified(world)
    return world


def test_a_yearly_review_with_its_panel_by_clicks(browser, live_server, panel_world):
    """The held standard asks for two evaluators: the office assigns them (the tied one shown refused), each finds the
    review in 评审任务 and gives an opinion, the office reads both opinions on the conclusion card and concludes."""
    world = panel_world
    office = Walker(browser, live_server, world.office, "yearly-panel-office")
    office.click(office.link("年度评估"))
    office.act()
    office.page.fill("input[name=school_year]", "2025")
    office.click(office.button("启动年度评估"))
    review = YearlyReview.objects.get(cluster=world.cluster, school_year=2025)

    lead = Walker(browser, live_server, world.lead, "yearly-panel-lead")
    _open_review(lead)
    lead.act()
    lead.page.fill("textarea[name=data_note]", "本学年完成教师交流轮岗和课程共享。")
    lead.page.fill("input[name=title_0]", "年度工作总结")
    lead.page.set_input_files(
        "input[name=file_0]", {"name": "总结.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("y")}
    )
    lead.click(lead.button("提交年度评估材料"))
    review.refresh_from_db()
    assert review.status == YearlyReview.Status.ASSIGNMENT

    office.page.reload()
    _open_review(office)
    panel_card = office.page.locator("[data-test=review-panel]")
    assert "成员校专家" in panel_card.inner_text() and "回避" in panel_card.inner_text()
    assert office.page.locator(f"input[name=evaluators][value='{world.tied_evaluator.pk}']").is_disabled()
    for evaluator in world.evaluators:
        office.act()
        office.page.check(f"input[name=evaluators][value='{evaluator.pk}']")
    office.click(office.button("指派评估专家"))
    review.refresh_from_db()
    assert review.status == YearlyReview.Status.PANEL

    opinions = [("rectify", "课程共享数量未比上年增加。"), ("maintained", "各项监测指标均达标。")]
    for n, (evaluator, (opinion, reason)) in enumerate(zip(world.evaluators, opinions, strict=True)):
        walker = Walker(browser, live_server, evaluator, f"yearly-panel-evaluator{n}")
        walker.go("评审任务")
        assert "天平-湖南学区" in walker.page.locator("[data-test=review-panels]").inner_text()
        walker.click(walker.link("提出意见"))
        walker.act()
        walker.page.check(f"input[name=opinion][value={opinion}]")
        walker.page.fill("textarea[name=reason]", reason)
        walker.click(walker.button("提出意见"))
        assert reason in walker.page.locator("[data-test=opinions]").inner_text()
        walker.close()
    review.refresh_from_db()
    assert review.status == YearlyReview.Status.CONCLUSION

    office.page.reload()
    office.page.wait_for_load_state("networkidle")
    office.seen()  # checks the page and keeps its screenshot: the conclusion card with both opinions
    conclusion_card = office.page.locator("[data-test=conclude]").inner_text()
    assert all(reason in conclusion_card for _opinion, reason in opinions)
    office.act()
    office.page.select_option("select[name=conclusion]", "maintained")
    office.page.fill("textarea[name=reason]", "两位专家意见已阅，监测指标达标，保持。")
    office.click(office.button("记录结论"))
    review.refresh_from_db()
    assert review.outcome == YearlyReview.Outcome.MAINTAINED
