"""Files without a row: how long refused and replaced import workbooks are kept, and the sweep of orphan files.

Evidence files are permanent (every version stays in the history), and an import's workbook is also kept as
evidence when it succeeds, so the workbook of a failed or replaced import is only a copy of the attempt: it is
kept `IMPORT_WORKBOOK_RETENTION_DAYS` (default 30) after the import failed or was replaced, then removed.

An orphan is a stored file no row names: an upload whose transaction rolled back after the file was stored, or a
process killed between the two. The sweep removes orphans older than `ORPHAN_GRACE_HOURS` (default 24), so a file
whose row is still being written is never touched. Beat runs both daily (`certification.sweep_storage`);
`manage.py sweep_storage` is the fallback.
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from certification.models import DatasetImport, EvidenceFile, ExportJob

from . import audit

logger = logging.getLogger(__name__)

# The folders of the default storage that hold rows' files; anything else there (e.g. demo workbooks) is not ours.
SWEPT_FOLDERS = ("evidence", "datasets", "exports")


@dataclass
class SweepResult:
    workbooks_removed: list = field(default_factory=list)
    orphans_removed: list = field(default_factory=list)


def expired_import_workbooks(now):
    """Failed imports, and replaced ones, whose workbook is past the retention period and still stored."""
    cutoff = now - datetime.timedelta(days=settings.IMPORT_WORKBOOK_RETENTION_DAYS)
    # A replaced version was replaced when the next version of the same data set and school year finished.
    replaced_at = Subquery(
        DatasetImport.objects.filter(
            cluster=OuterRef("cluster"),
            school_year=OuterRef("school_year"),
            dataset=OuterRef("dataset"),
            status__in=[DatasetImport.Status.DONE, DatasetImport.Status.REPLACED],
            finished__gt=OuterRef("finished"),
        )
        .order_by("finished")
        .values("finished")[:1]
    )
    return (
        DatasetImport.objects.exclude(workbook="")
        .annotate(replaced_at=replaced_at)
        .filter(
            Q(status=DatasetImport.Status.FAILED, finished__lt=cutoff)
            | Q(status=DatasetImport.Status.REPLACED, replaced_at__lt=cutoff)
        )
        .order_by("pk")
    )


def remove_import_workbook(dataset_import):
    """Delete the stored workbook of a failed or replaced import and say so in the audit trail.

    The row stays (its outcome, errors and sha256 remain the record); its `workbook` becomes empty.
    Side effects: the file deleted from storage after commit; a "dataset.workbook_removed" audit row.
    """
    with transaction.atomic():
        locked = DatasetImport.objects.select_for_update().get(pk=dataset_import.pk)
        name = locked.workbook.name
        if not name or locked.status not in {DatasetImport.Status.FAILED, DatasetImport.Status.REPLACED}:
            return None
        DatasetImport.objects.filter(pk=locked.pk).update(workbook="")
        audit.record(
            "dataset.workbook_removed",
            application=locked.application,
            obj=locked,
            payload={
                "name": name,
                "sha256": locked.fingerprint,
                "status": locked.status,
                "retention_days": settings.IMPORT_WORKBOOK_RETENTION_DAYS,
            },
        )
        # After commit: a rolled-back removal must still find its file.
        transaction.on_commit(lambda: default_storage.delete(name))
    return name


def _stored_files(folder):
    """Every file name under `folder` of the default storage, recursively."""
    try:
        directories, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for directory in directories:
        yield from _stored_files(f"{folder}/{directory}")


def _referenced_names():
    names = set(EvidenceFile.objects.values_list("stored_name", flat=True))
    names.update(DatasetImport.objects.exclude(workbook="").values_list("workbook", flat=True))
    names.update(ExportJob.objects.exclude(file_path="").values_list("file_path", flat=True))
    return names


def find_orphans(now):
    """Stored files under SWEPT_FOLDERS that no row names and that are older than the grace period."""
    cutoff = now - datetime.timedelta(hours=settings.ORPHAN_GRACE_HOURS)
    referenced = _referenced_names()
    orphans = []
    for folder in SWEPT_FOLDERS:
        for name in _stored_files(folder):
            if name not in referenced and default_storage.get_modified_time(name) < cutoff:
                orphans.append(name)
    return orphans


def remove_orphans(now):
    """Delete the orphan files and record one audit row listing them (none when there are none)."""
    orphans = find_orphans(now)
    if not orphans:
        return []
    for name in orphans:
        default_storage.delete(name)
    audit.record(
        "storage.orphans_removed",
        payload={"names": orphans, "count": len(orphans), "grace_hours": settings.ORPHAN_GRACE_HOURS},
    )
    logger.info("removed %s orphan files", len(orphans))
    return orphans


def sweep_storage(now=None):
    """Apply the retention rule to import workbooks, then remove orphan files. Safe to run at any time, twice."""
    now = now or timezone.now()
    result = SweepResult()
    for dataset_import in expired_import_workbooks(now):
        name = remove_import_workbook(dataset_import)
        if name:
            result.workbooks_removed.append(name)
    result.orphans_removed = remove_orphans(now)
    return result
