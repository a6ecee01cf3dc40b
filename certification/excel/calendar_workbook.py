"""The holiday calendar in Excel: a template to fill in, and its import, row by row, all or nothing.

One sheet, one row per date: 日期 (a date cell or text 2027-01-01), 类型 (休息日 / 调休上班日), 名称 (e.g. 元旦).
Every row is checked before anything is saved; a refused workbook lists each problem with its row and column
(`WorkbookRejected`, shown by the page like a refused standard).
"""

import io
from datetime import date, datetime

import openpyxl
from django.utils.translation import gettext as _

from certification.domain.calendar import save_calendar_days
from certification.models import CalendarDay

from .cells import add_choice_list, cell_text, is_blank_row, write_header, write_text
from .reading import CellError, WorkbookRejected, uploaded_workbook

MAX_ROWS = 2000
NAME_LENGTH = CalendarDay._meta.get_field("name").max_length


def sheet_name():
    return _("Holiday calendar")


def kinds_by_label():
    """{label a person types: kind}: the Chinese labels, and the codes for files written by a program."""
    return {**{str(label): value for value, label in CalendarDay.Kind.choices}, **{v: v for v in CalendarDay.Kind}}


def template_workbook(days=()):
    """An .xlsx to fill in: the header, a drop-down of kinds, and `days` (CalendarDay rows) already filled in."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = sheet_name()
    write_header(sheet, [_("Date"), _("Kind"), _("Name")], widths={1: 14, 2: 16, 3: 24})
    add_choice_list(sheet, "B", [str(label) for _value, label in CalendarDay.Kind.choices])
    for index, day in enumerate(days, 2):
        write_text(sheet.cell(row=index, column=1), f"{day.date:%Y-%m-%d}")
        write_text(sheet.cell(row=index, column=2), day.get_kind_display())
        write_text(sheet.cell(row=index, column=3), day.name)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_calendar(upload, *, by):
    """Read the workbook and save every row (`save_calendar_days`), or raise WorkbookRejected listing every problem.

    Returns (created, updated).
    """
    rows = read_calendar(upload)
    return save_calendar_days(rows, by=by)


def read_calendar(upload):
    """[(date, kind, name)] of the workbook's rows; WorkbookRejected with every problem found, nothing kept."""
    with uploaded_workbook(upload, kind="calendar") as workbook:
        sheet = workbook.worksheets[0]
        name = sheet.title
        kinds = kinds_by_label()
        errors, rows, seen = [], [], {}
        for number, values in enumerate(sheet.iter_rows(min_row=2, max_col=3, values_only=True), 2):
            values = tuple(values) + (None,) * (3 - len(values))
            if is_blank_row(values):
                continue
            if len(rows) + len(errors) >= MAX_ROWS:
                errors.append(CellError(name, number, "", _("More than %(count)s rows.") % {"count": MAX_ROWS}))
                break
            raw_date, raw_kind, raw_name = values
            day = _date(raw_date)
            if day is None:
                errors.append(
                    CellError(
                        name,
                        number,
                        "A",
                        _("“%(value)s” is not a date (write 2027-01-01).") % {"value": cell_text(raw_date)},
                    )
                )
            elif day in seen:
                errors.append(
                    CellError(
                        name,
                        number,
                        "A",
                        _("The date %(date)s is already on row %(row)s.")
                        % {"date": f"{day:%Y-%m-%d}", "row": seen[day]},
                    )
                )
            else:
                seen[day] = number
            kind = kinds.get(cell_text(raw_kind))
            if kind is None:
                errors.append(
                    CellError(
                        name,
                        number,
                        "B",
                        _("The kind must be %(choices)s, not “%(value)s”.")
                        % {
                            "choices": " / ".join(str(label) for _value, label in CalendarDay.Kind.choices),
                            "value": cell_text(raw_kind),
                        },
                    )
                )
            text = cell_text(raw_name)
            if len(text) > NAME_LENGTH:
                errors.append(
                    CellError(
                        name, number, "C", _("The name is longer than %(count)s characters.") % {"count": NAME_LENGTH}
                    )
                )
            if day is not None and kind is not None:
                rows.append((day, kind, text))
    if not errors and not rows:
        errors.append(CellError(name, None, "", _("The workbook has no dates.")))
    if errors:
        raise WorkbookRejected(errors)
    return rows


def _date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(cell_text(value).replace("/", "-"))
    except ValueError:
        return None
