"""The cluster's data page (import by school year, every version listed), its import pages, the self-check page and
the district's readiness table, over HTTP."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certification.domain import datasets
from certification.models import DatasetImport, Role
from tests.factories.datasets import computed_standard, lead, workbook_bytes, xlsx_upload
from tests.factories.workbooks import eligible, mixed_cluster, team
from tests.factories.workflow import person

pytestmark = pytest.mark.django_db

HUNDRED = {"甲校": 50, "乙校": 30, "丙校": 20}
YEAR = 2025


@pytest.fixture
def cluster():
    return mixed_cluster()


@pytest.fixture
def lead_user(cluster):
    return lead(cluster)


def _post(client, cluster, code, rows, capture):
    url = reverse("cluster_dataset_import", args=[cluster.pk, code]) + f"?year={YEAR}"
    with capture(execute=True):
        return client.post(url, {"file": xlsx_upload(workbook_bytes(code, rows))})


def test_lead_imports_from_the_cluster_page_and_sees_the_version(
    client, cluster, lead_user, django_capture_on_commit_callbacks
):
    client.force_login(lead_user)

    response = _post(client, cluster, "eligible_teachers", eligible(HUNDRED), django_capture_on_commit_callbacks)

    started = DatasetImport.objects.get(cluster=cluster)
    assert response.status_code == 302
    assert response["Location"] == reverse("cluster_import_detail", args=[cluster.pk, started.pk])
    assert (started.school_year, started.version, started.status, started.application) == (YEAR, 1, "done", None)
    detail = client.get(response["Location"]).content.decode()
    assert f"{YEAR} 学年数据的第 1 版" in detail
    status = client.get(reverse("cluster_import_status", args=[cluster.pk, started.pk])).json()
    assert (status["status"], status["rows"]) == ("done", 3)
    page = client.get(reverse("cluster_data", args=[cluster.pk]), {"year": YEAR}).content.decode()
    assert "第 1 版：3 行，来自" in page
    assert "学区数据页" in page  # where the import came from


def test_refused_workbook_is_shown_beside_its_data_set(client, cluster, lead_user, django_capture_on_commit_callbacks):
    client.force_login(lead_user)
    url = reverse("cluster_dataset_import", args=[cluster.pk, "rotation"]) + f"?year={YEAR}"

    response = client.post(url, {"file": xlsx_upload(b"not a workbook", name="名册.xlsx")})

    assert response.status_code == 400
    assert not DatasetImport.objects.filter(cluster=cluster).exists()
    assert "xq-errors" in response.content.decode()


def test_office_sees_the_data_page_without_an_upload_form(
    client, cluster, lead_user, django_capture_on_commit_callbacks
):
    _post_as = client
    _post_as.force_login(lead_user)
    _post(_post_as, cluster, "eligible_teachers", eligible(HUNDRED), django_capture_on_commit_callbacks)
    office = person(Role.DISTRICT_OFFICE, region=cluster.district)
    client.force_login(office)

    page = client.get(reverse("cluster_data", args=[cluster.pk]), {"year": YEAR}).content.decode()

    assert "第 1 版" in page
    assert 'type="file"' not in page


def test_data_page_history_runs_the_same_queries_for_one_and_many_imports(
    client, cluster, lead_user, django_capture_on_commit_callbacks
):
    client.force_login(lead_user)
    url = reverse("cluster_data", args=[cluster.pk])
    _post(client, cluster, "eligible_teachers", eligible(HUNDRED), django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url, {"year": YEAR}).status_code == 200

    for number in range(4):
        _post(client, cluster, "rotation", team(f"T{number}", 5), django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url, {"year": YEAR}).content.decode()

    assert len(one) == len(many)
    assert page.count("已被后一次导入替换") == 3


def test_self_check_page_shows_each_figure_and_creates_nothing(
    client, cluster, lead_user, django_capture_on_commit_callbacks
):
    computed_standard(("rotation_same_stage_rate", "between", "0.10", "0.20"))
    client.force_login(lead_user)
    _post(client, cluster, "eligible_teachers", eligible(HUNDRED), django_capture_on_commit_callbacks)
    _post(client, cluster, "rotation", team("T", 10), django_capture_on_commit_callbacks)
    imports_before = DatasetImport.objects.count()

    page = client.get(reverse("cluster_self_check", args=[cluster.pk]), {"year": YEAR}).content.decode()

    assert "紧密型" in page
    assert 'id="indicator-C1"' in page
    assert "10%" in page
    assert "介于 10%–20%" in page
    assert "1 项达标，0 项未达标，0 项无法计算" in page
    assert DatasetImport.objects.count() == imports_before
    assert not cluster.applications.exists()


def test_readiness_page_lists_the_districts_clusters(client, cluster, lead_user, django_capture_on_commit_callbacks):
    computed_standard(("rotation_same_stage_rate", "between", "0.10", "0.20"))
    with django_capture_on_commit_callbacks(execute=True):
        for code, rows in (("eligible_teachers", eligible(HUNDRED)), ("rotation", team("T", 10))):
            datasets.start_cluster_import(cluster, YEAR, code, xlsx_upload(workbook_bytes(code, rows)), by=lead_user)
    client.force_login(person(Role.DISTRICT_OFFICE, region=cluster.district))

    page = client.get(reverse("district_readiness", args=[cluster.district_id]), {"year": YEAR}).content.decode()

    assert cluster.name in page
    assert reverse("cluster_self_check", args=[cluster.pk]) in page
    assert "xq-result--pass" in page  # could apply now
