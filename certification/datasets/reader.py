"""Reading a filled data set workbook (.xlsx, or .ods from LibreOffice and WPS): every row checked, every checked row
handed on.

Before any parser sees the file, the archive itself is judged from its zip directory and a streamed look at its XML:
a part that unpacks too far (a zip bomb) or declares a DTD (entity expansion) is refused, and so is a sheet with more
rows than the data set takes, counted from its XML without parsing it (a million-row sheet is refused in well under a
second instead of held for half a minute). Only then does calamine (Rust, through python-calamine-plus) read the
sheet; it never expands an XML entity either. An .xlsx sheet is streamed a row at a time, decoded from the compressed
part as it is read, so memory stays flat whatever the number of rows (python-calamine, which it forks, laid the whole
sheet out first: about 700 bytes a row); an .ods sheet, which calamine cannot stream, is read whole, its extent
bounded beforehand. openpyxl stays the reader only for an .xlsx whose styles hold a percentage format and whose data
set has a percentage column: calamine does not say how a cell is formatted, and 98.5% typed into a percentage cell is
stored as 0.985.

While no error has been found, each valid row goes to `on_record` (the domain writes them in batches that are not
current until the import finishes); after the first error rows are only checked, so that every error is reported.
The only per-row state kept is a hash of each record's key with its row number (to report duplicates) and at most
`MAX_ERRORS_LISTED` error entries. The caller discards what it wrote when the outcome is not ok.
"""

import re
import zipfile
from dataclasses import dataclass, field

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from python_calamine_plus import CalamineWorkbook, WorksheetNotFound

from .base import CellError

MAX_ROWS = 100_000
MAX_ERRORS_LISTED = 500
# A workbook that unpacks to more than this is refused before anything parses it.
MAX_UNPACKED_BYTES = 400 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
PROGRESS_EVERY = 1000
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# A DTD (and so any entity declaration) must come before the root element: its first bytes are enough to look at.
PROLOG_BYTES = 64 * 1024
SMALL_PART_BYTES = 1024 * 1024
CHUNK_BYTES = 1024 * 1024
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"[A-Z]*\d+:?[A-Z]*(\d*)\"")
# Built-in number formats 9 and 10 are 0% and 0.00%.
PERCENT_FORMAT_IDS = {9, 10}
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


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


def row_limit(dataset):
    """The most data rows one workbook of `dataset` may hold."""
    return MAX_ROWS


def _not_a_workbook():
    return WorkbookRefused(
        error_entry(
            _(
                "The file is not a spreadsheet this import reads: upload the template filled in and saved as "
                "Excel (.xlsx) or OpenDocument (.ods)."
            )
        )
    )


def _too_large_unpacked():
    return WorkbookRefused(
        error_entry(_("The workbook is too large when unpacked. Split the data into smaller files."))
    )


@dataclass
class _Archive:
    """What the pre-parse checks learnt: the format, the sheet's row count and whether openpyxl must read it."""

    kind: str  # "xlsx" or "ods"
    rows: int  # <row> elements of the data set's sheet (of every sheet for .ods), header included
    percent_styles: bool = False


def _read_part(archive, name, limit):
    with archive.open(name) as part:
        return part.read(limit)


def _refuse_dtd(archive, entries):
    for entry in entries:
        if entry.filename.endswith((".xml", ".rels")) and entry.file_size:
            prolog = _read_part(archive, entry.filename, PROLOG_BYTES)
            if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
                raise _not_a_workbook()


def _parse_small(archive, name):
    try:
        return SafeElementTree.fromstring(_read_part(archive, name, SMALL_PART_BYTES), forbid_dtd=True)
    except (KeyError, SafeElementTree.ParseError, DefusedXmlException):
        raise _not_a_workbook() from None


def _count(archive, name, groups):
    """How many times any tag of each group in `groups` opens in part `name`, streamed: never held whole."""
    counts, carry = [0] * len(groups), b""
    with archive.open(name) as part:
        while chunk := part.read(CHUNK_BYTES):
            data = carry + chunk
            cut = data.rfind(b"<")  # a tag split between chunks is counted with the next one
            done, carry = (data, b"") if cut < 0 else (data[:cut], data[cut:])
            for index, tags in enumerate(groups):
                counts[index] += sum(done.count(tag) for tag in tags)
    return [count + sum(carry.count(tag) for tag in tags) for count, tags in zip(counts, groups, strict=True)]


