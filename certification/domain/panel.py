"""The evaluators: conflicts of interest, assignment, recusal, removal, replacement, and the panel's result."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.errors import IllegalTransition, InvalidInput, NotAllowed
from certification.models import (
    Application,
    EvaluatorAssignment,
    Role,
    RoleGrant,
    User,
)
from certification.models.tier import decided_by_city
from certification.scope import deciding_office

from . import audit, roles
from ._steps import _lock, _move, _name, _office_codename, _require_permission, _require_status, _tell
from .aggregation import aggregate, has_unreconciled
from .queries import panel_lead_of

MIN_EVALUATORS = 3


def conflict_of_interest(application, evaluator):
    """Why `evaluator` may not evaluate `application`, or None (`conflict_with` its cluster and target tier)."""
    return conflict_with(application.cluster, application.target_tier, evaluator)


def conflict_with(cluster, tier, evaluator):
    """Why `evaluator` may not evaluate `cluster` for `tier` (an application's target tier, or the tier a yearly
    review examines), or None.

    Tied to the cluster: works at one of its member schools, or at its district's education office. For
    市级示范性, which the city decides, working at the city's education office is a tie too; for the district
    tiers the city office is not a party and its staff may evaluate.
    """
    if evaluator.employer_school_id and cluster.memberships.filter(school_id=evaluator.employer_school_id).exists():
        return _("%(name)s works at %(school)s, a member school of %(cluster)s.") % {
            "name": evaluator,
            "school": evaluator.employer_school,
            "cluster": cluster.name,
        }
    if evaluator.employer_office_id and evaluator.employer_office_id == cluster.district_id:
        return _("%(name)s works at the education office of %(district)s, the cluster's district.") % {
            "name": evaluator,
            "district": cluster.district,
        }
    if (
        decided_by_city(tier)
        and evaluator.employer_office_id
        and evaluator.employer_office_id == cluster.district.parent_id
    ):
        return _("%(name)s works at the education office of %(city)s, which decides city-model applications.") % {
            "name": evaluator,
            "city": cluster.district.parent,
        }
    return None


def eligible_evaluators(application):
    """Active evaluators (role granted) with the conflict of each: a list of (user, reason or None)."""
    return evaluators_for(application.cluster, application.target_tier)


def evaluators_for(cluster, tier):
    """Active evaluators (role granted) with the conflict of each with `cluster` for `tier` (`conflict_with`)."""
    evaluators = (
        User.objects.filter(is_active=True, role_grants__in=RoleGrant.objects.active().filter(role=Role.EVALUATOR))
        .distinct()
        .select_related("employer_school", "employer_office")
        .order_by("pk")
    )
    return [(user, conflict_with(cluster, tier, user)) for user in evaluators]


def _check_evaluator(application, evaluator):
    return evaluator_refusal(application.cluster, application.target_tier, evaluator)


def evaluator_refusal(cluster, tier, evaluator):
    """Why `evaluator` cannot be assigned to evaluate `cluster` for `tier` (no evaluator role, or a conflict), or
    None. The one rule for application panels and yearly review panels."""
    if not roles.holds_role(evaluator, Role.EVALUATOR):
        return _("%(name)s does not hold the evaluator role.") % {"name": evaluator}
    return conflict_with(cluster, tier, evaluator)


def assign_evaluators(application, evaluators, panel_lead, *, by):
    """The office (district; city for 市级示范性) names the panel: at least three evaluators, one panel lead.

    Every evaluator tied to the cluster is refused with the reason. Side effects: EvaluatorAssignment rows,
    the evaluators' object permissions, status → scoring, audit rows, notifications to the panel.
    """
    evaluators = list({user.pk: user for user in evaluators}.values())
    with transaction.atomic():
        application = _lock(application)
        _require_permission(
            by, _office_codename(application), application, _("Only the responsible office may assign evaluators.")
        )
        _require_status(application, Application.Status.ASSIGNMENT)
        if len(evaluators) < MIN_EVALUATORS:
            raise InvalidInput(_("Assign at least %(count)s evaluators.") % {"count": MIN_EVALUATORS})
        if panel_lead is None or panel_lead.pk not in {user.pk for user in evaluators}:
            raise InvalidInput(_("Choose the panel lead among the assigned evaluators."))
        refusals = [reason for reason in (_check_evaluator(application, user) for user in evaluators) if reason]
        if refusals:
            raise InvalidInput(_("These evaluators cannot be assigned: %(reasons)s") % {"reasons": " ".join(refusals)})
        assignments = [
            EvaluatorAssignment.objects.create(
                application=application, evaluator=user, is_panel_lead=user.pk == panel_lead.pk, assigned_by=by
            )
            for user in evaluators
        ]
        for assignment in assignments:
            audit.record(
                "evaluator.assigned",
                actor=by,
                application=application,
                obj=assignment,
                to_state=assignment.status,
                payload={"evaluator": assignment.evaluator_id, "panel_lead": assignment.is_panel_lead},
            )
        roles.sync_object_permissions(applications=[application], users=evaluators)
        _move(
            application,
            Application.Status.SCORING,
            by=by,
            action="evaluators.assigned",
            payload={"evaluators": [user.pk for user in evaluators], "panel_lead": panel_lead.pk},
        )
        _tell(
            evaluators,
            _("Please score: %(name)s") % {"name": _name(application)},
            _("You have been assigned as an evaluator. Your scoring task is in your inbox."),
            application=application,
        )
    return assignments


def recuse(assignment, reason, *, by):
    """An evaluator steps down from a panel, with a reason; the office then assigns a replacement.

    Side effects: the assignment recused (its draft sheet no longer counts), the evaluator's object
    permissions revoked, audit row, a notification to the office.
    """
    reason = (reason or "").strip()
    with transaction.atomic():
        application = _lock(assignment.application)
        assignment = EvaluatorAssignment.objects.select_for_update().get(pk=assignment.pk)
        if by is None or by.pk != assignment.evaluator_id:
            raise NotAllowed(_("Only the evaluator may recuse themselves."))
        _require_status(application, Application.Status.SCORING)
        if assignment.status != EvaluatorAssignment.Status.ACTIVE:
            raise IllegalTransition(_("You have already recused yourself from this application."))
        sheet = getattr(assignment, "sheet", None)
        if sheet is not None and sheet.status == sheet.Status.SUBMITTED:
            raise IllegalTransition(_("Your score sheet has been submitted; you can no longer recuse yourself."))
        if not reason:
            raise InvalidInput(_("Give the reason for your recusal."))
        _end_assignment(application, assignment, reason, action="evaluator.recused", by=by)
        _tell(
            deciding_office(application),
            _("Evaluator recused: %(name)s") % {"name": _name(application)},
            _("%(evaluator)s recused: %(reason)s. Assign a replacement.") % {"evaluator": by, "reason": reason},
            application=application,
        )
    return assignment


def _end_assignment(application, assignment, reason, *, action, by):
    """Take an evaluator off the panel (recusal or removal): the row, the audit entry, their object permissions."""
    assignment.status = EvaluatorAssignment.Status.RECUSED
    assignment.recusal_reason = reason
    assignment.ended = timezone.now()
    assignment.save(update_fields=["status", "recusal_reason", "ended"])
    audit.record(
        action,
        actor=by,
        application=application,
        obj=assignment,
        from_state=EvaluatorAssignment.Status.ACTIVE,
        to_state=EvaluatorAssignment.Status.RECUSED,
        reason=reason,
    )
    roles.sync_object_permissions(applications=[application], users=[assignment.evaluator])


def remove_from_panel(assignment, reason, *, by):
    """The responsible office takes an evaluator off the panel (e.g. no longer available, or their evaluator role
    was revoked and their task cannot be finished). Same effect as a recusal; a replacement is assigned next.

    Side effects: the assignment recused with the reason, the evaluator's object permissions revoked, audit row,
    a notification to the evaluator.
    """
    reason = (reason or "").strip()
    with transaction.atomic():
        application = _lock(assignment.application)
        assignment = EvaluatorAssignment.objects.select_for_update().select_related("evaluator").get(pk=assignment.pk)
        _require_permission(
            by, _office_codename(application), application, _("Only the responsible office may change the panel.")
        )
        _require_status(application, Application.Status.SCORING)
        if assignment.status != EvaluatorAssignment.Status.ACTIVE:
            raise IllegalTransition(_("This evaluator is no longer on the panel."))
        sheet = getattr(assignment, "sheet", None)
        if sheet is not None and sheet.status == sheet.Status.SUBMITTED:
            raise IllegalTransition(_("This evaluator has submitted their score sheet and stays on the panel."))
        if not reason:
            raise InvalidInput(_("Give the reason for taking the evaluator off the panel."))
        _end_assignment(application, assignment, reason, action="evaluator.removed", by=by)
        _tell(
            [assignment.evaluator],
            _("Taken off the panel: %(name)s") % {"name": _name(application)},
            reason,
            application=application,
        )
    return assignment


def assign_replacement(recused, evaluator, *, by):
    """The office replaces a recused evaluator; the replacement takes over the panel-lead role if it was theirs.

    Side effects: a new assignment, its object permissions, audit row, a notification to the replacement.
    """
    with transaction.atomic():
        application = _lock(recused.application)
        recused = EvaluatorAssignment.objects.select_for_update().get(pk=recused.pk)
        _require_permission(
            by, _office_codename(application), application, _("Only the responsible office may assign evaluators.")
        )
        _require_status(application, Application.Status.SCORING)
        if recused.status != EvaluatorAssignment.Status.RECUSED:
            raise IllegalTransition(_("Only a recused evaluator is replaced."))
        if EvaluatorAssignment.objects.filter(application=application, evaluator=evaluator).exists():
            raise InvalidInput(
                _("%(name)s is or was already on this panel; choose someone else.") % {"name": evaluator}
            )
        refusal = _check_evaluator(application, evaluator)
        if refusal:
            raise InvalidInput(refusal)
        replacement = EvaluatorAssignment.objects.create(
            application=application, evaluator=evaluator, is_panel_lead=recused.is_panel_lead, assigned_by=by
        )
        audit.record(
            "evaluator.replaced",
            actor=by,
            application=application,
            obj=replacement,
            from_state=f"assignment:{recused.pk}",
            to_state=f"assignment:{replacement.pk}",
            reason=recused.recusal_reason,
            payload={"recused": recused.evaluator_id, "evaluator": evaluator.pk},
        )
        roles.sync_object_permissions(applications=[application], users=[evaluator])
        _tell(
            [evaluator],
            _("Please score: %(name)s") % {"name": _name(application)},
            _("You replace a recused evaluator. Your scoring task is in your inbox."),
            application=application,
        )
    return replacement


def finish_scoring(application):
    """Every active evaluator has submitted: combine the sheets (certification.domain.aggregation.aggregate).

    A disagreement still to reconcile moves the application to reconciliation. Side effects: the results and
    totals (by aggregate), status, audit row, a notification to the panel lead.
    """
    with transaction.atomic():
        aggregate(application)
        application = _lock(application)
        if has_unreconciled(application):
            _move(application, Application.Status.RECONCILIATION, by=None, action="scoring.disagreement")
            _tell(
                [panel_lead_of(application)],
                _("Disagreement to reconcile: %(name)s") % {"name": _name(application)},
                _("The evaluators' scores differ beyond the tolerance on some indicators."),
                application=application,
            )
    return application


def confirm_result(application, *, by, comment=""):
    """The panel lead confirms the panel's result after reconciling every disagreement.

    Side effects: audit row (status stays; the pass/fail gate follows).
    """
    with transaction.atomic():
        application = _lock(application)
        if not application.assignments.filter(
            evaluator=by, is_panel_lead=True, status=EvaluatorAssignment.Status.ACTIVE
        ).exists():
            raise NotAllowed(_("Only the panel lead may confirm the panel's result."))
        _require_status(application, Application.Status.RECONCILIATION)
        if has_unreconciled(application):
            raise IllegalTransition(_("Reconcile every disagreement before confirming the result."))
        audit.record(
            "result.confirmed",
            actor=by,
            application=application,
            obj=application,
            from_state=application.status,
            to_state="confirmed",
            reason=comment,
            payload={"total": application.total_score, "passed": application.passed},
        )
    return application
