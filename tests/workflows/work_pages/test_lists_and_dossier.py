"""The work pages over HTTP: what each person sees on their lists and the dossier, and a fixed number of queries per page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from certification.models import Application, Tier
from tests.factories import ClusterFactory
from tests.factories.work import ApplicationFactory, assign
from tests.factories.workflow import build_world
from tests.workflows.driver import client_for, do, end_publicity, start
from tests.workflows.work_pages.helpers import (
    another_cluster,
    count_queries,
    get_with_30,
    page_text,
    to_approval,
    to_formal_review,
    to_reconciliation,
    to_scoring,
)
from workflows.flows import CertificationFlow as F
from workflows.queues import PAGE_SIZE

pytestmark = [pytest.mark.django_db]


def test_mine_offers_next_tier_when_eligible():
    world = build_world(Tier.CLOSE_KNIT)

    text = page_text(client_for(world.lead).get(reverse("work:mine")))

    assert world.cluster.name in text
    assert "申报紧密型" in text
    assert f"?cluster={world.cluster.pk}&amp;target_tier=close_knit" in text


def test_mine_shows_chinese_refusal_when_not_eligible():
    world = build_world(Tier.CLOSE_KNIT)
    world.standard.status = "retired"
    world.standard.save(update_fields=["status"], _allow_locked=True)

    text = page_text(client_for(world.lead).get(reverse("work:mine")))

    assert 'data-test="refusal"' in text
    assert "申报紧密型" not in text
    assert "紧密型" in text and "尚未发布" in text


def test_mine_shows_stages_missing_evidence_and_task_links():
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)

    text = page_text(client_for(world.lead).get(reverse("work:mine")))

    assert "缺少 1 项必交材料" in text
    assert "A1 · 学区章程" in text and "A2 · 交流轮岗名单" in text and "A2 · 满意度调查" in text
    for node in (F.submit_basic, F.submit_process, F.submit_outcome):
        task = Task.objects.get(process=process, flow_task=node)
        assert node.reverse("index", args=[process.pk, task.pk]) in text
    assert "已有一份未结束的申报" in text


def test_mine_shows_open_correction_with_indicators_and_deadline():
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = to_formal_review(world)
    a2 = world.standard.indicators().get(code="A2")
    deadline = timezone.localdate() + timedelta(days=10)
    do(
        world.office,
        process,
        F.formal_review,
        {"decision": "return", "indicators": [a2.pk], "comment": "轮岗名单缺少签章", "deadline": deadline.isoformat()},
    )

    text = page_text(client_for(world.lead).get(reverse("work:mine")))

    assert f"需补正 —— 截止 {deadline:%Y-%m-%d}" in text
    assert "轮岗名单缺少签章" in text
    assert "A2 教师交流轮岗" in text
    assert "A1 章程与议事规则" not in text
    task = Task.objects.get(process=process, flow_task=F.correct)
    assert F.correct.reverse("index", args=[process.pk, task.pk]) in text


def test_mine_lists_only_own_clusters_applications():
    world = build_world(Tier.CLOSE_KNIT)
    other_cluster, other_lead = another_cluster(world)
    start(other_lead, other_cluster, Tier.CLOSE_KNIT)

    text = page_text(client_for(world.lead).get(reverse("work:mine")))

    assert other_cluster.name not in text


def test_mine_query_count_same_for_1_and_30_applications(django_assert_num_queries):
    world = build_world(Tier.CLOSE_KNIT)
    start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    client = client_for(world.lead)
    url = reverse("work:mine")
    one = count_queries(client, url)
    for year in range(1990, 2019):
        ApplicationFactory(cluster=world.cluster, standard=world.standard, status="failed", year=year)

    with django_assert_num_queries(one):
        response = client.get(url)

    assert page_text(response).count('data-test="application"') == 30


# ------------------------------------------------------------------------------------------- 评审任务 (evaluator)


def test_reviews_lists_assignments_with_scoring_task_and_sheet_status():
    world = build_world(Tier.CLOSE_KNIT)
    _application, process, evaluators = to_scoring(world)
    task = Task.objects.get(process=process, flow_task=F.score, owner=evaluators[1])

    text = page_text(client_for(evaluators[1]).get(reverse("work:reviews")))

    assert world.cluster.name in text
    assert F.score.reverse("index", args=[process.pk, task.pk]) in text
    assert "未开始" in text


def test_reviews_of_other_evaluator_not_shown():
    world = build_world(Tier.CLOSE_KNIT)
    application = ApplicationFactory(cluster=world.cluster, standard=world.standard, status="scoring")
    assign(application, world.evaluators[0], by=world.office)

    text = page_text(client_for(world.evaluators[1]).get(reverse("work:reviews")))

    assert world.cluster.name not in text
    assert "目前没有分配给您的申报" in text


def test_reviews_query_count_same_for_1_and_30_assignments(django_assert_num_queries):
    world = build_world(Tier.CLOSE_KNIT)
    evaluator = world.evaluators[0]
    client = client_for(evaluator)
    url = reverse("work:reviews")
    clusters = [ClusterFactory(district=world.district) for _ in range(30)]
    applications = [
        ApplicationFactory(cluster=cluster, standard=world.standard, status="scoring") for cluster in clusters
    ]
    assign(applications[0], evaluator, by=world.office)
    one = count_queries(client, url)
    for application in applications[1:]:
        assign(application, evaluator, by=world.office)

    with django_assert_num_queries(one):
        response = client.get(url)

    assert page_text(response).count("<tr data-application=") == PAGE_SIZE  # one page of the 30


# ------------------------------------------------------------------------------------------- 审批队列 (leaders)


def test_approvals_row_has_key_figures_and_decision_link():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = to_approval(world)
    task = Task.objects.get(process=process, flow_task=F.district_decision)

    text = page_text(client_for(world.leader).get(reverse("work:approvals")))

    assert world.cluster.name in text
    assert "10.00 / 10.00" in text
    assert "一票否决指标全部达标" in text
    assert "无分歧" in text
    assert F.district_decision.reverse("index", args=[process.pk, task.pk]) in text
    assert reverse("work:application_detail", args=[application.pk]) in text


def test_approvals_shows_reconciled_disagreement():
    world = build_world(Tier.CLOSE_KNIT)
    application, process, evaluators = to_reconciliation(world)
    assert application.status == Application.Status.RECONCILIATION
    a1 = application.results.get(indicator__code="A1")
    reconcile = Task.objects.get(process=process, flow_task=F.reconcile)
    client = client_for(evaluators[0])
    client.post(
        F.reconcile.reverse("execute", args=[process.pk, reconcile.pk]),
        {"action": "reconcile", "result": a1.pk, "value": "4", "reason": "经专家组合议，以多数意见为准"},
    )
    do(evaluators[0], process, F.reconcile, {"action": "done"}, task=reconcile)
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVAL, application.status

    text = page_text(client_for(world.leader).get(reverse("work:approvals")))

    assert "分歧已协调（1 处）" in text


def test_approvals_of_other_district_not_shown():
    world = build_world(Tier.CLOSE_KNIT)
    to_approval(world)
    other = build_world(Tier.CLOSE_KNIT, city=world.city)

    text = page_text(client_for(other.leader).get(reverse("work:approvals")))

    assert world.cluster.name not in text
    assert "目前没有待您审批的申报" in text


def test_approvals_query_count_same_for_1_and_30_applications(django_assert_num_queries):
    world = build_world(Tier.CLOSE_KNIT)

    response = get_with_30(
        client_for(world.leader), reverse("work:approvals"), world, to_approval, django_assert_num_queries
    )

    assert page_text(response).count("<tr data-application=") == PAGE_SIZE  # one page of the 30


# ------------------------------------------------------------------------------------------- the office


def test_office_desk_lists_formal_review_task():
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = to_formal_review(world)
    task = Task.objects.get(process=process, flow_task=F.formal_review)

    text = page_text(client_for(world.office).get(reverse("work:office")))

    assert world.cluster.name in text
    assert F.formal_review.reverse("index", args=[process.pk, task.pk]) in text
    assert "结束已到期的公示" in text


def test_office_desk_refused_to_lead():
    world = build_world(Tier.CLOSE_KNIT)

    response = client_for(world.lead).get(reverse("work:office"))

    assert response.status_code == 403
    assert "结束已到期的公示" not in response.content.decode()


def test_office_desk_query_count_same_for_1_and_30_applications(django_assert_num_queries):
    world = build_world(Tier.CLOSE_KNIT)

    response = get_with_30(
        client_for(world.office), reverse("work:office"), world, to_formal_review, django_assert_num_queries
    )

    assert page_text(response).count("<tr data-application=") == PAGE_SIZE  # one page of the 30


def test_fire_timers_button_ends_expired_publicity():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = to_approval(world)
    do(world.leader, process, F.district_decision, {"decision": "approve", "comment": "同意"})
    timer = Task.objects.get(process=process, flow_task=F.publicity, status=STATUS.SCHEDULED)
    Task.objects.filter(pk=timer.pk).update(scheduled=timezone.now() - timedelta(seconds=1))

    response = client_for(world.office).post(reverse("work:fire_timers"))

    application.refresh_from_db()
    assert response.status_code == 302
    assert application.status == Application.Status.CERTIFIED


def test_fire_timers_button_refused_to_lead_and_timer_untouched():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = to_approval(world)
    do(world.leader, process, F.district_decision, {"decision": "approve"})
    timer = Task.objects.get(process=process, flow_task=F.publicity, status=STATUS.SCHEDULED)
    Task.objects.filter(pk=timer.pk).update(scheduled=timezone.now() - timedelta(seconds=1))

    response = client_for(world.lead).post(reverse("work:fire_timers"))

    application.refresh_from_db()
    assert response.status_code == 403
    assert application.status == Application.Status.PUBLICITY


def test_fire_timers_command_moves_expired_publicity_on():
    from django.core.management import call_command

    world = build_world(Tier.CLOSE_KNIT)
    application, process = to_approval(world)
    do(world.leader, process, F.district_decision, {"decision": "approve"})
    timer = Task.objects.get(process=process, flow_task=F.publicity, status=STATUS.SCHEDULED)
    Task.objects.filter(pk=timer.pk).update(scheduled=timezone.now() - timedelta(seconds=1))

    call_command("fire_timers", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("fire_timers", stdout=open("/dev/null", "w"))  # noqa: SIM115

    application.refresh_from_db()
    assert application.status == Application.Status.CERTIFIED
    assert application.certificate.tier == Tier.CLOSE_KNIT


def test_fire_timers_command_leaves_running_publicity_alone():
    from django.core.management import call_command

    world = build_world(Tier.CLOSE_KNIT)
    application, process = to_approval(world)
    do(world.leader, process, F.district_decision, {"decision": "approve"})

    call_command("fire_timers", stdout=open("/dev/null", "w"))  # noqa: SIM115

    application.refresh_from_db()
    assert application.status == Application.Status.PUBLICITY


# ------------------------------------------------------------------------------------------- list and dossier


def test_application_list_query_count_same_for_1_and_30(django_assert_num_queries):
    world = build_world(Tier.CLOSE_KNIT)
    ApplicationFactory(cluster=world.cluster, standard=world.standard)
    client = client_for(world.office)
    url = reverse("work:application_list")
    one = count_queries(client, url)
    for _ in range(29):
        ApplicationFactory(cluster=ClusterFactory(district=world.district), standard=world.standard)

    with django_assert_num_queries(one):
        response = client.get(url)

    assert page_text(response).count("<tr data-application=") == PAGE_SIZE  # one page of the 30


def test_application_list_shows_only_scope():
    world = build_world(Tier.CLOSE_KNIT)
    mine = ApplicationFactory(cluster=world.cluster, standard=world.standard)
    other = build_world(Tier.CLOSE_KNIT, city=world.city)
    theirs = ApplicationFactory(cluster=other.cluster, standard=other.standard)

    text = page_text(client_for(world.office).get(reverse("work:application_list")))

    assert f'data-application="{mine.pk}"' in text
    assert f'data-application="{theirs.pk}"' not in text
    assert other.cluster.name not in text


def test_application_detail_has_chart_history_evidence_and_certificate():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = to_approval(world)
    do(world.leader, process, F.district_decision, {"decision": "approve", "comment": "同意认定"})
    end_publicity(process, world.standard.publicity_days)

    text = page_text(client_for(world.lead).get(reverse("work:application_detail", args=[application.pk])))

    assert 'data-test="chart"' in text and "<svg" in text
    assert "形式审查通过" in text and "审批通过" in text and "开始公示" in text
    assert "形式审查 → 分配评估专家" in text
    assert world.leader.display_name in text
    assert "A1-charter.pdf" in text
    assert application.certificate.serial in text
    assert 'data-test="results"' in text  # decided: the lead sees the results


def test_application_detail_hides_results_from_lead_before_decision():
    world = build_world(Tier.CLOSE_KNIT)
    application, _process = to_approval(world)

    text = page_text(client_for(world.lead).get(reverse("work:application_detail", args=[application.pk])))

    assert 'data-test="results"' not in text
    assert 'data-test="panel"' not in text
    assert world.evaluators[0].display_name not in text


def test_application_detail_out_of_scope_is_404_without_data():
    world = build_world(Tier.CLOSE_KNIT)
    application, _process = to_formal_review(world)
    _other_cluster, other_lead = another_cluster(world)

    response = client_for(other_lead).get(reverse("work:application_detail", args=[application.pk]))

    assert response.status_code == 404
    assert world.cluster.name not in response.content.decode()
    assert "A1-charter.pdf" not in response.content.decode()


def test_application_detail_offers_objection_during_publicity():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = to_approval(world)
    do(world.leader, process, F.district_decision, {"decision": "approve"})

    text = page_text(client_for(world.office).get(reverse("work:application_detail", args=[application.pk])))

    assert reverse("workflow:objection_raise", args=[application.pk]) in text


# ------------------------------------------------------------------------------------------- index and menu


@pytest.mark.parametrize(
    ("role", "page"),
    [("lead", "mine"), ("office", "office"), ("leader", "approvals")],
)
def test_work_index_sends_each_person_to_their_page(role, page):
    world = build_world(Tier.CLOSE_KNIT)

    response = client_for(getattr(world, role)).get(reverse("work:index"))

    assert response.status_code == 302
    assert response["Location"] == reverse(f"work:{page}")


def test_work_index_sends_evaluator_to_reviews():
    world = build_world(Tier.CLOSE_KNIT)

    response = client_for(world.evaluators[0]).get(reverse("work:index"))

    assert response["Location"] == reverse("work:reviews")


def test_work_pages_require_sign_in(client):
    response = client.get(reverse("work:mine"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
