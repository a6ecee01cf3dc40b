"""Issue 8's defects of the way through, over HTTP: the apply link, error pages in the frame, assigned lead tasks,
withdrawal, upload links, the 补正 rule, the formal review and reconcile pages."""

import re
from html import unescape

import pytest
from django.test import override_settings
from django.urls import reverse
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from certification.models import Application, AuditEvent, EvidenceRequirement, Tier
from tests.factories.workflow import build_world
from tests.workflows.driver import client_for, do, open_task, score_all, start
from tests.workflows.work_pages.helpers import to_formal_review, to_reconciliation, to_scoring
from workflows.flows import CertificationFlow as F
from workflows.models import process_for

pytestmark = [pytest.mark.django_db]


def text_of(response, status=200):
    assert response.status_code == status, response.content.decode()[:2000]
    return response.content.decode()


def apply_href(page):
    return unescape(re.search(r'<a [^>]*href="([^"]+)" data-test="apply"', page).group(1))


# ------------------------------------------------------------------------------- 1. the apply link after 紧密型


def test_apply_link_after_close_knit_opens_the_district_model_form():
    world = build_world(Tier.DISTRICT_MODEL)
    client = client_for(world.lead)

    href = apply_href(text_of(client.get(reverse("work:mine"))))
    form = text_of(client.get(href))

    assert href.count("?") == 1
    assert f"cluster={world.cluster.pk}" in href and "target_tier=district_model" in href
    assert re.search(r'<option value="district_model" selected>', form)


# ------------------------------------------------------------------------------- 2. error pages in the frame


@override_settings(DEBUG=True)
def test_unknown_address_under_debug_is_the_chinese_page_in_the_frame():
    world = build_world(Tier.CLOSE_KNIT)

    page = text_of(client_for(world.lead).get("/no-such-page/"), status=404)

    assert "页面不存在" in page and "返回我的工作" in page
    assert 'class="vf-page__menu' in page and "我的申报" in page
    assert "Using the URLconf" not in page and "Page not found" not in page


def test_unknown_address_is_the_chinese_page_in_the_frame():
    world = build_world(Tier.CLOSE_KNIT)

    page = text_of(client_for(world.lead).get("/no-such-page/"), status=404)

    assert "页面不存在" in page and f'href="{reverse("work:index")}"' in page
    assert 'class="vf-page__menu' in page


def test_refused_page_is_chinese_in_the_frame_with_a_way_back():
    world = build_world(Tier.CLOSE_KNIT)

    page = text_of(client_for(world.lead).get(reverse("work:office")), status=403)

    assert "您的角色无权访问此页面" in page and "返回我的工作" in page
    assert 'class="vf-page__menu' in page and "javascript:" not in page


def test_domain_refusal_page_is_in_the_frame_without_a_javascript_link():
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = start(world.lead, world.cluster, world.tier)

    response = client_for(world.lead).post(
        F.submit_basic.reverse("execute", args=[process.pk, open_task(process, F.submit_basic).pk]), {}
    )
    page = text_of(response, status=409)

    assert "还不能提交，请先上传以下必需材料" in page and "返回我的工作" in page and "javascript:" not in page
    assert 'class="vf-page__menu' in page


# ------------------------------------------------------------------------------- 7. opening, assigned tasks


def test_opening_says_open_and_the_leads_stage_tasks_are_theirs():
    world = build_world(Tier.CLOSE_KNIT)
    client = client_for(world.lead)

    response = client.post(
        F.start.reverse("execute"), {"cluster": world.cluster.pk, "target_tier": Tier.CLOSE_KNIT}, follow=True
    )
    page = text_of(response)
    process = process_for(Application.objects.get(cluster=world.cluster))

    assert "申报已开启" in page and "申报已提交" not in page
    tasks = Task.objects.filter(process=process, flow_task__in=[F.submit_basic, F.submit_process, F.submit_outcome])
    assert sorted((t.status, t.owner_id) for t in tasks) == [(STATUS.ASSIGNED, world.lead.pk)] * 3
    mine = text_of(client.get(reverse("work:mine")))
    for task in tasks:
        assert task.flow_task.reverse("execute", args=[process.pk, task.pk]) in mine
    assert "领取" not in mine


# ------------------------------------------------------------------------------- 5. links to the uploads


def test_stage_task_links_each_missing_item_to_its_upload_card():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = start(world.lead, world.cluster, world.tier)
    task = open_task(process, F.submit_process)

    page = text_of(client_for(world.lead).get(F.submit_process.reverse("execute", args=[process.pk, task.pk])))

    requirement = EvidenceRequirement.objects.get(indicator__dimension__standard=application.standard, code="A2-roster")
    assert f'href="{reverse("evidence_list", args=[application.pk, "process"])}#requirement-{requirement.pk}"' in page
    assert "缺少：去上传" in page


