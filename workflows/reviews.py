"""The yearly review's pages and the 整改 items' actions, in the work area. Thin: load the review through
`get_review_for` (404 outside the user's scope), validate a form, call one domain function (through
`workflows.engine.run_review_step` where the flow waits for the step), redirect to the review's page.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.contenttypes.models import ContentType
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView, TemplateView

from certification.domain import rectification, yearly_review
from certification.domain.readiness import school_year_now
from certification.errors import IllegalTransition, InvalidInput, NotAllowed
from certification.models import (
    RectificationItem,
    RectificationList,
    Region,
    ReviewObjection,
    Role,
    RoleGrant,
    TierChange,
    YearlyReview,
)
from certification.permissions import get_application_for
from certification.scope import OFFICE_ROLES, is_staff_for

from . import review_forms as forms
from .deadlines import OPEN, attach_countdowns
from .engine import run_review_step, start_yearly_reviews
from .flows import YearlyReviewFlow as F
from .models import DueSource, TaskDeadline

PAGE_SIZE = 25


def with_due(reviews):
    """Reviews annotated with `due`: the due date of the step their flow waits for a person to take (None: none),
    and `due_source`: who set its period (a DueSource value)."""
    deadlines = TaskDeadline.objects.filter(
        task__process__flow_class=F,
        task__process__artifact_content_type=ContentType.objects.get_for_model(YearlyReview),
        task__process__artifact_object_id=OuterRef("pk"),
        task__status__in=OPEN,
    ).order_by("due")
    return reviews.annotate(
        due=Subquery(deadlines.values("due")[:1]), due_source=Subquery(deadlines.values("source")[:1])
    )


def get_review_for(user, pk):
    review = with_due(YearlyReview.objects.visible_to(user).with_row_data()).filter(pk=pk).first()
    if review is None:
        raise Http404
    attach_countdowns([review])
    review.due_source_label = DueSource(review.due_source).label if review.due_source else None
    return review


def office_regions(user):
    """The regions whose yearly reviews `user` may start: those of their district and city office grants."""
    return Region.objects.filter(
        pk__in=RoleGrant.objects.active().filter(user=user, role__in=OFFICE_ROLES).values("region")
    ).order_by("pk")


def _back(review):
    return redirect("work:yearly_review_detail", pk=review.pk)


class YearlyReviewListView(LoginRequiredMixin, ListView):
    """年度评估: the reviews in the user's scope, newest year first; the office starts a year's reviews here."""

    template_name = "workflows/yearly/list.html"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        user = self.request.user
        reviews = with_due(YearlyReview.objects.visible_to(user).with_row_data().with_awaiting(user))
        if self.request.GET.get("awaiting") == "1":
            reviews = reviews.filter(awaits_user=True)
        return reviews.order_by("-awaits_user", "-school_year", "pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        attach_countdowns(context["object_list"])
        regions = office_regions(self.request.user)
        form = forms.StartReviewsForm(regions=regions, initial={"school_year": school_year_now()})
        context.update(
            start_form=form if regions.exists() else None,
            awaiting_only=self.request.GET.get("awaiting") == "1",
            page_query="awaiting=1&" if self.request.GET.get("awaiting") == "1" else "",
        )
        return context


class StartYearlyReviewsView(LoginRequiredMixin, View):
    def post(self, request):
        form = forms.StartReviewsForm(request.POST, regions=office_regions(request.user))
        if not form.is_valid():
            raise NotAllowed(_("Only the office of this region may start its yearly reviews."))
        started, skipped = start_yearly_reviews(
            form.cleaned_data["region"], form.cleaned_data["school_year"], by=request.user
        )
        messages.success(
            request,
            _("Yearly reviews started: %(started)s; already under review this year: %(skipped)s.")
            % {"started": len(started), "skipped": skipped},
        )
        return redirect("work:yearly_reviews")


class YearlyReviewDetailView(LoginRequiredMixin, TemplateView):
    """The review's dossier: the year's data and evidence, the monitoring indicators, the conclusion and decision,
    objections, the 整改 list with each item's state, the tier history; and the forms of the user's next step."""

    template_name = "workflows/yearly/detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        review = get_review_for(user, self.kwargs["pk"])
        Status = YearlyReview.Status
        is_lead = yearly_review.holds(user, Role.LEAD, review)
        is_office = yearly_review.holds(user, yearly_review.office_role(review), review)
        is_leader = yearly_review.holds(user, yearly_review.leader_role(review), review)
        lists = list(
            RectificationList.objects.filter(yearly_review=review).prefetch_related("items__indicator").order_by("pk")
        )
        in_notice = review.status == Status.NOTICE and timezone.now() < yearly_review.notice_ends(review)
        # The panel and its opinions: the office and leaders see all of them; an evaluator only their own.
        panel = list(review.panel.select_related("evaluator"))
        if not is_staff_for(user):
            panel = [assignment for assignment in panel if assignment.evaluator_id == user.pk]
        open_assignment = next((a for a in panel if a.evaluator_id == user.pk and a.given is None), None)
        return super().get_context_data(
            panel=panel,
            evaluators_needed=yearly_review.evaluators_needed(review),
            panel_form=forms.AssignPanelForm(
                candidates=yearly_review.panel_candidates(review), needed=yearly_review.evaluators_needed(review)
            )
            if is_office and review.status == Status.ASSIGNMENT
            else None,
            opinion_form=forms.OpinionForm() if open_assignment and review.status == Status.PANEL else None,
            review=review,
            evidence=review.evidence.select_related("uploaded_by"),
            objections=review.objections.select_related("raised_by", "resolved_by"),
            lists=lists,
            history=TierChange.objects.filter(cluster=review.cluster).order_by("effective", "pk"),
            submit_form=forms.SubmitReviewForm() if is_lead and review.status == Status.DATA else None,
            conclude_form=forms.ConcludeForm(review=review)
            if is_office and review.status == Status.CONCLUSION
            else None,
            decide_form=forms.DecideForm() if is_leader and review.status == Status.APPROVAL else None,
            objection_form=forms.ReviewObjectionForm() if is_lead and in_notice else None,
            notice_ends=yearly_review.notice_ends(review) if review.decided and review.approved else None,
            resolve_form=is_office and review.status in (Status.NOTICE, Status.OBJECTIONS),
            may_finish_objections=is_office and review.status == Status.OBJECTIONS,
            outcome_choices=ReviewObjection.Outcome.choices,
            may_answer=is_lead,
            may_verify=is_office,
            **kwargs,
        )


class _ReviewAction(LoginRequiredMixin, View):
    """POST an action on one review: an invalid input comes back as a message on the review's page."""

    def post(self, request, pk):
        review = get_review_for(request.user, pk)
        try:
            self.act(request, review)
        except InvalidInput as refusal:
            messages.error(request, refusal.message)
        return _back(review)


