"""A due date on every human task: set when the task opens, shown and sorted in the queues, and the reminder, overdue
notice and escalation it sends — each once, however often the job runs."""

import io
import re
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task

from certification.domain.roles import ensure_groups
from certification.domain.workdays import WorkingCalendar, add_working_days
from certification.models import Notification, Role, SentReminder, Tier
from tests.factories.workflow import build_world, person
from tests.workflows.driver import client_for, do, open_task, take
from tests.workflows.work_pages.helpers import another_cluster, page_text, to_approval, to_formal_review
from workflows.engine import send_task_deadline_notices
from workflows.flows import CertificationFlow as F
from workflows.models import TaskDeadline
from workflows.queues import human_nodes
from workflows.tasks import task_send_task_deadline_notices

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def role_groups(db):
    reverse("workflow:inbox")
    return ensure_groups()


def set_due(task, due):
    # Saved, not UPDATEd: the queues read the due date from the task's queue entry, which follows each save.
    deadline = TaskDeadline.objects.get(task=task)
    deadline.due = due
    deadline.save(update_fields=["due"])


def notices(user, kind_word=""):
    return list(
        Notification.objects.filter(recipient=user, subject__contains=kind_word).values_list("subject", flat=True)
    )


# ------------------------------------------------------------------------------------------------- set on creation


def test_every_human_node_has_a_due_period():
    for node, _title in human_nodes():
        assert node._due_on is not None or node.name in settings.TASK_DUE_WORKING_DAYS, node.name


def test_tasks_get_their_due_date_when_they_open():
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = to_formal_review(world)

    review = open_task(process, F.formal_review)
    stage = Task.objects.get(process=process, flow_task=F.submit_basic)

    created = timezone.localdate(review.created)
    assert review.deadline.working_days == 5
    assert review.deadline.due == add_working_days(created, 5)
    assert stage.deadline.working_days == settings.TASK_DUE_WORKING_DAYS["submit_basic"]


def test_scoring_and_approval_tasks_get_their_periods():
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = to_approval(world)

    score = Task.objects.filter(process=process, flow_task=F.score).first()
    decision = open_task(process, F.district_decision)

    assert score.deadline.working_days == 10
    assert decision.deadline.working_days == 5
    assert decision.deadline.due == add_working_days(timezone.localdate(decision.created), 5)


def test_correction_task_is_due_on_the_requests_deadline():
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = to_formal_review(world)
    a2 = world.standard.indicators().get(code="A2")
    deadline = timezone.localdate() + timedelta(days=12)

    do(
        world.office,
        process,
        F.formal_review,
        {"decision": "return", "indicators": [a2.pk], "comment": "缺签章", "deadline": deadline.isoformat()},
    )

    correct = open_task(process, F.correct)
    assert (correct.deadline.due, correct.deadline.working_days) == (deadline, None)


def test_a_reassigned_task_keeps_its_due_date():
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = to_formal_review(world)
    review = open_task(process, F.formal_review)
    due = review.deadline.due

    take(world.office, review)

    assert TaskDeadline.objects.get(task=review).due == due


# ------------------------------------------------------------------------------------------------- notices


@pytest.fixture
def review(db):
    """An open formal review nobody has taken, due on Thursday 2026-03-12."""
    world = build_world(Tier.CLOSE_KNIT)
    application, process = to_formal_review(world)
    task = open_task(process, F.formal_review)
    set_due(task, date(2026, 3, 12))
    return world, application, task


def test_reminder_before_due_goes_to_the_role_once(review):
    world, _application, _task = review

    first = send_task_deadline_notices(today=date(2026, 3, 10))
    second = send_task_deadline_notices(today=date(2026, 3, 11))

    assert (first, second) == (1, 0)
    assert notices(world.office, "请于") == [f"请于 2026-03-12 前办理：{world.cluster.name} 的“形式审查”"]
    assert notices(world.leader, "形式审查") == []
    assert SentReminder.objects.get().kind == SentReminder.Kind.DUE_SOON


