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
import datetime
import io
import json
import os
import socket
import tempfile
import time
import uuid

from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F, FloatField, Q
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Font

from certification.domain import audit
from certification.models import (
    Application,
    Cluster,
    EvaluatorAssignment,
    ExportJob,
    Indicator,
    IndicatorResult,
    Score,
    ScoreSheet,
    Standard,
    Tier,
)

from .cells import FORMULA_TRIGGERS, safe_text, write_text

EXPORT_DIR = "exports"
# A1's triggers, plus LF: a CR is stored as LF (XML turns a bare CR into LF when the file is read anyway).
QUOTE_PREFIX_TRIGGERS = (*FORMULA_TRIGGERS, "\n")
PROGRESS_STEP = 5
# `report(done, total)` is called every this many rows (and at the end of each sheet), not on every row.
PROGRESS_ROWS = 100
HEARTBEAT_SECONDS = 5
# An export whose workers died this many times fails instead of starting over.
MAX_ATTEMPTS = 3


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


# A str starting with one of these needs a cell object: a formula trigger (quote prefix), "#" (an error code such as
# #N/A would be written as an error) or a line break (normalised to LF).
_NEEDS_CELL = frozenset((*QUOTE_PREFIX_TRIGGERS, "#", "\r"))


class _RowWriter:
    """Appends rows to a write-only sheet, passing every value that is safe as it is.

    openpyxl takes a plain str as a string cell unless it starts with "=", is an error code or holds an illegal
    control character; a str that starts with none of `_NEEDS_CELL` and is printable (no control character, no line
    break) is passed plain. Only the rest becomes an escaped `text_cell`: handing openpyxl a cell object costs a
    ValueError it raises and catches per cell (bench/export.py).
    """

    def __init__(self, ws):
        self.ws = ws
        self.bold = Font(bold=True)

    def _cell(self, value, bold):
        cell = WriteOnlyCell(self.ws)
        if isinstance(value, str):
            text_cell(cell, value, text_format=False)
        else:
            cell.value = value
        if bold:
            cell.font = self.bold
        return cell

    def row(self, values, *, bold=False, typed=None):
        """Append `values`. `typed` names the positions that may hold text someone typed (names, titles, reasons):
        only those are checked; the rest are numbers or our own labels, passed as they are. None checks all."""
        if bold:
            self.ws.append([self._cell(value, True) for value in values])
            return
        needs_cell = _NEEDS_CELL
        if typed is not None:
            for index in typed:
                value = values[index]
                if isinstance(value, str) and value and (value[0] in needs_cell or not value.isprintable()):
                    values[index] = self._cell(value, False)
            self.ws.append(values)
            return
        self.ws.append(
            [
                self._cell(value, False)
                if isinstance(value, str) and value and (value[0] in needs_cell or not value.isprintable())
                else value
                for value in values
            ]
        )


class _CsvSection:
    """Appends rows to a CSV file safe to open in a spreadsheet (OWASP's CSV-injection advice).

    Text that starts with = + - @, a tab or a CR gets an apostrophe in front (`safe_text`), and every text field is
    quoted, so neither a formula nor a field separator inside the text is ever read as such. Numbers stay numbers.
    """

    def __init__(self, writer):
        self.writer = writer

    def row(self, values, *, bold=False, typed=None):
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
    assignments = list(
        application.assignments.filter(status=EvaluatorAssignment.Status.ACTIVE)
        .select_related("evaluator")
        .order_by("id")
    )
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


# An indicator row's figures, after what names it: `summary_rows` gives cluster, year and indicator by name (the
# export bench's anchor writes those), `_write_summary` reads ids and names them from rows it already holds.
DETAIL_VALUES = (
    "combined",
    "not_applicable",
    "spread_float",
    "disagreement",
    "reconciled",
    "reconciled_reason",
    "veto_met",
)


def district_summary_rows(district):
    """(applications, indicator detail) row iterators of the district summary; shared with the benchmark."""
    return summary_rows(Application.objects.filter(cluster__district=district))


def summary_rows(chosen):
    """(applications, indicator detail) row iterators of the summary of the applications `chosen` (a queryset)."""
    applications = chosen.select_related("cluster", "standard").order_by("cluster__name", "-year", "pk")
    details = (
        IndicatorResult.objects.filter(application__in=chosen.values("pk"))
        .order_by(
            "application__cluster__name",
            "-application__year",
            "application_id",
            "indicator__dimension__order",
            "indicator__order",
        )
        # Numbers leave the database as floats, what the sheet holds: no Decimal built per cell to be converted back.
        .annotate(
            maximum=Cast("indicator__max_score", FloatField()),
            combined=Cast("value", FloatField()),
            spread_float=Cast("spread", FloatField()),
            reconciled=Cast("reconciled_value", FloatField()),
        )
        .values_list(
            "application__cluster__name",
            "application__year",
            "indicator__code",
            "indicator__title",
            "maximum",
            *DETAIL_VALUES,
        )
    )
    return applications, details


