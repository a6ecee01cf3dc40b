"""Data set pages: download a template, upload a filled workbook, watch the import and read its errors.

Thin views: the application comes through `get_application_for` (404 out of scope), the work is
`certification.domain.datasets.start_import`, run by the Celery task `certification.import_dataset`.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from certification.datasets import DATASETS
from certification.datasets.template import build_template
from certification.domain.datasets import datasets_of, start_import
from certification.domain.evidence import check_may_manage
from certification.errors import DomainError
from certification.forms.evidence import DatasetUploadForm
from certification.models import DatasetImport
from certification.permissions import get_application_for
from certification.uploads import EvidenceUploadLimitHandler, max_upload_bytes

from .computed import render_page
from .downloads import content_disposition

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS_IN_STATUS = 20


def _dataset_or_404(application, code):
    dataset = next((dataset for dataset in datasets_of(application) if dataset.code == code), None)
    if dataset is None:
        raise Http404(_("No such data set."))
    return dataset


def _import_or_404(user, pk, import_pk):
    application = get_application_for(user, pk)
    dataset_import = (
        DatasetImport.objects.for_application(application).select_related("created_by").filter(pk=import_pk).first()
    )
    if dataset_import is None:
        raise Http404(_("No such import."))
    dataset_import.application = application
    return dataset_import


def template_download(dataset, cluster):
    """The data set's template for `cluster` as an .xlsx attachment named after both (an application's and a
    cluster's data pages)."""
    response = HttpResponse(build_template(dataset, cluster), content_type=XLSX)
    response["Content-Disposition"] = content_disposition(
        f"{dataset.title}-{cluster.name}.xlsx", attachment=True, fallback=f"{dataset.code}.xlsx"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def receive_upload(request, code, limit, *, start, detail, page):
    """A lead's upload of data set `code` (an application's or a cluster's): a valid file starts its import with
    `start(file)` and redirects to `detail(started)`; a refusal (too large, not a workbook, refused by the domain)
    renders `page(form, status)` again with the reason on the form."""
    refusal = limit.refusal().message if limit.too_large else None
    form = DatasetUploadForm(request.POST, request.FILES, requirement_pk=code, refusal=refusal)
    status = 400
    if form.is_valid():
        try:
            started = start(form.cleaned_data["file"])
        except DomainError as refused:
            form.add_error("file", refused.message)
            status = refused.status
        else:
            # Only what stays true: the import may have finished (or failed) before its page is shown, and the
            # page's status line says how far it got.
            messages.info(request, _("The workbook was received."))
            return redirect(detail(started))
    return page(form, status)


@login_required
@require_GET
def dataset_template(request, pk, code):
    application = get_application_for(request.user, pk)
    return template_download(_dataset_or_404(application, code), application.cluster)


@csrf_exempt
@login_required
@require_POST
def dataset_import(request, pk, code):
    # As for evidence: refusals that need no file come first, so nothing reads the body of someone who may not
    # import here; then the size limit goes in before the CSRF check (which reads the body) runs.
    application = get_application_for(request.user, pk)
    dataset = _dataset_or_404(application, code)
    check_may_manage(request.user, application)
    limit = EvidenceUploadLimitHandler(request, max_bytes=max_upload_bytes())
    request.upload_handlers.insert(0, limit)
    return _dataset_import(request, application, dataset, limit)


@csrf_protect
def _dataset_import(request, application, dataset, limit):
    return receive_upload(
        request,
        dataset.code,
        limit,
        start=lambda file: start_import(application, dataset.code, file, by=request.user),
        detail=lambda started: reverse("dataset_import_detail", args=[application.pk, started.pk]),
        page=lambda form, status: render_page(request, application, upload_form=form, status=status),
    )


def _notice(dataset_import):
    """What the lead is told when a worker died under the import: it started again, or it failed for good."""
    if dataset_import.is_finished:
        return _("Import failed; upload the workbook again.") if dataset_import.is_interrupted else ""
    if dataset_import.is_stalled:
        return _("The import is not progressing; it will be restarted within a few minutes.")
    return _("Import interrupted; restarted.") if dataset_import.restarts else ""


def _status(dataset_import):
    return {
        "status": dataset_import.status,
        "status_display": dataset_import.get_status_display(),
        "notice": _notice(dataset_import),
        "progress": dataset_import.progress,
        "rows": dataset_import.rows_count,
        "finished": dataset_import.is_finished,
        "error_count": dataset_import.error_count,
        "errors": dataset_import.errors[:ERRORS_IN_STATUS],
    }


@login_required
@require_GET
def dataset_import_detail(request, pk, import_pk):
    dataset_import = _import_or_404(request.user, pk, import_pk)
    state = _status(dataset_import)
    context = {
        "application": dataset_import.application,
        "owner": dataset_import.application,
        "status_url": reverse("dataset_import_status", args=[pk, import_pk]),
        "dataset_import": dataset_import,
        "dataset": DATASETS[dataset_import.dataset],
        "state": state,
        "back_url": reverse("application_computed", args=[pk]),
    }
    return render(request, "certification/datasets/import.html", context)


@login_required
@require_GET
def dataset_import_status(request, pk, import_pk):
    return JsonResponse(_status(_import_or_404(request.user, pk, import_pk)))
