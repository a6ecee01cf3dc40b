"""The offline scoring workbook: an evaluator downloads their sheet as .xlsx, scores offline and uploads it back.

The workbook binds itself to one sheet: a very hidden, protected 元数据 sheet holds the application, standard
(id and version), evaluator and sheet ids and an HMAC-SHA256 over them keyed with SECRET_KEY. The 评分表 sheet is
protected with only the score, N/A, comment and override-reason cells unlocked, and each score cell validates a
decimal between 0 and the indicator's maximum. Sheet protection is a convenience for the evaluator, not security:
the upload re-checks everything (signature, ids, every rule of `save_scores`) and saves nothing when any check
fails. What the upload saves is a draft; submitting stays an online step.
"""

import hashlib
import hmac
import secrets
from io import BytesIO

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from certification.domain.scoring import save_scores
from certification.errors import InvalidInput
from certification.models import Indicator
from certification.uploads import UploadRejected, detect_type

from .cells import ensure_safe_parser
from .summary_export import text_cell

SCORES_TITLE = "评分表"
HELP_TITLE = "说明"
META_TITLE = "元数据"
META_FIELDS = ("application", "standard", "standard_version", "evaluator", "sheet")
HEADER_ROW = 4
FIRST_ROW = HEADER_ROW + 1
# Column letters of the 评分表 sheet; the upload reads by these, so they are part of the format.
COLUMNS = {
    "id": "A",
    "dimension": "B",
    "code": "C",
    "title": "D",
    "max": "E",
    "method": "F",
    "computed": "G",
    "na_allowed": "H",
    "value": "I",
    "na": "J",
    "comment": "K",
    "reason": "L",
}
YES = "是"
NO = "否"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
EDITABLE_FILL = PatternFill("solid", fgColor="FFF2CC")


class WorkbookRefused(InvalidInput):
    """An uploaded scoring workbook that was not taken. Nothing was saved."""


def signature(values):
    """HMAC-SHA256, keyed with SECRET_KEY, over the binding ids in META_FIELDS order."""
    message = "|".join(f"{name}={values[name]}" for name in META_FIELDS)
    key = ("xqrz.scoring-workbook:" + settings.SECRET_KEY).encode()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def binding(sheet):
    """The ids a workbook of `sheet` is bound to."""
    application = sheet.assignment.application
    return {
        "application": application.pk,
        "standard": application.standard_id,
        "standard_version": application.standard.version,
        "evaluator": sheet.assignment.evaluator_id,
        "sheet": sheet.pk,
    }


def filename(sheet):
    return f"scoresheet-{sheet.assignment.application_id}-{sheet.pk}.xlsx"


def _put(cell, value):
    if isinstance(value, str):
        text_cell(cell, value)
    else:
        cell.value = value
    return cell


def _header(cell):
    cell.font = Font(bold=True)
    cell.alignment = Alignment(wrap_text=True, vertical="top")


def _write_help(workbook, sheet):
    ws = workbook.create_sheet(HELP_TITLE)
    application = sheet.assignment.application
    lines = [
        _("Offline scoring workbook"),
        "",
        _("Application: %(application)s") % {"application": application},
        _("Standard: %(standard)s") % {"standard": application.standard},
        _("Evaluator: %(evaluator)s") % {"evaluator": sheet.assignment.evaluator},
        "",
        _("1. Fill only the yellow cells of the sheet “%(sheet)s”: score, N/A, comment, override reason.")
        % {"sheet": SCORES_TITLE},
        _("2. A score is a number from 0 to the indicator's maximum, with at most two decimals."),
        _("3. Below full marks, write a comment saying what is missing."),
        _("4. Put “%(yes)s” in the N/A column only where the indicator allows N/A; leave the score empty then.")
        % {"yes": YES},
        _("5. A computed indicator is pre-filled from the data; a different score needs an override reason."),
        _("6. Upload the workbook on your score sheet page. It is saved as a draft; submit it online."),
        _("7. This workbook belongs to you and this application only; do not rename or edit the other sheets."),
    ]
    ws.column_dimensions["A"].width = 110
    for row, line in enumerate(lines, 1):
        _put(ws.cell(row=row, column=1), line)
    _header(ws["A1"])
    ws.protection.sheet = True
    ws.protection.password = secrets.token_urlsafe(16)