def _raw_rows(queryset, size=2000):
    """The rows of a values_list queryset straight from the cursor: no per-row converters (booleans may come back
    as 0/1 and numbers as the database's floats; the callers' lookups and cells take both)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(size):
            yield from rows


# The columns of the summary's rows that hold typed text (cluster name, standard; indicator code, title, reason):
# the others are numbers and translated labels, which never start with a formula trigger.
SUMMARY_TYPED = (0, 4)
DETAIL_TYPED = (0, 2, 3, 9)


def _write_district(output, district, report):
    heading = _("District summary of applications: %(district)s") % {"district": district}
    _write_summary(output, Application.objects.filter(cluster__district=district), heading, report)


def _write_summary(output, chosen, heading, report):
    applications, details = summary_rows(chosen)
    # The progress bar's total: the detail rows counted on their own table (the ordered read joins four tables).
    total = applications.count() + IndicatorResult.objects.filter(application__in=chosen.values("pk")).count()
    done = 0
    writer = output.section(_("District summary"))
    writer.row([heading], bold=True)
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
            _("Current tier"),
        ],
        bold=True,
    )
    # Straight from the cursor, with every label translated once per value rather than per row (get_FOO_display()
    # hashes lazy choices on every call): the same cells as the model instances would give.
    kinds = {value: str(label) for value, label in Cluster.Kind.choices}
    tiers = {value: str(label) for value, label in Tier.choices}
    statuses = {value: str(label) for value, label in Application.Status.choices}
    standards = {
        standard.pk: str(standard) for standard in Standard.objects.filter(pk__in=applications.values("standard"))
    }
    # The tier each cluster holds today, derived from its certificates and tier history (`Cluster.with_tier`), in one
    # query: an application certified for a tier since revoked, downgraded or expired does not read as held.
    held = dict(
        Cluster.objects.filter(pk__in=chosen.values("cluster_id")).with_tier().values_list("pk", "current_tier")
    )
    yes_no = {value: _yes_no(value) for value in (True, False, None)}
    verdicts = {
        (True, True): _("Passed"),
        (True, False): _("Failed"),
        (False, True): _("Pending"),
        (False, False): _("Not scored"),
    }
    rows = applications.annotate(
        total=Cast("total_score", FloatField()), pass_score=Cast("standard__pass_score", FloatField())
    ).values_list(
        "cluster__name",
        "cluster__kind",
        "target_tier",
        "year",
        "standard",
        "status",
        "total",
        "pass_score",
        "vetoes_met",
        "passed",
        "cluster_id",
        "pk",
    )
    # What every indicator row repeats of its application and indicator is read once per application (below) and
    # per indicator, not decoded again on each of 20 rows an application has.
    heads = {}
    for (
        name,
        kind,
        tier,
        year,
        standard,
        status,
        total_score,
        pass_score,
        vetoes_met,
        passed,
        cluster,
        application,
    ) in _raw_rows(rows):
        decided = passed is not None
        heads[application] = (name, year)
        writer.row(
            [
                name,
                kinds[kind],
                tiers[tier],
                year,
                standards[standard],
                statuses[status],
                total_score,
                pass_score,
                yes_no[vetoes_met],
                verdicts[(decided, bool(passed) if decided else total_score is not None)],
                tiers[held[cluster]],
            ],
            typed=SUMMARY_TYPED,
        )
        done += 1
        if done % PROGRESS_ROWS == 0:
            report(done, total)
    report(done, total)
    indicators = {
        pk: (code, title, maximum)
        for pk, code, title, maximum in Indicator.objects.filter(dimension__standard__in=standards)
        .annotate(maximum=Cast("max_score", FloatField()))
        .values_list("pk", "code", "title", "maximum")
    }
    writer = output.section(_("Indicator details"))
    yes_no = {value: _yes_no(value) for value in (True, False, None)}  # translated once, not per cell
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
    details = details.values_list("application_id", "indicator_id", *DETAIL_VALUES)
    for application, indicator, value, na, spread, disagreement, reconciled, reason, veto in _raw_rows(details):
        writer.row(
            [
                *heads[application],
                *indicators[indicator],
                "N/A" if na else value,
                spread,
                yes_no[disagreement],
                reconciled,
                reason,
                yes_no[veto],
            ],
            typed=DETAIL_TYPED,
        )
        done += 1
        if done % PROGRESS_ROWS == 0:
            report(done, total)
    report(done, total)


def _write(output, job, report):
    if job.kind == ExportJob.Kind.APPLICATION:
        _write_application(output, job.application)
    elif job.kind == ExportJob.Kind.SELECTION:
        chosen = Application.objects.filter(pk__in=job.applications.values("pk"))
        heading = _("Summary of %(count)s selected applications") % {"count": chosen.count()}
        _write_summary(output, chosen, heading, report)
    else:
        _write_district(output, job.district, report)


def write_export(job, stream, report=lambda done, total: None):
    """Write the export `job` asks for to the binary file `stream`, streamed; `report(done, total)` sees progress.

    An .xlsx is a write-only workbook carrying a fresh anchor of the audit chains (one more copy of the head outside
    the database); a .csv is UTF-8 with a byte-order mark (so Excel reads the Chinese) whose text fields cannot run
    as formulas. `stream` may also be a file name.
    """
    if isinstance(stream, str | os.PathLike):
        with open(stream, "wb") as handle:
            write_export(job, handle, report)
        return
    if job.file_format == ExportJob.FileFormat.CSV:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        _write(_CsvFile(text), job, report)
        text.flush()
        text.detach()
        return
    workbook = Workbook(write_only=True)
    summary = json.dumps(audit.anchor_summary(audit.anchor()), sort_keys=True)
    workbook.custom_doc_props.append(StringProperty(name="audit_anchor", value=summary))
    _write(_XlsxFile(workbook), job, report)
    workbook.save(stream)


def _claim(job, worker):
    """Claim a queued job, or a running one whose worker died (stale heartbeat). One UPDATE; True when claimed."""
    stale_before = timezone.now() - datetime.timedelta(seconds=settings.CLAIM_STALE_SECONDS)
    return bool(
        ExportJob.objects.filter(pk=job.pk)
        .filter(
            Q(status=ExportJob.Status.QUEUED)
            | Q(status=ExportJob.Status.RUNNING, heartbeat_at__lt=stale_before)
            | Q(status=ExportJob.Status.RUNNING, heartbeat_at__isnull=True)
        )
        .update(
            status=ExportJob.Status.RUNNING,
            progress=0,
            claimed_by=worker,
            heartbeat_at=timezone.now(),
            attempts=F("attempts") + 1,
        )
    )


def build_export(job):
    """Build the file of `job` and keep it in the default storage as exports/<uuid>.<xlsx|csv>, reporting progress on
    the job row as it goes.

    Safe to run twice and after a worker died: only a queued job, or a running one whose heartbeat is older than
    CLAIM_STALE_SECONDS, is claimed; anything else is left alone. Progress updates refresh the heartbeat. The
    workbook is written to a local temporary file and stored only when complete, so neither a failure nor a dead
    worker leaves a half-written file in the storage; a failure marks the job failed with a message.
    Side effects: the stored file; the job's status, progress, file_path, claim, finished.
    """
    worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    if not _claim(job, worker):
        job.refresh_from_db()
        return job
    mine = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING, claimed_by=worker)
    last = [0, time.monotonic()]

    def report(done, total):
        percent = min(99, done * 100 // max(total, 1))
        if percent >= last[0] + PROGRESS_STEP or time.monotonic() - last[1] > HEARTBEAT_SECONDS:
            last[:] = [percent, time.monotonic()]
            mine.update(progress=percent, heartbeat_at=timezone.now())

    try:
        with tempfile.TemporaryFile() as scratch:
            write_export(job, scratch, report)
            scratch.seek(0)
            name = default_storage.save(f"{EXPORT_DIR}/{uuid.uuid4().hex}.{job.file_format}", File(scratch))
    except Exception:
        mine.update(
            status=ExportJob.Status.FAILED,
            error=_("The export could not be built. Try again; if it fails again, tell the administrator."),
            claimed_by="",
            finished=timezone.now(),
        )
        raise
    if not mine.update(
        status=ExportJob.Status.DONE, progress=100, file_path=name, claimed_by="", finished=timezone.now()
    ):
        default_storage.delete(name)  # the sweep gave the job to another worker meanwhile
    job.refresh_from_db()
    return job


def sweep_stale_exports():
    """Re-queue (or after MAX_ATTEMPTS fail) every export whose worker died.

    Beat runs this with the import sweep (`certification.sweep_stale_claims`); so do `manage.py fire_timers` and the
    office's button. A dead worker stored nothing (files are stored only when complete). Returns (restarted, failed).
    """
    stale_before = timezone.now() - datetime.timedelta(seconds=settings.CLAIM_STALE_SECONDS)
    restarted = failed = 0
    stale = ExportJob.objects.filter(status=ExportJob.Status.RUNNING).filter(
        Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, created__lt=stale_before)
    )
    for job in stale:
        still_stale = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING, claimed_by=job.claimed_by)
        if job.attempts >= MAX_ATTEMPTS:
            failed += still_stale.update(
                status=ExportJob.Status.FAILED,
                error=_("The export was interrupted. Request it again."),
                claimed_by="",
                finished=timezone.now(),
            )
        else:
            changed = still_stale.update(status=ExportJob.Status.QUEUED, claimed_by="", heartbeat_at=None, progress=0)
            if changed:
                queue_export(job)
            restarted += changed
    return restarted, failed


@shared_task(name="certification.build_export", acks_late=True, reject_on_worker_lost=True)
def task_build_export(*, job_id):
    job = ExportJob.objects.filter(pk=job_id).select_related("application__standard", "district").first()
    if job is None:
        return False
    build_export(job)
    return True


def queue_export(job):
    """Queue the build of `job` once the transaction that created it commits."""
    transaction.on_commit(lambda: task_build_export.delay(job_id=job.pk))
