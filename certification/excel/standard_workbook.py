"""A standard as an .xlsx workbook, so that a bureau can author a new version in Excel.

Sheets: 说明 (how to fill it in), 标准 (the standard's own fields, one per row), 指标 (one row per indicator with
its dimension), 等级描述 (level descriptors of scored indicators), 证据要求 (evidence per stage), 办理期限 (the
working days the standard gives each step of the flows; optional, so that workbooks made before it still import),
代码表 (the codes the drop-downs offer). Sheet names, headers and codes are the file format: they are the same whatever language
the person exporting uses, so that a file exported by one person imports for another.

The workbook is only a carrier: it is turned into the plain dict of `certification.domain.standards` and back;
every rule of a valid standard is checked in `certification.models.standard_rules`, and each problem is reported
here at the sheet, row and column it came from.
"""

import io
from decimal import Decimal

import openpyxl
from django.utils.translation import gettext as _
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from certification.domain.standards import StandardRejected, load_standard, standard_as_data
from certification.metrics import METRICS
from certification.models import Comparator, DueStep, EvidenceStage, Indicator, Standard
from certification.models.standard_rules import DATASETS, MAX_DUE_WORKING_DAYS, validate_standard_data
from certification.models.tier import CERTIFIABLE

from .cells import (
    TEXT_FORMAT,
    add_choice_list,
    cell_text,
    is_blank_row,
    write_header,
    write_text,
    write_value,
)
from .reading import CellError, WorkbookRejected, uploaded_workbook

INSTRUCTIONS = "说明"
STANDARD = "标准"
INDICATORS = "指标"
LEVELS = "等级描述"
EVIDENCE = "证据要求"
PERIODS = "办理期限"
CODES = "代码表"

# (field, row label, hint) — the 标准 sheet has one row per field, label in column A and value in column B.
STANDARD_ROWS = [
    ("tier", "等级", "close_knit 紧密型 / district_model 区级示范性 / city_model 市级示范性"),
    ("version", "基于版本", "导出时的版本号，仅作记录；导入总是成为该等级新的草稿版本，不会覆盖已有版本"),
    ("title", "标题", ""),
    ("description", "说明", ""),
    ("total_score", "总分", "各指标满分之和必须等于总分"),
    ("pass_score", "合格分", "不超过总分"),
    ("publicity_days", "公示天数", "整数"),
    ("validity_years", "有效年限", "整数（年）"),
    ("yearly_evaluators", "年度评估专家人数", "整数：年度评估须有几位专家提出意见；0 表示由学区集团办单独作出结论"),
    ("disagreement_tolerance", "评分分歧容差", "0 到 1：同一指标各专家评分的极差超过满分的这一比例时须协调"),
    ("aggregation", "汇总方式", "mean 平均 / median 中位数 / trimmed_mean 去掉最高最低后平均"),
]
STANDARD_HEADERS = ["项目", "值", "填写说明"]
INDICATOR_COLUMNS = [
    ("dimension_code", "维度编码"),
    ("dimension_title", "维度名称"),
    ("code", "指标编码"),
    ("title", "指标名称"),
    ("description", "指标说明"),
    ("source", "依据"),
    ("max_score", "满分"),
    ("method", "方法"),
    ("metric", "计算指标"),
    ("comparator", "比较"),
    ("threshold", "阈值"),
    ("threshold_high", "上限阈值"),
    ("veto", "一票否决"),
    ("na_allowed", "允许不适用"),
]
LEVEL_COLUMNS = [
    ("indicator", "指标编码"),
    ("level", "等级"),
    ("min_score", "最低分"),
    ("max_score", "最高分"),
    ("descriptor", "描述"),
]
EVIDENCE_COLUMNS = [
    ("indicator", "指标编码"),
    ("stage", "阶段"),
    ("code", "证据编码"),
    ("title", "证据名称"),
    ("required", "必需"),
    ("dataset", "数据模板"),
]
# One row per step; the name is only there to read (the import takes the code), a blank number leaves the step to
# the system settings.
PERIOD_COLUMNS = [
    ("step", "步骤代码"),
    ("title", "步骤名称"),
    ("working_days", "工作日数"),
]
SHEET_COLUMNS = {
    INDICATORS: INDICATOR_COLUMNS,
    LEVELS: LEVEL_COLUMNS,
    EVIDENCE: EVIDENCE_COLUMNS,
    PERIODS: PERIOD_COLUMNS,
}
# The sheets an import reads, in the order its errors are listed; 办理期限 may be absent.
READ_SHEETS = (STANDARD, INDICATORS, LEVELS, EVIDENCE, PERIODS)
OPTIONAL_SHEETS = {PERIODS}
YES, NO = "是", "否"
MAX_ROWS = 5000

