"""The certification tasks' views. Thin: load, validate a form, call one domain function, complete the task.

Viewflow wraps each task view (`viewflow.workflow.flow.utils.wrap_view`): it loads the task, checks the node's
permission, and runs a POST under the process lock in one transaction, so two submits of one task give one
transition. A DomainError that refuses the step rolls that transaction back and is rendered by
DomainErrorMiddleware; an input the domain rejects is shown on the form instead.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views import generic
from viewflow.workflow.flow.views import mixins as flow_view_mixins

from certification.domain import aggregation, approval, handover, opening, panel, publicity, queries, review, scoring
from certification.domain.evidence import missing_requirements, requirements_of
from certification.errors import DomainError, IllegalTransition, InvalidInput
from certification.forms.scoring import ScoreSheetForm
from certification.models import (
    ApplicationStage,
    AuditEvent,
    CoSignature,
    EvaluatorAssignment,
    EvidenceStage,
    IndicatorResult,
    Objection,
    Score,
    ScoreSheet,
)
from certification.models.evidence import EvidenceFile
from certification.models.tier import next_tier
from certification.permissions import get_application_for

from . import forms
from .handover import return_delegated_task
from .handover_links import handover_links
from .outcomes import Outcome


def application_url(application):
    """The application's dossier page (the work area, which `WorkflowsConfig.ready` always mounts)."""
    return reverse("work:application_detail", args=[application.pk])


class TaskPage(flow_view_mixins.TaskSuccessUrlMixin, generic.FormView):
    """A task page: the application's key facts, the task's own content and a form."""

    template_name = "workflows/task.html"
    form_class = forms.ConfirmForm
    actions = ()
    invalid_status = 400

    @property
    def activation(self):
        return self.request.activation

    @property
    def application(self):
        if not hasattr(self, "_application"):
            self._application = self.activation.process.artifact
        return self._application

    @cached_property
    def _latest_delegation(self):
        # TaskView's read of the task says whether it was ever delegated: most tasks were not, and cost no query.
        if getattr(self.activation.task, "was_delegated", True) is False:
            return None
        return handover.latest_delegation(self.activation.task.pk)

    @cached_property
    def delegation(self):
        """The open 委派 of this task when the person on the page is its delegate: their submit returns it."""
        record = self._latest_delegation
        if record is not None and record.status == record.Status.OPEN and record.to_user_id == self.request.user.pk:
            return record
        return None

    @cached_property
    def returned(self):
        """The delegation returned to the holder, whose draft pre-fills the holder's form."""
        record = self._latest_delegation
        return record if record is not None and record.status == record.Status.RETURNED else None

    def get_initial(self):
        initial = super().get_initial()
        if self.returned is not None:
            for name, values in self.returned.draft.items():
                initial[name] = values if len(values) > 1 else (values[0] if values else "")
        return initial

    def get_context_data(self, **kwargs):
        kwargs.setdefault("application", self.application)
        kwargs.setdefault("delegation", self.delegation)
        kwargs.setdefault("returned", self.returned)
        kwargs.setdefault(
            "handover_links", handover_links(self.request.user, self.activation.task, self._latest_delegation)
        )
        if self.delegation is not None:
            kwargs["actions"] = [("", _("Return to %(holder)s") % {"holder": self.delegation.from_user})]
        kwargs.setdefault("task", self.activation.task)
        kwargs.setdefault("task_title", self.activation.flow_task.task_title)
        kwargs.setdefault("actions", self.actions or [("", _("Done"))])
        kwargs.setdefault("application_url", application_url(self.application))
        return super().get_context_data(**kwargs)

    def form_invalid(self, form, status=None):
        return self.render_to_response(self.get_context_data(form=form), status=status or self.invalid_status)

    def form_valid(self, form):
        if self.delegation is not None:
            draft = {
                key: values for key, values in self.request.POST.lists() if key not in {"csrfmiddlewaretoken", "action"}
            }
            return_delegated_task(
                self.activation.task, draft=draft, note=self.request.POST.get("comment", ""), by=self.request.user
            )
            messages.success(
                self.request,
                _("Returned to %(holder)s, who completes the task.") % {"holder": self.delegation.from_user},
            )
            return HttpResponseRedirect(application_url(self.application))
        try:
            self.perform(form)
        except InvalidInput as refusal:
            form.add_error(None, refusal.message)
            return self.form_invalid(form)
        self.activation.execute()
        messages.success(self.request, _("Done: %(task)s.") % {"task": self.activation.flow_task.task_title})
        return HttpResponseRedirect(self.get_success_url())

    def get_success_url(self):
        return application_url(self.application)

    def perform(self, form):
        raise NotImplementedError


