"""The whole ladder by clicks: one real cluster of the demo (徐汇区 天平-湖南学区, seed 003) from 新成立 to 紧密型,
区级示范性 and 市级示范性, each step by the person whose job it is, only through links and buttons on their pages
(the login page is the only address typed). The 公示 ends by the office's demo button, which the product offers in
demo mode. Every page passes `walk.check_page` (frame, visible text, axe-core, 390 px) and is saved under
tests/artifacts/walk/; the clicks and page loads of each rung are printed per person (the click budget).

紧密型 is climbed under the two-indicator test standard (tests/factories/workflow.py) to keep the walk short; 区级 and
市级 under the shipped reference standards (fixtures/standards/), whose computed indicators the lead feeds by
importing the seven data sets on the computed-indicator page (the demo's filled sample workbooks,
certification/domain/samples.py, built for this cluster's schools).
"""

import datetime
import json
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from certification.datasets import DATASETS
from certification.datasets.base import school_year_of
from certification.domain.demo import load_demo_data
from certification.domain.roles import ensure_groups
from certification.domain.samples import build_sample_workbooks, sample_file_name
from certification.domain.standards import load_standard
from certification.models import (
    Application,
    Certificate,
    Cluster,
    EvidenceFile,
    EvidenceRequirement,
    Tier,
    TierChange,
)
from tests.browser.walk import ARTIFACTS, PASSWORD, Walker, shoot
from tests.factories.evidence import pdf_bytes
from tests.factories.workflow import certification_standard

pytestmark = [pytest.mark.browser]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CLUSTER = "天平-湖南学区"
# Demo users (fixtures/demo/users.json); the three evaluators have no tie to 天平-湖南学区.
PEOPLE = {
    "lead": "lead_tianping",
    "office": "office_xuhui",
    "leader": "leader_xuhui",
    "city_office": "office_shanghai",
    "city_leader": "leader_shanghai",
    "evaluator1": "evaluator_agency_a",
    "evaluator2": "evaluator_agency_b",
    "evaluator3": "evaluator_haicang",
}
EVALUATORS = ("evaluator1", "evaluator2", "evaluator3")


@pytest.fixture
def world(transactional_db):
    ensure_groups()
    load_demo_data()
    certification_standard(Tier.CLOSE_KNIT)
    for name in ("district_model", "city_model"):
        path = Path(settings.BASE_DIR) / "fixtures" / "standards" / f"{name}.json"
        load_standard(json.loads(path.read_text(encoding="utf-8")), publish=True)
    users = {role: get_user_model().objects.get(username=username) for role, username in PEOPLE.items()}
    for user in users.values():
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    cluster = Cluster.objects.get(name=CLUSTER)
    # The demo records 天平-湖南学区 as holding 区级示范性 since 2024 (fixtures/demo/xuhui.json), so that the demo can
    # show a 市级 application at once; this walk climbs the whole ladder from 新成立, so it starts without that history.
    TierChange.objects.filter(cluster=cluster).delete()
    assert cluster.current_tier == Tier.NONE
    Walker.clicks.clear()
    Walker.loads.clear()
    return cluster, users


class Ladder:
    """The people of the walk, signed in once each, and the click budget of every rung."""

    def __init__(self, browser, live_server, cluster, users):
        self.browser, self.live_server, self.cluster, self.users = browser, live_server, cluster, users
        self.people = {}
        self.rungs = []

    def __getitem__(self, name):
        if name not in self.people:
            self.people[name] = Walker(self.browser, self.live_server, self.users[name], name)
        return self.people[name]

    def application(self):
        return Application.objects.filter(cluster=self.cluster).order_by("-pk").first()

    def rung(self, tier, started, clicks_before, loads_before):
        clicks = Counter(Walker.clicks)
        clicks.subtract(clicks_before)
        loads = Counter(Walker.loads)
        loads.subtract(loads_before)
        self.rungs.append((tier.label, {name: (clicks[name], loads[name]) for name in clicks if clicks[name]}))
        self.rungs[-1][1]["seconds"] = round(time.monotonic() - started)
        with (ARTIFACTS / "budget.txt").open("a", encoding="utf-8") as budget:
            budget.write(f"{self.rungs[-1]}\n")

    def close(self):
        for person in self.people.values():
            person.close()


