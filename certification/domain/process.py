"""The steps of the certification process (DOMAIN.md "The certification process"), one function per transition.

The viewflow flow (`workflows.flows.CertificationFlow`) decides which step comes next; these functions decide
whether a step may happen and what it changes. Each runs in one transaction with the application row locked,
checks the state and the actor's object permission (see `certification.domain.roles`), raises a DomainError
with a message in the user's language when the step is refused, saves with ``update_fields``, writes an audit
row with the from and to states, and queues notifications (sent after commit).
"""

import hashlib
import json

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.models import (
    Application,
    ApplicationStage,
    Certificate,
    Cluster,
    CorrectionRequest,
    EvaluatorAssignment,
    EvidenceStage,
    Indicator,
    Objection,
    Role,
    RoleGrant,
    TierChange,
    User,
)
from certification.models.tier import Tier, decided_by_city

from . import audit, roles
from .application import open_application
from .errors import IllegalTransition, InvalidInput, NotAllowed
from .notify import (
    city_leaders_of,
    city_office_of,
    district_leaders_of,
    district_office_of,
    leads_of,
    notify,
    panel_of,
)

MIN_EVALUATORS = 3


class Step:
    """The approval chain's steps. 紧密型 and 区级示范性 have only DISTRICT (the district leader approves)."""

    DISTRICT = "district"
    CITY_REVIEW = "city_review"
    CITY = "city"


STEP_ROLE = {Step.DISTRICT: Role.DISTRICT_LEADER, Step.CITY_REVIEW: Role.CITY_OFFICE, Step.CITY: Role.CITY_LEADER}

# Certificate serial numbers: XQRZ-<year>-<tier>-<number>.
SERIAL_TIER = {Tier.CLOSE_KNIT: "紧密", Tier.DISTRICT_MODEL: "区示范", Tier.CITY_MODEL: "市示范"}


# ---------------------------------------------------------------------------------------------- helpers


def _lock(application):
    # Lock the application row only: the district's city is a nullable (outer) join PostgreSQL cannot lock.
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("cluster__district__parent", "standard")
        .get(pk=application.pk)
    )


def _require_status(application, *statuses):
    if application.status not in statuses:
        raise IllegalTransition(
            _("This step cannot be taken now: the application is “%(status)s”.")
            % {"status": application.get_status_display()}
        )


def _require_permission(user, codename, application, message):
    if user is None or not user.is_authenticated or not user.has_perm(roles.perm(codename), application):
        raise NotAllowed(message)


def _move(application, to_status, *, by, action, reason="", payload=None):
    """Change the application's status and write the audit row of the transition."""
    from_status = application.status
    application.status = to_status
    application.status_changed = timezone.now()
    fields = ["status", "status_changed"]
    if to_status in Application.CLOSED:
        application.closed = application.status_changed
        fields.append("closed")
    application.save(update_fields=fields)
    audit.record(
        action,
        actor=by,
        application=application,
        obj=application,
        from_state=from_status,
        to_state=to_status,
        reason=reason,
        payload=payload,
    )


def _office_codename(application):
    """The office that runs evaluation and objections: the city's for 市级示范性, else the district's."""
    return "act_as_city_office" if decided_by_city(application.target_tier) else "act_as_district_office"


def deciding_office(application):
    """The people of the office that assigns evaluators and resolves objections for this application."""
    district = application.cluster.district
    if decided_by_city(application.target_tier):
        return city_office_of(district.parent)
    return district_office_of(district)


def _everyone(application):
    district = application.cluster.district
    people = leads_of(application.cluster) + district_office_of(district) + panel_of(application)
    people += district_leaders_of(district)
    if decided_by_city(application.target_tier):
        people += city_office_of(district.parent) + city_leaders_of(district.parent)
    return people


def _link(application):
    """The application's dossier page for a notification's link ("" when the work pages are not mounted)."""
    try:
        return reverse("work:application_detail", args=[application.pk])
    except NoReverseMatch:
        return ""


def _tell(people, subject, body, *, application):
    """Queue a notification about `application` to `people`, linking to its dossier."""
    return notify(people, subject, body, application=application, url=_link(application))


