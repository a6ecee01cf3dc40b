"""Importing data set workbooks: every row checked with sheet/row/column and a Chinese reason; nothing saved on any
error; a re-import replaces the rows; the workbook is kept as evidence; the Celery task path reports progress."""

import datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from openpyxl import Workbook, load_workbook

from certification.datasets import DATASETS
from certification.datasets.tasks import task_import_dataset
from certification.datasets.template import build_template
from certification.domain.datasets import start_import
from certification.errors import IllegalTransition, InvalidInput, NotAllowed
from certification.models import (
    AcademicResult,
    ApplicationStage,
    AuditEvent,
    ClusterMembership,
    DatasetImport,
    EvidenceFile,
    RotationRecord,
)
from tests.factories.datasets import (
    data_application,
    data_cluster,
    dataset_standard,
    lead,
    workbook_bytes,
    xlsx_upload,
)
from tests.factories.evidence import pdf_bytes

pytestmark = pytest.mark.django_db

SHEET = "交流轮岗名册"
# A data set import names what it accepts, not the evidence types (PDF, Word, PowerPoint…).
ACCEPTS = "不接受此类文件。请上传以下类型之一：Excel (.xlsx)、OpenDocument (.ods)。"


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def cluster():
    return data_cluster(
        ("天平路小学", ["primary"], ClusterMembership.Role.LEAD),
        ("湖南路小学", ["primary"]),
        ("天平中学", ["junior"]),
    )


@pytest.fixture
def application(cluster):
    # Two requirements read the roster: the workbook is kept as evidence for both.
    standard = dataset_standard("rotation", "rotation", "academic_results")
    return data_application(cluster, standard)


@pytest.fixture
def by(cluster):
    return lead(cluster)


def roster_row(teacher="教师1", source="天平路小学", target="湖南路小学", **overrides):
    row = {
        "teacher": teacher,
        "from": source,
        "to": target,
        "from_stage": "小学",
        "to_stage": "小学",
        "backbone": "是",
        "start": datetime.datetime(2025, 9, 1),
        "term": 3,
    }
    row.update(overrides)
    return list(row.values())


def run(application, content, by, django_capture_on_commit_callbacks, *, code="rotation", name="名册.xlsx"):
    with django_capture_on_commit_callbacks(execute=True):
        dataset_import = start_import(application, code, xlsx_upload(content, name), by=by)
    dataset_import.refresh_from_db()
    return dataset_import


def stored_workbooks(application):
    folder = Path(settings.MEDIA_ROOT) / "datasets" / str(application.pk)
    return sorted(path.name for path in folder.glob("*")) if folder.exists() else []


def test_import_roster_stores_every_row_and_keeps_the_workbook_as_evidence(
    application, by, django_capture_on_commit_callbacks
):
    # A date typed as text the Chinese way is read as a date too.
    content = workbook_bytes(
        "rotation", [roster_row("教师1"), roster_row("教师2", backbone="否", term=3.5, start="2025年9月1日")]
    )

    dataset_import = run(application, content, by, django_capture_on_commit_callbacks)

    assert (dataset_import.status, dataset_import.progress, dataset_import.rows_count) == ("done", 100, 2)
    assert (dataset_import.years, dataset_import.errors) == ([2025], [])
    rows = list(
        RotationRecord.objects.current(application).values_list(
            "row_number", "teacher", "from_school__name", "to_school__name", "backbone", "term_years", "start_date"
        )
    )
    assert rows == [
        (2, "教师1", "天平路小学", "湖南路小学", True, Decimal("3.0"), datetime.date(2025, 9, 1)),
        (3, "教师2", "天平路小学", "湖南路小学", False, Decimal("3.5"), datetime.date(2025, 9, 1)),
    ]
    evidence = EvidenceFile.objects.filter(application=application).order_by("requirement__code")
    assert [(e.requirement.code, e.original_name, e.sha256) for e in evidence] == [
        ("D1-rotation", "名册.xlsx", dataset_import.fingerprint),
        ("D2-rotation", "名册.xlsx", dataset_import.fingerprint),
    ]
    assert list(dataset_import.evidence_files.all()) == list(evidence)
    assert list(AuditEvent.objects.filter(application=application).values_list("action", flat=True)) == [
        "dataset.import_started",
        "evidence.uploaded",
        "evidence.uploaded",
        "dataset.imported",
    ]


