"""The project's URLs with the work pages mounted.

Until `certification.site.site` registers `WorkApplication` (the lead does, at integration), the work pages' tests
mount it on a copy of the site here; once it is registered this is exactly `project.urls`.
"""

import copy

from django.urls import URLResolver, path

from certification.site import site
from certification.work_app import WorkApplication
from project import urls as project_urls


def _detached(viewset):
    clone = copy.copy(viewset)
    clone._parent = None
    return clone


if any(isinstance(viewset, WorkApplication) for viewset in site.viewsets):
    urlpatterns = project_urls.urlpatterns
else:
    work_site = type(site)(
        title=site.title,
        primary_color=site.primary_color,
        secondary_color=site.secondary_color,
        viewsets=[*map(_detached, site.viewsets), WorkApplication()],
    )
    # The site is mounted at the root; replace that one entry and keep every other path of the project.
    urlpatterns = [
        path("", work_site.urls) if isinstance(entry, URLResolver) and str(entry.pattern) == "" else entry
        for entry in project_urls.urlpatterns
    ]