def _name(application):
    return f"{application.cluster.name}（{application.get_target_tier_display()}）"


def has_evaluated(user, application):
    """Whether `user` is or was on the application's panel (active or recused): such a person may not approve it."""
    return EvaluatorAssignment.objects.filter(application=application, evaluator=user).exists()


def approval_conflict(user, application):
    """Why `user` may not decide on `application` at an approval step, or None (the flow keeps them off the task)."""
    if has_evaluated(user, application):
        return _("You evaluated this application, so you may not approve it.")
    return None


# ---------------------------------------------------------------------------------------------- opening


def start_application(cluster, target_tier, *, by):
    """The lead opens an application of their cluster; eligibility is checked by `open_application`.

    Side effects: the application (pinned to the standard in force) and its three evidence stages, object
    permissions for everyone in scope, audit rows, a notification to the district office.
    """
    if not roles.holds_role(by, Role.LEAD, cluster=cluster):
        raise NotAllowed(_("Only a lead of %(cluster)s may open an application for it.") % {"cluster": cluster.name})
    with transaction.atomic():
        application = open_application(Cluster.objects.get(pk=cluster.pk), target_tier, by=by)
        ApplicationStage.objects.bulk_create(
            ApplicationStage(application=application, stage=stage) for stage in EvidenceStage.values
        )
        roles.sync_object_permissions(applications=[application])
        _tell(
            district_office_of(application.cluster.district),
            _("New application: %(name)s") % {"name": _name(application)},
            _("The lead has opened an application and is collecting evidence."),
            application=application,
        )
    return application


# ---------------------------------------------------------------------------------------------- evidence


def submit_stage(application, stage, *, by):
    """The lead submits one evidence stage; its evidence is frozen from then on.

    Refused while a required item of the stage is missing (the message names each one). When the third stage
    is submitted the application moves to formal review. Side effects: the stage's status, audit rows,
    a notification to the district office once all stages are in.
    """
    from .evidence import missing_requirements

    with transaction.atomic():
        application = _lock(application)
        _require_permission(by, "act_as_lead", application, _("Only the cluster's lead may submit evidence."))
        _require_status(application, Application.Status.EVIDENCE)
        row = ApplicationStage.objects.select_for_update().get(application=application, stage=stage)
        if row.status != ApplicationStage.Status.OPEN:
            raise IllegalTransition(
                _("The stage “%(stage)s” has already been submitted.") % {"stage": row.get_stage_display()}
            )
        missing = missing_requirements(application, stage)
        if missing:
            raise IllegalTransition(
                _("The stage “%(stage)s” cannot be submitted yet; upload these required items first: %(items)s")
                % {
                    "stage": row.get_stage_display(),
                    "items": "；".join(f"{item.code} {item.title}" for item in missing),
                }
            )
        row.status = ApplicationStage.Status.SUBMITTED
        row.submitted = timezone.now()
        row.submitted_by = by
        row.save(update_fields=["status", "submitted", "submitted_by"])
        audit.record(
            "stage.submitted",
            actor=by,
            application=application,
            obj=row,
            from_state=ApplicationStage.Status.OPEN,
            to_state=ApplicationStage.Status.SUBMITTED,
            payload={"stage": stage},
        )
        still_open = ApplicationStage.objects.filter(
            application=application, status=ApplicationStage.Status.OPEN
        ).exists()
        if not still_open:
            _move(application, Application.Status.FORMAL_REVIEW, by=by, action="application.evidence_complete")
            _tell(
                district_office_of(application.cluster.district),
                _("Formal review due: %(name)s") % {"name": _name(application)},
                _("All three evidence stages have been submitted."),
                application=application,
            )
    return row


# ---------------------------------------------------------------------------------------------- formal review


def pass_formal_review(application, *, by, comment=""):
    """The district office finds the dossier complete. Next: evaluator assignment.

    Side effects: status, audit row, a notification to the lead and to the office that assigns evaluators.
    """
    with transaction.atomic():
        application = _lock(application)
        _require_permission(
            by, "act_as_district_office", application, _("Only the district office may carry out the formal review.")
        )
        _require_status(application, Application.Status.FORMAL_REVIEW)
        _move(application, Application.Status.ASSIGNMENT, by=by, action="formal_review.passed", reason=comment)
        _tell(
            leads_of(application.cluster) + deciding_office(application),
            _("Formal review passed: %(name)s") % {"name": _name(application)},
            _("The dossier is complete; evaluators will be assigned next."),
            application=application,
        )
    return application


