"""Importing a data set's workbook for a cluster and school year, as a new version of that data set.

Data belong to a cluster and a school year (issue 13): imported once, from an application's page or from the
cluster's data page, and read by every application and yearly review that covers the year. Each finished import is
version n+1 of its (cluster, school year, data set); the previous version becomes `replaced` and keeps its rows,
because consumers PIN versions (`pin_for`, `Application.data_versions`): an application pins the latest versions
when it opens, and a new version moves its pin only while that data set's evidence still takes uploads in it, so a
submitted stage, its score sheets and its computed indicators never change under it.

Two steps, so that a 50,000-row roster never holds up a request:

1. `start_import` (the view calls it): checks who uploads and that the data set's evidence takes uploads now, checks
   the file by content (C1's upload rules), keeps the workbook (`uploads.keep`) and records a pending
   DatasetImport. The Celery task `certification.import_dataset` is queued on commit (run inline when eager).
2. `run_import` (the task calls it): one streamed pass reads every row and collects every error with its sheet,
   row and column. Until the first error, valid rows are written in committed batches tagged with the import; they
   are not current data while the import runs (only a `done` import's rows are). When any row is wrong the import
   ends `failed` and its rows are deleted: nothing of it stays. Progress is saved as it goes so that the page can
   poll it. Finally, in one transaction: the workbook is kept as evidence for every requirement naming the data
   set that takes uploads now in each application that takes the new version, the previous version becomes
   `replaced` (rows kept), this import becomes `done` with the next version number, and the pins move. (One pass rather than validate-then-write: openpyxl's parsing is most of the cost.)
"""

import datetime
import logging
import os
import socket
import time
import uuid

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from certification import uploads
from certification.datasets import DATASETS, reader
from certification.datasets.base import ImportContext
from certification.datasets.template import filled_workbook
from certification.errors import DomainError, InvalidInput, NotAllowed
from certification.models import Application, Cluster, DatasetImport, EvidenceRequirement, Role, RoleGrant
from certification.models.dataset import data_school_year

from . import audit, queue
from .evidence import can_upload, check_can_upload, check_may_manage, upload_evidence

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
# An import whose workers died this many times fails with "upload it again" instead of starting over.
MAX_ATTEMPTS = 3
# A worker refreshes its claim at least this often while it reads (and with every batch it writes).
HEARTBEAT_SECONDS = 5


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


def _context(cluster):
    schools = cluster.schools.all()
    return ImportContext(schools_by_name={school.name: school for school in schools})


# Reads of the versions, for every consumer (applications, yearly reviews, the self-check, caches keyed by version).


def latest_versions(cluster, school_year):
    """{data set code: DatasetImport} of the latest finished version of every data set of the cluster and year."""
    imports = (
        DatasetImport.objects.current()
        .for_cluster_year(cluster, school_year)
        .select_related("created_by")
        .order_by("dataset")
    )
    return {item.dataset: item for item in imports}


def latest_versions_of_clusters(cluster_ids, school_year):
    """{cluster id: {data set code: DatasetImport}} for many clusters in one query (list pages)."""
    found = {pk: {} for pk in cluster_ids}
    imports = DatasetImport.objects.current().filter(cluster_id__in=cluster_ids, school_year=school_year)
    for item in imports.order_by("cluster_id", "dataset"):
        found[item.cluster_id][item.dataset] = item
    return found


def pinned_versions(consumer):
    """{data set code: DatasetImport} that `consumer` (an application, or any model with `data_versions`) pins."""
    return {item.dataset: item for item in consumer.data_versions.order_by("dataset", "id")}


def pin_for(consumer, cluster, school_year):
    """Pin the latest versions of the cluster's data for `school_year` to `consumer`, replacing what it pinned.

    `consumer` is any saved object with a `data_versions` many-to-many to DatasetImport (an application; a yearly
    review). Returns the pinned {data set code: DatasetImport}. Call it inside the consumer's own transaction; it
    writes no audit row (the consumer's step records what it pinned, e.g. `pinned_payload`).
    """
    versions = latest_versions(cluster, school_year)
    consumer.data_versions.set(versions.values())
    return versions


