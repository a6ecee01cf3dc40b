"""The holiday calendar for administrators: the days off and 调休 workdays by year, one day added or removed at a
time, and a year imported from .xlsx (all rows or none, every refused row listed with its reason).

Thin views: check the administrator, validate a form, call one domain function (`save_calendar_days`,
`delete_calendar_day`, `import_calendar`), redirect.
"""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from certification.domain.calendar import delete_calendar_day, may_maintain_calendar, save_calendar_days
from certification.excel.calendar_workbook import WorkbookRejected, import_calendar, template_workbook
from certification.models import CalendarDay
from certification.views.downloads import content_disposition
from certification.views.site import draw_in_site
from certification.views.standards import XLSX_CONTENT_TYPE, StandardImportForm

PAGE_SIZE = 50


def calendar_administrator_required(view):
    @wraps(view)
    @login_required
    def guarded(request, *args, **kwargs):
        if not may_maintain_calendar(request.user):
            raise PermissionDenied(_("Only an administrator maintains the holiday calendar."))
        return view(request, *args, **kwargs)

    return guarded


class CalendarImportForm(StandardImportForm):
    file = forms.FileField(
        label=gettext_lazy("Workbook (.xlsx)"),
        help_text=gettext_lazy(
            "One row per date: date, kind (day off or adjusted working day), name. A date already in the calendar "
            "is replaced. If any row is wrong, nothing is saved."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + XLSX_CONTENT_TYPE}),
    )


class CalendarDayForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=CalendarDay.Kind.choices)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=60, required=False)


def _year(request):
    try:
        return int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year


def _page(request, *, form=None, day_form=None, errors=None, status=200):
    draw_in_site(request)
    year = _year(request)
    days = CalendarDay.objects.filter(date__year=year).order_by("date")
    page = Paginator(days, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "year": year,
        "years": [year - 1, year, year + 1],
        "page": page,
        "days": page.object_list,
        "total": page.paginator.count,
        "form": form or CalendarImportForm(),
        "day_form": day_form or CalendarDayForm(),
        "errors": errors or [],
    }
    return render(request, "certification/calendar/page.html", context, status=status)


@require_GET
@calendar_administrator_required
def calendar_page(request):
    return _page(request)


@require_POST
@calendar_administrator_required
def calendar_add(request):
    form = CalendarDayForm(request.POST)
    if not form.is_valid():
        return _page(request, day_form=form, status=400)
    data = form.cleaned_data
    save_calendar_days([(data["date"], data["kind"], data["name"])], by=request.user)
    messages.success(request, _("Saved %(date)s.") % {"date": f"{data['date']:%Y-%m-%d}"})
    return redirect(f"{reverse('holiday_calendar')}?year={data['date'].year}")


@require_POST
@calendar_administrator_required
def calendar_delete(request, pk):
    day = get_object_or_404(CalendarDay, pk=pk)
    delete_calendar_day(day, by=request.user)
    messages.success(request, _("Removed %(date)s.") % {"date": f"{day.date:%Y-%m-%d}"})
    return redirect(f"{reverse('holiday_calendar')}?year={day.date.year}")


@require_POST
@calendar_administrator_required
def calendar_import(request):
    form = CalendarImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    try:
        created, updated = import_calendar(form.cleaned_data["file"], by=request.user)
    except WorkbookRejected as rejected:
        return _page(request, form=form, errors=rejected.errors, status=400)
    messages.success(
        request,
        _("Calendar imported: %(created)s added, %(updated)s replaced.") % {"created": created, "updated": updated},
    )
    return redirect("holiday_calendar")


@require_GET
@calendar_administrator_required
def calendar_template(request):
    """The year shown, as a workbook to edit and import again (an empty year gives an empty template)."""
    year = _year(request)
    response = HttpResponse(
        template_workbook(CalendarDay.objects.filter(date__year=year).order_by("date")),
        content_type=XLSX_CONTENT_TYPE,
    )
    response["Content-Disposition"] = content_disposition(
        f"{_('Holiday calendar')}-{year}.xlsx", attachment=True, fallback=f"holiday-calendar-{year}.xlsx"
    )
    return response