def request_correction(application, indicators, comment, deadline, *, by):
    """The district office returns named indicators for 补正 with a comment and a deadline.

    Only those indicators' evidence opens for uploads again (see certification.domain.evidence).
    Side effects: a CorrectionRequest, status, audit row, a notification to the lead.
    """
    comment = (comment or "").strip()
    with transaction.atomic():
        application = _lock(application)
        _require_permission(
            by, "act_as_district_office", application, _("Only the district office may return material for correction.")
        )
        _require_status(application, Application.Status.FORMAL_REVIEW)
        chosen = list(
            Indicator.objects.filter(dimension__standard=application.standard, pk__in=[i.pk for i in indicators])
        )
        if not chosen or len(chosen) != len({i.pk for i in indicators}):
            raise InvalidInput(_("Choose at least one indicator of this application's standard to return."))
        if not comment:
            raise InvalidInput(_("Say what must be corrected."))
        if deadline is None or deadline <= timezone.localdate():
            raise InvalidInput(_("The correction deadline must be a date after today."))
        correction = CorrectionRequest.objects.create(
            application=application, comment=comment, deadline=deadline, created_by=by
        )
        correction.indicators.set(chosen)
        _move(
            application,
            Application.Status.CORRECTION,
            by=by,
            action="formal_review.correction_requested",
            reason=comment,
            payload={
                "indicators": [i.code for i in chosen],
                "deadline": deadline.isoformat(),
                "correction": correction.pk,
            },
        )
        _tell(
            leads_of(application.cluster),
            _("Correction requested: %(name)s") % {"name": _name(application)},
            _("Indicators returned: %(codes)s. Deadline: %(deadline)s. %(comment)s")
            % {"codes": "、".join(i.code for i in chosen), "deadline": deadline.isoformat(), "comment": comment},
            application=application,
        )
    return correction


def open_correction(application):
    """The application's unresolved correction request, or None."""
    return application.corrections.filter(resolved__isnull=True).prefetch_related("indicators").first()


def submit_correction(correction, response, *, by):
    """The lead answers a correction request; the application goes back to formal review.

    Side effects: the request resolved, status, audit row, a notification to the district office.
    """
    with transaction.atomic():
        application = _lock(correction.application)
        correction = CorrectionRequest.objects.select_for_update().get(pk=correction.pk)
        _require_permission(by, "act_as_lead", application, _("Only the cluster's lead may answer a correction."))
        _require_status(application, Application.Status.CORRECTION)
        if correction.resolved is not None:
            raise IllegalTransition(_("This correction has already been answered."))
        correction.resolved = timezone.now()
        correction.resolved_by = by
        correction.response = (response or "").strip()
        correction.save(update_fields=["resolved", "resolved_by", "response"])
        _move(
            application,
            Application.Status.FORMAL_REVIEW,
            by=by,
            action="correction.submitted",
            reason=correction.response,
            payload={"correction": correction.pk},
        )
        _tell(
            district_office_of(application.cluster.district),
            _("Correction submitted: %(name)s") % {"name": _name(application)},
            correction.response,
            application=application,
        )
    return correction


# ---------------------------------------------------------------------------------------------- evaluators


def conflict_of_interest(application, evaluator):
    """Why `evaluator` may not evaluate `application`, or None.

    Tied to the cluster: works at one of its member schools, or at its district's education office. For
    市级示范性, which the city decides, working at the city's education office is a tie too; for the district
    tiers the city office is not a party and its staff may evaluate.
    """
    cluster = application.cluster
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
        decided_by_city(application.target_tier)
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
    evaluators = (
        User.objects.filter(is_active=True, role_grants__in=RoleGrant.objects.active().filter(role=Role.EVALUATOR))
        .distinct()
        .select_related("employer_school", "employer_office")
        .order_by("pk")
    )
    return [(user, conflict_of_interest(application, user)) for user in evaluators]


