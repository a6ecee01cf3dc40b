"""The Content-Security-Policy holds on every main page: headless Chromium reports no violation in its console.

Each person signs in and walks their pages (the lead's applications, evidence and data pages, the office desk and
export, an evaluator's scoring sheet with its embedded evidence preview, the leader's approval queue, the
administrator's standards and admin pages). Any script, style, frame or request the policy refuses is reported by
the browser as a console error and a `securitypolicyviolation` event; both are collected and must stay empty.
"""

import pytest
from django.urls import reverse

from certification.domain.roles import ensure_groups
from certification.models import Role, Tier
from tests.factories.work import person
from tests.factories.workflow import build_world, upload_all_evidence
from tests.workflows.driver import do, start
from workflows.flows import CertificationFlow as F

pytestmark = [pytest.mark.browser]

PASSWORD = "correct-horse-battery"
# Collects the violations the page itself sees (an init script is injected by the browser, not subject to CSP).
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


@pytest.fixture
def scoring_world(transactional_db):
    ensure_groups()
    reverse("workflow:inbox")
    world = build_world(Tier.CLOSE_KNIT)
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(application, world.lead)
    for node in (F.submit_basic, F.submit_process, F.submit_outcome):
        do(world.lead, process, node)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    panel = world.evaluators[:3]
    do(world.office, process, F.assign_evaluators, {"evaluators": [e.pk for e in panel], "panel_lead": panel[0].pk})
    world.application, world.process = application, process
    world.admin = person(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
    return world


def _walk(browser, live_server, user, paths):
    """Sign `user` in, open each path, return the CSP violations seen (console messages and events)."""
    context = browser.new_context(locale="zh-CN")
    context.add_init_script(LISTEN)
    context.set_default_timeout(20_000)
    page = context.new_page()
    console = []
    page.on(
        "console",
        lambda message: console.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    seen = []
    for path in paths:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, (path, response.status)
        page.wait_for_load_state("networkidle")
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        assert "camera=()" in response.headers["permissions-policy"], path
        seen += [f"{path}: {text}" for text in page.evaluate("window.__cspViolations")]
    context.close()
    return seen + console


def test_main_pages_report_no_csp_violation(browser, live_server, scoring_world):
    world = scoring_world
    application = world.application
    evaluator = world.evaluators[0]
    walks = {
        world.lead: [
            reverse("work:mine"),
            reverse("work:application_detail", args=[application.pk]),
            reverse("evidence_list", args=[application.pk, "basic"]),
            reverse("application_computed", args=[application.pk]),
            reverse("work:notifications"),
            # Pages whose inline styles became style sheets: the start form, the API tokens page.
            F.start.reverse("execute"),
            reverse("api_tokens"),
        ],
        world.office: [
            reverse("work:office"),
            reverse("work:application_list"),
            reverse("export_application", args=[application.pk]),
        ],
        evaluator: [reverse("work:reviews"), reverse("scoring_sheet", args=[application.pk])],
        world.leader: [reverse("work:approvals"), reverse("workflow:inbox")],
        world.admin: [reverse("standards_excel"), reverse("holiday_calendar"), reverse("admin:index")],
    }
    violations = {user.username: _walk(browser, live_server, user, paths) for user, paths in walks.items()}

    assert violations == {user.username: [] for user in walks}
