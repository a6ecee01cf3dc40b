"""转办 / 委派 / 加签 and out-of-office cover, over HTTP as each person would do them: the allowed cases carry the
application through, every refused case (wrong role, wrong scope, tied evaluator, evaluator as approver, no reason)
answers in Chinese and leaves tasks, records, audit trail and notifications exactly as they were."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from guardian.models import UserObjectPermission
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from certification.domain import cover
from certification.domain.roles import grant_role
from certification.errors import NotAllowed
from certification.models import (
    Absence,
    Application,
    AuditEvent,
    CoSignature,
    EvaluatorAssignment,
    Notification,
    Role,
    TaskHandover,
    Tier,
)
from tests.factories.bulk import clone_applications
from tests.factories.workflow import build_world, person, upload_all_evidence
from tests.workflows.driver import client_for, do, open_task, score_all, start, take
from tests.workflows.work_pages.helpers import another_cluster, count_queries, to_formal_review
from workflows import handover as engine
from workflows.flows import CertificationFlow as F

pytestmark = pytest.mark.django_db

FULL = {"A1": 4, "A2": 6}


def _to_approval(world, panel=None):
    application, process = start(world.lead, world.cluster, world.tier)
    upload_all_evidence(application, world.lead)
    for node in (F.submit_basic, F.submit_process, F.submit_outcome):
        do(world.lead, process, node)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    panel = panel or world.evaluators[:3]
    do(world.office, process, F.assign_evaluators, {"evaluators": [e.pk for e in panel], "panel_lead": panel[0].pk})
    score_all(application, process, dict.fromkeys(panel, FULL))
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVAL
    return application, process


@pytest.fixture
def scene():
    """An application in the district leader's queue; a second leader of the same district; a leader of another
    district; a leader of the same district who sat on the panel (four eyes)."""
    world = build_world(Tier.CLOSE_KNIT)
    evaluator_leader = world.evaluators[0]
    grant_role(evaluator_leader, Role.DISTRICT_LEADER, region=world.district)
    application, process = _to_approval(world)
    other = build_world(Tier.CLOSE_KNIT, city=world.city)
    return {
        "world": world,
        "application": application,
        "process": process,
        "leader": world.leader,
        "colleague": person(Role.DISTRICT_LEADER, region=world.district, display_name="第二位分管领导"),
        "other_leader": other.leader,
        "office": world.office,
        "evaluator_leader": evaluator_leader,
    }


def _taken_decision(scene):
    task = open_task(scene["process"], F.district_decision)
    take(scene["leader"], task)
    task.refresh_from_db()
    assert task.owner_id == scene["leader"].pk
    return task


def _snapshot():
    return {
        "tasks": sorted(Task.objects.values_list("pk", "status", "owner_id", "owner_permission", "data")),
        "applications": sorted(Application.objects.values_list("pk", "status")),
        "audit": AuditEvent.objects.count(),
        "handovers": TaskHandover.objects.count(),
        "cosignatures": sorted(CoSignature.objects.values_list("pk", "status", "closed")),
        "absences": Absence.objects.count(),
        "notifications": Notification.objects.count(),
        "permissions": UserObjectPermission.objects.count(),
    }


def _post(user, name, task, data):
    return client_for(user).post(reverse(f"work:{name}", args=[task.pk]), data)


# ------------------------------------------------------------------------------------------------------- 转办


def test_transfer_to_a_leader_of_the_same_district_moves_the_task_and_keeps_the_rest(scene):
    task = _taken_decision(scene)
    page = client_for(scene["leader"]).get(F.district_decision.reverse("execute", args=[task.process_id, task.pk]))
    assert reverse("work:task_transfer", args=[task.pk]) in page.content.decode()
    before = Task.objects.values("status", "data", "owner_permission", "created").get(pk=task.pk)

    response = _post(scene["leader"], "task_transfer", task, {"receiver": scene["colleague"].pk, "reason": "出差一周"})

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.owner_id == scene["colleague"].pk
    assert Task.objects.values("status", "data", "owner_permission", "created").get(pk=task.pk) == before
    record = TaskHandover.objects.get()
    assert (record.kind, record.from_user, record.to_user, record.reason) == (
        "transfer",
        scene["leader"],
        scene["colleague"],
        "出差一周",
    )
    event = AuditEvent.objects.filter(action="task.transferred").get()
    assert (event.actor, event.application_id, event.reason) == (scene["leader"], scene["application"].pk, "出差一周")
    assert Notification.objects.filter(recipient=scene["colleague"], application=scene["application"]).exists()
    # The receiver decides; the holder no longer can.
    assert (
        client_for(scene["leader"])
        .get(F.district_decision.reverse("execute", args=[task.process_id, task.pk]))
        .status_code
        == 409
    )
    do(scene["colleague"], scene["process"], F.district_decision, {"decision": "approve", "comment": "同意"})
    assert Application.objects.get(pk=scene["application"].pk).status == Application.Status.PUBLICITY


@pytest.mark.parametrize(
    ("receiver", "reason", "status", "says"),
    [
        ("office", "请代办", 403, "不是"),  # wrong role: the district office may not decide
        ("other_leader", "请代办", 403, "不是"),  # wrong scope: a leader of another district
        ("evaluator_leader", "请代办", 403, "评估"),  # evaluator as approver (four eyes)
        ("colleague", "", 400, ""),  # no reason
    ],
)
@pytest.mark.parametrize("action", ["task_transfer", "task_delegate", "task_cosign"])
def test_handover_refusals_change_nothing(scene, action, receiver, reason, status, says):
    task = _taken_decision(scene)
    before = _snapshot()

    response = _post(scene["leader"], action, task, {"receiver": scene[receiver].pk, "reason": reason})

    assert response.status_code == status
    body = response.content.decode()
    assert 'data-test="form-errors"' in body and says in body
    assert _snapshot() == before


def test_only_the_holder_may_pass_a_task_on(scene):
    task = _taken_decision(scene)
    before = _snapshot()
    response = _post(scene["colleague"], "task_transfer", task, {"receiver": scene["colleague"].pk, "reason": "抢"})
    assert response.status_code == 403
    assert "只有" in response.content.decode()
    assert _snapshot() == before


def test_scoring_task_cannot_be_passed_to_a_tied_evaluator():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = start(world.lead, world.cluster, world.tier)
    upload_all_evidence(application, world.lead)
    for node in (F.submit_basic, F.submit_process, F.submit_outcome):
        do(world.lead, process, node)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    panel = world.evaluators[:3]
    do(world.office, process, F.assign_evaluators, {"evaluators": [e.pk for e in panel], "panel_lead": panel[0].pk})
    task = Task.objects.get(process=process, flow_task=F.score, owner=panel[0])
    before = _snapshot()

    for action in ("task_transfer", "task_delegate"):
        response = _post(panel[0], action, task, {"receiver": world.tied_evaluator.pk, "reason": "没空"})
        assert response.status_code == 403
        assert "评分任务" in response.content.decode()
    with pytest.raises(NotAllowed):
        engine.transfer_task(task, world.evaluators[3], "没空", by=panel[0])

    assert _snapshot() == before
    # The task page offers no handover for a scoring task.
    page = client_for(panel[0]).get(F.score.reverse("execute", args=[process.pk, task.pk])).content.decode()
    assert 'data-test="handover-links"' not in page


# ------------------------------------------------------------------------------------------------------- 委派


def test_delegate_fills_the_form_and_returns_it_then_the_holder_completes(scene):
    task = _taken_decision(scene)
    assert (
        _post(
            scene["leader"], "task_delegate", task, {"receiver": scene["colleague"].pk, "reason": "请先审"}
        ).status_code
        == 302
    )
    task.refresh_from_db()
    assert task.owner_id == scene["colleague"].pk
    url = F.district_decision.reverse("execute", args=[task.process_id, task.pk])
    page = client_for(scene["colleague"]).get(url).content.decode()
    assert 'data-test="delegated"' in page and 'data-test="handover-links"' not in page
    # Passing it on again while it is with the delegate is refused.
    assert (
        _post(scene["colleague"], "task_transfer", task, {"receiver": scene["leader"].pk, "reason": "x"}).status_code
        == 409
    )

    response = client_for(scene["colleague"]).post(url, {"decision": "approve", "comment": "建议同意，数据已核"})

    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.owner_id, task.status) == (scene["leader"].pk, STATUS.ASSIGNED)
    assert Application.objects.get(pk=scene["application"].pk).status == Application.Status.APPROVAL
    record = TaskHandover.objects.get()
    assert record.status == "returned" and record.draft["comment"] == ["建议同意，数据已核"]
    assert AuditEvent.objects.filter(action="task.delegation_returned", actor=scene["colleague"]).count() == 1
    assert Notification.objects.filter(recipient=scene["leader"], subject__contains="交回").exists()

    holder_page = client_for(scene["leader"]).get(url).content.decode()
    assert 'data-test="returned"' in holder_page and "建议同意，数据已核" in holder_page
    do(scene["leader"], scene["process"], F.district_decision, {"decision": "approve", "comment": "建议同意，数据已核"})
    assert Application.objects.get(pk=scene["application"].pk).status == Application.Status.PUBLICITY
    approved = AuditEvent.objects.get(action="approval.approved")
    assert approved.actor == scene["leader"]


# ------------------------------------------------------------------------------------------------------- 加签


def test_decision_waits_for_the_cosigner(scene):
    task = _taken_decision(scene)
    assert (
        _post(
            scene["leader"], "task_cosign", task, {"receiver": scene["colleague"].pk, "reason": "重大事项"}
        ).status_code
        == 302
    )
    url = F.district_decision.reverse("execute", args=[task.process_id, task.pk])
    assert "第二位分管领导" in client_for(scene["leader"]).get(url).content.decode()
    before = _snapshot()

    refused = client_for(scene["leader"]).post(url, {"decision": "approve", "comment": "同意"})

    assert refused.status_code == 409 and "会签" in refused.content.decode()
    assert _snapshot() == before
    cosignature = CoSignature.objects.get()
    listing = client_for(scene["colleague"]).get(reverse("work:cosignatures")).content.decode()
    assert scene["application"].cluster.name in listing
    # Someone else cannot sign in the co-signer's place.
    assert (
        client_for(scene["leader"])
        .post(reverse("work:cosignature_sign", args=[cosignature.pk]), {"decision": "agree"})
        .status_code
        == 404
    )
    assert (
        client_for(scene["colleague"])
        .post(reverse("work:cosignature_sign", args=[cosignature.pk]), {"decision": "agree", "comment": "同意"})
        .status_code
        == 302
    )
    cosignature.refresh_from_db()
    assert cosignature.status == "agreed"

    do(scene["leader"], scene["process"], F.district_decision, {"decision": "approve", "comment": "同意"})
    assert Application.objects.get(pk=scene["application"].pk).status == Application.Status.PUBLICITY
    cosignature.refresh_from_db()
    assert cosignature.closed is not None
    assert [e.action for e in AuditEvent.objects.filter(action__in=["cosigner.added", "cosignature.signed"])] == [
        "cosigner.added",
        "cosignature.signed",
    ]


def test_declined_cosignature_keeps_the_approval_from_going_through(scene):
    task = _taken_decision(scene)
    _post(scene["leader"], "task_cosign", task, {"receiver": scene["colleague"].pk, "reason": "重大事项"})
    cosignature = CoSignature.objects.get()
    client_for(scene["colleague"]).post(
        reverse("work:cosignature_sign", args=[cosignature.pk]), {"decision": "decline", "comment": "数据存疑"}
    )
    url = F.district_decision.reverse("execute", args=[task.process_id, task.pk])
    refused = client_for(scene["leader"]).post(url, {"decision": "approve", "comment": "同意"})
    assert refused.status_code == 409
    assert Application.objects.get(pk=scene["application"].pk).status == Application.Status.APPROVAL
    # Sending back is still possible, and closes the co-signature.
    do(scene["leader"], scene["process"], F.district_decision, {"decision": "send_back", "comment": "请复核"})
    assert CoSignature.objects.get().closed is not None


def test_declining_without_a_reason_is_refused(scene):
    task = _taken_decision(scene)
    _post(scene["leader"], "task_cosign", task, {"receiver": scene["colleague"].pk, "reason": "重大事项"})
    cosignature = CoSignature.objects.get()
    before = _snapshot()
    response = client_for(scene["colleague"]).post(
        reverse("work:cosignature_sign", args=[cosignature.pk]), {"decision": "decline", "comment": ""}, follow=True
    )
    assert "请说明不同意会签的理由" in response.content.decode()
    assert _snapshot() == before


# -------------------------------------------------------------------------------------------------- out of office


def _record_absence(user, substitute, *, days=5, reason="年假"):
    today = timezone.localdate()
    return client_for(user).post(
        reverse("work:absences"),
        {"starts": today, "ends": today + timedelta(days=days), "substitute": substitute.pk, "reason": reason},
    )


def test_a_leader_on_leave_does_not_stop_an_approval(scene):
    task = _taken_decision(scene)
    assert _record_absence(scene["leader"], scene["colleague"]).status_code == 302
    absence = Absence.objects.get()
    assert Notification.objects.filter(recipient=scene["colleague"], subject__contains="代理").exists()

    response = client_for(scene["leader"]).post(reverse("work:absence_hand_over", args=[absence.pk]))

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.owner_id == scene["colleague"].pk
    do(scene["colleague"], scene["process"], F.district_decision, {"decision": "approve", "comment": "代为审批"})
    assert Application.objects.get(pk=scene["application"].pk).status == Application.Status.PUBLICITY
    record = TaskHandover.objects.get()
    assert (record.kind, record.from_user, record.to_user, record.absence) == (
        "cover",
        scene["leader"],
        scene["colleague"],
        absence,
    )
    dossier = (
        client_for(scene["office"])
        .get(reverse("work:application_detail", args=[scene["application"].pk]))
        .content.decode()
    )
    assert 'data-test="handovers"' in dossier
    assert "第二位分管领导" in dossier and str(scene["leader"]) in dossier


def test_new_queue_task_goes_to_the_substitute_while_the_other_holder_is_away():
    world = build_world(Tier.CLOSE_KNIT)
    colleague = person(Role.DISTRICT_LEADER, region=world.district, display_name="第二位分管领导")
    assert _record_absence(world.leader, colleague).status_code == 302

    application, process = _to_approval(world)

    task = open_task(process, F.district_decision)
    assert (task.status, task.owner_id) == (STATUS.ASSIGNED, colleague.pk)
    assert TaskHandover.objects.get(task_id=task.pk).kind == "cover"
    assert AuditEvent.objects.filter(action="task.covered", application=application, actor=None).count() == 1


def test_new_task_of_an_absent_lead_goes_to_the_other_lead():
    world = build_world(Tier.CLOSE_KNIT)
    second_lead = person(Role.LEAD, cluster=world.cluster, display_name="副理事长")
    assert _record_absence(world.lead, second_lead).status_code == 302
    _application, process = start(second_lead, world.cluster, world.tier)
    stage_tasks = [open_task(process, node) for node in (F.submit_basic, F.submit_process, F.submit_outcome)]
    assert {task.owner_id for task in stage_tasks} == {second_lead.pk}


def test_after_the_absence_new_tasks_go_to_the_queue_again():
    world = build_world(Tier.CLOSE_KNIT)
    colleague = person(Role.DISTRICT_LEADER, region=world.district)
    today = timezone.localdate()
    Absence.objects.create(
        user=world.leader,
        substitute=colleague,
        starts=today - timedelta(days=9),
        ends=today - timedelta(days=1),
        reason="已结束",
    )
    _application, process = _to_approval(world)
    assert open_task(process, F.district_decision).owner_id is None


@pytest.mark.parametrize(
    ("who", "substitute", "says"),
    [
        ("leader", "other_leader", "不能代理"),  # wrong scope
        ("leader", "office", "不能代理"),  # wrong role
        ("evaluator_leader_only", "colleague", "评估专家"),  # an evaluator is not covered: recuse instead
    ],
)
def test_absence_refusals_change_nothing(scene, who, substitute, says):
    user = scene.get(who) or scene["world"].evaluators[1]
    before = _snapshot()
    response = _record_absence(user, scene[substitute])
    assert response.status_code == 403
    assert says in response.content.decode()
    assert _snapshot() == before


def test_hand_over_leaves_tasks_the_substitute_may_not_take(scene):
    """The substitute sat on the panel: the decision task stays with the absent leader, listed with the reason."""
    task = _taken_decision(scene)
    absence = cover.record_absence(
        scene["leader"],
        timezone.localdate(),
        timezone.localdate() + timedelta(days=3),
        scene["evaluator_leader"],
        "年假",
        by=scene["leader"],
    )
    before = _snapshot()
    handed, refused = engine.hand_over_open_tasks(absence, by=scene["leader"])
    assert handed == [] and [t.pk for t, _reason in refused] == [task.pk]
    assert "评估" in refused[0][1]
    assert _snapshot() == before


def test_absence_pages_are_the_users_own(scene):
    absence = cover.record_absence(
        scene["leader"], timezone.localdate(), timezone.localdate(), scene["colleague"], "病假", by=scene["leader"]
    )
    before = _snapshot()
    for name in ("absence_cancel", "absence_hand_over"):
        assert client_for(scene["colleague"]).post(reverse(f"work:{name}", args=[absence.pk])).status_code == 404
    assert _snapshot() == before
    assert EvaluatorAssignment.objects.exists()


# -------------------------------------------------------------------------------------------------- bulk panel


def _two_waiting_for_panel():
    world = build_world(Tier.CLOSE_KNIT)
    applications = []
    for cluster, lead in ((world.cluster, world.lead), another_cluster(world)):
        application, process = to_formal_review(world, cluster, lead)
        do(world.office, process, F.formal_review, {"decision": "pass"})
        applications.append(Application.objects.get(pk=application.pk))
    # The tied evaluator works at a member school of the second cluster only.
    tied = world.evaluators[3]
    tied.employer_school = applications[1].cluster.memberships.first().school
    tied.save(update_fields=["employer_school"])
    return world, applications, tied


def test_bulk_panel_assigns_each_application_and_lists_the_refusals():
    world, (first, second), tied = _two_waiting_for_panel()
    panel = [*world.evaluators[:2], tied]
    second_before = {
        "status": second.status,
        "tasks": sorted(
            Task.objects.filter(process__artifact_object_id=second.pk).values_list("pk", "status", "owner_id")
        ),
        "assignments": EvaluatorAssignment.objects.filter(application=second).count(),
        "audit": AuditEvent.objects.filter(application=second).count(),
    }
    client = client_for(world.office)
    page = client.get(reverse("work:bulk_panel")).content.decode()
    assert first.cluster.name in page and second.cluster.name in page

    response = client.post(
        reverse("work:bulk_panel"),
        {"applications": [first.pk, second.pk], "evaluators": [e.pk for e in panel], "panel_lead": panel[0].pk},
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-test="bulk-results"' in body and "已分配" in body and "成员校" in body
    assert Application.objects.get(pk=first.pk).status == Application.Status.SCORING
    assert set(EvaluatorAssignment.objects.filter(application=first).values_list("evaluator", flat=True)) == {
        e.pk for e in panel
    }
    assert Task.objects.filter(process__artifact_object_id=first.pk, flow_task=F.score).count() == 3
    assert second_before == {
        "status": Application.objects.get(pk=second.pk).status,
        "tasks": sorted(
            Task.objects.filter(process__artifact_object_id=second.pk).values_list("pk", "status", "owner_id")
        ),
        "assignments": EvaluatorAssignment.objects.filter(application=second).count(),
        "audit": AuditEvent.objects.filter(application=second).count(),
    }


# ------------------------------------------------------------------------------------------- lists stay constant


def _constant(client, url, add_rows):
    small = count_queries(client, url)
    add_rows()
    large = count_queries(client, url)
    assert large == small
    return large


def test_cosignature_and_absence_lists_run_the_same_queries_for_one_and_many_rows(scene):
    leader, colleague, application = scene["leader"], scene["colleague"], scene["application"]
    CoSignature.objects.create(
        application=application, step="district", requested_by=leader, signer=colleague, reason="会签"
    )
    today = timezone.localdate()
    Absence.objects.create(user=colleague, substitute=leader, starts=today, ends=today, reason="年假")
    client = client_for(colleague)

    def more_cosignatures():
        CoSignature.objects.bulk_create(
            CoSignature(
                application=application,
                step="city",
                requested_by=leader,
                signer=colleague,
                reason=str(n),
                status="agreed",
                closed=timezone.now(),
            )
            for n in range(40)
        )

    def more_absences():
        Absence.objects.bulk_create(
            Absence(
                user=colleague,
                substitute=leader,
                starts=today + timedelta(days=10 * n + 5),
                ends=today + timedelta(days=10 * n + 6),
                reason=str(n),
            )
            for n in range(40)
        )

    _constant(client, reverse("work:cosignatures"), more_cosignatures)
    _constant(client, reverse("work:absences"), more_absences)
    assert "共 41 条" in client.get(reverse("work:cosignatures")).content.decode()


def test_bulk_panel_page_runs_the_same_queries_for_one_and_many_applications():
    world, (first, _second), _tied = _two_waiting_for_panel()
    client = client_for(world.office)
    _constant(client, reverse("work:bulk_panel"), lambda: clone_applications(first, 40))
    assert "共 42 条" in client.get(reverse("work:bulk_panel")).content.decode()
