"""The file a member of the public attached to an objection, for the office that resolves it."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from certification.domain.process import deciding_office
from certification.models import Objection
from certification.permissions import get_application_for, require
from certification.views.evidence import content_disposition


@login_required
def objection_attachment(request, pk):
    objection = Objection.objects.filter(pk=pk).exclude(attachment_stored="").first()
    if objection is None:
        raise Http404(_("No such attachment."))
    application = get_application_for(request.user, objection.application_id)
    require(
        request.user in deciding_office(application),
        _("Only the office that resolves the objections may open their attachments."),
    )
    response = FileResponse(open(Path(settings.MEDIA_ROOT) / objection.attachment_stored, "rb"))  # noqa: SIM115
    response["Content-Disposition"] = content_disposition(objection.attachment_name, attachment=True)
    response["X-Content-Type-Options"] = "nosniff"
    return response
