"""Reading a filled data set workbook in one streamed pass: every row checked, every checked row handed on.

Memory does not grow with the sheet: openpyxl's read-only mode streams the sheet's XML and `read` holds one row at a
time. The only per-row state kept is an 8-byte digest of each record's key with its row number (to report
duplicates, about 100 bytes a row) and at most `MAX_ERRORS_LISTED` error entries.
While no error has been found, each valid row goes to `on_record` (the domain writes them in batches that are not
current until the import finishes); after the first error rows are only checked, so that every error is reported.
The caller discards what it wrote when the outcome is not ok.
"""

import hashlib
import zipfile
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from .base import CellError

MAX_ROWS = 100_000
MAX_ERRORS_LISTED = 500
# A workbook that unpacks to more than this is refused before openpyxl parses anything.
MAX_UNPACKED_BYTES = 400 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200


class WorkbookRefused(Exception):
    """The file as a whole cannot be read as the data set's workbook."""

    def __init__(self, error):
        super().__init__(error["message"])
        self.error = error


def error_entry(message, *, sheet="", row=None, column=None, header=""):
    """One refusal as stored on the import and shown on the page: where, and what to fix."""
    return {
        "sheet": sheet,
        "row": row,
        "column": get_column_letter(column) if column else "",
        "header": header,
        "message": str(message),
    }


@dataclass
class Validation:
    errors: list = field(default_factory=list)
    error_count: int = 0
    rows: int = 0
    years: set = field(default_factory=set)

    def add(self, entry):
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_LISTED:
            self.errors.append(entry)

    @property
    def ok(self):
        return self.error_count == 0

    def listed_errors(self):
        """The errors to store, with one closing line when some were left out."""
        errors = list(self.errors)
        unlisted = self.error_count - len(errors)
        if unlisted > 0:
            errors.append(error_entry(_("%(count)s more errors are not listed.") % {"count": unlisted}))
        return errors


def _check_archive(path):
    not_xlsx = error_entry(
        _("The file is not an Excel workbook (.xlsx). Download the template, fill it in and upload it.")
    )
    if not zipfile.is_zipfile(path):
        raise WorkbookRefused(not_xlsx)
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise WorkbookRefused(not_xlsx) from None
    names = {entry.filename for entry in entries}
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise WorkbookRefused(not_xlsx)
    unpacked = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries) or 1
    if unpacked > MAX_UNPACKED_BYTES or unpacked / packed > MAX_COMPRESSION_RATIO:
        raise WorkbookRefused(
            error_entry(_("The workbook is too large when unpacked. Split the data into smaller files."))
        )


def open_sheet(dataset, path):
    """The workbook (read-only, values not formulas) and the data set's sheet, or WorkbookRefused."""
    _check_archive(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (KeyError, InvalidFileException, XML errors) for a broken file
        raise WorkbookRefused(
            error_entry(
                _("The file is not an Excel workbook (.xlsx). Download the template, fill it in and upload it.")
            )
        ) from None
    if dataset.title not in workbook.sheetnames:
        workbook.close()
        raise WorkbookRefused(
            error_entry(
                _(
                    "The workbook has no sheet named “%(sheet)s”. Use the downloaded template without renaming its sheets."
                )
                % {"sheet": dataset.title},
                sheet=dataset.title,
            )
        )
    return workbook, workbook[dataset.title]


def _header_errors(dataset, sheet):
    width = len(dataset.columns)
    header_row = next(sheet.iter_rows(min_row=1, max_row=1, max_col=width, values_only=True), ())
    found = [str(value).strip() if value is not None else "" for value in header_row]
    found += [""] * (width - len(found))
    return [
        error_entry(
            _("The header should be “%(expected)s” but is “%(found)s”. Do not change the template's header row.")
            % {"expected": column.header, "found": value},
            sheet=dataset.title,
            row=1,
            column=index,
            header=column.header,
        )
        for index, (column, value) in enumerate(zip(dataset.columns, found, strict=True), 1)
        if value != column.header
    ]


def _data_rows(dataset, sheet):
    """(row number, cells) of each non-blank row below the header."""
    width = len(dataset.columns)
    for row_number, cells in enumerate(sheet.iter_rows(min_row=2, max_col=width), 2):
        if any(cell.value is not None and str(cell.value).strip() != "" for cell in cells):
            yield row_number, cells


def _parse(dataset, cells, context):
    """The row's parsed values and its errors as (column index, message)."""
    values, errors = {}, []
    for index, (column, cell) in enumerate(zip(dataset.columns, cells, strict=False), 1):
        try:
            values[column.key] = column.parse(cell.value, cell.number_format, context)
        except CellError as error:
            errors.append((index, str(error)))
    if not errors and dataset.check is not None:
        positions = {column.key: index for index, column in enumerate(dataset.columns, 1)}
        errors = [(positions[key], message) for key, message in dataset.check(values)]
    return values, errors


def _key_digest(dataset, values):
    key = tuple(getattr(values[name], "pk", values[name]) for name in dataset.key)
    return int.from_bytes(hashlib.blake2b(repr(key).encode(), digest_size=8).digest(), "big")


def _key_label(dataset, values):
    return "、".join(
        f"{dataset.column(name).header}“{getattr(values[name], 'name', values[name])}”" for name in dataset.key
    )


def read(dataset, path, context, *, on_progress=None, on_record=None):
    """Check every row of the workbook at `path`; hand each valid row to `on_record(row number, model fields)` while
    no error has been found. Returns a Validation."""
    outcome = Validation()
    try:
        workbook, sheet = open_sheet(dataset, path)
    except WorkbookRefused as refused:
        outcome.add(refused.error)
        return outcome
    try:
        for entry in _header_errors(dataset, sheet):
            outcome.add(entry)
        if not outcome.ok:
            return outcome
        total = max((sheet.max_row or 1) - 1, 1)
        first_row_of_key = {}
        for row_number, cells in _data_rows(dataset, sheet):
            outcome.rows += 1
            if outcome.rows > MAX_ROWS:
                outcome.add(
                    error_entry(
                        _("The sheet has more than %(max)s data rows. Split the data into several files.")
                        % {"max": MAX_ROWS},
                        sheet=dataset.title,
                        row=row_number,
                    )
                )
                break
            values, errors = _parse(dataset, cells, context)
            for index, message in errors:
                header = dataset.columns[index - 1].header
                outcome.add(error_entry(message, sheet=dataset.title, row=row_number, column=index, header=header))
            if not errors:
                digest = _key_digest(dataset, values)
                first = first_row_of_key.setdefault(digest, row_number)
                if first != row_number:
                    outcome.add(
                        error_entry(
                            _("This row repeats row %(row)s (the same %(key)s). Keep one of them.")
                            % {"row": first, "key": _key_label(dataset, values)},
                            sheet=dataset.title,
                            row=row_number,
                            column=dataset.columns.index(dataset.column(dataset.key[0])) + 1,
                            header=dataset.column(dataset.key[0]).header,
                        )
                    )
                fields = dataset.to_fields(values)
                outcome.years.add(fields["year"])
                if on_record is not None and outcome.ok:
                    on_record(row_number, fields)
            if on_progress is not None and outcome.rows % 1000 == 0:
                on_progress(outcome.rows, total)
        if outcome.rows == 0:
            outcome.add(
                error_entry(
                    _("The sheet has no data rows. Fill in at least one row below the header."),
                    sheet=dataset.title,
                    row=2,
                )
            )
    finally:
        workbook.close()
    return outcome