def pinned_payload(versions):
    """{data set code: [import id, version number]}: what an audit row records of a set of pinned versions."""
    return {code: [item.pk, item.version] for code, item in sorted(versions.items())}


def is_cluster_lead_of(user, cluster):
    """Whether `user` holds an active lead role on `cluster`."""
    if not user.is_authenticated or not user.is_active:
        return False
    return RoleGrant.objects.active().filter(user=user, role=Role.LEAD, cluster_id=cluster.pk).exists()


def check_may_import(application, dataset_code, *, by):
    """Refuse (DomainError) unless `by` may import data set `dataset_code` into `application` now; see
    `start_import`. Returns the data set."""
    check_may_manage(by, application)
    dataset = DATASETS.get(dataset_code)
    requirements = dataset_requirements(application, dataset_code) if dataset else []
    if not requirements:
        raise InvalidInput(_("The application's standard does not ask for this data set."))
    _check_takes_uploads(application, requirements)
    return dataset


def start_import(application, dataset_code, uploaded_file, *, by, source="workbook"):
    """Record an import of `uploaded_file` as data set `dataset_code` from `application`'s page and queue it.

    The import is a version of the cluster's data for the application's school year (`data_school_year`).

    Refuses (DomainError, nothing stored): a user who is not the cluster's lead (403); a data set the standard does
    not ask for (400); when none of the data set's evidence takes uploads now, e.g. its stage is submitted (409);
    a file that is not an .xlsx workbook by content, too large, a zip bomb or macro-enabled (400).
    Side effects: the workbook stored as datasets/<cluster>/<uuid>.<xlsx|ods>, a DatasetImport row, a
    "dataset.import_started" audit row (its payload names the `source`: "workbook", or "rows" for
    `start_rows_import`), and `certification.import_dataset` queued on commit.
    """
    check_may_import(application, dataset_code, by=by)
    return _start(
        application.cluster, data_school_year(application), dataset_code, uploaded_file, by, application, source
    )


def start_cluster_import(cluster, school_year, dataset_code, uploaded_file, *, by):
    """Record an import of `uploaded_file` as data set `dataset_code` of the cluster's `school_year` and queue it.

    From the cluster's data page: no application needed. Refuses (DomainError, nothing stored): a user who is not
    the cluster's lead (403); an unknown data set (400); a file refused by the upload rules (400).
    Side effects: as `start_import`. When it finishes, an open application of that school year takes the new version
    only where the data set's evidence takes uploads in it (see `run_import`).
    """
    if not is_cluster_lead_of(by, cluster):
        raise NotAllowed(_("Only the cluster's lead may import its data."))
    if dataset_code not in DATASETS:
        raise InvalidInput(_("No such data set."))
    return _start(cluster, school_year, dataset_code, uploaded_file, by, None)


def _start(cluster, school_year, dataset_code, uploaded_file, by, application, source="workbook"):
    name = uploads.sanitise_filename(getattr(uploaded_file, "name", "") or "")
    file_type = uploads.validate_upload(uploaded_file, name, uploaded_file.size, types=uploads.SPREADSHEET_TYPES)
    folder = f"datasets/{cluster.pk}"
    with uploads.keeping(uploaded_file, folder, suffix=file_type.extensions[0]) as stored, transaction.atomic():
        dataset_import = DatasetImport.objects.create(
            cluster=cluster,
            school_year=school_year,
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
            payload={
                "dataset": dataset_code,
                "cluster": cluster.pk,
                "school_year": school_year,
                "name": name,
                "sha256": stored.sha256,
                "source": source,
            },
        )
        queue.after_commit("certification.import_dataset", import_id=dataset_import.pk)
    return dataset_import