_ODS_ROW = re.compile(rb"<table:table-row\b([^>]*?)(?:/>|>(.*?)</table:table-row>)", re.S)
_ODS_CELL = re.compile(rb"<table:(?:covered-)?table-cell\b([^>]*)>")
_ODS_ROWS_REPEATED = re.compile(rb'table:number-rows-repeated="(\d+)"')
_ODS_COLUMNS_REPEATED = re.compile(rb'table:number-columns-repeated="(\d+)"')
# Cells of the sheet's range: 20 per row of the limit (a data set has at most a dozen columns), ~70 MiB in calamine.
MAX_CELLS = MAX_ROWS * 20
MAX_ODS_ROW_BYTES = 8 * 1024 * 1024


def _repeat(pattern, attributes):
    found = pattern.search(attributes)
    return int(found.group(1)) if found else 1


def _ods_extent(archive):
    """(rows, cells) the reader would lay out for content.xml, streamed: repeats counted as they will be expanded.

    An OpenDocument row or cell can say "repeated a million times"; calamine lays out every repeat up to the last
    cell holding a value, so that is what is counted (a trailing block of empty rows, as LibreOffice writes, is not).
    """
    rows = last_rows = width = 0
    carry = b""
    with archive.open("content.xml") as part:
        while chunk := part.read(CHUNK_BYTES):
            data, end = carry + chunk, 0
            for row in _ODS_ROW.finditer(data):
                end = row.end()
                position = row_width = 0
                for cell in _ODS_CELL.finditer(row.group(2) or b""):
                    position += _repeat(_ODS_COLUMNS_REPEATED, cell.group(1))
                    if b"office:value-type" in cell.group(1):
                        row_width = position
                rows += _repeat(_ODS_ROWS_REPEATED, row.group(1))
                if row_width:
                    last_rows, width = rows, max(width, row_width)
            rest = data.find(b"<table:table-row", end)
            carry = data[rest:] if rest >= 0 else data[max(end, len(data) - 32) :]
            if len(carry) > MAX_ODS_ROW_BYTES:
                raise _too_large_unpacked()
    return last_rows, last_rows * width


def _sheet_part(archive, title):
    """The zip name of the worksheet called `title`, or None."""
    workbook = _parse_small(archive, "xl/workbook.xml")
    relationship = next(
        (sheet.get(_RELATIONSHIP) for sheet in workbook.iter(f"{_MAIN}sheet") if sheet.get("name") == title), None
    )
    if relationship is None:
        return None
    for rel in _parse_small(archive, "xl/_rels/workbook.xml.rels"):
        if rel.get("Id") == relationship:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


def _has_percent_styles(archive, names):
    if "xl/styles.xml" not in names:
        return False
    styles = _parse_small(archive, "xl/styles.xml")
    percent = set(PERCENT_FORMAT_IDS)
    for number_format in styles.iter(f"{_MAIN}numFmt"):
        if "%" in number_format.get("formatCode", ""):
            percent.add(int(number_format.get("numFmtId", "-1")))
    cell_formats = styles.find(f"{_MAIN}cellXfs")
    return cell_formats is not None and any(
        int(xf.get("numFmtId", "0")) in percent for xf in cell_formats.iter(f"{_MAIN}xf")
    )


def _refuse_over_limit(dataset, rows):
    limit = row_limit(dataset)
    if rows - 1 > limit:
        raise WorkbookRefused(
            error_entry(
                _(
                    "The sheet has %(rows)s rows; a %(dataset)s workbook takes at most %(max)s data rows. "
                    "Split the data into several files."
                )
                % {"rows": rows, "dataset": dataset.title, "max": limit},
                sheet=dataset.title,
            )
        )


