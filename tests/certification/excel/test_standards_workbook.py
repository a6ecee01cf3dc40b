"""Standards in Excel: lossless round trip of the shipped standards, and row-level refusals that save nothing."""

import io
import zipfile

import openpyxl
import pytest

from certification.excel import cells
from certification.excel.standard_workbook import (
    EVIDENCE,
    INDICATORS,
    LEVELS,
    PERIODS,
    STANDARD,
    WorkbookRejected,
    export_standard,
    import_standard,
)
from certification.models import AuditEvent, DueStep, Standard, Tier
from tests.factories.standards import (
    editable_workbook,
    load_shipped_standard,
    load_shipped_standards,
    row_of,
    workbook_bytes,
)

TOTAL_ROW = 6  # 总分 on the 标准 sheet


def canonical(standard):
    """Every stored field of the standard and everything in it, except identity and publication state."""

    def fields(obj, *exclude):
        skip = {"id", *exclude}
        return {f.name: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.name not in skip}

    return {
        **fields(standard, "version", "status", "published", "derived_from"),
        "dimensions": [
            {
                **fields(dimension, "standard"),
                "indicators": [
                    {
                        **fields(indicator, "dimension"),
                        "evidence": [
                            fields(requirement, "indicator")
                            for requirement in indicator.evidence_requirements.order_by("stage", "code")
                        ],
                    }
                    for indicator in dimension.indicators.order_by("order")
                ],
            }
            for dimension in standard.dimensions.order_by("order")
        ],
    }


@pytest.fixture
def shipped(db):
    return load_shipped_standards()


@pytest.fixture
def close_knit(db):
    return load_shipped_standard(Tier.CLOSE_KNIT)


def refused(workbook_or_bytes):
    """Import and return the errors as (sheet, row, column) and the messages; asserts nothing was saved."""
    standards, events = Standard.objects.count(), AuditEvent.objects.count()
    data = workbook_or_bytes if isinstance(workbook_or_bytes, bytes) else workbook_bytes(workbook_or_bytes)
    with pytest.raises(WorkbookRejected) as rejection:
        import_standard(io.BytesIO(data))
    assert (Standard.objects.count(), AuditEvent.objects.count()) == (standards, events)
    errors = rejection.value.errors
    return [(e.sheet, e.row, e.column) for e in errors], [e.message for e in errors]


@pytest.mark.parametrize("tier", [Tier.CLOSE_KNIT, Tier.DISTRICT_MODEL, Tier.CITY_MODEL])
def test_export_import_shipped_standard_unchanged(shipped, tier):
    original = shipped[tier]

    draft = import_standard(io.BytesIO(export_standard(original)))

    assert canonical(draft) == canonical(original)
    assert (draft.tier, draft.version, draft.status, draft.derived_from) == (tier, 2, "draft", original)
    assert Standard.objects.get(pk=original.pk).status == "published"


def test_export_sheets_headers_and_drop_downs(close_knit):
    workbook = openpyxl.load_workbook(io.BytesIO(export_standard(close_knit)))

    indicators = workbook[INDICATORS]
    validations = {str(v.sqref): v.formula1 for v in indicators.data_validations.dataValidation}

    assert workbook.sheetnames == ["说明", "标准", "指标", "等级描述", "证据要求", "办理期限", "代码表"]
    assert [c.value for c in indicators[1]] == [
        "维度编码", "维度名称", "指标编码", "指标名称", "指标说明", "依据", "满分",
        "方法", "计算指标", "比较", "阈值", "上限阈值", "一票否决", "允许不适用",
    ]  # fmt: skip
    assert indicators.max_row == 1 + close_knit.indicators().count()
    assert validations["H2:H1000"] == '"computed,scored"'
    assert validations["J2:J1000"] == '"gte,gt,lte,lt,between"'
    assert validations["I2:I1000"] == "'代码表'!$A$2:$A$27"
    assert validations["M2:M1000"] == '"是,否"'
    row = row_of(indicators, "B1")
    assert [indicators.cell(row=row, column=c).value for c in (9, 10, 11, 12, 13)] == [
        "rotation_same_stage_rate", "between", "0.10", "0.20", "否",
    ]  # fmt: skip