def start_rows_import(application, dataset_code, rows, *, by):
    """Import `rows` (one dict per record, keyed by the data set's column keys; values as a cell would hold them:
    text, numbers, booleans or None) as data set `dataset_code` of `application`.

    The rows become the data set's workbook, filled in as the template is (`template.filled_workbook`; row 2 holds
    the first record), and that workbook goes through `start_import`: the same checks, the same rules and messages
    by sheet, row and column, all or nothing, the workbook kept as the data set's evidence. Keys that are not the
    data set's columns are ignored here (callers refuse them); a missing key is an empty cell.
    Refuses as `start_import`, before the workbook is built.
    """
    dataset = check_may_import(application, dataset_code, by=by)
    content = filled_workbook(dataset, [[row.get(column.key) for column in dataset.columns] for row in rows])
    return start_import(
        application, dataset_code, ContentFile(content, name=f"{dataset.title}.xlsx"), by=by, source="rows"
    )


class _ClaimLost(Exception):
    """The import was taken from this worker (its heartbeat went stale and the sweep restarted or failed it)."""


def _worker_name():
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _stale_before():
    return timezone.now() - datetime.timedelta(seconds=settings.CLAIM_STALE_SECONDS)


def _delete_rows(dataset_import):
    DATASETS[dataset_import.dataset].model.objects.filter(dataset_import_id=dataset_import.pk).delete()


def _claim(dataset_import, worker):
    """Claim a pending import, or a running one whose worker died (stale heartbeat) after deleting its rows.

    One transaction with the import row locked, so that a sweep or a second delivery cannot claim it too. Returns
    the claimed import, or None when it is finished or claimed by a live worker.
    """
    with transaction.atomic():
        current = DatasetImport.objects.select_for_update().filter(pk=dataset_import.pk).first()
        if current is None:
            return None
        stale = current.status == DatasetImport.Status.RUNNING and (
            current.heartbeat_at is None or current.heartbeat_at < _stale_before()
        )
        if current.status != DatasetImport.Status.PENDING and not stale:
            return None
        if stale:
            _delete_rows(current)
            if current.attempts >= MAX_ATTEMPTS:
                _fail_interrupted(current)
                return None
            current.restarts += 1
            audit.record(
                "dataset.import_restarted",
                actor=current.created_by,
                application=current.application,
                obj=current,
                from_state=DatasetImport.Status.RUNNING,
                to_state=DatasetImport.Status.RUNNING,
                payload={"dataset": current.dataset, "attempt": current.attempts + 1, "worker": worker},
            )
        current.status = DatasetImport.Status.RUNNING
        current.claimed_by = worker
        current.heartbeat_at = timezone.now()
        current.attempts += 1
        current.progress = 0
        current.rows_count = 0
        current.save(
            update_fields=["status", "claimed_by", "heartbeat_at", "attempts", "restarts", "progress", "rows_count"]
        )
    return current


def _fail(dataset_import, errors, error_count, rows, *, worker=None):
    """Mark the import failed and delete its rows, in one transaction; only while `worker` holds the claim."""
    with transaction.atomic():
        claimed = DatasetImport.objects.select_for_update().filter(
            pk=dataset_import.pk, status=DatasetImport.Status.RUNNING
        )
        if worker is not None:
            claimed = claimed.filter(claimed_by=worker)
        if not claimed.exists():
            raise _ClaimLost
        _delete_rows(dataset_import)
        dataset_import.status = DatasetImport.Status.FAILED
        dataset_import.errors = errors
        dataset_import.error_count = error_count
        dataset_import.rows_count = rows
        dataset_import.progress = 100
        dataset_import.claimed_by = ""
        dataset_import.finished = timezone.now()
        dataset_import.save(
            update_fields=["status", "errors", "error_count", "rows_count", "progress", "claimed_by", "finished"]
        )
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


