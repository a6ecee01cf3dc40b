"""转办 (transfer), 委派 (delegate and return), 加签 (co-signature) and the cover of an absent person's task.

The domain halves: who may receive a task of a role on an application (the one rule, `receiver_refusal`), the
records, audit rows and notifications. The workflow app moves the viewflow task (`workflows.handover`) after calling
these, in the same transaction, so a refusal leaves the task, the records and the audit trail unchanged.
"""

from django.db import transaction
from django.db.models import Exists
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.errors import IllegalTransition, InvalidInput, NotAllowed
from certification.models import Application, CoSignature, Role, TaskHandover
from certification.scope import ROLE_OBJECT_PERMISSION, perm

from . import audit
from ._steps import _lock, _name, _require_status
from .approval import STEP_ROLE, Step, _check_approver
from .cover import current_absence
from .notify import notify
from .queries import approval_conflict

# The roles whose task is a decision on the application: whoever evaluated it may not take part (four eyes).
DECIDING_ROLES = set(STEP_ROLE.values())


def role_of_permission(full_name):
    """The role whose object permission a task names ("certification.act_as_district_leader"), or None."""
    codename = (full_name or "").rpartition(".")[2]
    return next((role for role, name in ROLE_OBJECT_PERMISSION.items() if name == codename), None)


def receiver_refusal(application, role, receiver, *, holder, check_absence=True):
    """Why `receiver` may not take over `holder`'s task of `role` on `application`, or None.

    The receiver must hold the same role over the application (same cluster, district or city: the guardian object
    permission the task itself requires), must not have evaluated it when the task decides it (four eyes), must be
    present, and must be someone else. Scoring tasks are personal: an evaluator recuses and the office names a
    replacement, whose conflicts of interest are checked there.
    """
    if receiver is None or not receiver.is_active:
        return _("Choose an active colleague.")
    if holder is not None and receiver.pk == holder.pk:
        return _("Choose someone other than the task's holder.")
    if role is None or Role(role) == Role.EVALUATOR:
        return _(
            "A scoring task is personal and cannot be passed on: recuse, and the office names a replacement "
            "(conflicts of interest are checked there)."
        )
    role = Role(role)
    if not receiver.has_perm(perm(ROLE_OBJECT_PERMISSION[role]), application):
        return _("%(name)s is not a %(role)s responsible for this application.") % {
            "name": receiver,
            "role": role.label,
        }
    if role in DECIDING_ROLES:
        conflict = approval_conflict(receiver, application)
        if conflict:
            return _("%(name)s evaluated this application, so they may not decide on it.") % {"name": receiver}
    absence = current_absence(receiver) if check_absence else None
    if absence is not None:
        return _("%(name)s is away until %(ends)s.") % {"name": receiver, "ends": absence.ends}
    return None


def _check(application, role, receiver, holder, reason, by):
    if by is None or holder is None or by.pk != holder.pk:
        raise NotAllowed(_("Only the person who holds the task may pass it on."))
    if not reason:
        raise InvalidInput(_("Give the reason."))
    refusal = receiver_refusal(application, role, receiver, holder=holder)
    if refusal:
        raise NotAllowed(refusal)


def transfer(application, *, task_id, task_title, role, holder, receiver, reason, by):
    """转办: the holder passes their task for good to a colleague with the same role over the application.

    Refused (nothing changed) unless `by` holds the task and the receiver passes `receiver_refusal`; a reason is
    required. Side effects: a TaskHandover, an audit row, notifications to the receiver and the holder.
    """
    reason = (reason or "").strip()
    with transaction.atomic():
        application = _lock(application)
        _check(application, role, receiver, holder, reason, by)
        if TaskHandover.objects.filter(task_id=task_id, kind=TaskHandover.Kind.DELEGATION, status="open").exists():
            raise IllegalTransition(_("This task is with a delegate; wait until it is returned."))
        handover = TaskHandover.objects.create(
            application=application,
            task_id=task_id,
            task_title=str(task_title)[:200],
            kind=TaskHandover.Kind.TRANSFER,
            from_user=holder,
            to_user=receiver,
            reason=reason,
        )
        _audit("task.transferred", handover, by=by)
        notify(
            [receiver, holder],
            _("Task transferred to %(receiver)s: %(task)s, %(name)s")
            % {"receiver": receiver, "task": task_title, "name": _name(application)},
            _("%(holder)s transferred the task: %(reason)s") % {"holder": holder, "reason": reason},
            application=application,
        )
    return handover


