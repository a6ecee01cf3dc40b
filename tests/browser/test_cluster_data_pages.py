"""In headless Chromium: the lead imports a workbook from the cluster's data page, reads its version, runs the
self-check for the next tier; the district office reads the readiness table. Every page passes `check_page`.
Screenshots go to tests/artifacts/ (cluster-data-*.png)."""

from pathlib import Path

import pytest
from django.conf import settings

from certification.domain import datasets
from certification.models import DatasetImport, Role
from tests.factories.datasets import computed_standard, workbook_bytes, xlsx_upload
from tests.factories.workbooks import eligible, mixed_cluster, team
from tests.factories.workflow import person

from .checks import check_page

pytestmark = [pytest.mark.browser]

ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts"
PASSWORD = "correct-horse-battery"
YEAR = 2025


def signed_in_page(browser, live_server, user):
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"cluster-data-{name}.png"), full_page=True)


def test_cluster_data_self_check_and_readiness_pages(browser, live_server, transactional_db, tmp_path):
    computed_standard(
        ("rotation_same_stage_rate", "between", "0.10", "0.20"),
        ("backbone_share_same_stage", "gte", "0.20"),
    )
    cluster = mixed_cluster()
    lead = person(Role.LEAD, cluster=cluster, display_name="学区负责人")
    lead.set_password(PASSWORD)
    lead.save()
    office = person(Role.DISTRICT_OFFICE, region=cluster.district, display_name="区学区集团办")
    office.set_password(PASSWORD)
    office.save()
    # Eligible teachers imported beforehand; the roster is imported through the page.
    datasets.start_cluster_import(
        cluster,
        YEAR,
        "eligible_teachers",
        xlsx_upload(workbook_bytes("eligible_teachers", eligible({"甲校": 50, "乙校": 30, "丙校": 20}))),
        by=lead,
    )
    workbook = tmp_path / "交流轮岗名册.xlsx"
    workbook.write_bytes(workbook_bytes("rotation", team("T", 10, backbone=1)))
    page = signed_in_page(browser, live_server, lead)

    page.goto(f"{live_server.url}/clusters/{cluster.pk}/data/?year={YEAR}")
    check_page(page)
    shot(page, "page")
    page.set_input_files("#file-rotation", str(workbook))
    page.locator("#dataset-rotation button[type=submit]").click()
    page.wait_for_url(lambda url: "/data/imports/" in url)
    page.wait_for_selector("text=已导入")
    page.wait_for_timeout(1000)  # the "workbook received" snackbar fades in; axe reads its colours once it has
    check_page(page)
    shot(page, "import")
    assert DatasetImport.objects.get(cluster=cluster, dataset="rotation").version == 1

    page.goto(f"{live_server.url}/clusters/{cluster.pk}/self-check/?year={YEAR}")
    assert page.locator("#indicator-C1").inner_text().split("\t") == ["C1 计算指标1", "10%", "介于 10%–20%", "达标"]
    assert "1 项达标，1 项未达标，0 项无法计算" in page.locator("#self-check-summary").inner_text()
    check_page(page)
    shot(page, "self-check")

    office_page = signed_in_page(browser, live_server, office)
    office_page.goto(f"{live_server.url}/districts/{cluster.district_id}/readiness/?year={YEAR}")
    assert cluster.name in office_page.locator("#readiness").inner_text()
    check_page(office_page)
    shot(office_page, "readiness")
