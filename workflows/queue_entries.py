"""The queues' copy of the open human tasks (`models.QueueEntry`), kept in step with viewflow's tasks.

A task changes in many places: viewflow's activations create, assign, unassign, finish and cancel it (each a
`task.save()`), the hand-overs move its owner with an UPDATE (`handover._set_owner`), its due date is written
beside it (`deadlines`). Each write is followed here:

- a `Task` saved (any activation step): the `post_save` receiver `on_task_saved` (`apps.WorkflowsConfig.ready`)
  copies the task's fields onto its entry in one statement (INSERT, UPDATE or DELETE). A receiver, not a call in
  each activation: viewflow saves tasks in its own code, and an entry missed once would hide a task from every
  queue. It holds no business rule; it copies.
- a `TaskDeadline` saved or deleted: the receivers copy the date onto the task's entry.
- an UPDATE or a `bulk_create` (the hand-overs, `deadlines.ensure_deadlines`, bulk-made test data) sends no
  signal: those call `refresh(task ids)`, which rewrites the entries from the tasks as `rebuild()` does.

`mismatches()` lists the differences between the entries and the tasks (`manage.py check_queue_entries`, and the
tests of every step in tests/workflows/test_queue_entries.py).
"""

from django.contrib.contenttypes.models import ContentType
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from certification.models import Application

# The module, not the class: the flow's nodes write due dates (`deadlines`), which refresh entries; the flow is
# read when a task is saved, long after every module is loaded.
from . import flows
from .models import QueueEntry, TaskDeadline

# The statuses of a task still to be done by a person (the queues then ask for NEW or ASSIGNED).
OPEN = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]
# The fields an entry copies from its task, compared by `mismatches`.
FIELDS = ("application_id", "flow_task", "status", "owner_id", "owner_permission", "owner_permission_obj_pk")
FIELDS += ("created", "due")


def _open_tasks():
    """The tasks that have an entry: open human tasks of the certification flow on an application."""
    return Task.objects.filter(
        process__flow_class=flows.CertificationFlow,
        process__artifact_content_type=ContentType.objects.get_for_model(Application),
        process__artifact_object_id__isnull=False,
        flow_task_type="HUMAN",
        status__in=OPEN,
    )


def _entries(tasks):
    return [
        QueueEntry(task_id=task.pk, application_id=task.process.artifact_object_id, due=task.due, **_copied(task))
        for task in tasks
    ]


def _read(tasks):
    """The tasks with their process and due date, each with `due` set."""
    rows = list(tasks.select_related("process", "deadline"))
    for task in rows:
        try:
            task.due = task.deadline.due
        except TaskDeadline.DoesNotExist:
            task.due = None
    return rows


def refresh(task_ids):
    """Rewrite the entries of these tasks from the tasks: an open human task of the flow gets its entry, any other
    loses it. Three queries, whatever the number of tasks."""
    task_ids = list(task_ids)
    if not task_ids:
        return
    entries = _entries(_read(_open_tasks().filter(pk__in=task_ids)))
    QueueEntry.objects.filter(task_id__in=task_ids).delete()
    QueueEntry.objects.bulk_create(entries)


def rebuild():
    """Every entry rewritten from the tasks (the migration that adds the table, bulk-made test data). Returns how
    many open tasks have one."""
    QueueEntry.objects.all().delete()
    count = 0
    ids = list(_open_tasks().order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 1000):
        entries = _entries(_read(Task.objects.filter(pk__in=ids[start : start + 1000])))
        QueueEntry.objects.bulk_create(entries)
        count += len(entries)
    return count


def mismatches():
    """The differences between the entries and the open tasks, as sentences ([] when they agree)."""
    expected = {entry.task_id: entry for entry in _entries(_read(_open_tasks()))}
    stored = {entry.task_id: entry for entry in QueueEntry.objects.all()}
    found = [f"task {pk}: open, no entry" for pk in sorted(expected.keys() - stored.keys())]
    found += [f"task {pk}: entry, task not open" for pk in sorted(stored.keys() - expected.keys())]
    for pk in sorted(expected.keys() & stored.keys()):
        for field in FIELDS:
            want, have = getattr(expected[pk], field), getattr(stored[pk], field)
            if str(want) != str(have):
                found.append(f"task {pk}: {field} is {have!r}, the task's is {want!r}")
    return found


def _is_entry_process(process):
    return (
        process.flow_class is flows.CertificationFlow
        and process.artifact_object_id is not None
        and process.artifact_content_type_id == ContentType.objects.get_for_model(Application).pk
    )


def _copied(task):
    """The fields an entry copies from its task itself (not its application, not its due date)."""
    return {
        "flow_task": task.flow_task,
        "status": task.status,
        "owner_id": task.owner_id,
        "owner_permission": task.owner_permission,
        "owner_permission_obj_pk": task.owner_permission_obj_pk,
        "created": task.created,
    }


def on_task_saved(sender, instance, created=False, raw=False, **kwargs):
    """`post_save` of a viewflow task (any subclass) or of a due date: one statement for each, as a transition
    saves a task or two and a due date.

    A task just inserted has no due date yet (its row points at the task): its entry is inserted with none. A task
    updated has its entry updated, due date kept; one that has none (it was not open) is read whole (`refresh`).
    A due date saved is copied onto its task's entry, if the task has one.
    """
    if raw:
        return
    if isinstance(instance, TaskDeadline):
        QueueEntry.objects.filter(task_id=instance.task_id).update(due=instance.due)
        return
    # Only a human task has an entry, and a task's type never changes: the others cost no query.
    if not isinstance(instance, Task) or instance.flow_task_type != "HUMAN":
        return
    if instance.status not in OPEN:
        if not created:
            QueueEntry.objects.filter(task_id=instance.pk).delete()
        return
    if created:
        process = instance.process
        if _is_entry_process(process):
            QueueEntry.objects.create(
                task_id=instance.pk, application_id=process.artifact_object_id, **_copied(instance)
            )
        return
    if not QueueEntry.objects.filter(task_id=instance.pk).update(**_copied(instance)):
        refresh([instance.pk])


def on_deadline_deleted(sender, instance, **kwargs):
    """`post_delete` of a due date: its task's entry has none any more."""
    if isinstance(instance, TaskDeadline):
        QueueEntry.objects.filter(task_id=instance.task_id).update(due=None)
