"""Two people (or two clicks) at once on one task give exactly one transition. Needs PostgreSQL's row locks."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from certification.models import Application, AuditEvent, Certificate, Role, Tier
from tests.factories.workflow import build_world, person, upload_all_evidence
from tests.workflows.driver import client_for, do, open_task, score_all, start
from workflows.flows import CertificationFlow as F

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

FULL = {"A1": 4, "A2": 6}


def _at_approval():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(application, world.lead)
    for node in (F.submit_basic, F.submit_process, F.submit_outcome):
        do(world.lead, process, node)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    panel = world.evaluators[:3]
    do(world.office, process, F.assign_evaluators, {"evaluators": [e.pk for e in panel], "panel_lead": panel[0].pk})
    score_all(application, process, dict.fromkeys(panel, FULL))
    return world, application, process


def _at_once(*calls):
    """Run the calls in parallel threads released together; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_double_submit_of_one_task_gives_one_transition(transactional_db):
    world, application, process = _at_approval()
    task = open_task(process, F.district_decision)
    first, second = client_for(world.leader), client_for(world.leader)
    assert first.post(F.district_decision.reverse("assign", args=[process.pk, task.pk])).status_code == 302
    url = F.district_decision.reverse("execute", args=[process.pk, task.pk])

    responses = _at_once(
        lambda: first.post(url, {"decision": "approve", "comment": "同意"}),
        lambda: second.post(url, {"decision": "approve", "comment": "同意"}),
    )

    assert sorted(r.status_code for r in responses) == [302, 409]
    application.refresh_from_db()
    assert application.status == Application.Status.PUBLICITY
    assert AuditEvent.objects.filter(application=application, action="approval.approved").count() == 1
    assert AuditEvent.objects.filter(application=application, action="publicity.started").count() == 1


def test_two_approvers_at_once_one_takes_the_task(transactional_db):
    world, application, process = _at_approval()
    colleague = person(Role.DISTRICT_LEADER, region=world.district)
    task = open_task(process, F.district_decision)
    url = F.district_decision.reverse("assign", args=[process.pk, task.pk])
    clients = client_for(world.leader), client_for(colleague)

    responses = _at_once(*(lambda c=c: c.post(url) for c in clients))

    assert sorted(r.status_code for r in responses) == [302, 409]
    task.refresh_from_db()
    winner = world.leader if responses[0].status_code == 302 else colleague
    assert task.owner == winner
    loser = clients[1] if winner == world.leader else clients[0]
    execute = F.district_decision.reverse("execute", args=[process.pk, task.pk])
    assert loser.post(execute, {"decision": "approve"}).status_code == 409
    assert AuditEvent.objects.filter(application=application, action="approval.approved").count() == 0


def test_ten_offices_ending_one_publicity_at_once_certify_once_without_deadlock(transactional_db):
    # Every path that locks an application and its timer task must lock them in one order, or the demo shortcut
    # (application, then timer) and the timer it fires (process and timer, then application) deadlock.
    world, application, process = _at_approval()
    do(world.leader, process, F.district_decision, {"decision": "approve", "comment": "同意"})
    url = reverse("work:end_publicity", args=[application.pk])
    clients = [client_for(world.office) for _ in range(10)]

    responses = _at_once(*(lambda c=c: c.post(url) for c in clients))

    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {302, 409}, statuses
    assert statuses.count(302) >= 1
    application.refresh_from_db()
    assert application.status == Application.Status.CERTIFIED
    assert Certificate.objects.filter(application=application).count() == 1
    assert AuditEvent.objects.filter(application=application, action="application.certified").count() == 1
