from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from viewflow.contrib.auth import AuthViewset

from certification.views import calendar as calendar_views
from certification.views import certificates as certificate_views
from certification.views import cluster_data as cluster_data_views
from certification.views import computed as computed_views
from certification.views import datasets as dataset_views
from certification.views import evidence as evidence_views
from certification.views import exports as export_views
from certification.views import objections as objection_views
from certification.views import public as public_views
from certification.views import scoring as scoring_views
from certification.views import standards as standards_views
from certification.views.site import login_view, site

# Pages anyone may open without signing in (公示, objections, certificate verification).
public_urls = [
    path("publicity/", public_views.publicity_list, name="publicity"),
    path("publicity/<int:pk>/objection/", public_views.objection, name="objection"),
    path("verify/", public_views.verify, name="verify"),
]

urlpatterns = [
    path("public/", include((public_urls, "public"))),
    path("certificates/<int:pk>/", certificate_views.certificate_page, name="certificate"),
    path("objections/<int:pk>/attachment/", objection_views.objection_attachment, name="objection_attachment"),
    path("admin/", admin.site.urls),
    path("accounts/login/", login_view, name="login"),
    path("accounts/", AuthViewset(with_profile_view=False).urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("scoring/<int:pk>/sheet/", scoring_views.sheet_page, name="scoring_sheet"),
    path("scoring/<int:pk>/sheet/workbook/", scoring_views.workbook_download, name="scoring_workbook"),
    path("scoring/<int:pk>/sheet/workbook/upload/", scoring_views.workbook_upload, name="scoring_workbook_upload"),
    path("exports/application/<int:pk>/", export_views.application_export, name="export_application"),
    path("exports/district/<int:pk>/", export_views.district_export, name="export_district"),
    path("exports/<int:pk>/", export_views.job_page, name="export_job"),
    path("exports/<int:pk>/status/", export_views.job_status, name="export_job_status"),
    path("exports/<int:pk>/download/", export_views.job_download, name="export_download"),
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
        "applications/<int:application_pk>/evidence/requirements/<int:requirement_pk>/reuse/",
        evidence_views.evidence_reuse,
        name="evidence_reuse",
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
    path("applications/<int:pk>/computed/", computed_views.application_computed, name="application_computed"),
    path(
        "applications/<int:pk>/datasets/<str:code>/template/", dataset_views.dataset_template, name="dataset_template"
    ),
    path("applications/<int:pk>/datasets/<str:code>/import/", dataset_views.dataset_import, name="dataset_import"),
    path(
        "applications/<int:pk>/datasets/imports/<int:import_pk>/",
        dataset_views.dataset_import_detail,
        name="dataset_import_detail",
    ),
    path(
        "applications/<int:pk>/datasets/imports/<int:import_pk>/status/",
        dataset_views.dataset_import_status,
        name="dataset_import_status",
    ),
    path("clusters/<int:pk>/data/", cluster_data_views.cluster_data, name="cluster_data"),
    path(
        "clusters/<int:pk>/data/<str:code>/template/",
        cluster_data_views.cluster_dataset_template,
        name="cluster_dataset_template",
    ),
    path(
        "clusters/<int:pk>/data/<str:code>/import/",
        cluster_data_views.cluster_dataset_import,
        name="cluster_dataset_import",
    ),
    path(
        "clusters/<int:pk>/data/imports/<int:import_pk>/",
        cluster_data_views.cluster_import_detail,
        name="cluster_import_detail",
    ),
    path(
        "clusters/<int:pk>/data/imports/<int:import_pk>/status/",
        cluster_data_views.cluster_import_status,
        name="cluster_import_status",
    ),
    path("clusters/<int:pk>/self-check/", cluster_data_views.self_check_page, name="cluster_self_check"),
    path("districts/<int:pk>/readiness/", cluster_data_views.district_readiness, name="district_readiness"),
    path("calendar/", calendar_views.calendar_page, name="holiday_calendar"),
    path("calendar/add/", calendar_views.calendar_add, name="holiday_calendar_add"),
    path("calendar/<int:pk>/delete/", calendar_views.calendar_delete, name="holiday_calendar_delete"),
    path("calendar/import/", calendar_views.calendar_import, name="holiday_calendar_import"),
    path("calendar/template/", calendar_views.calendar_template, name="holiday_calendar_template"),
    path("standards/excel/", standards_views.standards_page, name="standards_excel"),
    path("standards/excel/import/", standards_views.standard_import, name="standards_excel_import"),
    path("standards/excel/<int:pk>/download/", standards_views.standard_download, name="standards_excel_download"),
    path("standards/excel/<int:pk>/publish/", standards_views.standard_publish, name="standards_excel_publish"),
    path("", include("workflows.api.urls")),
    path("", site.urls),
]

handler400 = "project.error_pages.bad_request"
handler403 = "project.error_pages.permission_denied"
handler404 = "project.error_pages.page_not_found"
handler500 = "project.error_pages.server_error"
