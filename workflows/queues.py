"""Task queues and the work lists' filters, in a fixed number of queries at any scale.

Which open tasks a person may take is asked of the database: viewflow's own `user_queue` loads every object
permission of the user into Python and sends them back as an `IN` list (one string per application in scope, an
840,000-character statement at 10,000 applications); `may_take` below is the same rule as an `EXISTS` on guardian's
permission tables, correlated with each task. Every page that shows tasks (the work pages, viewflow's inbox, queue
and archive and its menu counts) reads tasks through `open_tasks_of`, so none needs viewflow's per-request cache.
The work lists group, sort, count and filter applications by their tasks' queue entries (`models.QueueEntry`, one
row per open human task, kept in step by `queue_entries`) under the same rule (`with_open_tasks`), its object
permissions answered from the user's role grants, which guardian's rows are made from (`_granted`; held equal to
guardian's answer by tests/workflows/test_list_rule.py).

The lists filter with django-filter: `application_filters(prefix)` builds one FilterSet for rows that are
applications (prefix "") or that point at one (prefix "application__").
"""

import django_filters
import django_filters.fields
from django import forms
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, F, IntegerField, Min, OuterRef, Q, Subquery, Value
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermission, UserObjectPermission
from viewflow.workflow.status import STATUS

from certification.models import (
    Application,
    ClusterMembership,
    CorrectionRequest,
    Region,
    ReviewAssignment,
    Role,
    Tier,
    YearlyReview,
)
from certification.models.application import assigned_to, visible_condition
from certification.models.people import ROLE_APPLICATION_PATH, grant_scope_field
from certification.scope import ROLE_OBJECT_PERMISSION, active_grants, perm, role_of_permission, roles_of

from .flows import CertificationFlow, YearlyReviewFlow
from .models import QueueEntry, TaskDeadline

# Rows per page on every work list.
PAGE_SIZE = 25


def _object_permissions(user):
    """{"app_label.codename": codename} of the object permissions a task of the flow names on its application that
    `user` may hold: the `act_as_*` permissions of the roles they hold (`certification.scope.ROLE_OBJECT_PERMISSION`;
    the flow's nodes name only those; guardian's rows are granted from the roles, `certification.domain.roles`).
    Listing only these keeps the condition short: listing every permission of the model (add, change, …) made the
    statement costly enough for PostgreSQL to JIT-compile it, 30 s at 10,000 applications. The permissions are
    named by codename inside the statement (a join to the permission table), not read first by a query of their own.
    """
    return {
        perm(ROLE_OBJECT_PERMISSION[role]): ROLE_OBJECT_PERMISSION[role]
        for role in roles_of(user)
        if role in ROLE_OBJECT_PERMISSION
    }


