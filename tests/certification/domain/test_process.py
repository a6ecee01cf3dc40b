"""The certification steps as domain functions: state checks, refusals in Chinese, audit rows, side effects."""

import hashlib
import json
from datetime import date

import pytest

from certification.domain import approval, certificate, opening, panel, publicity, queries
from certification.errors import IllegalTransition, InvalidInput, NotAllowed
from certification.models import (
    Application,
    ApplicationStage,
    AuditEvent,
    Certificate,
    EvaluatorAssignment,
    Notification,
    Role,
    Tier,
)
from tests.factories import SchoolFactory
from tests.factories.workflow import build_world, person, upload_all_evidence

pytestmark = pytest.mark.django_db


def _open(world):
    return opening.start_application(world.cluster, world.tier, by=world.lead)


def _set(application, **fields):
    Application.objects.filter(pk=application.pk).update(**fields)
    application.refresh_from_db()
    return application


def test_start_application_creates_three_open_stages_and_tells_the_office():
    world = build_world(Tier.CLOSE_KNIT)

    application = _open(world)

    assert sorted(application.stages.values_list("stage", "status")) == [
        ("basic", "open"),
        ("outcome", "open"),
        ("process", "open"),
    ]
    notification = Notification.objects.get(recipient=world.office)
    assert (notification.subject, notification.application) == (f"新申报：{world.cluster.name}（紧密型）", application)


def test_start_application_by_someone_not_leading_the_cluster_refused():
    world = build_world(Tier.CLOSE_KNIT)

    with pytest.raises(NotAllowed) as refusal:
        opening.start_application(world.cluster, Tier.CLOSE_KNIT, by=world.office)

    assert f"只有 {world.cluster.name} 的负责人可以为其提交申报" in str(refusal.value)
    assert not Application.objects.exists()


def test_submit_stage_with_missing_required_item_refused_naming_it():
    world = build_world(Tier.CLOSE_KNIT)
    application = _open(world)
    upload_all_evidence(application, world.lead, stage="basic")

    with pytest.raises(IllegalTransition) as refusal:
        opening.submit_stage(application, "process", by=world.lead)

    assert "请先上传以下必需材料：交流轮岗名单" in str(refusal.value)
    assert ApplicationStage.objects.get(application=application, stage="process").status == "open"
    opening.submit_stage(application, "basic", by=world.lead)
    assert ApplicationStage.objects.get(application=application, stage="basic").status == "submitted"


def test_submit_stage_by_the_district_office_refused():
    world = build_world(Tier.CLOSE_KNIT)
    application = _open(world)
    upload_all_evidence(application, world.lead)

    with pytest.raises(NotAllowed) as refusal:
        opening.submit_stage(application, "basic", by=world.office)

    assert str(refusal.value) == "只有本学区（集团）负责人可以提交材料。"


def test_conflict_of_interest_reasons_from_the_school_tree():
    world = build_world(Tier.CITY_MODEL)
    application = _open(world)
    district_staff = person(Role.EVALUATOR, display_name="区局干部", employer_office=world.district)
    city_staff = person(Role.EVALUATOR, display_name="市教委干部", employer_office=world.city)
    outsider = person(Role.EVALUATOR, display_name="外区校长", employer_school=SchoolFactory())

    reasons = {user: panel.conflict_of_interest(application, user) for user in (district_staff, city_staff, outsider)}

    assert f"任职于 {world.member_school.name}" in panel.conflict_of_interest(application, world.tied_evaluator)
    assert "所在的" in reasons[district_staff] and "教育局" in reasons[district_staff]
    assert "市级示范性由市教委评定" in reasons[city_staff]
    assert reasons[outsider] is None
    close_knit = build_world(Tier.CLOSE_KNIT, city=world.city)
    assert panel.conflict_of_interest(_open(close_knit), city_staff) is None


def test_assign_evaluators_refuses_too_few_and_tied_evaluators_with_reason():
    world = build_world(Tier.CLOSE_KNIT)
    application = _set(_open(world), status=Application.Status.ASSIGNMENT)
    two = world.evaluators[:2]

    with pytest.raises(InvalidInput) as too_few:
        panel.assign_evaluators(application, two, two[0], by=world.office)
    with pytest.raises(InvalidInput) as tied:
        panel.assign_evaluators(application, [*two, world.tied_evaluator], two[0], by=world.office)
    with pytest.raises(NotAllowed):
        panel.assign_evaluators(application, world.evaluators[:3], two[0], by=world.city_office)

    assert str(too_few.value) == "请至少指派 3 位评估专家。"
    assert f"该校是 {world.cluster.name} 的成员校，须回避" in str(tied.value)
    assert not EvaluatorAssignment.objects.exists()
    assert application.status == Application.Status.ASSIGNMENT