class OpenApplicationView(generic.FormView):
    """Start: the lead picks one of their clusters and the target tier; eligibility is checked by the domain."""

    template_name = "workflows/open.html"
    form_class = forms.OpenApplicationForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        """Pre-select the cluster the lead came from (?cluster=) and the tier directly above the one it holds."""
        initial = super().get_initial()
        raw = self.request.GET.get("cluster", "")
        # Only one of the lead's own clusters is pre-selected; any other id is ignored, not reported.
        cluster = forms.clusters_led_by(self.request.user).filter(pk=raw).first() if raw.isdigit() else None
        if cluster is not None:
            initial["cluster"] = cluster.pk
            initial["target_tier"] = self.request.GET.get("target_tier") or next_tier(cluster.current_tier)
        return initial

    def form_valid(self, form):
        try:
            application = opening.start_application(
                form.cleaned_data["cluster"], form.cleaned_data["target_tier"], by=self.request.user
            )
        except DomainError as refusal:
            form.add_error(None, refusal.message)
            return self.render_to_response(self.get_context_data(form=form), status=refusal.status)
        activation = self.request.activation
        activation.process.artifact = application
        activation.execute()
        messages.success(
            self.request, _("The application is open: upload the evidence of each stage, then submit the stage.")
        )
        return HttpResponseRedirect(application_url(application))


class SubmitStageView(TaskPage):
    template_name = "workflows/submit_stage.html"
    stage = None

    def get_context_data(self, **kwargs):
        stage_row = ApplicationStage.objects.get(application=self.application, stage=self.stage)
        kwargs.update(
            stage=stage_row,
            requirements=requirements_of(self.application, self.stage),
            missing=missing_requirements(self.application, self.stage),
            actions=[("", _("Submit this stage"))],
        )
        return super().get_context_data(**kwargs)

    def perform(self, form):
        opening.submit_stage(self.application, self.stage, by=self.request.user)


class FormalReviewView(TaskPage):
    template_name = "workflows/formal_review.html"
    form_class = forms.FormalReviewForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "application": self.application}

    def get_context_data(self, **kwargs):
        form = kwargs.get("form") or self.get_form()
        chosen = {str(value) for value in (form["indicators"].value() or [])}
        files = (
            EvidenceFile.objects.for_application(self.application)
            .current()
            .select_related("requirement")
            .order_by("requirement__code", "-version")
        )
        by_indicator = {}
        for item in files:
            by_indicator.setdefault(item.requirement.indicator_id, []).append(item)
        rows = [
            {"indicator": indicator, "files": by_indicator.get(indicator.pk, []), "chosen": str(indicator.pk) in chosen}
            for indicator in form.fields["indicators"].queryset.select_related("dimension")
        ]
        kwargs.update(
            stages=ApplicationStage.objects.filter(application=self.application).select_related("submitted_by"),
            corrections=self.application.corrections.prefetch_related("indicators"),
            indicator_rows=rows,
            actions=[("", _("Record the formal review"))],
        )
        return super().get_context_data(**kwargs)

    def perform(self, form):
        data = form.cleaned_data
        if data["decision"] == form.PASS:
            review.pass_formal_review(self.application, by=self.request.user, comment=data["comment"])
            self.activation.task.data["outcome"] = Outcome.PASSED
        else:
            review.request_correction(
                self.application, data["indicators"], data["comment"], data["deadline"], by=self.request.user
            )
            self.activation.task.data["outcome"] = Outcome.RETURNED