def _refused(application, content, by, capture):
    dataset_import = run(application, content, by, capture)
    assert dataset_import.status == "failed"
    assert RotationRecord.objects.filter(application=application).count() == 0
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


def test_reimport_replaces_the_rows_and_keeps_the_old_import_recorded(
    application, by, django_capture_on_commit_callbacks
):
    first = run(
        application,
        workbook_bytes("rotation", [roster_row("甲"), roster_row("乙")]),
        by,
        django_capture_on_commit_callbacks,
    )

    second = run(application, workbook_bytes("rotation", [roster_row("丙")]), by, django_capture_on_commit_callbacks)

    first.refresh_from_db()
    assert (first.status, first.rows_count, second.status) == ("replaced", 2, "done")
    assert list(RotationRecord.objects.filter(application=application).values_list("teacher", flat=True)) == ["丙"]
    assert EvidenceFile.objects.filter(application=application).count() == 4


def test_failed_reimport_leaves_the_current_rows_in_force(application, by, django_capture_on_commit_callbacks):
    run(application, workbook_bytes("rotation", [roster_row("甲")]), by, django_capture_on_commit_callbacks)

    failed = run(
        application, workbook_bytes("rotation", [roster_row("乙", to="外校")]), by, django_capture_on_commit_callbacks
    )

    assert failed.status == "failed"
    assert list(RotationRecord.objects.current(application).values_list("teacher", flat=True)) == ["甲"]


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


def test_import_percent_cells_read_as_numbers_or_percentage_format(application, by, django_capture_on_commit_callbacks):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "学业质量"
    sheet.append(DATASETS["academic_results"].headers)
    sheet.append(["天平中学", "初中", 2025, 300, 300, 86.5, 298, 97.8])
    sheet.append(["天平路小学", "小学", 2025, 300, 300, 90, 296, 0.97])
    sheet["H3"].number_format = "0.0%"
    stream = BytesIO()
    workbook.save(stream)

    dataset_import = run(
        application, stream.getvalue(), by, django_capture_on_commit_callbacks, code="academic_results"
    )

    assert dataset_import.status == "done"
    assert list(AcademicResult.objects.current(application).values_list("passed", "district_pass_share")) == [
        (298, Decimal("97.80")),
        (296, Decimal("97.00")),
    ]


def test_task_import_of_two_thousand_rows_reaches_full_progress(application, by, django_capture_on_commit_callbacks):
    rows = [roster_row(f"T{n:05d}", backbone="是" if n % 5 == 0 else "否") for n in range(2000)]

    dataset_import = run(application, workbook_bytes("rotation", rows), by, django_capture_on_commit_callbacks)

    assert (dataset_import.status, dataset_import.progress, dataset_import.rows_count) == ("done", 100, 2000)
    assert RotationRecord.objects.current(application).count() == 2000
    assert RotationRecord.objects.current(application).filter(backbone=True).count() == 400


def test_task_import_run_twice_writes_the_rows_once(application, by, django_capture_on_commit_callbacks):
    dataset_import = run(
        application, workbook_bytes("rotation", [roster_row()]), by, django_capture_on_commit_callbacks
    )

    again = task_import_dataset.delay(import_id=dataset_import.pk).get()

    assert again == "done"
    assert RotationRecord.objects.filter(application=application).count() == 1
    assert AuditEvent.objects.filter(action="dataset.imported").count() == 1


def test_task_import_of_a_gone_import_returns_quietly():
    assert task_import_dataset.delay(import_id=987654).get() is None


# Templates ------------------------------------------------------------------------------------------------------------