def open_application(lead, tier):
    """From 我的工作: the apply button offers the next tier; the lead opens the application."""
    page = lead.page
    lead.go("我的申报")
    assert page.locator("[data-test=apply]").inner_text().strip() == f"申报{tier.label}"
    lead.click(page.locator("[data-test=apply]"))
    assert page.locator("select[name=target_tier]").input_value() == tier
    lead.click(lead.button("提交申报"))
    assert "申报已开启" in page.locator("body").inner_text()


def import_datasets(lead, year):
    """From the dossier: the computed-indicator page, one workbook per data set through its upload form."""
    page = lead.page
    workbooks = build_sample_workbooks(Cluster.objects.get(name=CLUSTER), year=year, outcome="pass")
    lead.click(lead.link("计算指标"))
    for code in DATASETS:
        row = page.locator(f"#dataset-{code}")
        if not row.count():
            continue
        lead.act()
        row.locator("input[type=file]").set_input_files(
            {"name": sample_file_name(code, year), "mimeType": XLSX, "buffer": workbooks[code]}
        )
        lead.click(row.locator("button[type=submit]"))
        assert "已导入" in page.locator("body").inner_text(), page.locator("body").inner_text()[:500]
        lead.click(lead.link("返回计算指标"))
    assert page.locator("#dataset-rotation").count(), "no data set on the computed-indicator page"
    lead.click(lead.link("返回申报"))


def preselected_code(reuse):
    """The item (requirement code) the file preselected in a reuse form was filed under."""
    return EvidenceFile.objects.get(pk=reuse.locator("select").input_value()).requirement.code