def may_take(user, prefix="", *, per_row=False, application=None):
    """A condition on viewflow tasks (`prefix`: the path from the rows to the task): `user` may take the task
    (viewflow's `user_queue` rule, checked in SQL).

    A task with no permission is anyone's; one owned by the user is theirs; a model-wide permission is checked
    against the user's (a short set, cached on the user); an object permission is an `IN (SELECT …)` on guardian's
    tables by (user, permission), a subquery the database hashes once per statement, whatever the number of
    applications in scope. (The permissions are named by codename in the statement: no query reads their ids first.)

    `per_row`: for a few tasks (one page's), a lookup per task on guardian's unique (user, permission, object)
    index instead (`_found`): hashing every permission of a district's leader costs more than looking up 25.

    `application`: the path from the rows to the task's application (rows that reach it: the work lists' rows are
    applications, "" here). The object permissions are then answered from the user's role grants, the rule guardian's
    rows are made from (`_granted`), instead of from guardian's tables.
    """
    if user.is_superuser:
        return Q()
    # Only the permissions of the roles the user holds: each one left out is two subqueries less to build and run.
    permissions = _object_permissions(user)
    content_type = ContentType.objects.get_for_model(Application)  # Django's cache: no query after the first
    p = prefix
    groups = Group.objects.filter(user=user)
    condition = (
        Q(**{f"{p}owner_permission__isnull": True})
        | Q(**{f"{p}owner": user})
        | Q(**{f"{p}owner_permission__in": user.get_all_permissions()})
    )
    for name, codename in permissions.items():
        if application is not None:
            condition |= Q(**{f"{p}owner_permission": name}) & _granted(user, role_of_permission(name), application)
            continue
        permission = {"permission__content_type": content_type, "permission__codename": codename}
        if per_row:
            task_object = OuterRef(f"{p}owner_permission_obj_pk")
            held = _found(UserObjectPermission.objects.filter(user=user, object_pk=task_object, **permission)) | _found(
                GroupObjectPermission.objects.filter(group__in=groups, object_pk=task_object, **permission)
            )
            condition |= Q(**{f"{p}owner_permission": name}) & held
            continue
        # `object_pk IN (SELECT ...)`, a subquery the database hashes once: on PostgreSQL an OR of correlated
        # EXISTS here took 10 s over 10,000 open tasks, this 40 ms. No id is listed in the statement.
        held = Q(
            **{
                f"{p}owner_permission_obj_pk__in": UserObjectPermission.objects.filter(user=user, **permission).values(
                    "object_pk"
                )
            }
        ) | Q(
            **{
                f"{p}owner_permission_obj_pk__in": GroupObjectPermission.objects.filter(
                    group__in=groups, **permission
                ).values("object_pk")
            }
        )
        condition |= Q(**{f"{p}owner_permission": name}) & held
    return condition


def _granted(user, role, application):
    """A condition on rows that reach an application by the path `application`: `user` holds `role`'s object
    permission on it, answered from their role grants (read once per request) by the rule that makes guardian's rows
    (`certification.domain.roles.desired_object_permissions`): a role on a cluster or region covers the applications
    under it (`ROLE_APPLICATION_PATH`); an evaluator holding the role, the applications of their active assignments.

    For the district's office at city scale this is a comparison on the row's own district instead of a subquery over
    its 10,000 guardian rows, hashed for every statement.
    """
    if role == Role.EVALUATOR:
        return Q(assigned_to(user, application))
    field = grant_scope_field(role)
    scopes = sorted({getattr(grant, f"{field}_id") for grant in active_grants(user) if grant.role == role})
    return Q(**{f"{application}{ROLE_APPLICATION_PATH[role]}__in": scopes})


def _found(rows):
    """A condition: `rows` (correlated with the outer row) has a row; looked up once per outer row.

    Not `EXISTS`: PostgreSQL may run an `EXISTS` as a hashed subplan, reading every row of the subquery for the
    whole statement, and it does so here because it cannot estimate the guardian rows of a permission named by
    codename: a page's 25 tasks hashed the 10,000 permissions of a district's office or leader (3–8 ms of the
    desk's 25-row read; a scalar subquery per row, 0.6 ms). A scalar subquery is never hashed.
    """
    first = Subquery(rows.order_by().values(one=Value(1))[:1], output_field=IntegerField())
    return Q(Exact(first, 1))


def open_task_condition(
    user, prefix="", nodes=None, flow_class=CertificationFlow, process_prefix=None, *, per_row=False
):
    """A condition on viewflow tasks (`prefix`: the path from the rows to the task; `process_prefix`: to its process,
    by default through the task): an open human task of the flow that is `user`'s (assigned to them, or theirs to
    take); `nodes` limits it to those nodes of the flow."""
    p = prefix
    process = f"{p}process__" if process_prefix is None else process_prefix
    condition = Q(**{f"{process}flow_class": flow_class, f"{p}flow_task_type": "HUMAN"}) & (
        Q(**{f"{p}owner": user, f"{p}status": STATUS.ASSIGNED})
        | (Q(**{f"{p}status": STATUS.NEW}) & may_take(user, p, per_row=per_row))
    )
    if nodes is not None:
        condition &= Q(**{f"{p}flow_task__in": list(nodes)})
    return condition


