"""The queues' entries (`workflows.queue_entries`) agree with the open tasks after every step of a task's life:
created, taken, given back, completed, cancelled, transferred, delegated and returned, covered, its due date set,
moved or removed; bulk-made tasks, the migration's fill and the check command."""

from datetime import date, timedelta
from importlib import import_module

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from certification.domain.roles import ensure_groups
from certification.models import Absence, Application, Role, Tier
from tests.factories.bulk import clone_applications
from tests.factories.workflow import build_world, person
from tests.workflows.driver import client_for, do, open_task, take
from tests.workflows.work_pages.helpers import another_cluster, to_approval, to_formal_review
from workflows import handover, queue_entries
from workflows.deadlines import ensure_deadlines
from workflows.engine import withdraw_application
from workflows.flows import CertificationFlow as F
from workflows.models import QueueEntry, TaskDeadline

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def role_groups(db):
    reverse("workflow:inbox")
    return ensure_groups()


def entry_of(task):
    """The task's entry, after checking that every entry agrees with its task."""
    assert queue_entries.mismatches() == []
    return QueueEntry.objects.filter(task_id=task.pk).first()


def test_entry_follows_create_take_give_back_and_complete():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = to_formal_review(world)
    review = open_task(process, F.formal_review)

    created = entry_of(review)
    assert (created.application_id, created.status, created.owner_id) == (application.pk, STATUS.NEW, None)
    assert created.flow_task == F.formal_review
    assert (created.created, created.due) == (review.created, review.deadline.due)
    assert created.owner_permission == review.owner_permission and created.owner_permission_obj_pk == str(
        application.pk
    )

    take(world.office, review)
    assert (entry_of(review).status, entry_of(review).owner_id) == (STATUS.ASSIGNED, world.office.pk)

    response = client_for(world.office).post(F.formal_review.reverse("unassign", args=[process.pk, review.pk]))
    assert response.status_code == 302
    assert (entry_of(review).status, entry_of(review).owner_id) == (STATUS.NEW, None)

    do(world.office, process, F.formal_review, {"decision": "pass"})
    assert entry_of(review) is None
    following = open_task(process, F.assign_evaluators)
    assert entry_of(following).status == STATUS.NEW
    # The finished steps (the lead's three stages, the review) have none; the open one has.
    assert list(QueueEntry.objects.filter(application=application).values_list("task_id", flat=True)) == [following.pk]


def test_entries_end_when_the_application_is_withdrawn():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = to_formal_review(world)
    review = open_task(process, F.formal_review)
    take(world.office, review)
    assert entry_of(review) is not None

    withdraw_application(application, by=world.lead, reason="本学期不再申报")

    assert Task.objects.get(pk=review.pk).status == STATUS.CANCELED
    assert entry_of(review) is None
    assert not QueueEntry.objects.filter(application=application).exists()


@pytest.fixture
def decision():
    """The district leader holds the approval task; a colleague of the same district could take it."""
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = to_approval(world)
    task = open_task(process, F.district_decision)
    take(world.leader, task)
    colleague = person(Role.DISTRICT_LEADER, region=world.district, display_name="第二位分管领导")
    return world, Task.objects.get(pk=task.pk), colleague


def test_entry_follows_transfer(decision):
    world, task, colleague = decision

    handover.transfer_task(task, colleague, "出差一周", by=world.leader)

    assert (entry_of(task).owner_id, entry_of(task).status) == (colleague.pk, STATUS.ASSIGNED)


def test_entry_follows_delegation_and_its_return(decision):
    world, task, colleague = decision

    handover.delegate_task(task, colleague, "请先审", by=world.leader)
    assert entry_of(task).owner_id == colleague.pk
    handover.return_delegated_task(Task.objects.get(pk=task.pk), draft={"decision": "approve"}, by=colleague)

    assert entry_of(task).owner_id == world.leader.pk


def test_entry_follows_out_of_office_cover(decision):
    world, task, colleague = decision
    today = timezone.localdate()
    absence = Absence.objects.create(user=world.leader, substitute=colleague, starts=today, ends=today, reason="年假")

    handed, refused = handover.hand_over_open_tasks(absence, by=world.leader)

    assert ([t.pk for t in handed], refused) == ([task.pk], [])
    assert entry_of(task).owner_id == colleague.pk


def test_entry_follows_its_due_date_moved_removed_and_set_again():
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = to_formal_review(world)
    review = open_task(process, F.formal_review)
    deadline = TaskDeadline.objects.get(task=review)

    deadline.due = date(2031, 5, 6)
    deadline.save(update_fields=["due"])
    assert entry_of(review).due == date(2031, 5, 6)

    deadline.delete()
    assert entry_of(review).due is None

    # A task left without a due date gets one from `ensure_deadlines` (bulk_create, no post_save).
    assert ensure_deadlines(F) == 1
    assert entry_of(review).due == TaskDeadline.objects.get(task=review).due is not None


