"""Importing a data set's workbook into an application, replacing the rows of the previous import.

Two steps, so that a 50,000-row roster never holds up a request:

1. `start_import` (the view calls it): checks who uploads and that the data set's evidence takes uploads now, checks
   the file by content (C1's upload rules), keeps the workbook (`uploads.keep`) and records a pending
   DatasetImport. The Celery task `certification.import_dataset` is queued on commit (run inline when eager).
2. `run_import` (the task calls it): one streamed pass reads every row and collects every error with its sheet,
   row and column. Until the first error, valid rows are written in committed batches tagged with the import; they
   are not current data while the import runs (only a `done` import's rows are). When any row is wrong the import
   ends `failed` and its rows are deleted: nothing of it stays. Progress is saved as it goes so that the page can
   poll it. Finally, in one transaction: the workbook is kept as evidence for every requirement naming the data
   set that takes uploads now, the previous import's rows are deleted and it becomes `replaced`, and this import
   becomes `done`. (One pass rather than validate-then-write: openpyxl's parsing is most of the cost.)
"""

import logging

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certification import uploads
from certification.datasets import DATASETS, reader
from certification.datasets.base import ImportContext
from certification.errors import DomainError, InvalidInput
from certification.models import Application, DatasetImport, EvidenceRequirement

from . import audit, queue
from .evidence import can_upload, check_can_upload, check_may_manage, upload_evidence

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000


def dataset_requirements(application, dataset_code):
    """The evidence requirements of the application's pinned standard that this data set fills, in order."""
    return list(
        EvidenceRequirement.objects.filter(
            indicator__dimension__standard_id=application.standard_id, dataset=dataset_code
        ).order_by("indicator__dimension__order", "indicator__order", "indicator__code", "code")
    )


def datasets_of(application):
    """The data sets the application's standard asks for, in the order of DATASETS."""
    codes = set(
        EvidenceRequirement.objects.filter(indicator__dimension__standard_id=application.standard_id)
        .exclude(dataset="")
        .values_list("dataset", flat=True)
    )
    return [dataset for code, dataset in DATASETS.items() if code in codes]


def _check_takes_uploads(application, requirements):
    """The requirements that take uploads now; raise the first one's refusal when none does."""
    open_now = [requirement for requirement in requirements if can_upload(application, requirement)]
    if not open_now:
        check_can_upload(application, requirements[0])
    return open_now


def _context(application):
    schools = application.cluster.schools.all()
    return ImportContext(schools_by_name={school.name: school for school in schools})


def start_import(application, dataset_code, uploaded_file, *, by):
    """Record an import of `uploaded_file` as data set `dataset_code` of `application` and queue it.

    Refuses (DomainError, nothing stored): a user who is not the cluster's lead (403); a data set the standard does
    not ask for (400); when none of the data set's evidence takes uploads now, e.g. its stage is submitted (409);
    a file that is not an .xlsx workbook by content, too large, a zip bomb or macro-enabled (400).
    Side effects: the workbook stored as datasets/<application>/<uuid>.xlsx, a DatasetImport row, a "dataset.import_started" audit
    row, and `certification.import_dataset` queued on commit.
    """
    check_may_manage(by, application)
    dataset = DATASETS.get(dataset_code)
    requirements = dataset_requirements(application, dataset_code) if dataset else []
    if not requirements:
        raise InvalidInput(_("The application's standard does not ask for this data set."))
    _check_takes_uploads(application, requirements)

    name = uploads.sanitise_filename(getattr(uploaded_file, "name", "") or "")
    file_type = uploads.validate_upload(uploaded_file, name, uploaded_file.size)
    if file_type.key != "xlsx":
        raise InvalidInput(
            _("The file is not an Excel workbook (.xlsx). Download the template, fill it in and upload it.")
        )
    with uploads.keeping(uploaded_file, f"datasets/{application.pk}", suffix=".xlsx") as stored, transaction.atomic():
        dataset_import = DatasetImport.objects.create(
            application=application,
            dataset=dataset_code,
            workbook=stored.name,
            original_name=name,
            fingerprint=stored.sha256,
            created_by=by,
        )
        audit.record(
            "dataset.import_started",
            actor=by,
            application=application,
            obj=dataset_import,
            to_state=dataset_import.status,
            payload={"dataset": dataset_code, "name": name, "sha256": stored.sha256},
        )
        queue.after_commit("certification.import_dataset", import_id=dataset_import.pk)
    return dataset_import


def _set_progress(dataset_import, percent):
    DatasetImport.objects.filter(pk=dataset_import.pk).update(progress=percent)


def _fail(dataset_import, errors, error_count, rows):
    dataset_import.status = DatasetImport.Status.FAILED
    dataset_import.errors = errors
    dataset_import.error_count = error_count
    dataset_import.rows_count = rows
    dataset_import.progress = 100
    dataset_import.finished = timezone.now()
    with transaction.atomic():
        dataset_import.save(update_fields=["status", "errors", "error_count", "rows_count", "progress", "finished"])
        audit.record(
            "dataset.import_failed",
            actor=dataset_import.created_by,
            application=dataset_import.application,
            obj=dataset_import,
            from_state=DatasetImport.Status.RUNNING,
            to_state=DatasetImport.Status.FAILED,
            payload={"dataset": dataset_import.dataset, "errors": error_count},
        )
    return dataset_import