def _check_evaluator(application, evaluator):
    if not roles.holds_role(evaluator, Role.EVALUATOR):
        return _("%(name)s does not hold the evaluator role.") % {"name": evaluator}
    return conflict_of_interest(application, evaluator)


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


# ---------------------------------------------------------------------------------------------- result


def finish_scoring(application):
    """Every active evaluator has submitted: combine the sheets (certification.domain.scoring.aggregate).

    A disagreement still to reconcile moves the application to reconciliation. Side effects: the results and
    totals (by aggregate), status, audit row, a notification to the panel lead.
    """
    from .scoring import aggregate, has_unreconciled

    with transaction.atomic():
        aggregate(application)
        application = _lock(application)
        if has_unreconciled(application):
            _move(application, Application.Status.RECONCILIATION, by=None, action="scoring.disagreement")
            _tell(
                [a.evaluator for a in application.assignments.filter(status="active", is_panel_lead=True)],
                _("Disagreement to reconcile: %(name)s") % {"name": _name(application)},
                _("The evaluators' scores differ beyond the tolerance on some indicators."),
                application=application,
            )
    return application


def confirm_result(application, *, by, comment=""):
    """The panel lead confirms the panel's result after reconciling every disagreement.

    Side effects: audit row (status stays; the pass/fail gate follows).
    """
    from .scoring import has_unreconciled

    with transaction.atomic():
        application = _lock(application)
        if not application.assignments.filter(evaluator=by, is_panel_lead=True, status="active").exists():
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


def start_approval(application):
    """A passed result goes to the leaders' approval queue. Side effects: status, audit row, notification."""
    with transaction.atomic():
        application = _lock(application)
        _require_status(application, Application.Status.SCORING, Application.Status.RECONCILIATION)
        if application.passed is not True:
            raise IllegalTransition(_("Only a passed result goes to approval."))
        _move(application, Application.Status.APPROVAL, by=None, action="approval.started")
        _tell(
            district_leaders_of(application.cluster.district),
            _("Awaiting your decision: %(name)s") % {"name": _name(application)},
            _("Total %(total)s; all veto indicators met.") % {"total": application.total_score},
            application=application,
        )
    return application


# ---------------------------------------------------------------------------------------------- approval


def _check_approver(application, step, by):
    role = STEP_ROLE[step]
    if step != Step.DISTRICT and not decided_by_city(application.target_tier):
        raise IllegalTransition(_("This application is decided by the district; the city takes no part."))
    _require_permission(
        by,
        roles.ROLE_OBJECT_PERMISSION[role],
        application,
        _("Only the %(role)s responsible for this application may decide at this step.") % {"role": role.label},
    )
    conflict = approval_conflict(by, application)
    if conflict:
        raise NotAllowed(conflict)


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
        city = decided_by_city(application.target_tier)
        next_step = {Step.DISTRICT: Step.CITY_REVIEW if city else None, Step.CITY_REVIEW: Step.CITY, Step.CITY: None}[
            step
        ]
        audit.record(
            "approval.approved",
            actor=by,
            application=application,
            obj=application,
            from_state=f"approval:{step}",
            to_state=f"approval:{next_step}" if next_step else Application.Status.PUBLICITY,
            reason=comment,
        )
        if next_step is None:
            _start_publicity(application, by=by)
        else:
            district = application.cluster.district
            people = (
                city_office_of(district.parent) if next_step == Step.CITY_REVIEW else city_leaders_of(district.parent)
            )
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
        district = application.cluster.district
        if step == Step.DISTRICT:
            _move(
                application,
                Application.Status.RECONCILIATION,
                by=by,
                action="approval.sent_back",
                reason=reason,
                payload={"step": step, "to": "panel"},
            )
            people = [a.evaluator for a in application.assignments.filter(status="active", is_panel_lead=True)]
        else:
            previous = Step.DISTRICT if step == Step.CITY_REVIEW else Step.CITY_REVIEW
            audit.record(
                "approval.sent_back",
                actor=by,
                application=application,
                obj=application,
                from_state=f"approval:{step}",
                to_state=f"approval:{previous}",
                reason=reason,
            )
            people = district_leaders_of(district) if previous == Step.DISTRICT else city_office_of(district.parent)
        _tell(
            people,
            _("Sent back to you: %(name)s") % {"name": _name(application)},
            reason,
            application=application,
        )
    return application