def human_tasks(flow_class=CertificationFlow):
    return flow_class.task_class._default_manager.filter(process__flow_class=flow_class, flow_task_type="HUMAN")


def inbox_of(user, flow_class=CertificationFlow):
    """Tasks assigned to `user`, open."""
    return human_tasks(flow_class).filter(owner=user, status=STATUS.ASSIGNED)


def queue_of(user, flow_class=CertificationFlow):
    """Open tasks nobody holds that `user` may take."""
    return human_tasks(flow_class).filter(status=STATUS.NEW).filter(may_take(user))


def queue_entries_of(user):
    """The queue entries (`models.QueueEntry`) of `queue_of(user)`'s tasks: every entry is an open human task of the
    certification flow, so the same rule on one narrow table, without joining each task to its process."""
    return QueueEntry.objects.filter(status=STATUS.NEW).filter(may_take(user))


def archive_of(user, flow_class=CertificationFlow):
    return human_tasks(flow_class).filter(owner=user, finished__isnull=False)


def open_tasks_of(user, flow_class=CertificationFlow, *, per_row=False):
    """The user's open tasks: assigned to them or theirs to take (`per_row`: see `may_take`)."""
    condition = open_task_condition(user, flow_class=flow_class, per_row=per_row)
    return flow_class.task_class._default_manager.filter(condition)


def review_assignments_of(user):
    """The evaluator's yearly review panels, those still waiting for their opinion first, newest next; each with
    `due`: the due date of their open opinion task (None once given). One query, whatever the number of rows."""
    deadlines = TaskDeadline.objects.filter(
        task__process__flow_class=YearlyReviewFlow,
        task__process__artifact_content_type=ContentType.objects.get_for_model(YearlyReview),
        task__process__artifact_object_id=OuterRef("review_id"),
        task__flow_task=YearlyReviewFlow.give_opinion,
        task__owner=user,
        task__status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED],
    ).order_by("due")
    return (
        ReviewAssignment.objects.filter(evaluator=user)
        .select_related("review__cluster__district__parent", "review__standard")
        .annotate(due=Subquery(deadlines.values("due")[:1]))
        .order_by(F("given").desc(nulls_first=True), "-assigned", "-pk")
    )


# From an application to the queue entries of its open tasks (`models.QueueEntry`).
ENTRIES = "queue_entries__"


def entry_condition(user, prefix="", nodes=None, *, per_row=False, application=None):
    """`open_task_condition` on queue entries (`prefix`: the path from the rows to the entry): the entry's task is
    an open task of `user` (of `nodes`, if given). Every entry is a human task of the certification flow.

    `application`: the path from the rows to the entry's application. The tasks the user may take are then answered
    from their role grants (`may_take(application=…)`), which is their scope too; those assigned to them count on an
    application in their scope (`visible_condition`)."""
    p = prefix
    assigned = Q(**{f"{p}owner": user, f"{p}status": STATUS.ASSIGNED})
    if application is not None:
        scope = visible_condition(user, application)
        if scope is None:
            return Q(**{f"{application}pk__in": []})
        assigned &= scope
    condition = assigned | (
        Q(**{f"{p}status": STATUS.NEW}) & may_take(user, p, per_row=per_row, application=application)
    )
    if nodes is not None:
        condition &= Q(**{f"{p}flow_task__in": list(nodes)})
    return condition


def with_open_tasks(applications, user, nodes=None, *, due=True):
    """Only the applications with an open task of `user` (of `nodes`, if given), each with `waiting_since`: when the
    oldest was created, and (`due`) `due`: the earliest due date among those tasks. Without `due`, the rows have
    none: a list sorted otherwise takes its page's due dates from the page's tasks (`page_due`).

    Read from the tasks' queue entries (`models.QueueEntry`): one join from the entries to their applications,
    grouped by application, so the database finds the user's tasks once, sorts by `waiting_since` and stops at the
    page. The entry holds the application's id and the due date: read from viewflow's tables the same rows joined
    every task in scope to its process and its deadline.

    The rule, on the application row itself: a task assigned to the user on an application in their scope
    (`visible_condition`), or one they may take, its object permission answered from their role grants
    (`may_take(application="")`: for a district's office, a comparison on the row's district where guardian's
    10,000 rows were hashed; the scope need not be checked again, a grant's scope being the scope).
    """
    rows = applications.filter(entry_condition(user, ENTRIES, nodes, application="")).annotate(
        waiting_since=Min(f"{ENTRIES}created")
    )
    return rows.annotate(due=Min(f"{ENTRIES}due")) if due else rows


