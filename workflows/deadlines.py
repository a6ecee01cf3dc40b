"""Deadlines of the flow's human tasks: set when a task is created, read by every queue, and the notices they send.

* `open_deadline(activation)`: called by `TaskView`'s and `DueHandle`'s activations as the task is created. The due date is the node's
  period in working days (counted over the holiday calendar) after the day the task was created, or a date the node
  follows (`.Due(on=…)`, the 补正 request's deadline). The period is the one the process's standard gives the step
  (`Standard.due_working_days`: the application's pinned version, the yearly review's held one), else the one of
  `settings.TASK_DUE_WORKING_DAYS`; the row records which (`TaskDeadline.source`).
* `send_task_deadline_notices(flow, today=…)` (the certification flow) and `send_review_deadline_notices(today=…)`
  (the yearly review's steps): the reminder before the due date, the overdue notice, and the escalation to
  the supervising role after the grace period — each once per task and due date (`SentReminder`), whoever holds
  the task now. Beat runs it every hour; `manage.py fire_timers` and the office's button run it too.
* `attach_countdowns`: the countdown the queues show beside each due date (the holiday calendar from its cache).
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from viewflow.workflow.status import STATUS

from certification.domain import notify, yearly_review
from certification.domain.workdays import WorkingCalendar, add_working_days, countdown
from certification.models import Application, SentReminder, YearlyReview
from certification.scope import role_of_permission

from .models import DueSource, TaskDeadline, YearlyReviewProcess

OPEN = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]


def period_of(node):
    """The node's step (a `DueStep` value, the key of its period in the standard and in
    settings.TASK_DUE_WORKING_DAYS): the `.Due(period)` given, else its name."""
    return getattr(node, "_due_period", None) or node.name


def working_days_of(node, standard=None):
    """(working days, DueSource) of the node's period: the standard's when it names the step, else the settings'.

    `standard` is the one the process's artifact holds (an application's pinned version, a yearly review's held
    one), already loaded with it: reading its periods costs no query. A human node whose step the settings do not
    know is a configuration error.
    """
    step = period_of(node)
    days = standard.due_period(step) if standard is not None else None
    if days is not None:
        return days, DueSource.STANDARD
    try:
        return settings.TASK_DUE_WORKING_DAYS[step], DueSource.SETTINGS
    except KeyError:
        raise ImproperlyConfigured(f"TASK_DUE_WORKING_DAYS has no period for the task {step!r}") from None


def standard_of(process):
    """The standard whose periods the process's tasks follow: its artifact's (Application and YearlyReview both
    hold one), or None. The certification flow loads the application with its standard (`flows.application_of`);
    the yearly review reads its standard here once per task created."""
    artifact = process.artifact
    return getattr(artifact, "standard", None) if artifact is not None else None


def due_nodes(flow_class):
    """The flow's nodes whose tasks have a due date (TaskView, DueHandle)."""
    return [node for node in flow_class.instance.nodes() if getattr(node, "has_deadline", False)]


def open_deadline(activation):
    """Store the due date of the task `activation` has just created (see the module docstring). Returns the row."""
    task = activation.task
    node = task.flow_task
    follows = getattr(node, "_due_on", None)
    due = follows(activation) if follows is not None else None
    if due is not None:
        return TaskDeadline.objects.create(task=task, due=due, working_days=None)
    days, source = working_days_of(node, standard_of(task.process))
    return TaskDeadline.objects.create(
        task=task, due=add_working_days(timezone.localdate(task.created), days), working_days=days, source=source
    )


def ensure_deadlines(flow_class):
    """Give a due date to every open human task still without one (tasks opened before deadlines existed).

    Returns how many were set. One query finds them, one reads their standards' periods (`working_days_of`); a
    calendar read and one INSERT per hundred set them.
    """
    missing = list(
        flow_class.task_class._default_manager.filter(
            process__flow_class=flow_class, flow_task__in=due_nodes(flow_class), status__in=OPEN
        )
        .filter(~Exists(TaskDeadline.objects.filter(task=OuterRef("pk"))))
        .select_related("process")
        .order_by("pk")
    )
    if not missing:
        return 0
    standards = _standards_by_artifact(flow_class, missing)
    rows = []
    for task in missing:
        if period_of(task.flow_task) not in settings.TASK_DUE_WORKING_DAYS:
            continue
        standard = standards.get(int(task.process.artifact_object_id or 0))
        days, source = working_days_of(task.flow_task, standard)
        created = timezone.localdate(task.created)
        rows.append(TaskDeadline(task=task, due=add_working_days(created, days), working_days=days, source=source))
    TaskDeadline.objects.bulk_create(rows, batch_size=100, ignore_conflicts=True)
    return len(rows)


def _standards_by_artifact(flow_class, tasks):
    """{artifact id: its standard (only the periods loaded)} for the tasks' processes: one query."""
    ids = {int(task.process.artifact_object_id) for task in tasks if task.process.artifact_object_id}
    model = YearlyReview if flow_class.process_class is YearlyReviewProcess else Application
    rows = model.objects.filter(pk__in=ids).select_related("standard").only("pk", "standard__due_working_days")
    return {row.pk: row.standard for row in rows}


# ------------------------------------------------------------------------------------------------------ notices


