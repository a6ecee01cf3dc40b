"""The administrators' standards page and the Django admin: download, import, publish, and the lock."""

import io
from urllib.parse import quote

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certification.domain import standards as domain
from certification.excel.standard_workbook import INDICATORS, PERIODS, STANDARD, export_standard
from certification.models import AuditEvent, Indicator, Standard, Tier
from tests.factories import UserFactory
from tests.factories.standards import administrator, editable_workbook, load_shipped_standard, row_of, workbook_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = "/standards/excel/"


@pytest.fixture
def published(db):
    return load_shipped_standard(Tier.CLOSE_KNIT)


@pytest.fixture
def admin_user(db):
    return administrator()


@pytest.fixture
def superuser(db):
    return UserFactory(is_superuser=True, is_staff=True)


def upload(content, name="标准.xlsx"):
    return SimpleUploadedFile(name, content, content_type=XLSX)


# ---- the standards page ---------------------------------------------------------------------------------------


def test_standards_page_anonymous_sent_to_login(client, published):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={PAGE}"


def test_standards_page_without_administrator_role_refused(client, published):
    client.force_login(UserFactory())

    response = client.get(PAGE)
    download = client.get(reverse("standards_excel_download", args=[published.pk]))

    assert (response.status_code, download.status_code) == (403, 403)
    assert published.title not in response.content.decode()
    assert download.get("Content-Type") != XLSX


@pytest.mark.parametrize("who", ["admin_user", "superuser"])
def test_standards_page_lists_every_version_for_administrators(client, published, who, request):
    draft = domain.new_version(published, by=None)
    client.force_login(request.getfixturevalue(who))

    response = client.get(PAGE)

    page = response.content.decode()
    assert response.status_code == 200
    assert [s.pk for s in response.context["standards"]] == [draft.pk, published.pk]
    assert 'data-standard="close_knit-2"' in page and 'data-standard="close_knit-1"' in page
    assert reverse("standards_excel_download", args=[published.pk]) in page
    assert reverse("standards_excel_publish", args=[draft.pk]) in page
    assert reverse("standards_excel_publish", args=[published.pk]) not in page
    assert "从 Excel 导入评估标准" in page


def test_standards_page_shows_the_standards_periods_and_the_settings(client, admin_user, published):
    workbook = editable_workbook(published)
    sheet = workbook[PERIODS]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(row=r, column=1).value == "formal_review")
    sheet.cell(row=row, column=3).value = 7
    client.force_login(admin_user)

    response = client.post(reverse("standards_excel_import"), {"file": upload(workbook_bytes(workbook))})
    page = client.get(PAGE)

    assert response.status_code == 302
    html = page.content.decode()
    draft_row = html.split('data-standard="close_knit-2"')[1].split("</tr>")[0]
    published_row = html.split('data-standard="close_knit-1"')[1].split("</tr>")[0]
    assert "标准规定的步骤：1 个" in draft_row and "形式审查（7 个工作日）" in draft_row
    assert "全部按系统设置" in published_row and "形式审查" not in published_row
    settings_rows = html.split('data-test="settings-periods"')[1]
    assert "<td>形式审查</td><td>5</td>" in settings_rows
    assert "<td>年度评估：提交本学年数据与佐证</td><td>20</td>" in settings_rows


def test_standards_page_queries_do_not_grow_with_standards(client, admin_user):
    client.force_login(admin_user)
    load_shipped_standard(Tier.CLOSE_KNIT)
    with CaptureQueriesContext(connection) as one:
        client.get(PAGE)
    load_shipped_standard(Tier.DISTRICT_MODEL)
    load_shipped_standard(Tier.CITY_MODEL)

    with CaptureQueriesContext(connection) as three:
        response = client.get(PAGE)

    assert len(response.context["standards"]) == 3
    assert len(three) == len(one)


def test_download_returns_the_workbook(client, admin_user, published):
    client.force_login(admin_user)

    response = client.get(reverse("standards_excel_download", args=[published.pk]))

    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == (
        "attachment; filename=\"standard-close_knit-v1.xlsx\"; filename*=UTF-8''"
        + quote("评估标准-紧密型-v1.xlsx", safe="")
    )
    assert workbook[STANDARD]["B4"].value == "紧密型学区和集团评估标准"
    assert workbook[INDICATORS].max_row == 1 + 23  # the close-knit standard has 23 indicators since issue 9 (B9)


def test_import_valid_workbook_becomes_draft(client, admin_user, published):
    client.force_login(admin_user)
    workbook = editable_workbook(published)
    workbook[STANDARD]["B4"] = "紧密型学区和集团评估标准（修订稿）"

    response = client.post(reverse("standards_excel_import"), {"file": upload(workbook_bytes(workbook))})

    draft = Standard.objects.get(tier=Tier.CLOSE_KNIT, version=2)
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}#standard-{draft.pk}"
    assert (draft.status, draft.title, draft.derived_from) == ("draft", "紧密型学区和集团评估标准（修订稿）", published)
    assert AuditEvent.objects.filter(action="standard.loaded", actor=admin_user, object_id=str(draft.pk)).exists()
    page = client.get(PAGE).content.decode()
    assert "已导入为紧密型第 2 版（草稿）" in page