def upload_every_stage(lead):
    """From the dossier: each stage's materials page; a file accepted before is attached, else one PDF is
    uploaded per requirement; then back to the dossier."""
    page = lead.page
    lead.click(page.locator("[data-test=evidence-link]").first)
    for number in range(page.locator(".xq-ev__tab").count()):
        if number:
            lead.click(page.locator(".xq-ev__tab").nth(number))
        done = set()
        while True:
            open_forms = [
                section
                for section in page.locator("section[data-requirement]").all()
                if section.locator("[data-test=missing]").count() and section.get_attribute("id") not in done
            ]
            if not open_forms:
                break
            section = open_forms[0]
            code = section.get_attribute("data-requirement")
            done.add(section.get_attribute("id"))
            reuse = section.locator("form[data-test=reuse]")
            if reuse.count() and preselected_code(reuse) == code:
                # The file filed under the same item before (last tier's, or this application's other item)
                # is the one preselected: attaching it is one click.
                lead.click(reuse.locator("button[type=submit]"))
                continue
            form = section.locator("form.xq-ev__form")
            lead.act()
            # A lead names a file as its item reads: the toast that confirms the upload repeats the name.
            requirement = EvidenceRequirement.objects.get(pk=section.get_attribute("id").removeprefix("requirement-"))
            name = requirement.title.replace("/", "、")
            form.locator("input[type=file]").set_input_files(
                {"name": f"{name}.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes(code)}
            )
            lead.click(form.locator("button[type=submit]"))
        assert not page.locator("[data-test=missing]").count(), f"still missing on {page.url}"
    lead.click(lead.link("返回申报"))


def submit_stages(lead):
    for node in ("submit_basic", "submit_process", "submit_outcome"):
        lead.task(node)
        lead.click(lead.button("提交本阶段材料"))


def formal_review(office):
    office.go("办公室工作台")
    office.task("formal_review")
    office.act()
    office.page.check("input[name=decision][value=pass]")
    office.click(office.button("提交形式审查结论"))


def assign_panel(office, evaluators):
    """The deciding office (the city's for 市级) picks three evaluators and the panel lead."""
    office.go("办公室工作台")
    office.task("assign_evaluators")
    for evaluator in evaluators:
        office.act()
        office.page.check(f"input[name=evaluators][value='{evaluator.pk}']")
    office.act()
    office.page.select_option("select[name=panel_lead]", str(evaluators[0].pk))
    office.click(office.page.locator("form.xq-task-form button[type=submit]").first)


def score(expert):
    """Every scored indicator at its maximum; computed ones arrive pre-filled from the data."""
    expert.go("评审任务")
    expert.task("score")
    page = expert.page
    for field in page.locator("[data-score-sheet] input[type=number]").all():
        if not field.input_value():
            expert.act()
            field.fill(field.get_attribute("max"))
    expert.click(expert.button("提交评分表"))


def decide(person, node, value="approve"):
    person.go("审批队列")
    person.task(node)
    person.act()
    person.page.check(f"input[name=decision][value={value}]")
    person.click(person.button("提交决定"))


def end_publicity(office):
    office.go("办公室工作台")
    office.click(office.page.locator("[data-test=end-publicity]").first)
    office.click(office.page.locator("[data-test=end-publicity-confirmed]"))


def climb(ladder, tier, *, approvers, publicity_office, datasets_year=None):
    started = time.monotonic()
    clicks_before, loads_before = Counter(Walker.clicks), Counter(Walker.loads)
    lead = ladder["lead"]
    open_application(lead, tier)
    application = ladder.application()
    assert (application.target_tier, application.status) == (tier, Application.Status.EVIDENCE)
    if datasets_year is not None:
        import_datasets(lead, datasets_year)
    upload_every_stage(lead)
    submit_stages(lead)
    application.refresh_from_db()
    assert application.status == Application.Status.FORMAL_REVIEW

    formal_review(ladder["office"])
    deciding = ladder["city_office" if tier == Tier.CITY_MODEL else "office"]
    assign_panel(deciding, [ladder.users[name] for name in EVALUATORS])
    application.refresh_from_db()
    assert application.status == Application.Status.SCORING

    for name in EVALUATORS:
        score(ladder[name])
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVAL, application.get_status_display()

    for name, node, value in approvers:
        decide(ladder[name], node, value)
    application.refresh_from_db()
    assert application.status == Application.Status.PUBLICITY, application.get_status_display()

    end_publicity(ladder[publicity_office])
    application.refresh_from_db()
    assert application.status == Application.Status.CERTIFIED

    # The lead sees the new tier and opens the certificate page from the dossier.
    page = lead.page
    lead.go("我的申报")
    assert page.locator("[data-test=current-tier]").inner_text() == f"当前等级：{tier.label}"
    lead.click(page.locator("[data-test=application] h2 a").first)
    lead.click(page.locator("[data-test=certificate] a"))
    assert application.certificate.serial in page.locator("body").inner_text()
    # 市级示范性 is the city's to decide (seed 002), so the city's commission issues it; the lower tiers the district.
    issuer = "上海市教育委员会" if tier == Tier.CITY_MODEL else "上海市徐汇区教育局"
    assert page.locator("[data-field=issuer]").inner_text() == issuer
    shoot(page, ARTIFACTS / f"certificate-{tier}.png")
    lead.click(lead.link("返回申报"))
    ladder.rung(tier, started, clicks_before, loads_before)


def test_whole_ladder_by_clicks(browser, live_server, world):
    cluster, users = world
    ladder = Ladder(browser, live_server, cluster, users)
    year = school_year_of(timezone.localdate()) - 1
    try:
        climb(
            ladder,
            Tier.CLOSE_KNIT,
            approvers=[("leader", "district_decision", "approve")],
            publicity_office="office",
        )
        climb(
            ladder,
            Tier.DISTRICT_MODEL,
            approvers=[("leader", "district_decision", "approve")],
            publicity_office="office",
            datasets_year=year,
        )
        # No click moves time: eligibility for 市级 and the city standard's F1 (区级示范性 held ≥ 1 year, a veto)
        # refuse a tier won a minute ago, and the product offers no way to record an earlier date. So the walk
        # back-dates the 区级 certificate's start and its tier-history line by a year and a day, as if the cluster had
        # held 区级示范性 since then (the tier is derived from them: certification.models.holding).
        held_since = timezone.localdate() - datetime.timedelta(days=367)
        Certificate.objects.filter(cluster=cluster, tier=Tier.DISTRICT_MODEL).update(valid_from=held_since)
        TierChange.objects.filter(cluster=cluster, to_tier=Tier.DISTRICT_MODEL).update(effective=held_since)
        climb(
            ladder,
            Tier.CITY_MODEL,
            approvers=[
                ("leader", "district_decision", "approve"),
                ("city_office", "city_review", "approve"),
                ("city_leader", "city_decision", "approve"),
            ],
            publicity_office="city_office",
            datasets_year=year,
        )
    finally:
        ladder.close()
    cluster.refresh_from_db()
    assert cluster.current_tier == Tier.CITY_MODEL
    lines = ["", "Click budget (clicks / page loads per person):"]
    for tier, counts in ladder.rungs:
        seconds = counts.pop("seconds")
        lines.append(f"{tier} ({seconds} s): " + ", ".join(f"{n} {c}/{p}" for n, (c, p) in sorted(counts.items())))
    print("\n".join(lines))
