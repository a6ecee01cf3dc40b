from django.conf import settings
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from certification.errors import DomainError


class DomainErrorMiddleware:
    """A refused domain rule is a page that explains itself (403/409/400), never a server error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError):
            return render(
                request,
                "certification/domain_error.html",
                {"message": exception.message, "status": exception.status},
                status=exception.status,
            )
        return None


class RequestBodyLimitMiddleware:
    """Refuses a request whose body is over its limit from the Content-Length header, before anything reads it.

    Django would otherwise read an over-limit body (the CSRF check reads the form; a refused upload is drained),
    so memory or disk would grow with whatever size a client sends. Limits (project/settings.py): the upload
    limit for signed-in users on the upload pages (UPLOAD_URL_NAMES), REQUEST_MAX_BODY_BYTES for any other page
    of a signed-in user, ANONYMOUS_MAX_BODY_BYTES for everyone else (the sign-in form is small). A chunked body
    without a length is refused too (411). The refusal is a short Chinese page; nothing of the body is read, and
    the server closes the connection rather than drain it (gunicorn: project/gunicorn.conf.py).

    Place it after AuthenticationMiddleware: it needs request.user, and nothing before it reads the body.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self.refusal(request)
        if refusal is not None:
            return refusal
        return self.get_response(request)

    @staticmethod
    def smallest_limit():
        return min(
            settings.PUBLIC_UPLOAD_MAX_BODY_BYTES,
            settings.ANONYMOUS_MAX_BODY_BYTES,
            settings.UPLOAD_MAX_BODY_BYTES,
            settings.REQUEST_MAX_BODY_BYTES,
        )

    @staticmethod
    def limit_for(request):
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
        if match is not None and match.view_name in settings.PUBLIC_UPLOAD_VIEW_NAMES:
            return settings.PUBLIC_UPLOAD_MAX_BODY_BYTES
        # An API client is signed in by its token inside the view; its uploads are bounded as a signed-in page's.
        token = request.META.get("HTTP_AUTHORIZATION", "").startswith("Bearer ")
        if not (request.user.is_authenticated or token):
            return settings.ANONYMOUS_MAX_BODY_BYTES
        if match is not None and match.url_name in settings.UPLOAD_URL_NAMES:
            return settings.UPLOAD_MAX_BODY_BYTES
        return settings.REQUEST_MAX_BODY_BYTES

    def refusal(self, request):
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return self._refuse(request, 411, _("Send the request with its length (Content-Length)."))
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return self._refuse(request, 400, _("The request's length (Content-Length) is not a number."))
        # Most requests (every GET, every form) are under the smallest limit: no need to resolve their URL here,
        # which the handler does again.
        if length <= self.smallest_limit():
            return None
        limit = self.limit_for(request)
        if length <= limit:
            return None
        return self._refuse(
            request,
            413,
            _("The request is %(size)s; at most %(limit)s is accepted here. Nothing of it was kept.")
            % {"size": filesizeformat(length), "limit": filesizeformat(limit)},
        )

    @staticmethod
    def _refuse(request, status, message):
        title = _("The request is too large") if status == 413 else _("The request was refused")
        return render(request, "error.html", {"title": title, "message": message, "status": status}, status=status)
