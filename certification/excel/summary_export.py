"""评估汇总表 per application and the district summary, written with openpyxl's write-only mode in a Celery task.

Write-only mode streams rows to disk, so memory stays flat however many applications a district has
(see bench/export.py for the numbers). Every cell holding text that a person typed — names, comments, reasons,
titles — goes through `text_cell`, which keeps it a string: openpyxl would otherwise store text starting with "="
as a formula, and Excel would run it. Text that starts with =, +, -, @, a tab or a line break (a CR is stored as
LF) is also quote-prefixed, so that Excel keeps treating it as text when someone edits the cell.

The same rows can be written as CSV (`ExportJob.FileFormat.CSV`) for people who convert exports anyway: there a
text field cannot carry its type, so text starting with = + - @, a tab or a CR gets an apostrophe in front, as
OWASP's CSV-injection advice says, and every text field is quoted.
"""

import csv
import uuid
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from certification.models import Application, ExportJob, IndicatorResult, Score, ScoreSheet

from .cells import FORMULA_TRIGGERS, safe_text, write_text

EXPORT_DIR = "exports"
# A1's triggers, plus LF: a CR is stored as LF (XML turns a bare CR into LF when the file is read anyway).
QUOTE_PREFIX_TRIGGERS = (*FORMULA_TRIGGERS, "\n")
PROGRESS_STEP = 5


def text_cell(cell, text, *, text_format=True):
    """Put `text` into `cell` (a normal or write-only cell) as an explicit string, never a formula or error.

    With `text_format`, `certification.excel.cells.write_text` also gives the cell Excel's text number format, so
    what someone later types there stays text. The streamed exports pass False: a style on every text cell
    makes the write ~70% slower (bench/export.py), and the string type alone already keeps the cell inert.
    Text that starts with a formula trigger is quote-prefixed either way, so Excel keeps it text when edited.
    """
    text = "" if text is None else str(text).replace("\r\n", "\n").replace("\r", "\n")
    if text_format:
        write_text(cell, text)
    else:
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", text)
        cell.data_type = "s"
    if cell.value.startswith(QUOTE_PREFIX_TRIGGERS):
        cell.quotePrefix = True
    return cell


class _RowWriter:
    """Appends rows to a write-only sheet: str values become escaped text cells, others are written as they are."""

    def __init__(self, ws):
        self.ws = ws
        self.bold = Font(bold=True)

    def cell(self, value, *, bold=False):
        if not bold and not isinstance(value, str):
            return value  # numbers and blanks need no cell object: openpyxl writes them as they are
        cell = WriteOnlyCell(self.ws)
        if isinstance(value, str):
            text_cell(cell, value, text_format=False)
        else:
            cell.value = value
        if bold:
            cell.font = self.bold
        return cell

    def row(self, values, *, bold=False):
        self.ws.append([self.cell(value, bold=bold) for value in values])


class _CsvSection:
    """Appends rows to a CSV file safe to open in a spreadsheet (OWASP's CSV-injection advice).

    Text that starts with = + - @, a tab or a CR gets an apostrophe in front (`safe_text`), and every text field is
    quoted, so neither a formula nor a field separator inside the text is ever read as such. Numbers stay numbers.
    """

    def __init__(self, writer):
        self.writer = writer

    def row(self, values, *, bold=False):
        self.writer.writerow(
            ["" if value is None else safe_text(value) if isinstance(value, str) else value for value in values]
        )


