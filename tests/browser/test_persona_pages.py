"""Every page each persona uses, at each state of a 市级示范性 application worth looking at, passes the page checks.

The application is carried from state to state over HTTP with the workflow driver (the ladder walk by clicks is
another test's job); at each state every person whose work it is opens their pages in Chromium, and each page must
pass `check_page`: Chinese text only, no axe-core critical/serious violation, no sideways scroll at 390 px.
Findings are gathered over the whole walk and reported together, with a screenshot per page in tests/artifacts/.
The computed-indicator page and the score sheet are checked by the ladder walk, once they are in the site frame.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from certification.domain.roles import ensure_groups
from certification.models import Role, Tier
from tests.browser.checks import check_accessibility, check_phone_width, check_visible_text
from tests.factories.workflow import build_world, person, upload_all_evidence
from tests.workflows.driver import PASSWORD, do, end_publicity, open_task, score_all, start, take
from workflows.flows import CertificationFlow as F

pytestmark = [pytest.mark.browser]

ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts" / "personas"
FULL = {"A1": 4, "A2": 6}


class Visitor:
    """One signed-in Chromium session that checks every page it opens and keeps what it found."""

    def __init__(self, browser, live_server, user, name, findings):
        self.name, self.base, self.findings = name, live_server.url, findings
        self.context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        self.context.set_default_timeout(20_000)
        self.page = self.context.new_page()
        self.page.goto(f"{self.base}/accounts/login/")
        self.page.fill("input[name=username]", user.username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.locator("form button[type=submit], form input[type=submit]").first.click()
        self.page.wait_for_url(lambda url: "/accounts/login/" not in url)

    def visit(self, label, path):
        response = self.page.goto(f"{self.base}{path}")
        self.page.wait_for_load_state("networkidle")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-{label}.png"), full_page=True)
        if response.status >= 400:
            self.findings.append(f"{self.name} {label}: HTTP {response.status} at {path}")
            return
        # The three checks of `check_page`, each run so one finding does not hide the others.
        for check in (check_visible_text, check_accessibility, check_phone_width):
            try:
                check(self.page)
            except AssertionError as finding:
                self.findings.append(f"{self.name} {label}: {finding}")

    def task(self, label, user, process, node):
        task = open_task(process, node)
        take(user, task)
        self.visit(label, node.reverse("execute", args=[process.pk, task.pk]))

    def close(self):
        self.context.close()


@pytest.fixture
def world(transactional_db):
    ensure_groups()
    world = build_world(Tier.CITY_MODEL)
    world.admin = person(Role.ADMINISTRATOR, display_name="系统管理员")
    return world


def test_every_persona_page_passes_the_page_checks(browser, live_server, world):
    findings = []

    def visitor(user, name):
        return Visitor(browser, live_server, user, name, findings)

    lead, office = visitor(world.lead, "lead"), visitor(world.office, "office")
    leader = visitor(world.leader, "district-leader")
    city_office, city_leader = visitor(world.city_office, "city-office"), visitor(world.city_leader, "city-leader")
    admin = visitor(world.admin, "admin")

    lead.visit("mine-new", reverse("work:mine"))
    application, process = start(world.lead, world.cluster, Tier.CITY_MODEL)
    dossier = reverse("work:application_detail", args=[application.pk])
    lead.visit("dossier-opened", dossier)
    for stage in ("basic", "process", "outcome"):
        lead.visit(f"evidence-{stage}", reverse("evidence_list", args=[application.pk, stage]))
    lead.task("submit-basic", world.lead, process, F.submit_basic)

    upload_all_evidence(application, world.lead)
    for node in (F.submit_basic, F.submit_process, F.submit_outcome):
        do(world.lead, process, node)
    lead.visit("evidence-basic-uploaded", reverse("evidence_list", args=[application.pk, "basic"]))
    lead.visit("mine-submitted", reverse("work:mine"))
    office.visit("desk-formal-review", reverse("work:office"))
    office.task("formal-review", world.office, process, F.formal_review)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    city_office.visit("desk-assignment", reverse("work:office"))
    city_office.task("assign", world.city_office, process, F.assign_evaluators)
    evaluators = world.evaluators[:3]
    do(
        world.city_office,
        process,
        F.assign_evaluators,
        {"evaluators": [e.pk for e in evaluators], "panel_lead": evaluators[0].pk},
    )

    expert = visitor(evaluators[0], "evaluator")
    expert.visit("reviews", reverse("work:reviews"))
    expert.visit("dossier", dossier)
    for name in ("inbox", "queue", "archive"):
        expert.visit(name, reverse(f"workflow:{name}"))
    score_all(application, process, dict.fromkeys(evaluators, FULL))

    leader.visit("approvals", reverse("work:approvals"))
    leader.visit("dossier", dossier)
    leader.task("decision", world.leader, process, F.district_decision)
    do(world.leader, process, F.district_decision, {"decision": "approve", "comment": "推荐"})
    city_office.task("city-review", world.city_office, process, F.city_review)
    do(world.city_office, process, F.city_review, {"decision": "approve"})
    city_leader.visit("approvals", reverse("work:approvals"))
    city_leader.task("city-decision", world.city_leader, process, F.city_decision)
    do(world.city_leader, process, F.city_decision, {"decision": "approve"})

    office.visit("desk-publicity", reverse("work:office"))
    city_office.visit("desk-publicity", reverse("work:office"))
    end_publicity(process, world.standard.publicity_days)
    lead.visit("dossier-certified", dossier)
    lead.visit("mine-certified", reverse("work:mine"))
    office.visit("applications", reverse("work:application_list"))
    for name in ("inbox", "queue", "archive", "index"):
        office.visit(name, reverse(f"workflow:{name}"))
    admin.visit("index", reverse("work:index"))
    admin.visit("applications", reverse("work:application_list"))
    admin.visit("dossier", dossier)
    admin.visit("standards", reverse("standards_excel"))

    for each in (lead, office, leader, city_office, city_leader, admin, expert):
        each.close()
    report = "\n\n".join(findings)
    (ARTIFACTS / "findings.txt").write_text(report, encoding="utf-8")
    assert not findings, report
