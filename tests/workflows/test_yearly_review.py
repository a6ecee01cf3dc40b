"""A certified cluster through two yearly reviews over HTTP, by the personas: maintained, then 限期整改 with two
items — one answered and verified, one overdue, reminded, escalated, lapsing into a downgrade the leader approves
(the cluster objects in the notice period; the office dismisses it). Tier history and eligibility after each step."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.status import PROCESS

from certification.domain.computed import compute_indicators, data_version
from certification.domain.eligibility import check_eligibility
from certification.domain.yearly_review import monitoring_rows
from certification.errors import NotEligible
from certification.models import (
    Application,
    AuditEvent,
    Cluster,
    Notification,
    RectificationItem,
    RectificationList,
    ReviewEvidence,
    Standard,
    Tier,
    TierChange,
    YearlyReview,
)
from tests.factories import ClusterFactory
from tests.factories.workflow import build_world, certification_standard, upload_all_evidence
from tests.workflows.driver import client_for, do, score_all, start
from tests.workflows.review_driver import (
    certify_over_http,
    pass_timer,
    pdf,
    post,
    review_of,
    start_reviews,
    submit_review,
)
from workflows.flows import CertificationFlow as F
from workflows.flows import YearlyReviewFlow as R
from workflows.models import review_process_for

pytestmark = pytest.mark.django_db


def _history(cluster):
    return list(TierChange.objects.filter(cluster=cluster).order_by("pk").values_list("from_tier", "to_tier", "reason"))


def _refusal(cluster, tier):
    try:
        check_eligibility(Cluster.objects.get(pk=cluster.pk), tier)
    except NotEligible as refusal:
        return refusal.message
    return None


def _fire(office):
    post(office, "fire_timers")


def test_two_yearly_reviews_maintained_then_rectification_lapses_into_an_approved_downgrade():
    world = build_world(Tier.DISTRICT_MODEL)
    application = certify_over_http(world)
    cluster = world.cluster
    uncertified = ClusterFactory(district=world.district, current_tier=Tier.NONE)
    # The 紧密型 recorded at set-up (the factory writes it as an INITIAL line), then the 区级 certified over HTTP.
    certified_history = [
        (Tier.NONE, Tier.CLOSE_KNIT, TierChange.Reason.INITIAL),
        (Tier.CLOSE_KNIT, Tier.DISTRICT_MODEL, TierChange.Reason.CERTIFIED),
    ]
    assert cluster.current_tier == Tier.DISTRICT_MODEL
    assert _history(cluster) == certified_history
    held_refusal = _refusal(cluster, Tier.DISTRICT_MODEL)
    # Applying again for the tier held is a renewal, which opens 180 days before the certificate ends.
    assert "续期" in held_refusal

    # ---- year 1: the office starts the district's reviews in one action; the lead submits; 保持.
    page = client_for(world.office).get(reverse("work:yearly_reviews")).content.decode()
    assert 'data-test="start-reviews"' in page and "启动年度评估" in page
    start_reviews(world.office, world.district, 2024)
    review = review_of(cluster, 2024)
    assert not YearlyReview.objects.filter(cluster=uncertified).exists()
    assert (review.status, review.tier, review.certificate.application) == (
        YearlyReview.Status.DATA,
        Tier.DISTRICT_MODEL,
        application,
    )
    assert review_process_for(review).status == PROCESS.NEW
    start_reviews(world.office, world.district, 2024)  # again: nothing new
    assert YearlyReview.objects.filter(cluster=cluster).count() == 1

    lead_page = client_for(world.lead).get(reverse("work:yearly_review_detail", args=[review.pk])).content.decode()
    assert 'data-test="submit-form"' in lead_page
    submit_review(world.lead, review)
    review.refresh_from_db()
    assert review.status == YearlyReview.Status.CONCLUSION
    assert list(ReviewEvidence.objects.filter(review=review).values_list("title", flat=True)) == ["年度工作总结"]
    assert review.computed == monitoring_rows(compute_indicators(application))
    assert review.data_version == data_version(application)

    post(world.office, "yearly_review_conclude", review.pk, {"conclusion": "maintained"})
    review.refresh_from_db()
    assert (review.status, review.outcome) == (YearlyReview.Status.CLOSED, YearlyReview.Outcome.MAINTAINED)
    assert review_process_for(review).status == PROCESS.DONE
    cluster.refresh_from_db()
    assert cluster.current_tier == Tier.DISTRICT_MODEL
    assert _history(cluster) == certified_history
    assert _refusal(cluster, Tier.DISTRICT_MODEL) == held_refusal

    # ---- year 2: 限期整改 with two items.
    start_reviews(world.office, world.district, 2025)
    review = review_of(cluster, 2025)
    submit_review(world.lead, review)
    today = timezone.localdate()
    a1, a2 = world.standard.indicators().order_by("code")
    post(
        world.office,
        "yearly_review_conclude",
        review.pk,
        {
            "conclusion": "rectify",
            "reason": "交流轮岗比例未达标，章程未按期修订。",
            "rectify_by": (today + timedelta(days=30)).isoformat(),
            "item_0_indicator": a1.pk,
            "item_0_change": "修订学区章程并经理事会表决。",
            "item_0_deadline": (today + timedelta(days=20)).isoformat(),
            "item_1_indicator": a2.pk,
            "item_1_change": "本学期完成骨干教师交流轮岗。",
            "item_1_deadline": (today + timedelta(days=10)).isoformat(),
        },
    )
    review.refresh_from_db()
    assert review.status == YearlyReview.Status.RECTIFYING
    listed = RectificationList.objects.get(yearly_review=review)
    assert (listed.source, listed.deadline) == (RectificationList.Source.YEARLY_REVIEW, today + timedelta(days=30))
    charter = RectificationItem.objects.get(rectification=listed, indicator=a1)
    rotation = RectificationItem.objects.get(rectification=listed, indicator=a2)
    dossier = client_for(world.lead).get(reverse("work:yearly_review_detail", args=[review.pk])).content.decode()
    assert dossier.count('data-test="rectification-item"') == 2 and "修订学区章程并经理事会表决。" in dossier

    # Item 1: answered with evidence, verified.
    post(
        world.lead,
        "rectification_answer",
        charter.pk,
        {"response": "章程已修订并表决通过。", "evidence": pdf("章程.pdf")},
    )
    post(world.office, "rectification_verify", charter.pk)
    charter.refresh_from_db()
    assert (charter.status, charter.verified_by, charter.evidence_name) == ("verified", world.office, "章程.pdf")

    # Item 2: overdue → reminded once (lead and office) → a week later escalated once (leader).
    RectificationItem.objects.filter(pk=rotation.pk).update(deadline=today - timedelta(days=1))
    _fire(world.office)
    _fire(world.office)
    rotation.refresh_from_db()
    assert rotation.reminded is not None and rotation.escalated is None
    reminded = Notification.objects.filter(subject__startswith="整改逾期")
    assert sorted(reminded.values_list("recipient", flat=True)) == sorted([world.lead.pk, world.office.pk])
    RectificationItem.objects.filter(pk=rotation.pk).update(deadline=today - timedelta(days=8))
    _fire(world.office)
    _fire(world.office)
    rotation.refresh_from_db()
    assert rotation.escalated is not None
    assert list(
        Notification.objects.filter(subject__startswith="整改逾期已上报").values_list("recipient", flat=True)
    ) == [world.leader.pk]
    assert AuditEvent.objects.filter(action="rectification.reminded", object_id=str(rotation.pk)).count() == 1
    assert AuditEvent.objects.filter(action="rectification.escalated", object_id=str(rotation.pk)).count() == 1

    # The deadline passes with the item open: the list lapses into a downgrade by one rung, for the leader.
    pass_timer(review, R.rectification_due)
    _fire(world.office)
    review.refresh_from_db()
    listed.refresh_from_db()
    assert listed.status == RectificationList.Status.LAPSED
    assert (review.status, review.conclusion, review.to_tier) == (
        YearlyReview.Status.APPROVAL,
        YearlyReview.Conclusion.DOWNGRADE,
        Tier.CLOSE_KNIT,
    )
    assert "A2" in review.reason
    cluster.refresh_from_db()
    assert cluster.current_tier == Tier.DISTRICT_MODEL  # nothing changes before the leader decides

    # The office cannot decide; the leader approves.
    post(world.office, "yearly_review_decide", review.pk, {"decision": "approve"}, expect=403)
    leader_page = client_for(world.leader).get(reverse("work:yearly_review_detail", args=[review.pk])).content.decode()
    assert 'data-test="decide"' in leader_page
    post(world.leader, "yearly_review_decide", review.pk, {"decision": "approve", "comment": "同意降级"})
    review.refresh_from_db()
    assert (review.status, review.approved, review.decided_by) == (YearlyReview.Status.NOTICE, True, world.leader)

    # The cluster objects in the notice period; the office dismisses the objection; the downgrade takes effect.
    post(world.lead, "yearly_review_objection", review.pk, {"text": "轮岗已于上月完成，请复核。"})
    pass_timer(review, R.notice)
    _fire(world.office)
    review.refresh_from_db()
    assert review.status == YearlyReview.Status.OBJECTIONS
    objection = review.objections.get()
    post(
        world.office,
        "yearly_review_resolve",
        review.pk,
        {"objection": objection.pk, "outcome": "dismissed", "resolution": "截止日前未提交轮岗材料。"},
    )
    post(world.office, "yearly_review_resolve", review.pk, {"action": "finish"})

    review.refresh_from_db()
    cluster.refresh_from_db()
    assert (review.status, review.outcome) == (YearlyReview.Status.CLOSED, YearlyReview.Outcome.DOWNGRADED)
    assert review_process_for(review).status == PROCESS.DONE
    assert cluster.current_tier == Tier.CLOSE_KNIT
    assert _history(cluster) == [
        *certified_history,
        (Tier.DISTRICT_MODEL, Tier.CLOSE_KNIT, TierChange.Reason.DOWNGRADED),
    ]
    # Eligibility follows the tier: the district-model tier may be earned again.
    assert _refusal(cluster, Tier.DISTRICT_MODEL) is None
    page = client_for(world.lead).get(reverse("work:yearly_review_detail", args=[review.pk])).content.decode()
    assert "降级" in page and 'data-test="tier-history"' in page


def test_leader_refusal_sends_the_review_back_to_the_office_and_an_upheld_objection_withdraws_a_revocation():
    world = build_world(Tier.CLOSE_KNIT)
    certify_over_http(world)
    start_reviews(world.office, world.district, 2025)
    review = review_of(world.cluster, 2025)
    submit_review(world.lead, review)
    post(world.office, "yearly_review_conclude", review.pk, {"conclusion": "revoke"})  # no reason: refused
    review.refresh_from_db()
    assert review.status == YearlyReview.Status.CONCLUSION and review.conclusion == ""
    post(world.office, "yearly_review_conclude", review.pk, {"conclusion": "revoke", "reason": "材料造假。"})
    post(world.leader, "yearly_review_decide", review.pk, {"decision": "refuse", "comment": "证据不足。"})
    review.refresh_from_db()
    assert (review.status, review.approved, review.conclusion) == (YearlyReview.Status.CONCLUSION, False, "")
    post(world.office, "yearly_review_conclude", review.pk, {"conclusion": "revoke", "reason": "材料造假，已核实。"})
    post(world.leader, "yearly_review_decide", review.pk, {"decision": "approve"})
    post(world.lead, "yearly_review_objection", review.pk, {"text": "材料真实，附原件。"})
    objection = review.objections.get()
    post(
        world.office,
        "yearly_review_resolve",
        review.pk,
        {"objection": objection.pk, "outcome": "upheld", "resolution": "原件核实无误。"},
    )
    pass_timer(review, R.notice)
    post(world.office, "fire_timers")
    review.refresh_from_db()
    world.cluster.refresh_from_db()
    # The sanction is withdrawn: back to the office, tier and certificate untouched.
    assert (review.status, review.conclusion) == (YearlyReview.Status.CONCLUSION, "")
    assert world.cluster.current_tier == Tier.CLOSE_KNIT
    assert review.certificate.revoked is None
    post(world.office, "yearly_review_conclude", review.pk, {"conclusion": "maintained"})
    review.refresh_from_db()
    assert review.outcome == YearlyReview.Outcome.MAINTAINED


def test_revocation_approved_revokes_the_certificate_and_records_the_history():
    world = build_world(Tier.CLOSE_KNIT)
    certify_over_http(world)
    start_reviews(world.office, world.district, 2025)
    review = review_of(world.cluster, 2025)
    submit_review(world.lead, review)
    post(world.office, "yearly_review_conclude", review.pk, {"conclusion": "revoke", "reason": "材料造假。"})
    post(world.leader, "yearly_review_decide", review.pk, {"decision": "approve"})
    pass_timer(review, R.notice)
    post(world.office, "fire_timers")
    review.refresh_from_db()
    world.cluster.refresh_from_db()
    review.certificate.refresh_from_db()
    assert review.outcome == YearlyReview.Outcome.REVOKED
    assert review.certificate.revoked is not None
    assert world.cluster.current_tier == Tier.NONE
    assert _history(world.cluster)[-1] == (Tier.CLOSE_KNIT, Tier.NONE, TierChange.Reason.REVOKED)


def test_failed_application_rectification_list_is_answered_returned_and_verified_to_closure_on_the_dossier():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(application, world.lead)
    for node in (F.submit_basic, F.submit_process, F.submit_outcome):
        do(world.lead, process, node)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    panel = world.evaluators[:3]
    do(world.office, process, F.assign_evaluators, {"evaluators": [e.pk for e in panel], "panel_lead": panel[0].pk})
    score_all(application, process, {evaluator: {"A1": 4, "A2": 1} for evaluator in panel})

    listed = RectificationList.objects.get(application=application)
    item = listed.items.get()
    assert (listed.source, listed.status, item.concerns, item.indicator.code) == (
        RectificationList.Source.APPLICATION,
        RectificationList.Status.OPEN,
        "A2 教师交流轮岗",
        "A2",
    )
    dossier = reverse("work:application_detail", args=[application.pk])
    assert 'data-test="rectification-item"' in client_for(world.lead).get(dossier).content.decode()

    post(world.office, "rectification_answer", item.pk, {"response": "越权答复"}, expect=403)
    post(world.lead, "rectification_answer", item.pk, {"response": "已安排骨干教师轮岗。"})
    post(world.office, "rectification_return", item.pk, {"reason": "缺少轮岗名单。"})
    item.refresh_from_db()
    assert (item.status, item.return_reason) == (RectificationItem.Status.RETURNED, "缺少轮岗名单。")
    post(world.lead, "rectification_verify", item.pk, expect=403)
    post(world.lead, "rectification_answer", item.pk, {"response": "附轮岗名单。", "evidence": pdf("名单.pdf")})
    post(world.office, "rectification_verify", item.pk)
    listed.refresh_from_db()
    assert listed.status == RectificationList.Status.CLOSED
    page = client_for(world.lead).get(dossier).content.decode()
    assert "已完成：各项均已核验" in page and "已核验" in page
    assert list(
        AuditEvent.objects.filter(object_type="certification.rectificationitem", object_id=str(item.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    ) == ["rectification.answered", "rectification.returned", "rectification.answered", "rectification.verified"]


def test_revocation_over_http_then_the_next_tier_is_refused_with_the_reason_on_the_leads_pages():
    world = build_world(Tier.CLOSE_KNIT)
    certify_over_http(world)
    district_model = certification_standard(Tier.DISTRICT_MODEL)
    start_reviews(world.office, world.district, 2025)
    review = review_of(world.cluster, 2025)
    submit_review(world.lead, review)
    post(world.office, "yearly_review_conclude", review.pk, {"conclusion": "revoke", "reason": "年度数据造假。"})
    post(world.leader, "yearly_review_decide", review.pk, {"decision": "approve", "comment": "同意撤销"})
    pass_timer(review, R.notice)
    _fire(world.office)
    review.refresh_from_db()
    assert review.outcome == YearlyReview.Outcome.REVOKED
    today = timezone.localdate().isoformat()

    lead = client_for(world.lead)
    refused = lead.post(F.start.reverse("execute"), {"cluster": world.cluster.pk, "target_tier": Tier.DISTRICT_MODEL})
    assert refused.status_code == 409
    page = refused.content.decode()
    assert f"只能申报紧密型。区级示范性申报须先取得紧密型等级。 {today} 已撤销：年度数据造假。" in page
    assert not Application.objects.filter(cluster=world.cluster, target_tier=Tier.DISTRICT_MODEL).exists()
    assert (
        Standard.objects.in_force(Tier.DISTRICT_MODEL) == district_model
    )  # refused by the history, not for want of a standard
    mine = lead.get(reverse("work:mine")).content.decode()
    assert 'data-test="current-tier"' in mine and "当前等级：新成立" in mine
    # The cluster may climb again from the bottom rung: the page offers 紧密型, not 区级.
    assert "申报紧密型" in mine and "申报区级示范性" not in mine