def test_export_user_text_starting_with_formula_stays_text(close_knit):
    draft_title = '=HYPERLINK("http://evil.example","点击")'
    workbook = editable_workbook(close_knit)
    sheet = workbook[INDICATORS]
    cells.write_text(sheet.cell(row=2, column=4), draft_title)
    cells.write_text(sheet.cell(row=3, column=4), "@SUM(1+1)")
    draft = import_standard(io.BytesIO(workbook_bytes(workbook)))

    exported = openpyxl.load_workbook(io.BytesIO(export_standard(draft)))[INDICATORS]

    assert [(exported.cell(row=r, column=4).value, exported.cell(row=r, column=4).data_type) for r in (2, 3)] == [
        (draft_title, "s"),
        ("@SUM(1+1)", "s"),
    ]
    assert draft.indicators().get(code="A1").title == draft_title


def test_safe_text_prefixes_every_formula_trigger():
    assert [cells.safe_text(v) for v in ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", "普通", None]] == [
        "'=1+1", "'+1", "'-1", "'@A1", "'\t=1", "'\r=1", "普通", "",
    ]  # fmt: skip


def test_openpyxl_parses_with_defusedxml():
    cells.ensure_safe_parser()

    assert openpyxl.DEFUSEDXML is True


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/worksheets/sheet3.xml"])
def test_import_entity_expansion_refused(close_knit, part):
    source = zipfile.ZipFile(io.BytesIO(export_standard(close_knit)))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == part:
                entities = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                content = entities + content
            target.writestr(item, content)

    where, messages = refused(bomb.getvalue())

    assert where == [("", None, "")]
    assert "不是 Excel 工作簿" in messages[0]


def test_import_missing_sheet_refused(close_knit):
    workbook = editable_workbook(close_knit)
    del workbook[LEVELS]

    where, messages = refused(workbook)

    assert where == [(LEVELS, None, "")]
    assert "缺少工作表“等级描述”" in messages[0]


def test_import_wrong_header_refused(close_knit):
    workbook = editable_workbook(close_knit)
    workbook[INDICATORS]["G1"] = "分数"

    where, messages = refused(workbook)

    assert where == [(INDICATORS, 1, "G")]
    assert "“满分”" in messages[0] and "“分数”" in messages[0]


def test_import_missing_header_refused(close_knit):
    workbook = editable_workbook(close_knit)
    workbook[EVIDENCE]["F1"] = None

    where, _messages = refused(workbook)

    assert where == [(EVIDENCE, 1, "F")]


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("I", "rotation_rate", "“rotation_rate”不是以下之一"),  # unknown metric
        ("J", "ge", "“ge”不是以下之一"),  # unknown comparator
        ("H", "auto", "“auto”不是以下之一"),  # unknown method
        ("K", "abc", "阈值"),  # not a number
        ("K", "10", "0.10"),  # a rate written as a percentage
        ("G", "五", "数字"),  # non-numeric score
        ("M", "也许", "是"),  # not yes/no
        ("K", None, "数据计算指标须设置阈值。"),  # missing threshold
        ("L", "0.5", "只有“介于”可以设置阈值上限。"),  # upper threshold without "between"
    ],
)
def test_import_bad_indicator_cell_refused_at_its_cell(close_knit, column, value, expected):
    workbook = editable_workbook(close_knit)
    sheet = workbook[INDICATORS]
    row = row_of(sheet, "B3")  # backbone_share_same_stage ≥ 0.20, a computed indicator
    sheet[f"{column}{row}"] = value

    where, messages = refused(workbook)

    assert where == [(INDICATORS, row, column)]
    assert expected in messages[0]


def test_import_between_without_upper_threshold_refused_at_upper_cell(close_knit):
    workbook = editable_workbook(close_knit)
    sheet = workbook[INDICATORS]
    row = row_of(sheet, "B3")
    sheet[f"J{row}"] = "between"

    where, messages = refused(workbook)

    assert where == [(INDICATORS, row, "L")]
    assert messages == ["“介于”须设置阈值上限。"]


def test_import_unknown_stage_refused(close_knit):
    workbook = editable_workbook(close_knit)
    workbook[EVIDENCE]["B2"] = "final"

    where, messages = refused(workbook)

    assert where == [(EVIDENCE, 2, "B")]
    assert "“final”" in messages[0]


def test_import_duplicate_indicator_code_refused(close_knit):
    workbook = editable_workbook(close_knit)
    sheet = workbook[INDICATORS]
    copy = sheet.max_row + 1
    for column in range(1, 15):
        sheet.cell(row=copy, column=column).value = sheet.cell(row=2, column=column).value  # A1 again, 6 points

    where, messages = refused(workbook)

    assert where == [(STANDARD, TOTAL_ROW, "B"), (INDICATORS, copy, "C"), (INDICATORS, copy, "C")]
    assert "106" in messages[0]
    assert sorted(messages[1:]) == sorted(["指标编码“A1”重复出现。", "评分指标至少需要两个等级描述。"])


