"""The engine halves of user actions: what touches viewflow's tasks and timers. The domain never calls these.

Where one action needs a domain change and an engine change, the function here calls the domain function first
(it checks the state and the actor and writes the audit row), then does the engine part in the same transaction.
"""

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS
from viewflow.workflow.timers import fire_due_timers as _fire_viewflow_timers

from certification.domain import opening, panel, publicity, rectification, yearly_review
from certification.errors import IllegalTransition

from . import deadlines
from .flows import CertificationFlow, YearlyReviewFlow
from .models import process_for, review_process_for


def fire_due_timers():
    """Fire every due viewflow Timer task (公示, a review's 整改 deadline and notice period); returns how many fired.

    First the overdue 整改 items are reminded or escalated (`rectification.sweep_overdue`), so the beat task and
    the office's button do both. Safe to run twice and from several workers: each task is re-checked under its
    process lock (select-for-update), and a timer already fired is no longer SCHEDULED.
    """
    rectification.sweep_overdue()
    return _fire_viewflow_timers()


def start_yearly_reviews(region, school_year, *, by):
    """The office starts the school year's review of every certified cluster in its scope in one action
    (`certification.domain.yearly_review.start_reviews`), one YearlyReviewFlow process each, in one transaction.

    Returns (started reviews, how many clusters already had that year's review).
    """
    with transaction.atomic():
        started, skipped = yearly_review.start_reviews(region, school_year, by=by)
        for review in started:
            YearlyReviewFlow.start.run(review=review)
    return started, skipped


def run_review_step(review, node, step, *, assignment=None):
    """Take the review's open `node` task (`assignment`: the instance of that panel assignment, one per evaluator):
    `step` (the domain call) runs under the process lock, then the flow goes on. Refused (IllegalTransition) when
    the flow is not waiting at `node`."""
    process = review_process_for(review)
    tasks = YearlyReviewFlow.task_class._default_manager.filter(process=process, flow_task=node, status=STATUS.NEW)
    if assignment is not None:
        tasks = tasks.filter(data__assignment=assignment.pk)
    task = tasks.first() if process is not None else None
    if task is None:
        raise IllegalTransition(
            _("This step cannot be taken now: the yearly review is “%(status)s”.")
            % {"status": review.get_status_display()}
        )
    return node.run(task, step=step)


def send_task_deadline_notices(*, today=None):
    """Reminders, overdue notices and escalations of the certification flow's tasks and of the yearly review's steps
    (`workflows.deadlines`). Safe to run twice: each notice is recorded once. Returns how many went out.
    """
    return deadlines.send_task_deadline_notices(CertificationFlow, today=today) + (
        deadlines.send_review_deadline_notices(YearlyReviewFlow, today=today)
    )


def with_publicity_end(queryset):
    """Applications annotated with `publicity_ends`: when their running 公示 timer is due (None without one)."""
    timers = Task.objects.filter(
        process__artifact_object_id=OuterRef("pk"), flow_task_type="TIMER", status=STATUS.SCHEDULED
    ).order_by("scheduled")
    return queryset.annotate(publicity_ends=Subquery(timers.values("scheduled")[:1]))


def end_publicity_now_for_demo(application, *, by):
    """DEMO MODE ONLY: end the application's 公示 now (see `certification.domain.publicity.end_publicity_now_for_demo`).

    Side effects: the domain's checks and audit row, the pending publicity timer due now, then due timers fire, so
    the flow goes on at once: certified when no objection is open or upheld, else to the office's objection
    handling. Refused (IllegalTransition) when the application has no running publicity timer. Returns how many
    timers fired.
    """
    with transaction.atomic():
        process = process_for(application)
        if process is not None:
            # Lock the process row first, as viewflow's flow lock does before any task of it runs (a firing timer
            # then locks its task and, in certify, the application). Taking the application first deadlocked
            # against a concurrent firing; behind the process lock, one caller at a time touches timer and application.
            process = type(process).objects.select_for_update().get(pk=process.pk)
        timer = (
            Task.objects.select_for_update()
            .filter(process=process, flow_task_type="TIMER", status=STATUS.SCHEDULED)
            .first()
            if process is not None
            else None
        )
        now = timezone.now()
        publicity.end_publicity_now_for_demo(application, by=by, was_due=timer.scheduled if timer else None, now=now)
        if timer is None:
            raise IllegalTransition(_("This application has no running publicity timer to end."))
        Task.objects.filter(pk=timer.pk).update(scheduled=now)
    return fire_due_timers()


def remove_from_running_panel(assignment, reason, *, by, request=None):
    """The office takes an evaluator off a running panel (`certification.domain.panel.remove_from_panel`), then
    ends their open scoring task, so the flow's branch goes on to ask for a replacement.

    Runs under the process lock. Side effects: those of the domain function; the scoring task done.
    """
    process = process_for(assignment.application)
    flow_class = CertificationFlow
    with flow_class.lock(process.pk), transaction.atomic():
        panel.remove_from_panel(assignment, reason, by=by)
        task = flow_class.task_class._default_manager.filter(
            process=process,
            flow_task=flow_class.score,
            data__assignment=assignment.pk,
            status__in=[STATUS.ASSIGNED, STATUS.STARTED],
        ).first()
        if task is not None:
            activation = flow_class.score.activation_class(task)
            if activation.start.can_proceed():
                activation.start(request)
            activation.execute()


def withdraw_application(application, *, by, reason):
    """The lead withdraws the application (`certification.domain.opening.withdraw_application`), then the flow's
    open tasks are cancelled, so nobody is left with a task on a withdrawn application.

    Runs under the process lock. Side effects: those of the domain function; the process and its tasks cancelled.
    """
    process = process_for(application)
    flow_class = CertificationFlow
    if process is None:
        return opening.withdraw_application(application, by=by, reason=reason)
    with flow_class.lock(process.pk), transaction.atomic():
        application = opening.withdraw_application(application, by=by, reason=reason)
        flow_class.instance.cancel(process)
    return application