def test_import_bad_workbook_shows_every_error_and_saves_nothing(client, admin_user, published):
    client.force_login(admin_user)
    workbook = editable_workbook(published)
    sheet = workbook[INDICATORS]
    metric_row, comparator_row = row_of(sheet, "B3"), row_of(sheet, "B2")
    sheet[f"I{metric_row}"] = "rotation_rate"
    sheet[f"J{comparator_row}"] = "ge"

    response = client.post(reverse("standards_excel_import"), {"file": upload(workbook_bytes(workbook))})

    page = response.content.decode()
    assert response.status_code == 400
    assert [(e.sheet, e.row, e.column) for e in response.context["errors"]] == [
        (INDICATORS, comparator_row, "J"),
        (INDICATORS, metric_row, "I"),
    ]
    assert page.count('data-test="import-error"') == 2
    assert "工作簿被拒绝：共 2 处错误，没有保存任何内容。" in page
    assert f"<td>{INDICATORS}</td><td>{metric_row}</td><td>I</td><td>“rotation_rate”不是以下之一" in page
    assert Standard.objects.count() == 1


def test_import_not_xlsx_name_refused(client, admin_user, published):
    client.force_login(admin_user)

    response = client.post(
        reverse("standards_excel_import"), {"file": upload(export_standard(published), name="标准.xls")}
    )

    assert response.status_code == 400
    assert "请选择扩展名为 .xlsx 的 Excel 工作簿。" in response.content.decode()
    assert Standard.objects.count() == 1


def test_import_by_non_administrator_refused(client, published):
    client.force_login(UserFactory())

    response = client.post(reverse("standards_excel_import"), {"file": upload(export_standard(published))})

    assert response.status_code == 403
    assert Standard.objects.count() == 1


def test_publish_draft_retires_the_published(client, admin_user, published):
    draft = domain.new_version(published, by=admin_user)
    client.force_login(admin_user)

    response = client.post(reverse("standards_excel_publish", args=[draft.pk]))

    draft.refresh_from_db()
    published.refresh_from_db()
    assert response.status_code == 302
    assert (draft.status, published.status) == ("published", "retired")
    assert AuditEvent.objects.filter(action="standard.published", actor=admin_user, object_id=str(draft.pk)).exists()


def test_publish_published_answers_conflict_page(client, admin_user, published):
    client.force_login(admin_user)

    response = client.post(reverse("standards_excel_publish", args=[published.pk]))

    assert response.status_code == 409
    assert "只有草稿可以发布。" in response.content.decode()


def test_publish_by_non_administrator_refused(client, published):
    draft = domain.new_version(published, by=None)
    client.force_login(UserFactory())

    response = client.post(reverse("standards_excel_publish", args=[draft.pk]))

    assert response.status_code == 403
    assert Standard.objects.get(pk=draft.pk).status == "draft"


# ---- the Django admin -----------------------------------------------------------------------------------------


def test_admin_published_standard_change_refused(client, superuser, published):
    client.force_login(superuser)
    url = reverse("admin:certification_standard_change", args=[published.pk])

    page = client.get(url)
    response = client.post(url, {"title": "改过的标题", "tier": "close_knit", "version": 1})

    assert page.status_code == 200
    assert 'name="title"' not in page.content.decode()  # shown read-only
    assert response.status_code == 403
    assert Standard.objects.get(pk=published.pk).title == "紧密型学区和集团评估标准"


def test_admin_published_standard_delete_refused(client, superuser, published):
    client.force_login(superuser)

    response = client.post(reverse("admin:certification_standard_delete", args=[published.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert Standard.objects.filter(pk=published.pk).exists()


def test_admin_delete_selected_published_refused(client, superuser, published):
    client.force_login(superuser)

    response = client.post(
        reverse("admin:certification_standard_changelist"),
        {"action": "delete_selected", "_selected_action": [published.pk], "post": "yes"},
    )

    assert response.status_code == 200
    assert f"{published}：已发布的评估标准不能删除" in response.content.decode()
    assert Standard.objects.filter(pk=published.pk).exists()


@pytest.mark.parametrize("model", ["indicator", "dimension"])
def test_admin_published_rows_change_and_delete_refused(client, superuser, published, model):
    row = published.indicators().get(code="B1") if model == "indicator" else published.dimensions.get(code="B")
    client.force_login(superuser)

    change = client.post(reverse(f"admin:certification_{model}_change", args=[row.pk]), {"title": "改过"})
    delete = client.post(reverse(f"admin:certification_{model}_delete", args=[row.pk]), {"post": "yes"})

    assert (change.status_code, delete.status_code) == (403, 403)
    assert type(row).objects.get(pk=row.pk).title == row.title


def test_admin_indicator_add_offers_only_draft_dimensions(client, superuser, published):
    draft = domain.new_version(published, by=None)
    client.force_login(superuser)

    response = client.get(reverse("admin:certification_indicator_add"))

    offered = response.context["adminform"].form.fields["dimension"].queryset
    assert {d.standard_id for d in offered} == {draft.pk}


def test_admin_download_action_returns_workbook(client, superuser, published):
    client.force_login(superuser)

    response = client.post(
        reverse("admin:certification_standard_changelist"),
        {"action": "download_xlsx", "_selected_action": [published.pk]},
    )

    assert response["Content-Type"] == XLSX
    rows = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)[INDICATORS].max_row
    assert rows == 1 + Indicator.objects.filter(dimension__standard=published).count()


def test_admin_changelist_links_the_excel_page(client, superuser, published):
    client.force_login(superuser)

    response = client.get(reverse("admin:certification_standard_changelist"))

    assert f'href="{PAGE}"' in response.content.decode()
