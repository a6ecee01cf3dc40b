"""The standards page in headless Chromium: an administrator uploads a broken workbook, reads the error table,
uploads a corrected one and publishes the draft. Screenshots go to tests/artifacts/."""

from pathlib import Path

import pytest
from django.conf import settings

from certification.excel.standard_workbook import INDICATORS
from certification.models import Standard, Tier
from tests.factories.standards import administrator, editable_workbook, load_shipped_standard, row_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts"
PASSWORD = "correct-horse-battery"


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def test_administrator_imports_fixes_and_publishes_in_browser(page, live_server, tmp_path):
    published = load_shipped_standard(Tier.CLOSE_KNIT)
    user = administrator(username="admin-standards")
    workbook = editable_workbook(published)
    sheet = workbook[INDICATORS]
    bad_row = row_of(sheet, "B3")
    sheet[f"I{bad_row}"] = "rotation_rate"
    broken, fixed = tmp_path / "broken.xlsx", tmp_path / "fixed.xlsx"
    workbook.save(broken)
    sheet[f"I{bad_row}"] = "backbone_share_same_stage"
    workbook.save(fixed)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)

    page.goto(f"{live_server.url}/standards/excel/")
    page.set_input_files("input[type=file]", str(broken))
    page.get_by_role("button", name="导入").click()
    page.wait_for_selector("[data-test=import-errors]")
    page.screenshot(path=str(ARTIFACTS / "standards-import-refused.png"), full_page=True)
    error_cells = page.locator("[data-test=import-error] td").all_inner_texts()
    page.set_input_files("input[type=file]", str(fixed))
    page.get_by_role("button", name="导入").click()
    page.wait_for_selector("tr[data-standard=close_knit-2]")
    page.locator("tr[data-standard=close_knit-2]").get_by_role("button", name="发布").click()
    page.wait_for_selector("tr[data-standard=close_knit-2] .xq-std__badge--published")
    page.screenshot(path=str(ARTIFACTS / "standards-published.png"), full_page=True)

    assert error_cells[:3] == [INDICATORS, str(bad_row), "I"]
    assert "“rotation_rate”不是以下之一" in error_cells[3]
    assert list(Standard.objects.order_by("version").values_list("version", "status")) == [
        (1, "retired"),
        (2, "published"),
    ]
