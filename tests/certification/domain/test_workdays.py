"""Working days over the holiday calendar: weekends, the seeded 2026 holidays and 调休 workdays, the countdown."""

from datetime import date

import pytest
from django.utils import translation

from certification.domain.calendar import save_calendar_days
from certification.domain.workdays import WorkingCalendar, add_working_days, countdown
from certification.models import CalendarDay
from tests.factories.standards import administrator

pytestmark = [pytest.mark.django_db]


def test_add_working_days_skips_a_weekend():
    # 2026-03-06 is a Friday; nothing in the calendar that week.
    assert add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)
    assert add_working_days(date(2026, 3, 6), 5) == date(2026, 3, 13)


def test_add_working_days_skips_the_national_day_holiday():
    # 国庆节 2026: 10月1日（周四）至7日（周三）放假 (seeded by migration 0022).
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)


def test_add_working_days_counts_an_adjusted_saturday():
    # 10月10日（周六）上班: the first working day after Friday 10-09 is that Saturday, then Monday 10-12.
    assert add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)
    assert add_working_days(date(2026, 10, 9), 2) == date(2026, 10, 12)


def test_add_working_days_over_spring_festival_and_its_adjusted_days():
    # 2月14日（周六）上班, 15日至23日放假, 28日（周六）上班: from Friday 2-13, five working days are
    # 2-14 (Sat), 2-24, 2-25, 2-26, 2-27.
    assert add_working_days(date(2026, 2, 13), 5) == date(2026, 2, 27)
    assert add_working_days(date(2026, 2, 13), 6) == date(2026, 2, 28)


def test_seed_has_the_official_2026_days():
    assert CalendarDay.objects.get(date=date(2026, 2, 16)).kind == CalendarDay.Kind.OFF
    assert CalendarDay.objects.get(date=date(2026, 9, 20)).kind == CalendarDay.Kind.WORKDAY
    assert CalendarDay.objects.filter(date__year=2026, kind=CalendarDay.Kind.OFF).count() == 33
    assert CalendarDay.objects.filter(date__year=2026, kind=CalendarDay.Kind.WORKDAY).count() == 6


def test_a_day_the_administrator_adds_moves_the_count():
    CalendarDay.objects.create(date=date(2027, 3, 8), kind=CalendarDay.Kind.OFF, name="测试休息日")

    assert add_working_days(date(2027, 3, 5), 1) == date(2027, 3, 9)


def test_calendar_reads_once_then_from_the_cache(django_assert_num_queries):
    with django_assert_num_queries(1):
        calendar = WorkingCalendar(date(2026, 9, 1))
        results = [calendar.add_working_days(date(2026, 9, day), 5) for day in range(1, 29)]
    with django_assert_num_queries(0):
        again = WorkingCalendar(date(2026, 9, 1)).add_working_days(date(2026, 9, 30), 1)
    assert (results[0], again) == (date(2026, 9, 8), date(2026, 10, 8))


def test_a_change_through_the_domain_is_seen_at_once():
    assert add_working_days(date(2027, 3, 5), 1) == date(2027, 3, 8)  # fills the cache

    save_calendar_days([(date(2027, 3, 8), CalendarDay.Kind.OFF, "测试")], by=administrator())

    assert add_working_days(date(2027, 3, 5), 1) == date(2027, 3, 9)


def test_countdown_labels_in_chinese():
    today = date(2026, 9, 30)
    with translation.override("zh-hans"):
        assert countdown(date(2026, 10, 9), today=today).label == "剩余 2 个工作日"
        assert countdown(today, today=today).label == "今日到期"
        late = countdown(date(2026, 9, 25), today=today)
    assert late.is_overdue and late.overdue_days == 5
    with translation.override("zh-hans"):
        assert late.label == "已逾期 5 天"
