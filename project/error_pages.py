"""Error pages in the site frame: Django's handlers render templates/403.html and 404.html with the request; these
add the 500 page with the request when it can, and keep Django's English debug 404 page (the URL list) off screen.
"""

from django.conf import settings
from django.http import Http404, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _

from workflows.frame import frame_request

# Django's own handlers are wrapped in ``requires_csrf_token``, which runs the CSRF check and so reads the posted
# form: a POST refused with 404 or 403 (out of scope) would still read (and spool) its whole body. These render
# the site's pages without it; the pages hold no form that needs the token.


def bad_request(request, exception=None):
    context = {"title": _("The request was refused"), "message": "", "status": 400}
    return render(request, "error.html", context, status=400)


def page_not_found(request, exception=None, template_name="404.html"):
    frame_request(request)
    return render(request, template_name, {"status": 404}, status=404)


def permission_denied(request, exception=None, template_name="403.html"):
    frame_request(request)
    return render(request, template_name, {"status": 403}, status=403)


def server_error(request, template_name="500.html"):
    """The 500 page in the frame; without the frame when drawing it needs what failed (e.g. the database)."""
    template = loader.get_template(template_name)
    try:
        frame_request(request)
        body = template.render({"status": 500}, request)
    except Exception:
        body = template.render({"status": 500})
    return HttpResponseServerError(body)


class NotFoundPageMiddleware:
    """Under DEBUG, Django answers an unknown address with its technical page (English, the whole URL list).
    A person trying the demo sees the site's own Chinese 404 page instead; only the DEBUG toolbar of a developer
    reading a traceback loses it, and the runserver log still names the path.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        replace = (
            settings.DEBUG
            and response.status_code == 404
            and not getattr(response, "site_page", False)
            and response.get("Content-Type", "").startswith("text/html")
        )
        return self._page(request) if replace else response

    def process_exception(self, request, exception):
        if isinstance(exception, Http404):
            return self._page(request, exception)
        return None

    def _page(self, request, exception=None):
        response = page_not_found(request, exception or Http404())
        response.site_page = True
        return response
