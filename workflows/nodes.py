"""Nodes the certification flow needs beyond viewflow's own.

* `TaskView`: a human task whose permission is checked again on every request, so a user whose role grant or
  evaluator assignment was revoked loses the task at once, even one already assigned to them; and whose
  refusals are pages that explain themselves (403 / 409) instead of viewflow's bare PermissionDenied. Every
  TaskView gets its due date as it is created (`workflows.deadlines.open_deadline`).
* `DueHandle`: a person's step run by a page of its own (`flow.Handle`: the yearly review), with a due date as the
  task is created, from the period named `.Due(period)` in `settings.TASK_DUE_WORKING_DAYS`.
* `If`, `Switch`: viewflow's gates, without the savepoint around their condition where it guards nothing (see
  `condition_guard`).
* `ForEach`: a multi-instance split. Viewflow's open-source Split is static (one branch per declared node);
  ForEach opens one instance of its next node per item of a list computed when the split runs — here, one
  scoring task per evaluator on the panel, each with the item as its ``task.data``. Each instance gets its own
  split token, so a plain `flow.Join` waits for all of them, including a branch that loops (a recusal and its
  replacement keep the branch's token until the replacement has scored).
"""

from contextlib import contextmanager, nullcontext
from functools import update_wrapper

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import OuterRef
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext as _
from viewflow import this
from viewflow.fsm import TransitionNotAllowed
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.base import Node
from viewflow.workflow.context import context
from viewflow.workflow.exceptions import FlowLockFailed, FlowRuntimeError
from viewflow.workflow.flow import mixins as flow_mixins
from viewflow.workflow.flow import views as flow_views
from viewflow.workflow.nodes import mixins as node_mixins
from viewflow.workflow.nodes.handle import HandleActivation
from viewflow.workflow.nodes.if_gate import IfActivation
from viewflow.workflow.nodes.switch import SwitchActivation
from viewflow.workflow.nodes.view import ViewActivation
from viewflow.workflow.status import STATUS
from viewflow.workflow.token import Token

from certification.domain import cover, handover, locking
from certification.errors import IllegalTransition, NotAllowed
from certification.models import Role

from .deadlines import open_deadline


def explain_refusals(view, node):
    """Turn viewflow's refusals into domain errors, which DomainErrorMiddleware renders as a Chinese page.

    Within the user's scope, a task already done or cancelled, or taken by someone else, is a conflict (409);
    anything else viewflow refuses is a permission refusal (403), and outside the scope every refusal is a bare
    403 that tells nothing about the task. A process row locked by a concurrent request is a conflict too.
    """

    flow_class = node.flow_class

    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except FlowLockFailed:
            raise IllegalTransition(
                _("Someone else is working on this task right now; reload the page in a moment.")
            ) from None
        except PermissionDenied:
            task = flow_class.task_class._default_manager.filter(pk=kwargs.get("task_pk")).first()
            if task is None or not flow_class.instance.has_view_permission(request.user, task.process):
                # Outside the user's scope: say nothing about the task.
                raise NotAllowed(_("You may not work on this task.")) from None
            if task.status in (STATUS.DONE, STATUS.CANCELED, STATUS.REVIVED):
                raise IllegalTransition(
                    _("This task has already been completed or closed; nothing was changed.")
                ) from None
            reason = node.exclusion(request.user, task) if isinstance(node, TaskView) else None
            if reason:
                raise NotAllowed(reason) from None
            if task.owner_id and task.owner_id != request.user.pk:
                raise IllegalTransition(_("This task has been taken by %(owner)s.") % {"owner": task.owner}) from None
            raise NotAllowed(_("You may not work on this task.")) from None

    update_wrapper(wrapped, view)
    return wrapped


class TaskViewActivation(ViewActivation):
    """Viewflow's activation of a human task: it stores the task's due date as the task is created, and records the
    cover when the task went to an absent person's substitute."""

    covering = None

    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        activation = super().create(flow_task, prev_activation, token, data=data, seed=seed)
        open_deadline(activation)
        if activation.covering is not None:
            task = activation.task
            handover.cover_task(
                task.process.artifact,
                task_id=task.pk,
                task_title=flow_task.task_title,
                role=handover.role_of_permission(task.owner_permission),
                absence=activation.covering,
            )
        return activation


class DueHandleActivation(HandleActivation):
    """Viewflow's Handle activation, which stores the task's due date as the task is created, and its owner when
    the node names one (`.Owner`)."""

    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        activation = super().create(flow_task, prev_activation, token, data=data, seed=seed)
        if flow_task._owner is not None:
            activation.task.owner = flow_task._owner(activation)
            activation.task.save(update_fields=["owner"])
        open_deadline(activation)
        return activation


