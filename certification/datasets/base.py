"""Columns and data sets: how one Excel row becomes one typed row, and why a cell is refused.

The workbook is a Chinese-language exchange format: sheet names and headers are fixed Chinese text (the importer
matches them whatever language the page is shown in), while every reason given for a refused cell goes through
gettext like any other message a user reads.
"""

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

YES, NO = "是", "否"
MIN_YEAR, MAX_YEAR = 2000, 2100
# Full-width and ASCII separators people type between school names.
SCHOOL_SEPARATORS = re.compile(r"[、,，;；\n]+")
SEMESTER = re.compile(r"^(\d{4})-([12])$")
# Dates typed as text: 2025-09-01, 2025/9/1, 2025.9.1, 2025年9月1日.
DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


class CellError(ValueError):
    """A cell's value is refused; the message says what to fix."""


@dataclass(frozen=True)
class ImportContext:
    """What validation needs to know about the application: its cluster's schools by name."""

    schools_by_name: dict  # name -> School

    @property
    def school_names(self):
        return list(self.schools_by_name)


@dataclass(frozen=True)
class Column:
    """One column of a data set's sheet.

    kind: text, integer, decimal, percent, year, date, yes_no, choice, school, schools, semester.
    A percent is entered as a number 0–100 ("98.5" is 98.5%); a cell formatted as percentage is read as such.
    """

    key: str
    header: str
    kind: str
    required: bool = True
    minimum: Decimal | int | None = None
    maximum: Decimal | int | None = None
    places: int = 2
    max_length: int = 100
    choices: dict = field(default_factory=dict)  # Chinese label -> code
    note: str = ""  # one line in the instructions sheet
    field: str = ""  # the row model's field, when it is not `key` (or `<key>_id` for a school)

    @property
    def model_field(self):
        """The row model's field that stores this column."""
        if self.field:
            return self.field
        return f"{self.key}_id" if self.kind == "school" else self.key

    def parse(self, value, number_format, context):
        """The cell's value as Python data, None for an empty optional cell, or CellError."""
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            if self.required:
                raise CellError(_("This cell is required."))
            return None
        return getattr(self, f"_parse_{self.kind}")(value, number_format, context)

    def _parse_text(self, value, number_format, context):
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a staff id typed as a number
        text = str(value).strip()
        if len(text) > self.max_length:
            raise CellError(_("Text is too long: at most %(max)s characters.") % {"max": self.max_length})
        return text

    def _parse_integer(self, value, number_format, context):
        if isinstance(value, bool):
            raise CellError(_("Enter a whole number."))
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise CellError(_("Enter a whole number.")) from None
        if number != number.to_integral_value():
            raise CellError(_("Enter a whole number."))
        return int(self._in_range(number))

    def _parse_year(self, value, number_format, context):
        year = self._parse_integer(value, number_format, context)
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise CellError(_("Enter a school year such as 2025."))
        return year

    def _parse_decimal(self, value, number_format, context, scale=1):
        if isinstance(value, bool | datetime.date):
            raise CellError(_("Enter a number."))
        try:
            # str() of a float is its shortest repr, so 98.5 stays 98.5 rather than 98.4999…
            number = Decimal(str(value)) * scale
        except InvalidOperation:
            raise CellError(_("Enter a number.")) from None
        if not number.is_finite():
            raise CellError(_("Enter a number."))
        number = self._in_range(number)
        quantum = Decimal(1).scaleb(-self.places)
        if number != number.quantize(quantum):
            raise CellError(_("Enter at most %(places)s decimal places.") % {"places": self.places})
        return number.quantize(quantum)

    def _parse_percent(self, value, number_format, context):
        formatted = isinstance(value, int | float) and "%" in (number_format or "")
        number = self._parse_decimal(value, number_format, context, scale=100 if formatted else 1)
        if not formatted and 0 < number <= 1:
            # 0.99 typed for 99% would silently read as 0.99%: no share the templates ask for is that small.
            raise CellError(
                _("%(value)s looks like a fraction. Enter the percentage as a number from 0 to 100, e.g. 99 for 99%%.")
                % {"value": format(number.normalize(), "f")}
            )
        return number

    def _in_range(self, number):
        if (self.minimum is not None and number < self.minimum) or (self.maximum is not None and number > self.maximum):
            raise CellError(
                _("Enter a number between %(min)s and %(max)s.") % {"min": self.minimum, "max": self.maximum}
            )
        return number

    def _parse_date(self, value, number_format, context):
        if isinstance(value, datetime.datetime):
            value = value.date()
        elif isinstance(value, str):
            match = DATE_TEXT.match(value)
            try:
                value = datetime.date(*(int(part) for part in match.groups())) if match else None
            except ValueError:
                value = None  # 2025-02-30
        if not isinstance(value, datetime.date) or not MIN_YEAR <= value.year <= MAX_YEAR:
            raise CellError(_("Enter a date such as 2025-09-01."))
        return value

    def _parse_yes_no(self, value, number_format, context):
        if value in (YES, True):
            return True
        if value in (NO, False):
            return False
        raise CellError(_("Enter 是 or 否."))

    def _parse_choice(self, value, number_format, context):
        if value not in self.choices:
            raise CellError(_("Choose one of: %(choices)s.") % {"choices": "、".join(self.choices)})
        return self.choices[value]

    def _parse_school(self, value, number_format, context):
        school = context.schools_by_name.get(str(value).strip())
        if school is None:
            raise CellError(
                _("“%(school)s” is not a school of this cluster. Use a name from the template's list.")
                % {"school": value}
            )
        return school

    def _parse_schools(self, value, number_format, context):
        schools = []
        for name in SCHOOL_SEPARATORS.split(str(value)):
            name = name.strip()
            if not name:
                continue
            school = self._parse_school(name, number_format, context)
            if school in schools:
                raise CellError(_("“%(school)s” is listed twice.") % {"school": name})
            schools.append(school)
        if not schools and self.required:
            raise CellError(_("This cell is required."))
        return schools

    def _parse_semester(self, value, number_format, context):
        match = SEMESTER.match(str(value).strip())
        if match is None or not MIN_YEAR <= int(match.group(1)) <= MAX_YEAR:
            raise CellError(_("Enter a semester such as 2025-1 (the school year, a hyphen, then 1 or 2)."))
        return match.group(0)


