"""Error pages that never read the request body.

Django's own handlers are wrapped in ``requires_csrf_token``, which runs the CSRF check and so reads the posted
form: a POST refused with 404 or 403 (out of scope) would still read (and spool) its whole body. These render a
short page in the user's language instead; none of them has a form, so none needs the token.
"""

from django.shortcuts import render
from django.utils.translation import gettext as _


def _message(exception):
    # Our Http404 and PermissionDenied messages are translated sentences meant for the user; Django's own
    # (e.g. the resolver's) are dicts or paths, not shown.
    message = exception.args[0] if exception is not None and exception.args else ""
    return message if isinstance(message, str) else ""


def render_error(request, status, title, message=""):
    return render(request, "error.html", {"title": title, "message": message, "status": status}, status=status)


def bad_request(request, exception=None):
    return render_error(request, 400, _("The request was refused"))


def permission_denied(request, exception=None):
    return render_error(request, 403, _("You may not do this"), _message(exception))


def page_not_found(request, exception=None):
    return render_error(request, 404, _("Page not found"), _message(exception))


def server_error(request):
    return render_error(request, 500, _("Something went wrong on the server; it has been logged. Try again later."))