class CorrectionView(TaskPage):
    """The lead's 补正 task: only the returned indicators, with their evidence."""

    template_name = "workflows/correction.html"
    form_class = forms.CorrectionForm

    def get_context_data(self, **kwargs):
        correction = queries.open_correction(self.application)
        indicators = list(correction.indicators.order_by("dimension__order", "order")) if correction else []
        files = (
            EvidenceFile.objects.for_application(self.application)
            .current()
            .filter(requirement__indicator__in=indicators)
            .select_related("requirement")
        )
        rows = []
        for indicator in indicators:
            requirements = [r for r in requirements_of(self.application) if r.indicator_id == indicator.pk]
            rows.append(
                {
                    "indicator": indicator,
                    "requirements": [
                        (requirement, [f for f in files if f.requirement_id == requirement.pk])
                        for requirement in requirements
                    ],
                }
            )
        unanswered = queries.indicators_without_new_file(correction) if correction else []
        kwargs.update(
            correction=correction, rows=rows, unanswered=unanswered, actions=[("", _("Submit the correction"))]
        )
        return super().get_context_data(**kwargs)

    def perform(self, form):
        correction = queries.open_correction(self.application)
        if correction is None:
            raise IllegalTransition(_("There is no open correction request."))
        review.submit_correction(correction, form.cleaned_data["response"], by=self.request.user)


class AssignEvaluatorsView(TaskPage):
    template_name = "workflows/assign_evaluators.html"
    form_class = forms.AssignEvaluatorsForm

    @cached_property
    def candidates(self):
        return panel.eligible_evaluators(self.application)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "candidates": self.candidates}

    def get_context_data(self, **kwargs):
        kwargs.update(conflicts=[(user, reason) for user, reason in self.candidates if reason])
        return super().get_context_data(**kwargs)

    def perform(self, form):
        panel.assign_evaluators(
            self.application,
            list(form.cleaned_data["evaluators"]),
            form.cleaned_data["panel_lead"],
            by=self.request.user,
        )


class ScoreView(TaskPage):
    """The evaluator's scoring task: D's score sheet; save a draft, submit, or recuse with a reason."""

    template_name = "workflows/score.html"

    def assignment(self):
        return get_object_or_404(EvaluatorAssignment, pk=self.activation.task.data["assignment"])

    def page(self, sheet_form=None, recuse_form=None, status=200):
        assignment = self.assignment()
        sheet = scoring.sheet_of(assignment)
        if sheet is None:
            raise IllegalTransition(_("Your score sheet has not been opened yet; reload the page in a moment."))
        context = self.get_context_data(
            assignment=assignment,
            sheet_form=sheet_form or ScoreSheetForm(sheet),
            recuse_form=recuse_form or forms.RecuseForm(),
        )
        return self.render_to_response(context, status=status)

    def get(self, request, *args, **kwargs):
        return self.page()

    def post(self, request, *args, **kwargs):
        assignment = self.assignment()
        action = request.POST.get("action")
        if action == "recuse":
            recuse_form = forms.RecuseForm(request.POST)
            if not recuse_form.is_valid():
                return self.page(recuse_form=recuse_form, status=400)
            panel.recuse(assignment, recuse_form.cleaned_data["reason"], by=request.user)
            self.activation.execute()
            messages.success(request, _("You have recused yourself; the office will assign a replacement."))
            return HttpResponseRedirect(self.get_success_url())
        sheet = scoring.get_or_create_sheet(assignment)
        sheet_form = ScoreSheetForm(sheet, data=request.POST)
        if action == "submit":
            try:
                submitted = sheet_form.submit(request.user)
            except IllegalTransition as refusal:
                # The refreshed pre-fills must be kept (committed): answer, do not raise.
                sheet_form = ScoreSheetForm(sheet)
                sheet_form.add_error(None, refusal.message)
                return self.page(sheet_form=sheet_form, status=refusal.status)
            if not submitted:
                return self.page(sheet_form=sheet_form, status=400)
            self.activation.execute()
            messages.success(request, _("Your score sheet has been submitted."))
            return HttpResponseRedirect(self.get_success_url())
        if not sheet_form.save_draft(request.user):
            return self.page(sheet_form=sheet_form, status=400)
        messages.success(request, _("Draft saved."))
        return HttpResponseRedirect(request.get_full_path())


