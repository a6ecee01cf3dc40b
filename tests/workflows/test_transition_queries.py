"""A human-task transition POST runs a fixed number of queries, whatever the number of applications in scope.

Anchor: viewflow's own "assign" POST on the same task (viewflow's code alone: load, check, lock, save).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from viewflow.workflow.status import STATUS

from certification.domain.roles import ensure_groups
from certification.models import Application, Tier
from tests.factories.bulk import clone_applications
from tests.factories.workflow import build_world
from tests.workflows.driver import client_for, open_task
from tests.workflows.work_pages.helpers import to_formal_review
from workflows.flows import CertificationFlow as F

pytestmark = [pytest.mark.django_db]

# Measured on SQLite, inside the test's transaction. Each object permission is read once per request, in one query
# (certification.permission_cache), the application once with its cluster and standard, the task's owner not at
# all: 38 → 30; issue 12 added 3 (the next task's TaskDeadline, the page's delegation read, the out-of-office
# question): 33. Issue 11 (≤ 25): 33 → 25. TaskView reads the task with its process and whether it was ever
# delegated (so the delegation row is read only for delegated tasks), runs a POST in the process lock's transaction
# without viewflow's nested one, and reads the application under lock once for the permission check and the step
# (certification.domain.locking); the step reads the leads and the deciding office in one query; the If gate skips
# the savepoint around its condition where an error propagates anyway. Of the 25, 4 are SAVEPOINT/RELEASE: the
# step's own (it must roll back alone when the page shows an input refusal) and 2 only because the test runs in a
# transaction (outside one, the lock's atomic block is BEGIN/COMMIT, which are not counted). Viewflow's own assign
# POST through TaskView: 17 → 13 → 10.
# Issue 12's queue entries (`workflows.queue_entries`: the queues read them instead of joining every task in scope)
# cost one statement per task write while Python receivers kept them (assign 10 → 11, transition 25 → 28); the
# database's triggers keep them now, inside the statements that write the tasks: back to 10 and 25.
# Issue 11's time (not its count): the two permission reads and the away check of the next task's holders run
# statements the ORM compiled once per process (certification.prepared): still 25, each still sent.
TRANSITION_QUERIES = 25
ASSIGN_QUERIES = 10


@pytest.fixture(autouse=True)
def role_groups(db):
    reverse("workflow:inbox")
    return ensure_groups()


def count(client, url, data):
    with CaptureQueriesContext(connection) as context:
        response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return len(context.captured_queries)


def formal_review_pass(world, application, process):
    task = open_task(process, F.formal_review)
    client = client_for(world.office)
    assign = count(client, F.formal_review.reverse("assign", args=[process.pk, task.pk]), {})
    task.refresh_from_db()
    assert task.status == STATUS.ASSIGNED
    url = F.formal_review.reverse("execute", args=[process.pk, task.pk])
    client.get(url)
    transition = count(client, url, {"decision": "pass", "comment": "材料齐全"})
    application.refresh_from_db()
    assert application.status == Application.Status.ASSIGNMENT
    return assign, transition


def test_formal_review_transition_runs_a_fixed_number_of_queries():
    world = build_world(Tier.CLOSE_KNIT)
    first, first_process = to_formal_review(world)
    second, second_process = to_formal_review(world, *_other(world))
    small = formal_review_pass(world, first, first_process)
    clone_applications(second, 200)

    large = formal_review_pass(world, second, second_process)

    assert large == small
    assert large == (ASSIGN_QUERIES, TRANSITION_QUERIES)


def _other(world):
    from tests.workflows.work_pages.helpers import another_cluster

    return another_cluster(world)
