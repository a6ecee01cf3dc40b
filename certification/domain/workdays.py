"""Working days: Monday to Friday, except the days off and plus the 调休 workdays of the holiday calendar
(`CalendarDay`, kept by the administrator). Every due date of the product is counted here.

A `WorkingCalendar` reads the calendar rows of a range of dates in one query and answers any number of questions
about it, so a page of rows costs one query whatever the number of due dates on it.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from certification.models import CalendarDay

# How far past the start a range is read at first: a long holiday plus the longest due period fits.
_SPAN = timedelta(days=120)


class WorkingCalendar:
    """The holiday calendar between two dates, read once; grows (one more query) when asked past its end."""

    def __init__(self, start, end=None):
        self._days = {}
        self._start, self._end = start, start - timedelta(days=1)
        self._load(start, end or start + _SPAN)

    def _load(self, start, end):
        self._days.update(CalendarDay.objects.filter(date__range=(start, end)).values_list("date", "kind"))
        self._start, self._end = min(self._start, start), max(self._end, end)

    def _read(self, day):
        if day < self._start:
            self._load(day, self._start - timedelta(days=1))
        elif day > self._end:
            self._load(self._end + timedelta(days=1), day + _SPAN)

    def is_working_day(self, day):
        self._read(day)
        kind = self._days.get(day)
        if kind == CalendarDay.Kind.OFF:
            return False
        if kind == CalendarDay.Kind.WORKDAY:
            return True
        return day.weekday() < 5

    def add_working_days(self, start, count):
        """The `count`-th working day after `start` (`start` itself never counts)."""
        day = start
        while count > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def working_days_between(self, start, end):
        """Working days in (start, end]; 0 when `end` is not after `start`."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def add_working_days(start, count):
    """The `count`-th working day after `start`, by the holiday calendar (one query)."""
    return WorkingCalendar(start, start + timedelta(days=count * 2 + 30)).add_working_days(start, count)


@dataclass(frozen=True)
class Countdown:
    """A due date as a person reads it: how many working days are left, or how many days it is late."""

    due: date
    remaining: int
    overdue_days: int

    @property
    def is_overdue(self):
        return self.overdue_days > 0

    @property
    def label(self):
        if self.overdue_days:
            return ngettext("Overdue by %(count)s day", "Overdue by %(count)s days", self.overdue_days) % {
                "count": self.overdue_days
            }
        if self.remaining == 0:
            return _("Due today")
        return ngettext("%(count)s working day left", "%(count)s working days left", self.remaining) % {
            "count": self.remaining
        }


def countdown(due, *, today=None, calendar=None):
    """The `Countdown` of `due` as of `today` (local date); pass one `calendar` for a whole page of due dates."""
    today = today or timezone.localdate()
    if due < today:
        return Countdown(due=due, remaining=0, overdue_days=(today - due).days)
    calendar = calendar or WorkingCalendar(today, due)
    return Countdown(due=due, remaining=calendar.working_days_between(today, due), overdue_days=0)