def test_bulk_made_tasks_have_their_entries():
    world = build_world(Tier.CLOSE_KNIT)
    template, _process = to_formal_review(world, *another_cluster(world))

    copies = clone_applications(template, 30, finished_tasks=True)

    assert queue_entries.mismatches() == []
    assert QueueEntry.objects.filter(application__in=copies, flow_task=F.formal_review).count() == 30


def test_migration_fill_gives_the_same_entries_as_rebuild():
    fill = import_module("workflows.migrations.0007_fill_queue_entries").FILL
    world = build_world(Tier.CLOSE_KNIT)
    to_approval(world)
    to_formal_review(world, *another_cluster(world))
    expected = sorted(QueueEntry.objects.values_list("task_id", "application_id", "status", "owner_id", "due"))
    QueueEntry.objects.all().delete()

    with connection.cursor() as cursor:
        cursor.execute(fill)

    assert queue_entries.mismatches() == []
    assert sorted(QueueEntry.objects.values_list("task_id", "application_id", "status", "owner_id", "due")) == expected
    assert len(expected) >= 2


def test_check_command_reports_and_repairs_a_difference(capsys):
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = to_formal_review(world)
    review = open_task(process, F.formal_review)
    call_command("check_queue_entries")
    assert "一致" in capsys.readouterr().out
    QueueEntry.objects.filter(task_id=review.pk).update(due=review.deadline.due + timedelta(days=3))

    with pytest.raises(CommandError):
        call_command("check_queue_entries")
    assert f"task {review.pk}: due" in capsys.readouterr().out

    call_command("check_queue_entries", "--repair")
    assert queue_entries.mismatches() == []
    assert QueueEntry.objects.get(task_id=review.pk).due == review.deadline.due


def test_entry_follows_writes_that_send_no_signal():
    """The database keeps the entries (triggers): a bare UPDATE of the task, as a console or a bulk fix would
    write, moves its entry too — taken, closed, opened again."""
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = to_formal_review(world)
    review = open_task(process, F.formal_review)
    tasks = Task.objects.filter(pk=review.pk)

    tasks.update(owner=world.office, status=STATUS.ASSIGNED)
    assert (entry_of(review).owner_id, entry_of(review).status) == (world.office.pk, STATUS.ASSIGNED)

    tasks.update(status=STATUS.CANCELED)
    assert entry_of(review) is None

    tasks.update(status=STATUS.NEW, owner=None)
    assert (entry_of(review).status, entry_of(review).owner_id, entry_of(review).due) == (
        STATUS.NEW,
        None,
        review.deadline.due,
    )


def test_triggers_name_the_flow_and_the_content_type_the_product_stores():
    """The migration's SQL names the flow and the application's content type as literals (a migration must not
    import today's classes); they are the values viewflow and Django store."""
    triggers = import_module("workflows.migrations.0008_queue_entry_triggers")
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = to_formal_review(world)
    with connection.cursor() as cursor:
        cursor.execute("SELECT flow_class FROM viewflow_process WHERE id = %s", [process.pk])
        (stored,) = cursor.fetchone()
    content_type = ContentType.objects.get_for_model(Application)

    assert f"process.flow_class = '{stored}'" in triggers.ENTRY_PROCESS
    assert f"content_type.app_label = '{content_type.app_label}'" in triggers.ENTRY_PROCESS
    assert f"content_type.model = '{content_type.model}'" in triggers.ENTRY_PROCESS


def test_without_the_triggers_the_entries_fall_behind_and_the_check_says_so():
    """The triggers are what keeps the entries: dropped (the migration's reverse), a task taken leaves its entry
    stale, which the check finds; created again, the next write is followed."""
    triggers = import_module("workflows.migrations.0008_queue_entry_triggers")
    create, drop = triggers.STATEMENTS[connection.vendor]
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = to_formal_review(world)
    review = open_task(process, F.formal_review)
    tasks = Task.objects.filter(pk=review.pk)

    with connection.cursor() as cursor:
        for statement in drop:
            cursor.execute(statement)
    tasks.update(owner=world.office, status=STATUS.ASSIGNED)
    assert queue_entries.mismatches() == [
        f"task {review.pk}: status is 'NEW', the task's is 'ASSIGNED'",
        f"task {review.pk}: owner_id is None, the task's is {world.office.pk}",
    ]

    with connection.cursor() as cursor:
        for statement in create:
            cursor.execute(statement)
    tasks.update(owner=world.office)
    assert queue_entries.mismatches() == []