def test_city_model_evaluators_are_assigned_by_the_city_office():
    world = build_world(Tier.CITY_MODEL)
    application = _set(_open(world), status=Application.Status.ASSIGNMENT)

    with pytest.raises(NotAllowed):
        panel.assign_evaluators(application, world.evaluators[:3], world.evaluators[0], by=world.office)
    assignments = panel.assign_evaluators(application, world.evaluators[:3], world.evaluators[0], by=world.city_office)

    assert [a.is_panel_lead for a in assignments] == [True, False, False]
    assert world.evaluators[1].has_perm("certification.act_as_evaluator", application)
    event = AuditEvent.objects.get(application=application, action="evaluators.assigned")
    assert (event.actor, event.from_state, event.to_state) == (world.city_office, "assignment", "scoring")


def test_recuse_revokes_access_and_replacement_inherits_panel_lead():
    world = build_world(Tier.CLOSE_KNIT)
    application = _set(_open(world), status=Application.Status.ASSIGNMENT)
    lead_assignment, *_rest = panel.assign_evaluators(
        application, world.evaluators[:3], world.evaluators[0], by=world.office
    )

    panel.recuse(lead_assignment, "曾为该学区做过咨询", by=world.evaluators[0])
    replacement = panel.assign_replacement(lead_assignment, world.evaluators[3], by=world.office)

    assert not world.evaluators[0].has_perm("certification.view_application", application)
    assert replacement.is_panel_lead
    assert queries.panel_lead_of(application) == world.evaluators[3]
    with pytest.raises(InvalidInput):
        panel.assign_replacement(lead_assignment, world.tied_evaluator, by=world.office)


def test_approver_who_evaluated_the_application_refused():
    world = build_world(Tier.CLOSE_KNIT)
    application = _open(world)
    EvaluatorAssignment.objects.create(application=application, evaluator=world.leader, assigned_by=world.office)
    application = _set(application, status=Application.Status.APPROVAL, passed=True)

    with pytest.raises(NotAllowed) as refusal:
        approval.approve(application, approval.Step.DISTRICT, by=world.leader)

    assert str(refusal.value) == "您参与了该申报的评估，不能再审批该申报。"
    assert Application.objects.get(pk=application.pk).status == Application.Status.APPROVAL


def test_city_steps_refused_for_a_district_decided_tier_and_send_back_needs_a_reason():
    world = build_world(Tier.DISTRICT_MODEL)
    application = _set(_open(world), status=Application.Status.APPROVAL, passed=True)

    with pytest.raises(IllegalTransition):
        approval.approve(application, approval.Step.CITY, by=world.city_leader)
    with pytest.raises(InvalidInput) as no_reason:
        approval.send_back(application, approval.Step.DISTRICT, "  ", by=world.leader)

    assert str(no_reason.value) == "请填写退回理由。"


def test_objection_outside_publicity_refused():
    world = build_world(Tier.CLOSE_KNIT)
    application = _open(world)

    with pytest.raises(IllegalTransition) as refusal:
        publicity.raise_objection(application, "数据不实", by=world.leader)

    assert "该申报处于“收集材料”状态" in str(refusal.value) or "当前无法办理这一步" in str(refusal.value)


def test_certify_numbers_serials_per_tier_and_year_and_checks_content():
    world = build_world(Tier.CLOSE_KNIT)
    other = build_world(Tier.CLOSE_KNIT, city=world.city)
    first = _set(_open(world), status=Application.Status.PUBLICITY)
    second = _set(_open(other), status=Application.Status.PUBLICITY)

    one = certificate.certify(first, today=date(2024, 2, 29))
    two = certificate.certify(second, today=date(2024, 3, 1))

    assert (one.serial, two.serial) == ("XQRZ-2024-紧密-0001", "XQRZ-2024-紧密-0002")
    assert one.valid_until == date(2027, 2, 28)
    content = {
        "serial": one.serial,
        "application": first.pk,
        "cluster": world.cluster.pk,
        "cluster_name": world.cluster.name,
        "tier": "close_knit",
        "standard": first.standard_id,
        "standard_version": first.standard.version,
        "issued": "2024-02-29",
        "valid_until": "2027-02-28",
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert one.check_code == hashlib.sha256(canonical.encode()).hexdigest()
    assert Certificate.objects.count() == 2


def test_certify_held_while_an_objection_is_open():
    world = build_world(Tier.CLOSE_KNIT)
    application = _set(_open(world), status=Application.Status.PUBLICITY)
    publicity.raise_objection(application, "满意度数据存疑", by=world.leader)

    with pytest.raises(IllegalTransition) as refusal:
        certificate.certify(application)

    assert str(refusal.value) == "尚有未处理的异议，处理完毕前不能颁发证书。"
    assert not Certificate.objects.exists()