class _CsvFile:
    """The CSV counterpart of a write-only workbook: its sheets become sections separated by a blank line."""

    def __init__(self, stream):
        self.writer = csv.writer(stream, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
        self.sections = 0

    def section(self, title):
        if self.sections:
            self.writer.writerow([])
        self.sections += 1
        return _CsvSection(self.writer)


class _XlsxFile:
    def __init__(self, workbook):
        self.workbook = workbook

    def section(self, title):
        return _RowWriter(self.workbook.create_sheet(title[:31]))


def _number(value):
    return None if value is None else float(value)


def _yes_no(value):
    if value is None:
        return ""
    return _("Yes") if value else _("No")


def _verdict(application):
    if application.passed is None:
        return _("Pending") if application.total_score is not None else _("Not scored")
    return _("Passed") if application.passed else _("Failed")


def _write_application(output, application):
    writer = output.section(_("Evaluation summary"))
    assignments = list(application.assignments.filter(status="active").select_related("evaluator").order_by("id"))
    sheets = {
        sheet.assignment_id: sheet
        for sheet in ScoreSheet.objects.filter(assignment__in=assignments, status=ScoreSheet.Status.SUBMITTED)
    }
    scores = {}
    for score in Score.objects.filter(sheet__in=sheets.values()).select_related("sheet"):
        scores[(score.sheet.assignment_id, score.indicator_id)] = score
    results = {
        result.indicator_id: result
        for result in IndicatorResult.objects.filter(application=application).select_related("reconciled_by")
    }
    writer.row([_("Evaluation summary (评估汇总表)")], bold=True)
    writer.row([_("Cluster"), str(application.cluster)])
    writer.row([_("Target tier"), application.get_target_tier_display()])
    writer.row([_("Standard"), str(application.standard)])
    writer.row([_("Assessment year"), application.year])
    writer.row([_("Status"), application.get_status_display()])
    writer.row([])
    header = [
        _("Dimension"),
        _("Code"),
        _("Indicator"),
        _("Maximum score"),
        _("Method"),
        _("Veto"),
        _("Computed value"),
    ]
    for assignment in assignments:
        name = str(assignment.evaluator)
        header += [_("%(name)s: score") % {"name": name}, _("%(name)s: comment") % {"name": name}]
    header += [
        _("Combined score"),
        _("Spread"),
        _("Disagreement"),
        _("Reconciled score"),
        _("Reconciliation reason"),
        _("Reconciled by"),
        _("Veto met"),
    ]
    writer.row(header, bold=True)
    for indicator in application.standard.indicators().order_by("dimension__order", "order", "code"):
        computed = ""
        row = [
            str(indicator.dimension),
            indicator.code,
            indicator.title,
            _number(indicator.max_score),
            indicator.get_method_display(),
            _yes_no(indicator.veto),
        ]
        evaluator_cells = []
        for assignment in assignments:
            score = scores.get((assignment.pk, indicator.pk))
            if score is None:
                evaluator_cells += [None, ""]
                continue
            computed = computed or score.computed_value
            shown = "N/A" if score.not_applicable else _number(score.value)
            comment = score.comment
            if score.override_reason:
                comment = f"{comment}\n{_('Override reason')}: {score.override_reason}".strip()
            evaluator_cells += [shown, comment]
        row.append(computed)
        row += evaluator_cells
        result = results.get(indicator.pk)
        if result is None:
            row += [None, None, "", None, "", "", ""]
        else:
            row += [
                "N/A" if result.not_applicable else _number(result.value),
                _number(result.spread),
                _yes_no(result.disagreement),
                _number(result.reconciled_value),
                result.reconciled_reason,
                str(result.reconciled_by or ""),
                _yes_no(result.veto_met),
            ]
        writer.row(row)
    writer.row([])
    writer.row([_("Total score"), _number(application.total_score)], bold=True)
    writer.row([_("Pass score"), _number(application.standard.pass_score)])
    writer.row([_("All veto indicators met"), _yes_no(application.vetoes_met)])
    writer.row([_("Result"), _verdict(application)], bold=True)


def district_summary_rows(district):
    """(applications, indicator detail) row iterators of the district summary; shared with the benchmark."""
    applications = (
        Application.objects.filter(cluster__district=district)
        .select_related("cluster", "standard")
        .order_by("cluster__name", "-year", "pk")
    )
    details = (
        IndicatorResult.objects.filter(application__cluster__district=district)
        .order_by(
            "application__cluster__name",
            "-application__year",
            "application_id",
            "indicator__dimension__order",
            "indicator__order",
        )
        .values_list(
            "application__cluster__name",
            "application__year",
            "indicator__code",
            "indicator__title",
            "indicator__max_score",
            "value",
            "not_applicable",
            "spread",
            "disagreement",
            "reconciled_value",
            "reconciled_reason",
            "veto_met",
        )
    )
    return applications, details


def _write_district(output, district, report):
    applications, details = district_summary_rows(district)
    total = applications.count() + IndicatorResult.objects.filter(application__cluster__district=district).count()
    done = 0
    writer = output.section(_("District summary"))
    writer.row([_("District summary of applications: %(district)s") % {"district": district}], bold=True)
    writer.row(
        [
            _("Cluster"),
            _("Kind"),
            _("Target tier"),
            _("Assessment year"),
            _("Standard"),
            _("Status"),
            _("Total score"),
            _("Pass score"),
            _("All veto indicators met"),
            _("Result"),
        ],
        bold=True,
    )
    for application in applications.iterator(chunk_size=500):
        writer.row(
            [
                application.cluster.name,
                application.cluster.get_kind_display(),
                application.get_target_tier_display(),
                application.year,
                str(application.standard),
                application.get_status_display(),
                _number(application.total_score),
                _number(application.standard.pass_score),
                _yes_no(application.vetoes_met),
                _verdict(application),
            ]
        )
        done += 1
        report(done, total)
    writer = output.section(_("Indicator details"))
    writer.row(
        [
            _("Cluster"),
            _("Assessment year"),
            _("Code"),
            _("Indicator"),
            _("Maximum score"),
            _("Combined score"),
            _("Spread"),
            _("Disagreement"),
            _("Reconciled score"),
            _("Reconciliation reason"),
            _("Veto met"),
        ],
        bold=True,
    )
    for (
        cluster,
        year,
        code,
        title,
        maximum,
        value,
        na,
        spread,
        disagreement,
        reconciled,
        reason,
        veto,
    ) in details.iterator(chunk_size=2000):
        writer.row(
            [
                cluster,
                year,
                code,
                title,
                _number(maximum),
                "N/A" if na else _number(value),
                _number(spread),
                _yes_no(disagreement),
                _number(reconciled),
                reason,
                _yes_no(veto),
            ]
        )
        done += 1
        report(done, total)


def _write(output, job, report):
    if job.kind == ExportJob.Kind.APPLICATION:
        _write_application(output, job.application)
    else:
        _write_district(output, job.district, report)


def write_export(job, path, report=lambda done, total: None):
    """Write the export `job` asks for to `path`, streamed; `report(done, total)` sees progress.

    An .xlsx is a write-only workbook; a .csv is UTF-8 with a byte-order mark (so Excel reads the Chinese) whose
    text fields cannot run as formulas.
    """
    if job.file_format == ExportJob.FileFormat.CSV:
        with open(path, "w", encoding="utf-8-sig", newline="") as stream:
            _write(_CsvFile(stream), job, report)
        return
    workbook = Workbook(write_only=True)
    _write(_XlsxFile(workbook), job, report)
    workbook.save(path)


def build_export(job):
    """Build the file of `job` under MEDIA_ROOT/exports/, reporting progress on the job row as it goes.

    Safe to run twice: a finished job is left alone. A failure marks the job failed with a message and removes the
    half-written file. Side effects: the file; the job's status, progress, file_path, finished.
    """
    if job.status == ExportJob.Status.DONE:
        return job
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, progress=0)
    relative = f"{EXPORT_DIR}/{uuid.uuid4().hex}.{job.file_format}"
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    last = [0]

    def report(done, total):
        percent = min(99, done * 100 // max(total, 1))
        if percent >= last[0] + PROGRESS_STEP:
            last[0] = percent
            ExportJob.objects.filter(pk=job.pk).update(progress=percent)

    try:
        write_export(job, path, report)
    except Exception:
        path.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED,
            error=_("The export could not be built. Try again; if it fails again, tell the administrator."),
            finished=timezone.now(),
        )
        raise
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE, progress=100, file_path=relative, finished=timezone.now()
    )
    job.refresh_from_db()
    return job


@shared_task(name="certification.build_export")
def task_build_export(*, job_id):
    job = ExportJob.objects.filter(pk=job_id).select_related("application__standard", "district").first()
    if job is None:
        return False
    build_export(job)
    return True


def queue_export(job):
    """Queue the build of `job` once the transaction that created it commits."""
    transaction.on_commit(lambda: task_build_export.delay(job_id=job.pk))