INSTRUCTION_LINES = [
    "评估标准导入模板 —— 填写说明",
    "",
    "1. 「标准」表：每行一个项目，在 B 列填写。总分必须等于所有指标满分之和，合格分不超过总分。",
    "2. 「指标」表：每行一个二级指标，写明所属维度（一级指标）的编码和名称；同一维度的各行维度名称必须一致。",
    "   指标编码在整个标准内不得重复。方法：computed 计算指标 / scored 评分指标。",
    "   计算指标：填写计算指标代码（见「代码表」）、比较方式和阈值，不填等级描述。",
    "   比较方式：gte ≥ / gt > / lte ≤ / lt < / between 介于（含两端，需同时填写上限阈值）。",
    "   比例一律写成 1 的分数：10% 写 0.10，三分之一写 1/3，100% 写 1。“不低于区平均”写差值指标、gte、0。",
    "   评分指标：不填计算指标、比较方式和阈值，在「等级描述」表中至少写两个等级。",
    "   一票否决、允许不适用：填 是 或 否。没有幼儿园、没有初中的学区集团，相应指标应允许不适用。",
    "3. 「等级描述」表：每行一个等级，写明指标编码。各等级的分数段首尾相接、覆盖 0 到满分，",
    "   例如满分 10 分：0–3、3–6、6–8、8–10（恰在分界上的分数属于较高一级）。",
    "4. 「证据要求」表：每行一项材料，写明指标编码和阶段：basic 基础材料 / process 过程材料 / outcome 成效材料。",
    "   由结构化数据模板填报的材料在「数据模板」列填写模板代码（见「代码表」）；计算指标读取的数据模板必须列出。",
    "   同一指标内证据编码不得重复；不同指标使用相同编码表示同一份材料。",
    "5. 「办理期限」表（可选）：每行一个流程步骤，写明步骤代码（见「代码表」）和工作日数（1 到 "
    f"{MAX_DUE_WORKING_DAYS} 的整数）。",
    "   工作日数留空的步骤按系统设置的期限办理；填写的期限用于采用此版本标准的申报，以及依此标准进行的年度评估。",
    "6. 导入时会逐行检查，任何一行有错，整个文件都不会保存，并列出每个错误所在的表、行、列。",
    "   导入成功后成为该等级新的草稿版本；草稿须经管理员发布后才生效，已发布的版本不会被修改。",
]


def export_filename(standard):
    return f"standard-{standard.tier}-v{standard.version}.xlsx"


# ---- export --------------------------------------------------------------------------------------------------


def export_standard(standard):
    """The standard as .xlsx bytes, in the layout `import_standard` reads."""
    data = standard_as_data(standard)
    workbook = openpyxl.Workbook()
    _write_instructions(workbook.active)
    _write_standard_sheet(workbook.create_sheet(STANDARD), data)
    _write_indicator_sheets(workbook, data)
    _write_period_sheet(workbook.create_sheet(PERIODS), data)
    _write_codes(workbook.create_sheet(CODES))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_instructions(sheet):
    sheet.title = INSTRUCTIONS
    sheet.column_dimensions["A"].width = 110
    for row, line in enumerate(INSTRUCTION_LINES, 1):
        write_text(sheet.cell(row=row, column=1), line)


