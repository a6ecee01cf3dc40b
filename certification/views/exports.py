"""Excel exports: ask for one, watch its progress, download it. The file is built by a Celery task."""

from pathlib import PurePosixPath

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from certification.domain.exports import request_export
from certification.models import ExportJob, Region
from certification.permissions import get_application_for
from certification.scope import exportable, may_export
from certification.views.downloads import content_disposition

CONTENT_TYPES = {
    ExportJob.FileFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportJob.FileFormat.CSV: "text/csv; charset=utf-8",
}


def _district_for(user, pk):
    """The district `pk` if the user may export its summary; 404 otherwise (no existence leak)."""
    district = Region.objects.filter(pk=pk, kind=Region.Kind.DISTRICT).first()
    if district is None or not may_export(user, district=district):
        raise Http404(_("No such district."))
    return district


def _file_format(request):
    return request.POST.get("format") or ExportJob.FileFormat.XLSX


def _own_job(user, pk):
    job = ExportJob.objects.filter(pk=pk, created_by=user).select_related("application", "district").first()
    if job is None:
        raise Http404(_("No such export."))
    return job


@login_required
@require_http_methods(["GET", "POST"])
def application_export(request, pk):
    application = get_application_for(request.user, pk)
    if request.method == "POST":
        job = request_export(by=request.user, application=application, file_format=_file_format(request))
        return redirect("export_job", pk=job.pk)
    if not may_export(request.user, application=application):
        raise Http404(_("No such application."))
    title = _("Evaluation summary of %(application)s") % {"application": application}
    return render(request, "certification/exports/start.html", {"title": title})


@login_required
@require_http_methods(["GET", "POST"])
def district_export(request, pk):
    district = _district_for(request.user, pk)
    if request.method == "POST":
        job = request_export(by=request.user, district=district, file_format=_file_format(request))
        return redirect("export_job", pk=job.pk)
    title = _("District summary of %(district)s") % {"district": district}
    return render(request, "certification/exports/start.html", {"title": title})


def _status(job):
    return {
        "status": job.status,
        "status_display": job.get_status_display(),
        "progress": job.progress,
        "error": job.error,
        "download_url": reverse("export_download", args=[job.pk]) if job.status == ExportJob.Status.DONE else "",
    }


@login_required
def job_page(request, pk):
    job = _own_job(request.user, pk)
    return render(request, "certification/exports/job.html", {"job": job, "state": _status(job)})


@login_required
def job_status(request, pk):
    return JsonResponse(_status(_own_job(request.user, pk)))


@login_required
def job_download(request, pk):
    job = _own_job(request.user, pk)
    # The requester must still hold the right to see what the file contains.
    if job.kind == ExportJob.Kind.SELECTION:
        # One statement however many applications the file holds.
        allowed = not job.applications.exclude(pk__in=exportable(request.user).values("pk")).exists()
    else:
        allowed = may_export(request.user, application=job.application, district=job.district)
    if not allowed or job.status != ExportJob.Status.DONE or not job.file_path:
        raise Http404(_("No such export."))
    # file_path is written only by build_export; the checks keep a tampered row from reaching other files.
    stored = PurePosixPath(job.file_path)
    if stored.parts[:1] != ("exports",) or ".." in stored.parts or not default_storage.exists(job.file_path):
        raise Http404(_("No such export."))
    if job.application is not None:
        application = job.application
        parts = [application.cluster.name, application.get_target_tier_display(), _("Evaluation summary")]
    elif job.district is not None:
        parts = [job.district.name, _("District summary")]
    else:
        parts = [_("Summary of selected applications")]
    name = "-".join(parts) + "." + job.file_format
    response = FileResponse(default_storage.open(job.file_path, "rb"), content_type=CONTENT_TYPES[job.file_format])
    response["Content-Disposition"] = content_disposition(
        name, attachment=True, fallback=f"export-{job.kind}-{job.pk}.{job.file_format}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
