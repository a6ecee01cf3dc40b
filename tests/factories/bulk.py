"""Many applications with open tasks, cheaply: clones of one made through the domain, written with bulk_create.

`clone_applications(template, count)` copies the template application's cluster (with its member schools), the
application, its process, its open human tasks and its evaluator assignments `count` times, then grants the object
permissions of the copies through `sync_object_permissions`, as a role grant would. A few dozen statements whatever
`count` is (bulk_create sends no post_save: the copies' queue entries are written here, as the tasks' saves would),
so the query-count tests can compare 1 and 200 rows and the bench can seed 10,000.
"""

import copy
import uuid

from viewflow.workflow.status import STATUS

from certification.domain.roles import sync_object_permissions
from certification.models import Application, Cluster, ClusterMembership, EvaluatorAssignment
from workflows.deadlines import due_of_task
from workflows.flows import CertificationFlow
from workflows.models import TaskDeadline, process_for

BATCH = 2000


def _copies(instance, count, **changes):
    """`count` unsaved copies of `instance`; `changes` maps a field to a function of the copy's index."""
    result = []
    for index in range(count):
        clone = copy.copy(instance)
        clone._state = copy.copy(instance._state)
        clone._state.adding = True
        clone._state.fields_cache = {}
        clone.pk = None
        clone.id = None
        for field, value in changes.items():
            setattr(clone, field, value(index))
        result.append(clone)
    return result


def _object_pk(task, applications):
    """The copies' permission object: the copied application, when the task has one."""
    if not task.owner_permission_obj_pk:
        return lambda i: None
    return lambda i: str(applications[i].pk)


def clone_applications(template, count, *, finished_tasks=False):
    """`count` copies of `template` (an Application with a process), each in its own new cluster. Returns them.

    With `finished_tasks` the process's finished tasks are copied too (the history a real process carries).
    """
    template = Application.objects.select_related("cluster").get(pk=template.pk)  # as stored, not as held
    cluster = template.cluster
    batch = uuid.uuid4().hex[:6]  # cluster names are unique in a district, also across several calls
    clusters = Cluster.objects.bulk_create(
        _copies(cluster, count, name=lambda i: f"{cluster.name}-{batch}-{i + 1:05d}"), batch_size=BATCH
    )
    memberships = list(ClusterMembership.objects.filter(cluster=cluster))
    ClusterMembership.objects.bulk_create(
        [
            ClusterMembership(cluster=new, school_id=membership.school_id, role=membership.role)
            for new in clusters
            for membership in memberships
        ],
        batch_size=BATCH,
    )
    applications = Application.objects.bulk_create(
        _copies(template, count, cluster=lambda i: clusters[i]), batch_size=BATCH
    )
    # auto_now_add stamped the copies now; keep the template's dates so "waiting since" sorts as it would.
    Application.objects.filter(pk__in=[a.pk for a in applications]).update(
        created=template.created, status_changed=template.status_changed
    )
    process = process_for(template)
    processes = CertificationFlow.process_class.objects.bulk_create(
        _copies(process, count, artifact_object_id=lambda i: applications[i].pk), batch_size=BATCH
    )
    task_model = CertificationFlow.task_class
    open_tasks = task_model.objects.filter(process=process)
    if not finished_tasks:
        open_tasks = open_tasks.filter(status__in=[STATUS.NEW, STATUS.ASSIGNED])
    templates = list(open_tasks.select_related("deadline"))
    clones = task_model.objects.bulk_create(
        [
            clone
            for task in templates
            for clone in _copies(
                task,
                count,
                process=lambda i: processes[i],
                owner_permission_obj_pk=_object_pk(task, applications),
            )
        ],
        batch_size=BATCH,
    )
    # Each copied task keeps its template's due date, as every task of the flow has one.
    TaskDeadline.objects.bulk_create(
        [
            TaskDeadline(task=clone, due=task.deadline.due, working_days=task.deadline.working_days)
            for index, task in enumerate(templates)
            if due_of_task(task) is not None
            for clone in clones[index * count : (index + 1) * count]
        ],
        batch_size=BATCH,
    )
    assignments = list(EvaluatorAssignment.objects.filter(application=template))
    EvaluatorAssignment.objects.bulk_create(
        [
            clone
            for assignment in assignments
            for clone in _copies(assignment, count, application=lambda i: applications[i])
        ],
        batch_size=BATCH,
    )
    sync_object_permissions(applications=Application.objects.filter(pk__in=[a.pk for a in applications]))
    return applications