def _fail_interrupted(dataset_import):
    """Inside the caller's transaction, with the row locked: fail an import whose workers kept dying."""
    dataset_import.status = DatasetImport.Status.FAILED
    dataset_import.errors = [
        {**reader.error_entry(_("Import failed; upload the workbook again.")), "interrupted": True}
    ]
    dataset_import.error_count = 1
    dataset_import.progress = 100
    dataset_import.claimed_by = ""
    dataset_import.finished = timezone.now()
    dataset_import.save(update_fields=["status", "errors", "error_count", "progress", "claimed_by", "finished"])
    audit.record(
        "dataset.import_failed",
        actor=dataset_import.created_by,
        application=dataset_import.application,
        obj=dataset_import,
        from_state=DatasetImport.Status.RUNNING,
        to_state=DatasetImport.Status.FAILED,
        payload={"dataset": dataset_import.dataset, "interrupted": dataset_import.attempts},
    )


class _RowWriter:
    """Writes the rows the reader hands on in batches, each in one transaction with the claim's heartbeat.

    The INSERT is built once from the model's concrete fields and run with `executemany`: no model instance and
    no per-row SQL compilation (bulk_create spent most of the import's time there). Values pass through as the
    database adapters take them; a related object becomes its key and a JSON field is prepared by the field.
    """

    def __init__(self, dataset, dataset_import, worker):
        model = dataset.model
        self.fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        quote = connection.ops.quote_name
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(model._meta.db_table),
            ", ".join(quote(field.column) for field in self.fields),
            ", ".join(["%s"] * len(self.fields)),
        )
        self.fixed = {"dataset_import": dataset_import.pk}
        self.names = [field.name for field in self.fields]
        self.defaults = [None if field.name in self.fixed else field.get_default() for field in self.fields]
        self.prepare = [self._preparer(field) for field in self.fields]
        self.import_pk = dataset_import.pk
        self.worker = worker
        self.batch = []
        self.written = 0
        self.progress = 0
        self.beaten = time.monotonic()

    @staticmethod
    def _preparer(field):
        if field.is_relation:
            return lambda value: getattr(value, "pk", value)
        if isinstance(field, models.JSONField):
            return lambda value: field.get_db_prep_save(value, connection)
        return None

    def __call__(self, row_number, fields):
        fields = {**fields, **self.fixed, "row_number": row_number}
        values = [fields.get(name, default) for name, default in zip(self.names, self.defaults, strict=True)]
        for index, prepare in enumerate(self.prepare):
            if prepare is not None:
                values[index] = prepare(values[index])
        self.batch.append(values)
        if len(self.batch) >= BATCH_SIZE:
            self.flush()

    def report(self, done, total):
        """The reader's progress: shown with the next batch, or at once when no row was written for a while (the
        rows after a first error are only checked), so that the heartbeat never stops while the worker lives."""
        self.progress = min(99, 99 * done // total)
        if time.monotonic() - self.beaten > HEARTBEAT_SECONDS:
            self.flush()

    def flush(self):
        """Write the batch and refresh the heartbeat and progress in one transaction; _ClaimLost if taken."""
        self.beaten = time.monotonic()
        with transaction.atomic():
            update = {
                "heartbeat_at": timezone.now(),
                "rows_count": self.written + len(self.batch),
                "progress": self.progress,
            }
            if not DatasetImport.objects.filter(
                pk=self.import_pk, status=DatasetImport.Status.RUNNING, claimed_by=self.worker
            ).update(**update):
                raise _ClaimLost
            if self.batch:
                with connection.cursor() as cursor:
                    cursor.executemany(self.sql, self.batch)
        self.written += len(self.batch)
        self.batch = []


def _takers(dataset, dataset_import):
    """The open applications that take the new version: those of the cluster and school year where the data set's
    evidence takes uploads now, each with those requirements. The application it was imported from must be one of
    them (its stage may have been submitted while the import ran: then the import is refused, as before)."""
    candidates = list(
        Application.objects.open()
        .select_for_update()
        .filter(cluster_id=dataset_import.cluster_id, year=dataset_import.school_year + 1)
        .order_by("pk")
    )
    takers = []
    for application in candidates:
        requirements = dataset_requirements(application, dataset.code)
        if not requirements:
            continue
        if application.pk == dataset_import.application_id:
            takers.append((application, _check_takes_uploads(application, requirements)))
            continue
        open_now = [requirement for requirement in requirements if can_upload(application, requirement)]
        if open_now:
            takers.append((application, open_now))
    if dataset_import.application_id is not None and not any(
        application.pk == dataset_import.application_id for application, _open in takers
    ):
        check_can_upload(dataset_import.application, dataset_requirements(dataset_import.application, dataset.code)[0])
    return takers


def _finish(dataset, dataset_import, years, worker):
    """Number the new version, retire the previous one (rows kept), move the pins of the applications that take it
    and keep the workbook as their evidence. One transaction, with the cluster locked so versions number in order."""
    with transaction.atomic():
        Cluster.objects.select_for_update().filter(pk=dataset_import.cluster_id).first()
        if not DatasetImport.objects.select_for_update().filter(
            pk=dataset_import.pk, status=DatasetImport.Status.RUNNING, claimed_by=worker
        ):
            raise _ClaimLost
        takers = _takers(dataset, dataset_import)
        kept = []
        for application, open_now in takers:
            for requirement in open_now:
                with dataset_import.workbook.open("rb") as workbook:
                    kept.append(
                        upload_evidence(
                            application,
                            requirement,
                            File(workbook, name=dataset_import.original_name),
                            by=dataset_import.created_by,
                            types=uploads.SPREADSHEET_TYPES,
                        )
                    )
        same = DatasetImport.objects.filter(
            cluster_id=dataset_import.cluster_id, school_year=dataset_import.school_year, dataset=dataset.code
        ).exclude(pk=dataset_import.pk)
        previous = list(same.select_for_update().filter(status=DatasetImport.Status.DONE))
        number = (same.aggregate(last=models.Max("version"))["last"] or 0) + 1
        DatasetImport.objects.filter(pk__in=[item.pk for item in previous]).update(status=DatasetImport.Status.REPLACED)
        dataset_import.status = DatasetImport.Status.DONE
        dataset_import.version = number
        dataset_import.progress = 100
        dataset_import.years = sorted(years)
        dataset_import.claimed_by = ""
        dataset_import.finished = timezone.now()
        dataset_import.save(
            update_fields=["status", "version", "progress", "years", "rows_count", "claimed_by", "finished"]
        )
        dataset_import.evidence_files.set(kept)
        Pin = Application.data_versions.through
        taker_ids = [application.pk for application, _open in takers]
        Pin.objects.filter(application_id__in=taker_ids, datasetimport__dataset=dataset.code).delete()
        Pin.objects.bulk_create([Pin(application_id=pk, datasetimport_id=dataset_import.pk) for pk in taker_ids])
        audit.record(
            "dataset.imported",
            actor=dataset_import.created_by,
            application=dataset_import.application,
            obj=dataset_import,
            from_state=DatasetImport.Status.RUNNING,
            to_state=DatasetImport.Status.DONE,
            payload={
                "dataset": dataset.code,
                "cluster": dataset_import.cluster_id,
                "school_year": dataset_import.school_year,
                "version": number,
                "rows": dataset_import.rows_count,
                "years": dataset_import.years,
                "sha256": dataset_import.fingerprint,
                "replaced": [item.pk for item in previous],
                "pinned_by": taker_ids,
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

    Safe to run twice and after a worker died: the import is claimed (see `_claim`) when pending, or when running
    with a heartbeat older than CLAIM_STALE_SECONDS (its partial rows are deleted in the claiming transaction and
    it starts again, "dataset.import_restarted"); otherwise it is returned untouched. Each batch of rows is written
    with the heartbeat in one transaction; a worker that lost its claim stops without touching anything. A wrong
    workbook ends `failed` with every error listed (at most `reader.MAX_ERRORS_LISTED`, then a count) and none of
    its rows kept. Side effects: rows of the data set's model, evidence files (see `upload_evidence`), the previous
    version `replaced` (rows kept), pins moved (see `_finish`), audit rows "dataset.imported" or "dataset.import_failed".
    """
    worker = _worker_name()
    claimed = _claim(dataset_import, worker)
    if claimed is None:
        dataset_import.refresh_from_db()
        return dataset_import
    dataset_import = claimed
    dataset = DATASETS[dataset_import.dataset]
    context = _context(dataset_import.cluster)
    writer = _RowWriter(dataset, dataset_import, worker)
    try:
        return _read_and_write(dataset, dataset_import, context, writer, worker)
    except _ClaimLost:  # also when raised while failing the import: the new claimant owns it now
        logger.warning("Import %s was taken from worker %s; it stops here", dataset_import.pk, worker)
        dataset_import.refresh_from_db()
        return dataset_import


def _read_and_write(dataset, dataset_import, context, writer, worker):
    try:
        with uploads.local_path(dataset_import.workbook.name) as path:
            outcome = reader.read(dataset, path, context, on_progress=writer.report, on_record=writer)
        if not outcome.ok:
            return _fail(dataset_import, outcome.listed_errors(), outcome.error_count, outcome.rows, worker=worker)
        writer.flush()
        refused = _refused_across_rows(dataset, dataset_import)
        if refused:
            return _fail(dataset_import, refused[: reader.MAX_ERRORS_LISTED], len(refused), outcome.rows, worker=worker)
        dataset_import.rows_count = outcome.rows
        return _finish(dataset, dataset_import, outcome.years, worker)
    except _ClaimLost:
        raise
    except DomainError as refused:
        entry = reader.error_entry(refused.message)
        return _fail(dataset_import, [entry], 1, dataset_import.rows_count, worker=worker)
    except Exception:
        logger.exception("Import %s of %s failed", dataset_import.pk, dataset.code)
        entry = reader.error_entry(_("The import stopped because of a server error. Upload the workbook again."))
        return _fail(dataset_import, [entry], 1, dataset_import.rows_count, worker=worker)


def sweep_stale_imports():
    """Recover every import whose worker died: restart it (pending, re-queued) or, after MAX_ATTEMPTS, fail it.

    Beat runs this every minute (`certification.sweep_stale_claims`); without beat, `manage.py fire_timers` and the
    office's button do. Each import is handled in its own transaction with its row locked and its partial rows
    deleted in it. (A pending import's message is not lost: it waits in the broker, acknowledged only once run.)
    Side effects: "dataset.import_restarted" or "dataset.import_failed" audit rows, tasks queued on commit.
    Returns (restarted, failed) counts.
    """
    restarted = failed = 0
    stale_before = _stale_before()
    stale = DatasetImport.objects.filter(
        Q(status=DatasetImport.Status.RUNNING, heartbeat_at__lt=stale_before)
        | Q(status=DatasetImport.Status.RUNNING, heartbeat_at__isnull=True, created__lt=stale_before)
    ).values_list("pk", flat=True)
    for pk in list(stale):
        with transaction.atomic():
            current = DatasetImport.objects.select_for_update().filter(pk=pk).first()
            if current is None or current.status != DatasetImport.Status.RUNNING:
                continue
            if current.heartbeat_at is not None and current.heartbeat_at >= stale_before:
                continue
            _delete_rows(current)
            if current.attempts >= MAX_ATTEMPTS:
                _fail_interrupted(current)
                failed += 1
                continue
            current.status = DatasetImport.Status.PENDING
            current.claimed_by = ""
            current.heartbeat_at = None
            current.progress = 0
            current.rows_count = 0
            current.restarts += 1
            current.save(update_fields=["status", "claimed_by", "heartbeat_at", "progress", "rows_count", "restarts"])
            audit.record(
                "dataset.import_restarted",
                actor=current.created_by,
                application=current.application,
                obj=current,
                from_state=DatasetImport.Status.RUNNING,
                to_state=DatasetImport.Status.PENDING,
                payload={"dataset": current.dataset, "attempts": current.attempts},
            )
            queue.after_commit("certification.import_dataset", import_id=current.pk)
            restarted += 1
    return restarted, failed
