"""Writing and reading spreadsheet cells safely; reuse these for every workbook the product hands out or reads.

Formula injection: text a user typed (a title, a school name, a comment) must never become a formula when the
file is opened. openpyxl turns any str that starts with "=" into a formula cell, and CSV consumers evaluate text
starting with = + - @ (or a tab / carriage return before one of those). So:

* in an .xlsx, write user text with `write_text(cell, value)`: the cell is stored as a string whatever its first
  character, and the value survives a round trip unchanged;
* where the data type cannot be set (CSV, a clipboard, a formula argument), use `safe_text(value)`, which puts an
  apostrophe in front of a dangerous first character — Excel shows the text and evaluates nothing.

Reading: openpyxl must parse the XML inside a workbook with defusedxml (entity expansion and external entities are
refused). It does so whenever defusedxml is importable; `ensure_safe_parser()` makes that a hard requirement.
"""

from decimal import Decimal

import openpyxl
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Text cells: Excel keeps what is typed into them as text ("0.10" stays "0.10", "1/3" is not a date).
TEXT_FORMAT = "@"
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")


def ensure_safe_parser():
    """Refuse to read untrusted workbooks unless openpyxl parses with defusedxml."""
    if not openpyxl.DEFUSEDXML:
        raise ImproperlyConfigured("openpyxl must parse workbooks with defusedxml: install defusedxml")


def _clean(value):
    # Control characters are illegal in the XML of a workbook; openpyxl would refuse the whole file.
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def safe_text(value):
    """`value` as text that no spreadsheet will evaluate: a leading = + - @ tab or CR gets an apostrophe."""
    text = "" if value is None else _clean(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def write_text(cell, value):
    """Put user text in an .xlsx cell as a string, never a formula, keeping the text exactly."""
    cell.value = "" if value is None else _clean(value)
    cell.data_type = "s"
    cell.number_format = TEXT_FORMAT
    return cell


def write_value(cell, value):
    """Write a number or a boolean as itself and anything else as safe text."""
    if isinstance(value, bool | int | float | Decimal):
        cell.value = value
        return cell
    return write_text(cell, value)


def cell_text(value):
    """A read cell as stripped text: None → "", 5.0 → "5", 0.1 → "0.1"."""
    if value is None:
        return ""
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value).strip()


def is_blank_row(values):
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def write_header(sheet, headers, *, widths=None):
    """Bold white-on-blue header row, frozen, with column widths."""
    for index, header in enumerate(headers, 1):
        cell = write_text(sheet.cell(row=1, column=index), header)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = (widths or {}).get(index, 16)
    sheet.freeze_panes = "A2"


def add_choice_list(sheet, column, choices_formula, *, first_row=2, last_row=1000, prompt=""):
    """A drop-down on `column` (a letter) rows first_row..last_row.

    `choices_formula` is either a list of short codes (joined into an inline list; Excel allows 255 characters)
    or a range such as "'代码表'!$A$2:$A$30".
    """
    inline = isinstance(choices_formula, list | tuple)
    formula = '"' + ",".join(choices_formula) + '"' if inline else choices_formula
    validation = DataValidation(type="list", formula1=formula, allow_blank=True, showDropDown=False)
    validation.error = gettext("Choose a value from the list.")
    validation.errorTitle = gettext("Invalid value")
    if prompt:
        validation.prompt = prompt
        validation.showInputMessage = True
    validation.add(f"{column}{first_row}:{column}{last_row}")
    sheet.add_data_validation(validation)
    return validation
