"""Pages of 转办 / 委派 / 加签, co-signing, out-of-office cover and the office's bulk panel assignment.

Thin: load the object through a scope-aware helper, validate a form, call one engine or domain function; a domain
refusal is shown on the form, in Chinese, with nothing changed.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView
from viewflow.workflow.models import Task

from certification.domain import cover, handover
from certification.errors import DomainError, NotAllowed
from certification.models import Absence, Application, CoSignature, Role, RoleGrant, User
from certification.scope import is_office

from . import bulk
from . import handover as engine
from .flows import CertificationFlow
from .queues import PAGE_SIZE


def _user_choices(users, refusals=None):
    refusals = refusals or {}
    return [("", "---------")] + [
        (user.pk, f"{user}（{refusals[user.pk]}）" if refusals.get(user.pk) else str(user)) for user in users
    ]


class PersonForm(forms.Form):
    """Choose a colleague and give the reason. Any active person is accepted so the domain explains a refusal."""

    receiver = forms.ModelChoiceField(label=gettext_lazy("Colleague"), queryset=User.objects.filter(is_active=True))
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, candidates=(), refusals=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receiver"].widget.choices = _user_choices(candidates, refusals)


def _task_for(user, task_pk):
    """The open task `task_pk` if `user` holds it; a bare refusal outside their scope (no existence leak)."""
    task = Task.objects.filter(pk=task_pk, flow_task_type="HUMAN").select_related("process", "owner").first()
    if task is None or not CertificationFlow.instance.has_view_permission(user, task.process):
        raise NotAllowed(_("You may not work on this task."))
    if task.owner_id != user.pk:
        raise NotAllowed(_("Only the person who holds the task may pass it on."))
    return task


class TaskHandoverView(LoginRequiredMixin, TemplateView):
    """转办 / 委派 / 加签 from a task page: choose a colleague of the same role, give the reason."""

    template_name = "workflows/handover/task_handover.html"
    kind = None
    TITLES = {
        "transfer": gettext_lazy("Transfer the task"),
        "delegate": gettext_lazy("Delegate the task"),
        "cosign": gettext_lazy("Add a co-signer"),
    }
    HELP = {
        "transfer": gettext_lazy("The colleague takes the task over for good; it leaves your inbox."),
        "delegate": gettext_lazy(
            "The colleague fills in the task and returns it to you; you check it and complete the task."
        ),
        "cosign": gettext_lazy("Your decision waits until the colleague has co-signed."),
    }

    def candidates(self, task):
        application = task.process.artifact
        role = engine.task_role(task)
        if role is None:
            return [], {}
        people = [user for user in RoleGrant.objects.holders(role, application) if user.pk != self.request.user.pk]
        refusals = {
            user.pk: handover.receiver_refusal(application, role, user, holder=self.request.user) for user in people
        }
        return people, refusals

    def page(self, task, form, status=200):
        context = self.get_context_data(
            task=task,
            application=task.process.artifact,
            form=form,
            title=self.TITLES[self.kind],
            help=self.HELP[self.kind],
            task_title=task.flow_task.task_title,
            task_url=task.flow_task.reverse("execute", args=[task.process_id, task.pk]),
        )
        return self.render_to_response(context, status=status)

    def get(self, request, task_pk):
        task = _task_for(request.user, task_pk)
        people, refusals = self.candidates(task)
        return self.page(task, PersonForm(candidates=people, refusals=refusals))

    def post(self, request, task_pk):
        task = _task_for(request.user, task_pk)
        people, refusals = self.candidates(task)
        form = PersonForm(request.POST, candidates=people, refusals=refusals)
        if not form.is_valid():
            return self.page(task, form, status=400)
        receiver, reason = form.cleaned_data["receiver"], form.cleaned_data["reason"]
        try:
            if self.kind == "transfer":
                engine.transfer_task(task, receiver, reason, by=request.user)
                done = _("The task is now with %(name)s.")
            elif self.kind == "delegate":
                engine.delegate_task(task, receiver, reason, by=request.user)
                done = _("The task is with %(name)s until they return it.")
            else:
                engine.add_cosigner(task, receiver, reason, by=request.user)
                done = _("%(name)s has been asked to co-sign; decide once they have.")
        except DomainError as refusal:
            form.add_error(None, refusal.message)
            return self.page(task, form, status=refusal.status)
        messages.success(request, done % {"name": receiver})
        if self.kind == "cosign":
            return redirect(task.flow_task.reverse("execute", args=[task.process_id, task.pk]))
        return redirect("work:application_detail", pk=task.process.artifact_object_id)


class SignForm(forms.Form):
    AGREE, DECLINE = "agree", "decline"
    decision = forms.ChoiceField(
        label=gettext_lazy("Your co-signature"),
        choices=[(AGREE, gettext_lazy("Agree")), (DECLINE, gettext_lazy("Decline"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=gettext_lazy("Opinion"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CoSignaturesView(LoginRequiredMixin, TemplateView):
    """待会签: the co-signatures the user has been asked for, open first, a page at a time; sign each here."""

    template_name = "workflows/handover/cosignatures.html"

    def get_context_data(self, **kwargs):
        rows = (
            CoSignature.objects.filter(signer=self.request.user)
            .select_related("application__cluster", "requested_by")
            .order_by("closed", "-created", "-pk")
        )
        page = Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get("page"))
        for row in page.object_list:
            row.form = SignForm(auto_id=f"id_%s_{row.pk}") if row.status == CoSignature.Status.PENDING else None
        return super().get_context_data(page_obj=page, is_paginated=page.has_other_pages(), rows=page, **kwargs)


class SignView(LoginRequiredMixin, View):
    """The co-signer agrees or declines one co-signature (someone else's answers 404)."""

    def post(self, request, pk):
        cosignature = get_object_or_404(CoSignature, pk=pk, signer=request.user)
        form = SignForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose agree or decline."))
            return redirect("work:cosignatures")
        try:
            handover.sign(
                cosignature,
                agree=form.cleaned_data["decision"] == SignForm.AGREE,
                comment=form.cleaned_data["comment"],
                by=request.user,
            )
        except DomainError as refusal:
            messages.error(request, refusal.message)
            return redirect("work:cosignatures")
        messages.success(request, _("Your co-signature has been recorded."))
        return redirect("work:cosignatures")


class AbsenceForm(forms.Form):
    starts = forms.DateField(label=gettext_lazy("First day away"), widget=forms.DateInput(attrs={"type": "date"}))
    ends = forms.DateField(label=gettext_lazy("Last day away"), widget=forms.DateInput(attrs={"type": "date"}))
    substitute = forms.ModelChoiceField(label=gettext_lazy("Substitute"), queryset=User.objects.filter(is_active=True))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["substitute"].widget.choices = _user_choices(candidates)


def substitute_candidates(user):
    """Colleagues who hold every scoped role of `user` in the same scope (who can substitute for them)."""
    grants = cover.scoped_grants(user)
    if not grants:
        return []
    people = User.objects.filter(is_active=True).exclude(pk=user.pk)
    for grant in grants:
        people = people.filter(
            role_grants__in=RoleGrant.objects.active().filter(
                role=grant.role, cluster_id=grant.cluster_id, region_id=grant.region_id
            )
        )
    return list(people.distinct().order_by("pk")[:200])


class AbsencesView(LoginRequiredMixin, TemplateView):
    """外出代理: record an absence with a substitute, hand the open tasks over in one action, end it early."""

    template_name = "workflows/handover/absences.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        rows = Absence.objects.filter(user=user).select_related("substitute").order_by("-starts", "-pk")
        page = Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get("page"))
        today = timezone.localdate()
        for row in page.object_list:
            row.is_current = row.cancelled is None and row.starts <= today <= row.ends
            row.may_cancel = row.cancelled is None and row.ends >= today
        kwargs.setdefault("form", AbsenceForm(candidates=substitute_candidates(user)))
        covering = Absence.objects.current().filter(substitute=user).select_related("user").order_by("ends")[:PAGE_SIZE]
        return super().get_context_data(
            page_obj=page,
            is_paginated=page.has_other_pages(),
            rows=page,
            covering=covering,
            open_tasks=Task.objects.filter(flow_task_type="HUMAN", owner=user, status="ASSIGNED").count(),
            **kwargs,
        )

    def post(self, request):
        form = AbsenceForm(request.POST, candidates=substitute_candidates(request.user))
        if form.is_valid():
            data = form.cleaned_data
            try:
                cover.record_absence(
                    request.user, data["starts"], data["ends"], data["substitute"], data["reason"], by=request.user
                )
            except DomainError as refusal:
                form.add_error(None, refusal.message)
                return self.render_to_response(self.get_context_data(form=form), status=refusal.status)
            messages.success(request, _("Your absence is recorded; new tasks go to your substitute while it lasts."))
            return redirect("work:absences")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class AbsenceActionView(LoginRequiredMixin, View):
    """Cancel an absence, or hand every open task over to the substitute now."""

    action = None

    def post(self, request, pk):
        absence = get_object_or_404(Absence.objects.select_related("substitute"), pk=pk, user=request.user)
        if self.action == "cancel":
            cover.cancel_absence(absence, by=request.user)
            messages.success(request, _("The absence has been cancelled."))
            return redirect("work:absences")
        handed, refused = engine.hand_over_open_tasks(absence, by=request.user)
        messages.success(
            request, _("Tasks handed over to %(name)s: %(count)s") % {"name": absence.substitute, "count": len(handed)}
        )
        for task, reason in refused:
            messages.error(request, f"{task.flow_task.task_title}：{reason}")
        return redirect("work:absences")


