"""The evaluator's own score sheet outside the workflow task: save a draft, download and upload the workbook.

Submitting happens in the evaluator's viewflow task (workflows), which renders the same form and sheet template.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from certification.domain.scoring import get_or_create_sheet, sheet_of
from certification.errors import DomainError
from certification.excel.scoring_workbook import build_workbook, filename, upload_workbook
from certification.forms.scoring import ScoreSheetForm
from certification.models import EvaluatorAssignment
from certification.permissions import get_application_for
from certification.views.downloads import content_disposition

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class WorkbookUploadForm(forms.Form):
    workbook = forms.FileField(label=gettext_lazy("Scoring workbook (.xlsx)"))


def _own_sheet(request, pk):
    """The requesting evaluator's sheet on application `pk`; 404 for anyone without an active assignment on it."""
    application = get_application_for(request.user, pk)
    assignment = (
        EvaluatorAssignment.objects.filter(
            application=application, evaluator=request.user, status=EvaluatorAssignment.Status.ACTIVE
        )
        .select_related("evaluator")
        .first()
    )
    if assignment is None:
        raise Http404(_("You have no score sheet for this application."))
    assignment.application = application
    # A GET only reads: the sheet was opened when the evaluator's task started. A POST opens it if need be.
    sheet = get_or_create_sheet(assignment) if request.method == "POST" else sheet_of(assignment)
    if sheet is None:
        raise Http404(_("You have no score sheet for this application."))
    sheet.assignment = assignment
    return application, sheet


def _page(request, application, sheet, form, upload_form=None, status=200):
    context = {
        "application": application,
        "sheet": sheet,
        "form": form,
        "upload_form": upload_form or WorkbookUploadForm(),
    }
    return render(request, "certification/scoring/sheet_page.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def sheet_page(request, pk):
    application, sheet = _own_sheet(request, pk)
    if request.method == "POST":
        form = ScoreSheetForm(sheet, data=request.POST)
        if form.save_draft(request.user):
            messages.success(request, _("Draft saved."))
            return redirect("scoring_sheet", pk=application.pk)
        return _page(request, application, sheet, form, status=400)
    return _page(request, application, sheet, ScoreSheetForm(sheet))


@login_required
def workbook_download(request, pk):
    _application, sheet = _own_sheet(request, pk)
    response = HttpResponse(build_workbook(sheet), content_type=XLSX)
    application = sheet.assignment.application
    name = f"{application.cluster.name}-{application.get_target_tier_display()}-{_('Score sheet')}-{request.user}.xlsx"
    response["Content-Disposition"] = content_disposition(name, attachment=True, fallback=filename(sheet))
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def workbook_upload(request, pk):
    application, sheet = _own_sheet(request, pk)
    upload_form = WorkbookUploadForm(data=request.POST, files=request.FILES)
    if upload_form.is_valid():
        try:
            upload_workbook(sheet, upload_form.cleaned_data["workbook"], by=request.user)
        except DomainError as refusal:
            upload_form.add_error("workbook", refusal.message)
        else:
            messages.success(request, _("The workbook was read and saved as a draft. Check it and submit online."))
            return redirect("scoring_sheet", pk=application.pk)
    return _page(request, application, sheet, ScoreSheetForm(sheet), upload_form, status=400)
