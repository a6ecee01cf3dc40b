"""The offline scoring workbook: download → fill with openpyxl → upload, and every refusal with nothing saved."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from certification.domain.scoring import get_or_create_sheet
from certification.errors import InvalidInput
from certification.excel.scoring_workbook import (
    COLUMNS,
    FIRST_ROW,
    META_FIELDS,
    META_TITLE,
    SCORES_TITLE,
    build_workbook,
    signature,
    upload_workbook,
)
from certification.models import ScoreSheet
from tests.factories.scoring import panel, scored, scoring_application, scoring_standard

SPECS = [scored("A1", 10), scored("A2", 5, na_allowed=True), scored("A3", 5)]


@pytest.fixture
def standard(db):
    return scoring_standard(SPECS)


@pytest.fixture
def sheet(standard):
    application = scoring_application(standard)
    (assignment,) = panel(application, 1)
    return get_or_create_sheet(assignment)


def _open(data):
    return load_workbook(io.BytesIO(data))


def _rows(workbook):
    ws = workbook[SCORES_TITLE]
    rows = {}
    for row in range(FIRST_ROW, ws.max_row + 1):
        code = ws[f"{COLUMNS['code']}{row}"].value
        if code:
            rows[code] = row
    return rows


def _fill(data, values):
    """Fill the workbook like an evaluator would: {code: (score, na, comment, reason)}."""
    workbook = _open(data)
    ws = workbook[SCORES_TITLE]
    rows = _rows(workbook)
    for code, (value, na, comment, reason) in values.items():
        row = rows[code]
        ws[f"{COLUMNS['value']}{row}"] = value
        ws[f"{COLUMNS['na']}{row}"] = na
        ws[f"{COLUMNS['comment']}{row}"] = comment
        ws[f"{COLUMNS['reason']}{row}"] = reason
    return _save(workbook)


def _save(workbook):
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _upload(data, name="scores.xlsx"):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def _stored(sheet):
    return {s.indicator.code: (s.value, s.not_applicable, s.comment) for s in sheet.scores.select_related("indicator")}


EMPTY = {"A1": (None, False, ""), "A2": (None, False, ""), "A3": (None, False, "")}
GOOD = {"A1": (8.5, None, "缺少会议纪要。", None), "A2": (None, "是", None, None), "A3": (5, None, None, None)}


def test_workbook_structure_protected_and_bound(sheet):
    workbook = _open(build_workbook(sheet))

    ws = workbook[SCORES_TITLE]
    row = _rows(workbook)["A1"]
    assert ws.protection.sheet is True
    assert workbook.security.lockStructure is True
    assert ws[f"{COLUMNS['value']}{row}"].protection.locked is False
    assert ws[f"{COLUMNS['comment']}{row}"].protection.locked is False
    assert ws[f"{COLUMNS['title']}{row}"].protection.locked is True
    assert ws[f"{COLUMNS['na']}{row}"].protection.locked is True  # A1 does not allow N/A
    assert ws[f"{COLUMNS['na']}{_rows(workbook)['A2']}"].protection.locked is False
    validations = {
        (dv.type, dv.operator, dv.formula1, dv.formula2): str(dv.sqref) for dv in ws.data_validations.dataValidation
    }
    assert validations[("decimal", "between", "0", "10.00")] == f"I{row}"
    assert workbook[META_TITLE].sheet_state == "veryHidden"
    assert workbook[META_TITLE].protection.sheet is True
    meta = {r[0]: r[1] for r in workbook[META_TITLE].iter_rows(values_only=True)}
    application = sheet.assignment.application
    assert meta["application"] == application.pk
    assert meta["standard_version"] == application.standard.version
    assert meta["evaluator"] == sheet.assignment.evaluator_id
    assert meta["sheet"] == sheet.pk
    assert meta["signature"] == signature({name: meta[name] for name in META_FIELDS})
    assert "说明" in workbook.sheetnames


def test_workbook_round_trip_saves_a_draft(sheet):
    filled = _fill(build_workbook(sheet), GOOD)

    upload_workbook(sheet, _upload(filled), by=sheet.assignment.evaluator)

    assert _stored(sheet) == {
        "A1": (Decimal("8.50"), False, "缺少会议纪要。"),
        "A2": (None, True, ""),
        "A3": (Decimal("5.00"), False, ""),
    }
    sheet.refresh_from_db()
    assert sheet.status == ScoreSheet.Status.DRAFT
    # A second download carries the saved draft back.
    again = _open(build_workbook(sheet))[SCORES_TITLE]
    assert again[f"{COLUMNS['value']}{FIRST_ROW}"].value == 8.5


def _refused(sheet, data, expected, name="scores.xlsx", by=None):
    with pytest.raises(InvalidInput) as refused:
        upload_workbook(sheet, _upload(data, name), by=by or sheet.assignment.evaluator)
    assert expected in refused.value.message
    assert _stored(sheet) == EMPTY


def test_workbook_for_another_application_refused(sheet, standard):
    other_application = scoring_application(standard)
    other_assignment = panel(other_application, 1)[0]
    other_assignment.evaluator = sheet.assignment.evaluator
    other_assignment.save()
    other_sheet = get_or_create_sheet(other_assignment)

    _refused(sheet, _fill(build_workbook(other_sheet), GOOD), "属于另一个申报")


def test_workbook_for_another_standard_version_refused(sheet):
    workbook = _open(_fill(build_workbook(sheet), GOOD))
    meta_ws = workbook[META_TITLE]
    meta = {r[0].value: r[1] for r in meta_ws.iter_rows()}
    meta["standard_version"].value = sheet.assignment.application.standard.version + 1
    meta["signature"].value = signature({name: meta[name].value for name in META_FIELDS})

    _refused(sheet, _save(workbook), "另一版本的评估标准")


def test_workbook_of_another_evaluator_refused(sheet):
    colleague = panel(sheet.assignment.application, 1)[0]
    colleague_sheet = get_or_create_sheet(colleague)

    _refused(sheet, _fill(build_workbook(colleague_sheet), GOOD), "属于另一位评估专家")


def test_workbook_with_tampered_ids_refused(sheet):
    workbook = _open(_fill(build_workbook(sheet), GOOD))
    meta = {r[0].value: r[1] for r in workbook[META_TITLE].iter_rows()}
    meta["evaluator"].value = meta["evaluator"].value + 1

    _refused(sheet, _save(workbook), "标识已被改动")


def test_workbook_with_forged_signature_refused(sheet):
    workbook = _open(_fill(build_workbook(sheet), GOOD))
    meta = {r[0].value: r[1] for r in workbook[META_TITLE].iter_rows()}
    meta["signature"].value = "0" * 64

    _refused(sheet, _save(workbook), "标识已被改动")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"A1": (10.5, None, "多给了。", None)}, "超出 0 至 10.00"),
        ({"A1": (-1, None, "扣分。", None)}, "超出 0 至 10.00"),
        ({"A1": ("八分", None, "缺少纪要。", None)}, "不是有效的分数"),
        ({"A1": (8, None, None, None)}, "未得满分须填写评语"),
        ({"A3": (None, "是", None, None)}, "不允许标记为不适用"),
    ],
)
def test_workbook_bad_scores_refused_nothing_saved(sheet, values, expected):
    _refused(sheet, _fill(build_workbook(sheet), {**GOOD, **values}), expected)


def test_workbook_pdf_named_xlsx_refused(sheet):
    _refused(sheet, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "不是 Excel 工作簿")


def test_workbook_random_bytes_refused(sheet):
    _refused(sheet, b"not a workbook at all" * 10, "不是 Excel 工作簿")


def test_workbook_without_binding_refused(sheet):
    workbook = _open(_fill(build_workbook(sheet), GOOD))
    del workbook[META_TITLE]

    _refused(sheet, _save(workbook), "不是本系统的评分工作簿")


def test_workbook_with_rows_removed_refused(sheet):
    workbook = _open(_fill(build_workbook(sheet), GOOD))
    workbook[SCORES_TITLE].delete_rows(_rows(workbook)["A3"])

    _refused(sheet, _save(workbook), "缺少指标行")
