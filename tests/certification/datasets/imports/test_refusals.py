"""Importing data set workbooks, the refusals: every row checked with sheet/row/column and a Chinese reason, nothing
saved on any error, and a failed re-import leaves the rows in force."""

import pytest

from certification.datasets import DATASETS
from certification.domain.datasets import start_import
from certification.errors import IllegalTransition, InvalidInput, NotAllowed
from certification.models import ApplicationStage, DatasetImport, EvidenceFile, RotationRecord
from tests.certification.datasets.imports.workbooks import ACCEPTS, SHEET, roster_row, run, stored_workbooks
from tests.factories.datasets import workbook_bytes, xlsx_upload
from tests.factories.evidence import pdf_bytes

pytestmark = pytest.mark.django_db


def _refused(application, content, by, capture):
    dataset_import = run(application, content, by, capture)
    assert dataset_import.status == "failed"
    assert RotationRecord.objects.filter(dataset_import__application=application).count() == 0
    assert EvidenceFile.objects.filter(application=application).count() == 0
    return dataset_import.errors


def test_import_wrong_headers_names_each_wrong_header_and_saves_nothing(
    application, by, django_capture_on_commit_callbacks
):
    headers = list(DATASETS["rotation"].headers)
    headers[1], headers[7] = "原学校", "期限"
    content = workbook_bytes("rotation", [roster_row()], headers=headers)

    errors = _refused(application, content, by, django_capture_on_commit_callbacks)

    assert errors == [
        {
            "sheet": SHEET,
            "row": 1,
            "column": "B",
            "header": "调出学校",
            "message": "表头应为“调出学校”，实际为“原学校”。请不要修改模板的表头行。",
        },
        {
            "sheet": SHEET,
            "row": 1,
            "column": "H",
            "header": "轮岗期限（年）",
            "message": "表头应为“轮岗期限（年）”，实际为“期限”。请不要修改模板的表头行。",
        },
    ]


def test_import_wrong_types_reports_every_cell_and_saves_nothing(application, by, django_capture_on_commit_callbacks):
    rows = [
        roster_row("教师1"),
        roster_row("教师2", start="下学期", term="三年"),
        roster_row("教师3", backbone="可能", term=0.2),
        roster_row("教师4", term=3.25),
    ]

    errors = _refused(application, workbook_bytes("rotation", rows), by, django_capture_on_commit_callbacks)

    assert [(e["sheet"], e["row"], e["column"], e["message"]) for e in errors] == [
        (SHEET, 3, "G", "请填写日期，如 2025-09-01。"),
        (SHEET, 3, "H", "请填写数字。"),
        (SHEET, 4, "F", "请填写“是”或“否”。"),
        (SHEET, 4, "H", "请填写 0.5 至 10 之间的数字。"),
        (SHEET, 5, "H", "最多填写 1 位小数。"),
    ]


def test_import_unknown_school_is_refused_with_its_name(application, by, django_capture_on_commit_callbacks):
    rows = [roster_row("教师1"), roster_row("教师2", target="外区实验小学")]

    errors = _refused(application, workbook_bytes("rotation", rows), by, django_capture_on_commit_callbacks)

    assert errors == [
        {
            "sheet": SHEET,
            "row": 3,
            "column": "C",
            "header": "调入学校",
            "message": "“外区实验小学”不是本学区/集团的学校，请使用模板下拉列表中的学校名称。",
        }
    ]


def test_import_school_of_the_wrong_stage_and_same_school_are_refused(
    application, by, django_capture_on_commit_callbacks
):
    rows = [roster_row("教师1", target="天平路小学"), roster_row("教师2", target="天平中学")]

    errors = _refused(application, workbook_bytes("rotation", rows), by, django_capture_on_commit_callbacks)

    assert [(e["row"], e["column"], e["message"]) for e in errors] == [
        (2, "C", "调入学校与调出学校相同，请填写另一所学校。"),
        (3, "E", "天平中学没有这个学段。"),
    ]


def test_import_duplicate_rows_are_refused_pointing_at_the_first(application, by, django_capture_on_commit_callbacks):
    rows = [roster_row("教师1"), roster_row("教师2"), roster_row("教师1", target="天平路小学", source="湖南路小学")]

    errors = _refused(application, workbook_bytes("rotation", rows), by, django_capture_on_commit_callbacks)

    assert errors == [
        {
            "sheet": SHEET,
            "row": 4,
            "column": "A",
            "header": "教师工号",
            "message": "本行与第 2 行重复（教师工号“教师1”、轮岗起始日期“2025-09-01”相同），请只保留一行。",
        }
    ]