def _write_standard_sheet(sheet, data):
    write_header(sheet, STANDARD_HEADERS, widths={1: 16, 2: 60, 3: 70})
    for row, (field, label, hint) in enumerate(STANDARD_ROWS, 2):
        write_text(sheet.cell(row=row, column=1), label)
        value = data[field]
        if field in {"total_score", "pass_score", "disagreement_tolerance"}:
            value = _number(value)
        write_value(sheet.cell(row=row, column=2), value)
        write_text(sheet.cell(row=row, column=3), hint)
    sheet.cell(row=5, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    tier_row = 2 + [field for field, _label, _hint in STANDARD_ROWS].index("tier")
    aggregation_row = 2 + [field for field, _label, _hint in STANDARD_ROWS].index("aggregation")
    add_choice_list(sheet, "B", [str(t) for t in CERTIFIABLE], first_row=tier_row, last_row=tier_row)
    add_choice_list(sheet, "B", Standard.Aggregation.values, first_row=aggregation_row, last_row=aggregation_row)


def _number(text):
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else value


def _write_indicator_sheets(workbook, data):
    indicators = workbook.create_sheet(INDICATORS)
    levels = workbook.create_sheet(LEVELS)
    evidence = workbook.create_sheet(EVIDENCE)
    write_header(indicators, [h for _f, h in INDICATOR_COLUMNS], widths={2: 20, 4: 28, 5: 50, 6: 50, 9: 34})
    write_header(levels, [h for _f, h in LEVEL_COLUMNS], widths={5: 80})
    write_header(evidence, [h for _f, h in EVIDENCE_COLUMNS], widths={3: 24, 4: 50, 6: 20})
    rows = {INDICATORS: 2, LEVELS: 2, EVIDENCE: 2}
    for dimension in data["dimensions"]:
        for indicator in dimension["indicators"]:
            values = {
                **indicator,
                "dimension_code": dimension["code"],
                "dimension_title": dimension["title"],
                "max_score": _number(indicator["max_score"]),
                "veto": YES if indicator["veto"] else NO,
                "na_allowed": YES if indicator["na_allowed"] else NO,
            }
            _write_row(
                indicators, rows[INDICATORS], INDICATOR_COLUMNS, values, text_fields={"threshold", "threshold_high"}
            )
            rows[INDICATORS] += 1
            for level in indicator["levels"]:
                values = {
                    **level,
                    "indicator": indicator["code"],
                    "min_score": _number(level["min_score"]),
                    "max_score": _number(level["max_score"]),
                }
                _write_row(levels, rows[LEVELS], LEVEL_COLUMNS, values)
                rows[LEVELS] += 1
            for item in indicator["evidence"]:
                values = {**item, "indicator": indicator["code"], "required": YES if item["required"] else NO}
                _write_row(evidence, rows[EVIDENCE], EVIDENCE_COLUMNS, values)
                rows[EVIDENCE] += 1
    for column in ("K", "L"):
        # Thresholds stay text even when typed afresh: "0.10" keeps its zero and "1/3" never becomes a date.
        indicators.column_dimensions[column].number_format = TEXT_FORMAT
    add_choice_list(indicators, "H", Indicator.Method.values)
    add_choice_list(indicators, "I", f"'{CODES}'!$A$2:$A${len(METRICS) + 1}")
    add_choice_list(indicators, "J", Comparator.values)
    add_choice_list(indicators, "M", [YES, NO])
    add_choice_list(indicators, "N", [YES, NO])
    add_choice_list(evidence, "B", EvidenceStage.values)
    add_choice_list(evidence, "E", [YES, NO])
    add_choice_list(evidence, "F", list(DATASETS))


def _write_period_sheet(sheet, data):
    """Every step, with the standard's period where it gives one and blank where the settings decide."""
    write_header(sheet, [h for _f, h in PERIOD_COLUMNS], widths={1: 28, 2: 36, 3: 12})
    periods = {item["step"]: item["working_days"] for item in data["due_periods"]}
    for row, step in enumerate(DueStep, 2):
        values = {"step": step.value, "title": str(step.label), "working_days": periods.get(step.value, "")}
        _write_row(sheet, row, PERIOD_COLUMNS, values)
    add_choice_list(sheet, "A", DueStep.values)


def _write_row(sheet, row, columns, values, *, text_fields=()):
    for index, (field, _header) in enumerate(columns, 1):
        cell = sheet.cell(row=row, column=index)
        value = values.get(field, "")
        if field in text_fields:
            write_text(cell, value)
        else:
            write_value(cell, value)


def _write_codes(sheet):
    write_header(sheet, ["计算指标", "含义", "单位", "读取的数据模板"], widths={1: 38, 2: 50, 3: 10, 4: 40})
    for row, metric in enumerate(METRICS.values(), 2):
        write_text(sheet.cell(row=row, column=1), metric.code)
        write_text(sheet.cell(row=row, column=2), str(metric.label))
        write_text(sheet.cell(row=row, column=3), metric.unit)
        write_text(sheet.cell(row=row, column=4), "、".join(metric.datasets))
    column = 6
    for title, choices in [
        ("方法", Indicator.Method.choices),
        ("比较", Comparator.choices),
        ("阶段", EvidenceStage.choices),
        ("步骤", DueStep.choices),
        ("数据模板", [(code, "") for code in DATASETS]),
        ("等级", [(str(t), str(Standard(tier=t).get_tier_display())) for t in CERTIFIABLE]),
    ]:
        write_header_cell = sheet.cell(row=1, column=column)
        write_text(write_header_cell, title)
        sheet.column_dimensions[get_column_letter(column)].width = 18
        for row, (code, label) in enumerate(choices, 2):
            write_text(sheet.cell(row=row, column=column), f"{code} {label}".strip())
        column += 1


# ---- import --------------------------------------------------------------------------------------------------


def import_standard(file, *, by=None):
    """Read a workbook and save it as a new draft version of its tier; return the draft.

    Every row of every sheet is checked; on any problem `WorkbookRejected` carries all of them, each as
    (sheet, row, column, message), and nothing is saved. Publishing the draft is a separate step.
    Side effects: those of `certification.domain.standards.load_standard`.
    """
    sheets = _read_sheets(file)
    data, locations, errors, structure_ok = _workbook_to_data(sheets)
    if structure_ok:
        errors.extend(_problems_to_errors(validate_standard_data(data)[1], locations))
    if errors:
        raise WorkbookRejected(_unique(errors))
    try:
        return load_standard(data, by=by, derived_from=_based_on(data))
    except StandardRejected as rejected:
        raise WorkbookRejected(_problems_to_errors(rejected.problems, locations)) from None


def _read_sheets(file):
    """{sheet name: [row tuples]} for the sheets the format uses; unreadable files are refused, not raised."""
    with uploaded_workbook(file, kind="standard") as workbook:
        sheets = {}
        for name in READ_SHEETS:
            if name not in workbook.sheetnames:
                continue
            rows, filled = [], 0
            for values in workbook[name].iter_rows(values_only=True):
                rows.append(tuple(values))
                filled += not is_blank_row(values)
                if filled > MAX_ROWS + 1:
                    raise WorkbookRejected(
                        [CellError(name, None, "", _("A sheet may have at most %(max)s rows.") % {"max": MAX_ROWS})]
                    )
            sheets[name] = rows
        return sheets


def _workbook_to_data(sheets):
    """Turn sheet rows into the standard's dict, remembering where every value came from.

    Returns (data, locations, errors, structure_ok). `locations` maps a path into `data` to (sheet, row, column).
    """
    errors, locations = [], {}
    structure_ok = True
    if not sheets:
        errors.append(CellError("", None, "", _("The workbook is empty: it has none of the sheets of a standard.")))
        return {}, locations, errors, False
    for name in READ_SHEETS:
        if name not in sheets and name not in OPTIONAL_SHEETS:
            errors.append(CellError(name, None, "", _("The sheet “%(sheet)s” is missing.") % {"sheet": name}))
            structure_ok = False
    for name, expected in [(STANDARD, STANDARD_HEADERS[:2])] + [
        (n, [h for _f, h in c]) for n, c in SHEET_COLUMNS.items()
    ]:
        if name in sheets and not _headers_ok(name, sheets[name], expected, errors):
            structure_ok = False
    if not structure_ok:
        return {}, locations, errors, False

    data = _read_standard_sheet(sheets[STANDARD], locations, errors)
    data["dimensions"] = []
    by_code = _read_indicator_sheet(sheets[INDICATORS], data["dimensions"], locations, errors)
    _read_children(sheets[LEVELS], LEVELS, LEVEL_COLUMNS, "levels", by_code, data, locations, errors)
    _read_children(sheets[EVIDENCE], EVIDENCE, EVIDENCE_COLUMNS, "evidence", by_code, data, locations, errors)
    data["due_periods"] = _read_periods(sheets.get(PERIODS, []), locations)
    if not data["dimensions"]:
        locations[("dimensions",)] = (INDICATORS, None, "")
    return data, locations, errors, True


def _headers_ok(name, rows, expected, errors):
    header = rows[0] if rows else ()
    ok = True
    for index, wanted in enumerate(expected):
        found = cell_text(header[index]) if index < len(header) else ""
        if found != wanted:
            ok = False
            errors.append(
                CellError(
                    name,
                    1,
                    get_column_letter(index + 1),
                    _("The header of this column must be “%(expected)s”, not “%(found)s”.")
                    % {"expected": wanted, "found": found},
                )
            )
    return ok


def _read_standard_sheet(rows, locations, errors):
    labels = {label: field for field, label, _hint in STANDARD_ROWS}
    data, seen = {}, {}
    for row_number, values in enumerate(rows[1:], 2):
        if is_blank_row(values):
            continue
        label = cell_text(values[0])
        if label not in labels:
            errors.append(
                CellError(
                    STANDARD,
                    row_number,
                    "A",
                    _("“%(label)s” is not an item of a standard; the items are: %(labels)s.")
                    % {"label": label, "labels": "、".join(labels)},
                )
            )
            continue
        if label in seen:
            errors.append(
                CellError(
                    STANDARD,
                    row_number,
                    "A",
                    _("“%(label)s” already appears in row %(row)s.") % {"label": label, "row": seen[label]},
                )
            )
            continue
        seen[label] = row_number
        field = labels[label]
        data[field] = values[1] if len(values) > 1 else None
        locations[(field,)] = (STANDARD, row_number, "B")
    for field, label, _hint in STANDARD_ROWS:
        # A workbook exported before the yearly review's panel existed has no such row: the office concludes alone.
        if label not in seen and field not in ("version", "yearly_evaluators"):
            errors.append(CellError(STANDARD, None, "A", _("The row “%(label)s” is missing.") % {"label": label}))
    # The version in the file records what it was exported from; an import always becomes the next version.
    data["based_on"] = data.pop("version", None)
    data["version"] = None
    return data


def _row_values(columns, values):
    padded = tuple(values) + (None,) * (len(columns) - len(values))
    return {field: padded[index] for index, (field, _header) in enumerate(columns)}


def _read_indicator_sheet(rows, dimensions, locations, errors):
    """Group indicator rows into dimensions (in the order they first appear); return {code: path of indicator}."""
    dimension_index, by_code = {}, {}
    for row_number, values in enumerate(rows[1:], 2):
        if is_blank_row(values):
            continue
        raw = _row_values(INDICATOR_COLUMNS, values)
        dimension_code = cell_text(raw["dimension_code"])
        if dimension_code not in dimension_index:
            i = len(dimensions)
            dimension_index[dimension_code] = i
            dimensions.append({"code": raw["dimension_code"], "title": raw["dimension_title"], "indicators": []})
            locations[("dimensions", i)] = (INDICATORS, row_number, "A")
            locations[("dimensions", i, "code")] = (INDICATORS, row_number, "A")
            locations[("dimensions", i, "title")] = (INDICATORS, row_number, "B")
        else:
            i = dimension_index[dimension_code]
            first_title = cell_text(dimensions[i]["title"])
            if cell_text(raw["dimension_title"]) != first_title:
                errors.append(
                    CellError(
                        INDICATORS,
                        row_number,
                        "B",
                        _("The dimension “%(code)s” is called “%(title)s” in row %(row)s; use the same name.")
                        % {"code": dimension_code, "title": first_title, "row": locations[("dimensions", i)][1]},
                    )
                )
        j = len(dimensions[i]["indicators"])
        indicator = {field: raw[field] for field, _header in INDICATOR_COLUMNS[2:]}
        indicator.update(levels=[], evidence=[])
        dimensions[i]["indicators"].append(indicator)
        path = ("dimensions", i, "indicators", j)
        locations[path] = (INDICATORS, row_number, "C")
        for index, (field, _header) in enumerate(INDICATOR_COLUMNS):
            locations[(*path, field)] = (INDICATORS, row_number, get_column_letter(index + 1))
        # Problems with the indicator's levels or evidence as a whole point at the indicator until rows exist.
        locations[(*path, "levels")] = (INDICATORS, row_number, "C")
        locations[(*path, "evidence")] = (INDICATORS, row_number, "C")
        code = cell_text(raw["code"])
        if code and code not in by_code:
            by_code[code] = path
    return by_code


def _read_children(rows, sheet, columns, key, by_code, data, locations, errors):
    first_row_of = {}
    for row_number, values in enumerate(rows[1:], 2):
        if is_blank_row(values):
            continue
        raw = _row_values(columns, values)
        code = cell_text(raw["indicator"])
        path = by_code.get(code)
        if path is None:
            errors.append(
                CellError(
                    sheet,
                    row_number,
                    "A",
                    _("There is no indicator “%(code)s” in the sheet “%(sheet)s”.")
                    % {"code": code, "sheet": INDICATORS},
                )
            )
            continue
        _d, i, _i, j = path
        items = data["dimensions"][i]["indicators"][j][key]
        k = len(items)
        items.append({field: raw[field] for field, _header in columns[1:]})
        if path not in first_row_of:
            first_row_of[path] = row_number
            locations[(*path, key)] = (sheet, row_number, "A")
        locations[(*path, key, k)] = (sheet, row_number, "A")
        for index, (field, _header) in enumerate(columns):
            locations[(*path, key, k, field)] = (sheet, row_number, get_column_letter(index + 1))


def _read_periods(rows, locations):
    """The 办理期限 rows as the dict's `due_periods`; `standard_rules.check_due_periods` judges them."""
    periods = []
    for row_number, values in enumerate(rows[1:], 2):
        if is_blank_row(values):
            continue
        raw = _row_values(PERIOD_COLUMNS, values)
        k = len(periods)
        periods.append({"step": raw["step"], "working_days": raw["working_days"]})
        locations[("due_periods", k)] = (PERIODS, row_number, "A")
        locations[("due_periods", k, "step")] = (PERIODS, row_number, "A")
        locations[("due_periods", k, "working_days")] = (PERIODS, row_number, "C")
    return periods


def _problems_to_errors(problems, locations):
    errors = []
    for problem in problems:
        path = tuple(problem.path)
        while path and path not in locations:
            path = path[:-1]
        sheet, row, column = locations.get(path, (STANDARD, None, ""))
        errors.append(CellError(sheet, row, column, problem.message))
    return errors


def _unique(errors):
    seen, unique = set(), []
    for error in errors:
        if error not in seen:
            seen.add(error)
            unique.append(error)
    return sorted(unique, key=_sheet_order)


def _sheet_order(error):
    order = list(READ_SHEETS)
    sheet_rank = order.index(error.sheet) if error.sheet in order else -1
    return (sheet_rank, error.row or 0, error.column)


def _based_on(data):
    """The version the workbook was exported from, when it is a version of the same tier."""
    try:
        version = int(cell_text(data.get("based_on")))
    except ValueError:
        return None
    return Standard.objects.filter(tier=cell_text(data.get("tier")), version=version).first()