def test_no_reminder_earlier_than_the_setting(review):
    # Two working days before Thursday is Tuesday; on Monday nothing is sent yet.
    assert send_task_deadline_notices(today=date(2026, 3, 9)) == 0


def test_overdue_notice_once_then_escalation_once_to_the_leader(review):
    world, _application, _task = review

    overdue = [send_task_deadline_notices(today=date(2026, 3, 13)) for _ in range(2)]
    # Grace of 3 working days after Thursday: Fri, Mon, Tue; escalated from Wednesday on.
    before_grace = send_task_deadline_notices(today=date(2026, 3, 17))
    escalated = [send_task_deadline_notices(today=date(2026, 3, 18)) for _ in range(2)]

    assert (overdue, before_grace, escalated) == ([1, 0], 0, [1, 0])
    assert len(notices(world.office, "已逾期")) == 1
    assert notices(world.leader, "形式审查") == [f"督办：{world.cluster.name} 的“形式审查”已逾期（截止 2026-03-12）"]
    kinds = sorted(SentReminder.objects.values_list("kind", flat=True))
    assert kinds == [SentReminder.Kind.ESCALATED, SentReminder.Kind.OVERDUE]


def test_first_run_long_after_due_sends_overdue_and_escalation_once_each(review):
    world, _application, _task = review

    runs = [send_task_deadline_notices(today=date(2026, 4, 1)) for _ in range(3)]

    assert runs == [2, 0, 0]
    assert len(notices(world.office, "已逾期")) == 1
    assert len(notices(world.leader, "督办")) == 1


def test_assigned_task_reminds_only_its_holder(review):
    world, _application, task = review
    colleague = person(Role.DISTRICT_OFFICE, region=world.district)
    take(world.office, task)

    assert send_task_deadline_notices(today=date(2026, 3, 11)) == 1
    assert len(notices(world.office, "请于")) == 1
    assert notices(colleague, "请于") == []


def test_scoring_overdue_escalates_to_the_office_that_assigned_the_panel():
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = to_formal_review(world)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    panel = world.evaluators[:3]
    do(world.office, process, F.assign_evaluators, {"evaluators": [e.pk for e in panel], "panel_lead": panel[0].pk})
    for task in Task.objects.filter(process=process, flow_task=F.score):
        set_due(task, date(2026, 3, 12))

    sent = send_task_deadline_notices(today=date(2026, 3, 30))

    assert sent == 6  # overdue + escalation for each of the three scoring tasks
    assert all(len(notices(evaluator, "已逾期")) == 1 for evaluator in panel)
    assert len(notices(world.office, "督办")) == 3
    assert notices(world.leader, "督办") == []


def test_correction_task_leaves_its_reminders_to_the_request():
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = to_formal_review(world)
    a2 = world.standard.indicators().get(code="A2")
    do(
        world.office,
        process,
        F.formal_review,
        {"decision": "return", "indicators": [a2.pk], "comment": "缺签章", "deadline": "2099-01-01"},
    )
    set_due(open_task(process, F.correct), date(2026, 3, 12))

    assert send_task_deadline_notices(today=date(2026, 4, 1)) == 0


def test_fire_timers_command_sends_the_notices_once(review):
    world, _application, _task = review
    set_due(_task, timezone.localdate() - timedelta(days=1))

    for _ in range(2):
        call_command("fire_timers", stdout=io.StringIO())

    assert len(notices(world.office, "已逾期")) == 1


def test_office_button_sends_the_notices_once(review):
    world, _application, task = review
    set_due(task, timezone.localdate() - timedelta(days=1))
    client = client_for(world.office)

    for _ in range(2):
        assert client.post(reverse("work:fire_timers")).status_code == 302

    assert len(notices(world.office, "已逾期")) == 1


def test_beat_task_sends_the_notices_once(review):
    _world, _application, task = review
    set_due(task, timezone.localdate() - timedelta(days=1))

    results = [task_send_task_deadline_notices.delay().get() for _ in range(2)]

    assert results == [1, 0]
    assert "certification.send_task_deadline_notices" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }


