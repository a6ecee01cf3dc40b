"""Pages anyone may open without signing in: the 公示 list, an objection to an application in 公示, and certificate
verification. Abuse is held off by django-ratelimit (per IP, and per application for objections; counted in the
shared cache), the evidence upload checks for attachments, and a honeypot field. A refused request gets 429 with a
Chinese page. Nothing here shows a score per evaluator, an evaluator or a comment: the domain reads return only
the public fields (`certification.domain.public`).
"""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from certification.domain import public
from certification.domain.publicity import raise_objection
from certification.errors import InvalidInput
from certification.forms.public import PublicObjectionForm, VerifyForm
from certification.uploads import EvidenceUploadLimitHandler

# Overridable in settings; the tests set them low.
DEFAULT_RATES = {
    "PUBLIC_OBJECTION_RATE_PER_IP": "5/h",
    "PUBLIC_OBJECTION_RATE_PER_APPLICATION": "30/h",
    "PUBLIC_VERIFY_RATE_PER_IP": "30/m",
}


def _rate(name):
    return getattr(settings, name, DEFAULT_RATES[name])


def _application_key(group, request):
    return str(request.resolver_match.kwargs["pk"])


def _limited(request, group, key, rate_name):
    return is_ratelimited(request, group=group, key=key, rate=_rate(rate_name), increment=True)


def too_many_requests(request):
    return render(request, "certification/public/rate_limited.html", status=429)


def publicity_list(request):
    return render(request, "certification/public/publicity.html", {"districts": public.publicity_by_district()})


@csrf_exempt  # checked by `_objection_post` once the size limit is in place (the check reads the body)
@require_http_methods(["GET", "POST"])
def objection(request, pk):
    row = public.publicity_row(pk)
    if row is None:
        raise Http404(_("No application with this number is in its publicity period."))
    if request.method == "GET":
        return _objection_page(request, row, PublicObjectionForm())
    # Both limits count every attempt; the per-application one stops a crowd of addresses piling on one result.
    if _limited(request, "public-objection-ip", "ip", "PUBLIC_OBJECTION_RATE_PER_IP") or _limited(
        request, "public-objection-application", _application_key, "PUBLIC_OBJECTION_RATE_PER_APPLICATION"
    ):
        return too_many_requests(request)
    limit = EvidenceUploadLimitHandler(request, max_bytes=public.public_attachment_bytes())
    request.upload_handlers.insert(0, limit)
    return _objection_post(request, row, limit)


@csrf_protect
def _objection_post(request, row, limit):
    form = PublicObjectionForm(request.POST, request.FILES)
    valid = form.is_valid()
    if limit.too_large:
        # The upload was cut off at the limit: what came after the file is missing too, so say why first.
        form.add_error("attachment", limit.refusal().message)
        valid = False
    if not valid:
        return _objection_page(request, row, form, status=400)
    if form.is_robot:
        # Answer a robot as a person, so it learns nothing; nothing is kept.
        return render(request, "certification/public/objection_received.html", {"row": row})
    data = form.cleaned_data
    objector = public.PublicObjector(data["name"], data["contact"], data["attachment"])
    try:
        raise_objection(public.in_publicity().get(pk=row.pk), data["text"], by=None, objector=objector)
    except InvalidInput as refused:
        form.add_error("attachment" if data["attachment"] else None, refused.message)
        return _objection_page(request, row, form, status=400)
    return render(request, "certification/public/objection_received.html", {"row": row})


def _objection_page(request, row, form, status=200):
    return render(request, "certification/public/objection.html", {"row": row, "form": form}, status=status)


def verify(request):
    """Serial and check code from the form or from the certificate's QR code (the same GET parameters)."""
    form = VerifyForm(request.GET or None)
    context = {"form": form, "checked": False}
    if form.is_bound:
        if _limited(request, "public-verify", "ip", "PUBLIC_VERIFY_RATE_PER_IP"):
            return too_many_requests(request)
        if form.is_valid():
            context["checked"] = True
            context["result"] = public.verify_certificate(form.cleaned_data["serial"], form.cleaned_data["code"])
    return render(request, "certification/public/verify.html", context)


def verification_address(request, certificate):
    return request.build_absolute_uri(public.verification_path(certificate))
