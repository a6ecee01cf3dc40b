"""A cluster's data by school year (import once, every version kept), its self-check before applying, and the
district's readiness table (issue 13 items 1 and 7).

Thin views: the cluster comes through `_cluster_or_404` (`scope.sees_cluster`; out of scope it does not exist),
imports are `domain.datasets.start_cluster_import`, the figures `domain.readiness`.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from certification import scope
from certification.datasets import DATASETS
from certification.domain import readiness as readiness_reads
from certification.domain.datasets import is_cluster_lead_of, latest_versions, start_cluster_import
from certification.forms.evidence import DatasetUploadForm
from certification.models import Cluster, DatasetImport, Region
from certification.uploads import EvidenceUploadLimitHandler, max_upload_bytes

from .computed import _row_tables
from .datasets import _status, receive_upload, template_download

HISTORY_PAGE = 20
READINESS_PAGE = 20


def _cluster_or_404(user, pk):
    cluster = Cluster.objects.select_related("district").filter(pk=pk).first()
    if cluster is None or not scope.sees_cluster(user, cluster):
        raise Http404(_("No such cluster."))
    return cluster


def _dataset_or_404(code):
    dataset = DATASETS.get(code)
    if dataset is None:
        raise Http404(_("No such data set."))
    return dataset


def _data_url(cluster, year):
    return f"{reverse('cluster_data', args=[cluster.pk])}?year={year}"


def _render_data_page(request, cluster, year, *, upload_form=None, status=200):
    lead = is_cluster_lead_of(request.user, cluster)
    latest = latest_versions(cluster, year)
    rows = []
    for code, dataset in DATASETS.items():
        refused = upload_form is not None and upload_form.requirement_pk == code
        form = upload_form if refused else (DatasetUploadForm(requirement_pk=code) if lead else None)
        rows.append({"dataset": dataset, "latest": latest.get(code), "form": form})
    history = (
        DatasetImport.objects.for_cluster_year(cluster, year)
        .select_related("created_by", "application")
        .order_by("-created", "-id")
    )
    page = Paginator(history, HISTORY_PAGE).get_page(request.GET.get("page"))
    for item in page.object_list:
        item.title = DATASETS[item.dataset].title
    context = {
        "cluster": cluster,
        "year": year,
        "years": readiness_reads.recent_school_years(),
        "datasets": rows,
        "page": page,
        "lead": lead,
    }
    return render(request, "certification/cluster_data/page.html", context, status=status)


@login_required
@require_GET
def cluster_data(request, pk):
    cluster = _cluster_or_404(request.user, pk)
    year = readiness_reads.year_choice(request.GET.get("year"))
    return _render_data_page(request, cluster, year)


@login_required
@require_GET
def cluster_dataset_template(request, pk, code):
    cluster = _cluster_or_404(request.user, pk)
    return template_download(_dataset_or_404(code), cluster)


@csrf_exempt
@login_required
@require_POST
def cluster_dataset_import(request, pk, code):
    # As for an application's import: refusals that need no file first, the size limit before the CSRF check.
    cluster = _cluster_or_404(request.user, pk)
    _dataset_or_404(code)
    if not is_cluster_lead_of(request.user, cluster):
        raise PermissionDenied(_("Only the cluster's lead may import its data."))
    year = readiness_reads.year_choice(request.GET.get("year"))
    limit = EvidenceUploadLimitHandler(request, max_bytes=max_upload_bytes())
    request.upload_handlers.insert(0, limit)
    return _cluster_dataset_import(request, cluster, code, year, limit)


@csrf_protect
def _cluster_dataset_import(request, cluster, code, year, limit):
    return receive_upload(
        request,
        code,
        limit,
        start=lambda file: start_cluster_import(cluster, year, code, file, by=request.user),
        detail=lambda started: reverse("cluster_import_detail", args=[cluster.pk, started.pk]),
        page=lambda form, status: _render_data_page(request, cluster, year, upload_form=form, status=status),
    )


def _import_or_404(user, pk, import_pk):
    cluster = _cluster_or_404(user, pk)
    dataset_import = (
        DatasetImport.objects.filter(cluster=cluster, pk=import_pk).select_related("created_by", "cluster").first()
    )
    if dataset_import is None:
        raise Http404(_("No such import."))
    return dataset_import


@login_required
@require_GET
def cluster_import_detail(request, pk, import_pk):
    dataset_import = _import_or_404(request.user, pk, import_pk)
    context = {
        "owner": dataset_import.cluster,
        "dataset_import": dataset_import,
        "dataset": DATASETS[dataset_import.dataset],
        "state": _status(dataset_import),
        "status_url": reverse("cluster_import_status", args=[pk, import_pk]),
        "back_url": _data_url(dataset_import.cluster, dataset_import.school_year),
        "back_label": _("Back to the cluster's data"),
    }
    return render(request, "certification/datasets/import.html", context)


@login_required
@require_GET
def cluster_import_status(request, pk, import_pk):
    return JsonResponse(_status(_import_or_404(request.user, pk, import_pk)))


def _indicator_items(results):
    return [
        {
            "result": result,
            "tables": _row_tables(result.behind),
            "state": "na" if result.not_applicable else {True: "pass", False: "fail", None: "unknown"}[result.passed],
        }
        for result in results
    ]


@login_required
@require_GET
def self_check_page(request, pk):
    """Nothing is recorded: the page computes, shows, and forgets."""
    cluster = _cluster_or_404(request.user, pk)
    year = readiness_reads.year_choice(request.GET.get("year"))
    check = readiness_reads.self_check(cluster, year)
    context = {
        "cluster": cluster,
        "year": year,
        "years": readiness_reads.recent_school_years(),
        "check": check,
        "indicators": _indicator_items(check.results),
        "empty_note": _("The next tier's standard has no computed indicators."),
        "data_url": _data_url(cluster, year),
    }
    return render(request, "certification/cluster_data/self_check.html", context)


@login_required
@require_GET
def district_readiness(request, pk):
    district = get_object_or_404(Region, pk=pk, kind=Region.Kind.DISTRICT)
    if not scope.sees_district_readiness(request.user, district):
        raise PermissionDenied(_("The readiness table belongs to the district's and city's offices and leaders."))
    year = readiness_reads.year_choice(request.GET.get("year"))
    clusters = Cluster.objects.filter(district=district).select_related("district").order_by("name", "pk")
    page = Paginator(clusters, READINESS_PAGE).get_page(request.GET.get("page"))
    checks = readiness_reads.readiness(page.object_list, year)
    context = {
        "district": district,
        "year": year,
        "years": readiness_reads.recent_school_years(),
        "page": page,
        "checks": checks,
    }
    return render(request, "certification/cluster_data/readiness.html", context)
