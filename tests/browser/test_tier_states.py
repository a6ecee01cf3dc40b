"""In headless Chromium: a revoked certificate as the cluster's page and the public check show it (issue 13, item 6),
in Chinese only, accessible and at phone width (`check_page`). Screenshots go to tests/artifacts/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from certification.domain import tiers
from certification.domain.certificate import certificate_check_code
from certification.domain.public import printed_check_code
from certification.models import Certificate, Tier
from tests.browser.checks import check_page
from tests.browser.test_public_and_dashboards import ARTIFACTS, signed_in_page
from tests.factories import ClusterFactory, UserFactory
from tests.factories.work import ApplicationFactory

pytestmark = [pytest.mark.browser]


def _certificate(cluster, tier, issued):
    application = ApplicationFactory(cluster=cluster, target_tier=tier, status="certified")
    certificate = Certificate(
        serial=f"XQRZ-{issued.year}-{'紧密' if tier == Tier.CLOSE_KNIT else '区示范'}-0001",
        application=application,
        cluster=cluster,
        tier=tier,
        standard=application.standard,
        issued=issued,
        valid_until=issued.replace(year=issued.year + 3),
    )
    certificate.check_code = certificate_check_code(certificate)
    certificate.save()
    return certificate


def test_revoked_certificate_on_the_cluster_page_and_the_public_check(browser, live_server, transactional_db):
    today = timezone.localdate()
    cluster = ClusterFactory(name="天平-湖南学区", current_tier=Tier.CLOSE_KNIT)
    certificate = _certificate(cluster, Tier.DISTRICT_MODEL, today - timedelta(days=200))
    tiers.revoke(cluster, by=None, reason_text="年度评估认定办学条件不达标，撤销区级示范性。", on=today)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    page = signed_in_page(browser, live_server, UserFactory())
    page.goto(f"{live_server.url}/reference/cluster/{cluster.pk}/detail/")
    check_page(page)
    assert page.locator(".xq-badge").first.inner_text() == "紧密型"
    state = page.locator("[data-test=certificates] [data-field=state]").inner_text()
    assert state == f"已撤销 · 自 {today.isoformat()} 起（年度评估认定办学条件不达标，撤销区级示范性。）"
    page.screenshot(path=str(ARTIFACTS / "tier-cluster-revoked.png"), full_page=True)

    public = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    public.goto(f"{live_server.url}/public/verify/")
    public.fill("#id_serial", certificate.serial)
    public.fill("#id_code", printed_check_code(certificate))
    public.click("button[type=submit]")
    public.wait_for_selector("[data-test=result]")
    check_page(public)
    assert public.locator("[data-test=result] h2").inner_text() == "已撤销"
    assert public.locator("[data-field=ended_on]").inner_text() == f"{today.isoformat()} · 已撤销"
    public.screenshot(path=str(ARTIFACTS / "tier-verify-revoked-phone.png"), full_page=True)