def test_template_has_headers_validations_school_list_and_instructions(application, cluster):
    content = build_template(DATASETS["rotation"], cluster)

    workbook = load_workbook(BytesIO(content))
    sheet = workbook["交流轮岗名册"]
    assert workbook.sheetnames == ["交流轮岗名册", "说明", "学校名单"]
    assert [cell.value for cell in sheet[1]] == DATASETS["rotation"].headers
    assert [cell.value for cell in workbook["学校名单"]["A"]] == ["天平路小学", "湖南路小学", "天平中学"]
    assert workbook["学校名单"].sheet_state == "hidden"
    validations = {
        str(v.sqref): (v.type, v.formula1, v.formula2, v.allow_blank) for v in sheet.data_validations.dataValidation
    }
    assert validations == {
        "B2:B60001": ("list", "'学校名单'!$A$1:$A$3", None, False),
        "C2:C60001": ("list", "'学校名单'!$A$1:$A$3", None, False),
        "D2:D60001": ("list", '"幼儿园,小学,初中,高中"', None, False),
        "E2:E60001": ("list", '"幼儿园,小学,初中,高中"', None, False),
        "F2:F60001": ("list", '"是,否"', None, False),
        "G2:G60001": ("date", "36526", "73415", False),
        "H2:H60001": ("decimal", "0.5", "10", False),
    }
    notes = [row[0] for row in workbook["说明"].iter_rows(values_only=True) if row and row[0]]
    assert notes[0] == "交流轮岗名册 数据模板填写说明"
    assert any("只要有一处错误，整个文件都不会导入" in note for note in notes)
    assert any("学年均指学年起始年份" in note for note in notes)


def test_template_school_stats_explains_the_two_hundred_percent_rules(cluster):
    content = build_template(DATASETS["school_stats"], cluster)

    workbook = load_workbook(BytesIO(content))
    notes = [row[0] for row in workbook["说明"].iter_rows(values_only=True) if row and row[0]]
    validations = {
        str(v.sqref): (v.type, v.formula1, v.formula2) for v in workbook["学校基本数据"].data_validations.dataValidation
    }
    assert any(note.endswith("共享教育资源覆盖100%学生 = 共享资源覆盖学生数之和 ÷ 在校学生数之和；") for note in notes)
    assert any(
        note.endswith("100%的教师参与学区或集团集群建设 = 参与学区集团工作的教师数之和 ÷ 教师数之和。")
        for note in notes
    )
    assert validations["B2:B60001"] == ("whole", "2000", "2100")
    assert validations["C2:C60001"] == ("whole", "0", "100000")


def test_template_round_trips_through_the_importer(django_capture_on_commit_callbacks):
    cluster = data_cluster(("天平路小学", ["primary"]))
    application = data_application(cluster, dataset_standard("satisfaction"))
    workbook = load_workbook(BytesIO(build_template(DATASETS["satisfaction"], cluster)))
    sheet = workbook["满意度"]
    sheet.append(["家长", 2025, 800, 760])
    sheet.append(["教师", 2025, 120, 118])
    stream = BytesIO()
    workbook.save(stream)

    dataset_import = run(
        application, stream.getvalue(), lead(cluster), django_capture_on_commit_callbacks, code="satisfaction"
    )

    assert (dataset_import.status, dataset_import.rows_count, dataset_import.errors) == ("done", 2, [])


def test_import_with_more_errors_than_listed_counts_the_rest(application, by, django_capture_on_commit_callbacks):
    rows = [roster_row(f"教师{n}", target="外校") for n in range(600)]

    dataset_import = run(application, workbook_bytes("rotation", rows), by, django_capture_on_commit_callbacks)

    assert (dataset_import.status, dataset_import.error_count, len(dataset_import.errors)) == ("failed", 600, 501)
    assert dataset_import.errors[499]["row"] == 501
    assert dataset_import.errors[500]["message"] == "另有 100 处错误未列出。"


@pytest.mark.parametrize("code", list(DATASETS))
def test_template_of_every_data_set_has_its_headers_and_instructions(cluster, code):
    workbook = load_workbook(BytesIO(build_template(DATASETS[code], cluster)))

    assert workbook.sheetnames == [DATASETS[code].title, "说明", "学校名单"]
    assert [cell.value for cell in workbook[DATASETS[code].title][1]] == DATASETS[code].headers
    assert workbook["说明"]["A1"].value == f"{DATASETS[code].title} 数据模板填写说明"
