"""/api/v1/ (the API, its schema and its documentation pages) and the profile page for API tokens."""

from django.http import JsonResponse
from django.urls import include, path, re_path, register_converter
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from . import profile, views


class IdConverter:
    """An object id the database can hold: a longer number is a 404 like any unknown id, not an overflow."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


register_converter(IdConverter, "id")


class Router(SimpleRouter):
    def get_lookup_regex(self, viewset, lookup_prefix=""):
        return f"(?P<{lookup_prefix}pk>{IdConverter.regex})"


@csrf_exempt
def not_found(request, rest=""):
    """Any other address under /api/v1/ (including an id too long to be one): the API's JSON 404, not a page."""
    return JsonResponse({"code": "not_found", "message": _("Not found.")}, status=404)


router = Router()
router.register("regions", views.RegionViewSet, basename="api-region")
router.register("schools", views.SchoolViewSet, basename="api-school")
router.register("clusters", views.ClusterViewSet, basename="api-cluster")
router.register("standards", views.StandardViewSet, basename="api-standard")
router.register("applications", views.ApplicationViewSet, basename="api-application")
router.register(
    r"applications/(?P<application_pk>[0-9]{1,18})/requirements", views.RequirementViewSet, basename="api-requirement"
)
router.register(
    r"applications/(?P<application_pk>[0-9]{1,18})/evidence", views.EvidenceViewSet, basename="api-evidence"
)
router.register(
    r"applications/(?P<application_pk>[0-9]{1,18})/dataset-imports", views.DatasetImportViewSet, basename="api-import"
)
router.register("tasks", views.TaskViewSet, basename="api-task")

api = [
    *router.urls,
    path(
        "applications/<id:application_pk>/requirements/<id:requirement_pk>/upload/",
        views.EvidenceUploadView.as_view(),
        name="api-evidence-upload",
    ),
    path(
        "applications/<id:application_pk>/datasets/<str:code>/upload/",
        views.DatasetUploadView.as_view(),
        name="api-dataset-upload",
    ),
    path(
        "applications/<id:application_pk>/datasets/<str:code>/rows/",
        views.DatasetRowsView.as_view(),
        name="api-dataset-rows",
    ),
    path(
        "applications/<id:application_pk>/datasets/<str:code>/template/",
        views.DatasetTemplateView.as_view(),
        name="api-dataset-template",
    ),
    path("applications/<id:application_pk>/computed/", views.ComputedView.as_view(), name="api-computed"),
    path("certificates/verify/", views.CertificateVerifyView.as_view(), name="api-certificate-verify"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "redoc/",
        # Our copy of the page without drf-spectacular's Google Fonts links: nothing loads from another site.
        SpectacularRedocView.as_view(url_name="api-schema", template_name="certification/api/redoc.html"),
        name="api-redoc",
    ),
    re_path(r"^(?P<rest>.*)$", not_found),
]

urlpatterns = [
    path("api/v1/", include(api)),
    path("accounts/api-tokens/", profile.token_page, name="api_tokens"),
    path("accounts/api-tokens/<int:pk>/revoke/", profile.revoke, name="api_token_revoke"),
]
