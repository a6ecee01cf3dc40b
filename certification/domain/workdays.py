"""Working days: Monday to Friday, except the days off and plus the 调休 workdays of the holiday calendar
(`CalendarDay`, kept by the administrator). Every due date of the product is counted here.

A `WorkingCalendar` reads the calendar once (cached: see `calendar_days`) and answers any number of questions, so a
page of due dates costs no query whatever the number of rows on it.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from certification.models import CalendarDay

CALENDAR_CACHE_KEY = "certification:holiday-calendar"
# Another process's cached copy (a locmem cache, no shared Redis) follows a change within this many seconds.
CALENDAR_CACHE_SECONDS = 300


def calendar_days():
    """{date: kind} of the whole holiday calendar (a few dozen rows a year), cached for CALENDAR_CACHE_SECONDS so a
    page of due dates reads no table at all; `forget_calendar` drops the copy when the calendar changes."""
    days = cache.get(CALENDAR_CACHE_KEY)
    if days is None:
        days = dict(CalendarDay.objects.values_list("date", "kind"))
        cache.set(CALENDAR_CACHE_KEY, days, CALENDAR_CACHE_SECONDS)
    return days


def forget_calendar():
    """Drop the cached calendar (after a change; other processes with their own cache refresh within the timeout)."""
    cache.delete(CALENDAR_CACHE_KEY)


class WorkingCalendar:
    """The holiday calendar, read once (from the cache, or one query) and asked any number of questions."""

    def __init__(self, start=None, end=None):
        # `start` and `end` are accepted for the callers' clarity; the whole calendar is small and read at once.
        self._days = calendar_days()

    def is_working_day(self, day):
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
    return WorkingCalendar().add_working_days(start, count)


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