def delegate(application, *, task_id, task_title, role, holder, receiver, reason, by):
    """委派: the holder asks a colleague with the same role to act on the task and return it; the holder then
    completes it (the delegate's filled-in form comes back pre-filled).

    Refused as `transfer`, and while the task is already with a delegate. Side effects: an open TaskHandover, an
    audit row, a notification to the delegate.
    """
    reason = (reason or "").strip()
    with transaction.atomic():
        application = _lock(application)
        _check(application, role, receiver, holder, reason, by)
        if TaskHandover.objects.filter(task_id=task_id, kind=TaskHandover.Kind.DELEGATION, status="open").exists():
            raise IllegalTransition(_("This task is with a delegate; wait until it is returned."))
        handover = TaskHandover.objects.create(
            application=application,
            task_id=task_id,
            task_title=str(task_title)[:200],
            kind=TaskHandover.Kind.DELEGATION,
            status=TaskHandover.Status.OPEN,
            from_user=holder,
            to_user=receiver,
            reason=reason,
        )
        _audit("task.delegated", handover, by=by)
        notify(
            [receiver],
            _("Delegated to you by %(holder)s: %(task)s, %(name)s")
            % {"holder": holder, "task": task_title, "name": _name(application)},
            _("Fill in the task and return it; %(holder)s completes it. Reason: %(reason)s")
            % {"holder": holder, "reason": reason},
            application=application,
        )
    return handover


def delegated(task_id):
    """Whether the task (an id, or an OuterRef to one) was ever delegated: an EXISTS to annotate a task read with,
    so a task page reads `latest_delegation` only for the few tasks that have one."""
    return Exists(TaskHandover.objects.filter(task_id=task_id, kind=TaskHandover.Kind.DELEGATION))


def latest_delegation(task_id):
    """The task's latest delegation (open or returned), or None: what a task page needs, in one query."""
    return (
        TaskHandover.objects.filter(task_id=task_id, kind=TaskHandover.Kind.DELEGATION)
        .select_related("from_user", "to_user")
        .order_by("-pk")
        .first()
    )


def open_delegation(task_id):
    """The open delegation of the task, or None."""
    return TaskHandover.objects.filter(task_id=task_id, kind=TaskHandover.Kind.DELEGATION, status="open").first()


def return_delegation(handover, *, draft, note="", by):
    """The delegate returns the task with the form they filled in (`draft`: field → list of values) and a note.

    Side effects: the handover returned with the draft, an audit row, a notification to the holder.
    """
    with transaction.atomic():
        handover = TaskHandover.objects.select_for_update().select_related("from_user").get(pk=handover.pk)
        application = _lock(handover.application)
        if by is None or by.pk != handover.to_user_id:
            raise NotAllowed(_("Only the delegate returns a delegated task."))
        if handover.status != TaskHandover.Status.OPEN:
            raise IllegalTransition(_("This delegated task has already been returned."))
        handover.status = TaskHandover.Status.RETURNED
        handover.returned = timezone.now()
        handover.draft = {str(key): [str(v) for v in values] for key, values in (draft or {}).items()}
        handover.return_note = (note or "").strip()
        handover.save(update_fields=["status", "returned", "draft", "return_note"])
        _audit("task.delegation_returned", handover, by=by, reason=handover.return_note)
        notify(
            [handover.from_user],
            _("Returned to you by %(delegate)s: %(task)s, %(name)s")
            % {"delegate": by, "task": handover.task_title, "name": _name(application)},
            _("The form comes pre-filled with what they entered; check it and complete the task."),
            application=application,
        )
    return handover


def cover_task(application, *, task_id, task_title, role, absence, by=None):
    """Give a task of an absent person to their substitute: a new task when it is created (by=None), or an open one
    handed over by the absent person. The substitute must pass `receiver_refusal`.

    Side effects: a TaskHandover of kind cover, an audit row, a notification to the substitute.
    """
    substitute, absent = absence.substitute, absence.user
    with transaction.atomic():
        application = _lock(application)
        refusal = receiver_refusal(application, role, substitute, holder=absent)
        if refusal:
            raise NotAllowed(refusal)
        if TaskHandover.objects.filter(task_id=task_id, kind=TaskHandover.Kind.DELEGATION, status="open").exists():
            raise IllegalTransition(_("This task is with a delegate; wait until it is returned."))
        handover = TaskHandover.objects.create(
            application=application,
            task_id=task_id,
            task_title=str(task_title)[:200],
            kind=TaskHandover.Kind.COVER,
            from_user=absent,
            to_user=substitute,
            reason=absence.reason,
            absence=absence,
        )
        _audit("task.covered", handover, by=by)
        notify(
            [substitute],
            _("For %(absent)s, who is away: %(task)s, %(name)s")
            % {"absent": absent, "task": task_title, "name": _name(application)},
            _("You cover for %(absent)s until %(ends)s.") % {"absent": absent, "ends": absence.ends},
            application=application,
        )
    return handover


