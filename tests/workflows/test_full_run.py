"""Whole certification runs over HTTP, every step done by the person whose role it is."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.status import PROCESS

from certification.domain.evidence import upload_evidence
from certification.models import (
    Application,
    AuditEvent,
    Certificate,
    Cluster,
    CorrectionRequest,
    EvidenceRequirement,
    EvidenceStage,
    Objection,
    Tier,
    TierChange,
)
from tests.factories.evidence import pdf_bytes, upload
from tests.factories.workflow import build_world, upload_all_evidence
from tests.workflows.driver import client_for, do, end_publicity, open_task, open_tasks, score_all, start
from workflows.flows import CertificationFlow as F

pytestmark = pytest.mark.django_db

FULL = {"A1": 4, "A2": 6}


def _through_evidence(world, application, process):
    upload_all_evidence(application, world.lead)
    for node in (F.submit_basic, F.submit_process, F.submit_outcome):
        do(world.lead, process, node)
    application.refresh_from_db()
    assert application.status == Application.Status.FORMAL_REVIEW


def _assign(world, application, process, evaluators=None, office=None):
    evaluators = evaluators or world.evaluators[:3]
    office = office or (world.city_office if world.tier == Tier.CITY_MODEL else world.office)
    do(
        office,
        process,
        F.assign_evaluators,
        {"evaluators": [e.pk for e in evaluators], "panel_lead": evaluators[0].pk},
    )
    return evaluators


def test_close_knit_certified_over_http_writes_every_step():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    _through_evidence(world, application, process)
    do(world.office, process, F.formal_review, {"decision": "pass", "comment": "材料齐全"})
    evaluators = _assign(world, application, process)
    score_all(application, process, dict.fromkeys(evaluators, FULL))
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVAL
    do(world.leader, process, F.district_decision, {"decision": "approve", "comment": "同意"})
    application.refresh_from_db()
    assert application.status == Application.Status.PUBLICITY

    end_publicity(process, world.standard.publicity_days)

    application.refresh_from_db()
    process.refresh_from_db()
    certificate = Certificate.objects.get(application=application)
    world.cluster.refresh_from_db()
    assert application.status == Application.Status.CERTIFIED
    assert process.status == PROCESS.DONE
    assert certificate.serial == f"XQRZ-{timezone.localdate().year}-紧密-0001"
    assert (certificate.tier, certificate.standard) == (Tier.CLOSE_KNIT, world.standard)
    assert certificate.valid_until == certificate.issued.replace(year=certificate.issued.year + 3)
    assert len(certificate.check_code) == 64
    assert (world.cluster.current_tier, world.cluster.tier_since) == (Tier.CLOSE_KNIT, certificate.issued)
    change = TierChange.objects.get(cluster=world.cluster)
    assert (change.from_tier, change.to_tier, change.application) == (Tier.NONE, Tier.CLOSE_KNIT, application)
    transitions = list(
        AuditEvent.objects.filter(application=application, object_type="certification.application")
        .exclude(from_state="")
        .values_list("action", "actor", "from_state", "to_state")
    )
    assert transitions == [
        ("application.evidence_complete", world.lead.pk, "evidence", "formal_review"),
        ("formal_review.passed", world.office.pk, "formal_review", "assignment"),
        ("evaluators.assigned", world.office.pk, "assignment", "scoring"),
        ("approval.started", None, "scoring", "approval"),
        ("approval.approved", world.leader.pk, "approval:district", "publicity"),
        ("publicity.started", world.leader.pk, "approval", "publicity"),
        ("application.certified", None, "publicity", "certified"),
    ]
    stages = AuditEvent.objects.filter(application=application, action="stage.submitted")
    assert sorted(stages.values_list("payload__stage", flat=True)) == sorted(EvidenceStage.values)
    assert set(stages.values_list("actor", "from_state", "to_state")) == {(world.lead.pk, "open", "submitted")}


def test_close_knit_failed_ends_with_rectification_list_and_may_apply_again():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    _through_evidence(world, application, process)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    evaluators = _assign(world, application, process)

    score_all(application, process, {key: {"A1": 4, "A2": 1} for key in evaluators})

    application.refresh_from_db()
    process.refresh_from_db()
    assert application.status == Application.Status.FAILED
    assert process.status == PROCESS.DONE
    assert application.passed is False
    failed = AuditEvent.objects.get(application=application, action="application.failed")
    assert failed.reason == "一票否决指标未达标。"
    assert [item["code"] for item in failed.payload["rectification"]] == ["A2"]
    assert not Certificate.objects.filter(application=application).exists()
    again, _process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    assert again.pk != application.pk and again.status == Application.Status.EVIDENCE


def test_correction_loop_returns_only_named_indicators_then_passes():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    _through_evidence(world, application, process)
    a2 = world.standard.indicators().get(code="A2")
    deadline = timezone.localdate() + timedelta(days=10)

    do(
        world.office,
        process,
        F.formal_review,
        {"decision": "return", "indicators": [a2.pk], "comment": "轮岗名单缺少签章", "deadline": deadline.isoformat()},
    )

    application.refresh_from_db()
    correction = CorrectionRequest.objects.get(application=application)
    assert application.status == Application.Status.CORRECTION
    assert list(correction.indicators.values_list("code", flat=True)) == ["A2"]
    task = open_task(process, F.correct)
    client = client_for(world.lead)
    client.post(F.correct.reverse("assign", args=[process.pk, task.pk]))
    page = client.get(F.correct.reverse("execute", args=[process.pk, task.pk])).content.decode()
    assert "A2-roster" in page and "A2-survey" in page and "A1-charter" not in page

    refused = do(world.lead, process, F.correct, {"response": "已补充签章版名单"}, expect=400)
    assert "请先为每个退回补正的指标上传新文件：A2 教师交流轮岗" in refused.content.decode()
    for requirement in EvidenceRequirement.objects.filter(indicator=a2, required=True):
        upload_evidence(application, requirement, upload(pdf_bytes("v2"), f"{requirement.code}-v2.pdf"), by=world.lead)
    do(world.lead, process, F.correct, {"response": "已补充签章版名单"})

    application.refresh_from_db()
    correction.refresh_from_db()
    assert application.status == Application.Status.FORMAL_REVIEW
    assert (correction.resolved_by, correction.response) == (world.lead, "已补充签章版名单")
    do(world.office, process, F.formal_review, {"decision": "pass"})
    application.refresh_from_db()
    assert application.status == Application.Status.ASSIGNMENT
    actions = list(
        AuditEvent.objects.filter(
            application=application, action__in=["formal_review.correction_requested", "correction.submitted"]
        ).values_list("action", "actor", "from_state", "to_state", "reason")
    )
    assert actions == [
        ("formal_review.correction_requested", world.office.pk, "formal_review", "correction", "轮岗名单缺少签章"),
        ("correction.submitted", world.lead.pk, "correction", "formal_review", "已补充签章版名单"),
    ]


def test_district_model_sent_back_to_panel_lead_then_certified_with_recusal_and_reconciliation():
    world = build_world(Tier.DISTRICT_MODEL)
    application, process = start(world.lead, world.cluster, Tier.DISTRICT_MODEL)
    _through_evidence(world, application, process)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    first, second, third = _assign(world, application, process)
    fourth = world.evaluators[3]

    # The third evaluator recuses; the office names a replacement, who gets a new task in their inbox.
    recusing = next(t for t in process.task_set.filter(flow_task=F.score) if t.owner_id == third.pk)
    do(third, process, F.score, {"action": "recuse", "reason": "与该学区有合作课题"}, task=recusing)
    do(world.office, process, F.replace_evaluator, {"evaluator": fourth.pk})
    # The panel disagrees on A1 (4, 4, 0 of 4): the panel lead reconciles.
    score_all(application, process, {first: FULL, second: FULL, fourth: {"A1": 0, "A2": 6}})
    application.refresh_from_db()
    assert application.status == Application.Status.RECONCILIATION
    result = application.results.get(indicator__code="A1")
    client_for(first).post(
        F.reconcile.reverse("execute", args=[process.pk, open_task(process, F.reconcile).pk]),
        {"action": "reconcile", "result": result.pk, "value": "3", "reason": "依据会议纪要取中间值"},
    )
    do(first, process, F.reconcile, {"action": "confirm"})
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVAL

    do(world.leader, process, F.district_decision, {"decision": "send_back", "comment": "请复核A2评分依据"})

    application.refresh_from_db()
    assert application.status == Application.Status.RECONCILIATION
    assert open_task(process, F.reconcile).owner == first
    do(first, process, F.reconcile, {"action": "confirm", "comment": "已复核"})
    do(world.leader, process, F.district_decision, {"decision": "approve"})
    end_publicity(process, world.standard.publicity_days)
    application.refresh_from_db()
    assert application.status == Application.Status.CERTIFIED
    assert Certificate.objects.get(application=application).serial.split("-")[2] == "区示范"
    sent_back = AuditEvent.objects.get(application=application, action="approval.sent_back")
    assert (sent_back.actor, sent_back.from_state, sent_back.to_state, sent_back.reason) == (
        world.leader,
        "approval",
        "reconciliation",
        "请复核A2评分依据",
    )
    recused = AuditEvent.objects.get(application=application, action="evaluator.recused")
    assert (recused.actor, recused.reason) == (third, "与该学区有合作课题")
    assert not third.has_perm("certification.view_application", application)


def test_city_model_chain_city_leader_sends_back_to_city_office():
    world = build_world(Tier.CITY_MODEL)
    application, process = start(world.lead, world.cluster, Tier.CITY_MODEL)
    _through_evidence(world, application, process)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    evaluators = _assign(world, application, process, office=world.city_office)
    score_all(application, process, dict.fromkeys(evaluators, FULL))
    do(world.leader, process, F.district_decision, {"decision": "approve", "comment": "推荐"})
    do(world.city_office, process, F.city_review, {"decision": "approve"})

    do(world.city_leader, process, F.city_decision, {"decision": "send_back", "comment": "请补充市级意见"})

    assert open_task(process, F.city_review)
    do(world.city_office, process, F.city_review, {"decision": "approve", "comment": "已补充"})
    do(world.city_leader, process, F.city_decision, {"decision": "approve"})
    application.refresh_from_db()
    assert application.status == Application.Status.PUBLICITY
    end_publicity(process, world.standard.publicity_days)
    world.cluster.refresh_from_db()
    assert world.cluster.current_tier == Tier.CITY_MODEL
    steps = list(
        AuditEvent.objects.filter(application=application, action__startswith="approval.")
        .exclude(action="approval.started")
        .values_list("action", "actor", "from_state", "to_state")
    )
    assert steps == [
        ("approval.approved", world.leader.pk, "approval:district", "approval:city_review"),
        ("approval.approved", world.city_office.pk, "approval:city_review", "approval:city"),
        ("approval.sent_back", world.city_leader.pk, "approval:city", "approval:city_review"),
        ("approval.approved", world.city_office.pk, "approval:city_review", "approval:city"),
        ("approval.approved", world.city_leader.pk, "approval:city", "publicity"),
    ]


@pytest.mark.parametrize(("outcome", "status"), [("dismissed", "certified"), ("upheld", "failed")])
def test_objection_during_publicity_holds_certificate_until_resolved(outcome, status):
    world = build_world(Tier.CLOSE_KNIT)
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    _through_evidence(world, application, process)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    evaluators = _assign(world, application, process)
    score_all(application, process, dict.fromkeys(evaluators, FULL))
    do(world.leader, process, F.district_decision, {"decision": "approve"})

    response = client_for(world.leader).post(
        reverse("workflow:objection_raise", args=[application.pk]), {"text": "轮岗数据与实际不符"}
    )
    assert response.status_code == 302

    end_publicity(process, world.standard.publicity_days)

    application.refresh_from_db()
    assert application.status == Application.Status.PUBLICITY
    assert not Certificate.objects.filter(application=application).exists()
    objection = Objection.objects.get(application=application)
    do(
        world.office,
        process,
        F.resolve_objections,
        {"action": "resolve", "objection": objection.pk, "outcome": outcome, "resolution": "经核查"},
    )
    do(world.office, process, F.resolve_objections, {"action": "finish"})
    application.refresh_from_db()
    assert application.status == status
    assert Certificate.objects.filter(application=application).exists() is (outcome == "dismissed")
    assert Cluster.objects.get(pk=world.cluster.pk).current_tier == (
        Tier.CLOSE_KNIT if outcome == "dismissed" else Tier.NONE
    )


def test_assign_page_shows_why_a_tied_evaluator_is_refused():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    _through_evidence(world, application, process)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    task = open_task(process, F.assign_evaluators)
    client = client_for(world.office)
    client.post(F.assign_evaluators.reverse("assign", args=[process.pk, task.pk]))
    url = F.assign_evaluators.reverse("execute", args=[process.pk, task.pk])

    page = client.get(url).content.decode()
    refused = client.post(
        url,
        {
            "evaluators": [world.tied_evaluator.pk, *[e.pk for e in world.evaluators[:2]]],
            "panel_lead": world.evaluators[0].pk,
        },
    )

    reason = f"{world.tied_evaluator} 任职于 {world.member_school.name}，该校是 {world.cluster.name} 的成员校，须回避。"
    assert "因利益冲突自动排除" in page and reason in page
    assert refused.status_code == 400
    assert reason in refused.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.ASSIGNMENT


def test_illegal_transitions_over_http_are_chinese_409_pages_and_change_nothing():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    task = open_task(process, F.submit_basic)
    client = client_for(world.lead)
    client.post(F.submit_basic.reverse("assign", args=[process.pk, task.pk]))
    url = F.submit_basic.reverse("execute", args=[process.pk, task.pk])

    missing = client.post(url, {})
    upload_all_evidence(application, world.lead)
    done = client.post(url, {})
    again = client.post(url, {})

    assert missing.status_code == 409
    assert "“基础材料”还不能提交，请先上传以下必需材料：学区章程" in missing.content.decode()
    assert done.status_code == 302
    assert again.status_code == 409
    assert "此任务已经办结或关闭，本次操作未做任何更改。" in again.content.decode()
    assert AuditEvent.objects.filter(application=application, action="stage.submitted").count() == 1


def test_only_a_lead_may_open_and_an_ineligible_tier_is_explained():
    world = build_world(Tier.CLOSE_KNIT)
    url = F.start.reverse("execute")

    office = client_for(world.office).get(url)
    wrong_tier = client_for(world.lead).post(url, {"cluster": world.cluster.pk, "target_tier": Tier.CITY_MODEL})

    assert office.status_code == 403
    assert wrong_tier.status_code == 409
    assert "市级示范性申报须先取得区级示范性" in wrong_tier.content.decode()
    assert not Application.objects.exists()


def test_objection_resolved_during_publicity_lets_the_timer_certify_directly():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    _through_evidence(world, application, process)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    evaluators = _assign(world, application, process)
    score_all(application, process, dict.fromkeys(evaluators, FULL))
    do(world.leader, process, F.district_decision, {"decision": "approve"})
    client_for(world.lead).post(reverse("workflow:objection_raise", args=[application.pk]), {"text": "名单有误"})
    objection = Objection.objects.get(application=application)

    by_lead = client_for(world.lead).post(
        reverse("workflow:objection_resolve", args=[application.pk]),
        {"objection": objection.pk, "outcome": "dismissed", "resolution": "自行撤回"},
    )
    by_office = client_for(world.office).post(
        reverse("workflow:objection_resolve", args=[application.pk]),
        {"objection": objection.pk, "outcome": "dismissed", "resolution": "经核查名单无误"},
    )
    end_publicity(process, world.standard.publicity_days)

    assert by_lead.status_code == 403
    assert by_office.status_code == 302
    objection.refresh_from_db()
    assert (objection.outcome, objection.resolved_by) == ("dismissed", world.office)
    application.refresh_from_db()
    assert application.status == Application.Status.CERTIFIED
    assert not open_tasks(process, F.resolve_objections)


def test_open_page_preselects_the_leads_cluster_and_its_next_tier():
    world = build_world(Tier.CLOSE_KNIT)
    url = F.start.reverse("execute")
    client = client_for(world.lead)

    chosen = client.get(url, {"cluster": world.cluster.pk}).context["form"]
    foreign = client.get(url, {"cluster": world.cluster.pk + 1000}).context["form"]

    assert (chosen.initial["cluster"], chosen.initial["target_tier"]) == (world.cluster.pk, Tier.CLOSE_KNIT)
    assert "cluster" not in foreign.initial


def test_assign_page_shows_a_tied_evaluator_with_the_reason_but_not_selectable():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    _through_evidence(world, application, process)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    task = open_task(process, F.assign_evaluators)
    client = client_for(world.office)
    client.post(F.assign_evaluators.reverse("assign", args=[process.pk, task.pk]))

    page = client.get(F.assign_evaluators.reverse("execute", args=[process.pk, task.pk])).content.decode()

    tied = re.search(rf'<input type="checkbox" name="evaluators" value="{world.tied_evaluator.pk}"[^>]*>', page)
    free = re.search(rf'<input type="checkbox" name="evaluators" value="{world.evaluators[0].pk}"[^>]*>', page)
    assert tied and " disabled" in tied.group(0)
    assert free and " disabled" not in free.group(0)
    assert f"{world.tied_evaluator} — {world.tied_evaluator} 任职于 {world.member_school.name}" in page
    lead_choices = re.search(r'<select name="panel_lead"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert f'value="{world.tied_evaluator.pk}"' not in lead_choices
    assert f'value="{world.evaluators[0].pk}"' in lead_choices
