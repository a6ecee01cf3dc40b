"""The UI shell: viewflow's Material Site, one Application per person's kind of work."""

from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application, ReadonlyModelViewset, Site

from certification.models import Cluster, Region, School, Standard


class StandardViewset(ReadonlyModelViewset):
    model = Standard
    icon = "rule"
    list_columns = ("title", "tier", "version", "status", "total_score", "pass_score", "published")
    list_filter_fields = ("tier", "status")


class ClusterViewset(ReadonlyModelViewset):
    model = Cluster
    icon = "hub"
    queryset = Cluster.objects.select_related("district__parent")
    list_columns = ("name", "kind", "district", "current_tier", "tier_since")
    list_filter_fields = ("kind", "current_tier", "district")
    list_search_fields = ("name",)


class SchoolViewset(ReadonlyModelViewset):
    model = School
    icon = "school"
    queryset = School.objects.select_related("district__parent")
    list_columns = ("name", "district", "get_stages_display", "is_relatively_weak", "student_count", "teacher_count")
    list_filter_fields = ("district", "is_relatively_weak")
    list_search_fields = ("name",)


class RegionViewset(ReadonlyModelViewset):
    model = Region
    icon = "map"
    queryset = Region.objects.select_related("parent")
    list_columns = ("name", "kind", "parent")


class ReferenceApplication(Application):
    title = _("Standards and clusters")
    icon = "account_tree"
    app_name = "reference"
    viewsets = [StandardViewset(), ClusterViewset(), SchoolViewset(), RegionViewset()]

    def has_view_permission(self, user, obj=None):
        return user.is_authenticated


site = Site(
    title=_("Cluster Certification"),
    primary_color="#1f4e79",
    secondary_color="#2e75b6",
    viewsets=[ReferenceApplication()],
)
