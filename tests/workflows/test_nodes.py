"""The flow's own nodes: the ForEach multi-instance split and the lock every flow must use."""

import pytest
from django.utils.module_loading import autodiscover_modules
from viewflow.workflow import lock
from viewflow.workflow.base import Flow
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from certification.models import Application, EvaluatorAssignment, Tier
from tests.factories.workflow import build_world, upload_all_evidence
from tests.workflows.driver import client_for, do, open_tasks, scores, start
from tests.workflows.work_pages.helpers import another_cluster
from workflows.flows import CertificationFlow as F
from workflows.nodes import ForEach

FULL = {"A1": 4, "A2": 6}


def _all_flows():
    autodiscover_modules("flows")
    found, queue = [], list(Flow.__subclasses__())
    while queue:
        flow_class = queue.pop()
        found.append(flow_class)
        queue.extend(flow_class.__subclasses__())
    return found


def test_every_flow_uses_the_select_for_update_lock():
    flows = _all_flows()

    assert F in flows
    for flow_class in flows:
        assert isinstance(flow_class.lock_impl, lock.SelectForUpdateLock), flow_class


def _panel(evaluators=4, assigned=4):
    world = build_world(Tier.CLOSE_KNIT, evaluators=evaluators)
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(application, world.lead)
    for node in (F.submit_basic, F.submit_process, F.submit_outcome):
        do(world.lead, process, node)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    chosen = world.evaluators[:assigned]
    do(world.office, process, F.assign_evaluators, {"evaluators": [e.pk for e in chosen], "panel_lead": chosen[0].pk})
    return world, application, process, chosen


def _task_of(process, evaluator):
    return Task.objects.get(process=process, flow_task=F.score, owner=evaluator, status=STATUS.ASSIGNED)


@pytest.mark.django_db
def test_for_each_opens_one_task_per_item_in_each_owners_inbox():
    _world, application, process, chosen = _panel(assigned=4)

    tasks = open_tasks(process, F.score)

    split = Task.objects.get(process=process, flow_task=F.panel)
    assert isinstance(F.panel, ForEach)
    assert split.status == STATUS.DONE
    assert sorted(t.owner_id for t in tasks) == sorted(e.pk for e in chosen)
    assert {t.status for t in tasks} == {STATUS.ASSIGNED}
    assert sorted(t.data["assignment"] for t in tasks) == sorted(
        EvaluatorAssignment.objects.filter(application=application).values_list("pk", flat=True)
    )
    # Each instance has its own token under the split's prefix, so the join can count them.
    assert sorted(str(t.token) for t in tasks) == [f"start/{split.pk}_{n}" for n in range(1, 5)]


@pytest.mark.django_db
def test_for_each_join_waits_for_every_instance_including_a_replacement_branch():
    world, application, process, chosen = _panel(evaluators=5, assigned=3)
    first, second, third = chosen
    do(third, process, F.score, {"action": "recuse", "reason": "利益相关"}, task=_task_of(process, third))
    for evaluator in (first, second):
        do(
            evaluator,
            process,
            F.score,
            {"action": "submit", **scores(application, FULL)},
            task=_task_of(process, evaluator),
        )

    application.refresh_from_db()
    assert application.status == Application.Status.SCORING
    assert not Task.objects.filter(process=process, flow_task=F.aggregate).exists()
    join = Task.objects.get(process=process, flow_task=F.panel_done)
    assert join.status == STATUS.STARTED

    replacement = world.evaluators[4]
    do(world.office, process, F.replace_evaluator, {"evaluator": replacement.pk})
    replacement_task = _task_of(process, replacement)
    assert str(replacement_task.token) == str(Task.objects.get(process=process, flow_task=F.score, owner=third).token)
    do(replacement, process, F.score, {"action": "submit", **scores(application, FULL)}, task=replacement_task)

    join.refresh_from_db()
    application.refresh_from_db()
    assert join.status == STATUS.DONE
    assert application.status == Application.Status.APPROVAL


@pytest.mark.django_db
def test_office_takes_a_revoked_evaluator_off_the_panel_and_the_branch_asks_for_a_replacement():
    from django.urls import reverse

    from certification.domain.roles import revoke_role
    from certification.models import AuditEvent, Role
    from tests.workflows.driver import client_for

    world, application, process, chosen = _panel(evaluators=5, assigned=3)
    gone = chosen[2]
    revoke_role(gone.role_grants.get(role=Role.EVALUATOR))
    assignment = EvaluatorAssignment.objects.get(application=application, evaluator=gone)
    url = reverse("workflow:evaluator_remove", args=[application.pk, assignment.pk])

    refused = client_for(world.lead).post(url, {"reason": "越权"})
    removed = client_for(world.office).post(url, {"reason": "专家角色已撤销"})

    assert refused.status_code == 403
    assert removed.status_code == 302
    assert _task_of_status(process, gone) == STATUS.DONE
    do(world.office, process, F.replace_evaluator, {"evaluator": world.evaluators[3].pk})
    for evaluator in (chosen[0], chosen[1], world.evaluators[3]):
        do(
            evaluator,
            process,
            F.score,
            {"action": "submit", **scores(application, FULL)},
            task=_task_of(process, evaluator),
        )
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVAL
    event = AuditEvent.objects.get(application=application, action="evaluator.removed")
    assert (event.actor, event.reason) == (world.office, "专家角色已撤销")


def _task_of_status(process, evaluator):
    return Task.objects.get(process=process, flow_task=F.score, owner=evaluator).status


def test_a_task_addressed_under_another_process_is_not_found_and_stays_open():
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    cluster, lead = another_cluster(world)
    _other_application, other_process = start(lead, cluster, Tier.CLOSE_KNIT)
    task = open_tasks(process, F.submit_basic)[0]
    client = client_for(world.lead)

    # The lock is taken on the process the URL names: the task must belong to it.
    response = client.post(F.submit_basic.reverse("execute", args=[other_process.pk, task.pk]))

    assert response.status_code == 404
    task.refresh_from_db()
    assert task.status in (STATUS.NEW, STATUS.ASSIGNED)