def test_open_task_without_a_due_date_gets_one_on_the_next_run(review):
    _world, _application, task = review
    TaskDeadline.objects.filter(task=task).delete()

    send_task_deadline_notices(today=date(2026, 3, 2))

    assert TaskDeadline.objects.get(task=task).due == add_working_days(timezone.localdate(task.created), 5)


# ------------------------------------------------------------------------------------------------- queues


def _two_reviews():
    world = build_world(Tier.CLOSE_KNIT)
    first, first_process = to_formal_review(world)
    second, second_process = to_formal_review(world, *another_cluster(world))
    today = timezone.localdate()
    set_due(open_task(first_process, F.formal_review), today + timedelta(days=20))
    set_due(open_task(second_process, F.formal_review), today - timedelta(days=3))
    return world, first, second


def _rows(text):
    return [int(pk) for pk in re.findall(r'<tr data-application="(\d+)"', text)]


def test_office_desk_shows_due_date_and_countdown_and_sorts_by_it():
    world, first, second = _two_reviews()
    client = client_for(world.office)
    today = timezone.localdate()
    calendar = WorkingCalendar(today)
    left = calendar.working_days_between(today, today + timedelta(days=20))

    by_due = page_text(client.get(reverse("work:office"), {"order": "due"}))
    latest_first = page_text(client.get(reverse("work:office"), {"order": "-due"}))

    assert _rows(by_due) == [second.pk, first.pk]
    assert _rows(latest_first) == [first.pk, second.pk]
    assert "截止日期" in by_due
    assert f"{today + timedelta(days=20):%Y-%m-%d}" in by_due
    assert f"剩余 {left} 个工作日" in by_due
    assert "已逾期 3 天" in by_due


def test_overdue_filter_keeps_only_overdue_tasks():
    world, _first, second = _two_reviews()

    text = page_text(client_for(world.office).get(reverse("work:office"), {"overdue": "on"}))

    assert _rows(text) == [second.pk]


def test_viewflow_queue_shows_the_due_date_soonest_first():
    world, _first, _second = _two_reviews()
    today = timezone.localdate()

    text = page_text(client_for(world.office).get(reverse("workflow:queue")))

    assert "截止日期" in text
    late, early = f"{today - timedelta(days=3):%Y-%m-%d}", f"{today + timedelta(days=20):%Y-%m-%d}"
    assert late in text and early in text
    assert text.index(late) < text.index(early)
    assert "已逾期 3 天" in text


def _due_cells(text):
    """{application id: the row's due date cell} of a work list."""
    return {
        int(pk): due
        for pk, due in re.findall(r'<tr data-application="(\d+)".*?data-test="due">([^<]*)<', text, flags=re.DOTALL)
    }


def test_office_desk_unsorted_shows_the_due_dates_of_the_sorted_list():
    # Sorted otherwise, the rows' due dates come from the page's tasks (`queues.page_due`), not from the query.
    world, first, second = _two_reviews()
    client = client_for(world.office)
    today = timezone.localdate()

    by_due = page_text(client.get(reverse("work:office"), {"order": "due"}))
    default = page_text(client.get(reverse("work:office")))

    assert (
        _due_cells(default)
        == _due_cells(by_due)
        == {
            first.pk: f"{today + timedelta(days=20):%Y-%m-%d}",
            second.pk: f"{today - timedelta(days=3):%Y-%m-%d}",
        }
    )
    assert "已逾期 3 天" in default


def test_office_desk_shows_each_due_date_once():
    # The row's due-date column shows the date; the task's button beside it does not repeat it.
    world, first, second = _two_reviews()
    today = timezone.localdate()

    text = page_text(client_for(world.office).get(reverse("work:office")))

    rows = dict(re.findall(r'<tr data-application="(\d+)">(.*?)</tr>', text, flags=re.DOTALL))
    for application, due in ((first, today + timedelta(days=20)), (second, today - timedelta(days=3))):
        row = rows[str(application.pk)]
        assert row.count(f"{due:%Y-%m-%d}") == 1
        assert 'data-test="due"' in row and 'data-test="task-due"' not in row
