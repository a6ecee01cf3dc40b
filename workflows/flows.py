"""The certification process, as a viewflow flow: read it top to bottom like the diagram.

Every human task is due a number of working days after it opens (settings.TASK_DUE_WORKING_DAYS; 补正 on the
request's own deadline): see workflows.deadlines. Every step's rule lives in the step modules of certification.domain (opening, review, panel, approval,
publicity, certificate; reads in queries); nodes and views only call them. Tasks carry an object
permission on the application (django-guardian, granted by certification.domain.roles), so each person's queue
and inbox show only the applications of their scope.
"""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock

from certification.domain import approval, certificate, locking, panel, queries, scoring, yearly_review
from certification.models import EvaluatorAssignment, EvidenceStage, ReviewAssignment, Role
from certification.permissions import can_view_application
from certification.scope import deciding_office_permission, perm

from . import views
from .models import CertificationProcess, YearlyReviewProcess
from .nodes import DueHandle, ForEach, If, Switch, TaskView
from .outcomes import Outcome


def application_of(process):
    """The object a task's permission is checked on: the process's application, loaded once with what the task
    pages and the domain step read of it (its cluster, district, city and standard)."""
    if not CertificationProcess.artifact.is_cached(process) and process.artifact_object_id is not None:
        # In a task's POST, read under lock and kept for the step the task runs (certification.domain.locking).
        application = locking.application_for_step(process.artifact_object_id)
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
        If(this.is_returned)
        .Annotation(title=_("Returned for correction?"))
        .Then(this.correct)
        .Else(this.assign_evaluators)
    )
    correct = (
        TaskView(views.CorrectionView.as_view())
        .Annotation(title=_("Correct the returned indicators"))
        .Assign(this.sole_lead)
        .Permission(LEAD, obj=application_of)
        .Due(on=this.correction_deadline, notices=False)
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
        If(this.is_recused)
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
        If(this.needs_reconciliation).Annotation(title=_("Disagreement?")).Then(this.reconcile).Else(this.check_passed)
    )
    reconcile = (
        TaskView(views.ReconcileView.as_view())
        .Annotation(title=_("Reconcile the panel's result"))
        .Assign(this.panel_lead)
        .Permission(EVALUATOR, obj=application_of)
        .Next(this.check_passed)
    )
    check_passed = If(this.has_passed).Annotation(title=_("Passed?")).Then(this.to_approval).Else(this.fail)

    to_approval = flow.Function(this.start_approval).Annotation(title=_("To the leaders")).Next(this.district_decision)
    district_decision = (
        TaskView(views.DecisionView.as_view(step=approval.Step.DISTRICT))
        .Annotation(title=_("District leader's decision"))
        .Permission(DISTRICT_LEADER, obj=application_of)
        .Excluding(queries.approval_conflict)
        .Next(this.after_district_decision, task_data=this.outcome)
    )
    after_district_decision = (
        Switch()
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
        Switch()
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
        Switch()
        .Annotation(title=_("Route the city's decision"))
        .Case(this.city_review, this.was_sent_back)
        .Default(this.publicity)
    )

    publicity = flow.Timer(this.publicity_period).Annotation(title=_("Publicity period")).Next(this.check_objections)
    check_objections = (
        Switch()
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

    def correction_deadline(self, activation):
        """补正 is due when the office's request says; its reminders are the request's (notify.send_deadline_reminders)."""
        correction = queries.open_correction(activation.process.artifact)
        return correction.deadline if correction is not None else None

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


class YearlyReviewFlow(flow.Flow):
    """Yearly review (年度评估)

    One process per certified cluster and school year: started for a whole district (the city for 市级) in one
    action → the lead submits the year's data → the monitoring indicators are computed → when the held standard
    asks for evaluators, the office assigns them and each gives an opinion in their own task (all are in before the
    office concludes) → the office concludes →
    保持 closes; 限期整改 waits for its deadline (a timer), closed lists close as 保持 and open ones lapse into a
    downgrade; 降级/撤销 go to the leader → a notice period in which the cluster may object → take effect.

    The people's steps are `Handle` tasks run by the review's own pages (workflows.reviews), which call the domain
    first (state and actor checked there) — the domain state, not a task inbox, is what each person's page reads.
    """

    process_class = YearlyReviewProcess
    lock_impl = lock.select_for_update_lock
    process_title = _("Yearly review")
    process_description = _("One process per certified cluster and school year.")

    start = flow.StartHandle(this.begin).Annotation(title=_("Start the yearly review")).Next(this.submit_data)
    submit_data = (
        DueHandle(this.record_step)
        .Due("review_submit_data")
        .Annotation(title=_("Submit the year's data and evidence"))
        .Next(this.compute)
    )
    compute = (
        flow.Function(this.compute_monitoring)
        .Annotation(title=_("Compute the monitoring indicators"))
        .Next(this.check_panel)
    )
    check_panel = (
        flow.If(this.needs_panel).Annotation(title=_("Evaluators needed?")).Then(this.assign_panel).Else(this.conclude)
    )
    assign_panel = (
        DueHandle(this.record_step)
        .Due("review_assign_panel")
        .Annotation(title=_("Assign the review's evaluators"))
        .Next(this.panel)
    )
    panel = ForEach(this.panel_members).Annotation(title=_("One opinion task per evaluator")).Next(this.give_opinion)
    give_opinion = (
        DueHandle(this.record_step)
        .Due("review_give_opinion")
        .Owner(this.evaluator_of)
        .Annotation(title=_("Give an opinion on the review"))
        .Next(this.opinions_in)
    )
    opinions_in = flow.Join().Annotation(title=_("Every evaluator has given an opinion")).Next(this.conclude)
    conclude = (
        DueHandle(this.record_step)
        .Due("review_conclude")
        .Annotation(title=_("Conclude the review"))
        .Next(this.route_conclusion)
    )
    route_conclusion = (
        Switch()
        .Annotation(title=_("Route the conclusion"))
        .Case(this.keep_tier, this.is_maintained)
        .Case(this.rectification_due, this.is_rectify)
        .Default(this.leader_decision)
    )

    rectification_due = (
        flow.Timer(this.rectify_deadline).Annotation(title=_("Rectification deadline")).Next(this.check_rectification)
    )
    check_rectification = (
        If(this.rectification_closed).Annotation(title=_("Every item verified?")).Then(this.keep_tier).Else(this.lapse)
    )
    lapse = (
        flow.Function(this.lapse_to_downgrade)
        .Annotation(title=_("Items open: propose a downgrade"))
        .Next(this.leader_decision)
    )

    leader_decision = (
        DueHandle(this.record_step)
        .Due("review_leader_decision")
        .Annotation(title=_("Leader's decision"))
        .Next(this.route_decision)
    )
    route_decision = If(this.was_approved).Annotation(title=_("Approved?")).Then(this.notice).Else(this.conclude)
    notice = flow.Timer(this.notice_ends).Annotation(title=_("Notice period")).Next(this.end_notice)
    end_notice = flow.Function(this.close_notice).Annotation(title=_("Notice period over")).Next(this.check_objections)
    check_objections = (
        Switch()
        .Annotation(title=_("Objections?"))
        .Case(this.resolve_objections, this.has_open_objections)
        .Case(this.reopen, this.has_upheld_objection)
        .Default(this.take_effect)
    )
    resolve_objections = (
        DueHandle(this.record_step)
        .Due("review_resolve_objections")
        .Annotation(title=_("Resolve the objections"))
        .Next(this.check_objections)
    )
    reopen = flow.Function(this.withdraw_sanction).Annotation(title=_("Sanction withdrawn")).Next(this.conclude)

    take_effect = (
        flow.Function(this.apply_sanction).Annotation(title=_("The sanction takes effect")).Next(this.sanctioned)
    )
    keep_tier = flow.Function(this.close_maintained).Annotation(title=_("Tier maintained")).Next(this.maintained)
    maintained = flow.End().Annotation(title=_("Maintained"))
    sanctioned = flow.End().Annotation(title=_("Downgraded or revoked"))

    # ----------------------------------------------------------------------------------------------- steps

    def begin(self, activation, review):
        activation.process.artifact = review
        return activation.process

    def record_step(self, activation, step):
        """A person's step: `step` is the domain call the review's page made (it checks state and actor)."""
        return step()

    def compute_monitoring(self, activation):
        yearly_review.compute_monitoring(activation.process.artifact)

    def lapse_to_downgrade(self, activation):
        yearly_review.lapse_to_downgrade(activation.process.artifact)

    def close_notice(self, activation):
        yearly_review.end_notice(activation.process.artifact)

    def withdraw_sanction(self, activation):
        yearly_review.reopen(activation.process.artifact)

    def apply_sanction(self, activation):
        yearly_review.take_effect(activation.process.artifact)

    def close_maintained(self, activation):
        yearly_review.keep_tier(activation.process.artifact)

    # ----------------------------------------------------------------------------------------------- conditions

    def _review(self, activation):
        activation.process.artifact.refresh_from_db()
        return activation.process.artifact

    def needs_panel(self, activation):
        return yearly_review.evaluators_needed(self._review(activation)) > 0

    def panel_members(self, activation):
        return [
            {"assignment": pk} for pk in activation.process.artifact.panel.order_by("pk").values_list("pk", flat=True)
        ]

    def evaluator_of(self, activation):
        return ReviewAssignment.objects.get(pk=activation.task.data["assignment"]).evaluator

    def is_maintained(self, activation):
        return self._review(activation).conclusion == yearly_review.Conclusion.MAINTAINED

    def is_rectify(self, activation):
        return self._review(activation).conclusion == yearly_review.Conclusion.RECTIFY

    def rectify_deadline(self, activation):
        return yearly_review.rectify_deadline(self._review(activation))

    def rectification_closed(self, activation):
        return yearly_review.rectification_closed(activation.process.artifact)

    def was_approved(self, activation):
        return self._review(activation).status == yearly_review.Status.NOTICE

    def notice_ends(self, activation):
        return yearly_review.notice_ends(self._review(activation))

    def has_open_objections(self, activation):
        return yearly_review.open_notice_objections(activation.process.artifact).exists()

    def has_upheld_objection(self, activation):
        return yearly_review.objection_upheld(self._review(activation))
