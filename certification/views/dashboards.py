"""Dashboards of plan progress and the work in progress (district office and leader, city), the district's plan
targets, and the city office's evaluator analytics.

Each chart is drawn in the browser by Chart.js (vendored under static/certification/vendor/chartjs) from the
page's JSON endpoint; its table is printed beside it from the same `Chart` and it downloads as .xlsx.
"""

from io import BytesIO

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from openpyxl import Workbook

from certification.domain import analytics, dashboards, plans
from certification.errors import DomainError
from certification.forms.plans import PlanTargetForm
from certification.models import Region
from certification.views.downloads import content_disposition

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _region(user, kind, pk):
    """The district or city `pk` if `user` may open its dashboard, else 403 saying why."""
    region = get_object_or_404(Region, pk=pk, kind=kind)
    scope = dashboards.dashboard_scope(user)
    allowed = scope.districts if kind == Region.Kind.DISTRICT else scope.cities
    if region.pk not in allowed:
        raise PermissionDenied(_("This dashboard belongs to another region's office and leaders."))
    return region


def _dashboard(user, scope, pk):
    if scope == "district":
        district = _region(user, Region.Kind.DISTRICT, pk)
        return district, dashboards.build_dashboard(str(district), [district])
    if scope == "city":
        city = _region(user, Region.Kind.CITY, pk)
        districts = Region.objects.filter(parent=city).order_by("name")
        return city, dashboards.build_dashboard(str(city), districts, with_district=True)
    raise Http404


@login_required
def index(request):
    scope = dashboards.dashboard_scope(request.user)
    if scope.is_empty:
        raise PermissionDenied(_("Dashboards are for the district and city offices and leaders."))
    regions = Region.objects.filter(pk__in=scope.districts | scope.cities).select_related("parent")
    return render(
        request,
        "certification/dashboards/index.html",
        {
            "cities": [r for r in regions if r.kind == Region.Kind.CITY],
            "districts": [r for r in regions if r.kind == Region.Kind.DISTRICT],
            "analytics_cities": scope.analytics_cities,
        },
    )


@login_required
def dashboard_page(request, scope, pk):
    region, dashboard = _dashboard(request.user, scope, pk)
    return render(
        request,
        "certification/dashboards/dashboard.html",
        {
            "region": region,
            "scope": scope,
            "dashboard": dashboard,
            "data_url": reverse("dashboards:data", args=[scope, pk]),
            "may_record_targets": scope == "district" and plans.may_record_targets(request.user, region),
        },
    )


@login_required
def dashboard_data(request, scope, pk):
    _region, dashboard = _dashboard(request.user, scope, pk)
    return JsonResponse(dashboard.as_json(), json_dumps_params={"ensure_ascii": False})


@login_required
def chart_xlsx(request, scope, pk, chart_id):
    region, dashboard = _dashboard(request.user, scope, pk)
    chart = dashboard.chart(chart_id)
    if chart is None:
        raise Http404(_("No such chart."))
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Data")
    sheet.append([chart.title])
    if chart.note:
        sheet.append([chart.note])
    sheet.append(chart.columns)
    for i, label in enumerate(chart.labels):
        sheet.append([str(label), *(dashboards._number(s.values[i]) for s in chart.series)])
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    name = f"{region}-{chart.title}-{dashboard.day.isoformat()}.xlsx".replace("/", "-")
    response["Content-Disposition"] = content_disposition(name, attachment=True)
    return response


@login_required
def targets_page(request, pk):
    district = _region(request.user, Region.Kind.DISTRICT, pk)
    may_record = plans.may_record_targets(request.user, district)
    form = PlanTargetForm()
    if request.method == "POST":
        if not may_record:
            raise PermissionDenied(_("Only the district's office may record its plan targets."))
        form = PlanTargetForm(request.POST)
        if form.is_valid():
            try:
                plans.record_target(district, by=request.user, **form.cleaned_data)
            except DomainError as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(request, _("The target was recorded."))
                return redirect("dashboards:targets", pk=district.pk)
    return render(
        request,
        "certification/dashboards/targets.html",
        {
            "district": district,
            "targets": plans.targets_of([district]),
            "form": form if may_record else None,
            "seed_targets": plans.SEED_TARGETS if may_record else [],
        },
        status=400 if form.is_bound else 200,
    )


@login_required
@require_POST
def record_seed_targets(request, pk):
    district = _region(request.user, Region.Kind.DISTRICT, pk)
    plans.record_seed_targets(district, by=request.user)
    messages.success(request, _("The targets of the seed plans were recorded."))
    return redirect("dashboards:targets", pk=district.pk)


@login_required
def evaluator_page(request, pk):
    city = get_object_or_404(Region, pk=pk, kind=Region.Kind.CITY)
    if city.pk not in dashboards.dashboard_scope(request.user).analytics_cities:
        raise PermissionDenied(_("Evaluator analytics are for the city office only."))
    evaluators, standards = analytics.evaluator_analytics(city)
    return render(
        request,
        "certification/dashboards/evaluators.html",
        {"city": city, "evaluators": evaluators, "standards": standards},
    )