def _due_candidates(flow_class, today):
    """The (deadline, kind) notices of `flow_class`'s open tasks due today and not yet sent (see below)."""
    today = today or timezone.localdate()
    ensure_deadlines(flow_class)
    calendar = WorkingCalendar(today - timedelta(days=60))
    remind_until = calendar.add_working_days(today, settings.TASK_REMINDER_WORKING_DAYS_BEFORE)
    grace = settings.TASK_ESCALATION_GRACE_WORKING_DAYS
    deadlines = list(
        TaskDeadline.objects.filter(
            due__lte=remind_until,
            task__status__in=OPEN,
            task__flow_task__in=due_nodes(flow_class),
            task__process__flow_class=flow_class,
        )
        .select_related("task__process", "task__owner")
        .order_by("due", "task_id")
    )
    candidates = []
    for deadline in deadlines:
        if not getattr(deadline.task.flow_task, "_due_notices", True):
            continue
        if deadline.due >= today:
            kinds = [SentReminder.Kind.DUE_SOON]
        else:
            kinds = [SentReminder.Kind.OVERDUE]
            if calendar.working_days_between(deadline.due, today) > grace:
                kinds.append(SentReminder.Kind.ESCALATED)
        candidates += [
            (deadline, kind, notify.task_reminder_key(deadline.task_id, kind, deadline.due)) for kind in kinds
        ]
    already = set(
        SentReminder.objects.filter(key__in=[key for _d, _k, key in candidates]).values_list("key", flat=True)
    )
    return [(deadline, kind) for deadline, kind, key in candidates if key not in already]


def send_task_deadline_notices(flow_class, *, today=None):
    """Send the deadline notices that are due today and not yet sent; returns how many went out.

    Per open human task (except those whose node follows a date with reminders of its own, 补正): a reminder
    `TASK_REMINDER_WORKING_DAYS_BEFORE` working days before the due date; the overdue notice from the first day
    past it; the escalation once `TASK_ESCALATION_GRACE_WORKING_DAYS` more working days have passed. Each is
    recorded (`SentReminder`, unique key per task, kind and due date), so a second run, or a concurrent one, sends
    nothing new. Side effects: SentReminder rows, notifications and e-mails (certification.domain.notify).
    """
    today = today or timezone.localdate()
    candidates = _due_candidates(flow_class, today)
    applications = Application.objects.select_related("cluster__district").in_bulk(
        {int(d.task.process.artifact_object_id) for d, _k in candidates if d.task.process.artifact_object_id}
    )
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for deadline, kind in candidates:
            task = deadline.task
            application = applications.get(int(task.process.artifact_object_id or 0))
            if application is None:
                continue
            if notify.send_task_deadline_notice(
                application,
                task_id=task.pk,
                kind=kind,
                title=str(task.flow_task.task_title),
                due=deadline.due,
                role=role_of_permission(task.owner_permission),
                assignee=task.owner,
            ):
                sent += 1
    return sent


def send_review_deadline_notices(flow_class, *, today=None):
    """The same notices for the yearly review's steps (`flow_class`: the review's flow), to the holders of the step's
    role (`certification.domain.yearly_review.send_step_deadline_notice`). Returns how many went out."""
    today = today or timezone.localdate()
    candidates = _due_candidates(flow_class, today)
    reviews = YearlyReview.objects.select_related("cluster__district__parent").in_bulk(
        {int(d.task.process.artifact_object_id) for d, _k in candidates if d.task.process.artifact_object_id}
    )
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for deadline, kind in candidates:
            task = deadline.task
            review = reviews.get(int(task.process.artifact_object_id or 0))
            if review is not None and yearly_review.send_step_deadline_notice(
                review,
                task_id=task.pk,
                kind=kind,
                title=str(task.flow_task.task_title),
                due=deadline.due,
                step=task.flow_task.name,
                assignee=task.owner,
            ):
                sent += 1
    return sent


# ------------------------------------------------------------------------------------------------------ queue columns


def attach_countdowns(rows, *, today=None):
    """Set `countdown` on each row (a task or a list row) from its `due` date; None where it has none.

    One read of the holiday calendar (cached) for the whole page, whatever the number of rows.
    """
    today = today or timezone.localdate()
    calendar = None
    for row in rows:
        due = getattr(row, "due", None)
        row.countdown = None
        if due is not None:
            calendar = calendar or WorkingCalendar(today)
            row.countdown = countdown(due, today=today, calendar=calendar)
    return rows


def deadline_of_task(task):
    """The task's TaskDeadline, or None (a task opened before deadlines existed, until `ensure_deadlines` runs)."""
    try:
        return task.deadline
    except TaskDeadline.DoesNotExist:
        return None


def due_of_task(task):
    """The task's due date, or None."""
    deadline = deadline_of_task(task)
    return deadline.due if deadline is not None else None


def due_source_of_task(task):
    """Who set the task's period, for the pages ("the standard" / "the system settings"), or None: the task follows a
    date set elsewhere (补正) or has no due date yet."""
    deadline = deadline_of_task(task)
    if deadline is None or deadline.working_days is None:
        return None
    # `get_source_display()` without walking the field's choices for every task of a page.
    return str(DUE_SOURCE_LABELS.get(deadline.source, deadline.source))


DUE_SOURCE_LABELS = dict(DueSource.choices)