# ---------------------------------------------------------------------------------------------- 公示


def _start_publicity(application, *, by):
    _move(
        application,
        Application.Status.PUBLICITY,
        by=by,
        action="publicity.started",
        payload={"days": application.standard.publicity_days},
    )
    _tell(
        _everyone(application),
        _("Publicity period: %(name)s") % {"name": _name(application)},
        _("The result is public for %(days)s days; objections may be raised meanwhile.")
        % {"days": application.standard.publicity_days},
        application=application,
    )


def raise_objection(application, text, *, by):
    """Someone who can see the application raises an objection (异议) during 公示; it holds the certificate.

    Side effects: an Objection, audit row, a notification to the responsible office.
    """
    text = (text or "").strip()
    with transaction.atomic():
        application = _lock(application)
        _require_permission(by, roles.VIEW_APPLICATION, application, _("You may not raise an objection here."))
        _require_status(application, Application.Status.PUBLICITY)
        if not text:
            raise InvalidInput(_("Write the objection."))
        objection = Objection.objects.create(application=application, raised_by=by, text=text)
        audit.record(
            "objection.raised",
            actor=by,
            application=application,
            obj=objection,
            to_state="open",
            reason=text,
        )
        _tell(
            deciding_office(application),
            _("Objection raised: %(name)s") % {"name": _name(application)},
            text,
            application=application,
        )
    return objection


def resolve_objection(objection, outcome, resolution, *, by):
    """The responsible office resolves one objection: upheld (the application will fail) or dismissed.

    Side effects: the objection's outcome, audit row, a notification to the person who raised it and the lead.
    """
    resolution = (resolution or "").strip()
    with transaction.atomic():
        application = _lock(objection.application)
        objection = Objection.objects.select_for_update().get(pk=objection.pk)
        _require_permission(
            by, _office_codename(application), application, _("Only the responsible office may resolve objections.")
        )
        _require_status(application, Application.Status.PUBLICITY)
        if objection.resolved is not None:
            raise IllegalTransition(_("This objection has already been resolved."))
        if outcome not in Objection.Outcome.values:
            raise InvalidInput(_("Choose whether the objection is upheld or dismissed."))
        if not resolution:
            raise InvalidInput(_("Explain the resolution."))
        objection.outcome = outcome
        objection.resolution = resolution
        objection.resolved = timezone.now()
        objection.resolved_by = by
        objection.save(update_fields=["outcome", "resolution", "resolved", "resolved_by"])
        audit.record(
            "objection.resolved",
            actor=by,
            application=application,
            obj=objection,
            from_state="open",
            to_state=outcome,
            reason=resolution,
        )
        _tell(
            [objection.raised_by, *leads_of(application.cluster)],
            _("Objection resolved: %(name)s") % {"name": _name(application)},
            f"{objection.get_outcome_display()}：{resolution}",
            application=application,
        )
    return objection


