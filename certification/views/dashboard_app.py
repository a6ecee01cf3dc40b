"""Dashboards in the site frame: progress against the plan, work in progress, targets, evaluator analytics.
Register `DashboardApplication()` in `certification.views.site.site`'s viewsets."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from certification.domain.dashboards import dashboard_scope

from . import dashboards


class DashboardApplication(Application):
    title = _("Dashboards")
    icon = "insights"
    app_name = "dashboards"
    base_template_name = "certification/base_page.html"
    menu_template_name = "certification/dashboards/menu.html"

    index_path = path("", dashboards.index, name="index")
    dashboard_path = path("<str:scope>/<int:pk>/", dashboards.dashboard_page, name="dashboard")
    data_path = path("<str:scope>/<int:pk>/data.json", dashboards.dashboard_data, name="data")
    xlsx_path = path("<str:scope>/<int:pk>/charts/<str:chart_id>.xlsx", dashboards.chart_xlsx, name="xlsx")
    targets_path = path("district/<int:pk>/targets/", dashboards.targets_page, name="targets")
    seed_targets_path = path(
        "district/<int:pk>/targets/seeds/", dashboards.record_seed_targets, name="record_seed_targets"
    )
    evaluators_path = path("city/<int:pk>/evaluators/", dashboards.evaluator_page, name="evaluators")

    def has_view_permission(self, user, obj=None):
        # Anonymous visitors pass through to the views' login redirect; signed-in people see the area only when
        # some dashboard is theirs (each view checks its own region again).
        return not user.is_authenticated or not dashboard_scope(user).is_empty