class ReplaceEvaluatorView(TaskPage):
    template_name = "workflows/replace_evaluator.html"
    form_class = forms.ReplaceEvaluatorForm

    def recused(self):
        return get_object_or_404(EvaluatorAssignment, pk=self.activation.task.data["assignment"])

    @cached_property
    def candidates(self):
        return panel.eligible_evaluators(self.application)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "candidates": self.candidates}

    def get_context_data(self, **kwargs):
        kwargs.update(recused=self.recused(), conflicts=[(user, reason) for user, reason in self.candidates if reason])
        return super().get_context_data(**kwargs)

    def perform(self, form):
        replacement = panel.assign_replacement(self.recused(), form.cleaned_data["evaluator"], by=self.request.user)
        self.activation.task.data["replacement"] = replacement.pk


def _sent_back_reasons(application):
    return AuditEvent.objects.filter(application=application, action="approval.sent_back").select_related("actor")


class ReconcileView(TaskPage):
    """The panel lead reconciles each disagreement (D's `reconcile`), then confirms the panel's result."""

    template_name = "workflows/reconcile.html"

    def results(self):
        return IndicatorResult.objects.filter(application=self.application).select_related("indicator", "reconciled_by")

    def scores_by_indicator(self, indicator_ids):
        """Each submitted sheet's score and comment of the given indicators, evaluator by evaluator, side by side."""
        scores = (
            Score.objects.filter(
                sheet__assignment__application=self.application,
                sheet__assignment__status=EvaluatorAssignment.Status.ACTIVE,
                sheet__status=ScoreSheet.Status.SUBMITTED,
                indicator_id__in=indicator_ids,
            )
            .select_related("sheet__assignment__evaluator")
            .order_by("sheet__assignment__evaluator__display_name", "sheet__assignment_id")
        )
        by_indicator = {}
        for score in scores:
            by_indicator.setdefault(score.indicator_id, []).append(score)
        return by_indicator

    def get_context_data(self, **kwargs):
        results = list(self.results())
        disagreeing = [r for r in results if r.disagreement]
        scores = self.scores_by_indicator([r.indicator_id for r in disagreeing])
        for result in disagreeing:
            result.evaluator_scores = scores.get(result.indicator_id, [])
        kwargs.update(
            results=results,
            disagreements=[
                (r, forms.ReconcileForm(initial={"result": r.pk}, auto_id=f"id_%s_{r.pk}")) for r in disagreeing
            ],
            sent_back=_sent_back_reasons(self.application),
            actions=[("confirm", _("Confirm the panel's result"))],
        )
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        if request.POST.get("action") == "reconcile":
            form = forms.ReconcileForm(request.POST)
            if form.is_valid():
                result = get_object_or_404(
                    IndicatorResult, pk=form.cleaned_data["result"], application=self.application
                )
                try:
                    aggregation.reconcile(
                        result, form.cleaned_data["value"], form.cleaned_data["reason"], by=request.user
                    )
                except InvalidInput as refusal:
                    messages.error(request, refusal.message)
                return HttpResponseRedirect(request.get_full_path())
            messages.error(request, _("Enter a score and a reason."))
            return HttpResponseRedirect(request.get_full_path())
        return super().post(request, *args, **kwargs)

    def perform(self, form):
        panel.confirm_result(self.application, by=self.request.user, comment=form.cleaned_data["comment"])


