"""Asking for an export (Excel, or CSV safe to open) of a 评估汇总表 (an application's or a district's); a Celery task builds it."""

from django.db import transaction
from django.utils.translation import gettext as _

from certification.errors import InvalidInput, NotAllowed
from certification.models import (
    ExportJob,
)
from certification.scope import may_export

from . import audit, queue


def request_export(*, by, application=None, district=None, file_format="xlsx"):
    """Ask for an export (.xlsx, or .csv safe to open) of an application's 评估汇总表 or of a district's applications.

    Side effects: an ExportJob row, an audit row, and after commit the Celery task that builds the file.
    """
    if (application is None) == (district is None):
        raise InvalidInput(_("Choose either an application or a district to export."))
    if not may_export(by, application=application, district=district):
        raise NotAllowed(_("You may not export this summary."))
    if file_format not in ExportJob.FileFormat.values:
        raise InvalidInput(_("Choose Excel (.xlsx) or CSV (.csv) for the export."))
    with transaction.atomic():
        job = ExportJob.objects.create(
            kind=ExportJob.Kind.APPLICATION if application is not None else ExportJob.Kind.DISTRICT,
            application=application,
            district=district,
            file_format=ExportJob.FileFormat(file_format),
            created_by=by,
        )
        audit.record(
            "export.requested",
            actor=by,
            application=application,
            obj=job,
            payload={
                "kind": job.kind,
                "district": district.pk if district is not None else None,
                "format": job.file_format,
            },
        )
        queue.after_commit("certification.build_export", job_id=job.pk)
    return job