def page_due(tasks, nodes=None):
    """What `with_open_tasks(..., due=True)` gives a row, from the row's open tasks (`work.open_tasks`, the same
    rule): the earliest due date among those of `nodes` (every node if None), or None."""
    names = None if nodes is None else {node.name for node in nodes}
    dues = [task.due for task in tasks if task.due is not None and (names is None or task.flow_task.name in names)]
    return min(dues, default=None)


def sorts_by(request, field, parameter="order"):
    """The list is sorted by `field` (ascending or descending) per the request's sort parameter."""
    return any(value.strip().lstrip("-") == field for value in request.GET.get(parameter, "").split(","))


def due_of(user, application_ref="pk"):
    """A subquery: the earliest due date of the open human tasks on the row's application (`application_ref`, the
    outer row's field holding the application id): `user`'s open tasks, or every open task with `user` None.

    Read from the tasks' queue entries, by application (an index): from viewflow's tables it was the user's every
    open task joined to its process and deadline, once per row (5 s to sort 5,000 assignments by due date)."""
    entries = QueueEntry.objects.filter(application_id=OuterRef(application_ref))
    if user is not None:
        entries = entries.filter(entry_condition(user))
    return Subquery(entries.order_by("due").values("due")[:1])


def late_tasks(application_ref):
    """Open human tasks on the outer row's application past their due date (for `Exists`), read from their queue
    entries (by application, an index)."""
    return QueueEntry.objects.filter(application_id=OuterRef(application_ref), due__lt=timezone.localdate())


def human_nodes(flow_class=CertificationFlow):
    """(node, title) of the flow's human tasks, in the flow's order."""
    return [
        (node, node.task_title) for node in flow_class.instance.nodes() if getattr(node, "task_type", "") == "HUMAN"
    ]


# ------------------------------------------------------------------------------------------------------ filters


class PlainSelect(forms.Select):
    """Django's `Select`, its markup built in Python: the same HTML as Django's select templates
    (django/forms/widgets/select.html, select_option.html and attrs.html), without rendering a template per option.
    Every list renders its filter form on each view: five drop-downs of up to twenty options took a third of the
    office desk's rendering time as templates."""

    def render(self, name, value, attrs=None, renderer=None):
        context = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"', context["name"]), _attrs_html(context["attrs"]), ">"]
        for group_name, options, _index in context["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                parts.append(format_html('\n  <option value="{}"', option["value"]))
                parts.extend((_attrs_html(option["attrs"]), format_html(">{}</option>\n", option["label"])))
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # every value above went through format_html (escaped)


def _attrs_html(attrs):
    """django/forms/widgets/attrs.html: ` name="value"` per attribute, ` name` for True, nothing for False."""
    return "".join(
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
        for name, value in attrs.items()
        if value is not False
    )


class CheckboxFilter(django_filters.BooleanFilter):
    """On when ticked; off shows everything (never "only the rows without")."""

    field_class = forms.BooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.CheckboxInput)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return super().filter(qs, True) if value else qs