def _write_meta(workbook, sheet):
    ws = workbook.create_sheet(META_TITLE)
    values = binding(sheet)
    for name in META_FIELDS:
        ws.append([name, values[name]])
    ws.append(["signature", signature(values)])
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True
    ws.protection.password = secrets.token_urlsafe(16)


def build_workbook(sheet):
    """The .xlsx bytes of `sheet` as it stands, with its current scores filled in."""
    scores = list(
        sheet.scores.select_related("indicator__dimension").order_by(
            "indicator__dimension__order", "indicator__order", "indicator__code"
        )
    )
    workbook = Workbook()
    ws = workbook.active
    ws.title = SCORES_TITLE
    application = sheet.assignment.application
    _put(ws["A1"], _("Score sheet: %(application)s") % {"application": application})
    _put(
        ws["A2"],
        _("Standard %(standard)s · evaluator %(evaluator)s")
        % {"standard": application.standard, "evaluator": sheet.assignment.evaluator},
    )
    _header(ws["A1"])
    headers = {
        "id": _("Indicator id"),
        "dimension": _("Dimension"),
        "code": _("Code"),
        "title": _("Indicator"),
        "max": _("Maximum score"),
        "method": _("Method"),
        "computed": _("Computed value"),
        "na_allowed": _("N/A allowed"),
        "value": _("Score"),
        "na": _("N/A"),
        "comment": _("Comment"),
        "reason": _("Override reason"),
    }
    for key, column in COLUMNS.items():
        cell = ws[f"{column}{HEADER_ROW}"]
        _put(cell, headers[key])
        _header(cell)
    widths = {"A": 8, "B": 18, "C": 8, "D": 40, "E": 8, "F": 8, "G": 16, "H": 8, "I": 8, "J": 8, "K": 40, "L": 30}
    for column, width in widths.items():
        ws.column_dimensions[column].width = width

    validations = {}
    na_validation = DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=True)
    na_validation.error = _("Enter %(yes)s or leave the cell empty.") % {"yes": YES}
    na_validation.showErrorMessage = True
    ws.add_data_validation(na_validation)
    for row, score in enumerate(scores, FIRST_ROW):
        indicator = score.indicator
        values = {
            "id": indicator.pk,
            "dimension": str(indicator.dimension),
            "code": indicator.code,
            "title": indicator.title,
            "max": float(indicator.max_score),
            "method": indicator.get_method_display(),
            "computed": score.computed_value,
            "na_allowed": YES if indicator.na_allowed else NO,
            "value": None if score.value is None else float(score.value),
            "na": YES if score.not_applicable else None,
            "comment": score.comment or None,
            "reason": score.override_reason or None,
        }
        for key, column in COLUMNS.items():
            _put(ws[f"{column}{row}"], values[key])
        editable = ["value", "comment"]
        if indicator.na_allowed:
            editable.append("na")
            na_validation.add(f"{COLUMNS['na']}{row}")
        if indicator.method == Indicator.Method.COMPUTED:
            editable.append("reason")
        for key in editable:
            cell = ws[f"{COLUMNS[key]}{row}"]
            cell.protection = Protection(locked=False)
            cell.fill = EDITABLE_FILL
        maximum = indicator.max_score
        if maximum not in validations:
            validation = DataValidation(type="decimal", operator="between", formula1="0", formula2=str(maximum))
            validation.error = _("Enter a number from 0 to %(max)s.") % {"max": maximum}
            validation.showErrorMessage = True
            ws.add_data_validation(validation)
            validations[maximum] = validation
        validations[maximum].add(f"{COLUMNS['value']}{row}")
    ws.freeze_panes = f"A{FIRST_ROW}"
    ws.protection.sheet = True
    ws.protection.password = secrets.token_urlsafe(16)
    _write_help(workbook, sheet)
    _write_meta(workbook, sheet)
    workbook.security.lockStructure = True
    workbook.security.workbookPassword = secrets.token_urlsafe(16)
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()