class DueHandle(flow.Handle):
    """A person's step run by its own page (see `flow.Handle`) that is due `.Due(period)` working days after it opens:
    `period` is a key of settings.TASK_DUE_WORKING_DAYS (the node's name when not given).

    ``.Owner(func)``: the task is one person's (``func(activation)``, e.g. the evaluator of a panel's instance): its
    deadline notices go to them. Who may take the step is still the domain's check, which the page calls first.
    """

    activation_class = DueHandleActivation
    has_deadline = True
    _due_period = None
    _owner = None

    def Due(self, period):
        self._due_period = period
        return self

    def Owner(self, func):
        self._owner = func
        return self

    def _resolve(self, instance):
        super()._resolve(instance)
        if self._owner is not None:
            self._owner = this.resolve(instance, self._owner)


def _in_words(activation):
    """The task and its process as people name them ("天平-湖南学区 紧密型申报 · 形式审查"), not by their numbers."""
    return {"process": activation.process.label, "task": activation.task.flow_task.task_title}


class ClaimTaskView(flow_views.AssignTaskView):
    def get_success_message(self, cleaned_data):
        return _("Claimed: %(process)s · %(task)s") % _in_words(self.request.activation)


class ReleaseTaskView(flow_views.UnassignTaskView):
    def get_success_message(self, cleaned_data):
        return _("Claim given up: %(process)s · %(task)s") % _in_words(self.request.activation)


class TaskView(flow.View):
    """A human task; see the module docstring.

    ``.Excluding(func)`` keeps people out of a task their permission would otherwise open to them:
    ``func(user, obj)`` returns the reason (shown to them) or None. Example: an approver who evaluated the application.

    ``.Due(on=func, notices=False)``: the task is due on the date ``func(activation)`` gives (None: the node's period
    in settings.TASK_DUE_WORKING_DAYS), and sends no deadline notices of its own (the date's owner sends them).
    """

    activation_class = TaskViewActivation
    assign_view_class = ClaimTaskView
    unassign_view_class = ReleaseTaskView
    has_deadline = True
    _excluding = None
    _due_on = None
    _due_notices = True

    def calc_owner(self, activation):
        """The person the flow assigns the task to, or their substitute while they are away (out-of-office cover).

        The substitute gets it only when they may take it (the task's permission, its exclusions and the domain's
        `receiver_refusal`); otherwise it stays with the absent person, who can hand it over later.
        """
        owner = super().calc_owner(activation)
        task = activation.task
        role = handover.role_of_permission(task.owner_permission)
        if owner is not None:
            absence, substitute = cover.substitute_for(owner)
        elif role is not None and role != Role.EVALUATOR:
            # A task for the role's queue: while the others are away, it goes to the one present substitute.
            absence, substitute = cover.substitute_among_holders(role, task.process.artifact)
        else:
            absence = substitute = None
        if substitute is None:
            return owner
        refusal = handover.receiver_refusal(task.process.artifact, role, substitute, holder=absence.user)
        if refusal or not self.holds_permission(substitute, task) or self.exclusion(substitute, task):
            return owner
        activation.covering = absence
        return substitute

    def Excluding(self, func):
        self._excluding = func
        return self

    def Due(self, *, on=None, notices=True):
        self._due_on = on
        self._due_notices = notices
        return self

    def _resolve(self, instance):
        super()._resolve(instance)
        if self._due_on is not None:
            self._due_on = this.resolve(instance, self._due_on)

    def exclusion(self, user, task):
        """Why `user` is kept out of `task`, or None."""
        if self._excluding is None or not user.is_authenticated:
            return None
        return self._excluding(user, self._permission_object(task))

    def _permission_object(self, task):
        obj = self._owner_permission_obj
        return obj(task.process) if callable(obj) else obj

    def holds_permission(self, user, task):
        """Whether `user` holds the task's permission (on its object) now."""
        if not task.owner_permission:
            return True
        return user.is_authenticated and user.has_perm(task.owner_permission, self._permission_object(task))

    def can_execute(self, user, task):
        # viewflow's own check loads `task.owner` to compare it with the user (a query); the ids say the same.
        owns = user.is_authenticated and task.owner_id is not None and task.owner_id == user.pk
        return owns and self.holds_permission(user, task) and not self.exclusion(user, task)

    def can_assign(self, user, task):
        return super().can_assign(user, task) and self.holds_permission(user, task) and not self.exclusion(user, task)

    def _task_view(self, view, permission, *, start=False):
        """Viewflow's task-view wrapper (`flow.utils.wrap_view`, `wrap_task_view`) with the same checks in fewer
        queries: the task is read with its process (and whether it was ever delegated) in one query, a POST runs
        in the process lock's transaction alone, and a task's POST reads its application under lock once for the
        permission check and the domain step (`certification.domain.locking`). Viewflow opens a second transaction inside the lock's, a
        savepoint with nothing between the two that could catch an error: whatever fails rolls the lock's
        transaction back all the same.
        """
        flow_class = self.flow_class

        def call(request, process_pk, task_pk, **kwargs):
            tasks = flow_class.task_class._default_manager.select_related("process").annotate(
                was_delegated=handover.delegated(OuterRef("pk"))
            )
            try:
                # `get`, not `first`: one row by its key needs no ORDER BY (the ORM's costliest part of this read).
                task = tasks.get(pk=task_pk)
            except flow_class.task_class.DoesNotExist:
                raise Http404 from None
            if task.process_id != process_pk or task.process.flow_class != flow_class:
                raise Http404
            request.activation = self.activation_class(task)
            if not permission(request.user, task=task):
                raise PermissionDenied
            if start:
                request.activation.start(request)
            return view(request, process_pk=process_pk, task_pk=task_pk, **kwargs)

        def wrapped(request, process_pk, task_pk, **kwargs):
            try:
                if request.method != "POST":
                    return call(request, process_pk, task_pk, **kwargs)
                with flow_class.lock(process_pk), locking.steps_in_request() if start else nullcontext():
                    return call(request, process_pk, task_pk, **kwargs)
            except TransitionNotAllowed as refusal:
                raise PermissionDenied(",".join(refusal.args)) from None

        update_wrapper(wrapped, view)
        return wrapped

    @property
    def view_path(self):
        return path(
            f"<int:process_pk>/{self.name}/<int:task_pk>/execute/",
            explain_refusals(self._task_view(self.view, self.can_execute, start=True), self),
            name="execute",
        )

    @property
    def assign_path(self):
        return path(
            f"<int:process_pk>/{self.name}/<int:task_pk>/assign/",
            explain_refusals(self._task_view(self.assign_view, self.can_assign), self),
            name="assign",
        )

    @property
    def unassign_path(self):
        return path(
            f"<int:process_pk>/{self.name}/<int:task_pk>/unassign/",
            explain_refusals(self._task_view(self.unassign_view, self.can_unassign), self),
            name="unassign",
        )