def test_import_duplicate_evidence_code_refused(close_knit):
    workbook = editable_workbook(close_knit)
    sheet = workbook[EVIDENCE]
    sheet["C3"] = sheet["C2"].value  # A1's second requirement takes the code of its first

    where, _messages = refused(workbook)

    assert (sheet["A2"].value, sheet["A3"].value) == ("A1", "A1")
    assert where == [(EVIDENCE, 3, "C")]


def test_import_levels_of_unknown_indicator_refused(close_knit):
    workbook = editable_workbook(close_knit)
    sheet = workbook[LEVELS]
    extra = sheet.max_row + 1
    sheet.append(["Z9", "优秀", 0, 1, "不存在的指标"])

    where, messages = refused(workbook)

    assert where == [(LEVELS, extra, "A")]
    assert "“Z9”" in messages[0]


def test_import_levels_with_gap_refused(close_knit):
    workbook = editable_workbook(close_knit)
    sheet = workbook[LEVELS]
    first = row_of(sheet, "A1", column=1)
    sheet.cell(row=first, column=3).value = 5  # 优秀 4.8–6 becomes 5–6, leaving 4.8–5 uncovered

    where, messages = refused(workbook)

    assert where == [(LEVELS, first, "A")]
    assert "4.8–5" not in messages[0] and "3.6–4.8、5–6" in messages[0]


def test_import_scores_not_adding_up_refused(close_knit):
    workbook = editable_workbook(close_knit)
    sheet = workbook[INDICATORS]
    sheet[f"G{row_of(sheet, 'B1')}"] = 7

    where, messages = refused(workbook)

    assert where == [(STANDARD, TOTAL_ROW, "B")]
    assert "101" in messages[0] and "100" in messages[0]


def test_import_every_error_listed_at_once(close_knit):
    workbook = editable_workbook(close_knit)
    sheet = workbook[INDICATORS]
    sheet[f"J{row_of(sheet, 'B2')}"] = "ge"
    sheet[f"I{row_of(sheet, 'B3')}"] = "unknown"
    workbook[EVIDENCE]["B2"] = "final"
    workbook[STANDARD]["B7"] = 120  # 合格分 above the total

    where, _messages = refused(workbook)

    assert where == [
        (STANDARD, 7, "B"),
        (INDICATORS, row_of(sheet, "B2"), "J"),
        (INDICATORS, row_of(sheet, "B3"), "I"),
        (EVIDENCE, 2, "B"),
    ]


def test_import_pdf_named_xlsx_refused(db):
    where, messages = refused(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")

    assert where == [("", None, "")]
    assert "不是 Excel 工作簿" in messages[0]


def test_import_empty_workbook_refused(db):
    where, messages = refused(workbook_bytes(openpyxl.Workbook()))

    assert where == [("", None, "")]
    assert "空" in messages[0]


def test_import_without_indicator_rows_refused(close_knit):
    workbook = editable_workbook(close_knit)
    for name in (INDICATORS, LEVELS, EVIDENCE):
        workbook[name].delete_rows(2, workbook[name].max_row)

    where, _messages = refused(workbook)

    assert where == [(INDICATORS, None, "")]


def test_import_becomes_next_draft_never_overwrites(shipped):
    original = shipped[Tier.DISTRICT_MODEL]
    workbook = editable_workbook(original)
    workbook[STANDARD]["B4"] = "区级示范性学区和集团评估标准（2026 修订）"

    first = import_standard(io.BytesIO(workbook_bytes(workbook)))
    second = import_standard(io.BytesIO(workbook_bytes(workbook)))

    assert [(s.version, s.status, s.title) for s in Standard.objects.filter(tier=Tier.DISTRICT_MODEL)] == [
        (3, "draft", "区级示范性学区和集团评估标准（2026 修订）"),
        (2, "draft", "区级示范性学区和集团评估标准（2026 修订）"),
        (1, "published", "区级示范性学区和集团评估标准"),
    ]
    assert (first.derived_from, second.derived_from) == (original, original)


def test_write_text_drops_control_characters_that_would_break_the_file():
    sheet = openpyxl.Workbook().active

    cell = cells.write_text(sheet["A1"], "章程\x01第一版\x0b")

    assert (cell.value, cell.data_type, cell.number_format) == ("章程第一版", "s", "@")


# ---- due periods (sheet 办理期限) ------------------------------------------------------------------------------


def period_row(workbook, step):
    sheet = workbook[PERIODS]
    return next(row for row in range(2, sheet.max_row + 1) if sheet.cell(row=row, column=1).value == step)


def test_export_lists_every_step_with_blank_periods_for_the_settings(close_knit):
    sheet = openpyxl.load_workbook(io.BytesIO(export_standard(close_knit)))[PERIODS]

    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=1)]

    assert rows[0] == ["步骤代码", "步骤名称", "工作日数"]
    assert [row[0] for row in rows[1:]] == DueStep.values
    assert rows[1 + DueStep.values.index("formal_review")][1:] == ["形式审查", None]
    assert {row[2] for row in rows[1:]} == {None}


