"""The UI shell: viewflow's Material Site, one Application per kind of work.

To add an area, subclass `ShellApplication` (it brings the shell's page template with the language switch and the
user's display name) and add an instance to `site`'s viewsets below. Viewsets of reference data subclass
`SignedInReadonlyViewset`.
"""

from django.contrib.auth.views import LoginView
from django.db.models import Count
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from viewflow.contrib.auth import AuthenticationForm
from viewflow.urls import Application, ReadonlyModelViewset, Site
from viewflow.utils import Icon
from viewflow.views import Action

from certification.models import Cluster, Region, School, Standard
from certification.views.dashboard_app import DashboardApplication

from . import reference


class ShellApplication(Application):
    """An area of the site, drawn with the shell's page template."""

    base_template_name = "certification/base_page.html"

    def has_view_permission(self, user, obj=None):
        # Viewflow's site middleware turns a False here into a bare 403 before the view runs. Every view of the
        # shell requires sign-in itself (viewflow's list and detail views are login_required), so an anonymous
        # visitor must get through to it and be redirected to the login page.
        return True


class SignedInReadonlyViewset(ReadonlyModelViewset):
    """Reference data: every signed-in, active user may browse it, whatever their role; nobody may change it here."""

    list_view_class = reference.ReferenceListView

    def has_view_permission(self, user, obj=None):
        return user.is_authenticated and user.is_active


class StandardViewset(SignedInReadonlyViewset):
    model = Standard
    icon = "rule"
    # Viewflow's list view orders by the queryset's own order_by (it does not read Meta.ordering): spell it out.
    queryset = Standard.objects.order_by("tier", "-version")
    list_view_class = reference.StandardListView
    detail_view_class = reference.StandardDetailView
    # Not "title": viewflow looks a column name up on the viewset first, and the viewset's title is its menu label.
    list_columns = ("__str__", "tier", "status", "total_score", "pass_score", "published")
    list_filter_fields = ("tier", "status")

    def has_view_permission(self, user, obj=None):
        if obj is not None and obj.status == Standard.Status.DRAFT and not reference.is_administrator(user):
            return False
        return super().has_view_permission(user, obj=obj)

    def get_list_page_actions(self, request, *actions):
        if reference.is_administrator(request.user):
            actions = (
                Action(name=_("Import or download in Excel"), url=reverse("standards_excel"), icon=Icon("upload_file")),
                *actions,
            )
        return super().get_list_page_actions(request, *actions)


class ClusterViewset(SignedInReadonlyViewset):
    model = Cluster
    icon = "hub"
    queryset = (
        Cluster.objects.select_related("district__parent")
        .annotate(member_count=Count("memberships"))
        # The tier is derived (certification.domain.tiers): annotated in SQL (for the filter; today is read when the
        # query runs) and the rows behind "held since" prefetched, so a page costs the same queries at any length.
        .with_tier()
        .with_tier_history()
        # Creation order within a district: sorting Chinese names by code point would put 学区（七） before （三）.
        .order_by("district", "id")
    )
    detail_view_class = reference.ClusterDetailView
    list_columns = ("name", "kind", "district", "member_count", "tier_column", "since_column")
    list_filterset_class = reference.ClusterFilter
    list_search_fields = ("name",)

    def member_count(self, obj):
        return obj.member_count

    member_count.short_description = _("member schools")

    def tier_column(self, obj):
        return obj.get_current_tier_display()

    tier_column.short_description = _("current tier")

    def since_column(self, obj):
        return obj.tier_since

    since_column.short_description = _("tier held since")


class SchoolViewset(SignedInReadonlyViewset):
    model = School
    icon = "school"
    queryset = School.objects.select_related("district__parent").order_by("district", "id")
    detail_view_class = reference.SchoolDetailView
    list_columns = ("name", "kind", "district", "stages", "is_relatively_weak", "student_count", "teacher_count")
    list_filterset_class = reference.SchoolFilter
    list_search_fields = ("name",)

    def stages(self, obj):
        return obj.get_stages_display()

    stages.short_description = _("school stages")


class RegionViewset(SignedInReadonlyViewset):
    model = Region
    icon = "map"
    # A city's counts are its districts' (clusters and schools belong to districts).
    queryset = (
        Region.objects.select_related("parent")
        .annotate(
            cluster_count=Count("clusters", distinct=True) + Count("districts__clusters", distinct=True),
            school_count=Count("schools", distinct=True) + Count("districts__schools", distinct=True),
        )
        # Each city followed by its districts.
        .order_by(Coalesce("parent__name", "name"), "kind", "name")
    )
    detail_view_class = reference.RegionDetailView
    # Not "parent": viewflow looks a column name up on the viewset first, and a viewset's parent is its application.
    list_columns = ("name", "kind", "city", "cluster_count", "school_count")
    list_filter_fields = ("kind",)

    def city(self, obj):
        return obj.parent.name if obj.parent_id else ""

    city.short_description = _("city")

    def cluster_count(self, obj):
        return obj.cluster_count

    cluster_count.short_description = _("clusters")

    def school_count(self, obj):
        return obj.school_count

    school_count.short_description = _("schools")


class ReferenceApplication(ShellApplication):
    title = _("Standards and clusters")
    icon = "account_tree"
    app_name = "reference"
    viewsets = [StandardViewset(), ClusterViewset(), SchoolViewset(), RegionViewset()]


site = Site(
    title=_("Cluster Certification"),
    primary_color="#1f4e79",
    secondary_color="#2e75b6",
    # The work pages (workflows.work_app) join first, so "/" lands on each person's own page, and the flow's pages
    # join last: workflows.apps adds both, since this app does not import the workflow app.
    viewsets=[DashboardApplication(), ReferenceApplication()],
)

# Viewflow's login page with our title and the language switch (routed in project/urls.py before AuthViewset).
login_view = LoginView.as_view(form_class=AuthenticationForm, template_name="certification/login.html")


def draw_in_site(request):
    """Give a page outside the site's own URLs the site's menu and colours, as viewflow's SiteMiddleware does."""
    if request.resolver_match is not None:
        request.resolver_match.site = site