def _audit(action, handover, *, by, reason=None):
    audit.record(
        action,
        actor=by,
        application=handover.application,
        obj=handover,
        from_state=handover.kind,
        to_state=handover.status,
        reason=handover.reason if reason is None else reason,
        payload={"task": handover.task_id, "from": handover.from_user_id, "to": handover.to_user_id},
    )


# ------------------------------------------------------------------------------------------------ 加签 co-signature


def cosign_url():
    try:
        return reverse("work:cosignatures")
    except NoReverseMatch:
        return ""


def add_cosigner(application, step, signer, reason, *, by):
    """加签: the approver at `step` asks a colleague with the same role to co-sign before they decide. The decision
    (approve) then waits until every co-signer has agreed (`approval.approve` checks it).

    Refused (nothing changed) unless `by` may decide at the step, the signer passes `receiver_refusal` and a reason
    is given. Side effects: a CoSignature, an audit row, a notification to the co-signer.
    """
    step = Step(step)
    reason = (reason or "").strip()
    with transaction.atomic():
        application = _lock(application)
        _require_status(application, Application.Status.APPROVAL)
        _check_approver(application, step, by)
        if not reason:
            raise InvalidInput(_("Give the reason."))
        refusal = receiver_refusal(application, STEP_ROLE[step], signer, holder=by)
        if refusal:
            raise NotAllowed(refusal)
        earlier = CoSignature.objects.filter(application=application, step=step, signer=signer, closed__isnull=True)
        if earlier.exclude(status=CoSignature.Status.DECLINED).exists():
            raise IllegalTransition(_("%(name)s has already been asked to co-sign.") % {"name": signer})
        # Asking again after a refusal: the refusal stays on record, closed; the new request is what counts.
        earlier.update(closed=timezone.now())
        cosignature = CoSignature.objects.create(
            application=application, step=step, requested_by=by, signer=signer, reason=reason
        )
        audit.record(
            "cosigner.added",
            actor=by,
            application=application,
            obj=cosignature,
            from_state=f"approval:{step}",
            to_state=CoSignature.Status.PENDING,
            reason=reason,
            payload={"signer": signer.pk, "step": step},
        )
        notify(
            [signer],
            _("Please co-sign: %(name)s") % {"name": _name(application)},
            _("%(approver)s asks you to co-sign (%(step)s): %(reason)s")
            % {"approver": by, "step": step.label, "reason": reason},
            application=application,
            url=cosign_url(),
        )
    return cosignature


def sign(cosignature, *, agree, comment="", by):
    """The co-signer agrees, or declines with a reason; the approver is told. A declined co-signature keeps the
    approval from going through: the approver sends the application back or decides after asking again.

    Side effects: the CoSignature signed, an audit row, a notification to the approver.
    """
    comment = (comment or "").strip()
    with transaction.atomic():
        cosignature = CoSignature.objects.select_for_update().select_related("requested_by").get(pk=cosignature.pk)
        application = _lock(cosignature.application)
        if by is None or by.pk != cosignature.signer_id:
            raise NotAllowed(_("Only the co-signer may sign."))
        if cosignature.status != CoSignature.Status.PENDING or cosignature.closed is not None:
            raise IllegalTransition(_("This co-signature has already been given or closed."))
        _require_status(application, Application.Status.APPROVAL)
        # Still holding the role over the application, and not on its panel since (four eyes).
        refusal = receiver_refusal(application, STEP_ROLE[Step(cosignature.step)], by, holder=None, check_absence=False)
        if refusal:
            raise NotAllowed(refusal)
        if not agree and not comment:
            raise InvalidInput(_("Say why you decline to co-sign."))
        cosignature.status = CoSignature.Status.AGREED if agree else CoSignature.Status.DECLINED
        cosignature.comment = comment
        cosignature.signed = timezone.now()
        cosignature.save(update_fields=["status", "comment", "signed"])
        audit.record(
            "cosignature.signed",
            actor=by,
            application=application,
            obj=cosignature,
            from_state=CoSignature.Status.PENDING,
            to_state=cosignature.status,
            reason=comment,
            payload={"step": cosignature.step},
        )
        notify(
            [cosignature.requested_by],
            _("%(signer)s has co-signed: %(name)s") % {"signer": by, "name": _name(application)}
            if agree
            else _("%(signer)s declined to co-sign: %(name)s") % {"signer": by, "name": _name(application)},
            comment,
            application=application,
        )
    return cosignature
