"""The site frame on pages routed outside viewflow's Site (score sheet, data imports, exports, error pages)."""

from certification.views.site import site

from . import work
from .work_app import WorkApplication


def site_frame(request):
    """Viewflow's page draws its menu and title from `site` and `app`, which only its Site's URLs set. Pages of
    project/urls.py and the error handlers get the same frame: the work area's menu, for a signed-in person.

    Pages inside the Site keep their own `app` (its context is added after this one and wins).
    """
    match = getattr(request, "resolver_match", None)
    if getattr(match, "app", None) is not None:
        return {}
    app = next((viewset for viewset in site.viewsets if isinstance(viewset, WorkApplication)), None)
    user = getattr(request, "user", None)
    if app is None or user is None or not user.is_authenticated:
        return {"site": site}
    return {"site": site, "app": app, "work_menu": work.menu_for(request)}
