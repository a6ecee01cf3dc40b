"""The queues' copy of the open human tasks (`models.QueueEntry`), kept in step with viewflow's tasks by the database.

A task changes in many places: viewflow's activations create, assign, unassign, finish and cancel it, the
hand-overs move its owner with an UPDATE (`handover._set_owner`), its due date is written beside it (`deadlines`),
test and bench data are bulk-made. Triggers on the task table and on the due dates (migration
`0008_queue_entry_triggers`, one set for PostgreSQL and one for SQLite) copy each write onto the task's entry inside
the statement that made it: no writer can forget, and a transition pays no statement of its own for the queues.

This module holds what Python still does with them: `rebuild()` rewrites every entry from the tasks
(`manage.py check_queue_entries --repair`), `mismatches()` lists the differences (`check_queue_entries`, and the
tests of every step in tests/workflows/test_queue_entries.py).
"""

from django.contrib.contenttypes.models import ContentType
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from certification.models import Application

from .flows import CertificationFlow
from .models import QueueEntry, TaskDeadline

# The statuses of a task still to be done by a person (the queues then ask for NEW or ASSIGNED).
OPEN = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]
# The fields an entry copies from its task, compared by `mismatches`.
FIELDS = ("application_id", "flow_task", "status", "owner_id", "owner_permission", "owner_permission_obj_pk")
FIELDS += ("created", "due")


def _open_tasks():
    """The tasks that have an entry: open human tasks of the certification flow on an application."""
    return Task.objects.filter(
        process__flow_class=CertificationFlow,
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
