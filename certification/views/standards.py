"""Standards for administrators: download any version as .xlsx, upload a workbook as a new draft, publish a draft.

Thin views: check the administrator role, validate a form, call one domain function (`import_standard`,
`publish`), redirect. A refused workbook is answered with the page and a table of every error (sheet, row,
column, message); nothing was saved.
"""

from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from certification.domain import standards as domain
from certification.excel.standard_workbook import WorkbookRejected, export_filename, export_standard, import_standard
from certification.models import DueStep, Standard
from certification.permissions import is_administrator
from certification.views.downloads import content_disposition
from certification.views.site import draw_in_site

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_WORKBOOK_BYTES = 5 * 1024 * 1024


def administrator_required(view):
    @wraps(view)
    @login_required
    def guarded(request, *args, **kwargs):
        if not is_administrator(request.user):
            raise PermissionDenied(_("Only an administrator manages standards."))
        return view(request, *args, **kwargs)

    return guarded


class StandardImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Workbook (.xlsx)"),
        help_text=gettext_lazy("A workbook in the layout of a downloaded standard; it becomes a new draft version."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + XLSX_CONTENT_TYPE}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Choose an Excel workbook ending in .xlsx."))
        if upload.size > MAX_WORKBOOK_BYTES:
            raise forms.ValidationError(
                _("The workbook is larger than %(limit)s MB.") % {"limit": MAX_WORKBOOK_BYTES // (1024 * 1024)}
            )
        return upload


def standard_download_response(standard):
    """The standard as an .xlsx attachment (used here and by the admin's download action)."""
    response = HttpResponse(export_standard(standard), content_type=XLSX_CONTENT_TYPE)
    name = f"{_('Standard')}-{standard.get_tier_display()}-v{standard.version}.xlsx"
    response["Content-Disposition"] = content_disposition(name, attachment=True, fallback=export_filename(standard))
    return response


def _page(request, *, form=None, errors=None, status=200):
    draw_in_site(request)
    standards = Standard.objects.annotate(indicator_count=Count("dimensions__indicators")).order_by("tier", "-version")
    context = {
        "standards": standards,
        "settings_periods": [(step.label, settings.TASK_DUE_WORKING_DAYS[step.value]) for step in DueStep],
        "form": form or StandardImportForm(),
        "errors": errors or [],
    }
    return render(request, "certification/standards/page.html", context, status=status)


@require_GET
@administrator_required
def standards_page(request):
    return _page(request)


@require_GET
@administrator_required
def standard_download(request, pk):
    return standard_download_response(get_object_or_404(Standard, pk=pk))


@require_POST
@administrator_required
def standard_import(request):
    form = StandardImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    try:
        draft = import_standard(form.cleaned_data["file"], by=request.user)
    except WorkbookRejected as rejected:
        return _page(request, form=form, errors=rejected.errors, status=400)
    messages.success(
        request,
        _("Imported as %(tier)s version %(version)s, a draft. Publish it when it is ready.")
        % {"tier": draft.get_tier_display(), "version": draft.version},
    )
    return redirect(reverse("standards_excel") + f"#standard-{draft.pk}")


@require_POST
@administrator_required
def standard_publish(request, pk):
    standard = domain.publish(get_object_or_404(Standard, pk=pk), by=request.user)
    messages.success(
        request,
        _("%(tier)s version %(version)s is published; earlier versions are retired.")
        % {"tier": standard.get_tier_display(), "version": standard.version},
    )
    return redirect(reverse("standards_excel") + f"#standard-{standard.pk}")