def _open(upload):
    """Open an uploaded file as a workbook, read-only; refuse anything that is not a plain .xlsx."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise WorkbookRefused(_("The file is too large for a scoring workbook. Upload the workbook you downloaded."))
    not_xlsx = WorkbookRefused(
        _("The file is not an Excel workbook (.xlsx). Upload the scoring workbook you downloaded from this page.")
    )
    upload.seek(0)
    try:
        file_type = detect_type(upload)
    except UploadRejected as refusal:
        raise WorkbookRefused(refusal.message) from None
    if file_type is None or file_type.key != "xlsx":
        raise not_xlsx
    upload.seek(0)
    ensure_safe_parser()
    try:
        return load_workbook(upload, read_only=True, data_only=False)
    except (InvalidFileException, KeyError, ValueError, OSError, EOFError) as error:
        raise not_xlsx from error


def _read_meta(workbook):
    if META_TITLE not in workbook.sheetnames or SCORES_TITLE not in workbook.sheetnames:
        raise WorkbookRefused(
            _("This is not a scoring workbook of this product. Download the workbook from your score sheet page.")
        )
    meta = {}
    for row in workbook[META_TITLE].iter_rows(min_row=1, max_row=len(META_FIELDS) + 1, values_only=True):
        if row and row[0] is not None:
            meta[str(row[0])] = "" if len(row) < 2 or row[1] is None else str(row[1])
    return meta


def _check_binding(meta, sheet):
    tampered = WorkbookRefused(
        _(
            "The workbook's identification has been changed, so it cannot be trusted. "
            "Download a fresh workbook and copy your scores into it."
        )
    )
    if any(name not in meta for name in META_FIELDS) or "signature" not in meta:
        raise tampered
    if not hmac.compare_digest(signature(meta), meta["signature"]):
        raise tampered
    expected = {name: str(value) for name, value in binding(sheet).items()}
    if meta["application"] != expected["application"]:
        raise WorkbookRefused(
            _("This workbook belongs to another application. Download the workbook of this application and use it.")
        )
    if meta["standard"] != expected["standard"] or meta["standard_version"] != expected["standard_version"]:
        raise WorkbookRefused(
            _(
                "This workbook was made for another version of the standard (version %(theirs)s; the application "
                "uses version %(ours)s). Download a fresh workbook."
            )
            % {"theirs": meta["standard_version"], "ours": expected["standard_version"]}
        )
    if meta["evaluator"] != expected["evaluator"]:
        raise WorkbookRefused(
            _("This workbook belongs to another evaluator. Each evaluator uploads the workbook they downloaded.")
        )
    if meta["sheet"] != expected["sheet"]:
        raise tampered


def _is_yes(raw):
    return str(raw).strip().lower() in {YES, "y", "yes", "true", "1", "n/a", "na"} if raw is not None else False


def read_entries(workbook, sheet):
    """The entries (indicator id → {value, not_applicable, comment, override_reason}) in the 评分表 sheet."""
    indicator_ids = set(sheet.scores.values_list("indicator_id", flat=True))
    position = {key: ord(column) - ord("A") for key, column in COLUMNS.items()}
    entries = {}
    for row in workbook[SCORES_TITLE].iter_rows(min_row=FIRST_ROW, max_col=len(COLUMNS), values_only=True):
        row = tuple(row) + (None,) * (len(COLUMNS) - len(row))
        raw_id = row[position["id"]]
        if raw_id is None:
            continue
        try:
            indicator_id = int(raw_id)
        except (TypeError, ValueError):
            indicator_id = None
        if indicator_id not in indicator_ids or indicator_id in entries:
            raise WorkbookRefused(
                _(
                    "The workbook's indicator list has been changed (row of indicator id “%(id)s”). "
                    "Download a fresh workbook and copy your scores into it."
                )
                % {"id": raw_id}
            )
        entries[indicator_id] = {
            "value": row[position["value"]],
            "not_applicable": _is_yes(row[position["na"]]),
            "comment": "" if row[position["comment"]] is None else str(row[position["comment"]]),
            "override_reason": "" if row[position["reason"]] is None else str(row[position["reason"]]),
        }
    if set(entries) != indicator_ids:
        raise WorkbookRefused(
            _(
                "Rows of indicators are missing from the workbook. Download a fresh workbook and copy your scores into it."
            )
        )
    return entries


def upload_workbook(sheet, upload, *, by):
    """Read an uploaded scoring workbook and save it as a draft of `sheet` through `save_scores`.

    Refuses (WorkbookRefused / ScoreErrors, nothing saved): a non-xlsx file, a workbook of another application,
    standard version or evaluator, a tampered identification, and any score that breaks a scoring rule.
    """
    workbook = _open(upload)
    try:
        meta = _read_meta(workbook)
        _check_binding(meta, sheet)
        entries = read_entries(workbook, sheet)
    finally:
        workbook.close()
    return save_scores(sheet, entries, by=by)
