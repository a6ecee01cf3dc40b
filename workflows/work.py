"""The pages each person works from: 我的申报 (lead), 评审任务 (evaluator), 审批队列 (leaders), the office's page,
申报列表 and an application's dossier.

Views are thin: they read through the QuerySet methods below (a fixed number of queries whatever the number of
rows), load one application through `get_application_for`, and leave every change to a domain function or to the
workflow's own task views, which these pages link to.
"""

import re
from collections import defaultdict
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Func, IntegerField, OuterRef, Prefetch, Subquery, Value, Window
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView, TemplateView
from viewflow.workflow import chart

from certification.domain import approval
from certification.domain.certificate import rectification_list
from certification.domain.eligibility import check_eligibility
from certification.domain.evidence import requirements_of
from certification.domain.exports import request_export
from certification.domain.notify import send_deadline_reminders
from certification.domain.opening import WITHDRAWABLE
from certification.domain.queries import missing_requirements_of
from certification.domain.tiers import run_tier_timers
from certification.errors import InvalidInput, NotAllowed, NotEligible
from certification.models import (
    Application,
    ApplicationStage,
    AuditEvent,
    Cluster,
    CorrectionRequest,
    DatasetImport,
    EvaluatorAssignment,
    EvidenceStage,
    ExportJob,
    IndicatorResult,
    Objection,
    RectificationList,
    Role,
    RoleGrant,
    ScoreSheet,
)
from certification.models.application import ApplicationQuerySet
from certification.models.evidence import EvidenceFile
from certification.models.handover import CoSignature, TaskHandover
from certification.models.people import ROLE_APPLICATION_PATH
from certification.models.tier import Tier, next_tier
from certification.permissions import get_application_for
from certification.scope import (
    LEADER_ROLES,
    deciding_office_permission,
    export_districts,
    hidden_actors,
    is_office,
    is_staff_for,
    may_end_publicity_for_demo,
    may_export,
    perm,
    roles_of,
    sees_panel,
    sees_results,
)
from certification.tasks import recover_interrupted_work

from . import queues
from .deadlines import attach_countdowns, due_of_task, due_source_of_task
from .engine import (
    end_publicity_now_for_demo,
    fire_due_timers,
    remove_from_running_panel,
    send_task_deadline_notices,
    with_publicity_end,
    withdraw_application,
)
from .flows import CertificationFlow
from .forms import RecuseForm, WithdrawForm
from .models import QueueEntry, WorkApplication, process_for

# ---------------------------------------------------------------------------------------------------------------
# Reads


class WorkQuerySet(ApplicationQuerySet):
    """Application reads of the work pages. Each method adds what one kind of row shows, in a fixed number of queries."""

    def with_row_data(self):
        return self.select_related("cluster__district__parent", "standard")

    def with_figures(self):
        """Each application with its figures: disagreements found, how many are still unreconciled, the active
        evaluators; counted by correlated subqueries. The lists load their page's rows with them
        (`WorkListView.page_figures`), never inside the query that sorts and counts every row in scope."""
        disagreements = IndicatorResult.objects.filter(application=OuterRef("pk"), disagreement=True)
        active = EvaluatorAssignment.objects.filter(
            application=OuterRef("pk"), status=EvaluatorAssignment.Status.ACTIVE
        )
        return self.annotate(
            disagreement_count=_count(disagreements),
            unreconciled_count=_count(disagreements.filter(reconciled_value__isnull=True)),
            active_evaluator_count=_count(active),
        )

    def with_progress(self):
        """The three evidence stages, the open correction requests with their returned indicators, the certificate."""
        return (
            self.with_row_data()
            .select_related("certificate")
            .prefetch_related(
                "stages",
                Prefetch(
                    "corrections",
                    queryset=CorrectionRequest.objects.filter(resolved__isnull=True)
                    .prefetch_related("indicators")
                    .order_by("deadline"),
                    to_attr="open_corrections",
                ),
            )
        )