def check_archive(dataset, path):
    """Judge the workbook at `path` before any parser reads it; WorkbookRefused says why it will not be read.

    Refused: not a zip, not an .xlsx or .ods package, unpacking past MAX_UNPACKED_BYTES or MAX_COMPRESSION_RATIO, any
    XML part declaring a DTD, no sheet named as the data set, more rows than the data set's limit.
    """
    if not zipfile.is_zipfile(path):
        raise _not_a_workbook()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise _not_a_workbook() from None
    with archive:
        entries = archive.infolist()
        names = {entry.filename for entry in entries}
        unpacked = sum(entry.file_size for entry in entries)
        packed = sum(entry.compress_size for entry in entries) or 1
        if unpacked > MAX_UNPACKED_BYTES or unpacked / packed > MAX_COMPRESSION_RATIO:
            raise _too_large_unpacked()
        try:
            if "mimetype" in names and _read_part(archive, "mimetype", 100).strip() == ODS_MIMETYPE:
                if "content.xml" not in names:
                    raise _not_a_workbook()
                _refuse_dtd(archive, entries)
                rows, cells = _ods_extent(archive)
                _refuse_over_limit(dataset, rows)
                if cells > MAX_CELLS:
                    raise _too_large_unpacked()
                return _Archive("ods", rows)
            if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
                raise _not_a_workbook()
            _refuse_dtd(archive, entries)
            part = _sheet_part(archive, dataset.title)
            if part is None or part not in names:
                raise _no_sheet(dataset)
            # A <dimension> that already says too many rows spares the count; one that says few is not trusted.
            declared = _DIMENSION.search(_read_part(archive, part, PROLOG_BYTES))
            if declared and declared.group(1):
                _refuse_over_limit(dataset, int(declared.group(1)))
            rows, cells = _count(archive, part, [(b"<row ", b"<row>", b":row ", b":row>"), (b"<c ", b"<c>", b":c ")])
            _refuse_over_limit(dataset, rows)
            if cells > MAX_CELLS:  # a wide sheet costs checking time as a long one does
                raise _too_large_unpacked()
            percent = any(column.kind == "percent" for column in dataset.columns)
            return _Archive("xlsx", rows, percent and _has_percent_styles(archive, names))
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, RuntimeError):
            # zlib.error is not among these: a damaged stream surfaces as BadZipFile or OSError from zipfile.
            raise _not_a_workbook() from None


def _no_sheet(dataset):
    return WorkbookRefused(
        error_entry(
            _("The workbook has no sheet named “%(sheet)s”. Use the downloaded template without renaming its sheets.")
            % {"sheet": dataset.title},
            sheet=dataset.title,
        )
    )


class _Sheet:
    """The data set's sheet as (row number, values, number formats) tuples, from calamine or openpyxl."""

    def __init__(self, dataset, path, archive):
        self.width = len(dataset.columns)
        self.total = max(archive.rows - 1, 1)
        self._workbook = self._stream = None
        try:
            if archive.percent_styles:
                self._workbook = load_workbook(path, read_only=True, data_only=True)
                self._sheet = self._workbook[dataset.title]
            elif archive.kind == "xlsx":
                self._workbook = CalamineWorkbook.from_path(str(path))
                # Rows from the first, padded or cut to the data set's columns, a row at a time.
                self._stream = self._workbook.stream_sheet_by_name(dataset.title, max_col=self.width - 1)
            else:
                self._workbook = CalamineWorkbook.from_path(str(path))
                self._sheet = self._workbook.get_sheet_by_name(dataset.title)
                self.total = max(self._sheet.height - 1, 1)
        except (WorksheetNotFound, KeyError):
            self.close()
            raise _no_sheet(dataset) from None
        except Exception:  # openpyxl and calamine raise many kinds for a damaged part
            self.close()
            raise _not_a_workbook() from None

    def close(self):
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None

    def rows(self):
        """(row number, values, number formats or None) of every row, the header included, `width` cells each."""
        width = self.width
        if self._stream is not None:
            for number, values in enumerate(self._stream, 1):
                yield number, values, None
            return
        if isinstance(self._workbook, CalamineWorkbook):
            start = self._sheet.start
            if start is None:
                return
            first_row, first_column = start
            pad = [""] * first_column
            for number, values in enumerate(self._sheet.iter_rows(), first_row + 1):
                if first_column:
                    values = pad + values
                yield number, values[:width], None
            return
        for number, cells in enumerate(self._sheet.iter_rows(max_col=width), 1):
            yield number, [cell.value for cell in cells], [cell.number_format for cell in cells]