class BulkPanelForm(forms.Form):
    applications = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Applications"), queryset=Application.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    evaluators = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Evaluators (at least three)"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    panel_lead = forms.ModelChoiceField(label=gettext_lazy("Panel lead"), queryset=User.objects.none())

    def __init__(self, *args, applications, evaluators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["applications"].queryset = applications
        self.fields["evaluators"].queryset = evaluators
        self.fields["panel_lead"].queryset = evaluators


def _waiting_for_panel(user):
    return (
        Application.objects.visible_to(user)
        .filter(status=Application.Status.ASSIGNMENT)
        .select_related("cluster__district__parent")
        .order_by("status_changed", "pk")
    )


def _evaluators():
    grants = RoleGrant.objects.active().filter(role=Role.EVALUATOR)
    return User.objects.filter(is_active=True, role_grants__in=grants).distinct().order_by("pk")


class BulkPanelView(LoginRequiredMixin, TemplateView):
    """批量分配评估组: the same panel for several applications; each checked on its own, refusals listed."""

    template_name = "workflows/handover/bulk_panel.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_office(request.user):
            raise PermissionDenied(_("This page is for the district and city offices."))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        page = Paginator(_waiting_for_panel(self.request.user), PAGE_SIZE).get_page(self.request.GET.get("page"))
        if "form" not in kwargs:
            kwargs["form"] = BulkPanelForm(
                applications=Application.objects.filter(pk__in=[a.pk for a in page.object_list]),
                evaluators=_evaluators(),
            )
        return super().get_context_data(page_obj=page, is_paginated=page.has_other_pages(), rows=page, **kwargs)

    def post(self, request):
        form = BulkPanelForm(request.POST, applications=_waiting_for_panel(request.user), evaluators=_evaluators())
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        data = form.cleaned_data
        results = bulk.assign_panel_to_many(
            list(data["applications"]), list(data["evaluators"]), data["panel_lead"], by=request.user
        )
        return self.render_to_response(self.get_context_data(results=results))
