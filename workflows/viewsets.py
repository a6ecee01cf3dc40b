"""The certification flow in the site: viewflow's flow application, with every list scoped to the user.

Viewflow's own dashboard, process list and task list show every process of the flow to anyone who may see the
flow at all; here they show only the processes whose application is in the user's scope, and the flow chart of
a process is refused outside it. Registered on `certification.views.site.site` by `WorkflowsConfig.ready`.
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, F, OuterRef, Subquery
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from viewflow.utils import viewprop
from viewflow.workflow.flow import views as flow_views
from viewflow.workflow.flow.views import filters as vf_filters
from viewflow.workflow.flow.viewset import FlowAppViewset

from certification.domain.workdays import WorkingCalendar, countdown
from certification.models import Application
from certification.permission_cache import memo

from . import queues, views, work
from .deadlines import due_of_task
from .flows import CertificationFlow
from .models import application_label


def visible_processes(user, queryset, prefix=""):
    """`queryset` (processes, or tasks with prefix "process__") limited to the user's applications, by EXISTS."""
    in_scope = Application.objects.visible_to(user).filter(pk=OuterRef(f"{prefix}artifact_object_id"))
    return queryset.filter(**{f"{prefix}artifact_content_type": ContentType.objects.get_for_model(Application)}).filter(
        Exists(in_scope)
    )


class ScopedProcessListView(flow_views.DashboardProcessListView):
    def get_queryset(self):
        return visible_processes(self.request.user, super().get_queryset())


class ScopedTaskListView(flow_views.DashboardTaskListView):
    def get_queryset(self):
        return visible_processes(self.request.user, super().get_queryset(), "process__")


class ApplicationColumnMixin:
    """The first column names the application a task is for ("天平-湖南学区 紧密型申报") and opens the task, where
    viewflow shows "#process/task" numbers. The cluster's name and the tier come with the page's rows, as two
    subqueries on the application's key: no statement of their own, and no Application or Cluster objects built."""

    def task_id(self, task):
        url = task.flow_task.reverse("index", args=[task.process_id, task.pk])
        if task.application_cluster is None:
            label = CertificationFlow.process_title
        else:
            label = application_label(task.application_cluster, TIER_LABELS.get(task.application_tier, ""))
        return format_html('<a href="{}">{}</a>', url, label)

    task_id.short_description = _("Application")

    def task_title(self, task):
        return task.title

    task_title.short_description = _("Step")

    def get_queryset(self):
        application = Application.objects.filter(pk=OuterRef("process__artifact_object_id"))
        return (
            super()
            .get_queryset()
            .annotate(
                application_cluster=Subquery(application.values("cluster__name")[:1]),
                application_tier=Subquery(application.values("target_tier")[:1]),
            )
        )


TIER_LABELS = dict(Application._meta.get_field("target_tier").flatchoices)


class ToDossier(flow_views.DetailProcessView):
    """A certification process is shown as its application's dossier (申报详情), which names the application, its
    tasks and their history in the product's words; viewflow's own page numbered them. Refused outside the
    user's scope, as viewflow's page is."""

    def get(self, request, *args, **kwargs):
        process = self.get_object()
        if process.artifact_object_id is None:
            raise PermissionDenied
        return redirect("work:application_detail", pk=process.artifact_object_id)


class NoRawCancel(flow_views.CancelProcessView):
    """Viewflow's "cancel the process" would stop the tasks and leave the application's status, its audit trail and
    its permissions as they were. An application ends through the product (withdrawn by its lead, failed or
    certified), so this page is refused to everyone."""

    def dispatch(self, request, *args, **kwargs):
        raise PermissionDenied


class LastPageMixin:
    """A page past the last (the list shrank since the link was made) shows the last page, not a 404."""

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()


class DueColumnMixin:
    """A "due date" column: the task's due date and countdown, sortable; the soonest first by default."""

    def due(self, task):
        due = due_of_task(task)
        if due is None:
            return ""
        if getattr(self, "_calendar", None) is None:
            # One read of the holiday calendar (cached) for the page's rows.
            self._calendar = WorkingCalendar(timezone.localdate())
        return _("%(due)s (%(countdown)s)") % {
            "due": f"{due:%Y-%m-%d}",
            "countdown": countdown(due, calendar=self._calendar).label,
        }

    due.short_description = _("Due date")
    due.orderby_column = "deadline__due"

    @staticmethod
    def by_due(tasks):
        return tasks.select_related("process", "deadline").order_by(
            F("deadline__due").asc(nulls_last=True), "-created", "-pk"
        )


class TaskListFilter(vf_filters.FlowUserTaskListFilter):
    """Viewflow's inbox and queue filters without its "process" choice, whose drop-down listed every process in
    the user's queue (5,000 options for a district office, rendered on every page); by step and date remain."""

    process = None

    class Meta(vf_filters.FlowUserTaskListFilter.Meta):
        fields = ("flow_task", "created")


class _Steps(list):
    """Steps already read, answering viewflow's `get_queryset_flow_task_choices` as a queryset of them would."""

    def order_by(self, *fields):
        return self

    def values_list(self, *fields, flat=False):
        return self

    def distinct(self):
        return self