def _header_errors(dataset, header_row):
    width = len(dataset.columns)
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
        for index, (column, value) in enumerate(zip(dataset.columns, found, strict=False), 1)
        if value != column.header
    ]


def _is_blank(values):
    return all(value is None or value == "" or (isinstance(value, str) and not value.strip()) for value in values)


def _parse(dataset, values, formats, context):
    """The row's parsed values and its errors as (column index, message)."""
    parsed, errors = {}, []
    for index, column in enumerate(dataset.columns):
        value = values[index] if index < len(values) else None
        try:
            parsed[column.key] = column.parse(value, formats[index] if formats else None, context)
        except CellError as error:
            errors.append((index + 1, str(error)))
    if not errors and dataset.check is not None:
        positions = {column.key: index for index, column in enumerate(dataset.columns, 1)}
        errors = [(positions[key], message) for key, message in dataset.check(parsed)]
    return parsed, errors


def _key_label(dataset, values):
    return "、".join(
        f"{dataset.column(name).header}“{getattr(values[name], 'name', values[name])}”" for name in dataset.key
    )


def read(dataset, path, context, *, on_progress=None, on_record=None):
    """Check every row of the workbook at `path`; hand each valid row to `on_record(row number, model fields)` while
    no error has been found; call `on_progress(rows done, rows in the sheet)` every PROGRESS_EVERY rows. Returns a
    Validation."""
    outcome = Validation()
    try:
        sheet = _Sheet(dataset, path, check_archive(dataset, path))
    except WorkbookRefused as refused:
        outcome.add(refused.error)
        return outcome
    try:
        _read_rows(dataset, sheet, context, outcome, on_progress, on_record)
    finally:
        sheet.close()
    return outcome


def _read_rows(dataset, sheet, context, outcome, on_progress, on_record):
    rows = sheet.rows()
    header = next(rows, None)
    header_values = header[1] if header is not None and header[0] == 1 else []
    for entry in _header_errors(dataset, header_values):
        outcome.add(entry)
    if not outcome.ok:
        return
    limit = row_limit(dataset)
    key_positions = [next(i for i, c in enumerate(dataset.columns) if c.key == name) for name in dataset.key]
    key_column = key_positions[0] + 1
    first_row_of_key = {}
    seen = 0
    for row_number, values, formats in rows:
        seen += 1
        if on_progress is not None and seen % PROGRESS_EVERY == 0:
            on_progress(seen, sheet.total)
        if _is_blank(values):
            continue
        outcome.rows += 1
        if outcome.rows > limit:  # the pre-parse count makes this rare: kept for a count the XML understated
            outcome.add(
                error_entry(
                    _("The sheet has more than %(max)s data rows. Split the data into several files.") % {"max": limit},
                    sheet=dataset.title,
                    row=row_number,
                )
            )
            break
        parsed, errors = _parse(dataset, values, formats, context)
        for index, message in errors:
            header_text = dataset.columns[index - 1].header
            outcome.add(error_entry(message, sheet=dataset.title, row=row_number, column=index, header=header_text))
        if errors:
            continue
        # A 64-bit hash of the key: duplicates are found without keeping the keys themselves.
        digest = hash(tuple(getattr(parsed[name], "pk", parsed[name]) for name in dataset.key))
        first = first_row_of_key.setdefault(digest, row_number)
        if first != row_number:
            outcome.add(
                error_entry(
                    _("This row repeats row %(row)s (the same %(key)s). Keep one of them.")
                    % {"row": first, "key": _key_label(dataset, parsed)},
                    sheet=dataset.title,
                    row=row_number,
                    column=key_column,
                    header=dataset.columns[key_column - 1].header,
                )
            )
        fields = dataset.to_fields(parsed)
        outcome.years.add(fields["year"])
        if on_record is not None and outcome.ok:
            on_record(row_number, fields)
    if outcome.rows == 0:
        outcome.add(
            error_entry(
                _("The sheet has no data rows. Fill in at least one row below the header."),
                sheet=dataset.title,
                row=2,
            )
        )