def _count(queryset):
    """COUNT(*) of `queryset` (correlated with the outer row) as an integer annotation."""
    counted = queryset.order_by().values(one=Value(1)).annotate(n=Func("pk", function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def applications():
    return WorkQuerySet(model=WorkApplication)


def open_tasks(user, application_ids=None):
    """The user's open human tasks of the certification flow, by application id: assigned to them or theirs to take.

    `application_ids` limits them to the applications of a page (one query, whatever the user's scope); the
    question "may this user take this task" is asked in SQL (`queues.may_take`).
    Each task carries `url` (its form when assigned to the user, else viewflow's task page) and, for a task still in
    the queue, `take_url` (POST: assign it to the user and open its form); `title` is the node's annotation; `due`
    and `countdown` its deadline (`workflows.deadlines`; the holiday calendar comes from its cache).
    """
    if application_ids is not None:
        # A page's applications: their tasks' queue entries found by application id (an index), each checked one
        # by one (`queues.may_take`, per_row); the entry holds the application and the due date.
        entries = (
            QueueEntry.objects.filter(application_id__in=list(application_ids))
            .filter(queues.entry_condition(user, per_row=True))
            .select_related("task", "task__deadline")
            .order_by("created", "task_id")
        )
        found = []
        for entry in entries:
            entry.task.due = entry.due
            found.append((entry.application_id, entry.task))
    else:
        tasks = queues.open_tasks_of(user).select_related("process", "deadline").order_by("created", "pk")
        found = []
        for task in tasks:
            if task.process.artifact_object_id:
                task.due = due_of_task(task)
                found.append((int(task.process.artifact_object_id), task))
    by_application = defaultdict(list)
    url = _TaskUrls()
    for application_id, task in found:
        task.is_assigned = task.owner_id == user.pk
        task.due_source = due_source_of_task(task)
        task.url = url(task, "execute" if task.is_assigned else "index")
        if not task.is_assigned:
            # Taking a task from the queue is one POST; viewflow then follows ?back= to the task's form.
            execute = url(task, "execute")
            task.take_url = f"{url(task, 'assign')}?{urlencode({'back': execute})}"
        by_application[application_id].append(task)
    attach_countdowns([task for items in by_application.values() for task in items])
    return by_application


class _TaskUrls:
    """A task's viewflow URL (`node.reverse(view, args=[process id, task id])`), each (node, view) reversed once:
    a page's 25 rows reversed up to three URLs per task, each walking the URL resolver."""

    # Stand-ins for the two ids in the reversed pattern (viewflow's `<int:process_pk>/<int:task_pk>/`).
    PROCESS, TASK = 9_876_543_210_123, 9_876_543_210_456

    def __init__(self):
        self.patterns = {}

    def __call__(self, task, view):
        key = (task.flow_task, view)
        pattern = self.patterns.get(key)
        if pattern is None:
            reversed_url = task.flow_task.reverse(view, args=[self.PROCESS, self.TASK])
            pattern = self.patterns[key] = reversed_url.replace(str(self.PROCESS), "{process}").replace(
                str(self.TASK), "{task}"
            )
        return pattern.format(process=task.process_id, task=task.pk)


def add_labels(rows):
    """Each application's tier and status as the page shows them (`tier_label`, `status_label`): what
    `get_target_tier_display()` and `get_status_display()` answer, each label translated once for the page rather
    than looked up through the field's choices for every row; and its dossier's address (`detail_url`), the URL
    pattern reversed once for the page."""
    tiers = {value: str(label) for value, label in Tier.choices}
    statuses = {value: str(label) for value, label in Application.Status.choices}
    detail = reverse("work:application_detail", args=[_TaskUrls.PROCESS]).replace(str(_TaskUrls.PROCESS), "{pk}")
    for row in rows:
        row.tier_label = tiers.get(row.target_tier, row.target_tier)
        row.status_label = statuses.get(row.status, row.status)
        row.detail_url = detail.format(pk=row.pk)


def agreement(application):
    """The evaluators' agreement as one line: no disagreement, reconciled, or how many are still open."""
    if not application.disagreement_count:
        return _("No disagreement")
    if not application.unreconciled_count:
        return _("Reconciled (%(count)s)") % {"count": application.disagreement_count}
    return _("%(count)s disagreements to reconcile") % {"count": application.unreconciled_count}


def veto_status(application):
    if application.vetoes_met is None:
        return _("Not yet scored")
    return _("All veto indicators met") if application.vetoes_met else _("A veto indicator is not met")


def stage_rows(application, *, missing=None):
    """The three stages in order with their status, and what required evidence each still lacks (from `missing`,
    `queries.missing_requirements_of`'s answer; None shows nothing missing)."""
    submitted = {stage.stage: stage for stage in application.stages.all()}
    rows = []
    for value, label in EvidenceStage.choices:
        stage = submitted.get(value)
        is_submitted = stage is not None and stage.status == ApplicationStage.Status.SUBMITTED
        rows.append(
            {
                "value": value,
                "label": label,
                "submitted": is_submitted,
                "submitted_at": stage.submitted if is_submitted else None,
                "missing": missing.get((application.pk, value), []) if missing is not None and not is_submitted else [],
            }
        )
    return rows


# The roles that can be covered during an absence or asked to co-sign (those with a scope).
HANDOVER_ROLES = frozenset(ROLE_APPLICATION_PATH)


def menu_for(request):
    """The work app's menu: the pages of the roles the user holds, the current one marked."""
    user = request.user
    roles = roles_of(user)
    items = []

    def add(name, title, icon):
        url = reverse(f"work:{name}")
        items.append({"url": url, "title": title, "icon": icon, "current": request.path == url})

    if Role.LEAD in roles:
        add("mine", _("My applications"), "assignment")
    if Role.EVALUATOR in roles:
        add("reviews", _("Review tasks"), "rate_review")
    if roles & LEADER_ROLES or Role.CITY_OFFICE in roles:
        add("approvals", _("Approval queue"), "gavel")
    if is_office(user):
        add("office", _("Office desk"), "business_center")
    if roles & {Role.LEAD, Role.DISTRICT_OFFICE, Role.CITY_OFFICE, Role.DISTRICT_LEADER, Role.CITY_LEADER}:
        add("yearly_reviews", _("Yearly reviews"), "event_repeat")
    add("application_list", _("Application list"), "folder_open")
    if roles & HANDOVER_ROLES:
        add("cosignatures", _("Co-signatures"), "draw")
        add("absences", _("Out of office"), "event_busy")
    add("notifications", _("Notifications"), "notifications")
    return items


# ---------------------------------------------------------------------------------------------------------------
# Pages


class WorkIndexView(LoginRequiredMixin, View):
    """Send each person to the page they work from."""

    def get(self, request):
        roles = roles_of(request.user)
        if Role.LEAD in roles:
            return redirect("work:mine")
        if Role.EVALUATOR in roles:
            return redirect("work:reviews")
        if roles & LEADER_ROLES:
            return redirect("work:approvals")
        if is_office(request.user):
            return redirect("work:office")
        return redirect("work:application_list")


class MyApplicationsView(LoginRequiredMixin, TemplateView):
    """我的申报: the lead's clusters, the tier they may apply for next, and their applications stage by stage."""

    template_name = "workflows/work/mine.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        # A lead has a cluster or two: their tier is derived in Python from the prefetched certificates and tier
        # history (`holding.tier_on`, the same rule as `with_tier()`), whose SQL alone took ~30 ms to compile.
        clusters = list(
            Cluster.objects.filter(
                pk__in=RoleGrant.objects.active().filter(user=user, role=Role.LEAD).values("cluster")
            )
            .select_related("district__parent")
            .with_tier_history()
        )
        rows = list(applications().filter(cluster__in=clusters).with_progress().order_by("-created", "-pk"))
        tasks = open_tasks(user, [application.pk for application in rows])
        open_rows = [application for application in rows if application.is_open]
        missing = missing_requirements_of(open_rows)
        for application in rows:
            application.stage_rows = stage_rows(application, missing=missing if application.is_open else None)
            application.open_tasks = tasks.get(application.pk, [])
            # Every row is of a cluster the user leads: the state decides (no permission query per row).
            application.may_withdraw = application.status in WITHDRAWABLE
        open_by_cluster = {application.cluster_id: application for application in open_rows}
        return super().get_context_data(
            clusters=[self._cluster_row(cluster, open_by_cluster.get(cluster.pk)) for cluster in clusters],
            applications=rows,
            task_count=sum(len(items) for items in tasks.values()),
            **kwargs,
        )

    def _cluster_row(self, cluster, open_application):
        target = next_tier(cluster.current_tier) or Tier(cluster.current_tier)
        try:
            check_eligibility(cluster, target, open_application=open_application)
            refusal = ""
        except NotEligible as error:
            refusal = error.message
        start = f"{start_url()}?{urlencode({'cluster': cluster.pk, 'target_tier': target})}"
        return {"cluster": cluster, "target": Tier(target), "refusal": refusal, "start_url": start}


def objection_url(application):
    """Where anyone who can see the application raises an objection (异议), while its 公示 runs."""
    if application.status != Application.Status.PUBLICITY:
        return ""
    return reverse("workflow:objection_raise", args=[application.pk])


def start_url():
    """The workflow's page that opens a new application (the lead picks the cluster and tier there)."""
    return CertificationFlow.start.reverse("execute")


def _with_annotations(application, key):
    for name, value in key.items():
        if name != "pk":
            setattr(application, name, value)
    return application


class WorkListView(LoginRequiredMixin, ListView):
    """A work list: one page of rows on the server, django-filter's filters and search, "共 N 条" from one COUNT.

    Subclasses give `rows()` (the rows in the user's scope, in their default order), the filter's `prefix` (the
    path from a row to its application), the `orderings` a user sorts by and whether the step filter applies.
    """

    paginate_by = queues.PAGE_SIZE
    context_object_name = "rows"
    prefix = ""
    orderings = ()
    stages = False
    # The rows are applications grouped from the user's open tasks (`queues.with_open_tasks`): sort and count
    # their ids, then load the page's rows (see `paginate_queryset`).
    keys_first = False
    # With `keys_first`: the page's rows are loaded with their figures (`WorkQuerySet.with_figures`).
    page_figures = False

    def rows(self):
        raise NotImplementedError

    def get_queryset(self):
        filters = queues.application_filters(
            self.prefix, orderings=self.orderings, stages=self.stages, user=self.request.user
        )
        rows = self.rows()
        self.filterset = filters(self.request.GET or None, queryset=rows, request=self.request)
        # An invalid filter value (a date that is no date) filters nothing and is shown on the form.
        return self.filterset.qs if self.filterset.is_bound and self.filterset.is_valid() else rows

    def paginate_queryset(self, queryset, page_size):
        """A page past the last (the list shrank since the link was made) shows the last page, not a 404.

        With `keys_first`, see `_keys_first_page`.
        """
        if self.keys_first:
            return self._keys_first_page(queryset, page_size)
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()

    def _keys_first_page(self, queryset, page_size):
        """The rows in scope are sorted by a query that selects only the applications' ids and annotations (grouped
        by the id alone); the page's rows are then loaded by id. The first page (the one nearly everyone opens)
        counts in the same query: each row carries the total (`COUNT(*) OVER ()`), so "共 N 条" needs no second
        pass over the user's tasks; any other page counts first, as Django's paginator does (so a page past the
        last shows the last one), which keeps the number of queries of each page the same at any scale."""
        keys = queryset.values("pk", *queryset.query.annotations)
        raw = self.request.GET.get(self.page_kwarg) or "1"
        if raw == "1":
            keys = keys.annotate(row_total=Window(Count("pk")))
            paginator = self.get_paginator(keys, page_size)
            found = list(keys[:page_size])
            paginator.__dict__["count"] = found[0]["row_total"] if found else 0  # Paginator.count, known now
            page = paginator.page(1)
        else:
            paginator = self.get_paginator(keys, page_size)
            page = paginator.get_page(raw)
            found = list(page.object_list)
        page_rows = applications().with_row_data()
        if self.page_figures:
            page_rows = page_rows.with_figures()
        loaded = page_rows.in_bulk([key["pk"] for key in found])
        page.object_list = [
            _with_annotations(loaded[key["pk"]], {name: value for name, value in key.items() if name != "row_total"})
            for key in found
            if key["pk"] in loaded
        ]
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        query.pop("page", None)
        context = super().get_context_data(
            filter=self.filterset,
            page_query=f"{query.urlencode()}&" if query else "",
            total=None,
            **kwargs,
        )
        context["total"] = context["paginator"].count
        self.decorate(context["rows"])
        self.decorate_due(context["rows"])
        return context

    def decorate(self, rows):
        """Add what the rows of the page show beside their columns (their open tasks, labels)."""

    def decorate_due(self, rows):
        """The countdown beside each row's due date (the holiday calendar read once, from its cache)."""
        attach_countdowns(rows)


class ReviewsView(WorkListView):
    """评审任务: the evaluator's assignments, each with its scoring task and how far the sheet is."""

    template_name = "workflows/work/reviews.html"
    prefix = "application__"
    orderings = (
        ("due", gettext_lazy("Due date")),
        ("created", gettext_lazy("Assigned on")),
        ("application__cluster__name", gettext_lazy("Cluster")),
        ("application__status", gettext_lazy("Status")),
    )

    def rows(self):
        return (
            EvaluatorAssignment.objects.filter(evaluator=self.request.user)
            .select_related("application__cluster__district__parent", "application__standard", "sheet")
            .annotate(waiting_since=F("created"), due=queues.due_of(self.request.user, "application_id"))
            .order_by("-created", "-pk")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["assignments"] = context["rows"]
        # The yearly reviews whose panel the evaluator sits on: the newest page of them, beside the applications.
        panels = list(queues.review_assignments_of(self.request.user)[: queues.PAGE_SIZE])
        attach_countdowns(panels)
        context["review_panels"] = panels
        return context

    def decorate(self, assignments):
        tasks = open_tasks(self.request.user, [assignment.application_id for assignment in assignments])
        for assignment in assignments:
            assignment.open_tasks = tasks.get(assignment.application_id, [])
            sheet = getattr(assignment, "sheet", None)
            if sheet is None or (sheet.status == ScoreSheet.Status.DRAFT and sheet.saved is None):
                assignment.sheet_label = _("Not started")
            elif sheet.status == ScoreSheet.Status.SUBMITTED:
                assignment.sheet_label = _("Submitted %(date)s") % {"date": f"{sheet.submitted:%Y-%m-%d}"}
            else:
                assignment.sheet_label = _("Draft, saved %(date)s") % {"date": f"{sheet.saved:%Y-%m-%d %H:%M}"}


# The approval queue's tasks: each leader's or the city office's decision.
DECISION_NODES = (CertificationFlow.district_decision, CertificationFlow.city_review, CertificationFlow.city_decision)

TASK_ORDERINGS = (
    ("due", gettext_lazy("Due date")),
    ("waiting_since", gettext_lazy("Waiting since")),
    ("cluster__name", gettext_lazy("Cluster")),
    ("target_tier", gettext_lazy("Tier")),
    ("total_score", gettext_lazy("Total")),
)


class ApprovalQueueView(WorkListView):
    """审批队列: one row per application awaiting this leader's decision, with the figures to decide on."""

    template_name = "workflows/work/approvals.html"
    orderings = TASK_ORDERINGS
    stages = True
    keys_first = True
    page_figures = True

    def rows(self):
        awaiting = applications().filter(status=Application.Status.APPROVAL)
        due = queues.sorts_by(self.request, "due")
        decisions = queues.with_open_tasks(awaiting, self.request.user, nodes=DECISION_NODES, due=due)
        return decisions.order_by("waiting_since", "pk")

    def decorate(self, rows):
        tasks = open_tasks(self.request.user, [application.pk for application in rows])
        add_labels(rows)
        for application in rows:
            application.open_tasks = tasks.get(application.pk, [])
            if not hasattr(application, "due"):
                application.due = queues.page_due(application.open_tasks, DECISION_NODES)
            application.agreement = agreement(application)
            application.veto_label = veto_status(application)


class OfficeView(WorkListView):
    """The office's desk: its open workflow tasks per application, the 公示 running, and the due-timer button."""

    template_name = "workflows/work/office.html"
    orderings = TASK_ORDERINGS
    stages = True
    keys_first = True
    page_figures = True

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_office(request.user):
            raise PermissionDenied(_("This page is for the district and city offices."))
        return super().dispatch(request, *args, **kwargs)

    def rows(self):
        user = self.request.user
        due = queues.sorts_by(self.request, "due")
        return queues.with_open_tasks(applications(), user, due=due).order_by("waiting_since", "pk")

    def decorate(self, rows):
        tasks = open_tasks(self.request.user, [application.pk for application in rows])
        add_labels(rows)
        select = _("Select %(cluster)s for export")  # the export box's label, translated once for the page
        for application in rows:
            application.open_tasks = tasks.get(application.pk, [])
            if not hasattr(application, "due"):
                application.due = queues.page_due(application.open_tasks)
            # The cluster's name escaped, as the template's {% blocktrans %} escaped it.
            application.export_label = mark_safe(select % {"cluster": conditional_escape(application.cluster.name)})

    def get_context_data(self, **kwargs):
        user = self.request.user
        in_publicity = applications().visible_to(user).filter(status=Application.Status.PUBLICITY)
        # The running 公示 are shown oldest first, one page of them; "共 N 条" counts them all.
        publicity = list(
            with_publicity_end(
                in_publicity.with_row_data().annotate(
                    open_objection_count=_count(
                        Objection.objects.filter(application=OuterRef("pk"), resolved__isnull=True)
                    )
                )
            ).order_by("status_changed", "pk")[: queues.PAGE_SIZE]
        )
        add_labels(publicity)
        for application in publicity:
            # The demo shortcut is the deciding office's (the city's for 市级示范性); the domain checks the scope.
            application.may_end_publicity = settings.DEMO_MODE and may_end_publicity_for_demo(user, application)
        return super().get_context_data(
            publicity=publicity,
            publicity_total=in_publicity.count() if len(publicity) == queues.PAGE_SIZE else len(publicity),
            export_districts=export_districts(user),
            export_selection_max=settings.EXPORT_SELECTION_MAX,
            demo_mode=settings.DEMO_MODE,
            **kwargs,
        )


class BulkExportView(LoginRequiredMixin, View):
    """The office exports applications of its desk in one workbook (the export job of
    `certification.domain.exports`, which checks them against the office's scope in one query: one outside refuses
    them all): those it ticked, or (`scope=filtered`) every one its desk lists under the filters in the query
    string, up to `EXPORT_SELECTION_MAX`."""

    def post(self, request):
        if not is_office(request.user):
            raise PermissionDenied(_("This page is for the district and city offices."))
        if request.POST.get("scope") == "filtered":
            ids = self._filtered(request)
        else:
            ids = sorted({int(value) for value in request.POST.getlist("application") if value.isdigit()})
        if not ids:
            messages.error(request, _("Select at least one application to export."))
            return redirect("work:office")
        if len(ids) > settings.EXPORT_SELECTION_MAX:
            raise InvalidInput(
                _("At most %(max)s applications can be exported at once; you selected %(count)s.")
                % {"max": settings.EXPORT_SELECTION_MAX, "count": len(ids)}
            )
        chosen = list(Application.objects.filter(pk__in=ids).select_related("cluster__district"))
        if len(chosen) != len(ids):
            raise NotAllowed(_("You may not export this summary."))
        job = request_export(by=request.user, applications=chosen, file_format=request.POST.get("format") or "xlsx")
        return redirect("export_job", pk=job.pk)

    def _filtered(self, request):
        """The ids of every application the desk lists under the request's filters (its query string), read in one
        query as the desk reads them; more than the cap refuses, saying how many matched."""
        desk = OfficeView()
        desk.setup(request)
        rows = desk.get_queryset().values_list("pk", flat=True)
        cap = settings.EXPORT_SELECTION_MAX
        ids = list(rows[: cap + 1])
        if len(ids) > cap:
            raise InvalidInput(
                _(
                    "The filters match %(count)s applications, more than the %(max)s one export may hold; narrow the "
                    "filters (district, tier, step) and export again."
                )
                % {"count": rows.count(), "max": cap}
            )
        return sorted(ids)


class FireTimersView(LoginRequiredMixin, View):
    """The office ends the 公示 periods that are due now and sends the deadline notices due: what beat does, for
    installs without beat."""

    def post(self, request):
        if not is_office(request.user):
            raise PermissionDenied(_("Only the district or city office may fire due timers."))
        fired = fire_due_timers()
        count = fired if isinstance(fired, int) else len(fired or [])
        messages.success(request, _("Publicity periods ended: %(count)s") % {"count": count})
        notices = send_task_deadline_notices() + send_deadline_reminders()
        if notices:
            messages.info(request, _("Deadline notices sent: %(count)s") % {"count": notices})
        restarted, failed = recover_interrupted_work()
        if restarted or failed:
            messages.info(
                request,
                _("Interrupted imports and exports: %(restarted)s restarted, %(failed)s failed.")
                % {"restarted": restarted, "failed": failed},
            )
        expired, reminded = run_tier_timers()
        if expired or reminded:
            messages.info(
                request,
                _("Certificates expired: %(expired)s; expiry reminders sent: %(reminded)s")
                % {"expired": expired, "reminded": reminded},
            )
        return redirect("work:office")


class EndPublicityForDemoView(LoginRequiredMixin, View):
    """Demo only: the office ends one application's 公示 now (the domain refuses outside DEMO_MODE).

    GET asks for confirmation (ending early cannot be undone); POST ends it.
    """

    def get(self, request, pk):
        application = get_application_for(request.user, pk)
        if not (settings.DEMO_MODE and may_end_publicity_for_demo(request.user, application)):
            raise PermissionDenied(_("Only the deciding office may end this publicity period, and only in demo mode."))
        application = with_publicity_end(Application.objects.filter(pk=application.pk)).get()
        return render(request, "workflows/work/end_publicity_confirm.html", {"application": application})

    def post(self, request, pk):
        application = get_application_for(request.user, pk)
        end_publicity_now_for_demo(application, by=request.user)
        application.refresh_from_db()
        messages.success(
            request,
            _("Publicity period ended for %(cluster)s (demo shortcut); the application is now “%(status)s”.")
            % {"cluster": application.cluster.name, "status": application.get_status_display()},
        )
        return redirect("work:office")


def may_withdraw(user, application):
    """Whether the page offers `user` to withdraw `application` (the domain checks again when they confirm)."""
    return application.status in WITHDRAWABLE and user.has_perm(perm("act_as_lead"), application)


class WithdrawApplicationView(LoginRequiredMixin, TemplateView):
    """撤回申报: the lead confirms with a reason; the application closes as 已撤回 and its open tasks end."""

    template_name = "workflows/work/withdraw.html"

    def get_context_data(self, **kwargs):
        application = get_application_for(self.request.user, self.kwargs["pk"])
        if not may_withdraw(self.request.user, application):
            raise PermissionDenied(_("This application cannot be withdrawn now."))
        kwargs.setdefault("form", WithdrawForm())
        return super().get_context_data(application=application, **kwargs)

    def post(self, request, pk):
        application = get_application_for(request.user, pk)
        form = WithdrawForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        withdraw_application(application, by=request.user, reason=form.cleaned_data["reason"])
        messages.success(
            request, _("The application of %(cluster)s is withdrawn.") % {"cluster": application.cluster.name}
        )
        return redirect("work:mine")


class RemoveEvaluatorView(LoginRequiredMixin, View):
    """The office takes an evaluator off the panel; their scoring task ends and the branch asks for a replacement."""

    def post(self, request, pk, assignment_pk):
        application = get_application_for(request.user, pk)
        assignment = get_object_or_404(EvaluatorAssignment, pk=assignment_pk, application=application)
        form = RecuseForm(request.POST)
        if not form.is_valid():
            raise InvalidInput(_("Give the reason for taking the evaluator off the panel."))
        remove_from_running_panel(assignment, form.cleaned_data["reason"], by=request.user, request=request)
        messages.success(request, _("The evaluator is off the panel; assign a replacement."))
        return redirect("work:application_detail", pk=application.pk)


class ApplicationListView(WorkListView):
    """申报列表: every application in the user's scope."""

    template_name = "workflows/work/application_list.html"
    orderings = (
        ("due", gettext_lazy("Due date")),
        ("created", gettext_lazy("Opened")),
        ("cluster__name", gettext_lazy("Cluster")),
        ("target_tier", gettext_lazy("Tier")),
        ("status", gettext_lazy("Status")),
        ("waiting_since", gettext_lazy("In this status since")),
        ("total_score", gettext_lazy("Total")),
    )

    def rows(self):
        return (
            applications()
            .visible_to(self.request.user)
            .with_row_data()
            .annotate(waiting_since=F("status_changed"), due=queues.due_of(None))
            .order_by("-created", "-pk")
        )


# The dossier's flow charts drawn so far, by (flow, language, each node's status): see `_chart`.
_CHARTS = {}


class ApplicationDetailView(LoginRequiredMixin, TemplateView):
    """An application's dossier: facts, stages, flow chart, evidence, panel and results in scope, and its history."""

    template_name = "workflows/work/application_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        application = get_application_for(user, self.kwargs["pk"])
        collecting = application.status in {Application.Status.EVIDENCE, Application.Status.CORRECTION}
        application.stage_rows = stage_rows(
            application, missing=missing_requirements_of([application]) if collecting else None
        )
        # What this person may see of the panel and its results: certification.scope's disclosure rules.
        shows_panel = sees_panel(user, application)
        return super().get_context_data(
            application=application,
            tasks=open_tasks(user, [application.pk]).get(application.pk, []),
            corrections=application.corrections.prefetch_related("indicators").select_related("created_by"),
            panel=self._panel(application) if shows_panel else None,
            results=self._results(application) if sees_results(user, application) else None,
            objections=application.objections.select_related("raised_by", "resolved_by"),
            evidence=self._evidence(application),
            history=self._history(application, hidden=hidden_actors(user, application, shows_panel=shows_panel)),
            chart=self._chart(application),
            certificate=getattr(application, "certificate", None) if not application.is_open else None,
            objection_url=objection_url(application),
            may_export=is_staff_for(user) and may_export(user, application=application),
            rectification=self._rectification(application),
            may_answer=user.has_perm(perm("act_as_lead"), application),
            may_verify=user.has_perm(perm(deciding_office_permission(application)), application),
            may_withdraw=may_withdraw(user, application),
            handovers=application.handovers.select_related("from_user", "to_user").order_by("created", "pk"),
            **kwargs,
        )

    def _rectification(self, application):
        """A failed application's 整改 list (failed indicators, unmet vetoes, upheld objections) and why it failed."""
        if application.status != Application.Status.FAILED:
            return None
        failed = AuditEvent.objects.filter(application=application, action="application.failed").order_by("-id").first()
        lists = RectificationList.objects.filter(application=application).prefetch_related("items").order_by("pk")
        return {"reason": failed.reason if failed else "", "items": rectification_list(application), "lists": lists}

    def _panel(self, application):
        return application.assignments.select_related("evaluator", "sheet").order_by("-is_panel_lead", "pk")

    def _results(self, application):
        return IndicatorResult.objects.filter(application=application).select_related("indicator__dimension")

    def _evidence(self, application):
        files = defaultdict(list)
        for item in EvidenceFile.objects.for_application(application).with_people().order_by("requirement", "-version"):
            files[item.requirement_id].append(item)
        # Each stage's name translated once for the page (what `get_stage_display()` answers per requirement).
        stages = {value: str(label) for value, label in EvidenceStage.choices}
        return [
            {
                "requirement": requirement,
                "files": files.get(requirement.pk, []),
                "stage_label": stages.get(requirement.stage, requirement.stage),
            }
            for requirement in requirements_of(application)
        ]

    def _history(self, application, *, hidden):
        """The audit rows of the application; the people in `hidden` (the panel, to the lead) show as "Evaluator"."""
        events = list(AuditEvent.objects.filter(application=application).select_related("actor").order_by("at", "id"))
        # What `get_action_display()` answers, each action's label translated once for the page: through the
        # field's choices (every action of the product) it cost about 1 ms per row.
        actions = {}
        for event in events:
            if event.action not in actions:
                actions[event.action] = str(ACTION_LABELS.get(event.action, event.action))
            event.label = actions[event.action]
            event.from_label = _state_label(event.from_state)
            event.to_label = _state_label(event.to_state)
            event.who = _("Evaluator") if event.actor_id in hidden else (event.actor or _("System"))
        return events

    def _chart(self, application):
        """Viewflow's SVG chart of the flow with this application's process marked, or "" before it has one."""
        process = process_for(application)
        if process is None:
            return ""
        flow = CertificationFlow
        grid = chart.calc_layout_data(flow)
        chart.calc_cell_status(flow, grid, process.pk)
        # The SVG is generated by viewflow from the flow definition and task statuses, never from user input: the
        # same statuses in the same language draw the same SVG, kept after the first time (a few dozen at most).
        key = (flow, get_language(), tuple((cell.node.name, cell.status) for cell in grid.cells))
        svg = _CHARTS.get(key)
        if svg is None:
            if len(_CHARTS) >= 256:
                _CHARTS.clear()
            svg = _CHARTS[key] = chart.grid_to_svg(grid)
        return mark_safe(svg)


# The states audit rows record: the application's, a cluster's tier, and those of a stage, an assignment, a sheet.
STATE_LABELS = {
    **dict(TaskHandover.Kind.choices),
    **dict(TaskHandover.Status.choices),
    **dict(CoSignature.Status.choices),
    **dict(Tier.choices),
    **dict(ScoreSheet.Status.choices),
    **dict(EvaluatorAssignment.Status.choices),
    **dict(ApplicationStage.Status.choices),
    **dict(Application.Status.choices),
    **dict(ExportJob.Status.choices),
    **dict(DatasetImport.Status.choices),
    **dict(Objection.Outcome.choices),
    "current": gettext_lazy("Current"),
    "withdrawn": gettext_lazy("Withdrawn"),
}
ACTION_LABELS = dict(AuditEvent.Action.choices)
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
APPROVAL_STEP_LABELS = dict(approval.Step.choices)


def _state_label(value):
    """An audit row's state as a person reads it: "approval:city_review" is "待审批 · 市教委复核"; a score stays a
    number. A state no vocabulary names (a row id, an internal marker) is left out: a page never shows a code."""
    state, _sep, step = (value or "").partition(":")
    if _NUMBER.fullmatch(state):
        return state
    label = STATE_LABELS.get(state, "")
    if label and step in APPROVAL_STEP_LABELS:
        return f"{label} · {APPROVAL_STEP_LABELS[step]}"
    return label