def test_correction_without_a_new_file_is_refused_and_the_page_says_which():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = to_formal_review(world)
    a2 = world.standard.indicators().get(code="A2")
    do(
        world.office,
        process,
        F.formal_review,
        {"decision": "return", "indicators": [a2.pk], "comment": "缺签章", "deadline": "2099-01-01"},
    )
    task = open_task(process, F.correct)
    url = F.correct.reverse("execute", args=[process.pk, task.pk])
    client = client_for(world.lead)

    page = text_of(client.get(url))
    refused = text_of(client.post(url, {"response": "已补"}), status=400)

    assert 'data-test="needs-new-file"' in page and 'data-test="upload-link"' in page
    assert "请先为每个退回补正的指标上传新文件：A2 教师交流轮岗" in refused
    application.refresh_from_db()
    assert application.status == Application.Status.CORRECTION


# ------------------------------------------------------------------------------- 6. withdrawal


def test_lead_withdraws_after_confirming_and_the_tasks_end():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = start(world.lead, world.cluster, world.tier)
    client = client_for(world.lead)
    mine = text_of(client.get(reverse("work:mine")))
    url = reverse("work:application_withdraw", args=[application.pk])

    confirm = text_of(client.get(url))
    no_reason = text_of(client.post(url, {"reason": " "}), status=400)
    application.refresh_from_db()
    assert application.status == Application.Status.EVIDENCE
    done = client.post(url, {"reason": "本年度材料不齐，明年再报"})

    assert f'href="{url}"' in mine and "撤回申报" in mine
    assert ("确认撤回" in confirm and "这一字段是必填项" in no_reason) or "必填" in no_reason
    assert done.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.WITHDRAWN and application.closed is not None
    event = AuditEvent.objects.get(application=application, action="application.withdrawn")
    assert (event.actor, event.reason, event.from_state) == (world.lead, "本年度材料不齐，明年再报", "evidence")
    process.refresh_from_db()
    assert process.status == PROCESS.CANCELED
    assert not Task.objects.filter(process=process, status__in=[STATUS.NEW, STATUS.ASSIGNED]).exists()
    listed = text_of(client.get(reverse("work:application_list") + "?status=withdrawn"))
    assert reverse("work:application_detail", args=[application.pk]) in listed


def test_withdraw_refused_to_the_office_and_after_evaluators_are_assigned():
    world = build_world(Tier.CLOSE_KNIT)
    application, _process, _evaluators = to_scoring(world)
    url = reverse("work:application_withdraw", args=[application.pk])

    by_lead = client_for(world.lead).post(url, {"reason": "撤回"})
    by_office = client_for(world.office).get(url)

    assert (by_lead.status_code, by_office.status_code) == (409, 403)
    application.refresh_from_db()
    assert application.status == Application.Status.SCORING


# ------------------------------------------------------------------------------- 9. formal review


def test_formal_review_lists_evidence_per_indicator_with_checkboxes():
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = to_formal_review(world)
    task = open_task(process, F.formal_review)
    client = client_for(world.office)
    client.post(F.formal_review.reverse("assign", args=[process.pk, task.pk]))

    page = text_of(client.get(F.formal_review.reverse("execute", args=[process.pk, task.pk])))

    a2 = world.standard.indicators().get(code="A2")
    assert f'<input type="checkbox" name="indicators" value="{a2.pk}" id="return-{a2.pk}">' in page
    assert "<select" not in page.split('class="xq-task-form"')[1].split("</form>")[0] or "multiple" not in page
    assert "A2-roster.pdf" in page and "A1-charter.pdf" in page
    assert "提交形式审查结论" in page and ">已完成<" not in page


# ------------------------------------------------------------------------------- 8. reconcile side by side


def test_reconcile_page_shows_each_evaluators_score_and_comment():
    world = build_world(Tier.CLOSE_KNIT)
    _application, process, evaluators = to_reconciliation(world)
    task = open_task(process, F.reconcile)

    page = text_of(client_for(evaluators[0]).get(F.reconcile.reverse("execute", args=[process.pk, task.pk])))

    block = page.split('data-indicator="A1"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>([^<]+)</td>\s*<td class=\"xq-num\">([^<]+)</td>\s*<td>([^<]+)</td></tr>", block)
    assert sorted(rows) == sorted(
        [(str(evaluators[0]), "4.00", "—"), (str(evaluators[1]), "1.00", "评分说明"), (str(evaluators[2]), "4.00", "—")]
    )
    assert 'data-indicator="A2"' not in page


def test_decision_page_button_says_what_it_submits():
    # Found by the ladder walk: every approver's page (区 leader, 市 office, 市 leader) ended in "已完成".
    world = build_world(Tier.CLOSE_KNIT)
    application, process, evaluators = to_scoring(world)
    score_all(application, process, {evaluator: {"A1": 4, "A2": 6} for evaluator in evaluators})
    task = open_task(process, F.district_decision)
    client = client_for(world.leader)
    client.post(F.district_decision.reverse("assign", args=[process.pk, task.pk]))

    page = text_of(client.get(F.district_decision.reverse("execute", args=[process.pk, task.pk])))

    assert ">提交决定<" in page and ">已完成<" not in page
