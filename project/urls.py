from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from viewflow.contrib.auth import AuthViewset

from certification.site import login_view, site

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", login_view, name="login"),
    path("accounts/", AuthViewset(with_profile_view=False).urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", site.urls),
]