class _BatchWriter:
    """Collects the rows the reader hands on and writes them in committed batches tagged with the import."""

    def __init__(self, dataset, dataset_import):
        self.model = dataset.model
        self.common = {"application_id": dataset_import.application_id, "dataset_import_id": dataset_import.pk}
        self.batch = []

    def __call__(self, row_number, fields):
        self.batch.append(self.model(row_number=row_number, **self.common, **fields))
        if len(self.batch) >= BATCH_SIZE:
            self.flush()

    def flush(self):
        if self.batch:
            self.model.objects.bulk_create(self.batch)
            self.batch = []


def _finish(dataset, dataset_import, years):
    """Keep the workbook as evidence, retire the previous import and make this one current. One transaction."""
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=dataset_import.application_id)
        requirements = dataset_requirements(application, dataset.code)
        open_now = _check_takes_uploads(application, requirements)
        kept = []
        for requirement in open_now:
            with dataset_import.workbook.open("rb") as workbook:
                kept.append(
                    upload_evidence(
                        application,
                        requirement,
                        File(workbook, name=dataset_import.original_name),
                        by=dataset_import.created_by,
                    )
                )
        previous = list(
            DatasetImport.objects.select_for_update()
            .filter(application=application, dataset=dataset.code, status=DatasetImport.Status.DONE)
            .exclude(pk=dataset_import.pk)
        )
        dataset.model.objects.filter(dataset_import__in=previous).delete()
        DatasetImport.objects.filter(pk__in=[item.pk for item in previous]).update(status=DatasetImport.Status.REPLACED)
        dataset_import.status = DatasetImport.Status.DONE
        dataset_import.progress = 100
        dataset_import.years = sorted(years)
        dataset_import.finished = timezone.now()
        dataset_import.save(update_fields=["status", "progress", "years", "finished"])
        dataset_import.evidence_files.set(kept)
        audit.record(
            "dataset.imported",
            actor=dataset_import.created_by,
            application=application,
            obj=dataset_import,
            from_state=DatasetImport.Status.RUNNING,
            to_state=DatasetImport.Status.DONE,
            payload={
                "dataset": dataset.code,
                "rows": dataset_import.rows_count,
                "years": dataset_import.years,
                "sha256": dataset_import.fingerprint,
                "replaced": [item.pk for item in previous],
                "evidence": [item.pk for item in kept],
            },
        )
    return dataset_import


def _refused_across_rows(dataset, dataset_import):
    """The data set's rules across rows and data sets (`Dataset.check_import`) as error entries, [] when none."""
    if dataset.check_import is None:
        return []
    return [
        reader.error_entry(
            reason, sheet=dataset.title, row=row, column=dataset.column_number(key), header=dataset.column(key).header
        )
        for row, key, reason in dataset.check_import(dataset_import)
    ]


def run_import(dataset_import):
    """Read every row of a pending import in one pass, write its rows and make them the data set's current data.

    Safe to run twice: only a pending import is claimed (pending → running, one UPDATE); any other state returns
    the import untouched. A wrong workbook ends `failed` with every error listed (at most
    `reader.MAX_ERRORS_LISTED`, then a count) and none of its rows kept. Side effects: rows of the data set's model, evidence
    files (see `upload_evidence`), the previous import's rows deleted and its status `replaced`, audit rows
    "dataset.imported" or "dataset.import_failed".
    """
    claimed = DatasetImport.objects.filter(pk=dataset_import.pk, status=DatasetImport.Status.PENDING).update(
        status=DatasetImport.Status.RUNNING, progress=0
    )
    dataset_import.refresh_from_db()
    if not claimed:
        return dataset_import
    dataset = DATASETS[dataset_import.dataset]
    application = dataset_import.application
    context = _context(application)

    def on_progress(done, total):
        _set_progress(dataset_import, min(99, 99 * done // total))

    writer = _BatchWriter(dataset, dataset_import)
    try:
        with uploads.local_path(dataset_import.workbook.name) as path:
            outcome = reader.read(dataset, path, context, on_progress=on_progress, on_record=writer)
        if not outcome.ok:
            dataset.model.objects.filter(dataset_import=dataset_import).delete()
            return _fail(dataset_import, outcome.listed_errors(), outcome.error_count, outcome.rows)
        writer.flush()
        refused = _refused_across_rows(dataset, dataset_import)
        if refused:
            dataset.model.objects.filter(dataset_import=dataset_import).delete()
            return _fail(dataset_import, refused[: reader.MAX_ERRORS_LISTED], len(refused), outcome.rows)
        dataset_import.rows_count = outcome.rows
        dataset_import.save(update_fields=["rows_count"])
        return _finish(dataset, dataset_import, outcome.years)
    except DomainError as refused:
        dataset.model.objects.filter(dataset_import=dataset_import).delete()
        return _fail(dataset_import, [reader.error_entry(refused.message)], 1, dataset_import.rows_count)
    except Exception:
        logger.exception("Import %s of %s failed", dataset_import.pk, dataset.code)
        dataset.model.objects.filter(dataset_import=dataset_import).delete()
        entry = reader.error_entry(_("The import stopped because of a server error. Upload the workbook again."))
        return _fail(dataset_import, [entry], 1, dataset_import.rows_count)
