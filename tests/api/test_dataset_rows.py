"""A data set's rows sent as JSON: the workbook import's rules, messages, all-or-nothing and audit, through the API."""

import pytest

from certification.datasets import DATASETS
from certification.domain.datasets import check_may_import, start_import
from certification.errors import DomainError
from certification.models import (
    Application,
    AuditEvent,
    ClusterMembership,
    DatasetImport,
    EvidenceFile,
    RotationRecord,
)
from tests.factories import UserFactory
from tests.factories.datasets import data_application, data_cluster, dataset_standard, lead, workbook_bytes, xlsx_upload

from .conftest import api_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    cluster = data_cluster(("甲小学", ["primary"], ClusterMembership.Role.LEAD), ("乙小学", ["primary", "junior"]))
    application = data_application(cluster, dataset_standard(*DATASETS))
    return application, lead(cluster)


def _rows_url(application, code):
    return f"/api/v1/applications/{application.pk}/datasets/{code}/rows/"


def _rotation(teacher="T001", **changes):
    row = {
        "teacher": teacher,
        "from_school": "甲小学",
        "to_school": "乙小学",
        "from_stage": "小学",
        "to_stage": "小学",
        "backbone": "是",
        "start_date": "2025-09-01",
        "term_years": 3,
    }
    return {**row, **changes}


def _poll(client, application, started):
    assert started.status_code == 202, started.json()
    return client.get(f"/api/v1/applications/{application.pk}/dataset-imports/{started.json()['id']}/").json()


def test_valid_rows_are_imported_kept_as_the_data_sets_workbook_and_audited(data, django_capture_on_commit_callbacks):
    application, user = data
    client = api_as(user)
    rows = [_rotation("T001"), _rotation("T002", backbone="否", term_years=1.5)]

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(_rows_url(application, "rotation"), {"rows": rows}, format="json")

    polled = _poll(client, application, started)
    assert (polled["status"], polled["rows_count"], polled["years"], polled["errors"]) == ("done", 2, [2025], [])
    assert polled["original_name"] == "交流轮岗名册.xlsx"
    assert sorted(
        RotationRecord.objects.filter(dataset_import__application=application).values_list("teacher", "backbone")
    ) == [
        ("T001", True),
        ("T002", False),
    ]
    kept = EvidenceFile.objects.get(application=application, requirement__dataset="rotation")
    assert kept.original_name == "交流轮岗名册.xlsx"
    events = AuditEvent.objects.filter(application=application).order_by("pk")
    assert [(event.action, event.actor_id) for event in events] == [
        ("dataset.import_started", user.pk),
        ("evidence.uploaded", user.pk),
        ("dataset.imported", user.pk),
    ]
    assert events[0].payload["source"] == "rows"


@pytest.mark.parametrize("code", list(DATASETS))
def test_wrong_rows_get_exactly_the_workbooks_errors_and_nothing_is_kept(
    data, code, django_capture_on_commit_callbacks
):
    """Each of the seven data sets: the same wrong rows as a workbook and as JSON give the same stored errors."""
    application, user = data
    dataset = DATASETS[code]
    keys = [column.key for column in dataset.columns]
    example = list(dataset.example)  # placeholder school names: not schools of this cluster
    wrong = ["x" * 101, "不是数字", -5, 1.005, "2025-13-45", "也许", 1e9, True][: len(keys)]
    rows = [example, wrong, [None] * len(keys), example]

    with django_capture_on_commit_callbacks(execute=True):
        from_workbook = start_import(application, code, xlsx_upload(workbook_bytes(code, rows)), by=user)
    with django_capture_on_commit_callbacks(execute=True):
        started = api_as(user).post(
            _rows_url(application, code), {"rows": [dict(zip(keys, row, strict=True)) for row in rows]}, format="json"
        )

    polled = _poll(api_as(user), application, started)
    from_workbook.refresh_from_db()
    assert from_workbook.status == polled["status"] == DatasetImport.Status.FAILED
    assert from_workbook.error_count == polled["error_count"] >= 3
    assert [{**error, "field": ""} for error in polled["errors"]] == [
        {**error, "field": ""} for error in from_workbook.errors
    ]
    first = polled["errors"][0]
    assert first["row"] >= 2 and first["sheet"] == dataset.title
    assert first["field"] == dataset.columns[ord(first["column"]) - ord("A")].key
    assert DATASETS[code].model.objects.filter(dataset_import__application=application).count() == 0
    assert not EvidenceFile.objects.filter(application=application).exists()


def test_a_cell_keyed_by_no_column_or_not_a_cell_is_refused_by_row_before_anything_is_stored(data):
    application, user = data
    client = api_as(user)
    before = (DatasetImport.objects.count(), AuditEvent.objects.count())

    unknown = client.post(_rows_url(application, "rotation"), {"rows": [_rotation(), {"教师": 1}]}, format="json")
    nested = client.post(_rows_url(application, "rotation"), {"rows": [_rotation(term_years=[3])]}, format="json")
    control = client.post(_rows_url(application, "rotation"), {"rows": [_rotation(teacher="T\x01")]}, format="json")

    assert (unknown.status_code, list(unknown.json()["fields"])) == (400, ["rows.1.教师"])
    assert "teacher" in unknown.json()["message"]
    assert (nested.status_code, list(nested.json()["fields"])) == (400, ["rows.0.term_years"])
    assert (control.status_code, list(control.json()["fields"])) == (400, ["rows.0.teacher"])
    assert (DatasetImport.objects.count(), AuditEvent.objects.count()) == before


def test_only_the_lead_imports_and_only_while_the_data_set_takes_uploads(data):
    application, user = data
    other = data_application(application.cluster, application.standard, status=Application.Status.CERTIFIED)

    stranger = api_as(UserFactory()).post(_rows_url(application, "rotation"), {"rows": [_rotation()]}, format="json")
    closed = api_as(user).post(_rows_url(other, "rotation"), {"rows": [_rotation()]}, format="json")
    unknown = api_as(user).post(_rows_url(application, "nothing"), {"rows": []}, format="json")

    assert stranger.status_code == 404
    with pytest.raises(DomainError) as refused:
        check_may_import(other, "rotation", by=user)
    assert (closed.status_code, closed.json()) == (409, {"code": "upload_frozen", "message": refused.value.message})
    assert unknown.status_code == 404
    assert DatasetImport.objects.count() == 0


def test_an_empty_list_is_refused_as_an_empty_sheet(data, django_capture_on_commit_callbacks):
    application, user = data
    with django_capture_on_commit_callbacks(execute=True):
        started = api_as(user).post(_rows_url(application, "eligible_teachers"), {"rows": []}, format="json")

    polled = _poll(api_as(user), application, started)
    assert polled["status"] == "failed"
    assert [(error["row"], error["message"]) for error in polled["errors"]] == [
        (2, "工作表中没有数据行，请在表头下至少填写一行。")
    ]


def test_the_lead_of_another_cluster_does_not_see_the_application(data):
    application, _user = data
    other = data_cluster(("丙小学", ["primary"], ClusterMembership.Role.LEAD))

    response = api_as(lead(other)).post(_rows_url(application, "rotation"), {"rows": [_rotation()]}, format="json")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert DatasetImport.objects.count() == 0