def test_import_takes_the_periods_and_the_export_gives_them_back(close_knit):
    workbook = editable_workbook(close_knit)
    workbook[PERIODS].cell(row=period_row(workbook, "formal_review"), column=3).value = 7
    workbook[PERIODS].cell(row=period_row(workbook, "review_conclude"), column=3).value = "12"

    draft = import_standard(io.BytesIO(workbook_bytes(workbook)))
    again = import_standard(io.BytesIO(export_standard(draft)))

    assert draft.due_working_days == {"formal_review": 7, "review_conclude": 12}
    assert again.due_working_days == draft.due_working_days
    assert Standard.objects.get(pk=close_knit.pk).due_working_days == {}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "请填写 1 到 120 之间的整数，而不是“0”。"),
        (121, "请填写 1 到 120 之间的整数，而不是“121”。"),
        (2.5, "请填写 1 到 120 之间的整数，而不是“2.5”。"),
        ("五天", "请填写 1 到 120 之间的整数，而不是“五天”。"),
        (-3, "请填写 1 到 120 之间的整数，而不是“-3”。"),
    ],
)
def test_import_invalid_period_refused_at_its_cell_and_nothing_changes(close_knit, value, expected):
    workbook = editable_workbook(close_knit)
    row = period_row(workbook, "formal_review")
    workbook[PERIODS].cell(row=row, column=3).value = value
    workbook[PERIODS].cell(row=period_row(workbook, "score"), column=3).value = 8  # a valid row is not saved either

    where, messages = refused(workbook)

    assert where == [(PERIODS, row, "C")]
    assert messages == [expected]
    assert list(Standard.objects.values_list("tier", "version", "due_working_days")) == [(Tier.CLOSE_KNIT, 1, {})]


def test_import_unknown_or_repeated_step_refused(close_knit):
    workbook = editable_workbook(close_knit)
    sheet = workbook[PERIODS]
    sheet.append(["final_review", "终审", 5])
    sheet.append(["formal_review", "形式审查", 6])
    sheet.cell(row=period_row(workbook, "formal_review"), column=3).value = 7
    unknown, repeated = sheet.max_row - 1, sheet.max_row

    where, messages = refused(workbook)

    assert where == [(PERIODS, unknown, "A"), (PERIODS, repeated, "A")]
    assert messages[0].startswith("“final_review”不是以下之一：submit_basic、")
    assert messages[1] == "步骤“formal_review 形式审查”的办理期限重复填写。"


def test_import_of_a_workbook_made_before_the_periods_sheet(close_knit):
    workbook = editable_workbook(close_knit)
    del workbook[PERIODS]

    draft = import_standard(io.BytesIO(workbook_bytes(workbook)))

    assert (draft.version, draft.status, draft.due_working_days) == (2, "draft", {})


def test_import_of_a_workbook_without_the_yearly_panel_row_asks_for_no_evaluators(shipped):
    """A workbook exported before the yearly review's panel existed has no 年度评估专家人数 row: the draft asks for
    none (the office concludes alone) instead of being refused."""
    workbook = editable_workbook(shipped[Tier.DISTRICT_MODEL])
    sheet = workbook[STANDARD]
    (row,) = [cell.row for cell in sheet["A"] if cell.value == "年度评估专家人数"]
    assert sheet[f"B{row}"].value == 2
    sheet.delete_rows(row)

    draft = import_standard(io.BytesIO(workbook_bytes(workbook)))

    assert (draft.status, draft.yearly_evaluators) == ("draft", 0)