def end_publicity_now_for_demo(application, *, by):
    """DEMO MODE ONLY: the responsible office ends the application's 公示 now instead of waiting its days.

    Refused (NotAllowed) unless settings.DEMO_MODE is on and `by` acts for the deciding office of the application;
    refused (IllegalTransition) when the application is not in 公示 or has no running publicity timer.
    Side effects: the pending publicity timer task is due now, an audit row ("demo.publicity_shortened"), then
    due timers fire (workflows.timers.fire_due_timers), so the flow goes on at once: certified when no objection
    is open or upheld, else to the office's objection handling. Returns how many timers fired.
    """
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from workflows.models import process_for
    from workflows.timers import fire_due_timers

    if not settings.DEMO_MODE:
        raise NotAllowed(_("The publicity period can be shortened only on a demo installation (DEMO_MODE)."))
    with transaction.atomic():
        # Lock the process row first, as viewflow's flow lock does before any task of it runs (the firing timer
        # then locks its task and, in certify, the application). Taking the application first deadlocked against
        # a concurrent firing; behind the process lock, one caller at a time touches the application and timer.
        process = process_for(application)
        if process is not None:
            process = type(process).objects.select_for_update().get(pk=process.pk)
        application = _lock(application)
        _require_permission(
            by,
            _office_codename(application),
            application,
            _("Only the office responsible for this application may end its publicity period early in the demo."),
        )
        _require_status(application, Application.Status.PUBLICITY)
        timer = (
            Task.objects.select_for_update()
            .filter(process=process, flow_task_type="TIMER", status=STATUS.SCHEDULED)
            .first()
            if process is not None
            else None
        )
        if timer is None:
            raise IllegalTransition(_("This application has no running publicity timer to end."))
        was_due = timer.scheduled
        now = timezone.now()
        Task.objects.filter(pk=timer.pk).update(scheduled=now)
        audit.record(
            "demo.publicity_shortened",
            actor=by,
            application=application,
            obj=application,
            reason=_("Demo shortcut: the publicity period was ended early so the demo need not wait its days."),
            payload={"was_due": was_due.isoformat() if was_due else None, "now": now.isoformat()},
        )
    return fire_due_timers()


def open_objections(application):
    return application.objections.filter(resolved__isnull=True)


def objection_upheld(application):
    return application.objections.filter(outcome=Objection.Outcome.UPHELD).exists()


def finish_objections(application, *, by):
    """The office closes the objection handling after 公示: refused while any objection is still open.

    Side effects: audit row (the gate that follows certifies or fails).
    """
    with transaction.atomic():
        application = _lock(application)
        _require_permission(
            by, _office_codename(application), application, _("Only the responsible office may resolve objections.")
        )
        _require_status(application, Application.Status.PUBLICITY)
        remaining = open_objections(application).count()
        if remaining:
            raise IllegalTransition(
                _("%(count)s objection(s) are still open; resolve each one first.") % {"count": remaining}
            )
        audit.record(
            "objections.closed",
            actor=by,
            application=application,
            obj=application,
            from_state="objections:open",
            to_state="objections:upheld" if objection_upheld(application) else "objections:dismissed",
        )
    return application


# ---------------------------------------------------------------------------------------------- end


def _add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year without one
        return day.replace(year=day.year + years, day=28)