class SubmitReviewView(_ReviewAction):
    def act(self, request, review):
        form = forms.SubmitReviewForm(request.POST, request.FILES)
        if not form.is_valid():
            raise InvalidInput(_("Summarise the school year's work and data."))
        data = form.cleaned_data
        run_review_step(
            review,
            F.submit_data,
            lambda: yearly_review.submit(
                review, by=request.user, data_note=data["data_note"], evidence=form.evidence()
            ),
        )
        messages.success(request, _("Submitted: the office concludes the review."))


class AssignReviewPanelView(_ReviewAction):
    def act(self, request, review):
        form = forms.AssignPanelForm(
            request.POST,
            candidates=yearly_review.panel_candidates(review),
            needed=yearly_review.evaluators_needed(review),
        )
        if not form.is_valid():
            raise InvalidInput(_("Choose the review's evaluators."))
        evaluators = list(form.cleaned_data["evaluators"])
        run_review_step(review, F.assign_panel, lambda: yearly_review.assign_panel(review, evaluators, by=request.user))
        messages.success(request, _("Evaluators assigned: each gives an opinion before the office concludes."))


class GiveOpinionView(_ReviewAction):
    def act(self, request, review):
        assignment = review.panel.filter(evaluator=request.user).first()
        if assignment is None:
            raise NotAllowed(_("Only the evaluator assigned to this review may give this opinion."))
        if assignment.given is not None:
            raise IllegalTransition(_("You have already given your opinion on this review."))
        form = forms.OpinionForm(request.POST)
        if not form.is_valid():
            raise InvalidInput(_("Choose the proposed conclusion and give the reason."))
        data = form.cleaned_data
        run_review_step(
            review,
            F.give_opinion,
            lambda: yearly_review.give_opinion(assignment, data["opinion"], data["reason"], by=request.user),
            assignment=assignment,
        )
        messages.success(request, _("Your opinion has been recorded."))


