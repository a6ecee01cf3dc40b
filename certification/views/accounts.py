"""Sign-in refusals: the page django-axes shows a locked-out visitor (AXES_LOCKOUT_CALLABLE)."""

import math

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout(request, original_response=None, credentials=None):
    """The login page again, status 429, saying why sign-in is refused and how long to wait."""
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    # Unbound: a bound form would authenticate again, and axes would count that as one more failure.
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    message = _(
        "Too many failed sign-ins: sign-in is paused for %(minutes)s minutes. Try again later, "
        "or ask the administrator to unlock it."
    ) % {"minutes": minutes}
    return render(
        request,
        "certification/login.html",
        {"form": form, "lockout_message": message},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


def client_ip(request):
    """The visitor's address for axes: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address the
    outermost trusted proxy saw (X-Forwarded-For is written by the client too; only the proxies' entries count).
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")