def certificate_check_code(certificate):
    """SHA-256 over the certificate's content: serial, cluster, tier, standard version, dates."""
    content = {
        "serial": certificate.serial,
        "application": certificate.application_id,
        "cluster": certificate.cluster_id,
        "cluster_name": certificate.cluster.name,
        "tier": certificate.tier,
        "standard": certificate.standard_id,
        "standard_version": certificate.standard.version,
        "issued": certificate.issued.isoformat(),
        "valid_until": certificate.valid_until.isoformat(),
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _next_serial(tier, year):
    prefix = f"XQRZ-{year}-{SERIAL_TIER[Tier(tier)]}-"
    last = (
        Certificate.objects.select_for_update()
        .filter(serial__startswith=prefix)
        .order_by("-serial")
        .values_list("serial", flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


def certify(application, *, by=None, today=None):
    """公示 is over with no objection open or upheld: issue the certificate and raise the cluster's tier.

    Side effects: a Certificate (serial, tier, standard version, validity, check code), the cluster's tier and
    tier history, status → certified, audit rows, notifications to everyone involved.
    """
    with transaction.atomic():
        application = _lock(application)
        _require_status(application, Application.Status.PUBLICITY)
        if open_objections(application).exists():
            raise IllegalTransition(_("Open objections hold the certificate until the office resolves them."))
        if objection_upheld(application):
            raise IllegalTransition(_("An objection was upheld; the application cannot be certified."))
        issued = today or timezone.localdate()
        standard = application.standard
        certificate = Certificate(
            serial=_next_serial(application.target_tier, issued.year),
            application=application,
            cluster=application.cluster,
            tier=application.target_tier,
            standard=standard,
            issued=issued,
            valid_until=_add_years(issued, standard.validity_years),
        )
        certificate.check_code = certificate_check_code(certificate)
        certificate.save()
        cluster = Cluster.objects.select_for_update().get(pk=application.cluster_id)
        held = cluster.current_tier
        cluster.current_tier = application.target_tier
        cluster.tier_since = issued
        cluster.save(update_fields=["current_tier", "tier_since"])
        TierChange.objects.create(
            cluster=cluster,
            from_tier=held,
            to_tier=application.target_tier,
            reason=TierChange.Reason.CERTIFIED,
            effective=issued,
            recorded_by=by,
            application=application,
            note=certificate.serial,
        )
        audit.record(
            "cluster.tier_changed",
            actor=by,
            application=application,
            obj=cluster,
            from_state=held,
            to_state=application.target_tier,
            payload={"certificate": certificate.serial},
        )
        _move(
            application,
            Application.Status.CERTIFIED,
            by=by,
            action="application.certified",
            payload={"certificate": certificate.serial, "check_code": certificate.check_code},
        )
        _tell(
            _everyone(application),
            _("Certified: %(name)s") % {"name": _name(application)},
            _("Certificate %(serial)s, valid until %(until)s.")
            % {"serial": certificate.serial, "until": certificate.valid_until.isoformat()},
            application=application,
        )
    return certificate


def rectification_list(application):
    """The 整改 list of a failed application: failed indicators and vetoes, and upheld objections."""
    from .scoring import failed_items

    items = [
        {
            "code": item.indicator.code,
            "title": item.indicator.title,
            "value": item.value,
            "max_score": item.max_score,
            "reasons": [str(reason) for reason in item.reasons],
        }
        for item in failed_items(application)
    ]
    for objection in application.objections.filter(outcome=Objection.Outcome.UPHELD):
        items.append(
            {
                "code": _("Objection"),
                "title": objection.text,
                "value": None,
                "max_score": None,
                "reasons": [objection.resolution],
            }
        )
    return items


def fail(application, *, reason, by=None):
    """The application ends without a certificate, with its 整改 list; the cluster may apply again.

    Side effects: status → failed (closed), audit row carrying the 整改 list, notifications to everyone involved.
    """
    with transaction.atomic():
        application = _lock(application)
        if not application.is_open:
            raise IllegalTransition(_("This application is already closed."))
        items = rectification_list(application)
        _move(
            application,
            Application.Status.FAILED,
            by=by,
            action="application.failed",
            reason=reason,
            payload={"rectification": items},
        )
        _tell(
            _everyone(application),
            _("Not certified: %(name)s") % {"name": _name(application)},
            _("%(reason)s The rectification list names %(count)s item(s); the cluster may apply again.")
            % {"reason": reason, "count": len(items)},
            application=application,
        )
    return application


# ---------------------------------------------------------------------------------------------- reads for the flow
# The flow's gates ask these; each reads the database, never a cached instance.


def active_panel(application):
    """Ids of the application's active evaluator assignments, in assignment order."""
    return list(
        EvaluatorAssignment.objects.filter(application=application, status=EvaluatorAssignment.Status.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def is_recused(assignment_id):
    return EvaluatorAssignment.objects.filter(pk=assignment_id, status=EvaluatorAssignment.Status.RECUSED).exists()


def panel_lead_of(application):
    assignment = (
        EvaluatorAssignment.objects.filter(
            application=application, status=EvaluatorAssignment.Status.ACTIVE, is_panel_lead=True
        )
        .select_related("evaluator")
        .first()
    )
    return assignment.evaluator if assignment else None


def needs_reconciliation(application):
    return Application.objects.filter(pk=application.pk, status=Application.Status.RECONCILIATION).exists()


def result_passed(application):
    return Application.objects.filter(pk=application.pk, passed=True).exists()


def failure_reason(application):
    """Why a closing application fails, in the user's language."""
    application = Application.objects.select_related("standard").get(pk=application.pk)
    if objection_upheld(application):
        return _("An objection raised during the publicity period was upheld.")
    if application.vetoes_met is False:
        return _("A veto indicator was not met.")
    return _("The total score %(total)s is below the pass score %(pass)s.") % {
        "total": application.total_score,
        "pass": application.standard.pass_score,
    }
