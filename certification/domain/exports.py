"""Asking for an export (Excel, or CSV safe to open) of a 评估汇总表 (an application's or a district's); a Celery task builds it."""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from certification.errors import InvalidInput, NotAllowed
from certification.models import (
    ExportJob,
)
from certification.scope import may_export, may_export_all

from . import audit, queue


def request_export(*, by, application=None, district=None, applications=None, file_format="xlsx"):
    """Ask for an export (.xlsx, or .csv safe to open) of an application's 评估汇总表, of a district's applications, or
    of the `applications` an office selected (at most settings.EXPORT_SELECTION_MAX, each within the requester's
    export scope: one outside it refuses the whole request, and nothing is exported).

    Side effects: an ExportJob row, an audit row, and after commit the Celery task that builds the file.
    """
    if sum(subject is not None for subject in (application, district, applications)) != 1:
        raise InvalidInput(_("Choose either an application or a district to export."))
    if applications is not None:
        applications = list(applications)
        if not applications:
            raise InvalidInput(_("Select at least one application to export."))
        if len(applications) > settings.EXPORT_SELECTION_MAX:
            raise InvalidInput(
                _("At most %(max)s applications can be exported at once; you selected %(count)s.")
                % {"max": settings.EXPORT_SELECTION_MAX, "count": len(applications)}
            )
        if not may_export_all(by, applications):
            raise NotAllowed(_("You may not export this summary."))
    elif not may_export(by, application=application, district=district):
        raise NotAllowed(_("You may not export this summary."))
    if file_format not in ExportJob.FileFormat.values:
        raise InvalidInput(_("Choose Excel (.xlsx) or CSV (.csv) for the export."))
    with transaction.atomic():
        job = ExportJob.objects.create(
            kind=ExportJob.Kind.APPLICATION
            if application is not None
            else ExportJob.Kind.DISTRICT
            if district is not None
            else ExportJob.Kind.SELECTION,
            application=application,
            district=district,
            file_format=ExportJob.FileFormat(file_format),
            created_by=by,
        )
        if applications is not None:
            job.applications.set(applications)
        audit.record(
            "export.requested",
            actor=by,
            application=application,
            obj=job,
            payload={
                "kind": job.kind,
                "district": district.pk if district is not None else None,
                "format": job.file_format,
                "applications": [each.pk for each in applications] if applications is not None else None,
            },
        )
        queue.after_commit("certification.build_export", job_id=job.pk)
    return job