class QueueTaskListFilter(TaskListFilter):
    """The queue's filters: the step drop-down lists the steps of the user's queue, read from the tasks' queue
    entries (`queues.queue_entries_of`) rather than by a DISTINCT over viewflow's tasks joined to their processes,
    as viewflow's own filter (`FlowUserTaskListFilter.__init__`, skipped here) reads them. The same query counts
    the entries of each step: `queue_total`, the number of tasks in the queue (`QueueView.get_paginator`)."""

    def __init__(self, *args, **kwargs):
        super(vf_filters.FlowUserTaskListFilter, self).__init__(*args, **kwargs)
        rows = (
            queues.queue_entries_of(self.request.user)
            .values_list("flow_task")
            .annotate(count=Count("pk"))
            .order_by("flow_task")
        )
        steps = _Steps()
        self.queue_total = 0
        for step, count in rows:
            steps.append(step)
            self.queue_total += count
        self.filters["flow_task"].field.choices = vf_filters.get_queryset_flow_task_choices(steps)


class MenuCount:
    """The number of tasks beside "Inbox" or "Queue" in the flow's menu (its template asks `.count`): counted once
    per request (`permission_cache.memo`), and not at all on the inbox or queue page itself when it lists them
    unfiltered, whose paginator has just counted the same rows (`MenuCountedMixin`)."""

    def __init__(self, key, queryset):
        self.key, self.queryset = key, queryset

    def count(self):
        return memo(self.key, self.queryset.count)


class MenuCountedMixin:
    """An inbox or queue page that tells its menu count (`MenuCount`) how many rows it found, when it lists every
    one of them: no filter in the query string, only a page number."""

    menu_count = ""

    def lists_every_task(self):
        return set(self.request.GET) <= {"page"}

    def paginate_queryset(self, queryset, page_size):
        paginator, page, rows, is_paginated = super().paginate_queryset(queryset, page_size)
        if self.lists_every_task():
            memo(menu_count_key(self.menu_count, self.request.user), lambda: paginator.count)
        return paginator, page, rows, is_paginated


def menu_count_key(name, user):
    return ("workflow_menu_count", name, user.pk)


class InboxView(ApplicationColumnMixin, DueColumnMixin, MenuCountedMixin, LastPageMixin, flow_views.FlowInboxListView):
    """Viewflow's inbox: the user's assigned tasks, a page at a time, the soonest due first."""

    filterset_class = TaskListFilter
    menu_count = "inbox"

    # viewflow's "brief" repeats the title under an English header
    columns = ("task_id", "task_title", "due", "created")

    @viewprop
    def queryset(self):
        return self.by_due(queues.inbox_of(self.request.user, self.flow_class))


class QueueView(ApplicationColumnMixin, DueColumnMixin, MenuCountedMixin, LastPageMixin, flow_views.FlowQueueListView):
    """Viewflow's queue: whether the user may take a task is asked in SQL (`queues.may_take`), not in an IN list."""

    filterset_class = QueueTaskListFilter
    menu_count = "queue"

    def get_paginator(self, queryset, per_page, **kwargs):
        """Listing every task of the queue, the filter has counted them already (`QueueTaskListFilter`)."""
        paginator = super().get_paginator(queryset, per_page, **kwargs)
        if self.lists_every_task():
            paginator.__dict__["count"] = self.filterset.queue_total  # Paginator.count, known now
        return paginator

    # viewflow's "brief" repeats the title under an English header
    columns = ("task_id", "task_title", "due", "created")

    @viewprop
    def queryset(self):
        return self.by_due(queues.queue_of(self.request.user, self.flow_class))


class ArchiveView(ApplicationColumnMixin, LastPageMixin, flow_views.FlowArchiveListView):
    # The application column says what viewflow's process summary said, in words and linked to the task.
    columns = ("task_id", "task_title", "created", "finished")

    @viewprop
    def queryset(self):
        return queues.archive_of(self.request.user, self.flow_class).select_related("process").order_by("-created")


class ScopedChartView(flow_views.FlowChartView):
    def dispatch(self, request, *args, **kwargs):
        process_pk = kwargs.get("process_pk")
        if process_pk is not None:
            process = self.flow_class.process_class._default_manager.filter(pk=process_pk).first()
            if process is None or not self.flow_class.instance.has_view_permission(request.user, process):
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ToInbox(RedirectView):
    def get_redirect_url(self, *args, **kwargs):
        return reverse("workflow:inbox")


class CertificationFlowApp(FlowAppViewset):
    title = _("Certification workflow")
    icon = "verified"
    app_name = "workflow"
    base_template_name = "certification/base_page.html"
    process_list_view_class = ScopedProcessListView
    task_list_view_class = ScopedTaskListView
    chart_view_class = ScopedChartView
    inbox_view_class = InboxView
    queue_view_class = QueueView
    archive_view_class = ArchiveView
    process_detail_view_class = ToDossier
    process_cancel_view_class = NoRawCancel

    def get_context_data(self, request):
        """The menu's counts of the user's inbox and queue (viewflow's would build the IN list)."""
        user = request.user
        return {
            "user_inbox": MenuCount(menu_count_key("inbox", user), queues.inbox_of(user, self._flow_class)),
            "user_queue": MenuCount(menu_count_key("queue", user), queues.queue_of(user, self._flow_class)),
        }

    def __init__(self, **kwargs):
        super().__init__(CertificationFlow, **kwargs)

    @property
    def index_path(self):
        # Viewflow's kanban dashboard lists every process's tasks; a person's work starts at their inbox.
        return path("", ToInbox.as_view(), name="index")

    objection_raise_path = path(
        "applications/<int:pk>/objection/", views.RaiseObjectionView.as_view(), name="objection_raise"
    )
    objection_resolve_path = path(
        "applications/<int:pk>/objection/resolve/", views.ResolveObjectionView.as_view(), name="objection_resolve"
    )
    evaluator_remove_path = path(
        "applications/<int:pk>/panel/<int:assignment_pk>/remove/",
        work.RemoveEvaluatorView.as_view(),
        name="evaluator_remove",
    )
