"""The file a member of the public attached to an objection, for the office that resolves it."""

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from certification.models import Objection
from certification.permissions import get_application_for, require
from certification.scope import deciding_office
from certification.views.downloads import content_disposition


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
    try:
        handle = default_storage.open(objection.attachment_stored, "rb")
    except FileNotFoundError:
        raise Http404(_("The stored file is missing. Tell the administrator.")) from None
    response = FileResponse(handle)
    response["Content-Disposition"] = content_disposition(objection.attachment_name, attachment=True)
    response["X-Content-Type-Options"] = "nosniff"
    return response
