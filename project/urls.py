from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from viewflow.contrib.auth import AuthViewset

from certification.site import login_view, site
from certification.views import evidence as evidence_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", login_view, name="login"),
    path("accounts/", AuthViewset(with_profile_view=False).urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path(
        "applications/<int:application_pk>/evidence/<str:stage>/",
        evidence_views.evidence_list,
        name="evidence_list",
    ),
    path(
        "applications/<int:application_pk>/evidence/requirements/<int:requirement_pk>/upload/",
        evidence_views.evidence_upload,
        name="evidence_upload",
    ),
    path(
        "applications/<int:application_pk>/evidence/files/<int:file_pk>/withdraw/",
        evidence_views.evidence_withdraw,
        name="evidence_withdraw",
    ),
    path(
        "applications/<int:application_pk>/evidence/files/<int:file_pk>/download/",
        evidence_views.evidence_download,
        name="evidence_download",
    ),
    path(
        "applications/<int:application_pk>/evidence/files/<int:file_pk>/preview/",
        evidence_views.evidence_preview,
        name="evidence_preview",
    ),
    path("", site.urls),
]