def test_import_empty_workbook_is_refused(application, by, django_capture_on_commit_callbacks):
    errors = _refused(application, workbook_bytes("rotation", []), by, django_capture_on_commit_callbacks)

    assert errors == [
        {
            "sheet": SHEET,
            "row": 2,
            "column": "",
            "header": "",
            "message": "工作表中没有数据行，请在表头下至少填写一行。",
        }
    ]


def test_import_workbook_without_the_data_sheet_is_refused(application, by, django_capture_on_commit_callbacks):
    content = workbook_bytes("rotation", [roster_row()], sheet="Sheet1")

    errors = _refused(application, content, by, django_capture_on_commit_callbacks)

    assert [e["message"] for e in errors] == [
        "工作簿中没有名为“交流轮岗名册”的工作表。请使用下载的模板，不要重命名工作表。"
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"teacher,from,to\n\xe5\xbc\xa0,a,b\n", ACCEPTS),
        (pdf_bytes(), ACCEPTS),
    ],
)
def test_import_non_xlsx_file_named_xlsx_is_refused_before_anything_is_stored(
    application, by, content, message, django_capture_on_commit_callbacks
):
    with pytest.raises(InvalidInput) as refused, django_capture_on_commit_callbacks(execute=True):
        start_import(application, "rotation", xlsx_upload(content, "名册.xlsx"), by=by)

    assert refused.value.message == message
    assert DatasetImport.objects.count() == 0
    assert stored_workbooks(application) == []


def test_import_one_wrong_row_among_many_saves_none_of_them(application, by, django_capture_on_commit_callbacks):
    rows = [roster_row(f"教师{n}") for n in range(1, 1500)]
    rows[1200][2] = "不存在的学校"

    errors = _refused(application, workbook_bytes("rotation", rows), by, django_capture_on_commit_callbacks)

    assert [(e["row"], e["column"]) for e in errors] == [(1202, "C")]


def test_failed_reimport_leaves_the_current_rows_in_force(application, by, django_capture_on_commit_callbacks):
    run(application, workbook_bytes("rotation", [roster_row("甲")]), by, django_capture_on_commit_callbacks)

    failed = run(
        application, workbook_bytes("rotation", [roster_row("乙", to="外校")]), by, django_capture_on_commit_callbacks
    )

    assert failed.status == "failed"
    assert list(RotationRecord.objects.for_application(application).values_list("teacher", flat=True)) == ["甲"]


def test_import_refused_once_the_stage_is_submitted(application, by, django_capture_on_commit_callbacks):
    ApplicationStage.objects.create(application=application, stage="process", status="submitted")

    with pytest.raises(IllegalTransition) as refused:
        start_import(application, "rotation", xlsx_upload(workbook_bytes("rotation", [roster_row()])), by=by)

    assert "已提交" in refused.value.message
    assert (DatasetImport.objects.count(), stored_workbooks(application)) == (0, [])


def test_import_refused_to_someone_who_is_not_the_lead(application, cluster, django_capture_on_commit_callbacks):
    from tests.factories import UserFactory

    with pytest.raises(NotAllowed):
        start_import(application, "rotation", xlsx_upload(workbook_bytes("rotation", [roster_row()])), by=UserFactory())

    assert (DatasetImport.objects.count(), stored_workbooks(application)) == (0, [])


def test_import_refused_for_a_data_set_the_standard_does_not_ask_for(application, by):
    with pytest.raises(InvalidInput) as refused:
        start_import(application, "satisfaction", xlsx_upload(workbook_bytes("satisfaction", [])), by=by)

    assert refused.value.message == "本申报使用的评估标准不需要该数据集。"


def test_import_with_more_errors_than_listed_counts_the_rest(application, by, django_capture_on_commit_callbacks):
    rows = [roster_row(f"教师{n}", target="外校") for n in range(600)]

    dataset_import = run(application, workbook_bytes("rotation", rows), by, django_capture_on_commit_callbacks)

    assert (dataset_import.status, dataset_import.error_count, len(dataset_import.errors)) == ("failed", 600, 501)
    assert dataset_import.errors[499]["row"] == 501
    assert dataset_import.errors[500]["message"] == "另有 100 处错误未列出。"
