"""The certification process, as a viewflow flow: read it top to bottom like the diagram.

Every step's rule lives in the step modules of certification.domain (opening, review, panel, approval,
publicity, certificate; reads in queries); nodes and views only call them. Tasks carry an object
permission on the application (django-guardian, granted by certification.domain.roles), so each person's queue
and inbox show only the applications of their scope.
"""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock

from certification.domain import approval, certificate, panel, queries, scoring
from certification.models import Application, EvaluatorAssignment, EvidenceStage, Role
from certification.permissions import can_view_application
from certification.scope import deciding_office_permission, perm

from . import views
from .models import CertificationProcess
from .nodes import ForEach, TaskView
from .outcomes import Outcome


def application_of(process):
    """The object a task's permission is checked on: the process's application, loaded once with what the task
    pages and the domain step read of it (its cluster, district, city and standard)."""
    if not CertificationProcess.artifact.is_cached(process) and process.artifact_object_id is not None:
        application = (
            Application.objects.select_related("cluster__district__parent", "standard")
            .filter(pk=process.artifact_object_id)
            .first()
        )
        if application is not None:
            process.artifact = application
    return process.artifact


def deciding_office(activation):
    """The office that assigns evaluators and resolves objections (certification.scope.deciding_office_role)."""
    return perm(deciding_office_permission(activation.process.artifact))


LEAD = perm("act_as_lead")
DISTRICT_OFFICE = perm("act_as_district_office")
DISTRICT_LEADER = perm("act_as_district_leader")
CITY_OFFICE = perm("act_as_city_office")
CITY_LEADER = perm("act_as_city_leader")
EVALUATOR = perm("act_as_evaluator")


