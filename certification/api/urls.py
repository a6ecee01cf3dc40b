"""/api/v1/ (the API, its schema and its documentation pages) and the profile page for API tokens."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from . import profile, views

router = SimpleRouter()
router.register("regions", views.RegionViewSet, basename="api-region")
router.register("schools", views.SchoolViewSet, basename="api-school")
router.register("clusters", views.ClusterViewSet, basename="api-cluster")
router.register("standards", views.StandardViewSet, basename="api-standard")
router.register("applications", views.ApplicationViewSet, basename="api-application")
router.register(
    r"applications/(?P<application_pk>[0-9]+)/requirements", views.RequirementViewSet, basename="api-requirement"
)
router.register(r"applications/(?P<application_pk>[0-9]+)/evidence", views.EvidenceViewSet, basename="api-evidence")
router.register(
    r"applications/(?P<application_pk>[0-9]+)/dataset-imports", views.DatasetImportViewSet, basename="api-import"
)
router.register("tasks", views.TaskViewSet, basename="api-task")

api = [
    *router.urls,
    path(
        "applications/<int:application_pk>/requirements/<int:requirement_pk>/upload/",
        views.EvidenceUploadView.as_view(),
        name="api-evidence-upload",
    ),
    path(
        "applications/<int:application_pk>/datasets/<str:code>/upload/",
        views.DatasetUploadView.as_view(),
        name="api-dataset-upload",
    ),
    path(
        "applications/<int:application_pk>/datasets/<str:code>/template/",
        views.DatasetTemplateView.as_view(),
        name="api-dataset-template",
    ),
    path("applications/<int:application_pk>/computed/", views.ComputedView.as_view(), name="api-computed"),
    path("certificates/verify/", views.CertificateVerifyView.as_view(), name="api-certificate-verify"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

urlpatterns = [
    path("api/v1/", include(api)),
    path("accounts/api-tokens/", profile.token_page, name="api_tokens"),
    path("accounts/api-tokens/<int:pk>/revoke/", profile.revoke, name="api_token_revoke"),
]