@dataclass(frozen=True)
class Dataset:
    """A data set: its sheet, columns, the columns that identify a record, cross-field checks and its row model.

    `check(values)` returns a list of (column key, reason) for rules between cells of one row;
    `to_fields(values)` maps parsed values to the row model's fields (`year` included).
    """

    code: str
    title: str  # the sheet's name, also shown on pages
    columns: tuple
    key: tuple
    model: type
    to_fields: object
    check: object = None
    instructions: tuple = ()
    example: tuple = ()  # one example row for the instructions sheet
    # Rules across rows and data sets, run once every row of an import is read: (dataset_import) -> a list of
    # (row number, column key, reason). Rows of the import are in the database, not yet current.
    check_import: object = None

    @property
    def headers(self):
        return [column.header for column in self.columns]

    @property
    def fields(self):
        """The row model's fields that hold the sheet's data: the school year, then one per column."""
        fields = ["year"]
        fields += [column.model_field for column in self.columns if column.model_field not in fields]
        return tuple(fields)

    def column(self, key):
        return next(column for column in self.columns if column.key == key)

    def column_number(self, key):
        """The 1-based position of the column `key` in the sheet."""
        return next(number for number, column in enumerate(self.columns, 1) if column.key == key)


def school_year_of(date):
    """The school year (学年) a date falls in: from August it is that year's, before August the previous one's."""
    return date.year if date.month >= 8 else date.year - 1


def stage_choices(*stages):
    labels = {"kindergarten": "幼儿园", "primary": "小学", "junior": "初中", "senior": "高中"}
    return {labels[stage]: stage for stage in stages}
