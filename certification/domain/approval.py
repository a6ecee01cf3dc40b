"""The leaders' approval chain: who decides next, by tier (the one routing the flow's switches use too), and the decisions."""

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certification.errors import IllegalTransition, InvalidInput, NotAllowed
from certification.models import (
    Application,
    CoSignature,
    Role,
)
from certification.models.tier import decided_by_city
from certification.scope import ROLE_OBJECT_PERMISSION, holders

from . import audit
from ._steps import _lock, _move, _name, _require_permission, _require_status, _tell
from .publicity import _start_publicity
from .queries import approval_conflict, panel_lead_of


class Step(models.TextChoices):
    """The approval chain's steps. 紧密型 and 区级示范性 have only DISTRICT (the district leader approves)."""

    DISTRICT = "district", gettext_lazy("district leader")
    CITY_REVIEW = "city_review", gettext_lazy("city office review")
    CITY = "city", gettext_lazy("city leader")


STEP_ROLE = {Step.DISTRICT: Role.DISTRICT_LEADER, Step.CITY_REVIEW: Role.CITY_OFFICE, Step.CITY: Role.CITY_LEADER}


def next_step(application, step):
    """The step that decides after `step` approves, or None when `step` is the last (公示 follows).

    The one routing of the chain, by tier: the district leader decides 紧密型 and 区级示范性 alone; for 市级示范性
    the district leader recommends, the city office reviews, the city leader approves. The flow's switches ask it.
    """
    if step == Step.DISTRICT:
        return Step.CITY_REVIEW if decided_by_city(application.target_tier) else None
    if step == Step.CITY_REVIEW:
        return Step.CITY
    return None


def previous_step(step):
    """The step a send-back returns to, or None when it returns to the panel (from the district leader)."""
    return {Step.DISTRICT: None, Step.CITY_REVIEW: Step.DISTRICT, Step.CITY: Step.CITY_REVIEW}[step]


def start_approval(application):
    """A passed result goes to the leaders' approval queue. Side effects: status, audit row, notification."""
    with transaction.atomic():
        application = _lock(application)
        _require_status(application, Application.Status.SCORING, Application.Status.RECONCILIATION)
        if application.passed is not True:
            raise IllegalTransition(_("Only a passed result goes to approval."))
        _move(application, Application.Status.APPROVAL, by=None, action="approval.started")
        _tell(
            holders(Role.DISTRICT_LEADER, application),
            _("Awaiting your decision: %(name)s") % {"name": _name(application)},
            _("Total %(total)s; all veto indicators met.") % {"total": application.total_score},
            application=application,
        )
    return application


def _check_approver(application, step, by):
    role = STEP_ROLE[step]
    if step != Step.DISTRICT and not decided_by_city(application.target_tier):
        raise IllegalTransition(_("This application is decided by the district; the city takes no part."))
    _require_permission(
        by,
        ROLE_OBJECT_PERMISSION[role],
        application,
        _("Only the %(role)s responsible for this application may decide at this step.") % {"role": role.label},
    )
    conflict = approval_conflict(by, application)
    if conflict:
        raise NotAllowed(conflict)


def _require_cosignatures(application, step):
    """加签: the step's decision waits for every co-signer asked (certification.domain.handover.add_cosigner); a
    declined co-signature keeps it from going through. Closes them when it goes through."""
    open_rows = list(
        CoSignature.objects.filter(application=application, step=step, closed__isnull=True).select_related("signer")
    )
    waiting = [row.signer for row in open_rows if row.status == CoSignature.Status.PENDING]
    if waiting:
        raise IllegalTransition(
            _("Waiting for the co-signature of %(names)s.") % {"names": "、".join(str(user) for user in waiting)}
        )
    declined = [row.signer for row in open_rows if row.status == CoSignature.Status.DECLINED]
    if declined:
        raise IllegalTransition(
            _("%(names)s declined to co-sign; send the application back or ask again.")
            % {"names": "、".join(str(user) for user in declined)}
        )
    _close_cosignatures(application, step)


def _close_cosignatures(application, step):
    CoSignature.objects.filter(application=application, step=step, closed__isnull=True).update(closed=timezone.now())


def approve(application, step, *, by, comment=""):
    """An approver agrees at their step: the district leader approves (紧密型, 区级示范性) or recommends (市级示范性),
    the city office reviews, the city leader approves. Whoever evaluated the application may not.

    After the final approval the application goes into 公示. Side effects: audit row; on the final step the
    status → publicity and notifications to everyone involved; otherwise a notification to the next approver.
    """
    with transaction.atomic():
        application = _lock(application)
        _require_status(application, Application.Status.APPROVAL)
        _check_approver(application, step, by)
        _require_cosignatures(application, step)
        following = next_step(application, step)
        audit.record(
            "approval.approved",
            actor=by,
            application=application,
            obj=application,
            from_state=f"approval:{step}",
            to_state=f"approval:{following}" if following else Application.Status.PUBLICITY,
            reason=comment,
        )
        if following is None:
            _start_publicity(application, by=by)
        else:
            people = holders(STEP_ROLE[following], application)
            _tell(
                people,
                _("Awaiting your decision: %(name)s") % {"name": _name(application)},
                comment,
                application=application,
            )
    return application


def send_back(application, step, reason, *, by):
    """An approver sends the application back ONE step, with a reason: the city leader to the city office,
    the city office to the district leader, the district leader to the panel lead for re-examination.

    Side effects: audit row; back to the panel the status → reconciliation; a notification to those sent to.
    """
    reason = (reason or "").strip()
    with transaction.atomic():
        application = _lock(application)
        _require_status(application, Application.Status.APPROVAL)
        _check_approver(application, step, by)
        if not reason:
            raise InvalidInput(_("Say why you send the application back."))
        _close_cosignatures(application, step)
        if previous_step(step) is None:
            _move(
                application,
                Application.Status.RECONCILIATION,
                by=by,
                action="approval.sent_back",
                reason=reason,
                payload={"step": step, "to": "panel"},
            )
            people = [panel_lead_of(application)]
        else:
            previous = previous_step(step)
            audit.record(
                "approval.sent_back",
                actor=by,
                application=application,
                obj=application,
                from_state=f"approval:{step}",
                to_state=f"approval:{previous}",
                reason=reason,
            )
            people = holders(STEP_ROLE[previous], application)
        _tell(
            people,
            _("Sent back to you: %(name)s") % {"name": _name(application)},
            reason,
            application=application,
        )
    return application
