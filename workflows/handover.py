"""The engine halves of 转办, 委派, 加签 and out-of-office cover: who holds a viewflow task.

Each function takes the process lock, re-reads the task, checks that the actor holds it, calls the domain function
(`certification.domain.handover`: the receiver's permission, four eyes, the reason, the record, the audit row, the
notifications), then moves the task's owner in the same transaction. Only `owner` changes: the task's status, its
permission, its data and its due date (h12-deadlines) stay as they are, so a refusal and a handover alike leave the
rest of the task untouched.
"""

from django.db import transaction
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from certification.domain import handover as domain
from certification.errors import DomainError, IllegalTransition, NotAllowed
from certification.models import Role

from .nodes import TaskView

# The approval nodes (by name; the flow imports the views, which import this module) and the step each decides:
# where an approver may add a co-signer.
DECISION_STEPS = {"district_decision": "district", "city_review": "city_review", "city_decision": "city"}


def decision_step(task):
    """The approval step the task decides, or None."""
    return DECISION_STEPS.get(getattr(task.flow_task, "name", ""))


def _lock(task):
    return task.flow_task.flow_class.lock(task.process_id)


def task_role(task):
    """The role a task requires (from the object permission it names), or None."""
    return domain.role_of_permission(task.owner_permission)


def may_pass_on(task):
    """Whether the task is one a holder can transfer or delegate: an open human task of a role with a scope."""
    role = task_role(task)
    return (
        isinstance(task.flow_task, TaskView)
        # A task page has started the task in memory (viewflow's wrap_view); in the database it is still assigned.
        and task.status in (STATUS.ASSIGNED, STATUS.STARTED)
        and role is not None
        and Role(role) != Role.EVALUATOR
    )


def _locked_task(task):
    task = Task.objects.select_for_update(of=("self",)).select_related("process", "owner").get(pk=task.pk)
    if task.status != STATUS.ASSIGNED or not isinstance(task.flow_task, TaskView):
        raise IllegalTransition(_("This task has already been completed or closed; nothing was changed."))
    return task


def _check_node(task, receiver):
    """The node's own rules for the receiver (its permission and exclusions), beside the domain's."""
    node = task.flow_task
    reason = node.exclusion(receiver, task) if receiver is not None else None
    if reason:
        raise NotAllowed(reason)


def _set_owner(task, user):
    type(task)._default_manager.filter(pk=task.pk).update(owner=user)


def transfer_task(task, receiver, reason, *, by):
    """转办: `by`, who holds `task`, gives it for good to `receiver`. Returns the TaskHandover."""
    return _hand_to(domain.transfer, task, receiver, reason, by=by)


def delegate_task(task, receiver, reason, *, by):
    """委派: `by`, who holds `task`, lets `receiver` fill it in and return it. Returns the TaskHandover."""
    return _hand_to(domain.delegate, task, receiver, reason, by=by)


def _hand_to(step, task, receiver, reason, *, by):
    """Under the process lock: the domain `step` checks and records the hand-over, then `receiver` holds the task."""
    with _lock(task), transaction.atomic():
        task = _locked_task(task)
        _check_node(task, receiver)
        record = step(
            task.process.artifact,
            task_id=task.pk,
            task_title=task.flow_task.task_title,
            role=task_role(task),
            holder=task.owner,
            receiver=receiver,
            reason=reason,
            by=by,
        )
        _set_owner(task, receiver)
    return record


def return_delegated_task(task, *, draft, note="", by):
    """The delegate returns `task` to its holder with the form they filled in. Returns the TaskHandover."""
    with _lock(task), transaction.atomic():
        task = _locked_task(task)
        record = domain.open_delegation(task.pk)
        if record is None or task.owner_id != by.pk:
            raise NotAllowed(_("Only the delegate returns a delegated task."))
        record = domain.return_delegation(record, draft=draft, note=note, by=by)
        _set_owner(task, record.from_user)
    return record


def add_cosigner(task, signer, reason, *, by):
    """加签 from an approval task: `by`, who holds it, asks `signer` to co-sign before deciding."""
    step = decision_step(task)
    if step is None:
        raise IllegalTransition(_("A co-signer can be added only to an approval step."))
    with _lock(task), transaction.atomic():
        task = _locked_task(task)
        if task.owner_id != getattr(by, "pk", None):
            raise NotAllowed(_("Only the person who holds the task may pass it on."))
        if domain.open_delegation(task.pk) is not None:
            raise IllegalTransition(_("This task is with a delegate; wait until it is returned."))
        _check_node(task, signer)
        return domain.add_cosigner(task.process.artifact, step, signer, reason, by=by)


def hand_over_open_tasks(absence, *, by):
    """Out of office: hand every open task the absent person holds to their substitute, in one action.

    Each task is handed over under its own process lock and savepoint; a task the substitute may not take (scoring
    tasks are personal; four eyes; a task with a delegate) stays and is listed with the reason.
    Returns (handed: [task], refused: [(task, reason)]).
    """
    if by is None or by.pk != absence.user_id:
        raise NotAllowed(_("Only the person who will be away records their absence."))
    handed, refused = [], []
    tasks = (
        Task.objects.filter(flow_task_type="HUMAN", owner_id=absence.user_id, status=STATUS.ASSIGNED)
        .select_related("process")
        .order_by("created", "pk")
    )
    for task in tasks:
        try:
            with _lock(task), transaction.atomic():
                task = _locked_task(task)
                if task.owner_id != absence.user_id:
                    continue
                _check_node(task, absence.substitute)
                domain.cover_task(
                    task.process.artifact,
                    task_id=task.pk,
                    task_title=task.flow_task.task_title,
                    role=task_role(task),
                    absence=absence,
                    by=by,
                )
                _set_owner(task, absence.substitute)
            handed.append(task)
        except DomainError as refusal:
            refused.append((task, refusal.message))
    return handed, refused
