"""A task's period comes from the standard its application pinned (or its yearly review holds) when that standard
names the step, else from settings.TASK_DUE_WORKING_DAYS; the deadline says which, and the office's page shows it."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task

from certification.domain.roles import ensure_groups
from certification.domain.workdays import forget_calendar
from certification.models import CalendarDay, DueStep, Tier
from tests.factories.workflow import build_world
from tests.workflows.driver import client_for, open_task
from tests.workflows.review_driver import open_task_of
from tests.workflows.review_scene import certified
from tests.workflows.work_pages.helpers import page_text, to_formal_review
from workflows.deadlines import due_nodes, ensure_deadlines, period_of
from workflows.engine import start_yearly_reviews
from workflows.flows import CertificationFlow as F
from workflows.flows import YearlyReviewFlow as R
from workflows.models import DueSource, TaskDeadline

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def role_groups(db):
    reverse("workflow:inbox")
    return ensure_groups()


def weekdays_after(start, count, *, off=()):
    """The `count`-th Monday-to-Friday day after `start`, skipping the days in `off` (written out here, apart from
    certification.domain.workdays, so the test does not check the calendar against itself)."""
    day = start
    while count:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in off:
            count -= 1
    return day


def test_steps_of_the_standard_settings_and_flows_are_the_same():
    flow_steps = {
        period_of(node) for flow in (F, R) for node in due_nodes(flow) if getattr(node, "_due_on", None) is None
    }

    assert set(DueStep.values) == set(settings.TASK_DUE_WORKING_DAYS) == flow_steps


def test_formal_review_is_due_by_the_standards_period_over_weekend_and_holiday():
    today = timezone.localdate()
    holiday = weekdays_after(today, 2)
    CalendarDay.objects.create(date=holiday, kind=CalendarDay.Kind.OFF, name="测试假日")
    forget_calendar()
    world = build_world(Tier.CLOSE_KNIT, due_working_days={"formal_review": 7})

    _application, process = to_formal_review(world)
    deadline = TaskDeadline.objects.get(task=open_task(process, F.formal_review))

    created = timezone.localdate(deadline.task.created)
    assert created == today
    assert (deadline.working_days, deadline.source) == (7, DueSource.STANDARD)
    # Seven working days always cross a weekend; the holiday pushes the date one working day further.
    assert deadline.due == weekdays_after(today, 7, off={holiday})
    assert deadline.due > weekdays_after(today, 7)


@override_settings(TASK_DUE_WORKING_DAYS={**settings.TASK_DUE_WORKING_DAYS, "formal_review": 4})
def test_a_standard_without_the_step_leaves_the_period_to_the_settings():
    world = build_world(Tier.CLOSE_KNIT)
    assert world.standard.due_working_days == {}

    _application, process = to_formal_review(world)
    deadline = TaskDeadline.objects.get(task=open_task(process, F.formal_review))

    today = timezone.localdate(deadline.task.created)
    assert (deadline.working_days, deadline.source) == (4, DueSource.SETTINGS)
    assert deadline.due == weekdays_after(today, 4)


def test_steps_the_standard_does_not_name_keep_the_settings_period():
    world = build_world(Tier.CLOSE_KNIT, due_working_days={"formal_review": 7})

    _application, process = to_formal_review(world)
    stage = TaskDeadline.objects.get(task=Task.objects.get(process=process, flow_task=F.submit_basic))

    assert (stage.working_days, stage.source) == (settings.TASK_DUE_WORKING_DAYS["submit_basic"], DueSource.SETTINGS)


def test_the_office_sees_where_the_period_came_from():
    world = build_world(Tier.CLOSE_KNIT, due_working_days={"formal_review": 7})
    plain = build_world(Tier.DISTRICT_MODEL, city=world.city)
    application, _process = to_formal_review(world)
    other, _process = to_formal_review(plain)

    text = page_text(client_for(world.office).get(reverse("work:application_detail", args=[application.pk])))
    other_text = page_text(client_for(plain.office).get(reverse("work:application_detail", args=[other.pk])))

    assert "期限依据：标准" in text
    assert "期限依据：系统设置" not in text
    assert "期限依据：系统设置" in other_text
    assert "期限依据：标准" not in other_text


def test_the_yearly_review_step_takes_the_held_standards_period():
    world = build_world(Tier.CLOSE_KNIT, evaluators=1, due_working_days={"review_submit_data": 15})
    certified(world)

    (review,), _skipped = start_yearly_reviews(world.district, 2025, by=world.office)
    deadline = TaskDeadline.objects.get(task=open_task_of(review, R.submit_data))

    assert review.standard == world.standard
    assert (deadline.working_days, deadline.source) == (15, DueSource.STANDARD)
    assert deadline.due == weekdays_after(timezone.localdate(deadline.task.created), 15)
    page = page_text(client_for(world.office).get(reverse("work:yearly_review_detail", args=[review.pk])))
    assert "期限依据：标准" in page


def test_the_yearly_review_without_a_standard_period_takes_the_settings():
    world = build_world(Tier.CLOSE_KNIT, evaluators=1, due_working_days={"formal_review": 7})
    certified(world)

    (review,), _skipped = start_yearly_reviews(world.district, 2025, by=world.office)
    deadline = TaskDeadline.objects.get(task=open_task_of(review, R.submit_data))

    assert (deadline.working_days, deadline.source) == (
        settings.TASK_DUE_WORKING_DAYS["review_submit_data"],
        DueSource.SETTINGS,
    )


def test_a_task_without_a_deadline_gets_the_standards_period_when_filled_in():
    world = build_world(Tier.CLOSE_KNIT, due_working_days={"formal_review": 7})
    _application, process = to_formal_review(world)
    task = open_task(process, F.formal_review)
    TaskDeadline.objects.filter(task=task).delete()

    set_count = ensure_deadlines(F)

    deadline = TaskDeadline.objects.get(task=task)
    assert set_count == 1
    assert (deadline.working_days, deadline.source) == (7, DueSource.STANDARD)
    assert deadline.due == weekdays_after(timezone.localdate(task.created), 7)