class ConcludeReviewView(_ReviewAction):
    def act(self, request, review):
        form = forms.ConcludeForm(request.POST, review=review)
        if not form.is_valid():
            raise InvalidInput(_("Check the conclusion's fields."))
        try:
            items = form.items()
        except forms.forms.ValidationError as error:
            raise InvalidInput(error.messages[0]) from None
        data = form.cleaned_data
        run_review_step(
            review,
            F.conclude,
            lambda: yearly_review.conclude(
                review,
                data["conclusion"],
                by=request.user,
                reason=data["reason"],
                rectify_by=data["rectify_by"],
                to_tier=data["to_tier"],
                items=items,
            ),
        )
        messages.success(request, _("The review is concluded."))


class DecideReviewView(_ReviewAction):
    def act(self, request, review):
        form = forms.DecideForm(request.POST)
        if not form.is_valid():
            raise InvalidInput(_("Choose a decision."))
        approve = form.cleaned_data["decision"] == form.APPROVE
        run_review_step(
            review,
            F.leader_decision,
            lambda: yearly_review.decide(
                review, by=request.user, approve=approve, comment=form.cleaned_data["comment"]
            ),
        )
        messages.success(request, _("Your decision has been recorded."))


class RaiseReviewObjectionView(_ReviewAction):
    def act(self, request, review):
        form = forms.ReviewObjectionForm(request.POST)
        if not form.is_valid():
            raise InvalidInput(_("Write the objection."))
        yearly_review.raise_objection(review, form.cleaned_data["text"], by=request.user)
        messages.success(request, _("Your objection has been recorded; the office will resolve it."))


class ResolveReviewObjectionView(_ReviewAction):
    def act(self, request, review):
        if request.POST.get("action") == "finish":
            run_review_step(
                review, F.resolve_objections, lambda: yearly_review.finish_objections(review, by=request.user)
            )
            messages.success(request, _("Objections closed."))
            return
        form = forms.ResolveReviewObjectionForm(request.POST)
        if not form.is_valid():
            raise InvalidInput(_("Choose the outcome and explain the resolution."))
        objection = get_object_or_404(ReviewObjection, pk=form.cleaned_data["objection"], review=review)
        yearly_review.resolve_objection(
            objection, form.cleaned_data["outcome"], form.cleaned_data["resolution"], by=request.user
        )
        messages.success(request, _("The objection has been resolved."))


class _ItemAction(LoginRequiredMixin, View):
    """POST an action on one 整改 item; the item is found only through a review or application in scope."""

    def post(self, request, pk):
        item = get_object_or_404(RectificationItem.objects.select_related("rectification"), pk=pk)
        listed = item.rectification
        if listed.yearly_review_id:
            target = get_review_for(request.user, listed.yearly_review_id)
            back = redirect("work:yearly_review_detail", pk=target.pk)
        else:
            target = get_application_for(request.user, listed.application_id)
            back = redirect("work:application_detail", pk=target.pk)
        try:
            self.act(request, item)
        except InvalidInput as refusal:
            messages.error(request, refusal.message)
        return back


class AnswerItemView(_ItemAction):
    def act(self, request, item):
        form = forms.AnswerItemForm(request.POST, request.FILES)
        if not form.is_valid():
            raise InvalidInput(_("Say what was changed."))
        rectification.answer_item(
            item, form.cleaned_data["response"], by=request.user, evidence=form.cleaned_data["evidence"]
        )
        messages.success(request, _("Answer recorded; the office will verify it."))


class VerifyItemView(_ItemAction):
    def act(self, request, item):
        rectification.verify_item(item, by=request.user)
        messages.success(request, _("Item verified."))


class ReturnItemView(_ItemAction):
    def act(self, request, item):
        form = forms.ReturnItemForm(request.POST)
        if not form.is_valid():
            raise InvalidInput(_("Say why the item is returned."))
        rectification.return_item(item, form.cleaned_data["reason"], by=request.user)
        messages.success(request, _("Item returned to the cluster."))
