"""The Excel template a lead downloads for a data set: a header row, data validation, and an instructions sheet.

The cluster's school names go to a hidden sheet and feed a list validation, because an inline list is limited to
255 characters and twelve long school names do not fit.
"""

import datetime
from io import BytesIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from certification.models import ClusterMembership

from .base import MAX_YEAR, MIN_YEAR, NO, YES

INSTRUCTIONS_SHEET = "说明"
SCHOOLS_SHEET = "学校名单"
# Validation reaches this row: the 50,000-row roster fits with room to spare.
VALIDATED_ROWS = 60_001
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")

KIND_HINTS = {
    "text": "文本",
    "integer": "整数",
    "year": "学年（四位数字）",
    "decimal": "数字",
    "percent": "百分数的数值（0–100）",
    "date": "日期",
    "yes_no": "是 / 否",
    "choice": "从下拉列表选择",
    "school": "学校（从下拉列表选择）",
    "schools": "学校名称，用“、”分隔",
    "semester": "学期，如 2025-1",
}


def _safe_text(value):
    """Text cells never start a formula, whatever a school or course is called."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _validation(column, schools_range):
    """The DataValidation for a column, or None when Excel cannot check it (free text)."""
    error_title = "输入有误"
    common = {"allow_blank": not column.required, "showErrorMessage": True, "errorTitle": error_title}
    if column.kind == "yes_no":
        return DataValidation(type="list", formula1=f'"{YES},{NO}"', error="请选择“是”或“否”。", **common)
    if column.kind == "choice":
        labels = ",".join(column.choices)
        return DataValidation(type="list", formula1=f'"{labels}"', error=f"请从下拉列表选择：{labels}。", **common)
    if column.kind == "school":
        return DataValidation(
            type="list", formula1=schools_range, error="请从下拉列表选择本学区/集团的学校。", **common
        )
    if column.kind in ("integer", "year"):
        low, high = (MIN_YEAR, MAX_YEAR) if column.kind == "year" else (column.minimum, column.maximum)
        return DataValidation(
            type="whole",
            operator="between",
            formula1=str(low),
            formula2=str(high),
            error=f"请输入 {low} 至 {high} 之间的整数。",
            **common,
        )
    if column.kind in ("decimal", "percent"):
        return DataValidation(
            type="decimal",
            operator="between",
            formula1=str(column.minimum),
            formula2=str(column.maximum),
            error=f"请输入 {column.minimum} 至 {column.maximum} 之间的数字。",
            **common,
        )
    if column.kind == "date":
        # Excel stores dates as serial numbers; these are 2000-01-01 and 2100-12-31.
        return DataValidation(
            type="date",
            operator="between",
            formula1="36526",
            formula2="73415",
            error="请输入 2000-01-01 至 2100-12-31 之间的日期，如 2025-09-01。",
            **common,
        )
    if column.kind == "semester":
        return DataValidation(
            type="textLength", operator="equal", formula1="6", error="请按“学年-学期”填写，如 2025-1。", **common
        )
    return None


def _instructions(sheet, dataset, cluster):
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 22
    sheet.column_dimensions["C"].width = 90
    sheet.append([f"{dataset.title} 数据模板填写说明"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([f"学区/集团：{_safe_text(cluster.name)}"])
    sheet.append([])
    general = [
        f"1. 在工作表“{dataset.title}”中从第2行起每行填写一条记录，不要修改表头、不要重命名或删除工作表。",
        "2. 导入时会检查每一行；只要有一处错误，整个文件都不会导入，页面会列出每处错误所在的工作表、行、列和原因，修改后重新上传即可。",
        "3. 重新导入同一数据集会替换本次申报中该数据集的全部数据；以前的导入记录和文件会保留。",
        "4. 学年均指学年起始年份，如 2025 表示 2025 学年（2025年9月至2026年8月）。"
        "“比上年增加”“逐年进步”等指标需要上一学年的数据，请把两个学年的数据填在同一个文件中。",
        "5. 上传的工作簿同时作为本申报的佐证材料保存。",
        *(f"{index}. {line}" for index, line in enumerate(dataset.instructions, 6)),
    ]
    for line in general:
        sheet.append([line])
    sheet.append([])
    sheet.append(["列", "填写要求", "说明"])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for column in dataset.columns:
        requirement = KIND_HINTS[column.kind] + ("（必填）" if column.required else "（选填）")
        sheet.append([column.header, requirement, column.note])
    if dataset.example:
        sheet.append([])
        sheet.append(["示例（请勿填在本页）"])
        sheet.append([_safe_text(value) for value in dataset.example])
    for row in sheet.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def build_template(dataset, cluster):
    """The template workbook of `dataset` for `cluster`, as .xlsx bytes."""
    school_names = list(
        ClusterMembership.objects.filter(cluster=cluster).order_by("id").values_list("school__name", flat=True)
    )
    workbook = Workbook()
    data = workbook.active
    data.title = dataset.title
    instructions = workbook.create_sheet(INSTRUCTIONS_SHEET)
    names = workbook.create_sheet(SCHOOLS_SHEET)
    names.sheet_state = "hidden"
    for name in school_names:
        names.append([_safe_text(name)])
    schools_range = f"{quote_sheetname(SCHOOLS_SHEET)}!$A$1:$A${max(len(school_names), 1)}"

    data.append(dataset.headers)
    data.freeze_panes = "A2"
    for index, column in enumerate(dataset.columns, 1):
        letter = get_column_letter(index)
        header = data.cell(row=1, column=index)
        header.font = Font(bold=True)
        header.fill = HEADER_FILL
        data.column_dimensions[letter].width = max(14, len(column.header) * 2 + 4)
        validation = _validation(column, schools_range)
        if validation is not None:
            validation.promptTitle = column.header
            validation.prompt = (column.note or KIND_HINTS[column.kind])[:255]
            validation.showInputMessage = True
            validation.add(f"{letter}2:{letter}{VALIDATED_ROWS}")
            data.add_data_validation(validation)
        if column.kind == "date":
            for row in range(2, 1002):
                data.cell(row=row, column=index).number_format = "yyyy-mm-dd"
    _instructions(instructions, dataset, cluster)
    workbook.properties.title = dataset.title
    workbook.properties.created = datetime.datetime.now()
    stream = BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def _written_cell(sheet, value):
    """A cell holding `value` as typed: text stays text (never a formula, whatever its first character), a number a
    number, a boolean a boolean, None an empty cell."""
    if value is None:
        return None
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def filled_workbook(dataset, rows):
    """The data set's sheet filled with `rows` (lists of cell values in column order) below the template's header,
    as .xlsx bytes: what a lead would upload after filling in the template. Streamed (write-only)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(dataset.title)
    sheet.append(dataset.headers)
    for values in rows:
        sheet.append([_written_cell(sheet, value) for value in values])
    workbook.properties.title = dataset.title
    stream = BytesIO()
    workbook.save(stream)
    return stream.getvalue()