class _PlainChoiceIterator(django_filters.fields.ModelChoiceIterator):
    """The choices read by one plain SELECT: Django's `iterator()` opens a server-side cursor on PostgreSQL
    (DECLARE, FETCH, CLOSE), three round trips on every list page for a handful of districts."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.null_label is not None:
            yield (self.field.null_value, self.field.null_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class _PlainModelChoiceField(django_filters.fields.ModelChoiceField):
    iterator = _PlainChoiceIterator


class PlainModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = _PlainModelChoiceField


class SortFilter(django_filters.OrderingFilter):
    """Sorting by a column, ties broken by id so that pages never overlap; labels in our catalogue."""

    descending_fmt = _("%s, descending")

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        return qs.order_by(*qs.query.order_by, "pk") if value else qs


class ApplicationFilterBase(django_filters.FilterSet):
    """What every list filters and searches by; `application_filters` fills in the path to the application."""

    prefix_path = ""

    def _path(self, name):
        return f"{self.prefix_path}{name}"

    def search(self, queryset, name, value):
        """Cluster name, a member school's name or a certificate serial."""
        value = value.strip()
        if not value:
            return queryset
        schools = ClusterMembership.objects.filter(
            cluster=OuterRef(self._path("cluster")), school__name__icontains=value
        )
        return queryset.filter(
            Q(**{self._path("cluster__name__icontains"): value})
            | Q(**{self._path("certificate__serial__icontains"): value})
            | Exists(schools)
        )

    def overdue(self, queryset, name, value):
        """An open task on the application past its due date, or a correction request past its deadline."""
        if not value:
            return queryset
        late = CorrectionRequest.objects.filter(
            application=OuterRef(self._path("pk")), resolved__isnull=True, deadline__lt=timezone.localdate()
        )
        return queryset.filter(Exists(late) | Exists(late_tasks(self._path("pk"))))

    def waiting_before(self, queryset, name, value):
        return queryset.filter(waiting_since__date__lte=value)

    def stage(self, queryset, name, value):
        node = {str(node): node for node, _title in human_nodes()}.get(value)
        if node is None:
            return queryset
        # Built only when the step filter is used: the user's task condition is costly to build.
        entries = QueueEntry.objects.filter(application_id=OuterRef(self._path("pk")), flow_task=node)
        return queryset.filter(Exists(entries.filter(entry_condition(self.stage_user))))


def application_filters(prefix="", *, orderings=(), stages=False, user=None):
    """A FilterSet class for rows that are applications (`prefix` "") or point at one ("application__").

    `orderings`: (field, label) pairs of the columns a user sorts by; `stages`: filter by the open task's step
    (the user's own open tasks on the row's application).
    """
    p = prefix
    attrs = {
        "prefix_path": p,
        "q": django_filters.CharFilter(label=_("Search"), method="search"),
        "district": PlainModelChoiceFilter(
            label=_("District"),
            field_name=f"{p}cluster__district",
            # A district's name includes its city's (`Region.__str__`): read with it, not one query per district.
            queryset=Region.objects.districts().select_related("parent").order_by("name"),
            empty_label=_("All"),
            widget=PlainSelect,
        ),
        "tier": django_filters.ChoiceFilter(
            label=_("Tier"),
            field_name=f"{p}target_tier",
            choices=Tier.choices,
            empty_label=_("All"),
            widget=PlainSelect,
        ),
        "status": django_filters.ChoiceFilter(
            label=_("Status"),
            field_name=f"{p}status",
            choices=Application.Status.choices,
            empty_label=_("All"),
            widget=PlainSelect,
        ),
        "overdue": CheckboxFilter(label=_("Overdue"), method="overdue"),
        "waiting_before": django_filters.DateFilter(
            label=_("Waiting since on or before"),
            method="waiting_before",
            widget=forms.DateInput(attrs={"type": "date"}),
        ),
        "order": SortFilter(
            label=_("Sort by"),
            fields=[(field, field.replace("__", "_")) for field, _label in orderings],
            field_labels=dict(orderings),
            empty_label=_("Default"),
            widget=PlainSelect,
        ),
    }
    if stages:
        attrs["stage"] = django_filters.ChoiceFilter(
            label=_("Step"),
            method="stage",
            choices=[(str(node), title) for node, title in human_nodes()],
            empty_label=_("All"),
            widget=PlainSelect,
        )
        attrs["stage_user"] = user
    attrs["Meta"] = type("Meta", (), {"fields": []})
    return type("ApplicationFilter", (ApplicationFilterBase,), attrs)
