"""Reads the flow's gates and the pages share. Each reads the database, never a cached instance; none writes."""

from collections import defaultdict

from django.utils.translation import gettext as _

from certification.models import (
    Application,
    EvaluatorAssignment,
    EvidenceFile,
    EvidenceRequirement,
    Objection,
    RoleGrant,
)


def has_evaluated(user, application):
    """Whether `user` is or was on the application's panel (active or recused): such a person may not approve it."""
    return EvaluatorAssignment.objects.filter(application=application, evaluator=user).exists()


def approval_conflict(user, application):
    """Why `user` may not decide on `application` at an approval step, or None (the flow keeps them off the task)."""
    if has_evaluated(user, application):
        return _("You evaluated this application, so you may not approve it.")
    return None


def open_correction(application):
    """The application's unresolved correction request, or None."""
    return application.corrections.filter(resolved__isnull=True).prefetch_related("indicators").first()


def open_objections(application):
    return application.objections.filter(resolved__isnull=True)


def objection_upheld(application):
    return application.objections.filter(outcome=Objection.Outcome.UPHELD).exists()


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


def missing_requirements_of(applications):
    """What each application still lacks, for many at once: {(application id, stage): [requirement, ...]}.

    The rule of `certification.domain.evidence.missing_requirements` (a required item of the pinned standard with
    no current file), read in two queries whatever the number of applications, for list pages.
    """
    applications = list(applications)
    if not applications:
        return {}
    required = (
        EvidenceRequirement.objects.filter(
            indicator__dimension__standard_id__in={a.standard_id for a in applications}, required=True
        )
        .select_related("indicator__dimension")
        .order_by("indicator__dimension__order", "indicator__order", "indicator__code", "code")
    )
    present = set(
        EvidenceFile.objects.current()
        .filter(application__in=applications)
        .values_list("application_id", "requirement_id")
    )
    by_standard = defaultdict(list)
    for requirement in required:
        by_standard[requirement.indicator.dimension.standard_id].append(requirement)
    missing = defaultdict(list)
    for application in applications:
        for requirement in by_standard[application.standard_id]:
            if (application.pk, requirement.pk) not in present:
                missing[(application.pk, requirement.stage)].append(requirement)
    return missing


def sole_holder(role, application):
    """The one active user holding `role` over `application`, or None when nobody or several do.

    A task only one person can do is assigned to them (it lands in their inbox); with several holders it waits in
    the queue for one of them to take.
    """
    holders = list(RoleGrant.objects.holders(role, application)[:2])
    return holders[0] if len(holders) == 1 else None


def indicators_without_new_file(correction):
    """The returned indicators of `correction` with no file uploaded (and kept) since it was made, in standard order."""
    answered = set(
        EvidenceFile.objects.for_application(correction.application)
        .current()
        .filter(uploaded__gte=correction.created, requirement__indicator__in=correction.indicators.all())
        .values_list("requirement__indicator", flat=True)
    )
    return [i for i in correction.indicators.order_by("dimension__order", "order") if i.pk not in answered]
