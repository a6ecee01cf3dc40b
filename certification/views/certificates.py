"""A certificate's own page, laid out as an A4 sheet that prints cleanly (certification/static/.../certificate.css):
serial, cluster, tier, standard version, validity, the printed check code and a QR code that opens the public
verification page with the serial and the whole check code filled in."""

import segno
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from certification.domain import public
from certification.models import Application, Certificate
from certification.views.public import verification_address


@login_required
def certificate_page(request, pk):
    # Visible to whoever may see the application it was won by; anyone else gets the same 404 as an unknown id.
    certificate = (
        Certificate.objects.select_related("cluster__district__parent", "standard", "application")
        .filter(pk=pk, application__in=Application.objects.visible_to(request.user))
        .first()
    )
    if certificate is None:
        raise Http404(_("No such certificate."))
    address = verification_address(request, certificate)
    # segno writes the SVG itself (no user text in it but the address, which it encodes as modules, not markup).
    qr_svg = mark_safe(segno.make(address, error="m").svg_inline(scale=3, border=2, omitsize=False))
    return render(
        request,
        "certification/certificates/certificate.html",
        {
            "certificate": certificate,
            "state_label": public.STATE_LABELS[public.certificate_state(certificate)],
            "ended_on": public.certificate_ended_on(certificate),
            "printed_code": public.printed_check_code(certificate),
            "verification_page": request.build_absolute_uri(reverse("public:verify")),
            "qr_svg": qr_svg,
        },
    )
