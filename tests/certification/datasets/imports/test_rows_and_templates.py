"""Importing data set workbooks, what is accepted: the rows stored and the workbook kept as evidence, a re-import
replaces the rows, the Celery task path reports progress, and the templates round-trip through the importer."""

import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook

from certification.datasets import DATASETS
from certification.datasets.tasks import task_import_dataset
from certification.datasets.template import build_template
from certification.models import AcademicResult, AuditEvent, EvidenceFile, RotationRecord
from tests.certification.datasets.imports.workbooks import roster_row, run
from tests.factories.datasets import data_application, data_cluster, dataset_standard, lead, workbook_bytes

pytestmark = pytest.mark.django_db


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
        RotationRecord.objects.for_application(application).values_list(
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


def test_reimport_makes_a_new_version_and_keeps_the_old_one_with_its_rows(
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
    assert (first.status, first.version, first.rows_count, second.status, second.version) == (
        "replaced",
        1,
        2,
        "done",
        2,
    )
    assert list(RotationRecord.objects.for_application(application).values_list("teacher", flat=True)) == ["丙"]
    # The replaced version keeps its rows: whatever pinned it still reads them (issue 13).
    assert list(
        RotationRecord.objects.filter(dataset_import=first).order_by("row_number").values_list("teacher", flat=True)
    ) == ["甲", "乙"]
    assert EvidenceFile.objects.filter(application=application).count() == 4


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
    assert list(AcademicResult.objects.for_application(application).values_list("passed", "district_pass_share")) == [
        (298, Decimal("97.80")),
        (296, Decimal("97.00")),
    ]


def test_task_import_of_two_thousand_rows_reaches_full_progress(application, by, django_capture_on_commit_callbacks):
    rows = [roster_row(f"T{n:05d}", backbone="是" if n % 5 == 0 else "否") for n in range(2000)]

    dataset_import = run(application, workbook_bytes("rotation", rows), by, django_capture_on_commit_callbacks)

    assert (dataset_import.status, dataset_import.progress, dataset_import.rows_count) == ("done", 100, 2000)
    assert RotationRecord.objects.for_application(application).count() == 2000
    assert RotationRecord.objects.for_application(application).filter(backbone=True).count() == 400


def test_task_import_run_twice_writes_the_rows_once(application, by, django_capture_on_commit_callbacks):
    dataset_import = run(
        application, workbook_bytes("rotation", [roster_row()]), by, django_capture_on_commit_callbacks
    )

    again = task_import_dataset.delay(import_id=dataset_import.pk).get()

    assert again == "done"
    assert RotationRecord.objects.filter(dataset_import__application=application).count() == 1
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


@pytest.mark.parametrize("code", list(DATASETS))
def test_template_of_every_data_set_has_its_headers_and_instructions(cluster, code):
    workbook = load_workbook(BytesIO(build_template(DATASETS[code], cluster)))

    assert workbook.sheetnames == [DATASETS[code].title, "说明", "学校名单"]
    assert [cell.value for cell in workbook[DATASETS[code].title][1]] == DATASETS[code].headers
    assert workbook["说明"]["A1"].value == f"{DATASETS[code].title} 数据模板填写说明"
