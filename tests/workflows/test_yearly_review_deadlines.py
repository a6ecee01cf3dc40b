"""The yearly review's people's steps have due dates like every other task (issue 12): the lead's data, the
office's conclusion, the leader's decision, the objections; shown on the 年度评估 list and the review's page, and
their reminder, overdue notice and escalation sent once each."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from certification.domain import yearly_review
from certification.domain.roles import ensure_groups
from certification.domain.workdays import add_working_days
from certification.models import Notification, SentReminder, Tier
from tests.factories.evidence import pdf_bytes
from tests.factories.workflow import build_world
from tests.workflows.driver import client_for
from tests.workflows.review_driver import open_task_of
from tests.workflows.review_scene import certified, panel_review, two_districts
from tests.workflows.work_pages.helpers import page_text
from workflows.engine import run_review_step, send_task_deadline_notices, start_yearly_reviews
from workflows.flows import YearlyReviewFlow as R
from workflows.models import TaskDeadline, review_process_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def role_groups(db):
    reverse("workflow:inbox")
    return ensure_groups()


def _started(world):
    certified(world)
    (review,), _skipped = start_yearly_reviews(world.district, 2025, by=world.office)
    return review


def _submit(world, review):
    evidence = [("年度工作总结", SimpleUploadedFile("总结.pdf", pdf_bytes("y"), content_type="application/pdf"))]
    run_review_step(
        review,
        R.submit_data,
        lambda: yearly_review.submit(review, by=world.lead, data_note="学年概述", evidence=evidence),
    )


def _deadline(review, node):
    task = open_task_of(review, node)
    assert task is not None, node.name
    return TaskDeadline.objects.get(task=task), task


def test_a_started_reviews_data_step_is_due_in_twenty_working_days():
    world, _other = two_districts()
    review = _started(world)

    deadline, task = _deadline(review, R.submit_data)

    assert deadline.working_days == 20
    assert deadline.due == add_working_days(timezone.localdate(task.created), 20)


def test_the_conclusion_and_the_leaders_decision_have_their_own_periods():
    world, _other = two_districts()
    review = _started(world)
    _submit(world, review)

    conclude, conclude_task = _deadline(review, R.conclude)
    run_review_step(
        review,
        R.conclude,
        lambda: yearly_review.conclude(review, "revoke", by=world.office, reason="材料造假，已核实。"),
    )
    decision, decision_task = _deadline(review, R.leader_decision)

    assert (conclude.working_days, decision.working_days) == (10, 5)
    assert conclude.due == add_working_days(timezone.localdate(conclude_task.created), 10)
    assert decision.due == add_working_days(timezone.localdate(decision_task.created), 5)


def test_the_list_and_the_review_page_show_the_due_date_and_countdown():
    world, _other = two_districts()
    review = _started(world)
    deadline, _task = _deadline(review, R.submit_data)
    due = deadline.due.isoformat()

    listing = page_text(client_for(world.office).get(reverse("work:yearly_reviews")))
    detail = page_text(client_for(world.lead).get(reverse("work:yearly_review_detail", args=[review.pk])))

    assert "截止日期" in listing and due in listing
    assert "截止日期" in detail and due in detail
    assert 'data-test="countdown"' in listing and 'data-test="countdown"' in detail


def test_an_overdue_review_step_is_noticed_once_then_escalated_once_to_the_office():
    world, _other = two_districts()
    review = _started(world)
    deadline, _task = _deadline(review, R.submit_data)
    TaskDeadline.objects.filter(pk=deadline.pk).update(due=date(2026, 3, 12))  # a Thursday

    overdue = [send_task_deadline_notices(today=date(2026, 3, 13)) for _ in range(2)]
    escalated = [send_task_deadline_notices(today=date(2026, 3, 18)) for _ in range(2)]

    assert (overdue, escalated) == ([1, 0], [1, 0])
    lead_notices = Notification.objects.filter(recipient=world.lead, subject__contains="已逾期")
    assert lead_notices.count() == 1
    assert "2026-03-12" in lead_notices.get().subject
    office_notices = Notification.objects.filter(recipient=world.office, subject__contains="督办")
    assert office_notices.count() == 1
    assert world.cluster.name in office_notices.get().subject
    kinds = sorted(SentReminder.objects.values_list("kind", flat=True))
    assert kinds == [SentReminder.Kind.ESCALATED, SentReminder.Kind.OVERDUE]


def test_a_done_step_sends_nothing():
    world, _other = two_districts()
    review = _started(world)
    deadline, _task = _deadline(review, R.submit_data)
    TaskDeadline.objects.filter(pk=deadline.pk).update(due=date(2026, 3, 12))
    _submit(world, review)
    conclude, _task = _deadline(review, R.conclude)
    TaskDeadline.objects.filter(pk=conclude.pk).update(due=date(2030, 1, 1))

    assert send_task_deadline_notices(today=date(2026, 3, 13)) == 0


def test_an_overdue_opinion_is_noticed_to_its_evaluator_alone_then_escalated_to_the_office():
    world = build_world(Tier.DISTRICT_MODEL, evaluators=2, yearly_evaluators=2)
    late, on_time = world.evaluators
    review = panel_review(world, [late, on_time])
    tasks = list(Task.objects.filter(process=review_process_for(review), flow_task=R.give_opinion, status=STATUS.NEW))
    assert {TaskDeadline.objects.get(task=task).working_days for task in tasks} == {10}
    late_task = next(task for task in tasks if task.owner_id == late.pk)
    TaskDeadline.objects.filter(task=late_task).update(due=date(2026, 3, 12))  # a Thursday
    TaskDeadline.objects.exclude(task=late_task).update(due=date(2030, 1, 1))

    overdue = [send_task_deadline_notices(today=date(2026, 3, 13)) for _ in range(2)]
    escalated = [send_task_deadline_notices(today=date(2026, 3, 18)) for _ in range(2)]

    assert (overdue, escalated) == ([1, 0], [1, 0])
    assert Notification.objects.filter(recipient=late, subject__contains="已逾期").count() == 1
    assert not Notification.objects.filter(recipient=on_time, subject__contains="逾期").exists()
    office_notices = Notification.objects.filter(recipient=world.office, subject__contains="督办")
    assert office_notices.count() == 1