class CertificationFlow(flow.Flow):
    """Certification

    One process per application: open → three evidence stages → formal review (with 补正 loops) → evaluators →
    parallel scoring → aggregation → reconciliation → approval chain → 公示 with objections → certificate.
    """

    process_class = CertificationProcess
    lock_impl = lock.select_for_update_lock
    process_title = _("Cluster certification")
    process_description = _("One process per application, from opening to the certificate.")

    start = (
        flow.Start(views.OpenApplicationView.as_view())
        .Annotation(title=_("Open an application"))
        .Permission("certification.add_application")
        .Next(this.collect_evidence)
    )

    collect_evidence = (
        flow.Split()
        .Annotation(title=_("Collect evidence in three stages"))
        .Always(this.submit_basic)
        .Always(this.submit_process)
        .Always(this.submit_outcome)
    )
    submit_basic = (
        TaskView(views.STAGE_VIEWS[EvidenceStage.BASIC])
        .Annotation(title=_("Submit the basic materials"))
        .Assign(this.sole_lead)
        .Permission(LEAD, obj=application_of)
        .Next(this.evidence_complete)
    )
    submit_process = (
        TaskView(views.STAGE_VIEWS[EvidenceStage.PROCESS])
        .Annotation(title=_("Submit the process materials"))
        .Assign(this.sole_lead)
        .Permission(LEAD, obj=application_of)
        .Next(this.evidence_complete)
    )
    submit_outcome = (
        TaskView(views.STAGE_VIEWS[EvidenceStage.OUTCOME])
        .Annotation(title=_("Submit the outcome materials"))
        .Assign(this.sole_lead)
        .Permission(LEAD, obj=application_of)
        .Next(this.evidence_complete)
    )
    evidence_complete = flow.Join().Annotation(title=_("All evidence submitted")).Next(this.formal_review)

    formal_review = (
        TaskView(views.FormalReviewView.as_view())
        .Annotation(title=_("Formal review"))
        .Permission(DISTRICT_OFFICE, obj=application_of)
        .Next(this.check_formal_review, task_data=this.outcome)
    )
    check_formal_review = (
        flow.If(this.is_returned)
        .Annotation(title=_("Returned for correction?"))
        .Then(this.correct)
        .Else(this.assign_evaluators)
    )
    correct = (
        TaskView(views.CorrectionView.as_view())
        .Annotation(title=_("Correct the returned indicators"))
        .Assign(this.sole_lead)
        .Permission(LEAD, obj=application_of)
        .Next(this.formal_review)
    )

    assign_evaluators = (
        TaskView(views.AssignEvaluatorsView.as_view())
        .Annotation(title=_("Assign evaluators"))
        .Permission(deciding_office, obj=application_of)
        .Next(this.panel)
    )
    panel = ForEach(this.panel_members).Annotation(title=_("One scoring task per evaluator")).Next(this.score)
    score = (
        TaskView(views.ScoreView.as_view())
        .Annotation(title=_("Score the application"))
        .Assign(this.evaluator_of)
        .Permission(EVALUATOR, obj=application_of)
        .onCreate(this.open_score_sheet)
        .Next(this.check_recusal, task_data=this.same_assignment)
    )
    check_recusal = (
        flow.If(this.is_recused)
        .Annotation(title=_("Recused?"))
        .Then(this.replace_evaluator, task_data=this.same_assignment)
        .Else(this.panel_done)
    )
    replace_evaluator = (
        TaskView(views.ReplaceEvaluatorView.as_view())
        .Annotation(title=_("Assign a replacement evaluator"))
        .Permission(deciding_office, obj=application_of)
        .Next(this.score, task_data=this.replacement)
    )
    panel_done = flow.Join().Annotation(title=_("Every evaluator has scored")).Next(this.aggregate)

    aggregate = flow.Function(this.combine_scores).Annotation(title=_("Combine the scores")).Next(this.check_agreement)
    check_agreement = (
        flow.If(this.needs_reconciliation)
        .Annotation(title=_("Disagreement?"))
        .Then(this.reconcile)
        .Else(this.check_passed)
    )
    reconcile = (
        TaskView(views.ReconcileView.as_view())
        .Annotation(title=_("Reconcile the panel's result"))
        .Assign(this.panel_lead)
        .Permission(EVALUATOR, obj=application_of)
        .Next(this.check_passed)
    )
    check_passed = flow.If(this.has_passed).Annotation(title=_("Passed?")).Then(this.to_approval).Else(this.fail)

    to_approval = flow.Function(this.start_approval).Annotation(title=_("To the leaders")).Next(this.district_decision)
    district_decision = (
        TaskView(views.DecisionView.as_view(step=approval.Step.DISTRICT))
        .Annotation(title=_("District leader's decision"))
        .Permission(DISTRICT_LEADER, obj=application_of)
        .Excluding(queries.approval_conflict)
        .Next(this.after_district_decision, task_data=this.outcome)
    )
    after_district_decision = (
        flow.Switch()
        .Annotation(title=_("Route the district's decision"))
        .Case(this.reconcile, this.was_sent_back)
        .Case(this.city_review, this.city_decides)
        .Default(this.publicity)
    )
    city_review = (
        TaskView(views.DecisionView.as_view(step=approval.Step.CITY_REVIEW))
        .Annotation(title=_("City office review"))
        .Permission(CITY_OFFICE, obj=application_of)
        .Excluding(queries.approval_conflict)
        .Next(this.after_city_review, task_data=this.outcome)
    )
    after_city_review = (
        flow.Switch()
        .Annotation(title=_("Route the city office's review"))
        .Case(this.district_decision, this.was_sent_back)
        .Default(this.city_decision)
    )
    city_decision = (
        TaskView(views.DecisionView.as_view(step=approval.Step.CITY))
        .Annotation(title=_("City leader's decision"))
        .Permission(CITY_LEADER, obj=application_of)
        .Excluding(queries.approval_conflict)
        .Next(this.after_city_decision, task_data=this.outcome)
    )
    after_city_decision = (
        flow.Switch()
        .Annotation(title=_("Route the city's decision"))
        .Case(this.city_review, this.was_sent_back)
        .Default(this.publicity)
    )

    publicity = flow.Timer(this.publicity_period).Annotation(title=_("Publicity period")).Next(this.check_objections)
    check_objections = (
        flow.Switch()
        .Annotation(title=_("Objections?"))
        .Case(this.resolve_objections, this.has_open_objections)
        .Case(this.fail, this.has_upheld_objection)
        .Default(this.certify)
    )
    resolve_objections = (
        TaskView(views.ResolveObjectionsView.as_view())
        .Annotation(title=_("Resolve the objections"))
        .Permission(deciding_office, obj=application_of)
        .Next(this.check_objections)
    )

    certify = flow.Function(this.issue_certificate).Annotation(title=_("Issue the certificate")).Next(this.certified)
    fail = flow.Function(this.close_as_failed).Annotation(title=_("Close as not certified")).Next(this.failed)
    certified = flow.End().Annotation(title=_("Certified"))
    failed = flow.End().Annotation(title=_("Not certified"))

    # ----------------------------------------------------------------------------------------------- permissions

    def has_view_permission(self, user, obj=None):
        """The role groups give the model-level view; a process is visible only with its application in scope."""
        if not super().has_view_permission(user):
            return False
        return obj is None or can_view_application(user, obj.artifact if hasattr(obj, "artifact") else obj)

    # ----------------------------------------------------------------------------------------------- gate conditions
    # Each reads the domain's state or the outcome the previous task recorded in its data.

    def outcome(self, activation):
        return {"outcome": activation.task.data.get("outcome")}

    def is_returned(self, activation):
        return activation.task.data.get("outcome") == Outcome.RETURNED

    def was_sent_back(self, activation):
        return activation.task.data.get("outcome") == Outcome.SENT_BACK

    def city_decides(self, activation):
        """The district's approval goes on to the city review (the domain's routing, approval.next_step)."""
        return approval.next_step(activation.process.artifact, approval.Step.DISTRICT) == approval.Step.CITY_REVIEW

    def panel_members(self, activation):
        return [{"assignment": pk} for pk in queries.active_panel(activation.process.artifact)]

    def sole_lead(self, activation):
        return queries.sole_holder(Role.LEAD, activation.process.artifact)

    def evaluator_of(self, activation):
        return EvaluatorAssignment.objects.get(pk=activation.task.data["assignment"]).evaluator

    def same_assignment(self, activation):
        return {"assignment": activation.task.data["assignment"]}

    def replacement(self, activation):
        return {"assignment": activation.task.data["replacement"]}

    def is_recused(self, activation):
        return queries.is_recused(activation.task.data["assignment"])

    def panel_lead(self, activation):
        return queries.panel_lead_of(activation.process.artifact)

    def needs_reconciliation(self, activation):
        return queries.needs_reconciliation(activation.process.artifact)

    def has_passed(self, activation):
        return queries.result_passed(activation.process.artifact)

    def publicity_period(self, activation):
        return timedelta(days=activation.process.artifact.standard.publicity_days)

    def has_open_objections(self, activation):
        return queries.open_objections(activation.process.artifact).exists()

    def has_upheld_objection(self, activation):
        return queries.objection_upheld(activation.process.artifact)

    # ----------------------------------------------------------------------------------------------- automatic steps

    def open_score_sheet(self, activation):
        """The evaluator's task starts with their score sheet (pre-filled), so showing it never writes."""
        scoring.get_or_create_sheet(EvaluatorAssignment.objects.get(pk=activation.task.data["assignment"]))

    def combine_scores(self, activation):
        panel.finish_scoring(activation.process.artifact)

    def start_approval(self, activation):
        approval.start_approval(activation.process.artifact)

    def issue_certificate(self, activation):
        certificate.certify(activation.process.artifact)

    def close_as_failed(self, activation):
        application = activation.process.artifact
        certificate.fail(application, reason=queries.failure_reason(application))
