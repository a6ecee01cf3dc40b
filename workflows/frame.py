"""The site frame on pages routed outside viewflow's Site (score sheet, data imports, exports, error pages).

Viewflow's page template reads `site` and `app` from `request.resolver_match` (viewflow/base.html), which only the
Site's own URLs set. `SiteFrameMiddleware` and `frame_request` set them to the site and the work area for every
other page; `site_frame` adds the work area's menu, which viewflow adds only to its own template responses.
"""

from types import SimpleNamespace

from certification.views.site import site

from . import work
from .work_app import WorkApplication


def work_app():
    return next((viewset for viewset in site.viewsets if isinstance(viewset, WorkApplication)), None)


def frame_request(request):
    """Give `request` the site and the work area for the page frame, unless a Site URL already did."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        request.resolver_match = SimpleNamespace(site=site, app=work_app(), viewset=None)
    elif getattr(match, "site", None) is None:
        match.site, match.app = site, work_app()


class SiteFrameMiddleware:
    """Frames the pages of project/urls.py (after viewflow's SiteMiddleware, which leaves them without a site)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, callback, callback_args, callback_kwargs):
        frame_request(request)


def site_frame(request):
    """The work area's menu on a framed page outside the Site (the Site's pages get it from their app)."""
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    if not isinstance(getattr(match, "app", None), WorkApplication) or user is None or not user.is_authenticated:
        return {}
    return {"work_menu": work.menu_for(request)}