class DecisionView(TaskPage):
    """An approver's step: the key figures, then approve (or recommend) or send back one step with a reason."""

    template_name = "workflows/decision.html"
    form_class = forms.DecisionForm
    step = None

    def get_context_data(self, **kwargs):
        kwargs.update(
            results=IndicatorResult.objects.filter(application=self.application).select_related("indicator"),
            panel=self.application.assignments.select_related("evaluator"),
            sent_back=_sent_back_reasons(self.application),
            step=self.step,
            cosignatures=CoSignature.objects.filter(
                application=self.application, step=self.step, closed__isnull=True
            ).select_related("signer"),
            actions=[("", _("Submit the decision"))],
        )
        return super().get_context_data(**kwargs)

    def perform(self, form):
        data = form.cleaned_data
        if data["decision"] == form.APPROVE:
            approval.approve(self.application, self.step, by=self.request.user, comment=data["comment"])
            self.activation.task.data["outcome"] = Outcome.APPROVED
        else:
            approval.send_back(self.application, self.step, data["comment"], by=self.request.user)
            self.activation.task.data["outcome"] = Outcome.SENT_BACK


class ResolveObjectionsView(TaskPage):
    """After 公示: the office resolves every open objection, then closes the objection handling."""

    template_name = "workflows/resolve_objections.html"

    def get_context_data(self, **kwargs):
        objections = list(self.application.objections.select_related("raised_by", "resolved_by"))
        kwargs.update(
            objections=[
                (o, None if o.resolved else forms.ResolveObjectionForm(initial={"objection": o.pk})) for o in objections
            ],
            actions=[("finish", _("All objections resolved: continue"))],
        )
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        if request.POST.get("action") == "resolve":
            resolve_objection(request, self.application)
            return HttpResponseRedirect(request.get_full_path())
        return super().post(request, *args, **kwargs)

    def perform(self, form):
        publicity.finish_objections(self.application, by=self.request.user)


def resolve_objection(request, application):
    form = forms.ResolveObjectionForm(request.POST)
    if not form.is_valid():
        raise InvalidInput(_("Choose the outcome and explain the resolution."))
    objection = get_object_or_404(Objection, pk=form.cleaned_data["objection"], application=application)
    publicity.resolve_objection(
        objection, form.cleaned_data["outcome"], form.cleaned_data["resolution"], by=request.user
    )


@method_decorator(login_required, name="dispatch")
class RaiseObjectionView(generic.View):
    """Anyone who can see an application raises an objection while it is in 公示."""

    def get(self, request, pk):
        application = get_application_for(request.user, pk)
        return render(request, "workflows/objection.html", {"application": application, "form": forms.ObjectionForm()})

    def post(self, request, pk):
        application = get_application_for(request.user, pk)
        form = forms.ObjectionForm(request.POST)
        if not form.is_valid():
            return render(request, "workflows/objection.html", {"application": application, "form": form}, status=400)
        publicity.raise_objection(application, form.cleaned_data["text"], by=request.user)
        messages.success(request, _("Your objection has been recorded; the office will resolve it."))
        return HttpResponseRedirect(application_url(application))


@method_decorator(login_required, name="dispatch")
class ResolveObjectionView(generic.View):
    """The office resolves one objection during 公示, before the period ends."""

    def post(self, request, pk):
        application = get_application_for(request.user, pk)
        resolve_objection(request, application)
        messages.success(request, _("The objection has been resolved."))
        return HttpResponseRedirect(application_url(application))


STAGE_VIEWS = {stage: SubmitStageView.as_view(stage=stage) for stage in EvidenceStage.values}
