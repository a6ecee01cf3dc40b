"""The 2026 days off and 调休 workdays of mainland China, so deadlines count working days from the first install.

Source: 国务院办公厅关于2026年部分节假日安排的通知 (State Council General Office, 4 November 2025; published by
Xinhua, e.g. https://politics.gmw.cn/2025-11/04/content_38391083.htm). Facts only, as the notice lists them:
元旦 1月1日至3日放假，1月4日（周日）上班; 春节 2月15日至23日放假，2月14日（周六）、2月28日（周六）上班;
清明节 4月4日至6日放假; 劳动节 5月1日至5日放假，5月9日（周六）上班; 端午节 6月19日至21日放假;
中秋节 9月25日至27日放假; 国庆节 10月1日至7日放假，9月20日（周日）、10月10日（周六）上班.
Later years are the administrator's: the holiday calendar page imports them from .xlsx.
"""

from datetime import date, timedelta

from django.db import migrations

HOLIDAYS_2026 = [
    ("元旦", date(2026, 1, 1), date(2026, 1, 3)),
    ("春节", date(2026, 2, 15), date(2026, 2, 23)),
    ("清明节", date(2026, 4, 4), date(2026, 4, 6)),
    ("劳动节", date(2026, 5, 1), date(2026, 5, 5)),
    ("端午节", date(2026, 6, 19), date(2026, 6, 21)),
    ("中秋节", date(2026, 9, 25), date(2026, 9, 27)),
    ("国庆节", date(2026, 10, 1), date(2026, 10, 7)),
]
WORKDAYS_2026 = [
    ("元旦调休上班", date(2026, 1, 4)),
    ("春节调休上班", date(2026, 2, 14)),
    ("春节调休上班", date(2026, 2, 28)),
    ("劳动节调休上班", date(2026, 5, 9)),
    ("国庆节调休上班", date(2026, 9, 20)),
    ("国庆节调休上班", date(2026, 10, 10)),
]


def seed(apps, schema_editor):
    CalendarDay = apps.get_model("certification", "CalendarDay")
    rows = []
    for name, first, last in HOLIDAYS_2026:
        day = first
        while day <= last:
            rows.append(CalendarDay(date=day, kind="off", name=name))
            day += timedelta(days=1)
    rows += [CalendarDay(date=day, kind="workday", name=name) for name, day in WORKDAYS_2026]
    # An administrator's own rows for these dates win.
    CalendarDay.objects.bulk_create(rows, ignore_conflicts=True)


def unseed(apps, schema_editor):
    CalendarDay = apps.get_model("certification", "CalendarDay")
    CalendarDay.objects.filter(date__year=2026).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("certification", "0027_holiday_calendar_and_escalation_reminders"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
