"""The computed-indicators page, template download, upload, import progress page and its JSON status."""

import datetime
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from certification.models import ClusterMembership, DatasetImport, RotationRecord
from tests.factories import UserFactory
from tests.factories.datasets import (
    computed_standard,
    data_application,
    data_cluster,
    lead,
    load_rows,
    ods_bytes,
    school,
    workbook_bytes,
    xlsx_upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def cluster():
    return data_cluster(("天平路小学", ["primary"], ClusterMembership.Role.LEAD), ("湖南路小学", ["primary"]))


@pytest.fixture
def application(cluster):
    return data_application(cluster, computed_standard(("backbone_share_same_stage", "gte", "0.20")))


@pytest.fixture
def lead_client(client, cluster):
    client.force_login(lead(cluster))
    return client


def rotation_rows(cluster, n, backbone):
    return [
        {
            "teacher": f"机密教师{index}",
            "from_school": school(cluster, "天平路小学"),
            "to_school": school(cluster, "湖南路小学"),
            "from_stage": "primary",
            "to_stage": "primary",
            "backbone": index < backbone,
            "start_date": datetime.date(2025, 9, 1),
            "term_years": 3,
            "year": 2025,
        }
        for index in range(n)
    ]


def roster(*teachers):
    return workbook_bytes(
        "rotation",
        [
            [name, "天平路小学", "湖南路小学", "小学", "小学", "是", datetime.datetime(2025, 9, 1), 3]
            for name in teachers
        ],
    )


def test_computed_page_shows_value_threshold_result_and_the_rows_behind_it(lead_client, application, cluster):
    load_rows(application, "rotation", rotation_rows(cluster, 10, backbone=2))

    response = lead_client.get(reverse("application_computed", args=[application.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<td class="xq-num">20%</td>' in html
    assert '<td class="xq-rule">≥ 20%</td>' in html
    assert '<span class="xq-result xq-result--pass">' in html
    assert html.count("<td>机密教师") == 10
    assert reverse("dataset_template", args=[application.pk, "rotation"]) in html
    assert f'action="{reverse("dataset_import", args=[application.pk, "rotation"])}"' in html


def test_computed_page_shows_the_first_200_teachers_merged_and_counts_the_rest(lead_client, application, cluster):
    rows = rotation_rows(cluster, 203, backbone=1)
    again = {**rows[0], "backbone": False, "start_date": datetime.date(2026, 3, 1)}  # the first teacher, in spring
    load_rows(application, "rotation", [*rows, again])

    html = lead_client.get(reverse("application_computed", args=[application.pk])).content.decode()

    assert html.count("<td>机密教师") == 200
    assert "另有 3 行未显示。" in html
    first = "<tr><td>2、205</td><td>机密教师0</td><td>天平路小学</td><td>湖南路小学</td><td>小学</td><td>小学</td><td>是；否</td>"
    assert first in html
    assert (
        "<tr><td>3</td><td>机密教师1</td><td>天平路小学</td><td>湖南路小学</td><td>小学</td><td>小学</td><td>否</td>"
        in html
    )


def test_computed_page_leads_back_to_the_application_and_labels_each_upload(lead_client, application):
    # Issue 8, found by the ladder walk: the page had no way back to the application (the lead came from its
    # dossier), and its file inputs had no label (axe-core: critical "label").
    html = lead_client.get(reverse("application_computed", args=[application.pk])).content.decode()

    assert f'<a href="{reverse("work:application_detail", args=[application.pk])}">← 返回申报</a>' in html
    assert '<label class="xq-note" for="id_file_rotation">交流轮岗名册工作簿</label>' in html


def test_computed_page_is_not_found_outside_the_users_scope(client, application, cluster):
    load_rows(application, "rotation", rotation_rows(cluster, 3, backbone=1))
    client.force_login(lead(data_cluster(("别的学校", ["primary"]))))

    response = client.get(reverse("application_computed", args=[application.pk]))

    assert response.status_code == 404
    assert "机密教师" not in response.content.decode()


def test_computed_page_runs_the_same_queries_for_three_and_thirty_indicators(client, cluster):
    counts = []
    for size in (3, 30):
        other = data_cluster(("甲校", ["primary"]), ("乙校", ["primary"]))
        application = data_application(other, computed_standard(*[("backbone_share_same_stage", "gte", "0.20")] * size))
        client.force_login(lead(other))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("application_computed", args=[application.pk]))
        assert response.status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_template_download_is_an_xlsx_attachment_with_the_clusters_schools(lead_client, application):
    response = lead_client.get(reverse("dataset_template", args=[application.pk, "rotation"]))

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith('attachment; filename="rotation.xlsx"')
    assert response["X-Content-Type-Options"] == "nosniff"
    workbook = load_workbook(BytesIO(response.content))
    assert [cell.value for cell in workbook["学校名单"]["A"]] == ["天平路小学", "湖南路小学"]


def test_template_of_a_data_set_the_standard_does_not_ask_for_is_not_found(lead_client, application):
    response = lead_client.get(reverse("dataset_template", args=[application.pk, "satisfaction"]))

    assert response.status_code == 404


def test_upload_runs_the_import_and_the_status_endpoint_reports_it(
    lead_client, application, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(
            reverse("dataset_import", args=[application.pk, "rotation"]), {"file": xlsx_upload(roster("甲", "乙"))}
        )

    dataset_import = DatasetImport.objects.get(application=application)
    assert response.status_code == 302
    assert response["Location"] == reverse("dataset_import_detail", args=[application.pk, dataset_import.pk])
    status = lead_client.get(reverse("dataset_import_status", args=[application.pk, dataset_import.pk])).json()
    assert status == {
        "status": "done",
        "status_display": "已导入",
        "notice": "",
        "progress": 100,
        "rows": 2,
        "finished": True,
        "error_count": 0,
        "errors": [],
    }
    assert list(RotationRecord.objects.for_application(application).values_list("teacher", flat=True)) == ["甲", "乙"]


def test_import_page_lists_each_error_with_sheet_row_and_column(
    lead_client, application, django_capture_on_commit_callbacks
):
    content = workbook_bytes(
        "rotation", [["甲", "外校", "湖南路小学", "小学", "小学", "是", datetime.datetime(2025, 9, 1), 3]]
    )
    with django_capture_on_commit_callbacks(execute=True):
        lead_client.post(reverse("dataset_import", args=[application.pk, "rotation"]), {"file": xlsx_upload(content)})
    dataset_import = DatasetImport.objects.get(application=application)

    html = lead_client.get(reverse("dataset_import_detail", args=[application.pk, dataset_import.pk])).content.decode()

    assert "未导入任何数据：发现 1 处错误。" in html
    assert (
        '<tr><td>交流轮岗名册</td><td class="xq-num">2</td><td>B（调出学校）</td>'
        "<td>“外校”不是本学区/集团的学校，请使用模板下拉列表中的学校名称。</td></tr>"
    ) in html
    assert RotationRecord.objects.count() == 0


def test_upload_of_a_non_xlsx_file_is_refused_on_the_page_and_nothing_is_stored(lead_client, application):
    response = lead_client.post(
        reverse("dataset_import", args=[application.pk, "rotation"]), {"file": xlsx_upload(b"just,text\n1,2\n")}
    )

    assert response.status_code == 400
    assert "不接受此类文件" in response.content.decode()
    assert DatasetImport.objects.count() == 0


def test_import_status_is_not_found_for_another_clusters_lead(client, application, django_capture_on_commit_callbacks):
    owner = lead(application.cluster)
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("dataset_import", args=[application.pk, "rotation"]), {"file": xlsx_upload(roster("机密教师"))}
        )
    dataset_import = DatasetImport.objects.get(application=application)
    client.force_login(lead(data_cluster(("别的学校", ["primary"]))))

    status = client.get(reverse("dataset_import_status", args=[application.pk, dataset_import.pk]))
    page = client.get(reverse("dataset_import_detail", args=[application.pk, dataset_import.pk]))

    assert (status.status_code, page.status_code) == (404, 404)
    assert "机密教师" not in page.content.decode()


def test_upload_by_someone_who_may_only_read_is_refused(client, application):
    client.force_login(UserFactory(is_superuser=True))

    response = client.post(
        reverse("dataset_import", args=[application.pk, "rotation"]), {"file": xlsx_upload(roster("甲"))}
    )

    assert response.status_code == 403
    assert "只有本学区/集团的负责人可以为本申请上传或撤回佐证材料。" in response.content.decode()
    assert DatasetImport.objects.count() == 0


def test_upload_of_an_ods_roster_is_imported_and_the_form_offers_xlsx_and_ods(
    lead_client, application, django_capture_on_commit_callbacks
):
    page = lead_client.get(reverse("application_computed", args=[application.pk])).content.decode()
    rows = [["甲", "天平路小学", "湖南路小学", "小学", "小学", "否", datetime.date(2025, 9, 1), 2]]

    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(
            reverse("dataset_import", args=[application.pk, "rotation"]),
            {"file": xlsx_upload(ods_bytes("rotation", rows), "名册.ods")},
        )

    dataset_import = DatasetImport.objects.get(application=application)
    assert 'accept=".xlsx,.ods"' in page
    assert response.status_code == 302
    assert (dataset_import.status, dataset_import.rows_count, dataset_import.original_name) == ("done", 1, "名册.ods")


@pytest.mark.parametrize("good", [True, False])
def test_import_page_no_longer_says_checking_once_the_import_has_finished(
    lead_client, application, django_capture_on_commit_callbacks, good
):
    bad_row = ["甲", "外校", "湖南路小学", "小学", "小学", "是", datetime.datetime(2025, 9, 1), 3]
    content = roster("甲", "乙") if good else workbook_bytes("rotation", [bad_row])
    with django_capture_on_commit_callbacks(execute=True):
        lead_client.post(reverse("dataset_import", args=[application.pk, "rotation"]), {"file": xlsx_upload(content)})
    dataset_import = DatasetImport.objects.get(application=application)

    html = lead_client.get(reverse("dataset_import_detail", args=[application.pk, dataset_import.pk])).content.decode()

    assert "正在逐行校验" not in html
    assert f'<dd id="import-status">{dataset_import.get_status_display()}</dd>' in html
    assert dataset_import.status == ("done" if good else "failed")
