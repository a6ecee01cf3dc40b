"""In headless Chromium: a dashboard's charts are drawn by the vendored Chart.js from the data endpoint, the
certificate prints on one A4 page, and the public 公示 and verification pages work without signing in.
Screenshots go to tests/artifacts/."""

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from certification.domain import plans
from certification.domain.certificate import certificate_check_code
from certification.domain.public import printed_check_code
from certification.models import Certificate, Objection, Tier
from tests.factories import ClusterFactory, DistrictFactory
from tests.factories.plans import certify
from tests.factories.work import ApplicationFactory, lead_of, office_of

pytestmark = [pytest.mark.browser]

ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts"
PASSWORD = "correct-horse-battery"


def signed_in_page(browser, live_server, user, **context):
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", **context).new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def test_dashboard_charts_render_and_match_their_tables(browser, live_server, transactional_db):
    district = DistrictFactory(name="闵行区")
    office = office_of(district)
    plans.record_seed_targets(district, by=office)
    for year in (2019, 2020, 2021):
        cluster = ClusterFactory(district=district, founded_on=date(year - 2, 9, 1))
        certify(cluster, Tier.CLOSE_KNIT, date(year, 6, 1), date(year + 3, 6, 1))
    ClusterFactory(district=district, founded_on=date(2022, 9, 1))
    page = signed_in_page(browser, live_server, office)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{live_server.url}/dashboards/district/{district.pk}/")
    page.wait_for_selector("body[data-charts-drawn]")

    drawn = int(page.get_attribute("body", "data-charts-drawn"))
    assert drawn == page.locator("canvas").count() == 9
    assert errors == []
    # Chart.js drew on every canvas: none is blank.
    blank = page.evaluate(
        """() => Array.from(document.querySelectorAll('canvas')).filter(c => {
            const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) return false; }
            return true; }).length"""
    )
    assert blank == 0
    data = page.evaluate("url => fetch(url).then(r => r.json())", f"/dashboards/district/{district.pk}/data.json")
    tables = page.evaluate(
        """() => Array.from(document.querySelectorAll('table[data-chart-table]')).map(t => [t.dataset.chartTable,
            Array.from(t.tBodies[0].rows).map(r => Array.from(r.cells).map(c => c.textContent.trim()))])"""
    )
    assert dict(tables) == {c["id"]: c["rows"] or [["暂无数据。"]] for c in data["charts"]}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-district.png"), full_page=True)


def test_certificate_prints_on_one_a4_page(browser, live_server, transactional_db):
    today = timezone.localdate()
    application = ApplicationFactory(cluster=ClusterFactory(name="天平-湖南学区"), status="certified")
    certificate = Certificate(
        serial=f"XQRZ-{today.year}-紧密-0001",
        application=application,
        cluster=application.cluster,
        tier=Tier.CLOSE_KNIT,
        standard=application.standard,
        issued=today,
        valid_until=today + timedelta(days=3 * 365),
    )
    certificate.check_code = certificate_check_code(certificate)
    certificate.save()
    page = signed_in_page(browser, live_server, lead_of(application.cluster))

    page.goto(f"{live_server.url}/certificates/{certificate.pk}/")
    page.emulate_media(media="print")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "certificate-print.png"), full_page=True)
    pdf = page.pdf(prefer_css_page_size=True)

    # One page object in the PDF Chromium prints: the certificate fits one A4 sheet.
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1
    assert page.locator(".xq-cert-tools").is_hidden()
    assert page.locator("[data-field=check_code]").inner_text() == printed_check_code(certificate)
    assert page.locator("[data-test=qr] svg").count() == 1
    box = page.locator(".xq-cert").bounding_box()
    # 210 mm at 96 dpi.
    assert round(box["width"]) == 794


def test_public_pages_work_without_signing_in(browser, live_server, transactional_db):
    application = ApplicationFactory(
        cluster=ClusterFactory(name="天平-湖南学区"), status="publicity", total_score=Decimal("92.50"), vetoes_met=True
    )
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/public/publicity/")
    assert page.locator("h1").inner_text() == "公示中的认定结果"
    assert page.locator("[data-field=cluster]").inner_text() == "天平-湖南学区"
    page.screenshot(path=str(ARTIFACTS / "public-publicity-phone.png"), full_page=True)
    page.locator("a", has_text="提出异议").click()
    page.wait_for_url(f"**/public/publicity/{application.pk}/objection/")
    # The honeypot is in the form but out of a person's sight.
    trap = page.locator("#id_website").bounding_box()
    assert trap["x"] + trap["width"] <= 0
    page.fill("#id_name", "王某")
    page.fill("#id_contact", "13800000000")
    page.fill("#id_text", "轮岗名单与学校实际不符")
    page.screenshot(path=str(ARTIFACTS / "public-objection-phone.png"), full_page=True)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "异议已收到"
    objection = Objection.objects.get(application=application)
    assert (objection.raised_by, objection.objector_name) == (None, "王某")

    page.locator("a", has_text="证书验证").first.click()
    page.wait_for_url("**/public/verify/")
    page.fill("#id_serial", "XQRZ-2026-紧密-0001")
    page.fill("#id_code", "0000-0000-0000-0000")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-test=result]")
    assert page.locator("[data-test=result] h2").inner_text() == "没有与该证书编号和校验码相符的证书。"
    # At phone width nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(ARTIFACTS / "public-verify-phone.png"), full_page=True)
