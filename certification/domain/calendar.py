"""The administrator's holiday calendar: days off and 调休 workdays (`CalendarDay`), read by `workdays`.

Changing the calendar moves no deadline already set: a task's due date is fixed when the task opens.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from certification.errors import InvalidInput, NotAllowed
from certification.models import CalendarDay, Role

from .roles import holds_role
from .workdays import forget_calendar


def may_maintain_calendar(user):
    """Administrators (role or superuser) keep the calendar."""
    return user.is_authenticated and (user.is_superuser or holds_role(user, Role.ADMINISTRATOR))


def _check_administrator(by):
    if not may_maintain_calendar(by):
        raise NotAllowed(_("Only an administrator maintains the holiday calendar."))


def save_calendar_days(days, *, by):
    """Write `days` — (date, kind, name) triples — into the calendar, all or none; a date already there is replaced.

    Side effects: CalendarDay rows created or updated, in one transaction; the cached calendar dropped.
    Returns (created, updated).
    """
    _check_administrator(by)
    days = list(days)
    dates = [day for day, _kind, _name in days]
    if len(set(dates)) != len(dates):
        raise InvalidInput(_("A date is listed twice."))
    with transaction.atomic():
        existing = {row.date: row for row in CalendarDay.objects.select_for_update().filter(date__in=dates)}
        new, changed = [], []
        for day, kind, name in days:
            row = existing.get(day)
            if row is None:
                new.append(CalendarDay(date=day, kind=kind, name=name))
            else:
                row.kind, row.name = kind, name
                changed.append(row)
        CalendarDay.objects.bulk_create(new)
        CalendarDay.objects.bulk_update(changed, ["kind", "name"])
        transaction.on_commit(forget_calendar)
    forget_calendar()
    return len(new), len(changed)


def delete_calendar_day(day, *, by):
    """Remove one calendar row (the date follows the Monday-to-Friday rule again). Side effects: the row deleted; the cached calendar dropped."""
    _check_administrator(by)
    CalendarDay.objects.filter(pk=day.pk).delete()
    transaction.on_commit(forget_calendar)
    forget_calendar()