class ForEachActivation(Activation):
    """Computes the items when the split runs, then creates one next task per item."""

    def __init__(self, *args, **kwargs):
        self.items = []
        super().__init__(*args, **kwargs)

    @Activation.status.super()
    def activate(self):
        with self.exception_guard(), transaction.atomic(savepoint=True):
            self.items = list(self.flow_task._items(self))
            if not self.items:
                raise FlowRuntimeError(f"{self.flow_task.name}: no items to open instances for")

    @Activation.status.super()
    def create_next(self):
        tokens = Token.split_token_source(self.task.token, self.task.pk)
        for item in self.items:
            yield self.flow_task._next._create(self, next(tokens), data=dict(item))


class ForEach(flow_mixins.NodeDetailMixin, node_mixins.NextNodeMixin, Node):
    """Multi-instance split: ``ForEach(items).Next(node)`` opens `node` once per item.

    `items` is a callable ``activation -> iterable of dicts`` (or a ``this.`` reference to one); each dict becomes
    the ``task.data`` of one instance. A `flow.Join` after the instances waits for all of them.
    """

    activation_class = ForEachActivation
    task_type = "PARALLEL_GATEWAY"
    bpmn_element = "parallelGateway"
    index_view_class = flow_views.IndexTaskView
    detail_view_class = flow_views.DetailTaskView
    shape = {
        "width": 50,
        "height": 50,
        "svg": """
            <path class="gateway" d="M25,0L50,25L25,50L0,25L25,0"/>
            <text class="gateway-marker" font-size="32px" x="25" y="35">+</text>
        """,
    }

    def __init__(self, items, **kwargs):
        super().__init__(**kwargs)
        self._items = items

    def _resolve(self, instance):
        super()._resolve(instance)
        self._items = this.resolve(instance, self._items)

    def _ready(self):
        # The chart and the BPMN export mark the repeated task as multi-instance.
        if self._next is not None:
            self._next._multi_instance = True


@contextmanager
def condition_guard(activation):
    """Viewflow's guard around a gate's condition, with a savepoint only where it protects something.

    Where a failing condition is recorded on the gate's task and the run goes on (``propagate_exception`` off:
    timers, jobs), the savepoint takes back what the condition wrote. Everywhere else (a task's POST) the error
    propagates and rolls back the transaction around it, savepoint or not: there it costs two statements per gate
    for nothing.
    """
    with activation.exception_guard(), transaction.atomic(savepoint=not context.propagate_exception):
        yield


class GateIfActivation(IfActivation):
    @Activation.status.super()
    def activate(self):
        with condition_guard(self):
            self._condition_result = self.flow_task._condition(self)


class GateSwitchActivation(SwitchActivation):
    @Activation.status.super()
    def activate(self):
        with condition_guard(self):
            for node, cond in self.flow_task._branches:
                if cond is None:
                    self.next_task = node  # the default, unless a case after it holds
                elif cond(self):
                    self.next_task = node
                    break
            if self.next_task is None:
                raise FlowRuntimeError(f"{self.flow_task.name}: no branch to take")


class If(flow.If):
    """Viewflow's If gate (see `condition_guard`)."""

    activation_class = GateIfActivation


class Switch(flow.Switch):
    """Viewflow's Switch gate: the first case whose condition holds, else the default (see `condition_guard`)."""

    activation_class = GateSwitchActivation
